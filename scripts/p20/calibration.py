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
