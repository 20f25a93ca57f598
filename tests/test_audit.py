"""`p20 audit` passes a warehouse that kept every rule, and names each kind of breach, by rule
and place, without a value."""

import datetime as dt
import json
import shutil

import duckdb
import pytest

from conftest import copy_zones
from p20 import audit


@pytest.fixture(scope="module")
def audited(tiny_run, tmp_path_factory):
    """A copy of the tiny warehouse with one release, audited clean by the command."""
    zones = copy_zones(tiny_run, tmp_path_factory.mktemp("audit"))
    for dsa in ("demo-index-2026", "demo-algebra-2026"):  # every demo agreement; the algebra one last
        zones.p20("release", dsa, check=True)
    proc = zones.p20("audit")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return zones


def _findings(zones, monkeypatch, today=None) -> list[tuple[str, str]]:
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(zones.warehouse))
    checks, folder = audit.audit(today)
    report = json.loads((folder / "report.json").read_text())
    assert report["n_findings"] == sum(len(c.findings) for c in checks)
    return [(f["rule"], f["where"]) for c in checks for f in c.findings]


def test_clean_warehouse_has_no_findings_and_every_check_looked(audited, monkeypatch):
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(audited.warehouse))
    checks, folder = audit.audit()
    examined = {c.name: c.examined for c in checks}
    assert [f for c in checks for f in c.findings] == []
    assert examined["loads"]["landed directories"] == examined["loads"]["landed loads"] > 100
    assert examined["releases"]["released"] == 2 and examined["privacy"]["token columns"] > 10
    assert examined["releases"]["bundle files"] == 6 + 4  # 5 and 3 Parquet files, and a README each
    assert "0 findings" in (folder / "report.txt").read_text()


def test_changed_release_and_kept_past_expiry_are_found(audited, tmp_path, monkeypatch):
    zones = copy_zones(audited, tmp_path)
    (bundle,) = (zones.warehouse / "releases" / "demo-algebra-2026").iterdir()
    with open(bundle / "dim_students.parquet", "r+b") as f:  # one byte of the data changed
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 1]))
    found = _findings(zones, monkeypatch, today=dt.date(2030, 1, 1))
    rules = {rule for rule, _ in found}
    assert "a released file is missing or changed" in rules
    assert "bundle kept after its agreement expired on 2029-08-31" in rules


def test_landing_outside_the_ledger_is_found(audited, tmp_path, monkeypatch):
    zones = copy_zones(audited, tmp_path)
    some_load = next((zones.warehouse / "landed" / "students").glob("school_year=*/load_id=*"))
    shutil.copytree(some_load, some_load.parent / "load_id=20990101T000000000000Z-bypass")
    assert ("a landed directory has no ledger record (it did not pass through the gate's record)"
            in {rule for rule, _ in _findings(zones, monkeypatch)})


def test_identifier_column_and_malformed_token_in_the_warehouse_are_found(audited, tmp_path, monkeypatch):
    zones = copy_zones(audited, tmp_path)
    con = duckdb.connect(str(zones.warehouse / "p20.duckdb"))
    con.execute("create table marts.scratch as select 'Zebulonia' as first_name, '0246813579' as student_token")
    con.close()
    found = _findings(zones, monkeypatch)
    assert ("a warehouse table has a column named like a raw identifier", "marts.scratch.first_name") in found
    assert ("a token column holds values that are not 64-hex tokens", "marts.scratch.student_token") in found
    assert "Zebulonia" not in json.dumps(found) and "0246813579" not in json.dumps(found)


