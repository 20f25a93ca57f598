"""Every landed byte verified: a landed Parquet file that no longer matches its load record
(size, sha256) is found by `p20 audit`, named by `p20 load` (never "unchanged") and by
`p20 build` before dbt starts; removing the load's folder re-lands it."""

import json

from conftest import copy_zones
from p20 import audit


def _damage_a_current_load(zones) -> tuple[str, str]:
    """200 zero bytes written into the current students load's Parquet file, size kept (as
    a disk or a stray `dd` would). Returns (load id, the file's path in the warehouse)."""
    from p20.ledger import current_loads
    from p20.textio import read_jsonl

    ledger = read_jsonl(zones.warehouse / "ledger" / "loads.jsonl")
    rec = max((r for (extract, _), r in current_loads(ledger).items() if extract == "students"),
              key=lambda r: r["school_year"])
    (path,) = (zones.warehouse / "landed").glob(f"students/school_year={rec['school_year']}/load_id={rec['load_id']}/*.parquet")
    with open(path, "r+b") as f:
        f.seek(path.stat().st_size // 2)
        f.write(bytes(200))
    return rec["load_id"], str(path.relative_to(zones.warehouse))


def test_a_damaged_landed_file_is_an_audit_finding_naming_load_and_file(tiny_run, tmp_path, monkeypatch):
    zones = copy_zones(tiny_run, tmp_path)
    load_id, file = _damage_a_current_load(zones)
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(zones.warehouse))
    checks, _ = audit.audit()
    (loads,) = [c for c in checks if c.name == "loads"]
    assert loads.findings == [{"rule": "a landed file does not match its load record: sha256 differs from the load record",
                               "where": f"load {load_id}: {file}", "count": 1}]
    assert loads.examined["landed files hashed"] == loads.examined["landed loads"]


def test_p20_load_names_a_damaged_landed_file_and_relands_it_once_its_folder_is_removed(tiny_run, tmp_path):
    zones = copy_zones(tiny_run, tmp_path)
    load_id, file = _damage_a_current_load(zones)
    proc = zones.p20("load")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    damaged = [line for line in proc.stderr.splitlines() if file in line]
    assert len(damaged) == 1 and "landed file damaged (sha256 differs" in damaged[0]
    assert "p20 load again" in damaged[0]
    assert "1 rejected" in proc.stdout and "0 landed" in proc.stdout
    folder = zones.warehouse / file.rsplit("/", 1)[0]
    assert str(folder) in damaged[0]  # the folder the hint says to remove
    import shutil

    shutil.rmtree(folder)
    again = zones.p20("load")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 landed" in again.stdout and "0 rejected" in again.stdout


def test_p20_build_names_a_damaged_landed_file_before_dbt_starts(tiny_run, tmp_path):
    zones = copy_zones(tiny_run, tmp_path)
    _, file = _damage_a_current_load(zones)
    proc = zones.p20("build")
    assert proc.returncode == 1
    [line] = proc.stderr.splitlines()
    assert line.startswith(f"p20: {file}: landed file damaged (sha256 differs") and "dbt was not started" in line
    assert proc.stdout == ""  # dbt never started


def test_an_old_ledger_without_landed_hashes_gives_notes_not_findings(tiny_run, tmp_path, monkeypatch):
    zones = copy_zones(tiny_run, tmp_path)
    ledger = zones.warehouse / "ledger" / "loads.jsonl"
    lines = [json.loads(line) for line in ledger.read_text().splitlines()]
    ledger.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "landed_files"}) + "\n" for r in lines))
    for record in (zones.warehouse / "landed").glob("*/school_year=*/load_id=*/_load.json"):
        stored = json.loads(record.read_text())
        stored.pop("landed_files", None)
        record.write_text(json.dumps(stored))
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(zones.warehouse))
    checks, folder = audit.audit()
    (loads,) = [c for c in checks if c.name == "loads"]
    assert loads.findings == []
    assert {n["rule"] for n in loads.notes} == {"no landed hash recorded"}
    assert len(loads.notes) == loads.examined["landed loads"]
    assert "note: no landed hash recorded" in (folder / "report.txt").read_text()
