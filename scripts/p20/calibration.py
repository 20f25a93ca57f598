"""Calibration targets of the synthetic district: the one documented place for them.

Shares follow what the partnership describes for a large urban California district (LAUSD-like):
about 72% Hispanic, 11% Black, 9% White, 8% other; CALPADS race codes (seeds/race_codes.csv)
and parent education codes. Tests compare generated shares against these numbers.
"""

# Federal race/ethnicity, Hispanic first: share of students, and the race1 code written for them.
RACE_ETHNICITY_SHARES = {
    "hispanic": 0.72,
    "black": 0.11,
    "white": 0.09,
    "asian": 0.04,
    "filipino": 0.02,
    "two_or_more": 0.01,
    "american_indian_alaska_native": 0.005,
    "pacific_islander": 0.005,
}
RACE1_CODE = {
    "hispanic": "700",  # Hispanic students still report a race; most report White
    "black": "600",
    "white": "700",
    "asian": "201",
    "filipino": "400",
    "two_or_more": "600",  # plus race2 = 700
    "american_indian_alaska_native": "100",
    "pacific_islander": "301",
}
GENDER_SHARES = {"F": 0.488, "M": 0.509, "X": 0.003}
PARENT_ED_SHARES = {"10": 0.07, "11": 0.13, "12": 0.20, "13": 0.25, "14": 0.27, "15": 0.08}
# Home language of Hispanic students (01 Spanish) and everyone else (00 English).
SPANISH_HOME_LANGUAGE_SHARE_OF_HISPANIC = 0.62

# Year-to-year movement (per student per year).
P_RETAINED = 0.015  # repeats the grade
P_LEAVES_AT_YEAR_END = 0.06  # transfers out of the district over the summer
P_LEAVES_MIDYEAR = 0.02  # transfers out during the year
P_MOVES_WITHIN_DISTRICT = 0.04  # changes school mid-year
P_OVERLAP_GIVEN_MOVE = 0.25  # the new school's record starts before the old one ends (dirt)
P_LATE_ENTRANT = 0.20  # share of new non-kindergarten entrants who arrive after census day
P_CHARTER = 0.09  # share of K-8 students in charter schools
P_GRADUATES = 0.87  # grade-12 students who complete (E230, status 100)
P_DROPS_OUT_G12 = 0.05  # grade-12 students who leave without completing (E300)
P_MET_UC_CSU = 0.55  # of graduates

# Dirt real extracts carry.
P_SSID_LEADING_ZEROS_DROPPED = 0.03  # per row, when the SSID starts with 0
P_SSID_PADDED_WITH_SPACE = 0.005
P_NAME_TYPO = 0.02

# ---------------------------------------------------------------- population (issue 3)
# Students per school type at the lausd preset: about 900 schools, 670,000 students a year
# (see PRESETS in p20.synth). Home language by race/ethnicity (CALPADS language codes, ~):
# 00 English, 01 Spanish, 02 Vietnamese, 03 Cantonese, 04 Korean, 05 Filipino, 07 Mandarin,
# 11 Armenian. The Hispanic Spanish share is SPANISH_HOME_LANGUAGE_SHARE_OF_HISPANIC above.
HOME_LANGUAGE_BY_RACE = {
    "asian": {"00": 0.45, "02": 0.10, "03": 0.10, "04": 0.20, "07": 0.15},
    "filipino": {"00": 0.60, "05": 0.40},
    "white": {"00": 0.90, "11": 0.10},
}
# Free/reduced-price meal eligibility (programs 181/182) by race/ethnicity, chosen so that the
# district share is about 68%; an area (feeder) SES index shifts it on the logit scale.
FRL_TARGET_SHARE = 0.68
P_FRL_BY_RACE = {
    "hispanic": 0.745, "black": 0.72, "white": 0.30, "asian": 0.45, "filipino": 0.40,
    "two_or_more": 0.60, "american_indian_alaska_native": 0.60, "pacific_islander": 0.60,
}
AREA_SES_SD = 0.6  # sd of the feeder-area SES index (higher = richer: a logit shift of FRL down)
FRL_LOGIT_OFFSET = 0.03  # keeps the district share at the target despite the area spread and mobility
P_FREE_GIVEN_FRL = 0.88  # 181 free meal; the rest 182 reduced-price
P_SWD = 0.13  # students with disabilities (program 144)
P_504 = 0.02  # Section 504 plan (program 101)
P_HOMELESS_GIVEN_FRL = 0.04  # per year (program 191)
P_FOSTER = 0.006  # program 190 (~ foster code)
P_MIGRANT_GIVEN_SPANISH = 0.015  # program 135
GATE_ABILITY_THRESHOLD = 1.1  # GATE (127) from grade 2 when ability + noise(0.4) exceeds this

