"""A pattern already solved for the same inputs is reused, not solved again.

Choosing the complementary cells is the costly step of a build (tiny: 20 of its 35 s), and a
rebuild that brings no new counts (a key rotation, a re-run, a load that changes no protected
count) would solve the same problem again. The pattern table carries the fingerprint of what it
was solved from: the linked cells and relations (their rows, in any order), the rules
(`p20:min_group_size`, `p20:pct_coding_bands`) and the code of this package. When the table the
build is about to replace has the same fingerprint, its rows are the answer. Any change in a
count, a relation, a rule or the solver's code gives another fingerprint, and a new solve.
"""

import hashlib
import json
from pathlib import Path

import duckdb
import pyarrow as pa

FINGERPRINT_COLUMN = "inputs_sha256"
_PACKAGE = Path(__file__).resolve().parent


def _rows_digest(con: duckdb.DuckDBPyConnection, table: pa.Table) -> list:
    """An order-free digest of a table's rows: the count and two independent 64-bit row-hash
    sums (no sort, so it stays cheap at lausd's millions of cells)."""
    con.register("p20_rows", table)
    try:
        return list(con.execute("select count(*), sum(hash(t)::hugeint)::varchar, "
                                "sum(hash(t, 'p20')::hugeint)::varchar from p20_rows as t").fetchall()[0])
    finally:
        con.unregister("p20_rows")


def fingerprint(cells: pa.Table, relations: pa.Table, min_group_size, pct_coding_bands) -> str:
    con = duckdb.connect()
    try:
        digests = [_rows_digest(con, cells), _rows_digest(con, relations)]
    finally:
        con.close()
    code = sorted((p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in _PACKAGE.glob("*.py"))
    rules = [str(min_group_size), json.dumps(pct_coding_bands, sort_keys=True, default=str)]
    return hashlib.sha256(json.dumps([digests, rules, code]).encode()).hexdigest()


def solved_before(con: duckdb.DuckDBPyConnection, this: str, inputs: str) -> pa.Table | None:
    """The pattern `this` holds if it was solved from the same inputs, else None (also when the
    table does not exist yet or predates the fingerprint)."""
    try:
        total = con.execute(f"select count(*) from {this}").fetchall()[0][0]
        previous = con.sql(f"select * from {this} where {FINGERPRINT_COLUMN} = $fp", params={"fp": inputs}).to_arrow_table()
    except duckdb.Error:  # not built yet, or built before the fingerprint column
        return None
    return previous if len(previous) and len(previous) == total else None
