"""`p20 load`: the gate between the outbox and the warehouse.

For each extract in an outbox: check it against the manifest (hash, rows, key fingerprint),
validate it with its Great Expectations suite (expectations/<extract>.json, parameters from the
seeds), then land it as Parquet under a temporary name renamed into
landed/<extract>/school_year=<y>/load_id=<id>/ in one step. A failing extract lands nothing; its
report (rules, counts, line numbers, never values) goes to quarantine/<load_id>/. Every attempt
is a line in the ledger. One load at a time (a lock file); leftovers of a crashed load are
cleared before the next one starts.

This module is the load loop; its rooms: p20.manifest (the seal), p20.landing (lock, landing,
crash recovery, the trusted key), p20.ledger (the ledger line), p20.gx_suite (GX and the
suites), p20.quarantine (reports of rejected files), p20.pipeline (read ahead, write behind).
"""

import datetime as dt
import errno
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from p20 import paths
from p20.diagnose import header_problem
from p20.errors import Interrupted, RejectedInput, Terminated, WarehouseFull, raise_if_stopped
from p20.gx_suite import (
    frame_table,
    frame_table_name,
    release_gx,
    suite_parameters,
    suite_version,
    validate,
)
from p20.landing import (
    NOT_RECORDED,
    check_trust,
    exclusive_lock,
    land,
    landed_file_problems,
    landed_path,
    new_load_id,
    pin_trust,
    recover_after_crash,
    reland_hint,
)
from p20.ledger import LoadRecord, append_ledger, current_loads, read_ledger
from p20.manifest import verified_manifest
from p20.pipeline import Ordered
from p20.policy import Extract, extracts
from p20.quarantine import write_report
from p20.textio import file_sha256, register_lines, sql_str


@dataclass
class Outcome:
    """What happened to one extract file."""

    file: str
    extract: str
    school_year: int | None
    status: str  # landed | unchanged | rejected
    rows: int = 0
    load_id: str = ""
    failures: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)  # every expectation, when the suite ran
    message: str = ""
    lines: list[str] = field(default_factory=list)  # one per problem, when there are several

    def problems(self) -> list[str]:
        """What to print: one line per problem (a failed rule), never a fragment of one."""
        return self.lines or [self.message]


def _landed_school_codes(con: duckdb.DuckDBPyConnection, year: int, current: dict) -> set[str]:
    rec = current.get(("schools", year))
    if not rec:
        return set()
    glob = landed_path("schools", year, rec["load_id"]) / "*.parquet"
    rows = con.execute(f"select distinct school_code from read_parquet({sql_str(glob)})").fetchall()
    return {r[0] for r in rows}


def _read_lines(con: duckdb.DuckDBPyConnection, path: Path) -> str | None:
    """register_lines into outbox_lines; the refusal message if the file cannot be read."""
    try:
        register_lines(con, path, "outbox_lines")
    except RejectedInput as exc:
        return str(exc)
    return None


@dataclass
class ReadAhead:
    """A file as read before its turn: its sha256, and the table holding its frame (see
    frame_table), or why it could not be read. Nothing is decided here; load_file decides."""

    sha256: str | None = None
    rows: int | None = None
    table: str = ""
    error: str = ""
    damaged: str = ""  # the current load's landed file that no longer matches its record


def read_ahead(
    con: duckdb.DuckDBPyConnection, outbox: Path, entry: dict, current: dict, table: str
) -> ReadAhead:
    """Hash a manifest's file and read it into frame table `table`, on a connection of its own
    (the load reads the next file this way while it validates this one). A file whose hash
    says it is already landed is not read."""
    extract = extracts().get(entry.get("extract", ""))
    path = outbox / str(entry.get("file", "?"))
    if extract is None or not path.is_file():
        return ReadAhead()
    prior = current.get((extract.name, entry.get("school_year")))
    if prior and prior["file_sha256"] == entry.get("sha256"):  # most likely unchanged: hash first
        sha = file_sha256(path)
        if sha == prior["file_sha256"]:
            # unchanged only if what landed is still what was recorded (size, then sha256)
            problems = [p for p in landed_file_problems(prior) if p[1] != NOT_RECORDED]
            if problems:
                file, problem = problems[0]
                return ReadAhead(sha, damaged=f"{file}: landed file damaged ({problem}), "
                                 f"{reland_hint(prior)}")
            return ReadAhead(sha)
    cursor = con.cursor()  # its temporary outbox_lines goes when it closes
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:  # hashlib and DuckDB let go of the GIL
            hashing = pool.submit(file_sha256, path)
            error = _read_lines(cursor, path)
            sha = hashing.result()
        if error or sha != entry.get("sha256"):
            return ReadAhead(sha, error=error or "")
        rows = cursor.execute("select count(*) from outbox_lines").fetchall()[0][0]
        if rows != entry.get("rows"):
            return ReadAhead(sha, rows)
        return ReadAhead(sha, rows, frame_table(cursor, extract, table))
    finally:
        cursor.close()


