"""The grade-8 algebra marts, checked three ways: recomputed from the raw synthetic extracts
(custodian zone, raw ids, pandas; not from dbt) the counts per school and year match exactly;
the take-up rates match the generator's planted per-school truth within sampling error; and
no aggregate (agg_ mart) shows a count or rate for a group under the minimum size, leaves a
hidden cell that a published total gives away (within a school or the district, or across the
schools against the district row), or shows a rate or count near 0% or 100% that top/bottom
coding should hide."""

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd

from conftest import REPO, mart
from p20.keys import normalise_id
from p20.policy import extract_by_raw_code, project_var

SEEDS = REPO / "seeds"


def raw_extract(raw_dir: Path, code: str, columns: list[str]) -> pd.DataFrame:
    """All ten years of one raw extract (caret-delimited, no header), named by the column policy."""
    names = [c.raw_column for c in extract_by_raw_code()[code].columns]
    frames = [
        pd.read_csv(path, sep="^", header=None, names=names, dtype=str, keep_default_na=False,
                    usecols=columns, quoting=csv.QUOTE_NONE)
        for path in sorted(raw_dir.glob(f"{code}_*.txt"))
    ]
    frame = pd.concat(frames, ignore_index=True)
    frame["school_year"] = frame["academic_year"].str[-4:].astype(int)
    # The district writes one student's id in several forms (spaces, case, leading zeros):
    # the same normalisation the custodian applies before hashing links them.
    forms = frame["ssid"].unique()
    frame["ssid"] = frame["ssid"].map(dict(zip(forms, map(normalise_id, forms), strict=True)))
    return frame


def census_day(year: int) -> pd.Timestamp:
    """First Wednesday in October of the fall year."""
    first = pd.Timestamp(year - 1, 10, 1)
    return first + pd.Timedelta(days=(2 - first.weekday()) % 7)


