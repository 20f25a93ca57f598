"""The first generator: deterministic, and careful with what it already wrote."""

from p20.textio import file_sha256


def _hashes(root):
    return {p.name: file_sha256(p) for p in sorted((root / "raw").glob("*.txt"))}


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path, zones):
    from conftest import new_zones

    a, b, c = (new_zones(tmp_path / n) for n in "abc")
    for z, seed in ((a, "5"), (b, "5"), (c, "6")):
        z.p20("synth", "--preset", "tiny", "--seed", seed, "--years", "2016-2018", check=True)
    assert _hashes(a.custodian) == _hashes(b.custodian)
    assert len(_hashes(a.custodian)) == 9
    assert _hashes(a.custodian) != _hashes(c.custodian)


def test_raw_files_are_caret_delimited_without_header_with_crlf(tmp_path, zones):
    zones.p20("synth", "--preset", "tiny", "--seed", "1", "--years", "2020-2020", check=True)
    data = (zones.custodian / "raw" / "SENR_2020.txt").read_bytes()
    first = data.split(b"\r\n")[0].split(b"^")
    assert first[0] == b"SENR" and len(first) == 19 and data.endswith(b"\r\n")


def test_unknown_preset_and_bad_years_exit_2(zones):
    proc = zones.p20("synth", "--preset", "huge")
    assert proc.returncode == 2 and "unknown preset" in proc.stderr
    proc = zones.p20("synth", "--years", "2025-2016")
    assert proc.returncode == 2 and "--years" in proc.stderr
    assert not (zones.custodian / "raw").exists()


def test_folder_with_another_seed_is_not_overwritten(zones):
    zones.p20("synth", "--preset", "tiny", "--seed", "1", "--years", "2016-2016", check=True)
    before = _hashes(zones.custodian)
    proc = zones.p20("synth", "--preset", "tiny", "--seed", "2", "--years", "2016-2016")
    assert proc.returncode == 2 and "other settings" in proc.stderr
    assert _hashes(zones.custodian) == before
