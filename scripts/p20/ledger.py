"""The load ledger: warehouse/ledger/loads.jsonl, one line per attempt to load an extract file
(landed, unchanged or rejected), appended under the load lock, fsynced, never rewritten.

`LoadRecord` is the one definition of a ledger line. The gate writes one per attempt, `p20
rekey` one per re-keyed load, crash recovery appends the copy a landed directory keeps of its
own (`_load.json`). The staging model `stg_ledger__loads` reads the lines; each field's
`metadata["staged"]` names its column there (tests/test_ledger.py holds the model and its YAML to
these fields). Lines are read back as dicts: a ledger may hold lines older than a field.
"""

import json
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TypedDict

from p20 import paths
from p20.textio import append_jsonl, read_jsonl

LOAD_RECORD = "_load.json"  # a landed directory's own copy of its ledger line


def _staged(column: str, **kwargs):
    """A ledger field and the name of its column in stg_ledger__loads."""
    return field(metadata={"staged": column}, **kwargs)


class ExpectationOutcome(TypedDict):
    """One expectation's outcome in a ledger line (LoadRecord.expectations), as
    p20.gx_suite.validate makes it: stg_ledger__load_expectations reads these keys."""

    index: int | None  # 0-based position in the suite
    rule: str
    expectation: str  # GX expectation type
    column: str  # column(s), comma-separated; '' for table rules
    success: bool
    element_count: int | None
    unexpected_count: int | None
    missing_count: int | None
    observed_value: int | None  # rows, for row-count rules only
    could_not_evaluate: bool


class LandedFile(TypedDict):
    """One file of a landed load (LoadRecord.landed_files), as p20.landing.land wrote it: what
    `p20 audit`, `p20 load` and `p20 build` check the file on disk against."""

    file: str  # name inside the load's directory, e.g. part-0.parquet
    bytes: int
    sha256: str


@dataclass
class LoadRecord:
    """One ledger line. Rules, columns, counts and line numbers: never a value of the file."""

    load_id: str = _staged("load_id")  # the landed load; the matched one; the quarantine folder
    extract: str = _staged("extract_name")
    school_year: int | None = _staged("school_year")
    file: str = _staged("file_name")
    file_sha256: str | None = _staged("file_sha256")  # None for a re-keyed load (no file)
    rows: int = _staged("n_rows")
    suite: str | None = _staged("suite_name")
    suite_version: str | None = _staged("suite_version")
    key_fingerprint: str | None = _staged("key_fingerprint")
    policy_version: str | None = _staged("policy_version")
    outcome: str = _staged("outcome")  # landed | unchanged | rejected
    started_at: str = _staged("started_at")  # ISO 8601, UTC
    finished_at: str = _staged("finished_at")
    message: str = _staged("message", default="")  # why it did not land ('' when landed)
    supersedes: str | None = _staged("supersedes_load_id", default=None)
    rekeyed_from: str | None = _staged("rekeyed_from_load_id", default=None)
    # the failed rules ({rule, expectation, column, unexpected_count}) and every expectation's
    # outcome (p20.gx_suite.validate; unnested by stg_ledger__load_expectations)
    failed_rules: list[dict] = field(default_factory=list)
    expectations: list[ExpectationOutcome] = field(default_factory=list)
    # every file of the landed load, hashed as written (p20.landing.land); [] when nothing
    # landed, and absent from lines older than the field (p20.landing.landed_file_problems)
    landed_files: list[LandedFile] = _staged("landed_files", default_factory=list)
    n_failed_rules: int = _staged("n_failed_rules", init=False)
    n_expectations: int = field(init=False)  # 0 for a re-keyed load: see rekeyed_from
    attempt_id: str = _staged("attempt_id", default_factory=lambda: uuid.uuid4().hex)
    # set on the line crash recovery appends for a load renamed into place but not recorded;
    # written only when set
    recovered_after_crash: bool = False

    def __post_init__(self) -> None:
        self.n_failed_rules = len(self.failed_rules)
        self.n_expectations = len(self.expectations)

    def to_json(self) -> dict:
        record = asdict(self)
        if not self.recovered_after_crash:
            del record["recovered_after_crash"]
        return record

    @classmethod
    def from_json(cls, record: dict) -> "LoadRecord":
        return cls(**{f.name: record[f.name] for f in fields(cls) if f.init and f.name in record})


def write_load_record(load_dir: Path, record: LoadRecord) -> None:
    (load_dir / LOAD_RECORD).write_text(json.dumps(record.to_json(), sort_keys=True), encoding="utf-8")


def read_load_record(load_dir: Path) -> LoadRecord:
    return LoadRecord.from_json(json.loads((load_dir / LOAD_RECORD).read_text(encoding="utf-8")))


def read_ledger() -> list[dict]:
    return read_jsonl(paths.ledger_path())


def append_ledger(record: LoadRecord) -> None:
    append_jsonl(paths.ledger_path(), record.to_json())


def current_loads(ledger: list[dict]) -> dict[tuple[str, int], dict]:
    """(extract, school_year) -> the newest landed ledger record."""
    current: dict[tuple[str, int], dict] = {}
    for rec in ledger:
        if rec["outcome"] == "landed":
            current[(rec["extract"], rec["school_year"])] = rec
    return current