def test_a_release_that_ships_warehouse_tokens_is_found(audited, tmp_path, monkeypatch):
    """A bundle whose hashes and seal hold but whose tokens were never re-keyed (as a faulty
    or bypassed release would write it)."""
    zones = copy_zones(audited, tmp_path)
    bundle = _algebra_bundle(zones)
    target = bundle / "dim_students.parquet"
    con = duckdb.connect(str(zones.warehouse / "p20.duckdb"), read_only=True)
    con.execute(f"copy (select * exclude (birth_year_month) from marts.dim_students) to '{target}' (format parquet)")
    con.close()
    _reseal(zones, bundle, "dim_students.parquet", monkeypatch)
    found = _findings(zones, monkeypatch)
    n_students = len(duckdb.sql(f"select 1 from '{target}'"))
    where = f"release {bundle.name} (DSA demo-algebra-2026)"
    # the warehouse's dim_students is not k-anonymous either (raw race, gender): found too
    assert found == [("a student-level file has a class under its k = 5", f"{where}: dim_students"),
                     ("a released token equals a warehouse token", f"{where}: dim_students.student_token")]
    checks, _ = audit.audit()
    assert next(c for c in checks if c.name == "releases").findings[-1]["count"] == n_students


def _algebra_bundle(zones):
    (bundle,) = (zones.warehouse / "releases" / "demo-algebra-2026").iterdir()
    return bundle


def _reseal(zones, bundle, changed: str, monkeypatch) -> None:
    """Make release.json, its seal and the ledger agree with a file we changed (as a faulty or
    bypassed release would write them), so that only the content rules can catch it."""
    from p20 import keys, release
    from p20.textio import file_sha256

    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(zones.warehouse))
    record = json.loads((bundle / "release.json").read_text())
    record["tables"][changed.removesuffix(".parquet")]["sha256"] = record["files"][changed] = file_sha256(bundle / changed)
    record["mac"] = release.seal(keys.load_release_key(), record)
    (bundle / "release.json").write_text(json.dumps(record))
    ledger = zones.warehouse / "ledger" / "releases.jsonl"
    lines = [json.loads(x) for x in ledger.read_text().splitlines()]
    lines[-1]["release_json_sha256"] = file_sha256(bundle / "release.json")
    ledger.write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_a_bundle_is_closed_and_holds_no_raw_identifier(audited, tmp_path, monkeypatch):
    zones = copy_zones(audited, tmp_path)
    bundle = _algebra_bundle(zones)
    where = f"release {bundle.name} (DSA demo-algebra-2026)"
    shutil.copy(zones.custodian / "raw" / "SINF_2016.txt", bundle / "SINF_2016.txt")  # a raw extract
    duckdb.sql(f"copy (select '0246813579' as ssid, 'Sofia' as first_name, 'Garcia-Lopez' as last_name, "
               f"'20080417' as birth_date) to '{bundle}/extra.parquet' (format parquet)")
    (bundle / "fct_course_marks.parquet").unlink()
    with open(bundle / "README.txt", "a") as f:
        f.write("These files may be shared with anyone.\n")
    # an SSID-shaped value in a listed file whose hashes and seal were made to agree
    target = bundle / "dim_students.parquet"
    duckdb.sql(f"copy (select * replace (case when row_number() over () = 1 then '0246813579' else race_ethnicity end "
               f"as race_ethnicity) from '{target}') to '{tmp_path}/d.parquet' (format parquet)")
    shutil.move(tmp_path / "d.parquet", target)
    _reseal(zones, bundle, "dim_students.parquet", monkeypatch)
    found = set(_findings(zones, monkeypatch))
    expected = {
        ("a file in the bundle is not listed in its release.json", f"{where}: SINF_2016.txt"),
        ("a file in the bundle is not listed in its release.json", f"{where}: extra.parquet"),
        ("a file listed in release.json is missing", f"{where}: fct_course_marks.parquet"),
        ("a file listed in release.json has changed", f"{where}: README.txt"),
        ("a released value looks like an SSID (9-10 digits)", f"{where}: dim_students.parquet.race_ethnicity"),
        ("a released value looks like an SSID (9-10 digits)", f"{where}: extra.parquet.ssid"),
        ("a released value looks like a personal name", f"{where}: extra.parquet.first_name"),
        ("a released value looks like a personal name", f"{where}: extra.parquet.last_name"),
        ("a released birth-date column holds full dates", f"{where}: extra.parquet.birth_date"),
        *(("a released file has a column named like a raw identifier", f"{where}: extra.parquet.{c}")
          for c in ("ssid", "first_name", "last_name", "birth_date")),
    }
    assert expected <= found, expected - found
    report = (zones.warehouse / "audit").rglob("report.*")
    text = "".join(p.read_text() for p in report)
    assert not any(v in text for v in ("0246813579", "Sofia", "Garcia", "20080417"))


