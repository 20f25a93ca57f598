"""The load gate: broken extracts are rejected with a reason per rule and land nothing;
an identical reload is a no-op; an outbox made with another key is refused."""

import json
import shutil

import pytest

from conftest import REPO, copy_zones, n_extract_files, reseal_manifest, tree_snapshot, trim_outbox

# The spine's three extracts for three years: enough for tests that load many times.
CORE_YEARS = lambda e: e["extract"] in ("schools", "students", "enrollments") and e["school_year"] <= 2018  # noqa: E731


@pytest.fixture
def loaded(tiny_run, tmp_path):
    """A private copy of the loaded tiny warehouse (and its custodian zone)."""
    return copy_zones(tiny_run, tmp_path / "copy")


def _edit_lines(path, edit):
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")


def _assert_rejected_and_unchanged(zones, proc, before, file, rules):
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for rule in rules:
        assert any(
            line.startswith("rejected: ") and file in line and rule in line
            for line in proc.stderr.splitlines()
        ), f"no one-line reason naming {file} and {rule!r}:\n{proc.stderr}"
    assert tree_snapshot(zones.warehouse / "landed") == before["landed"]
    assert (zones.warehouse / "p20.duckdb").read_bytes() == before["duckdb"]
    ledger = [json.loads(x) for x in (zones.warehouse / "ledger" / "loads.jsonl").read_text().splitlines()]
    assert any(r["outcome"] == "rejected" and r["file"] == file for r in ledger)
    reports = list((zones.warehouse / "quarantine").rglob("report.json"))
    assert any(json.loads(r.read_text())["file"] == file for r in reports)


def _snapshot(zones):
    return {
        "landed": tree_snapshot(zones.warehouse / "landed"),
        "duckdb": (zones.warehouse / "p20.duckdb").read_bytes(),
    }


def test_reload_of_identical_outbox_is_a_noop(loaded):
    before = _snapshot(loaded)
    proc = loaded.p20("load")
    assert proc.returncode == 0, proc.stderr
    assert f"0 landed, {n_extract_files()} unchanged, 0 rejected" in proc.stdout
    assert tree_snapshot(loaded.warehouse / "landed") == before["landed"]


def test_missing_required_column_is_rejected(loaded):
    outbox = loaded.custodian / "outbox"
    # drop student_token (6th field) from every line of one extract
    _edit_lines(outbox / "enrollments_2020.txt", lambda ls: ["^".join(x.split("^")[:5] + x.split("^")[6:]) for x in ls])
    reseal_manifest(loaded)
    before = _snapshot(loaded)
    proc = loaded.p20("load")
    _assert_rejected_and_unchanged(
        loaded, proc, before, "enrollments_2020.txt", ["number of caret-separated fields"]
    )


def test_duplicate_key_is_rejected_with_line_numbers(loaded):
    outbox = loaded.custodian / "outbox"
    _edit_lines(outbox / "students_2021.txt", lambda ls: ls + [ls[3]])
    reseal_manifest(loaded)
    before = _snapshot(loaded)
    proc = loaded.p20("load")
    _assert_rejected_and_unchanged(loaded, proc, before, "students_2021.txt", ["one row per student_token"])
    n = len((outbox / "students_2021.txt").read_text().splitlines())
    assert f"lines 4, {n}" in proc.stderr
    report = next((loaded.warehouse / "quarantine").rglob("report.json"))
    assert json.loads(report.read_text())["failures"][0]["lines"] == [4, n]


def test_a_file_changed_after_its_manifest_is_rejected(loaded):
    outbox = loaded.custodian / "outbox"
    _edit_lines(outbox / "schools_2018.txt", lambda ls: ls[:-1])
    before = _snapshot(loaded)
    proc = loaded.p20("load")
    _assert_rejected_and_unchanged(loaded, proc, before, "schools_2018.txt", ["manifest hash"])


def test_outbox_made_with_another_key_is_refused(loaded):
    (loaded.custodian / "keys" / "master.key").unlink()
    assert loaded.p20("keys", "init").returncode == 0
    assert loaded.p20("pseudonymise").returncode == 0
    before = _snapshot(loaded)
    proc = loaded.p20("load")
    assert proc.returncode == 1
    assert "manifest authenticity" in proc.stderr and "another partnership key" in proc.stderr
    assert tree_snapshot(loaded.warehouse / "landed") == before["landed"]


