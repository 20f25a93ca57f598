"""`p20 synth`: a synthetic ten-year district in the state's extract layouts, with its truth.

Cohorts move K-12 year by year (promotion, retention, entries, mid-year moves, exits,
graduation), vectorised over students with numpy: the only Python loop is over school years.
Raw extracts (with raw ids, names, birth dates) go to custodian/raw/ in CALPADS-style layouts
(caret-delimited, no header, CRLF); aggregate truths the marts must reproduce go to
custodian/truth/. The same seed gives byte-identical files.
"""

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from p20 import calibration as cal
from p20.errors import UsageError
from p20.policy import extracts
from p20.textio import atomic_dir, write_json_atomic

REPORTING_LEA = "1964733"
FIRST_YEAR, LAST_YEAR = 2016, 2025
GRADES = ["KN"] + [f"{g:02d}" for g in range(1, 13)]
MARKER = "_synth.json"


@dataclass(frozen=True)
class Preset:
    elementary: int  # KN-05 schools; also the number of feeder areas
    middle: int  # 06-08
    high: int  # 09-12
    charter: int  # KN-08 charters
    students_per_grade: int


PRESETS = {
    "tiny": Preset(elementary=3, middle=1, high=1, charter=1, students_per_grade=30),
    "small": Preset(elementary=12, middle=4, high=3, charter=2, students_per_grade=770),
    "medium": Preset(elementary=70, middle=18, high=12, charter=12, students_per_grade=7700),
    "lausd": Preset(elementary=520, middle=130, high=100, charter=170, students_per_grade=51500),
}

FIRST_NAMES = np.array(
    "Sofia Mateo Camila Santiago Valentina Sebastian Isabella Leonardo Ximena Diego Emma Liam "
    "Olivia Noah Mia Elijah Aaliyah Jayden Zoe Daniel Ava Ethan Luna Gabriel Maya Adrian Grace "
    "Kevin Jasmine Brian Andrea Carlos Lucia Miguel Fernanda Jose Kimberly Angel Ashley Luis".split()
)
LAST_NAMES = np.array(
    "Garcia Hernandez Lopez Martinez Gonzalez Rodriguez Perez Sanchez Ramirez Flores Torres "
    "Rivera Gomez Diaz Cruz Morales Reyes Gutierrez Ortiz Chavez Johnson Williams Brown Jones "
    "Smith Davis Miller Wilson Kim Nguyen Santos Reyes Lee Park Washington Jackson Harris".split()
)
STREETS = np.array(
    "Alvarado Figueroa Vermont Hoover Normandie Western Crenshaw Slauson Florence Manchester "
    "Olympic Pico Venice Sunset Fountain Cesar Chavez Soto Lorena Gage Hooper".split()
)


def calendar(school_year: int) -> dict[str, np.datetime64]:
    """First day, census day (first Wednesday in October) and last day of a school year."""
    fall = school_year - 1
    oct1 = dt.date(fall, 10, 1)
    census = oct1 + dt.timedelta(days=(2 - oct1.weekday()) % 7)  # Monday=0, so Wednesday=2
    return {
        "first_day": np.datetime64(dt.date(fall, 8, 15)),
        "census_day": np.datetime64(census),
        "last_day": np.datetime64(dt.date(school_year, 6, 10)),
    }


def _yyyymmdd(days: np.ndarray) -> np.ndarray:
    return pd.DatetimeIndex(days.astype("datetime64[D]")).strftime("%Y%m%d").to_numpy()


def _academic_year(school_year: int) -> str:
    return f"{school_year - 1}-{school_year}"


