"""Records that carry no district id, with planted truth: a county preschool file and a
National Student Clearinghouse (NSC) StudentTracker detail report (part of `p20 synth`).

- raw/preschool/preschool_<year>.csv: one row per child per program year (county/state preschool
  enrolments: site, program type, child's name, birth date, gender, home address, dates and
  attendance), for about 45% of the district's kindergarten entrants (a year before kindergarten,
  some two years) and for children who never enrol in the district (about a third more), with a
  few twins of district children who do not (same surname, birth date and address).
- raw/nsc/nsc_detail_<year>.csv: the NSC detail layout of docs/formats.md (CSV with header, one row
  per enrolment period; "N" rows keep the name and nothing else; ~5% of students found carry a
  FERPA block: "Y" with every college field blank) for the district's grade-12 leavers
  (graduates and drop-outs) plus ~3% who were never in the district's extracts. <year> is the
  school year of the request: the one after the last synthesised year (asked in December, with
  enrolments up to 31 December).
  "Your Unique Identifier" is blank: the file carries no district id. The requester return field
  carries the birth date the requester submitted (CCYYMMDD, blank when unknown), because the
  detail report has no birth-date column of its own and names alone do not separate students.

Identity noise, planted per row (preschool) or per student (NSC) and recorded in the truth:
typos (two letters swapped or one dropped), nicknames, hyphenated or double surnames, first and
last name swapped, missing or mistyped birth dates (day and month transposed), wrong gender,
a new address. The truth (row -> SSID or none, and the planted noise) goes to
truth/linkage_preschool.csv and truth/linkage_college.csv, with truth/linkage_outcomes.csv (per
district student: preschool attended, grade-12 exit, first college enrolment as the files show
it): custodian only. The generator draws from its own random stream ([seed, 20] and [seed, 21]),
so the CALPADS extracts are the same bytes with or without it.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from p20.synth.district import FIRST_NAMES, LAST_NAMES, STREETS, _yyyymmdd

PRESCHOOL_DIR, NSC_DIR = "preschool", "nsc"
P_PRESCHOOL = 0.45  # of kindergarten entrants: a county/state preschool the year before
P_TWO_YEARS = 0.30  # of them: also the year before that (age 3)
NON_DISTRICT_SHARE = 0.35  # preschool children who never enrol in the district, per district child
P_TWIN = 0.02  # district preschool children with a twin who never enrols in the district
P_COLLEGE = {"E230": 0.62, "E300": 0.12}  # leavers found enrolled in college (graduates, drop-outs)
P_DELAYED = 0.15  # of those found: first enrolment one or two years after leaving
P_FERPA = 0.05  # of those found: a FERPA block
NSC_NON_DISTRICT_SHARE = 0.03
# Planted noise (per preschool row, per NSC student).
NOISE = {
    "first_typo": 0.04,
    "nickname": 0.05,
    "last_typo": 0.02,
    "hyphenated": 0.03,
    "double_surname": 0.02,
    "names_swapped": 0.01,
    "birth_date_missing": 0.04,
    "birth_date_transposed": 0.015,
    "gender_wrong": 0.02,
    "moved": 0.15,
}
NICKNAMES = {
    "Sebastian": "Sebas", "Isabella": "Bella", "Valentina": "Vale", "Leonardo": "Leo",
    "Santiago": "Santi", "Daniel": "Danny", "Gabriel": "Gabe", "Camila": "Cami", "Elijah": "Eli",
    "Jose": "Pepe", "Miguel": "Mike", "Kimberly": "Kim", "Ashley": "Ash", "Fernanda": "Fer",
    "Jasmine": "Jazz", "Olivia": "Liv", "Andrea": "Andy", "Luis": "Lucho", "Kevin": "Kev",
    "Carlos": "Charlie", "Lucia": "Lucy", "Ximena": "Xime", "Alejandro": "Alex", "Adrian": "Adi",
    "Sofia": "Sofi", "Mateo": "Teo", "Gabriela": "Gaby", "Angel": "Angelito", "Diego": "Dieguito",
}
PROGRAMS = np.array(["CSPP-PD", "CSPP-FD", "HDST"])  # state preschool part/full day, Head Start
# Colleges (OPEID6-branch; synthetic codes), name, state, 2/4-year, public/private.
COLLEGES = [
    ("001227-00", "LOS ANGELES CITY COLLEGE", "CA", "2", "Public"),
    ("001228-00", "EAST LOS ANGELES COLLEGE", "CA", "2", "Public"),
    ("001233-00", "LOS ANGELES TRADE TECHNICAL COLLEGE", "CA", "2", "Public"),
    ("001283-00", "SANTA MONICA COLLEGE", "CA", "2", "Public"),
    ("001140-00", "CALIFORNIA STATE UNIVERSITY-LOS ANGELES", "CA", "4", "Public"),
    ("001153-00", "CALIFORNIA STATE UNIVERSITY-NORTHRIDGE", "CA", "4", "Public"),
    ("001315-00", "UNIVERSITY OF CALIFORNIA-LOS ANGELES", "CA", "4", "Public"),
    ("001328-00", "UNIVERSITY OF SOUTHERN CALIFORNIA", "CA", "4", "Private"),
    ("001234-00", "LOYOLA MARYMOUNT UNIVERSITY", "CA", "4", "Private"),
    ("003798-00", "UNIVERSITY OF ARIZONA", "AZ", "4", "Public"),
    ("041234-00", "LOS ANGELES BEAUTY ACADEMY", "CA", "L", "Private"),
]
NSC_COLUMNS = [
    "Your Unique Identifier", "First Name", "Middle Initial", "Last Name", "Name Suffix",
    "Requester Return Field", "Record Found Y/N", "High School Code", "High School Grad Date",
    "College Code/Branch", "College Name", "College State", "2-year / 4-year", "Public / Private",
    "Enrollment Begin", "Enrollment End", "Enrollment Status", "Graduated?", "Graduation Date",
    "Degree Title", "Degree Major", "College Sequence", "Program Code",
]
PRESCHOOL_COLUMNS = [
    "site_code", "program_type", "school_year", "child_first_name", "child_last_name",
    "child_birth_date", "child_gender", "home_address", "enrollment_date", "exit_date",
    "days_enrolled", "days_attended",
]


class LinkageCollector:
    """Collects, year by year, the true identities of kindergarten entrants and grade-12
    leavers (names before the year's typos), then writes the two sources and their truth."""

    def __init__(self):
        self.kindergarten: list[pd.DataFrame] = []
        self.leavers: list[pd.DataFrame] = []
        self.seen: set[int] = set()

    def add_year(self, year: int, true_first_names: np.ndarray, out: dict) -> None:
        s = out["students"]
        identity = pd.DataFrame(
            {
                "ssid": pd.Series(s["ssid_int"].to_numpy()).astype(str).str.zfill(10).to_numpy(),
                "ssid_int": s["ssid_int"].to_numpy(),
                "first_name": true_first_names,
                "last_name": s["last_name"].to_numpy(),
                "birth_date": s["birth_date"].to_numpy(),
                "gender": s["gender"].to_numpy(),
                "address": s["address"].to_numpy(),
                "feeder": s["feeder"].to_numpy(),
            }
        )
        kn = identity[(s["grade"].to_numpy() == 0) & ~identity["ssid_int"].isin(self.seen)]
        self.seen.update(kn["ssid_int"].tolist())
        self.kindergarten.append(kn.assign(kindergarten_year=year))
        e = out["enrollments"]
        leaving = ((e["grade_level"] == "12") & e["exit_reason"].isin(["E230", "E300"])).to_numpy()
        idx = e["student_index"].to_numpy()[leaving]
        self.leavers.append(
            identity.iloc[idx].assign(
                leave_year=year,
                exit_reason=e["exit_reason"].to_numpy()[leaving],
                high_school_code=e["school_code"].to_numpy()[leaving],
                exit_date=e["exit"].to_numpy()[leaving],
            )
        )

    def write(self, raw: Path, truth: Path, seed: int, years: range) -> dict[str, int]:
        """Write the sources under raw/ and their truth under truth/; rows per file."""
        rows: dict[str, int] = {}
        kn = pd.concat(self.kindergarten, ignore_index=True)
        leavers = pd.concat(self.leavers, ignore_index=True)
        pre, pre_truth, pre_outcomes = _preschool(kn, np.random.default_rng([seed, 20]), years)
        (raw / PRESCHOOL_DIR).mkdir()
        for year, frame in pre.groupby("school_year", sort=True):
            name = f"preschool_{year}.csv"
            frame[PRESCHOOL_COLUMNS].to_csv(raw / PRESCHOOL_DIR / name, index=False, lineterminator="\n")
            rows[f"{PRESCHOOL_DIR}/{name}"] = len(frame)
        pre_truth.to_csv(truth / "linkage_preschool.csv", index=False)
        request_year = years.stop  # asked in the fall after the last school year
        nsc, nsc_truth, nsc_outcomes = _college(leavers, np.random.default_rng([seed, 21]), request_year)
        (raw / NSC_DIR).mkdir()
        name = f"nsc_detail_{request_year}.csv"
        nsc[NSC_COLUMNS].to_csv(raw / NSC_DIR / name, index=False, lineterminator="\n")
        rows[f"{NSC_DIR}/{name}"] = len(nsc)
        nsc_truth.assign(file=name).to_csv(truth / "linkage_college.csv", index=False)
        outcomes = pd.DataFrame({"ssid": pd.concat([kn["ssid"], leavers["ssid"]]).unique()})
        outcomes["attended_preschool"] = outcomes["ssid"].isin(pre_outcomes)
        outcomes = outcomes.merge(nsc_outcomes, on="ssid", how="left")
        outcomes["leave_year"] = outcomes["leave_year"].astype("Int64")
        outcomes.sort_values("ssid").to_csv(truth / "linkage_outcomes.csv", index=False)
        return rows


def _noise(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {kind: rng.random(n) < p for kind, p in NOISE.items()}


def _typo(names: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two adjacent letters swapped, or one letter dropped."""
    out = []
    for name, u, pos in zip(names, rng.random(len(names)), rng.integers(1, 100, len(names)), strict=True):
        i = 1 + pos % max(len(name) - 2, 1)
        out.append(name[:i] + name[i + 1] + name[i] + name[i + 2 :] if u < 0.5 and i + 1 < len(name) else name[:i] + name[i + 1 :])
    return np.array(out, dtype=object)


def _apply_identity_noise(
    frame: pd.DataFrame, rng: np.random.Generator, with_gender: bool = True
) -> tuple[pd.DataFrame, list[str]]:
    """Noisy copies of first_name, last_name, birth_date (CCYYMMDD text), gender, address;
    returns the frame and, per row, the noise planted (';'-joined)."""
    n = len(frame)
    noise = _noise(rng, n)
    first = frame["first_name"].to_numpy().astype(object)
    last = frame["last_name"].to_numpy().astype(object)
    nick = np.array([NICKNAMES.get(f, "") for f in first], dtype=object)
    noise["nickname"] &= nick != ""
    first = np.where(noise["nickname"], nick, first)
    first = np.where(noise["first_typo"], _typo(first, rng), first)
    last = np.where(noise["last_typo"], _typo(last, rng), last)
    other = rng.choice(LAST_NAMES, n)
    noise["hyphenated"] &= ~noise["last_typo"]
    noise["double_surname"] &= ~noise["last_typo"] & ~noise["hyphenated"]
    last = np.where(noise["hyphenated"], last + "-" + other, last)
    last = np.where(noise["double_surname"], last + " " + other, last)
    first, last = np.where(noise["names_swapped"], last, first), np.where(noise["names_swapped"], first, last)
    born = frame["birth_date"].to_numpy().astype("datetime64[D]")
    text = _yyyymmdd(born).astype(object)
    day = np.array([t[6:] for t in text], dtype=object)
    month = np.array([t[4:6] for t in text], dtype=object)
    noise["birth_date_transposed"] &= (day.astype(int) <= 12) & (day != month)
    text = np.where(noise["birth_date_transposed"], np.array([t[:4] for t in text], dtype=object) + day + month, text)
    noise["birth_date_missing"] &= ~noise["birth_date_transposed"]
    text = np.where(noise["birth_date_missing"], "", text)
    out = frame.assign(first_name=first, last_name=last, birth_date_text=text)
    if with_gender:
        flipped = np.where(frame["gender"].to_numpy() == "F", "M", "F")
        out["gender"] = np.where(noise["gender_wrong"], flipped, frame["gender"].to_numpy())
        moved = rng.integers(100, 9999, n).astype(str).astype(object) + " " + rng.choice(STREETS, n) + " St"
        out["address"] = np.where(noise["moved"], moved, frame["address"].to_numpy())
    else:
        noise.pop("gender_wrong"), noise.pop("moved")
    labels = [";".join(k for k in noise if noise[k][i]) for i in range(n)]
    return out, labels


def _random_identities(rng: np.random.Generator, n: int, born_from: np.ndarray, born_days: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ssid": "",
            "first_name": rng.choice(FIRST_NAMES, n),
            "last_name": rng.choice(LAST_NAMES, n),
            "birth_date": (born_from + rng.integers(0, born_days, n).astype("timedelta64[D]")).astype("datetime64[D]"),
            "gender": np.where(rng.random(n) < 0.5, "F", "M"),
            "address": (pd.Series(rng.integers(100, 9999, n)).astype(str) + " " + rng.choice(STREETS, n) + " St").to_numpy(),
        }
    )


def _preschool(kn: pd.DataFrame, rng: np.random.Generator, years: range):
    """Preschool rows (program school years before kindergarten), their truth, and the SSIDs
    of the district children who attended."""
    kn = kn.sort_values(["kindergarten_year", "ssid"]).reset_index(drop=True)
    attends = rng.random(len(kn)) < P_PRESCHOOL
    two = rng.random(len(kn)) < P_TWO_YEARS
    children = kn[attends].assign(kind="district", two_years=two[attends])
    twins = children[rng.random(len(children)) < P_TWIN]
    twins = twins.assign(
        ssid="", kind="twin", first_name=rng.choice(FIRST_NAMES, len(twins)),
        gender=np.where(rng.random(len(twins)) < 0.5, "F", "M"),
    )
    outside = []
    for year, group in children.groupby("kindergarten_year"):
        m = int(round(len(group) * NON_DISTRICT_SHARE))
        born_from = np.datetime64(f"{year - 6}-09-02")  # five on 1 September of the K year
        outside.append(
            _random_identities(rng, m, born_from, 365).assign(
                kind="non_district", kindergarten_year=year, feeder=rng.integers(0, max(kn["feeder"].max() + 1, 1), m),
                two_years=rng.random(m) < P_TWO_YEARS,
            )
        )
    people = pd.concat([children, twins, *outside], ignore_index=True)
    one = people.assign(school_year=people["kindergarten_year"] - 1)
    both = people[people["two_years"]].assign(school_year=people["kindergarten_year"] - 2)
    rows = pd.concat([one, both], ignore_index=True)
    rows = rows[rows["school_year"] >= years.start - 2].reset_index(drop=True)
    rows, noise = _apply_identity_noise(rows, rng)
    n = len(rows)
    sy = rows["school_year"].to_numpy()
    start = np.array([np.datetime64(f"{y - 1}-08-20") for y in sy]) + rng.integers(0, 40, n).astype("timedelta64[D]")
    end = np.array([np.datetime64(f"{y}-06-05") for y in sy]) - rng.integers(0, 30, n).astype("timedelta64[D]")
    enrolled = np.round((end - start).astype(int) * 5 / 7 * 0.93).astype(int)
    attended = np.round(enrolled * np.clip(rng.normal(0.88, 0.07, n), 0.4, 1.0)).astype(int)
    out = pd.DataFrame(
        {
            "site_code": np.char.add("PS", (100 + rows["feeder"].to_numpy().astype(int) * 3 % 97).astype(str)),
            "program_type": PROGRAMS[rng.integers(0, len(PROGRAMS), n)],
            "school_year": sy,
            "child_first_name": rows["first_name"].to_numpy(),
            "child_last_name": rows["last_name"].to_numpy(),
            "child_birth_date": rows["birth_date_text"].to_numpy(),
            "child_gender": rows["gender"].to_numpy(),
            "home_address": rows["address"].to_numpy(),
            "enrollment_date": _yyyymmdd(start),
            "exit_date": _yyyymmdd(end),
            "days_enrolled": enrolled,
            "days_attended": attended,
            "ssid": rows["ssid"].to_numpy(),
            "kind": rows["kind"].to_numpy(),
            "noise": noise,
        }
    )
    # A county file lists children by site and name, not by the order they were generated.
    out = out.sort_values(["school_year", "site_code", "child_last_name", "child_first_name", "child_birth_date"], kind="stable")
    out["line"] = out.groupby("school_year").cumcount() + 1
    truth = pd.DataFrame(
        {
            "file": "preschool_" + out["school_year"].astype(str) + ".csv",
            "line": out["line"],
            "ssid": out["ssid"],
            "kind": out["kind"],
            "noise": out["noise"],
        }
    )
    return out, truth, set(out.loc[out["kind"] == "district", "ssid"])


def _college(leavers: pd.DataFrame, rng: np.random.Generator, request_year: int):
    """NSC detail rows for the leavers (and a few students the district never had), the truth
    per row, and per leaver the first enrolment the file shows."""
    leavers = leavers.sort_values(["leave_year", "ssid"]).reset_index(drop=True).assign(kind="district")
    m = int(round(len(leavers) * NSC_NON_DISTRICT_SHARE))
    pick = rng.integers(0, max(len(leavers), 1), m)
    outside = _random_identities(rng, m, np.datetime64("1995-01-01"), 365 * 12).assign(
        kind="non_district",
        leave_year=leavers["leave_year"].to_numpy()[pick],
        exit_reason="E230",
        high_school_code=leavers["high_school_code"].to_numpy()[pick],
        exit_date=leavers["exit_date"].to_numpy()[pick],
    )
    people = pd.concat([leavers, outside], ignore_index=True)
    people = people.iloc[rng.permutation(len(people))].reset_index(drop=True)
    people, noise = _apply_identity_noise(people, rng, with_gender=False)
    n = len(people)
    found = rng.random(n) < people["exit_reason"].map(P_COLLEGE).to_numpy()
    blocked = found & (rng.random(n) < P_FERPA)
    delay = np.where(rng.random(n) < P_DELAYED, rng.integers(1, 3, n), 0)
    as_of = np.datetime64(f"{request_year - 1}-12-31")
    college_pick = rng.choice(len(COLLEGES), n, p=_college_shares())
    rows, outcome = [], []
    middle = np.where(rng.random(n) < 0.3, rng.choice(list("ABCDEFGJLMRS"), n), "")
    suffix = np.where(rng.random(n) < 0.01, "JR", "")
    for i in range(n):
        p = people.iloc[i]
        graduated_hs = p["exit_reason"] == "E230"
        ident = {
            "Your Unique Identifier": "",
            "First Name": p["first_name"],
            "Middle Initial": middle[i],
            "Last Name": p["last_name"],
            "Name Suffix": suffix[i],
            "Requester Return Field": p["birth_date_text"],
            "High School Code": p["high_school_code"],
            "High School Grad Date": _yyyymmdd(np.array([p["exit_date"]]))[0] if graduated_hs else "",
        }
        truth = {"ssid": p["ssid"], "kind": p["kind"], "noise": noise[i], "person": i + 1}
        first_begin, first_level = "", ""
        if not found[i]:
            rows.append({**ident, "Record Found Y/N": "N", **truth})
        elif blocked[i]:
            rows.append({**ident, "Record Found Y/N": "Y", **truth})
        else:
            periods = _periods(rng, COLLEGES[college_pick[i]], int(p["leave_year"]) + int(delay[i]), as_of)
            for seq, period in enumerate(periods):
                rows.append({**ident, "Record Found Y/N": "Y", **period, **truth})
                if seq == 0:
                    first_begin, first_level = period["Enrollment Begin"], period["2-year / 4-year"]
        if p["kind"] == "district":
            outcome.append(
                {
                    "ssid": p["ssid"], "leave_year": int(p["leave_year"]), "exit_reason": p["exit_reason"],
                    "nsc_found": bool(found[i]), "nsc_blocked": bool(blocked[i]),
                    "first_college_begin": first_begin, "first_college_level": first_level,
                }
            )
    frame = pd.DataFrame(rows)
    for col in NSC_COLUMNS:
        if col not in frame:
            frame[col] = ""
    frame = frame.fillna("")
    truth = frame[["ssid", "kind", "noise", "person"]].assign(line=np.arange(1, len(frame) + 1))
    return frame, truth[["line", "person", "ssid", "kind", "noise"]], pd.DataFrame(outcome)


def _college_shares() -> np.ndarray:
    weights = np.array([0.16, 0.14, 0.08, 0.10, 0.14, 0.10, 0.07, 0.06, 0.05, 0.03, 0.07])
    return weights / weights.sum()


def _periods(rng: np.random.Generator, college: tuple, first_fall: int, as_of: np.datetime64) -> list[dict]:
    """Fall and spring terms from the fall after leaving (+ delay) until the student stops,
    transfers (2-year -> 4-year) or graduates, cut at the request date."""
    code, name, state, level, control = college
    out, seq, terms = [], 1, 0
    keep_on = rng.uniform(0.75, 0.95)
    term_year, fall = first_fall, True
    while True:
        begin = np.datetime64(f"{term_year}-08-{rng.integers(18, 29)}") if fall else np.datetime64(f"{term_year + 1}-01-{rng.integers(10, 25)}")
        end = np.datetime64(f"{term_year}-12-{rng.integers(10, 20)}") if fall else np.datetime64(f"{term_year + 1}-05-{rng.integers(10, 25)}")
        if begin > as_of:
            break
        terms += 1
        finishing = (level == "4" and terms >= 8 and rng.random() < 0.6) or (level == "2" and terms >= 4 and rng.random() < 0.3)
        status = "F" if rng.random() < 0.6 else str(rng.choice(["Q", "H", "L"]))
        out.append(
            {
                "College Code/Branch": code, "College Name": name, "College State": state,
                "2-year / 4-year": level, "Public / Private": control,
                "Enrollment Begin": _yyyymmdd(np.array([begin]))[0], "Enrollment End": _yyyymmdd(np.array([end]))[0],
                "Enrollment Status": status,
                "Graduated?": "Y" if finishing else "N",
                "Graduation Date": _yyyymmdd(np.array([end]))[0] if finishing else "",
                "Degree Title": ("BACHELOR OF ARTS" if level == "4" else "ASSOCIATE IN ARTS") if finishing else "",
                "Degree Major": "LIBERAL ARTS" if finishing else "",
                "College Sequence": str(seq),
            }
        )
        if finishing or rng.random() > keep_on:
            break
        if level == "2" and terms >= 4 and rng.random() < 0.25:  # transfer to a 4-year college
            code, name, state, level, control = COLLEGES[int(rng.choice([4, 5, 6]))]
            seq += 1
        fall = not fall
        if fall:
            term_year += 1
    return out