def test_outbox_of_another_key_with_its_manifest_key_is_refused_by_fingerprint(loaded):
    """Even with a matching manifest key, the warehouse keeps the key fingerprint it started with."""
    (loaded.custodian / "keys" / "master.key").unlink()
    (loaded.warehouse / "keys" / "manifest.key").unlink()
    assert loaded.p20("keys", "init").returncode == 0
    assert loaded.p20("keys", "export-manifest-key").returncode == 0
    assert loaded.p20("pseudonymise").returncode == 0
    proc = loaded.p20("load")
    assert proc.returncode == 1
    assert "key fingerprint" in proc.stderr and "not the warehouse's key" in proc.stderr


@pytest.mark.parametrize(
    "tamper",
    [
        lambda m: m["files"][0].update(rows=m["files"][0]["rows"] + 1),
        lambda m: m.update(key_fingerprint="0" * 16),
        lambda m: m.pop("mac"),
    ],
    ids=["rows", "fingerprint", "no-mac"],
)
def test_tampered_manifest_is_refused(loaded, tamper):
    path = loaded.custodian / "outbox" / "manifest.json"
    manifest = json.loads(path.read_text())
    tamper(manifest)
    path.write_text(json.dumps(manifest))
    before = _snapshot(loaded)
    proc = loaded.p20("load")
    assert proc.returncode == 1 and "manifest authenticity" in proc.stderr
    assert tree_snapshot(loaded.warehouse / "landed") == before["landed"]


def test_load_without_the_manifest_key_is_a_usage_error(loaded):
    (loaded.warehouse / "keys" / "manifest.key").unlink()
    proc = loaded.p20("load")
    assert proc.returncode == 2 and "export-manifest-key" in proc.stderr


def test_reports_and_ledger_hold_no_identifier_values(loaded):
    outbox = loaded.custodian / "outbox"
    planted = "9876543210"  # a raw SSID where a token belongs
    _edit_lines(outbox / "students_2022.txt", lambda ls: [ls[0].replace(ls[0].split("^")[5], planted)] + ls[1:])
    reseal_manifest(loaded)
    proc = loaded.p20("load")
    assert proc.returncode == 1 and "64-hex token" in proc.stderr
    assert planted not in proc.stdout + proc.stderr
    for path in [*(loaded.warehouse / "quarantine").rglob("*"), loaded.warehouse / "ledger" / "loads.jsonl"]:
        if path.is_file():
            assert planted.encode() not in path.read_bytes(), path


def test_newer_valid_file_supersedes_and_both_stay_for_audit(loaded):
    import duckdb

    outbox = loaded.custodian / "outbox"
    # a corrected file: one student's gender changes
    _edit_lines(
        outbox / "students_2020.txt",
        lambda ls: ["^".join(x.split("^")[:7] + ["X"] + x.split("^")[8:]) if i == 0 else x for i, x in enumerate(ls)],
    )
    reseal_manifest(loaded)
    proc = loaded.p20("load")
    assert proc.returncode == 0, proc.stderr
    assert f"1 landed, {n_extract_files() - 1} unchanged, 0 rejected" in proc.stdout
    loads = sorted((loaded.warehouse / "landed" / "students" / "school_year=2020").iterdir())
    assert len(loads) == 2
    assert loaded.p20("build", "--quiet").returncode == 0
    con = duckdb.connect(str(loaded.warehouse / "p20.duckdb"), read_only=True)
    rows = con.sql(
        """select load_id, is_current, superseded_by_load_id, supersedes_load_id
           from marts.fct_loads where extract_name = 'students' and school_year = 2020
             and outcome = 'landed' order by load_id"""
    ).fetchall()
    staged = con.sql(
        "select distinct load_id from staging.stg_calpads__students where school_year = 2020"
    ).fetchall()
    con.close()
    (old, old_current, old_by, _), (new, new_current, _, new_supersedes) = rows
    assert (old_current, new_current) == (False, True)
    assert old_by == new and new_supersedes == old
    assert staged == [(new,)]


