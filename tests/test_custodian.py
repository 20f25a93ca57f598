"""Pseudonymisation: what crosses, and what is refused."""

import json

from conftest import copy_zones, n_extract_files, trim_outbox


def test_outbox_columns_follow_the_policy(tiny_run):
    manifest = json.loads((tiny_run.custodian / "outbox" / "manifest.json").read_text())
    students = next(f for f in manifest["files"] if f["extract"] == "students")
    assert "student_token" in students["columns"] and "birth_year_month" in students["columns"]
    for dropped in ("ssid", "first_name", "last_name", "birth_date", "address", "local_student_id"):
        assert dropped not in students["columns"]
    assert len(manifest["key_fingerprint"]) == 16 and len(manifest["files"]) == n_extract_files()


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


def _outbox_tokens(zones) -> set[str]:
    outbox = zones.custodian / "outbox"
    return {
        line.split("^")[5]
        for path in outbox.glob("students_*.txt")
        for line in path.read_text().splitlines()
    }


def _raw_ssids(zones) -> set[str]:
    raw = zones.custodian / "raw"
    return {
        line.split("^")[6]
        for path in raw.glob("SINF_*.txt")
        for line in path.read_bytes().decode().split("\r\n")
        if line
    }


def test_enumeration_attack_with_unkeyed_hash_or_wrong_key_matches_no_token(tiny_run):
    """An attacker who knows every real id (the best case of enumerating the id space) and
    hashes each, in every written form, without the key or with a wrong one, matches nothing."""
    import hashlib

    from p20 import keys

    tokens = _outbox_tokens(tiny_run)
    ssids = _raw_ssids(tiny_run)
    assert len(tokens) > 500 and len(ssids) > 500
    forms = {v for s in ssids for v in (s, s.strip(), s.strip().zfill(10), s.strip().lstrip("0"))}
    unkeyed = {hashlib.sha256(f.encode()).hexdigest() for f in forms}
    wrong_key = keys.tokeniser(b"\x00" * 32, "student")
    assert unkeyed & tokens == set()
    assert {wrong_key(f) for f in forms} & tokens == set()
    # and with the right key every student is found: the attack above could have succeeded
    right = keys.tokeniser(keys.load_master_key(tiny_run.custodian / "keys" / "master.key"), "student")
    assert {right(s) for s in ssids} == tokens


def test_no_two_ids_share_a_token_in_ten_years(tiny_run):
    ssids = {s.strip().lstrip("0") for s in _raw_ssids(tiny_run)}
    assert len(_outbox_tokens(tiny_run)) == len(ssids)


def test_warehouse_and_project_tokens_never_join(tiny_run):
    import duckdb
    import pyarrow as pa

    from p20 import keys

    master = keys.load_master_key(tiny_run.custodian / "keys" / "master.key")
    ssids = sorted(_raw_ssids(tiny_run))
    _, warehouse_tokens = keys.tokenise_many(master, "student", ssids)
    _, project_tokens = keys.tokenise_many(master, "release:algebra-2026:student", ssids)
    con = duckdb.connect()
    con.register("w", pa.table({"t": warehouse_tokens}))
    con.register("p", pa.table({"t": project_tokens}))
    assert con.sql("select count(*) from w join p using (t)").fetchall()[0][0] == 0
    assert warehouse_tokens[0] != project_tokens[0]