def recompute_grade8_algebra(raw_dir: Path) -> pd.DataFrame:
    """Per school year and school: grade-8 census students, how many took and passed Algebra I
    (or equivalent/higher) by grade 8, and how many were algebra-ready, from raw extracts."""
    enr = raw_extract(raw_dir, "SENR", ["academic_year", "ssid", "school_code", "enrollment_start_date",
                                        "enrollment_status", "grade_level", "exit_date"])
    enr = enr[enr["enrollment_status"] == "10"].copy()
    enr["start"] = pd.to_datetime(enr["enrollment_start_date"], format="%Y%m%d")
    enr["end"] = pd.to_datetime(enr["exit_date"].replace("", None), format="%Y%m%d")
    enr["census"] = enr["school_year"].map(census_day)
    # Enrolled on census day; of overlapping records the later start wins.
    on_census = enr[(enr["start"] <= enr["census"]) & (enr["end"].isna() | (enr["end"] >= enr["census"]))]
    on_census = on_census.sort_values("start").drop_duplicates(["ssid", "school_year"], keep="last")
    grade8 = on_census[on_census["grade_level"] == "08"][["ssid", "school_year", "school_code"]]
    # Grade 7 the year before: the census-day record, else the first record of the year.
    first = enr.sort_values("start").drop_duplicates(["ssid", "school_year"], keep="first")
    year_grade = pd.concat([on_census, first]).drop_duplicates(["ssid", "school_year"], keep="first")
    grade7 = year_grade[year_grade["grade_level"] == "07"][["ssid", "school_year"]]

    families = pd.read_csv(SEEDS / "course_families.csv")
    codes = pd.read_csv(SEEDS / "course_codes.csv", dtype={"state_course_code": str}).merge(families, on="course_family")
    points = pd.read_csv(SEEDS / "marks.csv").set_index("final_grade")["grade_points"]
    marks = raw_extract(raw_dir, "SCSC", ["academic_year", "ssid", "state_course_code", "final_grade", "academic_term"])
    marks = marks.merge(codes, on="state_course_code")  # mathematics courses only
    marks["points"] = marks["final_grade"].map(points)
    marks["alg"] = marks["is_algebra1_or_higher"]
    marks["passed"] = marks["alg"] & (marks["points"] >= points[project_var("algebra_pass_min_mark")])

    g8 = grade8.merge(marks[["ssid", "school_year", "alg", "passed"]].rename(columns={"school_year": "course_year"}),
                      on="ssid", how="left")
    g8 = g8[g8["course_year"].isna() | (g8["course_year"] <= g8["school_year"])]
    outcome = g8.groupby(["ssid", "school_year"])[["alg", "passed"]].agg(lambda s: bool(s.fillna(False).any()))

    # Readiness: grade-7 math level (from scale score and cut scores) and grade-7 math mark.
    scales = pd.read_csv(SEEDS / "assessment_scales.csv", dtype={"grade_assessed": str})
    tests = raw_extract(raw_dir, "CAAS", ["academic_year", "ssid", "subject", "grade_assessed", "scale_score"])
    tests = tests[tests["subject"] == "MATH"].merge(scales, on=["subject", "grade_assessed"])
    score = tests["scale_score"].astype(int)
    tests["level"] = 1 + (score >= tests["level2_min_score"]).astype(int) + (score >= tests["level3_min_score"]).astype(int) \
        + (score >= tests["level4_min_score"]).astype(int)
    best = marks.sort_values(["math_sequence_rank", "academic_term", "points"]).drop_duplicates(["ssid", "school_year"], keep="last")
    g7 = grade7.merge(tests[["ssid", "school_year", "level"]], on=["ssid", "school_year"], how="left") \
               .merge(best[["ssid", "school_year", "points"]], on=["ssid", "school_year"], how="left")
    g7["ready"] = (g7["level"] >= int(project_var("algebra_ready_min_g7_math_level"))) \
        & (g7["points"] >= points[project_var("algebra_ready_min_g7_math_mark")])
    g7["school_year"] += 1  # predictors of the grade-8 year

    students = grade8.merge(outcome.reset_index(), on=["ssid", "school_year"], how="left") \
                     .merge(g7[["ssid", "school_year", "ready"]], on=["ssid", "school_year"], how="left")
    students = students.fillna({"alg": False, "passed": False, "ready": False})
    return students.groupby(["school_year", "school_code"]).agg(
        n_students=("ssid", "size"), n_took=("alg", "sum"), n_passed=("passed", "sum"), n_ready=("ready", "sum")
    ).reset_index()


def mart_counts(zones) -> pd.DataFrame:
    return mart(
        zones,
        """select school_year, school_code, count(*) as n_students,
                  count(*) filter (where took_algebra1_by_grade8) as n_took,
                  count(*) filter (where passed_algebra1_by_grade8) as n_passed,
                  count(*) filter (where is_algebra_ready) as n_ready
           from marts.fct_grade8_algebra group by all""",
    )


