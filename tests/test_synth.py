"""The generator: deterministic, careful with what it already wrote, every extract of a district
for ten years, calibrated, consistent across extracts, and honest about its truth."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from p20 import calibration as cal
from p20.paths import SEEDS_DIR
from p20.policy import code_set, extracts, project_var, pseudonymised_extracts
from p20.textio import file_sha256

YEARS = range(2016, 2026)


def _hashes(root, folder="raw"):
    return {p.name: file_sha256(p) for p in sorted((root / folder).glob("*.*"))}


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path, zones):
    from conftest import new_zones

    a, b, c = (new_zones(tmp_path / n) for n in "abc")
    for z, seed in ((a, "5"), (b, "5"), (c, "6")):
        z.p20("synth", "--preset", "tiny", "--seed", seed, "--years", "2016-2018", check=True)
    assert _hashes(a.custodian) == _hashes(b.custodian)
    assert _hashes(a.custodian, "truth") == _hashes(b.custodian, "truth")
    assert len([n for n in _hashes(a.custodian) if n.endswith(".txt")]) == 3 * len(pseudonymised_extracts())
    differing = {n for n, h in _hashes(a.custodian).items() if _hashes(c.custodian).get(n) != h}
    assert {n for n in differing if n.startswith("SINF_")} == {f"SINF_{y}.txt" for y in (2016, 2017, 2018)}


def test_raw_files_are_caret_delimited_without_header_with_crlf(tmp_path, zones):
    zones.p20("synth", "--preset", "tiny", "--seed", "1", "--years", "2020-2020", check=True)
    data = (zones.custodian / "raw" / "SENR_2020.txt").read_bytes()
    first = data.split(b"\r\n")[0].split(b"^")
    assert first[0] == b"SENR" and len(first) == 19 and data.endswith(b"\r\n")


def test_unknown_preset_and_bad_years_exit_2(zones):
    proc = zones.p20("synth", "--preset", "huge")
    assert proc.returncode == 2 and "unknown preset" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = zones.p20("synth", "--years", "2025-2016")
    assert proc.returncode == 2 and "--years" in proc.stderr
    proc = zones.p20("synth", "--years", "1990-2025")
    assert proc.returncode == 2 and "years must lie within" in proc.stderr
    assert not (zones.custodian / "raw").exists()


def test_folder_with_another_seed_is_not_overwritten(zones):
    zones.p20("synth", "--preset", "tiny", "--seed", "1", "--years", "2016-2016", check=True)
    before = _hashes(zones.custodian)
    proc = zones.p20("synth", "--preset", "tiny", "--seed", "2", "--years", "2016-2016")
    assert proc.returncode == 2 and "other settings" in proc.stderr
    assert _hashes(zones.custodian) == before


# ---------------------------------------------------------------- the small district


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """The small preset (about 20 schools, 10,000 students a year), ten years, generated once."""
    from p20.synth import generate

    root = tmp_path_factory.mktemp("small") / "custodian"
    generate("small", 11, YEARS, root)
    return root


def _read(root: Path, code: str, year: int) -> pd.DataFrame:
    layout = next(e for e in extracts().values() if e.raw_file_code == code)
    names = [c.raw_column for c in layout.columns]
    return pd.read_csv(
        root / "raw" / f"{code}_{year}.txt", sep="^", header=None, names=names, dtype=str,
        keep_default_na=False, lineterminator="\n",
    ).replace({names[-1]: {r"\r$": ""}}, regex=True)


def _all_years(root: Path, code: str) -> pd.DataFrame:
    frames = [_read(root, code, y).assign(school_year=y) for y in YEARS]
    df = pd.concat(frames, ignore_index=True)
    if "ssid" in df:
        df["student"] = df["ssid"].str.strip().str.lstrip("0")
    return df


def test_every_extract_is_written_for_all_ten_years_in_its_layout(small):
    for extract in pseudonymised_extracts().values():
        for year in YEARS:
            path = small / "raw" / f"{extract.raw_file_code}_{year}.txt"
            data = path.read_bytes()
            assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b""), path.name
            lines = data.split(b"\r\n")[:-1]
            assert len(lines) > 0, path.name
            counts = {line.count(b"^") + 1 for line in lines}
            assert counts == {len(extract.columns)}, (path.name, counts)
            if extract.raw_file_code != "SCHL":
                assert lines[0].startswith(extract.raw_file_code.encode() + b"^"), path.name  # no header


def test_demographic_shares_are_within_two_points_of_the_targets(small):
    sinf = _all_years(small, "SINF")
    hispanic = sinf["hispanic"] == "Y"
    black = ~hispanic & (sinf["race1"] == "600") & (sinf["race2"] == "")
    white = ~hispanic & (sinf["race1"] == "700") & (sinf["race2"] == "")
    shares = {"hispanic": hispanic.mean(), "black": black.mean(), "white": white.mean()}
    shares["other"] = 1 - sum(shares.values())
    targets = cal.RACE_ETHNICITY_SHARES
    expected = {"hispanic": targets["hispanic"], "black": targets["black"], "white": targets["white"]}
    expected["other"] = 1 - sum(expected.values())
    for group, share in shares.items():
        assert abs(share - expected[group]) < 0.02, (group, share)
    sprg = _all_years(small, "SPRG")
    frl = sprg[sprg["program_code"].isin(["181", "182"])][["school_year", "student"]].drop_duplicates()
    frl_share = len(frl) / len(sinf)
    assert abs(frl_share - cal.FRL_TARGET_SHARE) < 0.02, frl_share
    sela = _all_years(small, "SELA")
    el = sela["elas_code"] == "EL"
    assert 0.12 < el.mean() < 0.30
    assert (sela.loc[el, "primary_language"] == "01").mean() > 0.75  # mostly Spanish-speaking


def test_chronic_absence_and_suspension_rates_are_realistic(small):
    rates = pd.read_csv(small / "truth" / "district_rates_by_year.csv")
    assert rates["chronic_absence_rate"].between(0.18, 0.27).all(), rates["chronic_absence_rate"]
    assert rates["suspension_rate"].between(0.02, 0.04).all(), rates["suspension_rate"]


def test_each_students_records_agree_across_extracts(small):
    senr = _all_years(small, "SENR")
    caas = _all_years(small, "CAAS")
    key = ["school_year", "student", "school_code"]
    enrolled = senr[key + ["grade_level"]].drop_duplicates()
    merged = caas.merge(enrolled, on=key, how="left")
    assert merged["grade_level"].notna().all(), "an assessment without an enrollment"
    assert (merged["grade_level"] == merged["grade_assessed"]).all()
    for code in ("SCSC", "STAS", "SPRG", "SINC", "SSRV"):
        df = _all_years(small, code)
        assert df[key].merge(enrolled[key].drop_duplicates(), on=key, how="left", indicator=True)["_merge"].eq("both").all(), code
    order = {g: i for i, g in enumerate(["KN"] + [f"{g:02d}" for g in range(1, 13)])}
    grades = senr.assign(g=senr["grade_level"].map(order)).groupby(["student", "school_year"])["g"].agg(["min", "max"])
    assert (grades["min"] == grades["max"]).all(), "one grade per student and year"
    g = grades["min"].reset_index().sort_values(["student", "school_year"])
    step = g.groupby("student")["min"].diff().dropna()
    gap = g.groupby("student")["school_year"].diff().dropna()
    assert (gap == 1).all()  # nobody leaves and comes back
    assert step.isin([0, 1]).all() and (step == 0).mean() < 0.05


def test_attendance_assessment_and_marks_stay_in_their_ranges(small):
    stas = _read(small, "STAS", 2024)
    days = stas[[c for c in stas.columns if c.startswith("days_")]].astype(int)
    assert (days["days_attended"] <= days["days_expected"]).all() and (days >= 0).all().all()
    caas = _all_years(small, "CAAS")
    score = caas["scale_score"].astype(int)
    for (subject, grade), rows in caas.groupby(["subject", "grade_assessed"]):
        lo, hi = cal.CAASPP_RANGE[subject.lower()][int(grade)]
        cuts = cal.CAASPP_CUTS[subject.lower()][int(grade)]
        s = score[rows.index]
        assert s.between(lo, hi).all()
        level = 1 + (s >= cuts[0]).astype(int) + (s >= cuts[1]) + (s >= cuts[2])
        assert (level.astype(str) == rows["achievement_level"]).all()
    scsc = _all_years(small, "SCSC")
    assert set(scsc["final_grade"]) <= set(code_set("marks"))
    assert set(scsc["state_course_code"]) <= set(code_set("course_codes"))


def test_state_course_codes_change_in_2019_20(small):
    before, after = _read(small, "SCSC", 2019), _read(small, "SCSC", 2020)
    assert before["state_course_code"].str.startswith("24").all()
    assert after["state_course_code"].str.startswith("92").all()
    assert {"2437", "2436"} <= set(before["state_course_code"]) and {"9249", "9240"} <= set(after["state_course_code"])


def test_truth_files_are_present_and_recompute_from_the_raw_files(small):
    truth = small / "truth"
    for name in (
        "params.json", "planted.json", "school_effects.csv", "algebra_grade8_by_school_year.csv",
        "algebra_grade8_by_subgroup_year.csv", "chronic_absence_by_school_year.csv",
        "suspension_by_school_year.csv", "el_reclassification_by_year.csv", "demographics_by_year.csv",
    ):
        assert (truth / name).exists(), name
    # Chronic absence per school and year, from STAS.
    stas = _all_years(small, "STAS")
    expected_days = stas["days_expected"].astype(int)
    absent = expected_days - stas["days_attended"].astype(int)
    elig = stas.assign(chronic=absent / expected_days.where(expected_days > 0) >= 0.10)[expected_days >= 31]
    got = elig.groupby(["school_year", "school_code"])["chronic"].agg(["size", "sum"]).reset_index()
    want = pd.read_csv(truth / "chronic_absence_by_school_year.csv", dtype={"school_code": str})
    m = want.merge(got, on=["school_year", "school_code"], how="outer")
    assert (m["n_eligible"] == m["size"]).all() and (m["n_chronically_absent"] == m["sum"]).all()
    # Grade-8 Algebra I taking and passing per school and year, from SCSC and the course-code seed.
    scsc = _all_years(small, "SCSC")
    algebra = pd.read_csv(SEEDS_DIR / "course_codes.csv", dtype=str).query("is_algebra1 == 'true'")["state_course_code"]
    g8 = scsc[scsc["grade_level"] == "08"].assign(took=lambda d: d["state_course_code"].isin(algebra))
    # passed at the marts' mark (var p20:algebra_pass_min_mark, C), not merely with credit (D)
    points = pd.read_csv(SEEDS_DIR / "marks.csv").set_index("final_grade")["grade_points"]
    g8["passed"] = g8["took"] & (g8["final_grade"].map(points) >= points[project_var("algebra_pass_min_mark")])
    got = g8.groupby(["school_year", "school_code"])[["took", "passed"]].sum().reset_index()
    want = pd.read_csv(truth / "algebra_grade8_by_school_year.csv", dtype={"school_code": str})
    m = want.merge(got, on=["school_year", "school_code"], how="outer")
    assert (m["n_took_algebra1"] == m["took"]).all() and (m["n_passed_algebra1"] == m["passed"]).all()
    assert 0.08 < m["took"].sum() / want["n_grade8"].sum() < 0.35
    # EL reclassification counts per year, from SELA.
    sela = _all_years(small, "SELA")
    rfep_this_year = (sela["elas_code"] == "RFEP") & (
        sela["elas_start_date"].str[:4].astype(int) == sela["school_year"]
    )
    counts = rfep_this_year.groupby(sela["school_year"]).sum()
    reclass = pd.read_csv(truth / "el_reclassification_by_year.csv").set_index("school_year")["n_reclassified"]
    assert (counts == reclass).all()


def test_exit_codes_and_completion_statuses_are_consistent(small):
    """A completion status only on a completer exit (seed exit_reason_codes); a student who
    leaves the district before grade 12 ends the year on a leaving exit, not on a transfer
    within the district (T160) or on no exit at all."""
    senr = _all_years(small, "SENR")
    completer = set(pd.read_csv(SEEDS_DIR / "exit_reason_codes.csv").query("is_completer")["exit_reason"])
    # counts only in the messages: never a row (its SSID) in a failure report
    reasons = senr.loc[senr["completion_status"] != "", "exit_reason"]
    wrong = reasons[~reasons.isin(completer)].value_counts().to_dict()
    assert len(reasons) > 100 and not wrong, f"completion status on non-completer exits: {wrong}"
    last = senr.sort_values("enrollment_start_date").groupby(["student", "school_year"]).tail(1)
    nxt = set(zip(senr["student"], senr["school_year"] - 1, strict=True))
    gone = last[(last["school_year"] < YEARS[-1]) & (last["grade_level"] != "12")]
    gone = gone[[k not in nxt for k in zip(gone["student"], gone["school_year"], strict=True)]]
    wrong = gone.loc[gone["exit_reason"].isin(["T160", ""]), "exit_reason"].value_counts().to_dict()
    assert len(gone) > 100 and not wrong, f"leavers whose last record is no leaving exit: {wrong}"


def test_truth_holds_aggregates_and_planted_parameters_but_no_raw_ids(small):
    truth = small / "truth"
    planted = json.loads((truth / "planted.json").read_text())
    bto = planted["beat_the_odds_school_codes"]
    assert 2 <= len(bto) <= 10
    effects = pd.read_csv(truth / "school_effects.csv", dtype={"school_code": str})
    assert set(effects.loc[effects["is_beat_the_odds"], "school_code"]) == set(bto)
    assert planted["peer_effect"]["same_group_coefficient"] > planted["peer_effect"]["other_groups_coefficient"]
    for path in truth.iterdir():
        if path.name.startswith("linkage_"):
            continue  # by design: which preschool/NSC row is which SSID (p20 link's truth; custodian only)
        assert not re.search(r"(?<![\d.])\d{9,10}(?![\d.])", path.read_text()), f"an id-like number in {path.name}"


def test_planted_gaps_show_in_the_scores(small):
    caas = _all_years(small, "CAAS")
    caas = caas[caas["subject"] == "ELA"]
    sela = _all_years(small, "SELA")[["school_year", "student", "elas_code"]]
    m = caas.merge(sela, on=["school_year", "student"])
    level = m["achievement_level"].astype(int)
    assert level[m["elas_code"] == "EL"].mean() < level[m["elas_code"] != "EL"].mean() - 0.3
    bto = json.loads((small / "truth" / "planted.json").read_text())["beat_the_odds_school_codes"]
    assert level[m["school_code"].isin(bto)].mean() > level[~m["school_code"].isin(bto)].mean()


def test_grade8_algebra_placement_follows_grade7_achievement(small):
    caas = _all_years(small, "CAAS")
    g7 = caas[(caas["grade_assessed"] == "07") & (caas["subject"] == "MATH")]
    g7 = g7.assign(school_year=g7["school_year"] + 1, score=g7["scale_score"].astype(int))[["school_year", "student", "score"]]
    scsc = _all_years(small, "SCSC")
    algebra = set(pd.read_csv(SEEDS_DIR / "course_codes.csv", dtype=str).query("is_algebra1 == 'true'")["state_course_code"])
    g8 = scsc[scsc["grade_level"] == "08"].assign(took=lambda d: d["state_course_code"].isin(algebra))
    m = g8.merge(g7, on=["school_year", "student"])
    assert len(m) > 1000
    assert m.loc[m["took"], "score"].mean() > m.loc[~m["took"], "score"].mean() + 40


def test_faults_are_labelled_broken_copies_of_clean_extracts(zones):
    zones.p20("synth", "--preset", "tiny", "--seed", "3", "--years", "2024-2025", "--faults", check=True)
    faults_dir = zones.custodian / "faults"
    index = json.loads((faults_dir / "faults.json").read_text())["faults"]
    assert len({f["label"] for f in index}) == len(index) >= 25
    for f in index:
        path = faults_dir / f["file"]
        assert path.parent.name == f["label"] and f["description"] and f["expected"]
        clean = zones.custodian / "raw" / f"{f['raw_file_code']}_2025.txt"
        assert path.read_bytes() != clean.read_bytes(), f["label"]


def test_gate_rejects_planted_faults(tmp_path, zones, monkeypatch):
    """Three faults, end to end: a raw file the gate rejects, and outbox files with a raw SSID
    and with mangled ids where tokens belong."""
    from p20 import gate, keys
    from p20.custodian import pseudonymise
    from p20.manifest import seal_manifest

    zones.p20("synth", "--preset", "tiny", "--seed", "3", "--years", "2025-2025", "--faults", check=True)
    faults_dir = zones.custodian / "faults"
    index = {f["label"]: f for f in json.loads((faults_dir / "faults.json").read_text())["faults"]}
    key = keys.init_master_key()
    keys.init_escrow_key()
    master = keys.load_master_key(key)
    for label in ("attended_more_than_expected", "raw_ssid_in_token_column", "excel_mangled_ids"):
        f = index[label]
        work = tmp_path / label
        raw = work / "raw"
        raw.mkdir(parents=True)
        (raw / "SCHL_2025.txt").write_bytes((zones.custodian / "raw" / "SCHL_2025.txt").read_bytes())
        src = faults_dir / f["file"]
        if f["stage"] == "raw":
            (raw / src.name).write_bytes(src.read_bytes())
        pseudonymise(raw, work / "outbox", key)
        if f["stage"] == "outbox":  # as a custodian whose own process wrote a bad file would
            outbox = work / "outbox"
            (outbox / src.name).write_bytes(src.read_bytes())
            manifest = json.loads((outbox / "manifest.json").read_text())
            manifest.pop("mac", None)
            manifest["files"].append(
                {"file": src.name, "extract": f["extract"], "school_year": 2025, "sha256": file_sha256(outbox / src.name),
                 "rows": src.read_bytes().count(b"\n"), "columns": extracts()[f["extract"]].outbox_columns}
            )
            (outbox / "manifest.json").write_text(json.dumps(seal_manifest(manifest, master)))
        monkeypatch.setenv("P20_WAREHOUSE_DIR", str(work / "warehouse"))
        keys.write_secret(keys.manifest_key_path(), keys.manifest_key(master))
        outcomes = {o.extract: o for o in gate.load(work / "outbox")}
        assert outcomes["schools"].status == "landed"
        bad = outcomes[f["extract"]]
        assert bad.status == "rejected", label
        rule = f["expected"].split("rule ", 1)[1].split("'")[1]
        assert any(x["rule"] == rule for x in bad.failures), (label, bad.failures)


def test_generation_is_vectorised_enough_for_tiny(tmp_path):
    """tiny stays quick: the test suite generates it several times."""
    import time

    from p20.synth import generate

    started = time.perf_counter()
    generate("tiny", 2, YEARS, tmp_path / "c")
    assert time.perf_counter() - started < 10
    assert np.all([p.stat().st_size > 0 for p in (tmp_path / "c" / "raw").glob("*.txt")])
