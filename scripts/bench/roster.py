"""An outside-style roster against a synthetic district, for scripts/bench/link.py: the kind of
file a county or a partner sends (first and last name, ISO birth date, street address, town,
postcode), with errors planted by a process other than the generator's own (p20.synth.linkage).

About three in four rows are district students (their most frequent identity in SINF), the rest
people the district never had, drawn from the same name pools. Planted per row, independently:
typos in either name, first and last name swapped, a changed surname, a missing name or birth
date, day and month swapped, one date component off, a mistyped or reformatted street, a missing
or new address. Town and postcode are filled but the district has neither, so they are read and
not compared. The truth (line -> normalised SSID or blank) is written beside it in the layout
p20.link.quality reads.
"""

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from p20.synth.district import FIRST_NAMES, LAST_NAMES, STREETS

NOISE = {
    "first_typo": 0.06, "last_typo": 0.06, "names_swapped": 0.02, "surname_changed": 0.03,
    "first_missing": 0.01, "birth_date_missing": 0.04, "day_month_swapped": 0.04, "date_part_off": 0.03,
    "address_typo": 0.06, "street_spelled_out": 0.25, "address_missing": 0.05, "moved": 0.10,
}
TOWNS = ["Los Angeles", "Glendale", "Pasadena", "Inglewood", "Compton", "Burbank"]
ROSTER_COLUMNS = ["Record ID", "First Name", "Last Name", "DOB", "Street Address", "Town", "Postcode", "Program"]
CONFIG = """# An outside roster (scripts/bench/roster.py): its layout; the model is set by the bench.
extract: preschool_enrollments
folder: roster
file_pattern: '^roster_(\\d{4})\\.csv$'
one_student_per_year: true
identity:
  first_name: first_name
  last_name: last_name
  birth_date: dob
  address: street_address
  city: town
  postcode: postcode
date_formats:
  birth_date: ['%Y-%m-%d']
data:   # the roster carries no preschool data: the policy's columns read its blank 'program'
  site_code: program
  program_type: program
  school_year: program
  child_gender: program
  enrollment_date: program
  exit_date: program
  days_enrolled: program
  days_attended: program
drop: [record_id]
"""


def _typo(word: str, rng: np.random.Generator) -> str:
    """One letter dropped, doubled, replaced, or two adjacent letters swapped."""
    if len(word) < 3:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = rng.integers(0, 4)
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2:
        return word[:i] + "aeiouy"[int(rng.integers(0, 6))] + word[i + 1:]
    return word[:i - 1] + word[i] + word[i - 1] + word[i + 1:]


def write_roster(con: duckdb.DuckDBPyConnection, out: Path, year: int, n: int, seed: int) -> int:
    """Write out/roster/roster_<year>.csv and out/truth/linkage_preschool.csv from table
    `district` (p20.link.district_identities); returns the roster's rows."""
    rng = np.random.default_rng([seed, 14])
    district = con.execute(
        "select ssid_n, first_name, last_name, birth_date, address from district "
        "where first_name is not null and last_name is not null and birth_date is not null order by ssid_n"
    ).df()
    n_in = min(int(n * 0.75), len(district))
    people = district.iloc[np.sort(rng.choice(len(district), n_in, replace=False))].reset_index(drop=True)
    m = n - n_in
    born = pd.to_datetime(district["birth_date"], format="%Y%m%d")
    days = rng.integers(0, max((born.max() - born.min()).days, 1), m)
    outside = pd.DataFrame({
        "ssid_n": "",
        "first_name": rng.choice(FIRST_NAMES, m),
        "last_name": rng.choice(LAST_NAMES, m),
        "birth_date": (born.min() + pd.to_timedelta(days, unit="D")).strftime("%Y%m%d"),
        "address": [f"{a} {s} St" for a, s in zip(rng.integers(100, 9999, m), rng.choice(STREETS, m), strict=True)],
    })
    people = pd.concat([people, outside], ignore_index=True)
    people = people.iloc[rng.permutation(len(people))].reset_index(drop=True)
    rows, truth = [], []
    for i, p in enumerate(people.itertuples(index=False)):
        hit = {k: rng.random() < v for k, v in NOISE.items()}
        first, last = str(p.first_name).title(), str(p.last_name).title()
        if hit["first_typo"]:
            first = _typo(first, rng)
        if hit["last_typo"]:
            last = _typo(last, rng)
        if hit["surname_changed"]:
            last = str(rng.choice(LAST_NAMES))
        if hit["names_swapped"]:
            first, last = last, first
        if hit["first_missing"]:
            first = ""
        y, mo, d = p.birth_date[:4], p.birth_date[4:6], p.birth_date[6:]
        if hit["day_month_swapped"] and int(d) <= 12 and d != mo:
            mo, d = d, mo
        elif hit["date_part_off"]:
            part = rng.integers(0, 3)
            if part == 0:
                y, d = str(int(y) + int(rng.choice([-1, 1]))), min(d, "28")
            elif part == 1:
                mo, d = f"{(int(mo) % 12) + 1:02d}", min(d, "28")  # a real date: the roster's DOBs parse
            else:
                d = f"{max(1, min(28, int(d) + int(rng.choice([-2, -1, 1, 2])))):02d}"
        dob = "" if hit["birth_date_missing"] else f"{y}-{mo}-{d}"
        street = str(p.address).title() if p.address else ""
        if hit["moved"]:
            street = f"{rng.integers(100, 9999)} {rng.choice(STREETS)} St"
        if hit["address_typo"] and street:
            words = street.split(" ")
            j = 1 + int(rng.integers(0, max(len(words) - 2, 1)))
            words[j] = _typo(words[j], rng)
            street = " ".join(words)
        if hit["street_spelled_out"] and street.endswith(" St"):
            street = street[:-3] + " Street"
        if hit["address_missing"]:
            street = ""
        rows.append([
            f"R{i + 1:06d}", first, last, dob, street, str(rng.choice(TOWNS)),
            f"9{rng.integers(0, 10000):04d}", "",
        ])
        truth.append({"file": f"roster_{year}.csv", "line": i + 1, "ssid": p.ssid_n,
                      "noise": ";".join(k for k, v in hit.items() if v)})
    (out / "roster").mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=ROSTER_COLUMNS).to_csv(out / "roster" / f"roster_{year}.csv", index=False, lineterminator="\n")
    pd.DataFrame(truth).to_csv(out / "truth" / "linkage_preschool.csv", index=False)
    return len(rows)