# English learners (~ LAUSD: about 20% EL, mostly Spanish-speaking; many RFEP).
ELAS_AT_ENTRY_NON_ENGLISH = {"EL": 0.68, "IFEP": 0.27, "TBD": 0.05}
ELAS_AT_ENTRY_ENGLISH = {"EO": 0.97, "TBD": 0.03}
P_TBD_BECOMES_EL_NON_ENGLISH = 0.7  # the rest IFEP; English speakers become EO
# Reclassification EL -> RFEP from grade 2: logistic(B0 + B_ABILITY*ability + B_YEARS*years as EL)
RECLASS_B0 = -3.0
RECLASS_ABILITY = 1.0
RECLASS_YEARS_AS_EL = 0.25
RECLASS_MIN_GRADE = 2

# ---------------------------------------------------------------- planted structure
# Achievement (latent z, per subject) =
#   ABILITY_LOADING * ability + school effect + teacher effect (math, grades 6-12)
#   + SES/EL/SWD gaps + peer effect + NOISE_SD * noise;
# scale score = level-3 cut + SCALE_SD * (z - Z_AT_LEVEL3_CUT), clipped to the grade's range.
ABILITY_LOADING = 0.8
ACHIEVEMENT_NOISE_SD = 0.4
SCHOOL_EFFECT_SD = {"math": 0.15, "ela": 0.12}
TEACHER_EFFECT_SD = 0.10  # math teachers of record; novices (< 2 years) lose NOVICE_PENALTY
NOVICE_PENALTY = 0.05
GAP = {
    "math": {"sed": -0.30, "el": -0.40, "swd": -0.60},
    "ela": {"sed": -0.30, "el": -0.55, "swd": -0.60},
}
SCALE_SD = {"math": 90.0, "ela": 85.0}
Z_AT_LEVEL3_CUT = {"math": 0.05, "ela": -0.10}
# Peer effect inside the class (math section in grades 6-12; school-grade in K-5), by race-based
# reference group: same-group leave-one-out mean ability * PEER_SAME_GROUP + other groups' mean
# ability * PEER_OTHER_GROUPS, times (1 + PEER_LOW_ACHIEVER_BOOST * max(0, -ability)).
PEER_REFERENCE_GROUP = {
    "hispanic": "hispanic", "black": "black", "white": "white", "asian": "asian",
    "filipino": "asian", "pacific_islander": "asian", "two_or_more": "other",
    "american_indian_alaska_native": "other",
}
PEER_SAME_GROUP = 0.15
PEER_OTHER_GROUPS = 0.03
PEER_LOW_ACHIEVER_BOOST = 0.5
# Beat-the-odds schools: a handful of lower-SES elementary/middle schools with a boost.
BEAT_THE_ODDS_SHARE = 0.01  # of schools, at least 2
BEAT_THE_ODDS_BOOST = 0.35  # added to the school effect in both subjects

