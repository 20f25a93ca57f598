"""The clients researchers use open the warehouse: the DuckDB CLI from PyPI (dev's duckdb-cli,
not the pinned Python duckdb that builds it)."""

import csv
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from conftest import REPO, mart
from p20 import paths


def duckdb_cli() -> Path:
    cli = Path(sys.executable).parent / "duckdb"
    assert cli.exists(), f"{cli}: no DuckDB CLI; `make install` installs dev's duckdb-cli"
    return cli


def readme_query(number: int) -> str:
    """The README's numbered researcher query (a ```sql block opening with `-- <number>.`)."""
    blocks = re.findall(r"```sql\n(.*?)```", (REPO / "README.md").read_text(encoding="utf-8"), re.S)
    [sql] = [b for b in blocks if b.startswith(f"-- {number}.")]
    return sql


def test_warehouse_and_snapshot_are_written_in_the_profiles_storage_version(tiny_run):
    con = duckdb.connect()
    try:
        for name, path in {"wh": "p20.duckdb", "snapshot": "published/p20.duckdb"}.items():
            con.execute(f"attach '{tiny_run.warehouse / path}' as {name} (read_only)")
        tags = dict(con.execute("select database_name, tags from duckdb_databases() where not internal").fetchall())
    finally:
        con.close()
    assert tags["wh"]["storage_version"] == tags["snapshot"]["storage_version"] == f"{paths.duckdb_storage_version()}+"


def test_duckdb_cli_from_pypi_opens_the_researchers_snapshot_and_runs_a_readme_query(tiny_run):
    cli = duckdb_cli()
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1."), version  # a client older than the pinned duckdb 2.0.0
    sql = readme_query(2)
    proc = subprocess.run(
        [cli, "-readonly", "-csv", str(tiny_run.warehouse / "published" / "p20.duckdb"), "-c", sql],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"DuckDB CLI {version.split()[0]}: {proc.stderr.strip()}"
    header, *rows = list(csv.reader(proc.stdout.splitlines()))
    expected = mart(tiny_run, sql)
    assert header == list(expected.columns)
    assert len(rows) == len(expected) > 0
