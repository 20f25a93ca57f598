"""One build, however it is started: a plain `dbt build` and `p20 build` leave their results in
the warehouse zone, where `p20 release` and `p20 audit` read them; both tell a build from
`dbt docs generate` the same way."""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from conftest import REPO, copy_zones

DSA = "demo-algebra-2026"


def plain_dbt(zones, *args: str) -> subprocess.CompletedProcess:
    """dbt as the README shows it: from the repository root, no flags, the zone in the env."""
    dbt = Path(sys.executable).parent / "dbt"
    proc = subprocess.run([str(dbt), *args], cwd=REPO, capture_output=True, text=True, timeout=900,
                          env={**zones.env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    assert proc.returncode == 0, proc.stdout[-3000:]
    return proc


def test_plain_dbt_build_then_release_and_audit_succeed(tiny_run, tmp_path):
    zones = copy_zones(tiny_run, tmp_path)
    shutil.rmtree(zones.warehouse / "dbt")  # nothing left of p20 demo's own build
    started = dt.datetime.now(dt.UTC)
    plain_dbt(zones, "build")
    run = json.loads((zones.warehouse / "dbt" / "target" / "run_results.json").read_text())
    assert run["args"]["which"] == "build"
    assert dt.datetime.fromisoformat(run["metadata"]["invocation_started_at"].replace("Z", "+00:00")) >= started
    released = zones.p20("release", DSA)
    assert released.returncode == 0, released.stderr
    audited = zones.p20("audit")
    assert audited.returncode == 0, audited.stdout[-3000:] + audited.stderr


def test_release_and_audit_tell_a_build_from_docs_generate_the_same_way(tiny_run, tmp_path):
    zones = copy_zones(tiny_run, tmp_path)
    zones.p20("docs", check=True)  # p20's docs site goes beside the build's results
    assert (zones.warehouse / "dbt" / "docs" / "catalog.json").exists()
    assert zones.p20("release", DSA).returncode == 0
    assert zones.p20("audit").returncode == 0
    plain_dbt(zones, "docs", "generate")  # replaces the build's run results
    release, audit = zones.p20("release", DSA), zones.p20("audit")
    assert (release.returncode, audit.returncode) == (1, 1)
    said = "the last dbt run on this warehouse was `generate`, not a build"
    assert said in release.stderr and said in audit.stdout + audit.stderr


def test_a_snapshot_reader_keeps_its_view_while_a_green_build_replaces_it(tiny_run, tmp_path):
    """Researchers open the published snapshot. With one of them reading it, `p20 build`
    succeeds, the reader keeps the snapshot it opened, the next reader sees the new build; a
    partial build publishes nothing."""
    zones = copy_zones(tiny_run, tmp_path)
    snapshot = zones.warehouse / "published" / "p20.duckdb"
    (snapshot.parent / ".p20.duckdb.killed-build.tmp").write_bytes(b"half a copy")
    count = "select count(*) from marts.fct_student_years"
    build_id = "select invocation_id from published_build"
    reader = duckdb.connect(str(snapshot), read_only=True)
    try:
        [(before,)], [(n,)] = reader.execute(build_id).fetchall(), reader.execute(count).fetchall()
        built = zones.p20("build")
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
        assert reader.execute(build_id).fetchall() == [(before,)]
        assert reader.execute(count).fetchall() == [(n,)]
    finally:
        reader.close()
    run = json.loads((zones.warehouse / "dbt" / "target" / "run_results.json").read_text())
    after = duckdb.connect(str(snapshot), read_only=True)
    try:
        assert after.execute(build_id).fetchall() == [(run["metadata"]["invocation_id"],)] != [(before,)]
        assert after.execute(count).fetchall() == [(n,)]
    finally:
        after.close()
    assert zones.p20("build", "--select", "dim_schools").returncode == 0
    partial = duckdb.connect(str(snapshot), read_only=True)
    try:
        assert partial.execute(build_id).fetchall() == [(run["metadata"]["invocation_id"],)]
    finally:
        partial.close()
    assert sorted(p.name for p in snapshot.parent.iterdir()) == ["p20.duckdb"]  # no temporary left


def test_a_session_on_the_build_file_stops_p20_build_with_one_clear_line(zones):
    zones.warehouse.mkdir(parents=True)
    duckdb.connect(str(zones.warehouse / "p20.duckdb")).close()
    holder = duckdb.connect(str(zones.warehouse / "p20.duckdb"), read_only=True)
    try:
        proc = zones.p20("build")
    finally:
        holder.close()
    assert proc.returncode == 1
    [line] = proc.stderr.splitlines()
    assert line.startswith(f"p20: {zones.warehouse / 'p20.duckdb'}: open in another process (")
    assert f"PID {os.getpid()}" in line and "published/p20.duckdb" in line
    assert proc.stdout == ""  # dbt never started


def test_the_published_snapshot_holds_the_marts_and_rule_tables_only(tiny_run):
    """A researcher who opens the snapshot finds the tables of the published schemas (marts and
    seeds) and `published_build`, nothing else: no staging view (it reads landed files live),
    no intermediate table (int_disclosure__cells and the int_*__counts grids hold the true
    counts of every group the protected marts suppress), and no trace of them in the file's
    bytes. Every published table is there, with the build's rows."""
    import yaml

    published = yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]["p20:published_schemas"]
    snapshot = tiny_run.warehouse / "published" / "p20.duckdb"
    listing = "select schema_name, table_name, 'table' from duckdb_tables() where not internal union all " \
              "select schema_name, view_name, 'view' from duckdb_views() where not internal"
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        inside = con.execute(listing).fetchall()
        inside_rows = {(s, t): con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t, _ in inside}
    finally:
        con.close()
    extra = sorted(f"{s}.{t} ({kind})" for s, t, kind in inside
                   if kind == "view" or (s not in published and (s, t) != ("main", "published_build")))
    assert not extra, f"the snapshot holds what researchers must not open: {extra}"

    build = duckdb.connect(str(tiny_run.warehouse / "p20.duckdb"), read_only=True)
    try:
        wanted = build.execute(f"select schema_name, table_name from duckdb_tables() where schema_name in "
                               f"({', '.join(repr(s) for s in published)})").fetchall()
        wanted_rows = {(s, t): build.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in wanted}
        hidden_names = [t for (t,) in build.execute(
            "select table_name from duckdb_tables() where schema_name = 'intermediate' union all "
            "select view_name from duckdb_views() where schema_name in ('staging', 'intermediate')").fetchall()]
    finally:
        build.close()
    assert {"marts", "seeds"} <= {s for s, _ in wanted} and len(wanted) > 40
    assert {k: v for k, v in inside_rows.items() if k in wanted_rows} == wanted_rows
    assert "int_disclosure__cells" in hidden_names
    raw = snapshot.read_bytes()
    traces = [name for name in hidden_names if name.encode() in raw]
    assert not traces, f"the snapshot's bytes name unpublished relations: {traces[:5]}"
