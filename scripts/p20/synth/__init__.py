"""`p20 synth`: a synthetic ten-year district in the state's extract layouts, with its truth.

Cohorts move K-12 year by year (promotion, retention, entries, mid-year moves, exits,
graduation), vectorised over students with numpy: the only Python loop is over school years.
Raw extracts (with raw ids, names, birth dates) go to custodian/raw/ in CALPADS-style layouts
(caret-delimited, no header, CRLF; columns from seeds/extract_columns.csv); aggregate truths the
marts must reproduce go to custodian/truth/; with `faults`, deliberately broken extracts go to
custodian/faults/. The same seed gives byte-identical files.

- district.py: schools, students, enrolments (the population and its movement)
- outcomes.py: programs, EL status, courses/marks/sections/teachers, assessments, attendance,
  discipline, surveys (one school year, vectorised)
- truth.py: planted parameters and true rates for the study outcomes
- faults.py: the labelled broken extracts for gate tests

Extract files per school year (code: extract in seeds/extract_columns.csv):
SCHL schools, SINF students, SENR enrollments, SPRG programs, SELA english_learners,
CRSC course_sections, SCSC course_completions, CAAS assessments, STAS attendance,
SINC discipline_incidents, SIRS discipline_results, SASS staff_assignments, SSRV surveys.
Records with no district id (for `p20 link`), from linkage.py: raw/preschool/preschool_<year>.csv
and raw/nsc/nsc_detail_<year>.csv, with their truth (row -> SSID) in truth/linkage_*.csv.
"""

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from p20 import calibration as cal
from p20.errors import UsageError
from p20.policy import extracts
from p20.synth.district import (
    FIRST_YEAR,
    LAST_YEAR,
    MARKER,
    PRESETS,
    REPORTING_LEA,
    District,
    Preset,
    _academic_year,
    _yyyymmdd,
    calendar,
)
from p20.textio import atomic_dir, write_json_atomic

__all__ = ["PRESETS", "Preset", "generate", "synth_marker_matches", "calendar", "FIRST_YEAR", "LAST_YEAR"]


def _write_caret(extract: str, columns: dict[str, object], path: Path) -> int:
    """Write the extract's raw layout (column order from seeds/extract_columns.csv): caret
    delimited, no header, CRLF, blanks for missing values. Arrow's CSV writer does the
    formatting in C++, so the lausd preset's millions of rows stay cheap. Returns the row count."""
    layout = [c.raw_column for c in extracts()[extract].columns]
    n = next(len(v) for v in columns.values() if not isinstance(v, str | int))
    arrays = []
    for name in layout:
        value = columns[name]
        if isinstance(value, str | int):
            arrays.append(pa.repeat(pa.scalar(str(value)), n))
            continue
        value = np.asarray(value)
        if value.dtype.kind == "f":
            raise TypeError(f"{extract}.{name}: floats must be formatted before writing")
        arrays.append(pa.array(value, from_pandas=True) if value.dtype.kind == "O" else pa.array(value))
    table = pa.Table.from_arrays(arrays, names=layout)
    options = pacsv.WriteOptions(include_header=False, delimiter="^", eol="\r\n", quoting_style="none")
    pacsv.write_csv(table, path, write_options=options)
    return n


def synth_marker_matches(preset: str, seed: int, out_root: Path) -> bool:
    """Whether out_root/raw already holds this preset and seed (so a demo can keep it)."""
    marker = out_root / "raw" / MARKER
    if not marker.exists():
        return False
    params = json.loads(marker.read_text())["params"]
    return params["preset"] == preset and params["seed"] == seed


def _dates(values) -> np.ndarray:
    """CCYYMMDD, blank for missing dates."""
    v = np.asarray(values).astype("datetime64[D]")
    missing = np.isnat(v)
    return np.where(missing, "", _yyyymmdd(np.where(missing, np.datetime64("2000-01-01"), v)))


def _student_fields(code: str, year: int, s: pd.DataFrame, idx: np.ndarray, school_code) -> dict:
    """The CALPADS common first fields of a student-level file for rows of students `idx`."""
    return {
        "record_type": code,
        "transaction_type": "",
        "local_record_id": np.arange(len(idx)) + year * 10_000_000,
        "reporting_lea": REPORTING_LEA,
        "school_code": school_code,
        "academic_year": _academic_year(year),
        "ssid": s["ssid"].to_numpy()[idx],
        "local_student_id": s["local_id"].to_numpy()[idx],
        "first_name": s["first_name"].to_numpy()[idx],
        "last_name": s["last_name"].to_numpy()[idx],
        "birth_date": _yyyymmdd(s["birth_date"].to_numpy()[idx]),
        "gender": s["gender"].to_numpy()[idx],
    }


