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
