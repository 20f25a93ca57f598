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


def _norm(value) -> str:
    """A seed cell and a YAML value compared as text: empty is null, booleans lower-case."""
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_each_data_sharing_agreement_is_an_exposure_that_agrees_with_its_seeds(tiny_run):
    """The seeds are what `p20 release` enforces; the exposures restate them for the docs site.
    Any drift (an agreement, a mart, a column left out, a date) fails here."""
    import csv

    from conftest import REPO

    agreements = list(csv.DictReader((REPO / "seeds" / "dsa_agreements.csv").open()))
    tables = list(csv.DictReader((REPO / "seeds" / "dsa_tables.csv").open()))
    exposures = {e["meta"].get("dsa_id"): e for e in _manifest(tiny_run)["exposures"].values()}
    assert sorted(exposures) == sorted(a["dsa_id"] for a in agreements), "one exposure per agreement"
    for a in agreements:
        e = exposures[a["dsa_id"]]
        assert e["owner"]["name"] == a["recipient"], a["dsa_id"]
        assert e["label"] == a["project_title"], a["dsa_id"]
        for term in ("signed_on", "expires_on", "first_school_year", "last_school_year",
                     "allows_student_level", "min_k", "max_suppressed_share", "min_l"):
            assert _norm(e["meta"][term]) == a[term], f"{a['dsa_id']}: {term}"
        rows = [t for t in tables if t["dsa_id"] == a["dsa_id"]]
        assert sorted(e["depends_on"]["nodes"]) == sorted(f"model.p20.{t['model']}" for t in rows), a["dsa_id"]
        excluded = {t["model"]: t["excluded_columns"] for t in rows if t["excluded_columns"]}
        assert e["meta"]["excluded_columns"] == excluded, a["dsa_id"]


# dbt parses once and resolves each selector (in-process dbtRunner, in a child interpreter so
# dbt's global state stays out of pytest's).
_LIST_SELECTORS = """
import json, sys, yaml
from dbt.cli.main import dbtRunner
names = [s["name"] for s in yaml.safe_load(open("selectors.yml"))["selectors"]]
parsed = dbtRunner().invoke(["parse", "-q"])
assert parsed.success, parsed.exception
runner = dbtRunner(manifest=parsed.result)
out = {}
for name in names:
    res = runner.invoke(["ls", "-q", "--selector", name, "--resource-type", "model", "--output", "name"])
    assert res.success, res.exception
    out[name] = sorted(res.result)
print(json.dumps(out))
"""


def test_each_group_has_an_owner_and_a_selector_that_builds_its_marts(tiny_run, zones):
    import subprocess
    import sys

    from conftest import REPO

    manifest = _manifest(tiny_run)
    groups = {g["name"]: g for g in manifest["groups"].values()}
    marts = _marts(manifest)
    assert {m["group"] for m in marts} == set(groups), "every mart in a group, every group used"
    for g in groups.values():
        assert g["owner"].get("name") or g["owner"].get("email"), g["name"]
    proc = subprocess.run([sys.executable, "-c", _LIST_SELECTORS], cwd=REPO, env=zones.env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    selected = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(selected) == set(groups)
    for name, models in selected.items():
        own = {m["name"] for m in marts if m["group"] == name}
        assert own <= set(models), f"selector {name} misses {sorted(own - set(models))}"
        assert any(m.startswith("stg_") for m in models), f"selector {name} builds no staging"