def test_escrow_lookup_needs_a_reason_and_the_escrow_key_and_is_logged(tiny_run, tmp_path):
    zones = copy_zones(tiny_run, tmp_path / "e")
    from p20 import keys

    master = keys.load_master_key(zones.custodian / "keys" / "master.key")
    token = keys.tokeniser(master, "student")(zones.canaries["ssid"])
    proc = zones.p20("escrow", "lookup", token, "--reason", "court order 2026-114 (record correction)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == zones.canaries["ssid"].lstrip("0")
    assert zones.p20("escrow", "lookup", token, "--reason", "curious").returncode == 2
    log = (zones.custodian / "escrow" / "lookups.jsonl").read_text()
    assert "court order 2026-114" in log and zones.canaries["ssid"].lstrip("0") not in log
    # another escrow key cannot open the crosswalk
    (zones.custodian / "keys" / "escrow.key").unlink()
    keys.init_escrow_key(zones.custodian / "keys" / "escrow.key")
    proc = zones.p20("escrow", "lookup", token, "--reason", "court order 2026-114 (record correction)")
    assert proc.returncode == 1 and "wrong escrow key" in proc.stderr


def test_escrow_file_is_encrypted(tiny_run):
    blob = next((tiny_run.custodian / "escrow").rglob("student.crosswalk")).read_bytes()
    assert tiny_run.canaries["ssid"].lstrip("0").encode() not in blob
    assert b"normalised_id" not in blob  # not even the Arrow schema is readable


def test_birth_date_precision_year_keeps_only_the_year(tiny_run, tmp_path, monkeypatch):
    import p20.custodian as custodian

    zones = copy_zones(tiny_run, tmp_path / "y")
    monkeypatch.setenv("P20_CUSTODIAN_DIR", str(zones.custodian))
    monkeypatch.setattr(custodian, "project_var", lambda name: "year")
    custodian.pseudonymise(zones.custodian / "raw", tmp_path / "outbox-y")
    months = {line.split("^")[6] for line in (tmp_path / "outbox-y" / "students_2020.txt").read_text().splitlines()}
    assert months and all(len(m) == 4 for m in months)


def test_rotation_keeps_every_link_and_every_mart_count(tiny_run, tmp_path):
    import duckdb
    import pyarrow.parquet as pq

    zones = copy_zones(tiny_run, tmp_path / "r")

    def counts():
        con = duckdb.connect(str(zones.warehouse / "p20.duckdb"), read_only=True)
        try:
            return con.sql(
                """select school_year, grade_level, primary_school_code, is_enrolled_on_census_day,
                          n_primary_spans, race_ethnicity, count(*) as n,
                          count(distinct student_token) as n_tokens
                   from marts.fct_student_years group by all order by all"""
            ).fetchall(), {r[0] for r in con.sql("select student_token from marts.dim_students").fetchall()}
        finally:
            con.close()

    before, tokens_before = counts()
    old_fp = zones.p20("keys", "fingerprint", check=True).stdout.strip()
    proc = zones.p20("keys", "rotate", check=True)
    new_fp = zones.p20("keys", "fingerprint", check=True).stdout.strip()
    assert new_fp != old_fp
    package = zones.custodian / "rotation" / f"{old_fp}-to-{new_fp}"
    token_map = pq.read_table(package / "student.parquet")
    old, new = token_map.column("old_token").to_pylist(), token_map.column("new_token").to_pylist()
    assert len(set(old)) == len(set(new)) == len(old)  # a bijection
    assert set(old) & set(new) == set()
    assert tokens_before <= set(old)
    zones.p20("rekey", str(package), check=True)
    assert zones.p20("build", "--quiet").returncode == 0
    after, tokens_after = counts()
    assert after == before  # same counts in every cell
    assert tokens_after.isdisjoint(tokens_before) and len(tokens_after) == len(tokens_before)
    # the custodian's next outbox (new key) loads, and is identical in content (the spine's
    # extracts for two years are enough to prove it, and keep the test short)
    zones.p20("pseudonymise", check=True)
    trim_outbox(zones, lambda e: e["extract"] in ("students", "enrollments") and e["school_year"] >= 2024)
    proc = zones.p20("load")
    assert proc.returncode == 0, proc.stderr
    assert "4 landed, 0 unchanged, 0 rejected" in proc.stdout
    assert zones.p20("build", "--quiet").returncode == 0
    assert counts()[0] == after
    # a rotation package is refused twice (the warehouse no longer holds the old key's tokens)
    again = zones.p20("rekey", str(package))
    assert again.returncode == 1 and "package authenticity" in again.stderr


def test_pseudonymise_is_deterministic(tiny_run, tmp_path, monkeypatch):
    """The same raw files and key give byte-identical outbox files (so a reload is a no-op)."""
    import p20.custodian as custodian
    from p20.textio import file_sha256

    zones = copy_zones(tiny_run, tmp_path / "d")
    monkeypatch.setenv("P20_CUSTODIAN_DIR", str(zones.custodian))
    custodian.pseudonymise(zones.custodian / "raw", tmp_path / "again")
    made = json.loads((tmp_path / "again" / "manifest.json").read_text())["files"]
    assert {f["file"] for f in made} == {p.name for p in (tmp_path / "again").glob("*.txt")}
    for name in sorted(f["file"] for f in made):  # p20 link's files are not pseudonymise's
        path = zones.custodian / "outbox" / name
        assert file_sha256(path) == file_sha256(tmp_path / "again" / path.name), path.name


def test_misnamed_raw_file_is_refused_by_name_and_nothing_crosses(tiny_run, tmp_path):
    """A raw file p20 does not recognise (SENR_2025.csv, SENR_2025_corrected.txt) stops the
    run (exit 1, naming it, the outbox untouched); --map FILE=CODE_YEAR takes it explicitly."""
    from conftest import tree_snapshot

    zones = copy_zones(tiny_run, tmp_path / "m")
    raw, outbox = zones.custodian / "raw", zones.custodian / "outbox"
    before = tree_snapshot(outbox)
    (raw / "SENR_2025.txt").rename(raw / "SENR_2025_corrected.txt")
    (raw / "SENR_2024.txt").rename(raw / "SENR_2024.csv")
    proc = zones.p20("pseudonymise")
    assert proc.returncode == 1, proc.stdout
    assert "SENR_2024.csv" in proc.stderr and "SENR_2025_corrected.txt" in proc.stderr and "--map" in proc.stderr
    assert CANARY_SSID not in proc.stderr + proc.stdout
    assert tree_snapshot(outbox) == before
    proc = zones.p20("pseudonymise", "--map", "SENR_2025_corrected.txt=SENR_2025", "--map", "SENR_2024.csv=SENR_2024")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((outbox / "manifest.json").read_text())
    senr = {f["school_year"]: f for f in manifest["files"] if f["extract"] == "enrollments"}
    assert senr[2025]["raw_file"] == "SENR_2025_corrected.txt" and senr[2025]["sha256"] == next(
        e["sha256"] for e in json.loads(before["manifest.json"])["files"] if e["file"] == "enrollments_2025.txt"
    )
    assert {m["raw_file"] for m in manifest["inventory"]["mapped"]} == {"SENR_2025_corrected.txt", "SENR_2024.csv"}
    assert manifest["inventory"]["missing"] == []


CANARY_SSID = "0246813579"  # conftest.CANARY: planted in every raw file of tiny_run


def test_inventory_lists_a_missing_extract_year_and_load_prints_it(tiny_run, tmp_path):
    """A delivery without SENR 2025: the manifest's inventory says enrollments 2025 is missing
    (the previous outbox had it), and `p20 load` prints one line for it."""
    zones = copy_zones(tiny_run, tmp_path / "i")
    (zones.custodian / "raw" / "SENR_2025.txt").unlink()
    proc = zones.p20("pseudonymise", check=True)
    assert "missing: enrollments 2025" in proc.stderr
    inv = json.loads((zones.custodian / "outbox" / "manifest.json").read_text())["inventory"]
    assert inv["missing"] == [{"extract": "enrollments", "school_year": 2025}]
    assert 2025 not in inv["arrived"]["enrollments"] and inv["arrived"]["students"][-1] == 2025
    proc = zones.p20("load")
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.startswith("missing:")] == [
        f"missing: enrollments 2025: in the previous outbox ({inv['compared_with']}), not in this one"
    ]