def _header_problem(con: duckdb.DuckDBPyConnection, name: str, extract: Extract) -> str | None:
    """A header row's one-line refusal, from line 1 of the frame table (frame_table)."""
    cols = ", ".join(f"coalesce({c}, '')" for c in extract.outbox_columns)
    first = con.execute(f"select [{cols}] from {frame_table_name(extract)} where line_no = 1").fetchall()
    return header_problem(name, "^".join(first[0][0]), extract.outbox_columns) if first else None


def failure_line(name: str, failure: dict, params: dict, previous_rows: int | None) -> str:
    """One failed rule as one line: its rows and first lines, or for a row-count rule the
    figures (rows now, rows of the previous landed year, the band)."""
    line = f"{name}: rule '{failure['rule']}' failed"
    if failure.get("observed_value") is not None:  # a table-level rule: no failing rows
        line += f": {failure['observed_value']} rows"
        if previous_rows is not None and params.get("volume_min_rows") is not None:
            line += (
                f" vs {previous_rows} in the previous landed year (band {params['volume_min_rows']}-"
                f"{params['volume_max_rows']}): check the file holds the "
                "whole year; widen the band only if the change is real"
            )
        return line
    lines = failure["lines"]
    line += f" on {failure['unexpected_count']} rows"
    if lines:
        line += f" (lines {', '.join(map(str, lines[:5]))}{' ...' if len(lines) > 5 else ''})"
    return line


def load_file(
    con: duckdb.DuckDBPyConnection,
    outbox: Path,
    entry: dict,
    current: dict,
    school_codes: dict,
    read: ReadAhead,
) -> Outcome:
    name = entry.get("file", "?")
    extract = extracts().get(entry.get("extract", ""))
    year = entry.get("school_year")
    outcome = Outcome(
        file=name, extract=entry.get("extract", "?"), school_year=year, status="rejected"
    )
    path = outbox / name
    if extract is None:
        outcome.message = f"{name}: manifest names an unknown extract kind"
        return outcome
    if not path.exists():
        outcome.message = f"{name}: listed in the manifest but missing from the outbox"
        return outcome
    sha = read.sha256
    if sha != entry.get("sha256"):
        outcome.message = (
            f"{name}: rule 'manifest hash' failed: file changed after the manifest was made"
        )
        return outcome
    if read.damaged:
        outcome.message = f"{name}: not loaded: {read.damaged}"
        return outcome
    prior = current.get((extract.name, year))
    if prior and prior["file_sha256"] == sha:
        outcome.status, outcome.load_id, outcome.rows = "unchanged", prior["load_id"], prior["rows"]
        outcome.message = f"{name}: identical to load {prior['load_id']}; nothing to do"
        return outcome
    if read.error:
        outcome.message = read.error
        return outcome
    outcome.rows = rows = read.rows
    if rows != entry.get("rows"):
        outcome.message = (
            f"{name}: rule 'manifest rows' failed: {rows} rows, manifest says {entry.get('rows')}"
        )
        return outcome
    con.sql(f"alter table {read.table} rename to {frame_table_name(extract)}")
    known = school_codes.get(year) or _landed_school_codes(con, year, current)
    previous = current.get((extract.name, year - 1))
    params = suite_parameters(extract, year, sorted(known), previous["rows"] if previous else None)
    header = _header_problem(con, name, extract)
    if header:  # one cause, not a failure of every rule on line 1
        outcome.message = header
        return outcome
    validation = validate(con, extract, params)
    outcome.results, outcome.failures = validation.results, validation.failures
    if outcome.failures:
        outcome.lines = [
            failure_line(name, f, params, previous["rows"] if previous else None) for f in outcome.failures
        ]
        outcome.message = "; ".join(outcome.lines)
        return outcome
    outcome.load_id = new_load_id()
    outcome.status = "landed"  # once land() has renamed it into place
    outcome.message = f"{name}: landed {rows} rows as load {outcome.load_id}"
    if extract.name == "schools":
        school_codes[year] = {
            r[0]
            for r in con.execute(
                f"select distinct school_code from {frame_table_name(extract)}"
            ).fetchall()
        }
    return outcome