def write_year(district: District, out: dict, year: int, raw: Path) -> dict[str, int]:
    """Write every extract of one school year; returns rows per file code."""
    rows: dict[str, int] = {}
    academic_year = _academic_year(year)

    def put(code: str, extract: str, columns: dict) -> None:
        rows[code] = _write_caret(extract, columns, raw / f"{code}_{year}.txt")

    put("SCHL", "schools", {**district.schools.assign(reporting_lea=REPORTING_LEA, academic_year=academic_year)})
    s = out["students"]
    every = np.arange(len(s))
    put("SINF", "students", {**{c: s[c] for c in s.columns}, **_student_fields("SINF", year, s, every, s["school_code"])})
    e = out["enrollments"]
    idx = e["student_index"].to_numpy()
    put(
        "SENR",
        "enrollments",
        {
            **{c: e[c] for c in e.columns},
            **_student_fields("SENR", year, s, idx, e["school_code"]),
            "gender": e["gender"],
            "enrollment_start_date": _dates(e["start"].to_numpy()),
            "enrollment_status": "10",
            "exit_date": _dates(e["exit"].to_numpy()),
        },
    )
    main_school = out["main_school"]
    p = out["programs"]
    idx = p["student_index"].to_numpy()
    put(
        "SPRG",
        "programs",
        {
            **_student_fields("SPRG", year, s, idx, main_school[idx]),
            "program_code": p["program_code"].to_numpy(),
            "membership_code": p["membership_code"].to_numpy(),
            "program_start_date": _dates(out["main_start"][idx]),
            "program_end_date": "",
        },
    )
    el = out["english_learners"]
    put(
        "SELA",
        "english_learners",
        {
            **_student_fields("SELA", year, s, every, s["school_code"]),
            "elas_code": el["elas_code"].to_numpy(),
            "elas_start_date": _dates(el["elas_start"].to_numpy()),
            "primary_language": s["home_language"].to_numpy(),
        },
    )
    sec = out["course_sections"]
    put(
        "CRSC",
        "course_sections",
        {
            "record_type": "CRSC",
            "transaction_type": "",
            "local_record_id": np.arange(len(sec)) + year * 10_000_000,
            "reporting_lea": REPORTING_LEA,
            "school_code": sec["school_code"].to_numpy(),
            "academic_year": academic_year,
            "section_id": _section_ids(year, sec["sec_no"].to_numpy()),
            "state_course_code": sec["state_course_code"].to_numpy(),
            "local_course_id": sec["local_course_id"].to_numpy(),
            "course_name": sec["course_name"].to_numpy(),
            "seid": sec["seid"].to_numpy(),
            "local_staff_id": sec["local_staff_id"].to_numpy(),
            "academic_term": "FY",
            "uc_csu_approved": sec["uc_csu_approved"].to_numpy(),
        },
    )
    cf = out["course_completions"]
    idx = cf["student_index"].to_numpy()
    grades = np.array(["KN"] + [f"{g:02d}" for g in range(1, 13)])
    put(
        "SCSC",
        "course_completions",
        {
            **_student_fields("SCSC", year, s, idx, sec["school_code"].to_numpy()[cf["sec_no"].to_numpy()]),
            "grade_level": grades[s["grade"].to_numpy()[idx]],
            "state_course_code": cf["state_course_code"].to_numpy(),
            "local_course_id": cf["local_course_id"].to_numpy(),
            "section_id": _section_ids(year, cf["sec_no"].to_numpy()),
            "academic_term": "FY",
            "credits_attempted": cf["credits_attempted"].to_numpy(),
            "credits_earned": cf["credits_earned"].to_numpy(),
            "final_grade": cf["mark"].to_numpy(),
            "ag_code": cf["ag_code"].to_numpy(),
        },
    )
    a = out["assessments"]
    idx = a["student_index"].to_numpy()
    put(
        "CAAS",
        "assessments",
        {
            **_student_fields("CAAS", year, s, idx, main_school[idx]),
            **{c: a[c].to_numpy() for c in a.columns if c != "student_index"},
            "test_type": "SB",
            "completeness": "C",
            "administration_condition": "STD",
        },
    )
    at = out["attendance"]
    idx = at["student_index"].to_numpy()
    put(
        "STAS",
        "attendance",
        {
            **_student_fields("STAS", year, s, idx, at["school_code"].to_numpy()),
            **{c: at[c].to_numpy() for c in at.columns if c not in ("student_index", "school_code")},
        },
    )
    inc = out["incidents"]
    idx = inc["student_index"].to_numpy()
    common = _student_fields("SINC", year, s, idx, inc["school_code"].to_numpy())
    put(
        "SINC",
        "discipline_incidents",
        {
            **common,
            "incident_id": inc["incident_id"].to_numpy(),
            "incident_date": _dates(inc["incident_date"].to_numpy()),
            "offense_code": inc["offense_code"].to_numpy(),
        },
    )
    put(
        "SIRS",
        "discipline_results",
        {
            **common,
            "record_type": "SIRS",
            "incident_id": inc["incident_id"].to_numpy(),
            "result_code": inc["result_code"].to_numpy(),
            "duration_days": inc["duration_days"].to_numpy(),
        },
    )
    t = out["staff"]
    put(
        "SASS",
        "staff_assignments",
        {
            "record_type": "SASS",
            "transaction_type": "",
            "local_record_id": np.arange(len(t)) + year * 10_000_000,
            "reporting_lea": REPORTING_LEA,
            "school_code": district.schools["school_code"].to_numpy()[t["school"].to_numpy()],
            "academic_year": academic_year,
            "seid": t["seid"].to_numpy(),
            "local_staff_id": t["local_staff_id"].to_numpy(),
            "first_name": t["first_name"].to_numpy(),
            "last_name": t["last_name"].to_numpy(),
            "gender": t["gender"].to_numpy(),
            "job_classification": "12",
            "assignment_subject": t["subject"].to_numpy(),
            "credential_type": t["credential"].to_numpy(),
            "years_experience_total": t["exp_total"].to_numpy(),
            "years_experience_district": t["exp_district"].to_numpy(),
            "fte_percent": "100",
        },
    )
    v = out["surveys"]
    idx = v["student_index"].to_numpy()
    put(
        "SSRV",
        "surveys",
        {
            **_student_fields("SSRV", year, s, idx, main_school[idx]),
            **{c: v[c].to_numpy() for c in v.columns if c not in ("student_index", "survey_date")},
            "survey_date": _dates(v["survey_date"].to_numpy()),
        },
    )
    return rows