def test_pseudonymise_after_link_keeps_the_linked_files_or_says_to_link_again(tiny_run, tmp_path, monkeypatch):
    """Re-running pseudonymise after link keeps link's 12 files (same bytes, listed, said so);
    under another key they cannot be kept, and the inventory says to run `p20 link` again."""
    from p20 import keys
    from p20.custodian import pseudonymise
    from p20.inventory import missing_lines
    from p20.policy import linked_extracts

    zones = copy_zones(tiny_run, tmp_path / "k")
    outbox = zones.custodian / "outbox"
    linked = {p.name: p.read_bytes() for p in outbox.glob("*.txt") if p.name.rsplit("_", 1)[0] in linked_extracts()}
    assert len(linked) == 12
    proc = zones.p20("pseudonymise", check=True)
    assert "kept the previous outbox's 12 files of `p20 link`" in proc.stdout
    manifest = json.loads((outbox / "manifest.json").read_text())
    assert len(manifest["files"]) == n_extract_files() and manifest["inventory"]["missing"] == []
    assert {name: (outbox / name).read_bytes() for name in linked} == linked
    assert zones.p20("load", check=True).stdout.count("142 unchanged") == 1
    other = tmp_path / "other.key"
    keys.write_secret(other, b"\x07" * keys.KEY_BYTES)
    monkeypatch.setenv("P20_CUSTODIAN_DIR", str(zones.custodian))  # the escrow key of this copy
    manifest = pseudonymise(zones.custodian / "raw", outbox, key_path=other)
    assert not any(f["extract"] in linked_extracts() for f in manifest["files"])
    lines = missing_lines(manifest)
    assert len(lines) == 12 and all("run `p20 link`" in line for line in lines)
