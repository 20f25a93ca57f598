"""Why a file cannot be read as its layout says: the one cause behind many broken lines.

A file saved with the wrong delimiter, in the wrong encoding or with a header row breaks every
line (or every rule on line 1); reporting each line or rule points the user at the wrong fix (a
new column in seeds/extract_columns.csv, eleven code sets). These checks name the cause once
per file, with what was found and what the layout expects. Messages carry line numbers,
delimiters and encodings, never a field's value.
"""

import re

from p20.textio import DELIMITER

# Delimiters other tools write instead of the caret, and how a message names them.
OTHER_DELIMITERS = {",": "comma", "\t": "tab", "|": "pipe", ";": "semicolon"}
SAMPLE_LINES = 50
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _sample(data: bytes) -> list[str]:
    text = data[: 1 << 16].decode("utf-8", errors="replace")
    return [line for line in re.split(r"\r?\n", text)[:SAMPLE_LINES] if line.strip()]


def delimiter_problem(name: str, data: bytes, fields: int) -> str | None:
    """The refusal of a file whose lines are not split by carets, or None. A candidate
    delimiter is named when it splits the sampled lines into the layout's number of fields
    (or into more fields than the caret does, on every sampled line)."""
    lines = _sample(data)
    if not lines or any(line.count(DELIMITER) + 1 == fields for line in lines):
        return None
    carets = sum(line.count(DELIMITER) for line in lines)
    found = None
    for delimiter, label in OTHER_DELIMITERS.items():
        counts = [line.count(delimiter) for line in lines]
        if all(c + 1 == fields for c in counts) or (min(counts) > 0 and sum(counts) > carets):
            found = f"{label} '{delimiter}'" if delimiter != "\t" else "tab"
            break
    if found is None and carets:
        return None  # carets, but the wrong number of fields: a column problem, not a delimiter
    what = f"fields separated by {found}" if found else "no caret '^' on any line"
    return (
        f"{name}: rule 'caret delimiter' failed: {what}, expected caret '^' ({fields} fields a "
        "line); re-export the file caret-delimited (nothing crossed)"
    )


def encoding_problem(name: str, data: bytes) -> str | None:
    """The refusal of a file that is not UTF-8, naming the first line and the likely
    encoding, or None."""
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError as exc:
        start = exc.start
    if data.startswith(UTF16_BOMS) or data[:200].count(b"\x00") > 20:
        guess = "UTF-16 (Excel's 'Unicode Text' saves it so)"
    else:
        try:
            data.decode("cp1252")
            guess = "Windows-1252 or Latin-1"
        except UnicodeDecodeError:
            guess = "an encoding other than UTF-8"
    line = data.count(b"\n", 0, start) + 1
    return (
        f"{name}: file is not valid UTF-8 text (rule 'UTF-8 encoding'): first at line {line}; it "
        f"looks like {guess}; re-export the file as UTF-8 (nothing crossed)"
    )


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def is_header(fields: list[str], columns: list[str]) -> bool:
    """Whether a line's fields are column names (at least half of them the layout's own, in
    place, ignoring case, spaces and underscores) rather than a record."""
    names = [_norm(c) for c in columns]
    same = sum(_norm(f) == n for f, n in zip(fields, names, strict=False))
    return same >= max(2, len(names) // 2)


def header_problem(name: str, first_line: str, columns: list[str]) -> str | None:
    if not is_header(first_line.split(DELIMITER), columns):
        return None
    return (
        f"{name}: rule 'no header row' failed: line 1 holds column names, not a record (the "
        "layout has no header row); remove line 1 and send the file again"
    )