# Grade-8 Algebra I placement: logistic(ALG_B0 + ALG_PRIOR_MATH * grade-7 math z
#   + ALG_ATTENDANCE * (grade-7 attendance rate - 0.95) * 10 + ALG_SUSPENDED * suspended in grade 7
#   + school placement effect ~ N(0, ALG_SCHOOL_SD)).
ALG_B0 = -1.6
ALG_PRIOR_MATH = 1.4
ALG_ATTENDANCE = 0.25
ALG_SUSPENDED = -0.8
ALG_SCHOOL_SD = 0.5
# Marks: z + MARK_NOISE_SD * noise - difficulty, cut at A/B/C/D (below D is F). Passing = A-D.
MARK_NOISE_SD = 0.5
MARK_CUTS = {"A": 1.0, "B": 0.3, "C": -0.4, "D": -1.1}
COURSE_DIFFICULTY = {"middle": -0.3, "algebra1_grade8": 0.3, "high": 0.0}
SECTION_SIZE = 30
SECTIONS_PER_TEACHER = 5
STUDENTS_PER_ELEMENTARY_TEACHER = 24
P_INTEGRATED_MATH_HIGH_SCHOOL = 0.3
TEACHER_TURNOVER = 0.10
P_NEW_HIRE_INTERN = 0.08
P_NEW_HIRE_EMERGENCY_PERMIT = 0.05
P_UPGRADE_TO_FULL_CREDENTIAL = 0.4

# Attendance: absence rate ~ lognormal(ln(ABSENCE_MEDIAN) + persistent + yearly + shifts),
# chronic absence = absent >= 10% of expected days (target about 20-25% of students).
ABSENCE_MEDIAN = 0.044
ABSENCE_PERSISTENT_SD = 0.6
ABSENCE_YEARLY_SD = 0.45
ABSENCE_SHIFT = {"sed": 0.15, "kindergarten": 0.15, "high_school": 0.25, "school_sd": 0.15}
P_ABSENCE_EXCUSED = 0.45
INSTRUCTIONAL_DAYS = 180
CHRONIC_ABSENCE_THRESHOLD = 0.10
CHRONIC_ABSENCE_MIN_DAYS = 31

# Discipline: P(any incident) = logistic(INC_B0 + INC_BEHAVIOUR * behaviour + shifts);
# incidents 1 + Poisson(0.3); each a suspension with P_SUSPENSION_GIVEN_INCIDENT (target: about
# 2-4% of students suspended a year).
INC_B0 = -3.6
INC_BEHAVIOUR = 0.9
INC_SHIFT = {"middle_grades": 0.6, "black": 0.6, "swd": 0.4, "sed": 0.2}
P_SUSPENSION_GIVEN_INCIDENT = 0.5
P_IN_SCHOOL_GIVEN_SUSPENSION = 0.25
OFFENSE_SHARES = {"511": 0.35, "500": 0.30, "510": 0.10, "200": 0.10, "600": 0.10, "100": 0.05}

# Assessments (CAASPP): grades tested, participation, test day.
TESTED_GRADES = (3, 4, 5, 6, 7, 8, 11)
P_TESTED = 0.97
# Lowest scale score of levels 2/3/4 and the score range (LOSS/HOSS), as in
# seeds/assessment_scales.csv (the Smarter Balanced reporting scale, docs/formats.md; ~).
CAASPP_CUTS = {
    "math": {3: (2381, 2436, 2501), 4: (2411, 2485, 2549), 5: (2455, 2528, 2579), 6: (2473, 2552, 2610),
             7: (2484, 2567, 2635), 8: (2504, 2586, 2653), 11: (2543, 2628, 2718)},
    "ela": {3: (2367, 2432, 2490), 4: (2416, 2473, 2533), 5: (2442, 2502, 2582), 6: (2457, 2531, 2618),
            7: (2479, 2552, 2649), 8: (2487, 2567, 2668), 11: (2493, 2583, 2682)},
}
CAASPP_RANGE = {
    "math": {3: (2189, 2621), 4: (2204, 2659), 5: (2219, 2700), 6: (2235, 2748), 7: (2250, 2778),
             8: (2265, 2802), 11: (2280, 2862)},
    "ela": {3: (2114, 2623), 4: (2131, 2663), 5: (2201, 2701), 6: (2210, 2724), 7: (2258, 2745),
            8: (2288, 2769), 11: (2299, 2795)},
}

# Surveys (CORE-style social-emotional and culture-climate constructs, 1-5 scale).
SURVEY_GRADES = (4, 5, 6, 7, 8, 9, 10, 11, 12)
P_SURVEY_RESPONSE = 0.70
P_SURVEY_ITEM_BLANK = 0.03
