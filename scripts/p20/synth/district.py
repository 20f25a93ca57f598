"""The synthetic district's population: schools, students and their enrolments, year by year.

(Part of `p20 synth`: a synthetic ten-year district in the state's extract layouts, with its truth.

Cohorts move K-12 year by year (promotion, retention, entries, mid-year moves, exits,
graduation), vectorised over students with numpy: the only Python loop is over school years.
Raw extracts (with raw ids, names, birth dates) go to custodian/raw/ in CALPADS-style layouts
(caret-delimited, no header, CRLF); aggregate truths the marts must reproduce go to
custodian/truth/. The same seed gives byte-identical files.
"""

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from p20 import calibration as cal
from p20.inventory import SYNTH_MARKER

REPORTING_LEA = "1964733"
FIRST_YEAR, LAST_YEAR = 2016, 2025
GRADES = ["KN"] + [f"{g:02d}" for g in range(1, 13)]
MARKER = SYNTH_MARKER  # p20.inventory knows it is not an extract


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
    """CCYYMMDD strings of dates, computed with integer arithmetic (strftime is per element)."""
    d = np.asarray(days).astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(int) + 1970
    m = d.astype("datetime64[M]").astype(int) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype(int) + 1
    return (y * 10000 + m * 100 + day).astype(str)


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
        self.teachers = pd.DataFrame()
        self._staff_count = 0
        self._seids_used = np.empty(0, dtype=np.int64)
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
        self._plant_school_effects(kinds)
        self.elementary_codes = codes[:n_e].astype(str)
        self.middle_codes = codes[n_e : n_e + n_m].astype(str)
        self.high_codes = codes[n_e + n_m : n_e + n_m + n_h].astype(str)
        self.charter_codes = codes[n_e + n_m + n_h :].astype(str)

    def _plant_school_effects(self, kinds: list) -> None:
        """Area SES, school effects, beat-the-odds schools and high-school math track."""
        p, rng, sc = self.p, self.rng, self.schools
        n, n_e, n_m, n_h = len(kinds), p.elementary, p.middle, p.high
        self.area_ses = rng.normal(0.0, cal.AREA_SES_SD, n_e)
        self.area_ses -= self.area_ses.mean()  # centred: district shares stay on target
        feeders = np.arange(n_e)
        ses = np.zeros(n)
        ses[:n_e] = self.area_ses
        for offset, count, index in (
            (n_e, n_m, feeders * n_m // n_e),
            (n_e + n_m, n_h, feeders * n_h // n_e),
            (n_e + n_m + n_h, p.charter, feeders % max(p.charter, 1)),
        ):
            if count:
                sums = np.bincount(index, weights=self.area_ses, minlength=count)
                ses[offset : offset + count] = sums / np.maximum(np.bincount(index, minlength=count), 1)
        sc["ses_index"] = ses
        sc["math_effect"] = rng.normal(0.0, cal.SCHOOL_EFFECT_SD["math"], n)
        sc["ela_effect"] = rng.normal(0.0, cal.SCHOOL_EFFECT_SD["ela"], n)
        sc["algebra_placement_effect"] = rng.normal(0.0, cal.ALG_SCHOOL_SD, n)
        sc["absence_effect"] = rng.normal(0.0, cal.ABSENCE_SHIFT["school_sd"], n)
        sc["climate_effect"] = rng.normal(0.0, 0.3, n)
        not_high = np.array([k[3] != "12" for k in kinds])
        candidates = np.flatnonzero(not_high & (ses <= np.median(ses[not_high])))
        k = min(len(candidates), max(2, round(n * cal.BEAT_THE_ODDS_SHARE)))
        bto = np.zeros(n, dtype=bool)
        bto[np.sort(rng.choice(candidates, size=k, replace=False))] = True
        sc["is_beat_the_odds"] = bto
        sc["math_effect"] += np.where(bto, cal.BEAT_THE_ODDS_BOOST, 0.0)
        sc["ela_effect"] += np.where(bto, cal.BEAT_THE_ODDS_BOOST, 0.0)
        sc["is_integrated_math"] = ~not_high & (rng.random(n) < cal.P_INTEGRATED_MATH_HIGH_SCHOOL)
        self.school_index = pd.Index(sc["school_code"])

    def staff_for_year(self, year: int, need: pd.DataFrame) -> pd.DataFrame:
        """The teachers of a year: last year's who stayed (one more year of experience, some
        now fully credentialed), trimmed or topped up with new hires to each school's need
        (columns school, subject, need). Teacher effects persist; novices lose a little."""
        rng, t = self.rng, self.teachers
        if len(t):
            t = t[rng.random(len(t)) >= cal.TEACHER_TURNOVER].copy()
            t["exp_total"] += 1
            t["exp_district"] += 1
            upgrade = t["credential"].isin(["INT", "EMR"]).to_numpy() & (rng.random(len(t)) < cal.P_UPGRADE_TO_FULL_CREDENTIAL)
            t.loc[upgrade, "credential"] = "PRE"
            t.loc[(t["credential"] == "PRE") & (t["exp_total"] >= 5), "credential"] = "CLR"
            t = t.merge(need, on=["school", "subject"], how="inner").sort_values(["school", "subject", "seid"])
            t = t[t.groupby(["school", "subject"]).cumcount().to_numpy() < t["need"].to_numpy()]
            t = t.drop(columns="need")
        have = t.groupby(["school", "subject"]).size() if len(t) else pd.Series(dtype=int)
        want = need.set_index(["school", "subject"])["need"]
        hires = (want - have.reindex(want.index).fillna(0)).clip(lower=0).astype(int)
        rep = np.repeat(np.arange(len(hires)), hires.to_numpy())
        m = len(rep)
        seid = self._new_seids(m)
        exp = rng.geometric(0.2, m) - 1
        u = rng.random(m)
        credential = np.where(
            u < cal.P_NEW_HIRE_INTERN,
            "INT",
            np.where(u < cal.P_NEW_HIRE_INTERN + cal.P_NEW_HIRE_EMERGENCY_PERMIT, "EMR", np.where(exp >= 5, "CLR", "PRE")),
        )
        hired = pd.DataFrame(
            {
                "school": hires.index.get_level_values(0).to_numpy()[rep],
                "subject": hires.index.get_level_values(1).to_numpy()[rep],
                "seid": seid,
                "local_staff_id": (self._staff_count + np.arange(m) + 1).astype(str),
                "base_effect": rng.normal(0.0, cal.TEACHER_EFFECT_SD, m),
                "credential": credential,
                "exp_total": exp.astype(int),
                "exp_district": 0,
                "first_name": rng.choice(FIRST_NAMES, m),
                "last_name": rng.choice(LAST_NAMES, m),
                "gender": np.where(rng.random(m) < 0.7, "F", "M"),
            }
        )
        self._staff_count += m
        t = pd.concat([t, hired], ignore_index=True) if len(t) else hired
        t = t.sort_values(["school", "subject", "seid"]).reset_index(drop=True)
        self.teachers = t
        return t.assign(effect=t["base_effect"] - cal.NOVICE_PENALTY * (t["exp_total"] < 2))

    def _new_seids(self, n: int) -> np.ndarray:
        """10-digit state educator ids, never reused."""
        out = np.empty(0, dtype=np.int64)
        while len(out) < n:
            draw = np.unique(self.rng.integers(10**9, 10**10, size=(n - len(out)) * 2, dtype=np.int64))
            draw = draw[~np.isin(draw, self._seids_used) & ~np.isin(draw, out)]
            out = np.concatenate([out, self.rng.permutation(draw)[: n - len(out)]])
        self._seids_used = np.concatenate([self._seids_used, out])
        return out.astype(str)

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
        self._add_traits(new, grade, race, year)
        start = 0 if self.students.empty else int(self.students["local_id"].max()) + 1
        new["local_id"] = np.arange(start, start + n) + 100000
        self.students = pd.concat([self.students, new], ignore_index=True)

    def _add_traits(self, new: pd.DataFrame, grade: np.ndarray, race: np.ndarray, year: int) -> None:
        """Persistent traits behind the outcomes: ability, SES, programs, English-learner status."""
        rng, n = self.rng, len(new)
        for r, shares in cal.HOME_LANGUAGE_BY_RACE.items():
            pick = race == r
            if pick.any():
                new.loc[pick, "home_language"] = _sample(rng, shares, int(pick.sum()))
        new["ability"] = rng.normal(0.0, 1.0, n)
        new["absence_propensity"] = rng.normal(0.0, cal.ABSENCE_PERSISTENT_SD, n)
        new["behaviour"] = rng.normal(0.0, 1.0, n)
        p_frl = pd.Series(race).map(cal.P_FRL_BY_RACE).to_numpy()
        logit = np.log(p_frl / (1 - p_frl)) + cal.FRL_LOGIT_OFFSET - self.area_ses[new["feeder"].to_numpy()]
        new["frl"] = rng.random(n) < 1 / (1 + np.exp(-logit))
        new["free_meal"] = rng.random(n) < cal.P_FREE_GIVEN_FRL
        new["swd"] = rng.random(n) < cal.P_SWD
        new["s504"] = ~new["swd"] & (rng.random(n) < cal.P_504)
        new["foster"] = rng.random(n) < cal.P_FOSTER
        english = new["home_language"].to_numpy() == "00"
        new["migrant"] = (new["home_language"].to_numpy() == "01") & (rng.random(n) < cal.P_MIGRANT_GIVEN_SPANISH)
        new["gate"] = (grade >= 3) & (new["ability"].to_numpy() + rng.normal(0, 0.4, n) > cal.GATE_ABILITY_THRESHOLD)
        elas = np.where(
            english, _sample(rng, cal.ELAS_AT_ENTRY_ENGLISH, n), _sample(rng, cal.ELAS_AT_ENTRY_NON_ENGLISH, n)
        )
        # Older entrants may already have been reclassified elsewhere.
        p_rfep = 1 - (1 - 0.12) ** np.maximum(grade.astype(int) - 1, 0)
        elas = np.where((elas == "EL") & (rng.random(n) < p_rfep), "RFEP", elas)
        new["elas"] = elas
        entry = np.datetime64(f"{year - 1}-08-15") - (grade.astype(int) * 365).astype("timedelta64[D]")
        new["elas_start"] = np.where(elas == "TBD", np.datetime64(f"{year - 1}-08-15"), entry).astype("datetime64[D]")
        new["el_years"] = np.where(elas == "EL", grade, 0).astype(np.int16)
        took_alg8 = rng.random(n) < 0.25
        new["math_level"] = np.clip(grade.astype(int) - 9 + took_alg8 - (rng.random(n) < 0.25), 0, 4).astype(np.int8)
        new["prior_math_z"] = np.nan
        new["prior_attendance"] = np.nan
        new["prior_suspended"] = False

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
        # The year-end outcome (graduated, dropped out, left over the summer) closes the
        # student's last record of the year: the new school's after a mid-year move, where the
        # first school's record closes as a transfer within the district (T160) with no
        # completion status. A completion status goes with a completer exit (E230) only.
        year_end = graduates | dropouts | leaves_summer
        year_end_reason = np.select([graduates, dropouts, leaves_summer], ["E230", "E300", "T200"], "")
        completion = np.where(graduates, "100", "")
        met_uc_csu = np.where(graduates, np.where(rng.random(n) < cal.P_MET_UC_CSU, "Y", "N"), "")
        exit_a = np.where(leaves | moves, event_day, np.datetime64("NaT"))
        exit_a = np.where(year_end & ~moves, last, exit_a)
        reason_a = np.select([moves, leaves], ["T160", "T200"], year_end_reason)
        first_rows = pd.DataFrame(
            {
                **common,
                "school_code": school_a,
                "start": start,
                "exit": exit_a.astype("datetime64[D]"),
                "exit_reason": reason_a,
                "completion_status": np.where(moves, "", completion),
                "met_uc_csu": np.where(moves, "", met_uc_csu),
                "student_index": np.arange(n),
            }
        )
        second_rows = pd.DataFrame(
            {
                **{k: v[moves] for k, v in common.items()},
                "school_code": school_b[moves],
                "start": start_b[moves],
                "exit": np.where(year_end, last, np.datetime64("NaT")).astype("datetime64[D]")[moves],
                "exit_reason": year_end_reason[moves],
                "completion_status": completion[moves],
                "met_uc_csu": met_uc_csu[moves],
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
        main_end = np.where(moves | np.isnat(exit_a), last, exit_a).astype("datetime64[D]")
        context = {
            "year": year,
            "students": students,
            "enrollments": enrollments,
            "main_school": np.where(moves, school_b, school_a),
            "main_start": np.where(moves, start_b, start).astype("datetime64[D]"),
            "main_end": main_end,
        }
        from p20.synth.outcomes import simulate_outcomes

        extra = simulate_outcomes(self, context)
        self._advance(year, leaves | leaves_summer | graduates | dropouts, moves, new_feeder)
        return {"enrollments": enrollments, "students": students, "census_truth": truth, **extra}

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