def _land_and_record(
    con: duckdb.DuckDBPyConnection, extract: Extract, year: int, record: LoadRecord, table: str
) -> None:
    """Land a validated file from its table (then drop it) and append its ledger line."""
    cursor = con.cursor()  # a connection of this thread's own to the load's database
    try:
        rows_sql = f"select line_no, {', '.join(extract.outbox_columns)} from {table}"
        land(cursor, extract, year, record, rows_sql)
        append_ledger(record)
        cursor.sql(f"drop table {table}")
    finally:
        cursor.close()


def _record(
    con: duckdb.DuckDBPyConnection, pipe: Ordered, manifest: dict, entry: dict, outcome: Outcome,
    current: dict, started: str,
) -> None:
    """The ledger line of one attempt (and the quarantine report of a rejection), handed to the
    pipeline's writer: a validated file is landed from its table, then its line appended."""
    if outcome.status == "rejected":
        outcome.load_id = outcome.load_id or new_load_id()
        write_report(outcome, entry.get("sha256"))
    prior = current.get((outcome.extract, outcome.school_year))
    record = LoadRecord(
        load_id=outcome.load_id,
        extract=outcome.extract,
        school_year=outcome.school_year,
        file=outcome.file,
        file_sha256=entry.get("sha256"),
        rows=outcome.rows,
        suite=outcome.extract,
        suite_version=suite_version(outcome.extract),
        key_fingerprint=manifest.get("key_fingerprint"),
        policy_version=manifest.get("policy_version"),
        failed_rules=[
            {k: f[k] for k in ("rule", "expectation", "column", "unexpected_count")}
            for f in outcome.failures
        ],
        expectations=outcome.results,
        message=outcome.message if outcome.status != "landed" else "",
        outcome=outcome.status,
        supersedes=prior["load_id"] if prior and outcome.status == "landed" else None,
        started_at=started,
        finished_at=dt.datetime.now(dt.UTC).isoformat(),
    )
    extract = extracts().get(outcome.extract)
    if outcome.status == "landed":
        # The validated rows are kept under a name of their own while the next file is read
        # into the frame table and validated (the writer lands one file at a time: memory stays
        # at ~2 files).
        landing = f"p20_landing_{extract.name}_{outcome.school_year}"
        pipe.wait()
        con.sql(f"alter table {frame_table_name(extract)} rename to {landing}")
        pipe.write(_land_and_record, con, extract, outcome.school_year, record, landing)
        current[(outcome.extract, outcome.school_year)] = {
            "extract": outcome.extract,
            "school_year": outcome.school_year,
            "load_id": outcome.load_id,
            "file_sha256": entry.get("sha256"),
            "rows": outcome.rows,
        }
    else:
        if extract:
            con.sql(f"drop table if exists {frame_table_name(extract)}")
        pipe.write(append_ledger, record)


