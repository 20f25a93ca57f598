"""`p20 pseudonymise`: raw extracts -> outbox the research zone may receive.

Per extract file: every column is handled as the column policy (seeds/extract_columns.csv)
says: keep, tokenise (HMAC of the normalised id, per id kind), coarsen (birth date to year and
month) or drop. A file with more or fewer fields than the policy knows is refused, so a new
column can never slip through. Distinct ids are tokenised once in Python and joined back in
DuckDB; rows never pass through Python. The outbox is written under a temporary name and
renamed into place with its manifest.
"""

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from p20 import escrow, keys
from p20.errors import RejectedInput, UsageError
from p20.policy import Extract, extract_by_raw_code, policy_version, project_var
from p20.textio import atomic_dir, file_sha256, register_lines, sql_str, write_json_atomic

RAW_NAME = re.compile(r"^(?P<code>[A-Z]{4})_(?P<year>\d{4})\.txt$")
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "p20-outbox/1"
# Characters of a CCYYMMDD birth date that cross, by var p20:birth_date_precision.
BIRTH_DATE_PRECISION = {"month": 6, "year": 4}


def manifest_payload(manifest: dict) -> bytes:
    """The bytes the manifest's HMAC covers: everything but the MAC, canonically serialised."""
    body = {k: v for k, v in manifest.items() if k != "mac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def seal_manifest(manifest: dict, master: bytes) -> dict:
    """Authenticate a manifest with the manifest key (HKDF of the master key)."""
    return {**manifest, "mac": keys.mac(keys.manifest_key(master), manifest_payload(manifest))}


def raw_files(raw_dir: Path) -> list[tuple[Path, Extract, int]]:
    """The raw extracts in a folder, schools first (others are checked against them)."""
    if not raw_dir.is_dir():
        raise UsageError(f"{raw_dir}: no such folder of raw extracts (run `p20 synth` first?)")
    known = extract_by_raw_code()
    found = []
    for path in sorted(raw_dir.iterdir()):
        m = RAW_NAME.match(path.name)
        if not m:
            continue
        if m["code"] not in known:
            raise RejectedInput(
                f"{path.name}: no column policy for extract code {m['code']} in "
                "seeds/extract_columns.csv; add one before it can cross to the research zone"
            )
        found.append((path, known[m["code"]], int(m["year"])))
    if not found:
        raise UsageError(f"{raw_dir}: holds no raw extracts named like SENR_2024.txt")
    order = list(known)
    return sorted(found, key=lambda f: (order.index(f[1].raw_file_code), f[2]))


class TokenCache:
    """Tokens of every raw id form seen so far, per id kind: a student appears in every extract
    of every year, but is normalised and hashed once."""

    def __init__(self, master: bytes):
        self.master = master
        self.known: dict[str, dict[str, tuple[str, str]]] = {}

    def table(self, con: duckdb.DuckDBPyConnection, field: str, id_kind: str) -> pa.Table:
        """Join table (raw_value, token) for the distinct raw values of one column of raw_rows."""
        raw_values = con.sql(
            f"select distinct {field} as raw_value from raw_rows where nullif(trim({field}), '') is not null"
        ).to_arrow_table().column("raw_value").to_pylist()
        known = self.known.setdefault(id_kind, {})
        new = [v for v in raw_values if v not in known]
        normalised, tokens = keys.tokenise_many(self.master, id_kind, new)
        known.update(zip(new, zip(normalised, tokens, strict=True), strict=True))
        return pa.table({"raw_value": raw_values, "token": [known[v][1] for v in raw_values]})

    def crosswalk(self, id_kind: str) -> pa.Table:
        """Distinct (token, normalised_id) pairs, for the escrow."""
        pairs = {t: n for n, t in self.known[id_kind].values() if t}
        return pa.table(
            {"token": list(pairs), "normalised_id": list(pairs.values())}, schema=escrow.SCHEMA
        )


def _refuse_layout_breaks(con: duckdb.DuckDBPyConnection, path: Path, extract: Extract) -> None:
    """Called when the fast typed read failed: find the lines whose field count breaks the
    column policy and refuse the file, naming them (never their content)."""
    register_lines(con, path, "raw_lines")
    expected = len(extract.columns)
    bad = con.execute(
        "select line_no from raw_lines where n_fields <> ? order by line_no", [expected]
    ).fetchall()
    if not bad:
        raise RejectedInput(f"{path.name}: file is not readable as caret-delimited text")
    first = ", ".join(str(r[0]) for r in bad[:10])
    raise RejectedInput(
        f"{path.name}: rule 'column policy' failed on {len(bad)} lines (first: {first}): the "
        f"{extract.raw_file_code} policy lists {expected} fields; a new or missing column must "
        "be added to seeds/extract_columns.csv with its action before anything crosses"
    )


def pseudonymise_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    extract: Extract,
    out: Path,
    tokens: TokenCache,
) -> int:
    """One raw file -> one outbox file, in DuckDB (parallel typed read; row order kept)."""
    columns = ", ".join(f"'{c.raw_column}': 'VARCHAR'" for c in extract.columns)
    try:
        con.sql(
            f"""
            create or replace temp table raw_rows as
            select * from read_csv({sql_str(path)}, delim = '^', header = false, quote = '',
                escape = '', auto_detect = false, columns = {{{columns}}})
            """
        )
    except duckdb.Error:
        _refuse_layout_breaks(con, path, extract)
    select, joins = [], []
    birth_chars = BIRTH_DATE_PRECISION[project_var("birth_date_precision")]
    for col in extract.columns:
        field = f"raw_rows.{col.raw_column}"
        if col.action == "keep":
            select.append(f"{field} as {col.outbox_column}")
        elif col.action == "coarsen":  # CCYYMMDD -> CCYYMM (or CCYY)
            select.append(f"substr(trim({field}), 1, {birth_chars}) as {col.outbox_column}")
        elif col.action == "tokenise":
            alias = f"tok_{col.position}"
            con.register(alias, tokens.table(con, field, col.id_kind))
            joins.append(f"left join {alias} on {alias}.raw_value = {field}")
            select.append(f"{alias}.token as {col.outbox_column}")
    con.sql(
        f"""
        copy (
            select {", ".join(select)}
            from raw_rows {" ".join(joins)}
        ) to {sql_str(out)} (format csv, delimiter '^', header false, quote '', escape '')
        """
    )
    return con.execute("select count(*) from raw_rows").fetchall()[0][0]


