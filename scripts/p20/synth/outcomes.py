"""One school year of outcomes for every student, vectorised: programs, English-learner status,
math courses and marks (with sections and teachers), assessments, attendance, discipline and
surveys; then the traits that carry into next year (grade-7 achievement, attendance and
suspension for grade-8 algebra placement, math level, reclassification).

The planted structure and its parameters are in p20.calibration; per-school truths are
derived from the frames returned here (p20.synth.truth).
"""

import numpy as np
import pandas as pd

from p20 import calibration as cal

# Math course families: (state course code until 2018-19, from 2019-20, local course id, name,
# level reached when passed). Codes marked ~ in seeds/course_codes.csv.
COURSES = {
    "MATH6": ("2434", "9240", "MTH06", "Mathematics 6", 0),
    "MATH7": ("2435", "9240", "MTH07", "Mathematics 7", 0),
    "MATH8": ("2436", "9240", "MTH08", "Mathematics 8", 0),
    "ALG1": ("2437", "9249", "ALG1Y", "Algebra I", 1),
    "GEOM": ("2438", "9255", "GEOMY", "Geometry", 2),
    "ALG2": ("2439", "9257", "ALG2Y", "Algebra II", 3),
    "INT1": ("2440", "9241", "IM1YR", "Integrated Math I", 1),
    "INT2": ("2441", "9242", "IM2YR", "Integrated Math II", 2),
    "INT3": ("2442", "9243", "IM3YR", "Integrated Math III", 3),
    "PRECALC": ("2414", "9259", "PRECL", "Precalculus", 4),
}
FAMILIES = np.array(list(COURSES))
CODE_SWITCH_YEAR = 2020  # state course codes changed in 2019-20
MARKS = np.array(["A", "B", "C", "D", "F"])
TEST_DAY = (4, 20)  # testing window: enrolled on 20 April
SURVEY_CONSTRUCTS = (
    "growth_mindset",
    "self_efficacy",
    "self_management",
    "social_awareness",
    "climate_support_learning",
    "sense_of_belonging",
    "fairness_of_discipline",
    "safety",
)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _days(a, b):
    """Whole days from a to b (datetime64[D] arrays)."""
    return (b - a).astype("timedelta64[D]").astype(np.int64)