def _section_ids(year: int, sec_no: np.ndarray) -> np.ndarray:
    return (np.int64(year % 100) * 1_000_000 + sec_no.astype(np.int64) + 1).astype(str)


def _progress(preset: str, n_years: int):
    """A rich progress bar on a terminal for presets that take more than a few seconds."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn("synth {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} years"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=preset == "tiny" or not console.is_terminal,
    )


def generate(preset: str, seed: int, years: range, out_root: Path, faults: bool = False) -> dict:
    """Write raw extracts and truth for `years` under out_root/raw and out_root/truth (and, with
    faults, labelled broken extracts under out_root/faults)."""
    from p20.synth import truth as truth_mod
    from p20.synth.linkage import LinkageCollector

    if preset not in PRESETS:
        raise UsageError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if years.start < FIRST_YEAR - 10 or years.stop - 1 > LAST_YEAR + 5 or len(years) == 0:
        raise UsageError(f"years must lie within {FIRST_YEAR - 10}-{LAST_YEAR + 5}")
    params = {"preset": preset, "seed": seed, "years": [years.start, years.stop - 1], **asdict(PRESETS[preset])}
    raw, truth = out_root / "raw", out_root / "truth"
    marker = raw / MARKER
    if marker.exists() and json.loads(marker.read_text())["params"] != params:
        raise UsageError(
            f"{raw} holds synthetic data made with other settings; remove it or choose another "
            "P20_CUSTODIAN_DIR (nothing was overwritten)"
        )
    district = District(PRESETS[preset], np.random.default_rng(seed))
    collector = truth_mod.Truth(district)
    linkage = LinkageCollector()
    timings, row_counts = {}, {}
    with atomic_dir(raw) as raw_tmp, atomic_dir(truth) as truth_tmp, _progress(preset, len(years)) as bar:
        task = bar.add_task(preset, total=len(years))
        for year in years:
            started = time.perf_counter()
            true_first_names = district.students["first_name"].to_numpy().copy()  # before typos
            out = district.simulate_year(year)
            row_counts[year] = write_year(district, out, year, raw_tmp)
            collector.add_year(year, out)
            linkage.add_year(year, true_first_names, out)
            timings[year] = round(time.perf_counter() - started, 2)
            bar.advance(task)
        collector.write(truth_tmp)
        linkage.write(raw_tmp, truth_tmp, seed, years)
        pd.DataFrame(
            [{"school_year": y, "file_code": c, "rows": r} for y, counts in row_counts.items() for c, r in counts.items()]
        ).to_csv(truth_tmp / "rows_per_extract.csv", index=False)
        write_json_atomic(
            truth_tmp / "params.json",
            {"params": params, "calibration": {k: _jsonable(v) for k, v in vars(cal).items() if k.isupper()}},
        )
        write_json_atomic(raw_tmp / MARKER, {"params": params})
        if faults:
            from p20.synth.faults import write_faults

            with atomic_dir(out_root / "faults") as faults_tmp:
                write_faults(raw_tmp, faults_tmp, years.stop - 1, np.random.default_rng([seed, 5]))
    return params


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value