def test_killed_load_leaves_no_partial_landing_and_the_next_run_completes(tiny_run, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    import duckdb

    from conftest import REPO

    zones = copy_zones(tiny_run, tmp_path / "k")
    shutil.rmtree(zones.warehouse / "landed")
    (zones.warehouse / "ledger" / "loads.jsonl").unlink()
    trim_outbox(zones, CORE_YEARS)
    manifest = json.loads((zones.custodian / "outbox" / "manifest.json").read_text())
    rows = {(f["extract"], f["school_year"]): f["rows"] for f in manifest["files"]}

    def check_no_partial_landing():
        for part in (zones.warehouse / "landed").glob("*/school_year=*/load_id=*/part-0.parquet"):
            extract = part.parts[-4]
            year = int(part.parts[-3].removeprefix("school_year="))
            n = duckdb.sql(f"select count(*) from read_parquet('{part}')").fetchall()[0][0]
            assert n == rows[(extract, year)], part

    def landed_count():
        return len(list((zones.warehouse / "landed").glob("*/school_year=*/load_id=*")))

    progress = []
    for extra_delay in (0.0, 0.2, 0.5):
        # kill as soon as (or just after) the run has landed one more file: always mid-load
        before = landed_count()
        proc = subprocess.Popen(
            [sys.executable, "-m", "p20", "load"], env=zones.env, cwd=REPO,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 180
        while landed_count() <= before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(extra_delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        check_no_partial_landing()
        progress.append(landed_count())
    assert any(0 < n < len(rows) for n in progress), f"no kill landed mid-load: {progress}"
    final = zones.p20("load")
    assert final.returncode == 0, final.stderr
    check_no_partial_landing()
    assert not list((zones.warehouse / "landed").rglob(".tmp-*"))
    ledger = [json.loads(x) for x in (zones.warehouse / "ledger" / "loads.jsonl").read_text().splitlines()]
    landed = [r for r in ledger if r["outcome"] == "landed"]
    assert sorted((r["extract"], r["school_year"]) for r in landed) == sorted(rows)
    dirs = list((zones.warehouse / "landed").glob("*/school_year=*/load_id=*"))
    assert len(dirs) == len(rows) == 9


def test_two_loads_at_once_one_waits_and_the_ledger_stays_whole(tiny_run, tmp_path):
    import subprocess
    import sys

    from conftest import REPO

    zones = copy_zones(tiny_run, tmp_path / "c")
    shutil.rmtree(zones.warehouse / "landed")
    (zones.warehouse / "ledger" / "loads.jsonl").unlink()
    trim_outbox(zones, CORE_YEARS)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "p20", "load"], env=zones.env, cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    outs = sorted(out for out, _ in results)
    assert any("9 landed, 0 unchanged" in o for o in outs)
    assert any("0 landed, 9 unchanged" in o for o in outs)
    assert any("waiting" in err for _, err in results)
    ledger = [json.loads(x) for x in (zones.warehouse / "ledger" / "loads.jsonl").read_text().splitlines()]
    assert len(ledger) == 18
    assert len(list((zones.warehouse / "landed").glob("*/school_year=*/load_id=*"))) == 9


def _set_field(position: int, value: str, line: int = 1):
    """An edit that puts `value` in field `position` (1-based) of line `line`."""

    def edit(lines):
        fields = lines[line - 1].split("^")
        fields[position - 1] = value
        lines[line - 1] = "^".join(fields)
        return lines

    return edit


@pytest.mark.parametrize(
    ("file", "edit", "rule"),
    [
        ("enrollments_2021.txt", lambda ls: ls[:10], "volume band"),
        ("students_2023.txt", lambda ls: ls * 3, "volume band"),
        ("enrollments_2021.txt", _set_field(8, "20190104", line=2), "enrollment_start_date lies inside the school year"),
        ("enrollments_2021.txt", _set_field(11, "20210905", line=3), "exit_date lies inside the school year"),
        ("enrollments_2022.txt", _set_field(11, "20210720", line=3), "exit_date is not before enrollment_start_date"),
        ("enrollments_2022.txt", _set_field(8, "20221341", line=5), "enrollment_start_date is a CCYYMMDD date"),
        ("students_2019.txt", _set_field(7, "20070412", line=2), "never a full birth date"),
        ("students_2019.txt", _set_field(4, "9999999", line=2), "school in that year's schools extract"),
        ("students_2019.txt", _set_field(5, "2017-2018", line=2), "academic_year is the file's school year"),
        (
            "enrollments_2023.txt",
            lambda ls: _set_field(13, "100", line=2)(_set_field(12, "T160", line=2)(ls)),
            "completion_status only with a completer exit (seeds/exit_reason_codes is_completer)' failed on 1 rows (lines 2)",
        ),
    ],
    ids=["truncated", "tripled", "start-before-year", "exit-after-year", "exit-before-start",
         "impossible-date", "full-birth-date", "unknown-school", "wrong-year", "graduated-on-a-transfer"],
)
def test_rule_breaking_extract_is_rejected(loaded, file, edit, rule, monkeypatch):
    """In-process (GX is imported once for all cases); the CLI's exit code and one-line
    messages are proven by the tests above."""
    from p20 import gate

    outbox = loaded.custodian / "outbox"
    _edit_lines(outbox / file, edit)
    reseal_manifest(loaded)
    before = _snapshot(loaded)
    monkeypatch.setenv("P20_CUSTODIAN_DIR", str(loaded.custodian))
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(loaded.warehouse))
    rejected = [o for o in gate.load(outbox) if o.status == "rejected"]
    assert [o.file for o in rejected] == [file]
    assert rule in rejected[0].message and file in rejected[0].message, rejected[0].message
    assert tree_snapshot(loaded.warehouse / "landed") == before["landed"]
    assert (loaded.warehouse / "p20.duckdb").read_bytes() == before["duckdb"]


def _suite_size(extract):
    return len(json.loads((REPO / "expectations" / f"{extract}.json").read_text())["expectations"])


@pytest.fixture
def landed_and_rejected(loaded, monkeypatch):
    """In-process: one corrected file that lands (students 2020) and one with a raw SSID where
    a token belongs (students 2022, line 1) that is rejected; everything else is unchanged."""
    from p20 import gate

    outbox = loaded.custodian / "outbox"
    _edit_lines(
        outbox / "students_2020.txt",
        lambda ls: ["^".join(x.split("^")[:7] + ["X"] + x.split("^")[8:]) if i == 0 else x for i, x in enumerate(ls)],
    )
    _edit_lines(outbox / "students_2022.txt", lambda ls: [ls[0].replace(ls[0].split("^")[5], PLANTED)] + ls[1:])
    reseal_manifest(loaded)
    monkeypatch.setenv("P20_CUSTODIAN_DIR", str(loaded.custodian))
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(loaded.warehouse))
    outcomes = {o.file: o for o in gate.load(outbox)}
    assert outcomes["students_2020.txt"].status == "landed"
    assert outcomes["students_2022.txt"].status == "rejected"
    ledger = [json.loads(x) for x in (loaded.warehouse / "ledger" / "loads.jsonl").read_text().splitlines()]
    return loaded, {r["file"]: r for r in ledger if r["file"] in outcomes and r["outcome"] != "unchanged"}