def simulate_outcomes(d, ctx: dict) -> dict:
    rng, s, sc = d.rng, d.students, d.schools
    year = ctx["year"]
    n = len(s)
    first = np.datetime64(f"{year - 1}-08-15")
    last = np.datetime64(f"{year}-06-10")
    grade = s["grade"].to_numpy().astype(int)
    main_school = ctx["main_school"]
    main_start, main_end = ctx["main_start"], ctx["main_end"]
    sidx = d.school_index.get_indexer(main_school)
    race = s["race_ethnicity"].to_numpy()
    ability = s["ability"].to_numpy()
    frl = s["frl"].to_numpy()
    swd = s["swd"].to_numpy()

    # ---------------------------------------------------------------- programs and EL status
    elas = s["elas"].to_numpy().copy()
    english = s["home_language"].to_numpy() == "00"
    tbd = elas == "TBD"
    resolved = np.where(english, "EO", np.where(rng.random(n) < cal.P_TBD_BECOMES_EL_NON_ENGLISH, "EL", "IFEP"))
    # A TBD status from an earlier year resolves at the start of this one.
    old_tbd = tbd & (s["elas_start"].to_numpy() < first)
    elas = np.where(old_tbd, resolved, elas)
    elas_start = np.where(old_tbd, first, s["elas_start"].to_numpy()).astype("datetime64[D]")
    is_el = elas == "EL"  # at the start of the year (the achievement gap applies)
    homeless = frl & (rng.random(n) < cal.P_HOMELESS_GIVEN_FRL)
    gate = s["gate"].to_numpy() | (
        np.isin(grade, (2, 3)) & (ability + rng.normal(0, 0.4, n) > cal.GATE_ABILITY_THRESHOLD)
    )
    parent_ed = s["parent_ed_level"].to_numpy()
    sed = frl | (parent_ed == "14") | homeless | s["foster"].to_numpy() | s["migrant"].to_numpy()
    el_years = s["el_years"].to_numpy() + is_el
    p_reclass = _sigmoid(cal.RECLASS_B0 + cal.RECLASS_ABILITY * ability + cal.RECLASS_YEARS_AS_EL * el_years)
    reclassified = is_el & (grade >= cal.RECLASS_MIN_GRADE) & (rng.random(n) < p_reclass)
    spring = np.datetime64(f"{year}-03-01") + rng.integers(0, 90, n).astype("timedelta64[D]")
    elas_now = np.where(reclassified, "RFEP", elas)
    elas_start_now = np.where(reclassified, spring, elas_start).astype("datetime64[D]")

    flags = {
        "181": frl & s["free_meal"].to_numpy(),
        "182": frl & ~s["free_meal"].to_numpy(),
        "144": swd,
        "101": s["s504"].to_numpy(),
        "127": gate,
        "191": homeless,
        "190": s["foster"].to_numpy(),
        "135": s["migrant"].to_numpy(),
    }
    prog_rows = [
        pd.DataFrame({"student_index": np.flatnonzero(f), "program_code": code})
        for code, f in flags.items()
    ]
    programs = pd.concat(prog_rows, ignore_index=True).sort_values(["student_index", "program_code"], kind="stable")
    programs["membership_code"] = np.where(programs["program_code"].isin(["181", "182", "135", "190"]), "1", "3")

    # ---------------------------------------------------------------- courses, sections, teachers
    completes = main_end >= np.datetime64(f"{year}-05-15")
    in_courses = completes & (grade >= 6)
    prior_z = s["prior_math_z"].to_numpy()
    gaps = cal.GAP["math"]
    expected_z = cal.ABILITY_LOADING * ability + gaps["sed"] * sed + gaps["el"] * is_el + gaps["swd"] * swd
    prior_z = np.where(np.isnan(prior_z), expected_z, prior_z)
    prior_att = s["prior_attendance"].to_numpy()
    prior_att = np.where(np.isnan(prior_att), 0.95, prior_att)
    prior_susp = s["prior_suspended"].to_numpy().astype(bool)
    alg_logit = (
        cal.ALG_B0
        + cal.ALG_PRIOR_MATH * prior_z
        + cal.ALG_ATTENDANCE * (prior_att - 0.95) * 10
        + cal.ALG_SUSPENDED * prior_susp
        + sc["algebra_placement_effect"].to_numpy()[sidx]
    )
    takes_alg8 = (grade == 8) & (rng.random(n) < _sigmoid(alg_logit))
    level = s["math_level"].to_numpy().astype(int)
    integrated = sc["is_integrated_math"].to_numpy()[sidx]
    hs_family = np.where(
        level >= 3,
        "PRECALC",
        np.where(
            integrated,
            np.array(["INT1", "INT2", "INT3"])[np.minimum(level, 2)],
            np.array(["ALG1", "GEOM", "ALG2"])[np.minimum(level, 2)],
        ),
    )
    family = np.select(
        [grade == 6, grade == 7, takes_alg8, grade == 8, grade >= 9],
        ["MATH6", "MATH7", "ALG1", "MATH8", hs_family],
        "",
    )
    family = np.where(in_courses, family, "")
    taker = np.flatnonzero(family != "")
    cf = pd.DataFrame({"student_index": taker, "school": sidx[taker], "family": family[taker], "r": rng.random(len(taker))})
    cf = cf.sort_values(["school", "family", "r"], kind="stable")
    grp = cf.groupby(["school", "family"], sort=False)
    pos = grp.cumcount().to_numpy()
    size = grp["r"].transform("size").to_numpy()
    n_sec = np.ceil(size / cal.SECTION_SIZE).astype(int)
    cf["sec_local"] = pos % n_sec
    sections = cf[["school", "family", "sec_local"]].drop_duplicates().sort_values(["school", "family", "sec_local"])
    sections = sections.reset_index(drop=True)
    sections["sec_no"] = np.arange(len(sections))
    cf = cf.merge(sections, on=["school", "family", "sec_local"], how="left")
    sections["rank_in_school"] = sections.groupby("school").cumcount()

    # Teachers: math teachers for the sections, self-contained teachers for K-5 classes.
    need_math = sections.groupby("school").size()
    need_math = np.ceil(need_math / cal.SECTIONS_PER_TEACHER).astype(int)
    k5 = (grade <= 5) & (sidx >= 0)
    need_self = pd.Series(np.bincount(sidx[k5], minlength=len(sc)), index=np.arange(len(sc)))
    need_self = np.ceil(need_self[need_self > 0] / cal.STUDENTS_PER_ELEMENTARY_TEACHER).astype(int)
    need = pd.concat(
        [
            pd.DataFrame({"school": need_math.index, "subject": "MATH", "need": need_math.to_numpy()}),
            pd.DataFrame({"school": need_self.index, "subject": "SELF", "need": need_self.to_numpy()}),
        ],
        ignore_index=True,
    )
    teachers = d.staff_for_year(year, need)
    math_t = teachers[teachers["subject"] == "MATH"].sort_values(["school", "seid"]).copy()
    math_t["t_rank"] = math_t.groupby("school").cumcount()
    sections = sections.merge(need.loc[need["subject"] == "MATH", ["school", "need"]], on="school", how="left")
    sections["t_rank"] = sections["rank_in_school"] % sections["need"]
    sections = sections.merge(math_t[["school", "t_rank", "seid", "local_staff_id", "effect"]], on=["school", "t_rank"], how="left")
    sections = sections.sort_values("sec_no").reset_index(drop=True)

    sec_of = np.full(n, -1)
    sec_of[cf["student_index"].to_numpy()] = cf["sec_no"].to_numpy()
    teacher_effect = np.where(sec_of >= 0, sections["effect"].to_numpy()[np.maximum(sec_of, 0)], 0.0)

    # ---------------------------------------------------------------- peer effect and achievement
    ref_names = sorted(set(cal.PEER_REFERENCE_GROUP.values()))
    ref = pd.Series(race).map(cal.PEER_REFERENCE_GROUP).map({r: i for i, r in enumerate(ref_names)}).to_numpy()
    cls = np.where(sec_of >= 0, sec_of, len(sections) + np.maximum(sidx, 0) * 13 + grade)
    cls_codes, cls_inv = np.unique(cls, return_inverse=True)
    grp_inv = cls_inv * len(ref_names) + ref
    n_grp = len(cls_codes) * len(ref_names)
    sum_g = np.bincount(grp_inv, weights=ability, minlength=n_grp)
    cnt_g = np.bincount(grp_inv, minlength=n_grp)
    sum_c = np.bincount(cls_inv, weights=ability, minlength=len(cls_codes))
    cnt_c = np.bincount(cls_inv, minlength=len(cls_codes))
    with np.errstate(invalid="ignore", divide="ignore"):
        same = (sum_g[grp_inv] - ability) / (cnt_g[grp_inv] - 1)
        other = (sum_c[cls_inv] - sum_g[grp_inv]) / (cnt_c[cls_inv] - cnt_g[grp_inv])
    same = np.nan_to_num(same, nan=0.0, posinf=0.0, neginf=0.0)
    other = np.nan_to_num(other, nan=0.0, posinf=0.0, neginf=0.0)
    peer = (cal.PEER_SAME_GROUP * same + cal.PEER_OTHER_GROUPS * other) * (
        1 + cal.PEER_LOW_ACHIEVER_BOOST * np.maximum(0.0, -ability)
    )
    z = {}
    for subject in ("math", "ela"):
        g = cal.GAP[subject]
        z[subject] = (
            cal.ABILITY_LOADING * ability
            + sc[f"{subject}_effect"].to_numpy()[sidx]
            + (teacher_effect if subject == "math" else 0.0)
            + g["sed"] * sed
            + g["el"] * is_el
            + g["swd"] * swd
            + peer
            + rng.normal(0.0, cal.ACHIEVEMENT_NOISE_SD, n)
        )

    # Assessments: tested grades, enrolled on test day.
    test_day = np.datetime64(f"{year}-{TEST_DAY[0]:02d}-{TEST_DAY[1]:02d}")
    tested = (
        np.isin(grade, cal.TESTED_GRADES)
        & (main_start <= test_day)
        & (main_end >= test_day)
        & (rng.random(n) < cal.P_TESTED)
    )
    t_idx = np.flatnonzero(tested)
    tg = grade[t_idx]
    frames = []
    for subject, label in (("ela", "ELA"), ("math", "MATH")):
        cuts = np.array([cal.CAASPP_CUTS[subject].get(g, (0, 0, 0)) for g in range(13)])[tg]
        rngs = np.array([cal.CAASPP_RANGE[subject].get(g, (0, 0)) for g in range(13)])[tg]
        score = cuts[:, 1] + cal.SCALE_SD[subject] * (z[subject][t_idx] - cal.Z_AT_LEVEL3_CUT[subject])
        score = np.clip(np.rint(score), rngs[:, 0], rngs[:, 1]).astype(int)
        ach = 1 + (score >= cuts[:, 0]).astype(int) + (score >= cuts[:, 1]) + (score >= cuts[:, 2])
        sem = (18 + 0.12 * np.abs(score - cuts[:, 1])).astype(int)
        claims = {}
        for c in (1, 2, 3):
            zc = (score - cuts[:, 1]) / cal.SCALE_SD[subject] + rng.normal(0, 0.5, len(t_idx))
            claims[f"claim{c}_level"] = (1 + (zc > -0.5).astype(int) + (zc > 0.7)).astype(str)
        frames.append(
            pd.DataFrame(
                {
                    "student_index": t_idx,
                    "subject": label,
                    "grade_assessed": np.array(["KN"] + [f"{g:02d}" for g in range(1, 13)])[tg],
                    "scale_score": score.astype(str),
                    "scale_score_sem": sem.astype(str),
                    "achievement_level": ach.astype(str),
                    **claims,
                }
            )
        )
    assessments = pd.concat(frames, ignore_index=True).sort_values(["student_index", "subject"], kind="stable")

    # ---------------------------------------------------------------- marks
    ci = cf["student_index"].to_numpy()
    fam = cf["family"].to_numpy()
    difficulty = np.where(
        fam == "ALG1",
        np.where(grade[ci] == 8, cal.COURSE_DIFFICULTY["algebra1_grade8"], cal.COURSE_DIFFICULTY["high"]),
        np.where(grade[ci] <= 8, cal.COURSE_DIFFICULTY["middle"], cal.COURSE_DIFFICULTY["high"]),
    )
    mz = z["math"][ci] + rng.normal(0.0, cal.MARK_NOISE_SD, len(ci)) - difficulty
    mc = cal.MARK_CUTS
    mark_i = np.select([mz >= mc["A"], mz >= mc["B"], mz >= mc["C"], mz >= mc["D"]], [0, 1, 2, 3], 4)
    cf["mark"] = MARKS[mark_i]
    passed = mark_i < 4
    high = grade[ci] >= 9
    cf["credits_attempted"] = np.where(high, "10.00", "5.00")
    cf["credits_earned"] = np.where(passed, cf["credits_attempted"], "0.00")
    col = 0 if year < CODE_SWITCH_YEAR else 1
    cf["state_course_code"] = pd.Series(fam).map({k: v[col] for k, v in COURSES.items()}).to_numpy()
    cf["local_course_id"] = pd.Series(fam).map({k: v[2] for k, v in COURSES.items()}).to_numpy()
    cf["ag_code"] = np.where(high, "C", "")
    reached = pd.Series(fam).map({k: v[4] for k, v in COURSES.items()}).to_numpy()
    new_level = level.copy()
    new_level[ci] = np.where(passed, np.maximum(level[ci], reached), level[ci])
    cf = cf.sort_values(["student_index"], kind="stable").reset_index(drop=True)
    sections["state_course_code"] = sections["family"].map({k: v[col] for k, v in COURSES.items()})
    sections["local_course_id"] = sections["family"].map({k: v[2] for k, v in COURSES.items()})
    sections["course_name"] = sections["family"].map({k: v[3] for k, v in COURSES.items()})
    sections["school_code"] = sc["school_code"].to_numpy()[sections["school"].to_numpy()]
    sections["uc_csu_approved"] = np.where(sections["family"].isin(["MATH6", "MATH7", "MATH8"]), "N", "Y")

    # ---------------------------------------------------------------- discipline
    mid = (grade >= 6) & (grade <= 9)
    sh = cal.INC_SHIFT
    inc_logit = (
        cal.INC_B0
        + cal.INC_BEHAVIOUR * s["behaviour"].to_numpy()
        + sh["middle_grades"] * mid
        + sh["black"] * (race == "black")
        + sh["swd"] * swd
        + sh["sed"] * sed
    )
    has_inc = (rng.random(n) < _sigmoid(inc_logit)) & (grade >= 1)
    n_inc = has_inc * (1 + rng.poisson(0.3, n))
    ii = np.repeat(np.arange(n), n_inc)
    span = _days(main_start[ii], main_end[ii]) + 1
    inc_date = main_start[ii] + (rng.random(len(ii)) * span).astype(int).astype("timedelta64[D]")
    suspended_inc = rng.random(len(ii)) < cal.P_SUSPENSION_GIVEN_INCIDENT
    iss = suspended_inc & (rng.random(len(ii)) < cal.P_IN_SCHOOL_GIVEN_SUSPENSION)
    result = np.where(suspended_inc, np.where(iss, "110", "100"), "300")
    duration = np.where(result == "100", np.minimum(1 + rng.poisson(1.0, len(ii)), 5), np.where(result == "110", 1 + rng.integers(0, 2, len(ii)), 0))
    incidents = pd.DataFrame(
        {
            "student_index": ii,
            "incident_id": (np.int64(year) * 10_000_000 + np.arange(len(ii)) + 1).astype(str),
            "incident_date": inc_date,
            "offense_code": _choice(rng, cal.OFFENSE_SHARES, len(ii)),
            "result_code": result,
            "duration_days": duration,
            "school_code": main_school[ii],
        }
    )
    suspended = np.zeros(n, dtype=bool)
    suspended[ii[suspended_inc]] = True

    # ---------------------------------------------------------------- attendance (per enrolment)
    e = ctx["enrollments"]
    ei = e["student_index"].to_numpy()
    e_start = np.maximum(e["start"].to_numpy().astype("datetime64[D]"), first)
    e_end = e["exit"].to_numpy().astype("datetime64[D]")
    e_end = np.minimum(np.where(np.isnat(e_end), last, e_end), last)
    all_days = np.busday_count(first, last + 1)
    bus = np.busday_count(e_start, e_end + 1)
    expected = np.rint(np.maximum(bus, 0) * cal.INSTRUCTIONAL_DAYS / all_days).astype(int)
    a = cal.ABSENCE_SHIFT
    log_rate = (
        np.log(cal.ABSENCE_MEDIAN)
        + s["absence_propensity"].to_numpy()
        + rng.normal(0.0, cal.ABSENCE_YEARLY_SD, n)
        + a["sed"] * sed
        + a["kindergarten"] * (grade == 0)
        + a["high_school"] * (grade >= 9)
        + sc["absence_effect"].to_numpy()[sidx]
    )
    rate = np.minimum(np.exp(log_rate), 0.9)
    absent = rng.binomial(expected, rate[ei])
    inc_at = pd.DataFrame({"student_index": ii, "school_code": main_school[ii], "d": duration, "r": result})
    oss = inc_at[inc_at["r"] == "100"].groupby(["student_index", "school_code"])["d"].sum()
    iss_d = inc_at[inc_at["r"] == "110"].groupby(["student_index", "school_code"])["d"].sum()
    key = pd.MultiIndex.from_arrays([ei, e["school_code"].to_numpy()])
    oss_e = oss.reindex(key).fillna(0).to_numpy().astype(int)
    iss_e = iss_d.reindex(key).fillna(0).to_numpy().astype(int)
    oss_e = np.minimum(oss_e, expected - absent)
    attended = expected - absent - oss_e
    iss_e = np.minimum(iss_e, attended)
    excused = rng.binomial(absent, cal.P_ABSENCE_EXCUSED)
    attendance = pd.DataFrame(
        {
            "student_index": ei,
            "school_code": e["school_code"].to_numpy(),
            "grade_level": e["grade_level"].to_numpy(),
            "days_expected": expected,
            "days_attended": attended,
            "days_absent_oss": oss_e,
            "days_iss": iss_e,
            "days_excused": excused,
            "days_unexcused": absent - excused,
            "days_incomplete_independent_study": 0,
        }
    )
    # One STAS row per student and school: an overlapping second record at the same school
    # cannot happen (a move always changes school).
    tot_exp = np.bincount(ei, weights=expected, minlength=n)
    tot_att = np.bincount(ei, weights=attended, minlength=n)
    att_rate = np.where(tot_exp > 0, tot_att / np.maximum(tot_exp, 1), np.nan)

    # ---------------------------------------------------------------- surveys
    surveyed = np.isin(grade, cal.SURVEY_GRADES) & completes & (rng.random(n) < cal.P_SURVEY_RESPONSE)
    v = np.flatnonzero(surveyed)
    survey = pd.DataFrame({"student_index": v, "grade_level": np.array(["KN"] + [f"{g:02d}" for g in range(1, 13)])[grade[v]]})
    survey["survey_date"] = np.datetime64(f"{year}-02-01") + rng.integers(0, 40, len(v)).astype("timedelta64[D]")
    climate = sc["climate_effect"].to_numpy()[sidx[v]]
    for k, construct in enumerate(SURVEY_CONSTRUCTS):
        base = 3.4 + 0.3 * (ability[v] if k < 4 else climate) - 0.15 * (s["behaviour"].to_numpy()[v] if k >= 6 else 0)
        val = np.clip(base + rng.normal(0, 0.6, len(v)), 1.0, 5.0)
        text = np.char.mod("%.2f", np.round(val, 2))
        survey[construct] = np.where(rng.random(len(v)) < cal.P_SURVEY_ITEM_BLANK, "", text)

    # ---------------------------------------------------------------- carry over to next year
    s["elas"] = elas_now
    s["elas_start"] = elas_start_now
    s["el_years"] = el_years.astype(np.int16)
    s["gate"] = gate
    s["math_level"] = new_level.astype(np.int8)
    s["prior_math_z"] = z["math"]
    s["prior_attendance"] = att_rate
    s["prior_suspended"] = suspended

    person = pd.DataFrame(
        {
            "race_ethnicity": race,
            "frl": frl,
            "sed": sed,
            "el": is_el,
            "swd": swd,
            "gender": s["gender"].to_numpy(),
            "grade": grade,
        }
    )
    return {
        "programs": programs,
        "english_learners": pd.DataFrame(
            {"elas_code": elas_now, "elas_start": elas_start_now, "reclassified": reclassified}
        ),
        "course_sections": sections,
        "course_completions": cf,
        "assessments": assessments,
        "attendance": attendance,
        "incidents": incidents,
        "surveys": survey,
        "staff": teachers,
        "person": person,
        "main_school": main_school,
        "main_start": main_start,
    }


def _choice(rng, shares: dict, n: int) -> np.ndarray:
    keys = np.array(list(shares))
    p = np.array(list(shares.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]
