"""The generator's truth: planted parameters and the true rates of the study outcomes, as
aggregates (no raw ids), for tests to check marts against. Files under truth/:

- params.json: preset, seed and every calibration constant (p20.calibration)
- planted.json: beat-the-odds school codes, peer-effect coefficients, effect sizes
- school_effects.csv: per school: SES index, math/ELA/algebra/absence effects, beat-the-odds
- census_students_by_year_grade.csv, census_students_by_year_school.csv, students_by_year.csv
- demographics_by_year.csv: shares of race/ethnicity, FRL, SED, EL, SWD among SINF students
- algebra_grade8_by_school_year.csv / algebra_grade8_by_subgroup_year.csv: grade-8 students
  with a math mark; of them, how many took Algebra I and passed it (mark at or above var
  p20:algebra_pass_min_mark, C: the marts' mark, so tests compare like with like)
- chronic_absence_by_school_year.csv: STAS rows with >= 31 expected days; chronic when
  (expected - attended) / expected >= 0.10
- suspension_by_school_year.csv: students with an SENR record at the school; suspended when
  they have an SIRS result 100 or 110 at that school
- el_reclassification_by_year.csv: EL at the start of the year, reclassified (EL -> RFEP) in it
"""

from pathlib import Path

import numpy as np
import pandas as pd

from p20 import calibration as cal
from p20.policy import project_var, read_seed
from p20.textio import write_json_atomic


def passed_algebra(marks: pd.Series) -> np.ndarray:
    """Marks at or above var p20:algebra_pass_min_mark (seed marks' grade points), as the marts read them."""
    points = {r["final_grade"]: int(r["grade_points"]) for r in read_seed("marks")}
    return (marks.map(points) >= points[project_var("algebra_pass_min_mark")]).to_numpy()