def assert_algebra_counts_match_raw(zones) -> pd.DataFrame:
    expected = recompute_grade8_algebra(zones.custodian / "raw")
    got = mart_counts(zones)
    merged = expected.merge(got, on=["school_year", "school_code"], how="outer", suffixes=("_raw", "_mart"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    for c in ["n_students", "n_took", "n_passed", "n_ready"]:
        wrong = merged[merged[f"{c}_raw"] != merged[f"{c}_mart"]]
        assert wrong.empty, wrong
    return merged


def test_algebra_counts_match_a_recomputation_from_raw_extracts(tiny_run):
    merged = assert_algebra_counts_match_raw(tiny_run)
    assert merged["n_took_mart"].sum() > 20 and merged["n_ready_mart"].sum() > 20


def test_algebra_take_up_matches_planted_school_rates(tiny_run):
    """The mart's grade-8 Algebra I take-up per school (pooled over years) lies within three
    standard errors of the generator's truth (its population: grade-8 students with a math mark)."""
    truth = pd.read_csv(tiny_run.custodian / "truth" / "algebra_grade8_by_school_year.csv", dtype={"school_code": str})
    truth = truth.groupby("school_code")[["n_grade8", "n_took_algebra1"]].sum()
    got = mart_counts(tiny_run).groupby("school_code")[["n_students", "n_took"]].sum()
    both = truth.join(got, how="inner")
    assert len(both) == len(truth) and len(both) >= 2
    p_truth = both["n_took_algebra1"] / both["n_grade8"]
    p_mart = both["n_took"] / both["n_students"]
    se = np.sqrt(p_truth * (1 - p_truth) / both["n_students"]).clip(lower=1 / both["n_students"])
    assert ((p_mart - p_truth).abs() <= 3 * se).all(), pd.DataFrame({"truth": p_truth, "mart": p_mart, "se": se})


def aggregate_marts(zones) -> dict[str, pd.DataFrame]:
    tables = mart(zones, "select table_name from information_schema.tables "
                         "where table_schema = 'marts' and table_name like 'agg_%'")["table_name"].tolist()
    return {table: mart(zones, f"select * from marts.{table}") for table in sorted(tables)}


def subgroup_tables(marts: dict[str, pd.DataFrame]):
    """Each agg_ mart as cells of subgroup tables (macros/subgroups.sql): (name, cells, table
    columns, unit column, whether columns run across units). A school-level mart whose
    district-level twin is published is joined to it, the district as one more unit, so that a
    group is also a column across the schools with the district's row as its total."""
    for table, rows in marts.items():
        if "__district_" in table and table.replace("__district_", "__school_") in marts:
            continue  # checked with its school-level twin
        table_columns = [c for c in ("school_year", "subject") if c in rows.columns]
        unit = "school_code" if "school_code" in rows.columns else None
        district = marts.get(table.replace("__school_", "__district_")) if unit else None
        if district is not None:
            rows = pd.concat([rows, district.assign(school_code="district")], ignore_index=True)
        yield table, rows, table_columns, unit, district is not None


def lone_hidden_lines(cells: pd.DataFrame, hidden: pd.Series, table_columns, unit, across) -> list[tuple]:
    """The rows (a unit's groups of one type with the unit's all-students total) and columns (one
    group across the units) that hold exactly one hidden cell: a total minus the shown cells
    would give that one away. Keys only, never counts."""
    cells = cells.assign(hidden=hidden.to_numpy())
    lone = []
    for key, unit_cells in cells.groupby(table_columns + ([unit] if unit else [])):
        total = unit_cells.loc[unit_cells["subgroup_type"] == "all", "hidden"].sum()
        parts = unit_cells[unit_cells["subgroup_type"] != "all"].groupby("subgroup_type")["hidden"].sum()
        lone += [("row", key, t) for t, n in (parts + total).items() if n == 1]
    if across:
        columns = cells.groupby(table_columns + ["subgroup_type", "subgroup_value"])["hidden"].sum()
        lone += [("column", key) for key, n in columns.items() if n == 1]
    return lone


def published_rates(rows: pd.DataFrame):
    """(rate, its count column or None, its denominator column) for each rate a mart publishes."""
    for rate in [c for c in rows.columns if c.startswith("pct_") and not c.endswith(("_coded", "_gap_to_all"))]:
        count = "n_" + rate.removeprefix("pct_")
        yield rate, count if count in rows.columns else None, "n_ready_known" if rate == "pct_ready" else "n_students"


def test_suppression_shows_no_small_group_and_leaves_no_lone_hidden_cell(tiny_run):
    """Every agg_ mart: a suppressed row shows no count or rate; a shown row has at least the
    minimum group size; and no row of a subgroup table (a unit's groups of one type, with its
    all-students total) and no column (one group across the schools, with the district's row,
    where a district mart publishes the same groups) holds exactly one hidden cell, be it a
    suppressed group or a count hidden beside a coded rate: the total minus the others would
    reveal it."""
    minimum = int(project_var("min_group_size"))
    marts = aggregate_marts(tiny_run)
    assert len(marts) >= 4
    n_suppressed = n_across = 0
    for table, rows in marts.items():
        # a suppressed size shows no rate; a count beside it is one the solver left shown (a
        # group hidden to protect another may show its outcome counts: the audit checks them)
        rates = [c for c in rows.columns if c.startswith("pct_") and not c.endswith("_coded")]
        hidden = rows[rows["is_suppressed"]]
        n_suppressed += len(hidden)
        assert hidden[rates].isna().all().all(), f"{table} shows a rate of a suppressed group"
        assert (rows.loc[~rows["is_suppressed"], "n_students"] >= minimum).all(), table
    for table, cells, table_columns, unit, across in subgroup_tables(marts):
        n_across += across
        flags = {"is_suppressed": cells["is_suppressed"]}
        flags.update({rate: cells[rate].isna() for rate, _, _ in published_rates(cells)})
        for flag, hidden in flags.items():
            lone = lone_hidden_lines(cells, hidden, table_columns, unit, across)
            assert not lone, f"{table}: {len(lone)} lines with a lone cell hidden by {flag}, e.g. {lone[0]}"
    assert n_across == 1, "the algebra school and district marts are checked as one table"
    assert n_suppressed > 0 and not math.isnan(n_suppressed)


def test_suppression_codes_rates_that_would_reveal_all_or_none(tiny_run):
    """Every rate an agg_ mart publishes lies more than its size band's bound (var
    p20:pct_coding_bands) from 0% and 100%, so that no rate or count says that (nearly) all or
    none of a small group had an outcome; a coded rate is null beside its code ('<=b', '>=c'
    or 'withheld') and shows no count, and no gap to all students gives a hidden rate away."""
    bands = sorted(project_var("pct_coding_bands"), key=lambda band: band["min_students"])

    def bound(n: float) -> float:
        """The bound of the band with the largest min_students <= n (smaller groups: the first)."""
        fitting = [band["bound_pct"] for band in bands if n >= band["min_students"]]
        return fitting[-1] if fitting else bands[0]["bound_pct"]

    labels = {f"<={b['bound_pct']}" for b in bands} | {f">={100 - b['bound_pct']}" for b in bands} | {"withheld"}
    n_rates = n_coded = 0
    for table, rows in aggregate_marts(tiny_run).items():
        for rate, count, denominator in published_rates(rows):
            n_rates += 1
            shown = rows[rows[rate].notna()]
            b = shown[denominator].map(bound)
            assert ((shown[rate] >= b) & (shown[rate] <= 100 - b)).all(), f"{table}.{rate} near 0% or 100%"
            if count:  # where the denominator is shown, a count is shown exactly when its rate is
                known = rows[rows[denominator].notna()]
                assert known[count].isna().equals(known[rate].isna()), f"{table}.{count} beside a coded {rate}"
                c, n = shown[count], shown[denominator]
                assert ((100 * c > b * n) & (100 * (n - c) > b * n)).all(), f"{table}.{count} near none or all"
            assert f"{rate}_coded" in rows, f"{table}.{rate} has no code column"
            code = rows[f"{rate}_coded"]
            assert code.dropna().isin(labels).all(), f"{table}.{rate}_coded: {sorted(set(code.dropna()) - labels)}"
            no_rate = rows["is_suppressed"] | rows[denominator].isna() | (rows[denominator] == 0)
            assert (no_rate | rows[rate].notna() | code.notna()).all(), f"{table}.{rate}: null, no code"
            assert rows.loc[code.notna(), rate].isna().all(), f"{table}.{rate}: a coded rate is shown"
            n_coded += int((code.notna() & (code != "withheld")).sum())
        for gap in [c for c in rows.columns if c.startswith("pct_") and c.endswith("_gap_to_all")]:
            rate = gap.removesuffix("_gap_to_all")
            keys = [c for c in ("school_year", "subject") if c in rows.columns]
            all_hidden = rows[rows["subgroup_type"] == "all"].set_index(keys)[rate].isna()
            beside_hidden = rows[rate].isna() | all_hidden.reindex(pd.MultiIndex.from_frame(rows[keys])).to_numpy()
            assert rows.loc[beside_hidden, gap].isna().all(), f"{table}.{gap} gives a hidden {rate} away"
    assert n_rates >= 4 and n_coded > 0
