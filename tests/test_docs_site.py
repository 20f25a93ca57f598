"""The docs site has a front door, and what it documents reaches every place a researcher looks:
the marts' descriptions are table and column comments in the build file and in the published
snapshot, the data-sharing agreements are exposures that agree with their seeds, and the site
renders in a real browser."""

import json
from pathlib import Path

import duckdb
import pytest


def _manifest(zones) -> dict:
    return json.loads((zones.warehouse / "dbt" / "target" / "manifest.json").read_text())


def _marts(manifest: dict) -> list[dict]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["fqn"][1] == "marts"]


def missing_comments(manifest: dict, database: Path) -> list[str]:
    """Every mart table and documented column of `manifest` that has no comment in `database`."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = {t: c for t, c in con.sql(
            "select table_name, comment from duckdb_tables() where schema_name = 'marts'").fetchall()}
        columns = {(t, col.lower()): c for t, col, c in con.sql(
            "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'").fetchall()}
    finally:
        con.close()
    missing = []
    for m in _marts(manifest):
        assert m["name"] in tables, f"{m['name']} is not built in {database}"
        if not tables[m["name"]]:
            missing.append(m["name"])
        for name, col in m["columns"].items():
            if col["description"].strip() and not columns.get((m["name"], name.lower())):
                missing.append(f"{m['name']}.{name}")
    return missing


@pytest.mark.parametrize("database", ["p20.duckdb", "published/p20.duckdb"])
def test_every_documented_mart_column_is_a_comment_in_build_file_and_snapshot(tiny_run, database):
    """persist_docs writes the descriptions into the build file; the publish, which writes each
    table afresh, carries them into the snapshot researchers open."""
    manifest = _manifest(tiny_run)
    assert len(_marts(manifest)) >= 20
    missing = missing_comments(manifest, tiny_run.warehouse / database)
    assert not missing, f"{len(missing)} without a comment in {database}: {missing[:10]}"
