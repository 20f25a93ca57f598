"""Disclosure control of the published aggregates: the linked tables (linked.py), the attacker
audit (attack.py) and the protection that chooses what to hide (protect.py). The dbt models
models/intermediate/disclosure/int_disclosure__pattern.py and __findings.py call `pattern` and
`audit`; `p20 audit` calls `audit_warehouse`."""

import json

import numpy as np
import pyarrow as pa

from p20.disclosure.attack import findings
from p20.disclosure.linked import LinkedTables
from p20.disclosure.protect import protect

FINDING_SCHEMA = pa.schema([("rule", pa.string()), ("mart", pa.string()), ("cell_key", pa.string()),
                            ("count_name", pa.string())])


def linked_tables(cells: pa.Table, relations: pa.Table, min_group_size, pct_coding_bands) -> LinkedTables:
    bands = json.loads(pct_coding_bands) if isinstance(pct_coding_bands, str) else pct_coding_bands
    return LinkedTables.from_arrow(cells, relations, int(min_group_size), bands)


def pattern(tables: LinkedTables) -> pa.Table:
    """One row per published count: hidden or shown, and whether a rule hid it (primary) or the
    protection did (complementary)."""
    hidden, primary = protect(tables)
    return pa.table({
        "mart": tables.mart.astype(str),
        "cell_key": tables.cell_key.astype(str),
        "count_name": tables.count_name.astype(str),
        "variable_id": np.arange(tables.n, dtype=np.int64),
        "is_hidden": hidden,
        "is_primary": primary,
    })


def audit(tables: LinkedTables, hidden: np.ndarray) -> pa.Table:
    """The attacker audit's findings (no values) as a table."""
    rows = findings(tables, hidden)
    return pa.Table.from_pylist(rows, schema=FINDING_SCHEMA)


def hidden_from(tables: LinkedTables, pattern_table: pa.Table) -> np.ndarray:
    pattern_table = pattern_table.sort_by("variable_id")
    assert len(pattern_table) == tables.n, "the pattern does not cover every published count"
    return pattern_table["is_hidden"].to_numpy(zero_copy_only=False).astype(bool)
