"""Location-independent (#13): the views hold the same absolute paths whichever command built
them and work from any working directory; a relative P20_WAREHOUSE_DIR is taken from the
repository root, never from where you stand."""

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from conftest import REPO, copy_zones

DBT = Path(sys.executable).parent / "dbt"
FILE_READ = re.compile(r"read_(?:parquet|json)\('([^']*)'")


def staging_views(warehouse: Path) -> dict[str, str]:
    con = duckdb.connect(str(warehouse / "p20.duckdb"), read_only=True)
    try:
        rows = con.execute("select view_name, sql from duckdb_views() where schema_name = 'staging'").fetchall()
    finally:
        con.close()
    return dict(rows)


def run(command: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run(command, cwd=cwd, env={**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
                          capture_output=True, text=True, timeout=900)
    return proc


def test_views_hold_the_same_absolute_paths_whichever_command_built_them(tiny_run, tmp_path, monkeypatch):
    zones = copy_zones(tiny_run, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # relative, as a user may set it: taken from the repository root by dbt and p20 alike
    env = {**zones.env, "P20_WAREHOUSE_DIR": os.path.relpath(zones.warehouse, REPO)}
    plain = run([str(DBT), "build", "--select", "staging"], cwd=REPO, env=env)
    assert plain.returncode == 0, plain.stdout[-3000:]
    by_dbt = staging_views(zones.warehouse)
    wrapped = run([sys.executable, "-m", "p20", "build", "--select", "staging"], cwd=elsewhere, env=env)
    assert wrapped.returncode == 0, wrapped.stdout[-3000:] + wrapped.stderr[-3000:]
    assert staging_views(zones.warehouse) == by_dbt
    read = [path for sql in by_dbt.values() for path in FILE_READ.findall(sql)]
    assert len(read) >= len(by_dbt) > 10
    for path in read:
        assert os.path.isabs(path) and os.path.normpath(path).startswith(f"{zones.warehouse}/"), path
    # a researcher's session anywhere else reads every view
    monkeypatch.chdir(elsewhere)
    con = duckdb.connect(str(zones.warehouse / "p20.duckdb"), read_only=True)
    try:
        counts = {view: con.execute(f"select count(*) from staging.{view}").fetchone()[0] for view in by_dbt}
    finally:
        con.close()
    assert counts["stg_calpads__schools"] > 0 and counts["stg_ledger__loads"] > 0
    assert not (elsewhere / "warehouse").exists() and not list(elsewhere.iterdir())


def test_dbt_refuses_to_build_views_with_relative_paths(tiny_run, tmp_path):
    """`--profiles-dir .` leaves the profile's path relative: dbt must stop before any view is
    written with it, and say what to do."""
    zones = copy_zones(tiny_run, tmp_path)
    env = {**zones.env, "P20_WAREHOUSE_DIR": os.path.relpath(zones.warehouse, REPO)}
    before = staging_views(zones.warehouse)
    proc = run([str(DBT), "run", "--select", "stg_calpads__schools", "--profiles-dir", "."], cwd=REPO, env=env)
    assert proc.returncode != 0
    assert "is relative, so the staging views would only work from this folder" in proc.stdout
    assert staging_views(zones.warehouse) == before


def test_a_relative_zone_is_taken_from_the_repository_root(tmp_path, monkeypatch):
    from p20 import paths

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("P20_WAREHOUSE_DIR", "some/warehouse")
    monkeypatch.setenv("P20_CUSTODIAN_DIR", "")
    assert paths.warehouse_dir() == REPO / "some" / "warehouse"
    assert paths.custodian_dir() == REPO / "custodian"
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(tmp_path / "wh"))
    assert paths.duckdb_path() == tmp_path / "wh" / "p20.duckdb"
