"""Core marts against the generator's truth (tiny preset, ten years): exact counts per school
and year for chronic absence, suspension and EL reclassification, and exact subgroup shares."""

import pandas as pd
import pytest

from conftest import mart


def truth(zones, name: str) -> pd.DataFrame:
    return pd.read_csv(zones.custodian / "truth" / name, dtype={"school_code": str})


def assert_same(expected: pd.DataFrame, got: pd.DataFrame, keys: list[str], counts: list[str]) -> None:
    merged = expected.merge(got, on=keys, how="outer", suffixes=("_truth", "_mart"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"][keys]
    for c in counts:
        wrong = merged[merged[f"{c}_truth"] != merged[f"{c}_mart"]]
        assert wrong.empty, wrong[keys + [f"{c}_truth", f"{c}_mart"]]


def test_chronic_absence_per_school_matches_truth(tiny_run):
    got = mart(
        tiny_run,
        """select school_year, school_code,
                  count(*) filter (where counts_for_chronic_absence) as n_eligible,
                  count(*) filter (where is_chronically_absent) as n_chronically_absent
           from marts.fct_attendance_school_years group by all""",
    )
    expected = truth(tiny_run, "chronic_absence_by_school_year.csv")
    assert expected["n_chronically_absent"].sum() > 100
    assert_same(expected, got, ["school_year", "school_code"], ["n_eligible", "n_chronically_absent"])


def test_suspension_per_school_matches_truth(tiny_run):
    # A school's suspension rate: of the students it enrolled in the year, those suspended
    # (in or out of school) for an incident there.
    got = mart(
        tiny_run,
        """with enrolled as (
               select distinct school_year, school_code, student_token from marts.fct_enrollments
           ),
           suspended as (
               select distinct school_year, school_code, student_token
               from marts.fct_discipline where is_suspension
           )
           select enrolled.school_year, enrolled.school_code,
                  count(*) as n_enrolled, count(suspended.student_token) as n_suspended
           from enrolled
           left join suspended using (school_year, school_code, student_token)
           group by all""",
    )
    expected = truth(tiny_run, "suspension_by_school_year.csv")
    assert expected["n_suspended"].sum() > 20
    assert_same(expected, got, ["school_year", "school_code"], ["n_enrolled", "n_suspended"])


def test_el_reclassification_counts_match_truth(tiny_run):
    got = mart(
        tiny_run,
        """select school_year,
                  count(*) filter (where was_english_learner_at_year_start) as n_el_at_start,
                  count(*) filter (where is_reclassified_in_year) as n_reclassified,
                  count(*) filter (where is_english_learner_at_year_end) as n_el_at_end,
                  count(*) filter (where elas_code = 'RFEP') as n_rfep_at_end
           from marts.fct_el_status_history group by all""",
    )
    expected = truth(tiny_run, "el_reclassification_by_year.csv")
    assert len(expected) == 10 and expected["n_reclassified"].sum() > 0
    assert_same(expected, got, ["school_year"], ["n_el_at_start", "n_reclassified", "n_el_at_end", "n_rfep_at_end"])


@pytest.mark.parametrize("flag,share", [("is_sed", "share_sed"), ("is_frl", "share_frl"),
                                        ("is_english_learner", "share_el"), ("is_swd", "share_swd")])
def test_subgroup_shares_match_truth(tiny_run, flag, share):
    got = mart(
        tiny_run,
        f"select school_year, count(*) as n_students, count(*) filter (where {flag}) as n_flagged "
        "from marts.fct_student_years group by all",
    )
    expected = truth(tiny_run, "demographics_by_year.csv")
    merged = expected.merge(got, on="school_year", suffixes=("_truth", "_mart"))
    assert len(merged) == 10
    assert (merged["n_students_truth"] == merged["n_students_mart"]).all()
    # truth keeps shares to 6 decimals: the mart's count must round to the same share
    assert ((merged["n_flagged"] / merged["n_students_mart"]).round(6) == merged[share]).all()


def test_derived_achievement_levels_agree_with_reported(tiny_run):
    got = mart(
        tiny_run,
        """select count(*) as n,
                  count(*) filter (where achievement_level is distinct from reported_achievement_level) as n_differ,
                  count(distinct achievement_level) as n_levels
           from marts.fct_assessments""",
    )
    assert got["n"][0] > 1000 and got["n_differ"][0] == 0 and got["n_levels"][0] == 4


def test_course_codes_of_both_eras_reach_algebra(tiny_run):
    got = mart(
        tiny_run,
        """select school_year >= 2020 as after_code_change, count(distinct state_course_code) as n_codes,
                  count(*) filter (where not is_code_valid_in_year) as n_invalid
           from marts.fct_course_marks where course_family = 'ALG1' group by all order by 1""",
    )
    assert got["after_code_change"].tolist() == [False, True]
    assert (got["n_codes"] >= 1).all() and (got["n_invalid"] == 0).all()


def _raw_graduation_cohorts(custodian) -> pd.DataFrame:
    """The four-year adjusted cohorts recomputed from the custodian's raw SENR files, as the
    docs define them (fct_graduation_cohorts, seed index_measures): a student joins the cohort
    of year + 12 - grade of a primary high-school enrolment (the earliest such), leaves it by a
    transfer out of the district (seed exit_reason_codes.leaves_cohort) unless they graduate,
    graduates by a completer exit with a standard diploma (seed completion_status_codes) by the
    cohort year, and counts at the school of last enrolment: the primary enrolment that
    started last up to the cohort year. One row per student token (made here, for the join)."""
    from p20 import keys
    from p20.paths import SEEDS_DIR
    from p20.policy import extracts

    names = [c.raw_column for c in extracts()["enrollments"].columns]
    frames = []
    for path in sorted((custodian / "raw").glob("SENR_*.txt")):
        lines = [line.split("^") for line in path.read_bytes().decode().split("\r\n") if line]
        frames.append(pd.DataFrame(lines, columns=names).assign(school_year=int(path.stem[-4:])))
    senr = pd.concat(frames, ignore_index=True)
    last_year = senr["school_year"].max()
    seed = lambda name: pd.read_csv(SEEDS_DIR / f"{name}.csv", dtype=str)  # noqa: E731
    statuses, exits, completions = seed("enrollment_status_codes"), seed("exit_reason_codes"), seed("completion_status_codes")
    senr = senr[senr["enrollment_status"].isin(statuses.query("is_primary == 'true'")["enrollment_status"])]
    distinct = sorted(set(senr["ssid"]))
    token = dict(zip(distinct, keys.tokenise_many(keys.load_master_key(custodian / "keys" / "master.key"), "student", distinct)[1], strict=True))
    senr = senr.assign(student_token=senr["ssid"].map(token))
    hs = senr[senr["grade_level"].isin(["09", "10", "11", "12"])]
    cohort = (hs["school_year"] + 12 - hs["grade_level"].astype(int)).groupby(hs["student_token"]).min()
    senr = senr.merge(cohort.rename("cohort_year"), left_on="student_token", right_index=True)
    senr = senr[senr["school_year"] <= senr["cohort_year"]]
    senr = senr.assign(
        graduates=senr["exit_reason"].isin(exits.query("is_completer == 'true'")["exit_reason"])
        & senr["completion_status"].isin(completions.query("is_standard_diploma == 'true'")["completion_status"]),
        leaves=senr["exit_reason"].isin(exits.query("leaves_cohort == 'true'")["exit_reason"]),
    )
    last = senr.sort_values(["school_year", "enrollment_start_date", "school_code"]).groupby("student_token").tail(1)
    out = senr.groupby("student_token").agg(is_graduate=("graduates", "any"), left=("leaves", "any"))
    out = out.join(last.set_index("student_token")[["cohort_year", "school_code"]]).reset_index()
    out = out[~(out["left"] & ~out["is_graduate"]) & (out["cohort_year"] <= last_year)]
    return out.rename(columns={"cohort_year": "school_year"})[["student_token", "school_year", "school_code", "is_graduate"]]


def assert_graduation_matches_raw(zones, min_schools: int = 1) -> None:
    """Graduation by cohort year and school, in fct_graduation_cohorts and in the index's
    graduation measure, equals the raw recomputation student for student. Messages carry
    cohort years, school codes and counts, never a token (so no frame in an assert)."""
    raw = _raw_graduation_cohorts(zones.custodian)
    got = mart(zones, "select student_token, school_year, school_code, is_graduate from marts.fct_graduation_cohorts")
    both = raw.merge(got, on="student_token", how="outer", suffixes=("_raw", "_mart"), indicator=True)
    n_students, n_schools = len(raw), raw["school_code"].nunique()
    assert n_students > 100 and n_schools >= min_schools, (n_students, n_schools)
    differ = both[
        (both["_merge"] != "both")
        | (both["school_year_raw"] != both["school_year_mart"])
        | (both["school_code_raw"] != both["school_code_mart"])
        | (both["is_graduate_raw"] != both["is_graduate_mart"])
    ]
    where = differ.groupby(["school_year_raw", "school_code_raw", "school_code_mart"], dropna=False).size()
    n_differ = len(differ)
    assert n_differ == 0, f"{n_differ} students differ (cohort year, raw school, mart school: count):\n{where}"
    cells = raw.groupby(["school_year", "school_code"])["is_graduate"].agg(n_students="size", n_graduates="sum").reset_index()
    cells["measure_value"] = (100.0 * cells["n_graduates"] / cells["n_students"]).round(1)  # published to 1 decimal
    measure = mart(
        zones,
        """select school_year, school_code, n_students, measure_value from marts.fct_school_measures
           where measure = 'graduation' and reporting_group = 'all'""",
    )
    m = cells.merge(measure, on=["school_year", "school_code"], how="outer", suffixes=("_raw", "_mart"), indicator=True)
    wrong = m[(m["_merge"] != "both") | (m["n_students_raw"] != m["n_students_mart"])
              | ((m["measure_value_raw"] - m["measure_value_mart"]).abs() > 1.1e-4)]
    n_wrong = len(wrong)
    assert n_wrong == 0, wrong[["school_year", "school_code", "n_students_raw", "n_students_mart", "measure_value_raw", "measure_value_mart"]]


def test_graduation_cohorts_equal_a_recomputation_from_the_raw_extracts(tiny_run):
    """Cohort membership and graduation, student for student (tiny has one high school: the
    attribution to the school of last enrolment is proven on small, test_small_preset.py)."""
    assert_graduation_matches_raw(tiny_run)