PLANTED = "9876543210"  # a raw SSID where a token belongs


def test_ledger_records_every_expectation_with_counts_for_landed_and_rejected_loads(landed_and_rejected):
    zones, records = landed_and_rejected
    landed, rejected = records["students_2020.txt"], records["students_2022.txt"]
    n = _suite_size("students")
    for rec in (landed, rejected):
        assert rec["n_expectations"] == n == len(rec["expectations"])
        assert [e["index"] for e in rec["expectations"]] == list(range(n))
        assert all(e["rule"] and e["expectation"].startswith("expect_") for e in rec["expectations"])
        for e in rec["expectations"]:
            if e["expectation"].startswith("expect_table_row_count"):
                assert e["observed_value"] == rec["rows"]
            else:
                assert e["element_count"] == rec["rows"], e
                assert e["unexpected_count"] == (0 if e["success"] else e["unexpected_count"]) >= 0
    assert all(e["success"] and e["unexpected_count"] in (0, None) for e in landed["expectations"])
    failed = [e for e in rejected["expectations"] if not e["success"]]
    assert [(e["column"], e["unexpected_count"]) for e in failed] == [("student_token", 1)]
    assert "64-hex token" in failed[0]["rule"]
    assert rejected["n_failed_rules"] == 1
    assert rejected["started_at"] <= rejected["finished_at"]
    ledger_bytes = (zones.warehouse / "ledger" / "loads.jsonl").read_bytes()
    assert PLANTED.encode() not in ledger_bytes


def test_quarantine_html_report_lists_rules_and_lines_but_no_values(landed_and_rejected):
    from html.parser import HTMLParser

    zones, records = landed_and_rejected
    folder = zones.warehouse / "quarantine" / records["students_2022.txt"]["load_id"]
    assert sorted(p.name for p in folder.iterdir()) == ["report.html", "report.json", "report.txt"]
    page = (folder / "report.html").read_text(encoding="utf-8")

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.text, self.links = [], []

        def handle_starttag(self, tag, attrs):
            self.links += [v for k, v in attrs if k in ("src", "href")]

        def handle_data(self, data):
            self.text.append(data)

    parsed = Cells()
    parsed.feed(page)
    text = " ".join(parsed.text)
    assert "students_2022.txt was rejected" in text
    assert "student_token is a 64-hex token" in text
    failed_row = page.split("Failed rules", 1)[1].split("</table>", 1)[0]
    assert failed_row.endswith("<td>1</td></tr>")  # line 1, the planted line
    assert text.count("passed") == _suite_size("students") - 1 and "FAILED" in text
    assert parsed.links == []  # self-contained
    for path in folder.iterdir():
        assert PLANTED.encode() not in path.read_bytes(), path