def test_a_deleted_bundle_is_found_while_its_agreement_is_in_force(audited, tmp_path, monkeypatch):
    zones = copy_zones(audited, tmp_path)
    bundle = _algebra_bundle(zones)
    shutil.rmtree(bundle)
    rule = "a released bundle's folder is gone while its agreement is in force"
    assert (rule, f"release {bundle.name} (DSA demo-algebra-2026)") in _findings(zones, monkeypatch)
    assert rule not in {r for r, _ in _findings(zones, monkeypatch, today=dt.date(2029, 9, 1))}  # deleted on time


def test_a_released_mart_whose_class_its_agreement_does_not_allow_is_found(audited, tmp_path, monkeypatch):
    """The audit applies release's class rule to what each bundle holds, from the manifest."""
    zones = copy_zones(audited, tmp_path)
    path = zones.warehouse / "dbt" / "target" / "manifest.json"
    manifest = json.loads(path.read_text())
    node = next(n for n in manifest["nodes"].values() if n.get("name") == "fct_school_measures" and n["resource_type"] == "model")
    node["config"]["meta"]["disclosure"] = "student_level"
    path.write_text(json.dumps(manifest))
    (bundle,) = (zones.warehouse / "releases" / "demo-index-2026").iterdir()
    assert [(r, w) for r, w in _findings(zones, monkeypatch) if "class" in r] == [
        ("a released mart's disclosure class is not allowed by its agreement",
         f"release {bundle.name} (DSA demo-index-2026): fct_school_measures")]


def test_a_student_level_file_with_a_class_under_k_is_found(audited, tmp_path, monkeypatch):
    """The audit measures k again on the files as they are, not as release.json says."""
    zones = copy_zones(audited, tmp_path)
    bundle = _algebra_bundle(zones)
    target = bundle / "fct_grade8_algebra.parquet"
    duckdb.sql(f"copy (select * replace (case when row_number() over () = 1 then 2099 else school_year end as school_year) "
               f"from '{target}') to '{tmp_path}/g8.parquet' (format parquet)")
    shutil.move(tmp_path / "g8.parquet", target)
    _reseal(zones, bundle, "fct_grade8_algebra.parquet", monkeypatch)
    assert _findings(zones, monkeypatch) == [
        ("a student-level file has a class under its k = 5", f"release {bundle.name} (DSA demo-algebra-2026): fct_grade8_algebra")]


def test_the_audit_solves_the_published_pattern_itself(audited, tmp_path, monkeypatch):
    """p20 audit does not trust the build's verdict: with the complementary cells shown again
    (what the old row-by-row suppression left), its own attacker audit finds the small groups."""
    zones = copy_zones(audited, tmp_path)
    clean = dict(_findings(zones, monkeypatch))
    assert not [r for r in clean if r.startswith("disclosure")]
    con = duckdb.connect(str(zones.warehouse / "p20.duckdb"))
    shown_again = con.execute("update intermediate.int_disclosure__pattern set is_hidden = is_primary "
                              "where is_hidden and not is_primary").fetchone()[0]
    con.close()
    assert shown_again > 0
    rules = {r for r, _ in _findings(zones, monkeypatch)}
    assert {"disclosure: size narrowed inside 1..9", "disclosure: differencing: the only hidden member of a published sum"} & rules, rules
