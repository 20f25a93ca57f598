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
    zones.printed = {dsa: zones.p20("release", dsa, check=True).stdout for dsa in ("demo-algebra-2026", "demo-index-2026")}
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
    assert "fct_grade8_algebra is student-level (meta.disclosure)" in no_students
    assert "does not allow student-level rows" in no_students
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


def test_marts_are_refused_by_their_declared_class_not_by_their_columns(tiny_run, tmp_path, monkeypatch):
    """Leaving the token out does not make student-level rows an aggregate, and an internal
    mart (no token column either) never leaves: both went out under "no token column" before."""
    zones = copy_zones(tiny_run, tmp_path)
    aggregates_only = dict(allows_student_level=False, quasi_identifiers={}, min_k=None)
    tokenless = _refused(zones, monkeypatch, change=lambda a: dataclasses.replace(
        a, **aggregates_only, tables={"fct_school_measures": (), "fct_grade8_algebra": ("student_token",)}))
    assert "fct_grade8_algebra is student-level (meta.disclosure)" in tokenless
    internal = _refused(zones, monkeypatch, change=lambda a: dataclasses.replace(
        a, **aggregates_only, tables={"fct_school_measures": (), "fct_loads": ()}))
    assert "fct_loads is an internal mart (meta.disclosure: internal), never released" in internal
    also_with_students = _refused(zones, monkeypatch, change=lambda a: dataclasses.replace(a, tables={**a.tables, "fct_releases": ()}))
    assert "fct_releases is an internal mart" in also_with_students
    undeclared = _refused(zones, monkeypatch, change=lambda a: dataclasses.replace(
        a, quasi_identifiers={m: q for m, q in a.quasi_identifiers.items() if m != "fct_course_marks"}))
    assert "fct_course_marks is student-level, so seeds/dsa_tables.csv must name its quasi_identifiers" in undeclared


def _classes(con, bundle, model, record, linked=True):
    """Sizes of the classes a recipient sees on the released file (joined one-to-one to the
    files whose quasi-identifiers a join adds), by our own SQL."""
    a = record["tables"][model]["anonymity"]
    cols = [f"r.{q}" for q in a["quasi_identifiers"]]
    joins = ""
    for i, (other, qs) in enumerate(a["linked_quasi_identifiers"].items() if linked else []):
        cols += [f"l{i}.{q}" for q in qs]
        joins += f" left join '{bundle}/{other}.parquet' as l{i} using (student_token)"
    return [n for (n,) in con.execute(
        f"select count(*) from '{bundle}/{model}.parquet' as r {joins} group by {', '.join(cols)}").fetchall()]


def test_student_level_marts_are_k_anonymous_on_what_a_recipient_can_join(released):
    bundle, record = _bundle(released, "demo-algebra-2026")
    terms = release.agreements()["demo-algebra-2026"]
    con = duckdb.connect()
    protected = {m: t["anonymity"] for m, t in record["tables"].items() if "anonymity" in t}
    assert set(protected) == {"fct_grade8_algebra", "dim_students", "fct_course_marks"}
    for model, a in protected.items():
        assert a["k_required"] == terms.min_k == 5 and a["k_achieved"] >= 5
        assert min(_classes(con, bundle, model, record, linked=False)) >= 5
        sizes = _classes(con, bundle, model, record)
        assert min(sizes) == a["k_achieved"] and len(sizes) == a["classes"]
        assert a["rows_suppressed"] <= terms.max_suppressed_share * a["rows"]
    assert protected["fct_grade8_algebra"]["linked_quasi_identifiers"] == {"dim_students": ["gender", "race_ethnicity", "is_hispanic"]}
    assert set(protected["fct_grade8_algebra"]["l_diversity"]) == set(terms.sensitive_columns["fct_grade8_algebra"])
    assert "k = " in released.printed["demo-algebra-2026"] and "k = " not in released.printed["demo-index-2026"]
    assert "5-anonymous" in (bundle / "README.txt").read_text()


def test_one_generalisation_and_one_suppression_hold_across_the_bundle(tiny_run, tmp_path, monkeypatch):
    """At k = 2 the tiny district keeps some detail: a column coarsened in one mart is
    coarsened alike in every mart that has it, and a suppressed student's quasi-identifiers
    are empty in each of their rows of every file, so no join gives them back."""
    zones = copy_zones(tiny_run, tmp_path)
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(zones.warehouse))
    terms = AGREEMENTS()
    changed = {**terms, "demo-algebra-2026": dataclasses.replace(terms["demo-algebra-2026"], min_k=2, max_suppressed_share=0.10)}
    monkeypatch.setattr(release, "agreements", lambda: changed)
    record = release.release("demo-algebra-2026")
    bundle, _ = _bundle(zones, "demo-algebra-2026")
    con = duckdb.connect()
    a = {m: t["anonymity"] for m, t in record["tables"].items() if "anonymity" in t}
    for model in a:
        assert min(_classes(con, bundle, model, record)) >= 2
    levels = record["anonymity"]["generalised"]
    assert 0 < len(levels) < 10  # some columns coarsened, not all
    assert sum(x["rows_suppressed"] for x in a.values()) > 0
    if "race_ethnicity" in levels:  # same level in both files: the values come from one domain
        both = con.sql(f"select distinct race_ethnicity from '{bundle}/fct_grade8_algebra.parquet' union "
                       f"select distinct race_ethnicity from '{bundle}/dim_students.parquet'").fetchall()
        assert {r for (r,) in both} <= {None, "hispanic", "white", "black", "asian_pacific_islander", "other"}
    # every student suppressed in one file has the bundle's quasi-identifiers empty in all files
    hidden = set(con.sql(f"select student_token from '{bundle}/fct_grade8_algebra.parquet' where school_year is null").fetchall())
    assert 0 < len(hidden) <= a["fct_grade8_algebra"]["rows_suppressed"]
    for model, cols in (("dim_students", ("gender", "race_ethnicity", "is_hispanic")), ("fct_course_marks", ("school_code", "school_year"))):
        shown = con.sql(f"select student_token from '{bundle}/{model}.parquet' where "
                        + " or ".join(f"{c} is not null" for c in cols)).fetchall()
        assert not hidden & set(shown), model


def test_a_k_that_would_suppress_too_many_rows_is_refused_with_the_figures(tiny_run, tmp_path, monkeypatch):
    zones = copy_zones(tiny_run, tmp_path)
    few = {"fct_grade8_algebra": ("school_year",), "dim_students": ("gender",), "fct_course_marks": ("school_year",)}
    message = _refused(zones, monkeypatch, change=lambda a: dataclasses.replace(a, min_k=1000, quasi_identifiers=few))
    assert "k = 1000 would suppress the quasi-identifiers of" in message and "max_suppressed_share 5.0%" in message