class Truth:
    def __init__(self, district):
        self.d = district
        self.parts: dict[str, list[pd.DataFrame]] = {}

    def _add(self, name: str, frame: pd.DataFrame) -> None:
        self.parts.setdefault(name, []).append(frame)

    def add_year(self, year: int, out: dict) -> None:
        census = out["census_truth"]
        self._add("census", census)
        s, person = out["students"], out["person"]
        self._add("students_by_year", pd.DataFrame([{"school_year": year, "n_students_any_enrollment": len(s)}]))

        # Demographics of the SINF population.
        n = len(s)
        shares = {f"share_{r}": (s["race_ethnicity"] == r).mean() for r in cal.RACE_ETHNICITY_SHARES}
        shares.update(
            share_frl=person["frl"].mean(),
            share_sed=person["sed"].mean(),
            share_el=person["el"].mean(),
            share_swd=person["swd"].mean(),
            share_spanish_home_language=(s["home_language"] == "01").mean(),
        )
        self._add("demographics", pd.DataFrame([{"school_year": year, "n_students": n, **shares}]))

        # Grade-8 algebra: students with a grade-8 math mark.
        cf = out["course_completions"]
        g8 = cf[person["grade"].to_numpy()[cf["student_index"].to_numpy()] == 8]
        sec = out["course_sections"]
        g8 = pd.DataFrame(
            {
                "school_code": sec["school_code"].to_numpy()[g8["sec_no"].to_numpy()],
                "took": (g8["family"] == "ALG1").to_numpy(),
                "passed": (g8["family"] == "ALG1").to_numpy() & passed_algebra(g8["mark"]),
                "student_index": g8["student_index"].to_numpy(),
            }
        )
        by_school = _tally(g8["school_code"], "school_code", n_grade8=None, n_took_algebra1=g8["took"],
                           n_passed_algebra1=g8["passed"])
        self._add("algebra_school", _rates(by_school.assign(school_year=year)))
        p8 = person.iloc[g8["student_index"].to_numpy()].reset_index(drop=True)
        subgroups = {
            "all": pd.Series("all", index=p8.index),
            "race_ethnicity": p8["race_ethnicity"],
            "frl": p8["frl"].map({True: "Y", False: "N"}),
            "sed": p8["sed"].map({True: "Y", False: "N"}),
            "el": p8["el"].map({True: "Y", False: "N"}),
            "swd": p8["swd"].map({True: "Y", False: "N"}),
            "gender": p8["gender"],
        }
        for kind, values in subgroups.items():
            agg = _tally(values, "subgroup", n_grade8=None, n_took_algebra1=g8["took"], n_passed_algebra1=g8["passed"])
            agg = agg.assign(school_year=year, subgroup_type=kind)
            self._add("algebra_subgroup", _rates(agg))

        # Chronic absence per school (STAS rows).
        at = out["attendance"]
        elig = at[at["days_expected"] >= cal.CHRONIC_ABSENCE_MIN_DAYS]
        chronic = (elig["days_expected"] - elig["days_attended"]) / elig["days_expected"] >= cal.CHRONIC_ABSENCE_THRESHOLD
        ca = _tally(elig["school_code"], "school_code", n_eligible=None, n_chronically_absent=chronic)
        ca["chronic_absence_rate"] = (ca["n_chronically_absent"] / ca["n_eligible"]).round(6)
        self._add("chronic", ca.assign(school_year=year))

        # Suspension per school: cumulative enrolment and students with a suspension there.
        e = out["enrollments"]
        enrolled = e[["student_index", "school_code"]].drop_duplicates()
        inc = out["incidents"]
        susp = inc[inc["result_code"].isin(["100", "110"])][["student_index", "school_code"]].drop_duplicates()
        was_suspended = pd.MultiIndex.from_frame(enrolled).isin(pd.MultiIndex.from_frame(susp))
        sp = _tally(enrolled["school_code"], "school_code", n_enrolled=None, n_suspended=was_suspended)
        sp["suspension_rate"] = (sp["n_suspended"] / sp["n_enrolled"]).round(6)
        self._add("suspension", sp.assign(school_year=year))

        el = out["english_learners"]
        self._add(
            "reclass",
            pd.DataFrame(
                [
                    {
                        "school_year": year,
                        "n_el_at_start": int(person["el"].sum()),
                        "n_reclassified": int(el["reclassified"].sum()),
                        "n_el_at_end": int((el["elas_code"] == "EL").sum()),
                        "n_rfep_at_end": int((el["elas_code"] == "RFEP").sum()),
                    }
                ]
            ),
        )
        districtwide = {
            "school_year": year,
            "chronic_absence_rate": float(chronic.mean()) if len(chronic) else 0.0,
            "suspension_rate": float(susp["student_index"].nunique() / max(1, enrolled["student_index"].nunique())),
            "grade8_algebra1_rate": float(g8["took"].mean()) if len(g8) else 0.0,
            "grade8_algebra1_pass_rate_of_takers": float(g8.loc[g8["took"], "passed"].mean()) if g8["took"].any() else 0.0,
            "el_reclassification_rate": float(el["reclassified"].sum() / max(1, person["el"].sum())),
        }
        self._add("district", pd.DataFrame([districtwide]))

    def write(self, folder: Path) -> None:
        def cat(name):
            return pd.concat(self.parts[name], ignore_index=True)

        census = cat("census")
        by_grade = census.groupby(["school_year", "grade_level"]).size().rename("n_students").reset_index()
        by_school = census.groupby(["school_year", "school_code"]).size().rename("n_students").reset_index()
        by_grade.to_csv(folder / "census_students_by_year_grade.csv", index=False)
        by_school.to_csv(folder / "census_students_by_year_school.csv", index=False)
        cat("students_by_year").to_csv(folder / "students_by_year.csv", index=False)
        cat("demographics").round(6).to_csv(folder / "demographics_by_year.csv", index=False)
        front = ["school_year", "school_code"]
        for name, file in (
            ("algebra_school", "algebra_grade8_by_school_year.csv"),
            ("chronic", "chronic_absence_by_school_year.csv"),
            ("suspension", "suspension_by_school_year.csv"),
        ):
            f = cat(name)
            f[front + [c for c in f.columns if c not in front]].sort_values(front).to_csv(folder / file, index=False)
        f = cat("algebra_subgroup")
        front = ["school_year", "subgroup_type", "subgroup"]
        f[front + [c for c in f.columns if c not in front]].sort_values(front).to_csv(
            folder / "algebra_grade8_by_subgroup_year.csv", index=False
        )
        cat("reclass").to_csv(folder / "el_reclassification_by_year.csv", index=False)
        cat("district").round(6).to_csv(folder / "district_rates_by_year.csv", index=False)
        sc = self.d.schools
        cols = [
            "school_code", "school_type", "low_grade", "high_grade", "ses_index", "math_effect", "ela_effect",
            "algebra_placement_effect", "absence_effect", "climate_effect", "is_beat_the_odds", "is_integrated_math",
        ]
        sc[cols].round(6).to_csv(folder / "school_effects.csv", index=False)
        t = self.d.teachers
        write_json_atomic(
            folder / "planted.json",
            {
                "beat_the_odds_school_codes": sorted(sc.loc[sc["is_beat_the_odds"], "school_code"].tolist()),
                "beat_the_odds_boost": cal.BEAT_THE_ODDS_BOOST,
                "peer_effect": {
                    "unit": "math section in grades 6-12, school and grade in K-5",
                    "reference_groups": cal.PEER_REFERENCE_GROUP,
                    "same_group_coefficient": cal.PEER_SAME_GROUP,
                    "other_groups_coefficient": cal.PEER_OTHER_GROUPS,
                    "low_achiever_boost": cal.PEER_LOW_ACHIEVER_BOOST,
                    "formula": "(same * loo_mean_ability_same_group + other * mean_ability_other_groups)"
                    " * (1 + boost * max(0, -ability))",
                },
                "achievement": {
                    "ability_loading": cal.ABILITY_LOADING,
                    "noise_sd": cal.ACHIEVEMENT_NOISE_SD,
                    "school_effect_sd": cal.SCHOOL_EFFECT_SD,
                    "teacher_effect_sd": cal.TEACHER_EFFECT_SD,
                    "novice_teacher_penalty": cal.NOVICE_PENALTY,
                    "gaps": cal.GAP,
                },
                "algebra_grade8_placement_logit": {
                    "intercept": cal.ALG_B0,
                    "grade7_math_z": cal.ALG_PRIOR_MATH,
                    "grade7_attendance_rate_minus_0_95_times_10": cal.ALG_ATTENDANCE,
                    "suspended_in_grade7": cal.ALG_SUSPENDED,
                    "school_effect_sd": cal.ALG_SCHOOL_SD,
                },
                "n_teachers_last_year": int(len(t)),
                "teacher_effect_sd_realised_last_year": round(float(np.std(t["base_effect"])), 6) if len(t) else 0.0,
            },
        )


def _tally(keys, name: str, **columns) -> pd.DataFrame:
    """Per distinct key (sorted): the row count (a column given as None) or the sum of a
    boolean/number column. np.bincount instead of a pandas groupby: tiny runs stay fast."""
    codes, uniques = pd.factorize(np.asarray(keys), sort=True)
    out = {name: uniques}
    for col, values in columns.items():
        weights = None if values is None else np.asarray(values, dtype=float)
        out[col] = np.bincount(codes, weights=weights, minlength=len(uniques)).astype(int)
    return pd.DataFrame(out)


def _rates(f: pd.DataFrame) -> pd.DataFrame:
    f = f.copy()
    f["rate_took_algebra1"] = (f["n_took_algebra1"] / f["n_grade8"]).round(6)
    f["rate_passed_algebra1"] = (f["n_passed_algebra1"] / f["n_grade8"]).round(6)
    return f
