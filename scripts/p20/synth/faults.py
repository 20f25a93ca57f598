"""`p20 synth --faults`: deliberately broken extracts, one folder per fault, for gate tests.

Each fault copies the head (at most 200 lines) of one clean extract of the last school year and
breaks it in one way, then writes it under faults/<label>/ with the clean name, so a test can
point `p20 pseudonymise` (stage "raw": a raw extract) or `p20 load` (stage "outbox": an
outbox-layout file whose token columns hold stand-in 64-hex values; a test adds the manifest)
at it. faults/faults.json lists every fault with its label, file, stage, a description and the
rule expected to catch it ("not yet enforced" where no rule exists yet).
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from p20.policy import extract_by_raw_code
from p20.textio import write_json_atomic

HEAD_LINES = 200
ENCODING = "p20 pseudonymise refuses: file is not valid UTF-8 text"


class _Faults:
    def __init__(self, raw: Path, out: Path, year: int, rng: np.random.Generator):
        self.raw, self.out, self.year, self.rng = raw, out, year, rng
        self.index: list[dict] = []

    def lines(self, code: str, limit: int | None = HEAD_LINES) -> list[list[str]]:
        text = (self.raw / f"{code}_{self.year}.txt").read_bytes().decode("utf-8")
        rows = [line.split("^") for line in text.split("\r\n") if line]
        return rows[:limit] if limit else rows

    def pos(self, code: str, column: str) -> int:
        return next(c.position for c in extract_by_raw_code()[code].columns if c.raw_column == column) - 1

    def some(self, rows: list, k: int = 3) -> list[int]:
        return sorted(self.rng.choice(len(rows), size=min(k, len(rows)), replace=False).tolist())

    def write(self, label, code, data, description, expected, stage="raw"):
        extract = extract_by_raw_code()[code]
        name = f"{code}_{self.year}.txt" if stage == "raw" else f"{extract.name}_{self.year}.txt"
        folder = self.out / label
        folder.mkdir(parents=True, exist_ok=True)
        if isinstance(data, list):
            data = "".join("^".join(r) + "\r\n" for r in data).encode("utf-8")
        (folder / name).write_bytes(data)
        self.index.append(
            {
                "label": label,
                "file": f"{label}/{name}",
                "stage": stage,
                "extract": extract.name,
                "raw_file_code": code,
                "school_year": self.year,
                "description": description,
                "expected": expected,
            }
        )

    def set_field(self, code, column, value, k=3, rows=None):
        rows = rows or self.lines(code)
        p = self.pos(code, column)
        for i in self.some(rows, k):
            rows[i][p] = value(rows[i][p]) if callable(value) else value
        return rows

    def outbox(self, code: str, rows: list[list[str]]) -> list[list[str]]:
        """The outbox layout of raw rows, with stand-in tokens (not made with any real key)."""
        out = []
        for r in rows:
            row = []
            for c in extract_by_raw_code()[code].columns:
                v = r[c.position - 1]
                if c.action == "keep":
                    row.append(v)
                elif c.action == "coarsen":
                    row.append(v.strip()[:6])
                elif c.action == "tokenise":
                    norm = v.strip().lstrip("0")
                    row.append(hashlib.sha256(f"synth-fault|{c.id_kind}|{norm}".encode()).hexdigest() if norm else "")
            out.append(row)
        return out

    def outbox_col(self, code: str, column: str) -> int:
        return extract_by_raw_code()[code].outbox_columns.index(column)


def write_faults(raw: Path, out: Path, year: int, rng: np.random.Generator) -> list[dict]:
    f = _Faults(raw, out, year, rng)
    refuse = "p20 pseudonymise refuses: rule 'column policy'"
    delimiter = "p20 pseudonymise refuses: rule 'caret delimiter'"
    gate = "p20 load rejects: rule "

    rows = [r[:-1] for r in f.lines("SENR")]
    f.write("missing_column", "SENR", rows, "every line lacks its last field", refuse)
    rows = [[*r, "free text about the student"] for r in f.lines("SINF")]
    f.write("extra_column", "SINF", rows, "every line has an extra free-text field", refuse)
    rows = [[*r[:4], "", *r[4:-1]] for r in f.lines("SENR")]
    f.write("shifted_columns", "SENR", rows, "an empty field after field 4 shifts the rest (same count)",
            gate + "'school_code is present' / 'academic_year is the file's school year'")
    data = "".join("|".join(r) + "\r\n" for r in f.lines("SENR")).encode()
    f.write("wrong_delimiter", "SENR", data, "pipe-delimited instead of caret", delimiter)
    header = "^".join(c.raw_column for c in extract_by_raw_code()["SENR"].columns) + "\r\n"
    data = header.encode() + "".join("^".join(r) + "\r\n" for r in f.lines("SENR")).encode()
    f.write("header_row", "SENR", data, "a header row of column names first", "p20 pseudonymise refuses: rule 'no header row'")
    data = "".join("^".join(r) + "\r\n" for r in f.lines("STAS")).encode()
    f.write("truncated_file", "STAS", data[: len(data) * 2 // 3 - 7], "file cut off in the middle of a line",
            "p20 pseudonymise refuses: rule 'complete last line'")
    f.write("empty_file", "SPRG", b"", "zero bytes", gate + "'file has at least one row'")
    rows = f.lines("SENR")
    rows += [list(rows[i]) for i in f.some(rows, 5)]
    f.write("duplicate_keys", "SENR", rows, "five enrolment lines repeated",
            gate + "'one row per student, school, start date and status'")
    f.write("nulls_in_required_fields", "SENR", f.set_field("SENR", "grade_level", ""),
            "grade_level blank on three lines", gate + "'grade_level is present'")
    f.write("code_outside_code_set", "SENR", f.set_field("SENR", "grade_level", "13"),
            "grade level 13 (not in seeds/grade_levels)", gate + "'grade_level is in seeds/grade_levels'")
    f.write("out_of_range_scores", "CAAS", f.set_field("CAAS", "scale_score", lambda v: "1999" if int(v) % 2 else "3100"),
            "scale scores outside 2114-2862", gate + "'scale_score lies within the Smarter Balanced range 2114-2862'")
    f.write("achievement_level_out_of_range", "CAAS", f.set_field("CAAS", "achievement_level", "5"),
            "achievement level 5", gate + "'achievement_level is one of 1, 2, 3, 4'")
    f.write("out_of_range_dates", "SENR", f.set_field("SENR", "enrollment_start_date", "20231341"),
            "month 13, day 41", gate + "'enrollment_start_date is a CCYYMMDD date'")
    rows = f.lines("STAS")
    pe, pa = f.pos("STAS", "days_expected"), f.pos("STAS", "days_attended")
    for i in f.some(rows):
        rows[i][pa] = str(int(rows[i][pe]) + 5)
    f.write("attended_more_than_expected", "STAS", rows, "days attended exceed days expected",
            gate + "'days_attended is at most days_expected'")
    rows = f.lines("SENR")
    pr, pc = f.pos("SENR", "exit_reason"), f.pos("SENR", "completion_status")
    for i in f.some(rows):
        rows[i][pr], rows[i][pc] = "T160", "100"
    f.write("completion_status_on_transfer", "SENR", rows,
            "graduated (100) on a transfer within the district (T160), not a completer exit",
            gate + "'completion_status only with a completer exit (seeds/exit_reason_codes is_completer)'")
    f.write("unknown_school", "SENR", f.set_field("SENR", "school_code", "0000000"),
            "school code not in that year's schools extract", gate + "'school_code is a school in that year's schools extract'")
    f.write("wrong_school_year", "SENR", f.set_field("SENR", "academic_year", f"{year - 2}-{year - 1}", k=HEAD_LINES),
            "every line carries the previous school year", gate + "'academic_year is the file's school year'")
    rows = f.outbox("SENR", f.lines("SENR"))
    t = f.outbox_col("SENR", "student_token")
    ssid = f.lines("SENR")
    for i in f.some(rows):
        rows[i][t] = ssid[i][f.pos("SENR", "ssid")].strip().zfill(10)
    f.write("raw_ssid_in_token_column", "SENR", rows, "raw 10-digit SSIDs where tokens belong (outbox file)",
            gate + "'student_token is a 64-hex token, never a raw SSID'", stage="outbox")
    rows = f.lines("SINF")
    pl, pn = f.pos("SINF", "home_language"), f.pos("SINF", "last_name")
    for i in f.some(rows):
        rows[i][pl] = rows[i][pn]
    f.write("names_in_kept_column", "SINF", rows, "last names in the kept home_language column",
            gate + "'home_language is a 2-digit language code'")
    rows = f.outbox("SINF", f.lines("SINF"))
    b = f.outbox_col("SINF", "birth_year_month")
    raw_rows = f.lines("SINF")
    for i in f.some(rows):
        rows[i][b] = raw_rows[i][f.pos("SINF", "birth_date")]
    f.write("full_birth_dates", "SINF", rows, "exact CCYYMMDD birth dates where CCYYMM belongs (outbox file)",
            "p20 load rejects: the birth_year_month rule (never a full birth date)", stage="outbox")
    rows = f.set_field("CAAS", "scale_score", lambda v: f"{int(v) / 1000:.2f}E+03")
    rows = f.set_field("CAAS", "reporting_lea", "1.96E+06", rows=rows)
    f.write("excel_mangled_numbers", "CAAS", rows, "scale scores and LEA codes as Excel scientific notation",
            gate + "'scale_score is a 4-digit scale score' / 'reporting_lea is a 7-digit LEA code'")
    rows = f.outbox("CAAS", f.lines("CAAS"))
    t = f.outbox_col("CAAS", "student_token")
    for i in f.some(rows):
        rows[i][t] = "3.53E+19"
    f.write("excel_mangled_ids", "CAAS", rows, "student ids mangled to 3.53E+19 (outbox file)",
            gate + "'student_token is a 64-hex token, never a raw SSID'", stage="outbox")
    data = "".join("^".join(r) + "\r\n" for r in f.lines("SINF")).encode("utf-8")
    pos = data.index(b"^", data.index(b"\r\n") + 2)
    data = data[: pos + 1] + "Mu\xf1oz".encode("latin-1") + data[pos + 1 :]
    f.write("non_utf8_bytes", "SINF", data, "a Latin-1 byte (n with tilde) on line 2",
            ENCODING)
    rows = f.lines("SENR", limit=None)
    f.write("row_count_far_below_previous_year", "SENR", rows[: max(1, len(rows) // 20)],
            "5% of the year's enrolment lines", "not yet enforced: a row-count-vs-previous-year rule (issue 5)")
    data = b"\xef\xbb\xbf" + "".join("^".join(r) + "\r\n" for r in f.lines("SENR")).encode()
    f.write("byte_order_mark", "SENR", data, "a UTF-8 byte-order mark before the first field",
            "accepted: the reader strips a UTF-8 byte-order mark (a fault the pipeline tolerates)")
    f.write("wrong_record_type", "SENR", f.set_field("SENR", "record_type", "SINF"),
            "SINF record type inside an SENR file", gate + "'record_type is SENR'")
    f.write("negative_days", "STAS", f.set_field("STAS", "days_excused", "-3"),
            "negative excused-absence days", gate + "'days_excused is a whole number of at most 3 digits'")
    f.write("mark_outside_code_set", "SCSC", f.set_field("SCSC", "final_grade", "E"),
            "final mark E (not in seeds/marks)", gate + "'final_grade is in seeds/marks'")
    f.write("credits_earned_exceed_attempted", "SCSC", f.set_field("SCSC", "credits_earned", "20.00"),
            "credits earned above credits attempted", gate + "'credits_earned is at most credits_attempted'")
    f.write("unknown_program_code", "SPRG", f.set_field("SPRG", "program_code", "999"),
            "program code 999", gate + "'program_code is in seeds/program_codes'")
    f.write("elas_code_outside_code_set", "SELA", f.set_field("SELA", "elas_code", "LEP"),
            "ELAS code LEP (an old label, not in seeds/elas_codes)", gate + "'elas_code is in seeds/elas_codes'")
    rows = [[f'"{v}"' for v in r] for r in f.lines("SENR")]
    f.write("quoted_fields", "SENR", rows, "every field wrapped in double quotes", gate + "'record_type is SENR' and code sets")
    f.write("trailing_space_in_code", "SENR", f.set_field("SENR", "enrollment_status", "10 "),
            "enrolment status '10 ' with a trailing space", gate + "'enrollment_status is in seeds/enrollment_status_codes'")
    rows = f.outbox("CRSC", f.lines("CRSC"))
    t = f.outbox_col("CRSC", "teacher_token")
    for r in rows[:3]:
        r[t] = r[t].upper()
    f.write("malformed_token", "CRSC", rows, "upper-case hex teacher tokens (outbox file)",
            gate + "'teacher_token is a 64-hex token, never a raw educator id'", stage="outbox")
    f.write("unknown_course_code", "CRSC", f.set_field("CRSC", "state_course_code", "9999", k=1),
            "state course code 9999", gate + "'state_course_code is in seeds/course_codes'")
    rows = f.lines("SINC")
    rows += [list(rows[0])]
    f.write("duplicate_incident", "SINC", rows, "an incident line repeated",
            gate + "'one row per incident and student'")
    _more_faults(f, year)
    write_json_atomic(out / "faults.json", {"format": "p20-synth-faults/1", "school_year": year, "faults": f.index})
    return f.index


def fault_index(faults_dir: Path) -> list[dict]:
    return json.loads((faults_dir / "faults.json").read_text())["faults"]


def _more_faults(f: _Faults, year: int) -> None:
    """Faults real district extracts have: another tool's delimiter or encoding, a copy that
    broke off, last year's file under this year's name, dates and codes as a spreadsheet
    rewrites them, impossible dates and counts (issue 13)."""
    gate = "p20 load rejects: rule "
    delimiter = "p20 pseudonymise refuses: rule 'caret delimiter'"
    data = "".join(",".join(r) + "\r\n" for r in f.lines("SENR")).encode()
    f.write("comma_delimited", "SENR", data, "comma-separated (a CSV export) instead of caret", delimiter)
    data = "".join("\t".join(r) + "\r\n" for r in f.lines("SINF")).encode()
    f.write("tab_delimited", "SINF", data, "tab-separated instead of caret", delimiter)
    rows = f.lines("SINF")
    pn = f.pos("SINF", "last_name")
    for i in f.some(rows, 2):
        rows[i][pn] = "O\u2019Brien"
    data = "".join("^".join(r) + "\r\n" for r in rows).encode("cp1252")
    f.write("windows_1252_apostrophe", "SINF", data, "a Windows-1252 curly apostrophe (byte 0x92) in two names", ENCODING)
    data = "".join("\t".join(r) + "\r\n" for r in f.lines("SENR")).encode("utf-16")
    f.write("utf16_export", "SENR", data, "UTF-16 with a byte-order mark, tab-separated (Excel's 'Unicode Text')", ENCODING)
    data = "".join("^".join(r) + "\r\n" for r in f.lines("SENR")).encode() + b"\x00" * 512
    f.write("nul_padding", "SENR", data, "512 zero bytes after the last line (a copy that broke off)",
            "p20 pseudonymise refuses: rule 'complete last line'")
    if (f.raw / f"SENR_{year - 1}.txt").exists():  # a single-year district has no last year
        last_year = _Faults(f.raw, f.out, year - 1, f.rng)
        f.write("previous_years_file", "SENR", last_year.lines("SENR"), "last year's SENR file under this year's name",
                gate + "'academic_year is the file's school year'")
    rows = f.lines("SENR")
    ps, pe = f.pos("SENR", "enrollment_start_date"), f.pos("SENR", "exit_date")
    for i in f.some(rows):
        rows[i][ps], rows[i][pe] = f"{year - 1}0901", f"{year - 1}0815"
    f.write("exit_date_before_entry_date", "SENR", rows, "exit date two weeks before the start date",
            gate + "'exit_date is not before enrollment_start_date'")
    f.write("future_dates", "SENR", f.set_field("SENR", "enrollment_start_date", f"{year + 3}0901"),
            "start dates three years ahead", gate + "'enrollment_start_date lies inside the school year (1 July - 30 June)'")
    f.write("us_format_dates", "SENR", f.set_field("SENR", "enrollment_start_date", f"08/15/{year - 1}"),
            "start dates as MM/DD/CCYY (a spreadsheet's rewrite)", gate + "'enrollment_start_date is a CCYYMMDD date'")
    rows = f.lines("SENR")
    pg = f.pos("SENR", "grade_level")
    for i in [i for i, r in enumerate(rows) if r[pg].startswith("0")][:3]:
        rows[i][pg] = rows[i][pg].lstrip("0")
    f.write("grade_level_leading_zero_lost", "SENR", rows, "grade 01 written as 1 (a spreadsheet dropped the zero)",
            gate + "'grade_level is in seeds/grade_levels'")
    f.write("lower_case_codes", "SINF", f.set_field("SINF", "gender", lambda v: v.lower()),
            "gender codes in lower case", gate + "'gender is in seeds/gender_codes'")
    f.write("days_expected_over_a_year", "STAS", f.set_field("STAS", "days_expected", "400"),
            "400 expected attendance days", gate + "'days_expected is at most 366'")
    rows = f.lines("STAS")
    f.write("file_sent_twice_in_one", "STAS", rows + rows, "the whole file appended to itself",
            gate + "'one row per student and school'")
    f.write("unknown_offense_code", "SINC", f.set_field("SINC", "offense_code", "999", k=1),
            "offense code 999", gate + "'offense_code is in seeds/offense_codes'")
