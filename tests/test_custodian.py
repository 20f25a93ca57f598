"""Pseudonymisation: what crosses, and what is refused."""

import json

from conftest import copy_zones


def test_outbox_columns_follow_the_policy(tiny_run):
    manifest = json.loads((tiny_run.custodian / "outbox" / "manifest.json").read_text())
    students = next(f for f in manifest["files"] if f["extract"] == "students")
    assert "student_token" in students["columns"] and "birth_year_month" in students["columns"]
    for dropped in ("ssid", "first_name", "last_name", "birth_date", "address", "local_student_id"):
        assert dropped not in students["columns"]
    assert len(manifest["key_fingerprint"]) == 16 and len(manifest["files"]) == 30


def test_extract_with_an_unexpected_column_is_refused_and_nothing_written(tiny_run, tmp_path):
    zones = copy_zones(tiny_run, tmp_path / "c")
    outbox = zones.custodian / "outbox"
    before = {p.name: p.read_bytes() for p in outbox.iterdir()}
    raw = zones.custodian / "raw" / "SINF_2019.txt"
    lines = raw.read_bytes().decode().split("\r\n")
    lines[5] = lines[5] + "^free text about the student"
    raw.write_text("\r\n".join(lines), newline="")
    proc = zones.p20("pseudonymise")
    assert proc.returncode == 1
    assert "SINF_2019.txt" in proc.stderr and "column policy" in proc.stderr and "6" in proc.stderr
    assert "free text" not in proc.stderr
    assert {p.name: p.read_bytes() for p in outbox.iterdir()} == before


def test_same_key_same_tokens_across_years(tiny_run):
    """A student's token is the same in every year's file: the years link."""
    outbox = tiny_run.custodian / "outbox"
    tokens = [
        {line.split("^")[5] for line in (outbox / f"students_{y}.txt").read_text().splitlines()}
        for y in (2016, 2017)
    ]
    assert len(tokens[0] & tokens[1]) > 0.8 * len(tokens[0])
