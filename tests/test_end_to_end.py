"""The spine end to end on the tiny preset: marts reproduce the generator's planted truth,
and running the whole thing again changes nothing."""

import pandas as pd

from conftest import copy_zones, mart, n_extract_files, tree_snapshot


def test_census_day_counts_by_year_and_grade_match_truth(tiny_run):
    truth = pd.read_csv(
        tiny_run.custodian / "truth" / "census_students_by_year_grade.csv", dtype={"grade_level": str}
    )
    got = mart(
        tiny_run,
        """select school_year, grade_level, count(*) as n_students
           from marts.fct_student_years where is_enrolled_on_census_day group by all""",
    )
    merged = truth.merge(got, on=["school_year", "grade_level"], how="outer", suffixes=("_truth", "_mart"))
    assert len(truth) == 130  # 10 years x 13 grades
    assert (merged["n_students_truth"] == merged["n_students_mart"]).all(), merged[
        merged["n_students_truth"] != merged["n_students_mart"]
    ]


def test_census_day_counts_by_school_match_truth(tiny_run):
    truth = pd.read_csv(
        tiny_run.custodian / "truth" / "census_students_by_year_school.csv", dtype={"school_code": str}
    )
    got = mart(
        tiny_run,
        """select school_year, primary_school_code as school_code, count(*) as n_students
           from marts.fct_student_years where is_enrolled_on_census_day group by all""",
    )
    merged = truth.merge(got, on=["school_year", "school_code"], how="outer")
    assert (merged["n_students_x"] == merged["n_students_y"]).all()


def test_every_enrolled_student_has_one_student_year(tiny_run):
    truth = pd.read_csv(tiny_run.custodian / "truth" / "students_by_year.csv")
    got = mart(tiny_run, "select school_year, count(*) as n from marts.fct_student_years group by all")
    merged = truth.merge(got, on="school_year")
    assert len(merged) == 10
    assert (merged["n_students_any_enrollment"] == merged["n"]).all()


def test_mid_year_movers_keep_one_row_per_year(tiny_run):
    movers = mart(
        tiny_run,
        "select count(*) as n from marts.fct_student_years where n_primary_spans > 1",
    )["n"][0]
    assert movers > 10  # the generator plants about 4% movers a year


def test_second_demo_changes_nothing(tiny_run, tmp_path):
    zones = copy_zones(tiny_run, tmp_path / "again")
    before = mart(zones, "select count(*) as n from marts.fct_student_years")["n"][0]
    landed_before = tree_snapshot(zones.warehouse / "landed")
    proc = zones.p20("demo", "--preset", "tiny", "--seed", "7", check=True)
    assert f"0 landed, {n_extract_files()} unchanged, 0 rejected" in proc.stdout
    assert tree_snapshot(zones.warehouse / "landed") == landed_before
    assert mart(zones, "select count(*) as n from marts.fct_student_years")["n"][0] == before
    assert "Students enrolled on census day" in proc.stdout
    assert "5/5 audit" in proc.stdout and "audit: report" in proc.stdout  # exit 0: no findings
    # it ends by naming the charts it wrote (p20 report)
    assert proc.stdout.rstrip().endswith(str(zones.warehouse / "report" / "index.html"))
