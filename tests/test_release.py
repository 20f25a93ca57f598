"""`p20 release <dsa>`: a bundle holds what the agreement allows, under the project's own
tokens, sealed; anything outside the terms is refused, recorded, and writes no bundle."""

import dataclasses
import datetime as dt
import json

import duckdb
import pytest

from conftest import copy_zones, mart
from p20 import keys, release
from p20.errors import RejectedInput
from p20.textio import file_sha256

AGREEMENTS = release.agreements  # the seeds' terms; tests below swap in changed ones


@pytest.fixture(scope="module")
def released(tiny_run, tmp_path_factory):
    zones = copy_zones(tiny_run, tmp_path_factory.mktemp("release"))
    for dsa in ("demo-algebra-2026", "demo-index-2026"):
        zones.p20("release", dsa, check=True)
    return zones


def _bundle(zones, dsa):
    (bundle,) = (zones.warehouse / "releases" / dsa).iterdir()
    return bundle, json.loads((bundle / "release.json").read_text())


def test_release_holds_the_agreed_marts_under_project_tokens(released, monkeypatch):
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(released.warehouse))
    bundle, record = _bundle(released, "demo-algebra-2026")
    terms = release.agreements()["demo-algebra-2026"]
    assert set(record["tables"]) == set(terms.tables) and len(terms.tables) == 5
    assert release.seal_is_valid(keys.load_release_key(), record)
    con = duckdb.connect()
    for model, table in record["tables"].items():
        path = bundle / table["file"]
        assert table["sha256"] == file_sha256(path)
        got = con.sql(f"select * from read_parquet('{path}')")
        assert got.columns == table["columns"] and not set(terms.tables[model]) & set(got.columns)
        assert len(got) == table["rows"] == len(mart(released, f"select 1 from marts.{model}"))  # 2016-2025: all years
    # every student token is new, and the project's tables still join to each other
    warehouse = set(mart(released, "select student_token from marts.dim_students").student_token)
    students = set(con.sql(f"select student_token from '{bundle}/dim_students.parquet'").df().student_token)
    algebra = set(con.sql(f"select student_token from '{bundle}/fct_grade8_algebra.parquet'").df().student_token)
    assert len(students) == len(warehouse) and not students & warehouse
    assert algebra and algebra <= students
    # section tokens are re-keyed too; the teacher column the agreement leaves out is gone
    sections = set(con.sql(f"select section_token from '{bundle}/fct_course_marks.parquet'").df().section_token)
    assert sections and not sections & set(mart(released, "select section_token from marts.fct_course_marks").section_token)
    # nothing of a release's provenance is missing: the build and every current load
    assert record["lineage"]["dbt_build"]["invocation_id"] and len(record["lineage"]["current_loads"]) > 100
    ledger = [json.loads(x) for x in (released.warehouse / "ledger" / "releases.jsonl").read_text().splitlines()]
    assert [(r["dsa_id"], r["outcome"]) for r in ledger] == [("demo-algebra-2026", "released"), ("demo-index-2026", "released")]


def test_two_projects_never_share_a_token(released, monkeypatch):
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(released.warehouse))
    tokens = sorted(mart(released, "select student_token from marts.dim_students").student_token)
    key = keys.load_release_key()
    a = keys.hmac_hex_many(release.project_key(key, "demo-algebra-2026", "student"), tokens)
    b = keys.hmac_hex_many(release.project_key(key, "another-project", "student"), tokens)
    assert len(set(a)) == len(tokens) and not set(a) & set(b)
    bundle, _ = _bundle(released, "demo-algebra-2026")
    shipped = set(duckdb.sql(f"select student_token from '{bundle}/dim_students.parquet'").df().student_token)
    assert shipped == set(a)


def test_aggregate_only_agreement_ships_no_token_column(released):
    bundle, record = _bundle(released, "demo-index-2026")
    assert record["tokens"] == {}
    assert not any(c.endswith("_token") for t in record["tables"].values() for c in t["columns"])
    years = duckdb.sql(f"select min(school_year), max(school_year) from '{bundle}/fct_school_measures.parquet'").fetchall()[0]
    assert years[0] >= 2019  # the agreement starts in 2019; the warehouse starts in 2016


def _refused(zones, monkeypatch, change=None, today=None, build_started=None):
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(zones.warehouse))
    terms = AGREEMENTS()
    changed = {**terms, "demo-algebra-2026": change(terms["demo-algebra-2026"])} if change else terms
    monkeypatch.setattr(release, "agreements", lambda: changed)
    if build_started:
        target = zones.warehouse / "dbt" / "target" / "run_results.json"
        run = json.loads(target.read_text())
        run["metadata"]["invocation_started_at"] = build_started
        target.write_text(json.dumps(run))
    before = set((zones.warehouse / "releases").rglob("*")) if (zones.warehouse / "releases").exists() else set()
    with pytest.raises(RejectedInput) as exc:
        release.release("demo-algebra-2026", today=today)
    after = set((zones.warehouse / "releases").rglob("*")) if (zones.warehouse / "releases").exists() else set()
    assert after == before
    last = json.loads((zones.warehouse / "ledger" / "releases.jsonl").read_text().splitlines()[-1])
    assert last["outcome"] == "refused" and last["message"] == str(exc.value)
    return str(exc.value)


def test_release_outside_the_terms_is_refused_recorded_and_writes_nothing(tiny_run, tmp_path, monkeypatch):
    zones = copy_zones(tiny_run, tmp_path)
    assert "not in force on 2030-01-01" in _refused(zones, monkeypatch, today=dt.date(2030, 1, 1))
    no_students = _refused(zones, monkeypatch, change=lambda a: dataclasses.replace(a, allows_student_level=False))
    assert "does not allow student-level rows" in no_students and "fct_grade8_algebra carries student_token" in no_students
    private = _refused(zones, monkeypatch, change=lambda a: dataclasses.replace(a, tables={"int_student_years": ()}))
    assert "int_student_years, which is not a public mart" in private
    stale = _refused(zones, monkeypatch, build_started="2000-01-01T00:00:00Z")
    assert "before the newest load" in stale and "p20 build" in stale


def test_unknown_agreement_is_a_usage_error(tiny_run, tmp_path):
    proc = copy_zones(tiny_run, tmp_path).p20("release", "no-such-dsa")
    assert proc.returncode == 2 and "demo-algebra-2026" in proc.stderr and "Traceback" not in proc.stderr


def test_every_agreed_mart_is_a_public_mart(tiny_run, monkeypatch):
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(tiny_run.warehouse))
    public = release._public_marts()
    assert [m for a in release.agreements().values() for m in a.tables if m not in public] == []


def test_auditors_see_every_attempt_in_fct_releases(released, tmp_path, monkeypatch):
    zones = copy_zones(released, tmp_path)
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(zones.warehouse))
    with pytest.raises(RejectedInput):
        release.release("demo-algebra-2026", today=dt.date(2030, 1, 1))
    assert zones.p20("build", "--quiet", "-s", "+fct_releases").returncode == 0
    rows = mart(zones, "select dsa_id, outcome, n_rows, message from marts.fct_releases order by release_id")
    ledger = [json.loads(x) for x in (zones.warehouse / "ledger" / "releases.jsonl").read_text().splitlines()]
    assert list(rows.outcome) == [r["outcome"] for r in ledger] == ["released", "released", "refused"]
    assert rows.n_rows[0] == sum(t["rows"] for t in _bundle(zones, "demo-algebra-2026")[1]["tables"].values())
    assert "not in force" in rows.message[2]