def _sample(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    keys = np.array(list(shares))
    p = np.array(list(shares.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


class District:
    """Schools and the student population, advanced one school year at a time."""

    def __init__(self, preset: Preset, rng: np.random.Generator):
        self.p, self.rng = preset, rng
        self._make_schools()
        self.students = pd.DataFrame()
        self._next_ssid_draws = 0
        self._add_students({g: preset.students_per_grade for g in range(13)}, late_share=0.0)

    def _make_schools(self) -> None:
        p, rng = self.p, self.rng
        kinds = (
            [("Elementary", "TRAD", "KN", "05")] * p.elementary
            + [("Middle School", "TRAD", "06", "08")] * p.middle
            + [("High School", "TRAD", "09", "12")] * p.high
            + [("Charter Academy", "CHTR", "KN", "08")] * p.charter
        )
        codes = rng.choice(np.arange(1_000_000, 10_000_000), size=len(kinds), replace=False)
        names = rng.choice(STREETS, size=len(kinds))
        magnets = rng.random(len(kinds)) < 0.08
        self.schools = pd.DataFrame(
            {
                "school_code": codes.astype(str),
                "school_name": [f"{n} {k[0]} #{i + 1}" for i, (n, k) in enumerate(zip(names, kinds, strict=True))],
                "school_type": [
                    "MAGN" if m and k[1] == "TRAD" else k[1] for m, k in zip(magnets, kinds, strict=True)
                ],
                "low_grade": [k[2] for k in kinds],
                "high_grade": [k[3] for k in kinds],
                "local_district": [f"LD{(i % 6) + 1}" for i in range(len(kinds))],
            }
        )
        n_e, n_m, n_h = p.elementary, p.middle, p.high
        self.elementary_codes = codes[:n_e].astype(str)
        self.middle_codes = codes[n_e : n_e + n_m].astype(str)
        self.high_codes = codes[n_e + n_m : n_e + n_m + n_h].astype(str)
        self.charter_codes = codes[n_e + n_m + n_h :].astype(str)

    def _new_ssids(self, n: int) -> np.ndarray:
        # Draw from the full 10-digit range (about 10% start with 0); reject repeats.
        out = np.empty(0, dtype=np.int64)
        existing = self.students["ssid_int"].to_numpy() if not self.students.empty else None
        while len(out) < n:
            draw = self.rng.integers(0, 10**10, size=(n - len(out)) * 2, dtype=np.int64)
            draw = np.unique(draw)
            if existing is not None:
                draw = draw[~np.isin(draw, existing)]
            draw = draw[~np.isin(draw, out)]
            out = np.concatenate([out, self.rng.permutation(draw)[: n - len(out)]])
        return out

    def _add_students(self, per_grade: dict[int, int], late_share: float, year: int = FIRST_YEAR):
        rng = self.rng
        grade = np.concatenate([np.full(n, g, dtype=np.int8) for g, n in per_grade.items()])
        n = len(grade)
        if n == 0:
            return
        race = _sample(rng, cal.RACE_ETHNICITY_SHARES, n)
        hispanic = race == "hispanic"
        age_on_sep1 = grade.astype(int) + 5
        birth = (
            np.array([np.datetime64(f"{year - 1}-09-01")] * n)
            - (age_on_sep1 * 365.25).astype("timedelta64[D]")
            - rng.integers(0, 365, n).astype("timedelta64[D]")
        )
        spanish = hispanic & (rng.random(n) < cal.SPANISH_HOME_LANGUAGE_SHARE_OF_HISPANIC)
        new = pd.DataFrame(
            {
                "ssid_int": self._new_ssids(n),
                "local_id": 0,
                "grade": grade,
                "feeder": rng.integers(0, self.p.elementary, n).astype(np.int32),
                "is_charter": rng.random(n) < cal.P_CHARTER,
                "is_late": rng.random(n) < late_share,
                "race_ethnicity": race,
                "hispanic": np.where(hispanic, "Y", "N"),
                "race1": pd.Series(race).map(cal.RACE1_CODE).to_numpy(),
                "race2": np.where(race == "two_or_more", "700", ""),
                "gender": _sample(rng, cal.GENDER_SHARES, n),
                "birth_date": birth.astype("datetime64[D]"),
                "first_name": rng.choice(FIRST_NAMES, n),
                "last_name": rng.choice(LAST_NAMES, n),
                "address": (
                    pd.Series(rng.integers(100, 9999, n)).astype(str) + " " + rng.choice(STREETS, n) + " St"
                ).to_numpy(),
                "parent_ed_level": _sample(rng, cal.PARENT_ED_SHARES, n),
                "home_language": np.where(spanish, "01", "00"),
            }
        )
        start = 0 if self.students.empty else int(self.students["local_id"].max()) + 1
        new["local_id"] = np.arange(start, start + n) + 100000
        self.students = pd.concat([self.students, new], ignore_index=True)

    def school_of(self, grade: np.ndarray, feeder: np.ndarray, is_charter: np.ndarray) -> np.ndarray:
        n_e = self.p.elementary
        mid = self.middle_codes[feeder * len(self.middle_codes) // n_e]
        high = self.high_codes[feeder * len(self.high_codes) // n_e]
        elem = self.elementary_codes[feeder]
        charter = self.charter_codes[feeder % len(self.charter_codes)]
        band = np.where(grade <= 5, elem, np.where(grade <= 8, mid, high))
        return np.where(is_charter & (grade <= 8), charter, band)

    def simulate_year(self, year: int) -> dict[str, pd.DataFrame]:
        """Enrollments and the student snapshot of one school year; then advance to the next."""
        rng, s, cal_days = self.rng, self.students, calendar(year)
        n = len(s)
        first, census, last = cal_days["first_day"], cal_days["census_day"], cal_days["last_day"]
        grade = s["grade"].to_numpy()
        school_a = self.school_of(grade, s["feeder"].to_numpy(), s["is_charter"].to_numpy())

        # Start: first day, or (late entrants) between census day + 1 and 1 March.
        span = int((np.datetime64(f"{year}-03-01") - census).astype(int))
        start = np.where(
            s["is_late"].to_numpy(), census + rng.integers(1, span, n).astype("timedelta64[D]"), first
        ).astype("datetime64[D]")
        window = int((np.datetime64(f"{year}-05-15") - start.max()).astype(int))
        leaves = (rng.random(n) < cal.P_LEAVES_MIDYEAR) & (grade < 12)
        moves = (rng.random(n) < cal.P_MOVES_WITHIN_DISTRICT) & ~leaves
        event_day = (start + rng.integers(14, max(window, 15) + 14, n).astype("timedelta64[D]"))
        event_day = np.minimum(event_day, last - np.timedelta64(7, "D"))

        # School after a mid-year move: another feeder area, same grade.
        new_feeder = (
            (s["feeder"].to_numpy() + rng.integers(1, max(self.p.elementary, 2), n)) % self.p.elementary
        ).astype(np.int32)
        school_b = self.school_of(grade, new_feeder, np.zeros(n, dtype=bool))
        moves &= school_b != school_a
        overlap_days = np.where(rng.random(n) < cal.P_OVERLAP_GIVEN_MOVE, rng.integers(1, 6, n), 0)
        start_b = event_day + 1 - overlap_days.astype("timedelta64[D]")

        # Year-end outcomes.
        u = rng.random(n)
        is_g12 = grade == 12
        graduates = is_g12 & (u < cal.P_GRADUATES) & ~leaves
        dropouts = is_g12 & (u >= cal.P_GRADUATES) & (u < cal.P_GRADUATES + cal.P_DROPS_OUT_G12) & ~leaves
        leaves_summer = ~is_g12 & ~leaves & (rng.random(n) < cal.P_LEAVES_AT_YEAR_END)

        ssid = self._ssid_as_written(s["ssid_int"].to_numpy())
        common = {
            "ssid": ssid,
            "local_student_id": s["local_id"].astype(str).to_numpy(),
            "gender": s["gender"].to_numpy(),
            "grade_level": np.array(GRADES)[grade],
        }
        exit_a = np.where(leaves | moves, event_day, np.datetime64("NaT"))
        exit_a = np.where(graduates | dropouts | leaves_summer, last, exit_a)
        reason_a = np.select(
            [moves, leaves, graduates, dropouts, leaves_summer], ["T160", "T200", "E230", "E300", "T200"], ""
        )
        first_rows = pd.DataFrame(
            {
                **common,
                "school_code": school_a,
                "start": start,
                "exit": exit_a.astype("datetime64[D]"),
                "exit_reason": reason_a,
                "completion_status": np.where(graduates, "100", ""),
                "met_uc_csu": np.where(graduates, np.where(rng.random(n) < cal.P_MET_UC_CSU, "Y", "N"), ""),
                "student_index": np.arange(n),
            }
        )
        second_rows = pd.DataFrame(
            {
                **{k: v[moves] for k, v in common.items()},
                "school_code": school_b[moves],
                "start": start_b[moves],
                "exit": np.full(moves.sum(), np.datetime64("NaT"), dtype="datetime64[D]"),
                "exit_reason": "",
                "completion_status": "",
                "met_uc_csu": "",
                "student_index": np.arange(n)[moves],
            }
        )
        enrollments = pd.concat([first_rows, second_rows], ignore_index=True)

        # Truth: who is enrolled (primary) on census day, and where. The later-starting record wins
        # an overlap, which is the rule the warehouse must implement.
        on_census_a = (start <= census) & (np.isnat(exit_a) | (exit_a >= census))
        on_census_b = moves & (start_b <= census)
        census_school = np.where(on_census_b, school_b, np.where(on_census_a, school_a, ""))
        snapshot_school = np.where(census_school != "", census_school, school_a)
        truth = pd.DataFrame(
            {"school_year": year, "grade_level": common["grade_level"], "school_code": census_school}
        )[census_school != ""]

        students = s.assign(ssid=ssid, school_code=snapshot_school)
        students = self._with_typos(students)
        self._advance(year, leaves | leaves_summer | graduates | dropouts, moves, new_feeder)
        return {"enrollments": enrollments, "students": students, "census_truth": truth}

    def _ssid_as_written(self, ssid_int: np.ndarray) -> np.ndarray:
        """Zero-padded 10 digits, except the dirt: leading zeros dropped, stray spaces."""
        n = len(ssid_int)
        padded = pd.Series(ssid_int).astype(str).str.zfill(10).to_numpy()
        dropped = self.rng.random(n) < cal.P_SSID_LEADING_ZEROS_DROPPED
        written = np.where(dropped, pd.Series(ssid_int).astype(str).to_numpy(), padded)
        spaced = self.rng.random(n) < cal.P_SSID_PADDED_WITH_SPACE
        return np.where(spaced, np.char.add(written.astype(str), " "), written)

    def _with_typos(self, students: pd.DataFrame) -> pd.DataFrame:
        typo = self.rng.random(len(students)) < cal.P_NAME_TYPO
        if typo.any():
            names = students.loc[typo, "first_name"].astype(str)
            students = students.copy()
            students.loc[typo, "first_name"] = names.str[:-2] + names.str[-1] + names.str[-2]
        return students

    def _advance(self, year: int, gone: np.ndarray, moved: np.ndarray, new_feeder: np.ndarray) -> None:
        rng, s = self.rng, self.students
        s.loc[moved, "feeder"] = new_feeder[moved]
        s.loc[moved, "is_charter"] = False
        retained = rng.random(len(s)) < cal.P_RETAINED
        s["grade"] = np.where(retained, s["grade"], s["grade"] + 1).astype(np.int8)
        s["is_late"] = False
        self.students = s[~gone & (s["grade"].to_numpy() <= 12)].reset_index(drop=True)
        counts = self.students["grade"].value_counts()
        target = self.p.students_per_grade
        refill = {
            g: max(0, int(target * rng.normal(1.0, 0.02)) - int(counts.get(g, 0))) for g in range(13)
        }
        self._add_students(refill, late_share=cal.P_LATE_ENTRANT, year=year + 1)
        kn = self.students["grade"] == 0
        self.students.loc[kn, "is_late"] = False  # kindergarten arrives on the first day


def _write_caret(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, sep="^", header=False, index=False, lineterminator="\r\n", na_rep="")


def _raw_frame(extract: str, columns: dict[str, object]) -> pd.DataFrame:
    """Order the generated columns as the extract's raw layout (seeds/extract_columns.csv)."""
    layout = [c.raw_column for c in extracts()[extract].columns]
    return pd.DataFrame({name: columns[name] for name in layout})


def synth_marker_matches(preset: str, seed: int, out_root: Path) -> bool:
    """Whether out_root/raw already holds this preset and seed (so a demo can keep it)."""
    marker = out_root / "raw" / MARKER
    if not marker.exists():
        return False
    params = json.loads(marker.read_text())["params"]
    return params["preset"] == preset and params["seed"] == seed


def generate(preset: str, seed: int, years: range, out_root: Path) -> dict:
    """Write raw extracts and truth for `years` under out_root/raw and out_root/truth."""
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
    census_truth, students_truth = [], []
    with atomic_dir(raw) as raw_tmp, atomic_dir(truth) as truth_tmp:
        for year in years:
            out = district.simulate_year(year)
            academic_year = _academic_year(year)
            schools = district.schools.assign(reporting_lea=REPORTING_LEA, academic_year=academic_year)
            _write_caret(_raw_frame("schools", schools), raw_tmp / f"SCHL_{year}.txt")
            s = out["students"]
            _write_caret(
                _raw_frame(
                    "students",
                    {
                        **{c: s[c] for c in s.columns},
                        "record_type": "SINF",
                        "transaction_type": "",
                        "local_record_id": np.arange(len(s)) + year * 10_000_000,
                        "reporting_lea": REPORTING_LEA,
                        "academic_year": academic_year,
                        "local_student_id": s["local_id"],
                        "birth_date": _yyyymmdd(s["birth_date"].to_numpy()),
                    },
                ),
                raw_tmp / f"SINF_{year}.txt",
            )
            e = out["enrollments"]
            idx = e["student_index"].to_numpy()
            _write_caret(
                _raw_frame(
                    "enrollments",
                    {
                        **{c: e[c] for c in e.columns},
                        "record_type": "SENR",
                        "transaction_type": "",
                        "local_record_id": np.arange(len(e)) + year * 10_000_000,
                        "reporting_lea": REPORTING_LEA,
                        "academic_year": academic_year,
                        "first_name": s["first_name"].to_numpy()[idx],
                        "last_name": s["last_name"].to_numpy()[idx],
                        "birth_date": _yyyymmdd(s["birth_date"].to_numpy()[idx]),
                        "enrollment_start_date": _yyyymmdd(e["start"].to_numpy()),
                        "enrollment_status": "10",
                        "exit_date": np.where(e["exit"].isna(), "", _yyyymmdd(e["exit"].fillna(e["start"]).to_numpy())),
                    },
                ),
                raw_tmp / f"SENR_{year}.txt",
            )
            census_truth.append(out["census_truth"])
            students_truth.append({"school_year": year, "n_students_any_enrollment": len(s)})
        census = pd.concat(census_truth)
        by_grade = census.groupby(["school_year", "grade_level"]).size().rename("n_students").reset_index()
        by_school = census.groupby(["school_year", "school_code"]).size().rename("n_students").reset_index()
        by_grade.to_csv(truth_tmp / "census_students_by_year_grade.csv", index=False)
        by_school.to_csv(truth_tmp / "census_students_by_year_school.csv", index=False)
        pd.DataFrame(students_truth).to_csv(truth_tmp / "students_by_year.csv", index=False)
        write_json_atomic(
            truth_tmp / "params.json",
            {"params": params, "calibration": {k: v for k, v in vars(cal).items() if k.isupper()}},
        )
        write_json_atomic(raw_tmp / MARKER, {"params": params})
    return params