def pseudonymise(raw_dir: Path, outbox: Path, key_path: Path | None = None) -> dict:
    """Write the whole outbox (extracts + manifest) atomically; returns the manifest."""
    files = raw_files(raw_dir)
    master = keys.load_master_key(key_path)
    escrow_key = keys.load_escrow_key()
    fingerprint = keys.fingerprint(master)
    entries = []
    tokens = TokenCache(master)
    con = duckdb.connect()
    with atomic_dir(outbox) as tmp:
        for path, extract, year in files:
            out_name = f"{extract.name}_{year}.txt"
            rows = pseudonymise_file(con, path, extract, tmp / out_name, tokens)
            entries.append(
                {
                    "file": out_name,
                    "extract": extract.name,
                    "school_year": year,
                    "sha256": file_sha256(tmp / out_name),
                    "rows": rows,
                    "columns": extract.outbox_columns,
                }
            )
        # The escrow is written before the outbox appears: a token never leaves without it.
        for id_kind in tokens.known:
            escrow.write_crosswalk(id_kind, tokens.crosswalk(id_kind), escrow_key, fingerprint)
        manifest = {
            "format": MANIFEST_FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "key_fingerprint": fingerprint,
            "policy_version": policy_version(),
            "files": entries,
        }
        manifest = seal_manifest(manifest, master)
        write_json_atomic(tmp / MANIFEST, manifest)
    return manifest