def load(outbox: Path, on_file: Callable[[int, int, str], None] | None = None) -> list[Outcome]:
    """Load every extract an outbox's manifest lists; schools first, then by year.

    `on_file(done, total, file)` is called before each file and once at the end (for a
    progress bar)."""
    manifest = verified_manifest(outbox)
    outcomes: list[Outcome] = []
    try:
        return _load(outbox, manifest, outcomes, on_file)
    except (OSError, duckdb.IOException) as exc:
        cause = out_of_space(exc)
        if not cause:
            raise
        total = len(manifest.get("files", []))
        landed = sum(
            o.status == "landed" and landed_path(o.extract, o.school_year, o.load_id).exists() for o in outcomes
        )
        raise WarehouseFull(
            f"load stopped: {cause} writing into {paths.warehouse_dir()}; {landed} of {total} files "
            "landed before it, the one being written did not (nothing half-landed): free space (or "
            "raise the limit), then run `p20 load` again to complete it"
        ) from None
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: what was left, and how to finish it
        total = len(manifest.get("files", []))
        counts = {s: sum(o.status == s for o in outcomes) for s in ("landed", "unchanged", "rejected")}
        raise Interrupted(
            f"load interrupted after {len(outcomes)} of {total} files ({counts['landed']} landed, "
            f"{counts['unchanged']} unchanged, {counts['rejected']} rejected); {total - len(outcomes)} "
            "not loaded yet, nothing half-landed: run `p20 load` again to complete it",
            143 if isinstance(exc, Terminated) else 130,
        ) from None


# What a full disk, a quota or a file-size limit says, from the OS or from DuckDB.
SPACE_ERRORS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up", errno.EFBIG: "a file-size limit was hit"}
SPACE_TEXT = {"No space left on device": "the disk is full", "File too large": "a file-size limit was hit",
              "Disk quota exceeded": "the disk quota is used up"}


def out_of_space(exc: BaseException) -> str | None:
    if isinstance(exc, OSError):
        return SPACE_ERRORS.get(exc.errno)
    return next((cause for text, cause in SPACE_TEXT.items() if text in str(exc)), None)


def _load(
    outbox: Path, manifest: dict, outcomes: list[Outcome], on_file: Callable[[int, int, str], None] | None
) -> list[Outcome]:
    warehouse = paths.warehouse_dir()
    with exclusive_lock(warehouse):
        ledger = read_ledger()
        recover_after_crash(ledger)
        check_trust(manifest)
        current = current_loads(ledger)
        for key, rec in list(current.items()):
            if not landed_path(rec["extract"], rec["school_year"], rec["load_id"]).is_dir():
                del current[key]  # its folder was removed (reland_hint): its outbox file lands again
        con = duckdb.connect()
        order = list(extracts())
        entries = sorted(
            manifest.get("files", []),
            key=lambda e: (
                order.index(e["extract"]) if e.get("extract") in order else 99,
                e.get("school_year") or 0,
            ),
        )
        listed = {e.get("file") for e in entries}
        unlisted = [p.name for p in sorted(outbox.glob("*.txt")) if p.name not in listed]
        school_codes: dict[int, set[str]] = {}

        def read(i: int, entry: dict) -> ReadAhead:
            return read_ahead(con, outbox, entry, current, f"p20_read_{i}")

        # Three files at a time (p20.pipeline): this thread validates one (Great Expectations,
        # mostly Python) while the reader hashes and reads the next and the writer lands the one
        # before and appends every ledger line, in file order (hashlib and DuckDB let go of the
        # GIL).
        with Ordered() as pipe:
            for done, (entry, ahead) in enumerate(pipe.read_ahead(entries, read)):
                raise_if_stopped()
                if on_file:
                    on_file(done, len(entries), entry.get("file", "?"))
                started = dt.datetime.now(dt.UTC).isoformat()
                outcome = load_file(con, outbox, entry, current, school_codes, ahead)
                con.sql(f"drop table if exists p20_read_{done}")  # read, but not validated
                _record(con, pipe, manifest, entry, outcome, current, started)
                outcomes.append(outcome)
        if on_file:
            on_file(len(entries), len(entries), "")
        for name in unlisted:
            outcomes.append(
                Outcome(
                    file=name,
                    extract="?",
                    school_year=None,
                    status="rejected",
                    message=f"{name}: not listed in the manifest, so not loaded (remove it, or run "
                    "`p20 pseudonymise` again to make an outbox that lists it)",
                )
            )
        if any(o.status == "landed" for o in outcomes):
            pin_trust(manifest)
        release_gx()
        con.close()
    return outcomes
