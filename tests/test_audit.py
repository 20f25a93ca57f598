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
    zones.p20("release", "demo-algebra-2026", check=True)
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
    assert examined["releases"]["released"] == 1 and examined["privacy"]["token columns"] > 10
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
    from p20 import keys, release
    from p20.textio import file_sha256

    zones = copy_zones(audited, tmp_path)
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(zones.warehouse))
    (bundle,) = (zones.warehouse / "releases" / "demo-algebra-2026").iterdir()
    target = bundle / "dim_students.parquet"
    con = duckdb.connect(str(zones.warehouse / "p20.duckdb"), read_only=True)
    con.execute(f"copy (select * exclude (birth_year_month) from marts.dim_students) to '{target}' (format parquet)")
    con.close()
    record = json.loads((bundle / "release.json").read_text())
    record["tables"]["dim_students"]["sha256"] = file_sha256(target)
    record["mac"] = release.seal(keys.load_release_key(), record)
    (bundle / "release.json").write_text(json.dumps(record))
    ledger = zones.warehouse / "ledger" / "releases.jsonl"
    lines = [json.loads(x) for x in ledger.read_text().splitlines()]
    lines[-1]["release_json_sha256"] = file_sha256(bundle / "release.json")
    ledger.write_text("".join(json.dumps(x) + "\n" for x in lines))
    found = _findings(zones, monkeypatch)
    n_students = len(duckdb.sql(f"select 1 from '{target}'"))
    assert found == [("a released token equals a warehouse token",
                      f"release {bundle.name} (DSA demo-algebra-2026): dim_students.student_token")]
    checks, _ = audit.audit()
    assert next(c for c in checks if c.name == "releases").findings[0]["count"] == n_students
