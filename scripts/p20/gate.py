"""`p20 load`: the gate between the outbox and the warehouse.

For each extract in an outbox: check it against the manifest (hash, rows, key fingerprint),
validate it with its Great Expectations suite (expectations/<extract>.json, parameters from the
seeds), then land it as Parquet under a temporary name renamed into
landed/<extract>/school_year=<y>/load_id=<id>/ in one step. A failing extract lands nothing; its
report (rules, counts, line numbers, never values) goes to quarantine/<load_id>/. Every attempt
is a line in the ledger. One load at a time (a lock file); leftovers of a crashed load are
cleared before the next one starts.
"""

import contextlib
import datetime as dt
import html
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb

from p20 import paths
from p20.errors import RejectedInput
from p20.landing import (
    check_trust,
    exclusive_lock,
    land,
    landed_path,
    new_load_id,
    pin_trust,
    recover_after_crash,
)
from p20.ledger import LoadRecord, append_ledger, current_loads, read_ledger
from p20.manifest import verified_manifest
from p20.policy import Extract, code_set, exit_completion_pairs, extracts, project_var
from p20.textio import (
    DELIMITER,
    atomic_dir,
    file_sha256,
    register_lines,
    sql_str,
)

MAX_LINES_REPORTED = 20


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


# ---------------------------------------------------------------- validation


@cache
def _gx_context():
    """An ephemeral GX context (nothing written to disk), progress bars off."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # GX's own switch: TQDM_DISABLE does not silence its metric progress bars.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


@cache
def _duckdb_connection_class():
    """duckdb-engine's DBAPI connection, minus transactions.

    GX's SQL engine runs each query in a connection that is closed (its transaction rolled
    back) before the rows are read. DuckDB serves a result from the connection itself, so the
    rollback discards it and every expectation fails as "could not evaluate". The gate only
    reads (DuckDB autocommits each statement), so begin/commit/rollback are no-ops here and
    the rows outlive the closing. This goes through public APIs only: SQLAlchemy's `creator`
    and `poolclass`, passed by GX's `add_sql(kwargs=...)`."""
    from duckdb_engine import ConnectionWrapper

    class ReadOnlyConnection(ConnectionWrapper):
        def begin(self) -> None:
            pass

        def commit(self) -> None:
            pass

        def rollback(self) -> None:
            pass

    return ReadOnlyConnection


_GX_SOURCE: dict = {"con": None, "datasource": None}


def _gx_datasource(con: duckdb.DuckDBPyConnection):
    """A GX SQL datasource over `con`'s database (one kept connection, a cursor of `con`)."""
    if _GX_SOURCE["con"] is con:
        return _GX_SOURCE["datasource"]
    import sqlalchemy.dialects.postgresql
    from sqlalchemy.pool import StaticPool

    release_gx()
    context = _gx_context()
    connection_class = _duckdb_connection_class()
    datasource = context.data_sources.add_sql(
        "outbox",
        connection_string="duckdb:///:memory:",
        kwargs={"poolclass": StaticPool, "creator": lambda: connection_class(con.cursor())},
    )
    # GX knows regular expressions per dialect; duckdb-engine is PostgreSQL's dialect and
    # DuckDB has PostgreSQL's `~` (a full match: every suite regex is anchored ^...$).
    datasource.get_execution_engine().dialect_module = sqlalchemy.dialects.postgresql
    _GX_SOURCE.update(con=con, datasource=datasource)
    return datasource


def release_gx() -> None:
    """Close GX's connection to a load's database (DuckDB warns at exit about one left open)."""
    datasource = _GX_SOURCE["datasource"]
    _GX_SOURCE.update(con=None, datasource=None)
    if datasource is not None:
        datasource.get_execution_engine().close()
        datasource.get_engine().dispose()
        with contextlib.suppress(Exception):
            _gx_context().data_sources.delete(datasource.name)


def _gx_batch(con: duckdb.DuckDBPyConnection, extract: Extract, table: str):
    datasource = _gx_datasource(con)
    try:
        asset = datasource.get_asset(extract.name)
    except LookupError:
        asset = datasource.add_table_asset(extract.name, table_name=table)
        asset.add_batch_definition_whole_table("whole_file")
    return asset.get_batch_definition("whole_file").get_batch()


def _suite_json(extract: str) -> dict:
    return json.loads((paths.EXPECTATIONS_DIR / f"{extract}.json").read_text(encoding="utf-8"))


@cache
def load_suite(extract: str):
    from great_expectations.core import ExpectationSuite

    return ExpectationSuite(**_suite_json(extract))


def _rule_key(expectation_type: str, meta: dict | None) -> tuple[str, str]:
    return expectation_type, (meta or {}).get("rule", "")


def suite_parameters(
    extract: Extract, year: int, known_school_codes: list[str], previous_year_rows: int | None = None
) -> dict:
    """Values the suites refer to as $PARAMETER. `seed__<name>` is the code set in the first
    column of seeds/<name>.csv (the same seed dbt tests against); the rest describe the file:
    its school year (dates run 1 July to 30 June), its schools, and the volume band around the
    previous landed year's row count (var p20:volume_band; unbounded for a first year)."""
    import pandas as pd
    suite = load_suite(extract.name)
    referenced = {
        value["$PARAMETER"]
        for exp in suite.expectations
        for value in exp.configuration.kwargs.values()
        if isinstance(value, dict) and "$PARAMETER" in value
    }
    band = float(project_var("volume_band"))
    params = {
        "field_count": len(extract.outbox_columns),
        "academic_year": [f"{year - 1}-{year}"],
        "school_year": [str(year)],
        "known_school_codes": known_school_codes,
        "school_year_start": pd.Timestamp(year - 1, 7, 1),
        "school_year_end": pd.Timestamp(year, 6, 30),
        "volume_min_rows": int(previous_year_rows * band) if previous_year_rows else None,
        "volume_max_rows": int(previous_year_rows / band) if previous_year_rows else None,
        "exit_completion_pairs": exit_completion_pairs(),
    }
    for name in referenced:
        if name.startswith("seed__"):
            params[name] = code_set(name.removeprefix("seed__"))
    return params


# Typed views of text columns a suite may ask for in meta.typed_columns, so that range and
# comparison rules can run: <column>__as_date (CCYYMMDD) or <column>__as_number.
TYPED_VIEWS = {
    "date": ("__as_date", "try_strptime({col}, '%Y%m%d')"),
    "number": ("__as_number", "try_cast({col} as double)"),
}


def frame_table_name(extract: Extract) -> str:
    return f"p20_gate_{extract.name}"


def frame_table(con: duckdb.DuckDBPyConnection, extract: Extract, table: str = "") -> str:
    """Split outbox_lines (register_lines) into the extract's columns once, as a table in
    `con`'s in-memory database (default name: frame_table_name): the suite's queries scan its
    columns, and the landing reads it. Columns: line_no, field_count, the outbox columns (''
    read as null), and the typed views the suite asks for in meta.typed_columns. Returns the
    table's name."""
    typed = (load_suite(extract.name).meta or {}).get("typed_columns", {})
    cols = [
        f"nullif(fields[{i}], '') as {name}"
        for i, name in enumerate(extract.outbox_columns, start=1)
    ]
    index = {name: i for i, name in enumerate(extract.outbox_columns, start=1)}
    for name, kind in typed.items():
        suffix, expr = TYPED_VIEWS[kind]
        cols.append(expr.format(col=f"nullif(fields[{index[name]}], '')") + f" as {name}{suffix}")
    table = table or frame_table_name(extract)
    con.sql(
        f"create or replace table {table} as "
        f"select line_no, len(fields) as field_count, {', '.join(cols)} "
        f"from (select line_no, string_split(line, '{DELIMITER}') as fields from outbox_lines)"
    )
    return table


@dataclass
class Validation:
    """Every expectation's outcome and counts (`results`), and the failed ones with line
    numbers (`failures`). Rules, columns, counts and line numbers: never values."""

    results: list[dict]
    failures: list[dict]


def _raised(result) -> bool:
    info = result.exception_info if isinstance(result.exception_info, dict) else {}
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())


def _columns(kwargs: dict) -> str:
    if kwargs.get("column"):
        return kwargs["column"]
    if kwargs.get("column_list"):
        return ",".join(kwargs["column_list"])
    return ",".join(kwargs[k] for k in ("column_A", "column_B") if kwargs.get(k))


# Counts only in the first pass: no failing value is ever fetched for a passing file.
COUNTS_ONLY = {"result_format": "BASIC", "partial_unexpected_count": 0}
# Line numbers of failed rules (GX also returns the values beside them; only lines are kept).
LINE_NUMBERS = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["line_no"],
    "return_unexpected_index_query": False,
}


def validate(con: duckdb.DuckDBPyConnection, extract: Extract, params: dict) -> Validation:
    """Run the extract's suite over its frame table (frame_table) with GX's SQL engine on DuckDB.

    The whole suite runs for counts, then the failed expectations again for line numbers.
    """
    suite = load_suite(extract.name)
    table = frame_table_name(extract)
    rows = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    batch = _gx_batch(con, extract, table)
    first = batch.validate(suite, expectation_parameters=params, result_format=COUNTS_ONLY)
    index = {
        _rule_key(e["type"], e.get("meta")): i
        for i, e in enumerate(_suite_json(extract.name)["expectations"])
    }
    results = []
    for r in first.results:
        cfg, res = r.expectation_config, r.result or {}
        entry = {
            "index": index.get(_rule_key(cfg.type, cfg.meta)),
            "rule": (cfg.meta or {}).get("rule", cfg.type),
            "expectation": cfg.type,
            "column": _columns(cfg.kwargs),
            "success": bool(r.success),
            "element_count": res.get("element_count"),
            "unexpected_count": res.get("unexpected_count"),
            "missing_count": res.get("missing_count"),
            # the observed row count of table-level rules; never a column's value
            "observed_value": res.get("observed_value") if cfg.type.startswith("expect_table_row_count") else None,
            "could_not_evaluate": _raised(r),
        }
        results.append(entry)
    results.sort(key=lambda e: (e["index"] is None, e["index"]))
    failed_keys = {_rule_key(r.expectation_config.type, r.expectation_config.meta) for r in first.results if not r.success}
    if not failed_keys:
        return Validation(results, [])
    from great_expectations.core import ExpectationSuite

    document = _suite_json(extract.name)
    document["expectations"] = [
        e for e in document["expectations"] if _rule_key(e["type"], e.get("meta")) in failed_keys
    ]
    second = batch.validate(
        ExpectationSuite(**document), expectation_parameters=params, result_format=LINE_NUMBERS
    )
    failures = []
    for r in second.results:
        if r.success:
            continue
        cfg, res = r.expectation_config, r.result or {}
        # GX returns the index (our line number), alone or in a dict beside the failing value:
        # only the line number is kept.
        lines = sorted(
            int(i["line_no"]) if isinstance(i, dict) else int(i)
            for i in (res.get("unexpected_index_list") or [])
        )
        failures.append(
            {
                "rule": (cfg.meta or {}).get("rule", cfg.type),
                "expectation": cfg.type,
                "column": _columns(cfg.kwargs),
                "unexpected_count": int(res.get("unexpected_count") or 0),
                "element_count": int(res.get("element_count") or rows),
                "lines": lines[:MAX_LINES_REPORTED],
                "could_not_evaluate": _raised(r),
            }
        )
    by_rule = {(f["expectation"], f["rule"]): f for f in failures}
    for entry in results:  # counts of the line-number pass win (the first pass had none for raises)
        f = by_rule.get((entry["expectation"], entry["rule"]))
        if f and entry["unexpected_count"] is None:
            entry["unexpected_count"] = f["unexpected_count"]
    return Validation(results, failures)


# ---------------------------------------------------------------- the load


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
    validation = validate(con, extract, params)
    outcome.results, outcome.failures = validation.results, validation.failures
    if outcome.failures:
        outcome.message = "; ".join(
            f"{name}: rule '{f['rule']}' failed on {f['unexpected_count']} rows"
            + (
                f" (lines {', '.join(map(str, f['lines'][:5]))}{' ...' if len(f['lines']) > 5 else ''})"
                if f["lines"]
                else ""
            )
            for f in outcome.failures
        )
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


def _quarantine(outcome: Outcome, entry: dict) -> None:
    """Report of a rejected extract: rules, counts, line numbers. The file itself stays in the
    outbox with the custodian: a rejected file may hold exactly what must not cross."""
    outcome.load_id = outcome.load_id or new_load_id()
    with atomic_dir(paths.quarantine_dir() / outcome.load_id) as tmp:
        report = {
            "load_id": outcome.load_id,
            "file": outcome.file,
            "extract": outcome.extract,
            "school_year": outcome.school_year,
            "file_sha256": entry.get("sha256"),
            "failures": outcome.failures,
            "expectations": outcome.results,
            "message": outcome.message if not outcome.failures else "",
        }
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        lines = [f"p20 load: {outcome.file} was rejected (load {outcome.load_id})", ""]
        if outcome.failures:
            for f in outcome.failures:
                where = f" lines {', '.join(map(str, f['lines']))}" if f["lines"] else ""
                lines.append(
                    f"- {f['rule']}: {f['unexpected_count']} of {f['element_count']} rows;{where}"
                )
        else:
            lines.append(f"- {outcome.message}")
        lines += [
            "",
            "Nothing of this file was landed. Fix the extract at the custodian and load again.",
        ]
        (tmp / "report.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (tmp / "report.html").write_text(html_report(report), encoding="utf-8")


def html_report(report: dict) -> str:
    """A small self-contained page of a rejected file's report: the failed rules with counts
    and line numbers, then every expectation's outcome. Built from report.json's fields only,
    which hold rules, columns, counts and line numbers, never values."""
    esc = html.escape

    def count(value) -> str:
        return "" if value is None else f"{value:,}"

    failed = "".join(
        f"<tr><td>{esc(f['rule'])}</td><td><code>{esc(f['column'])}</code></td>"
        f"<td class=n>{count(f['unexpected_count'])}</td><td class=n>{count(f['element_count'])}</td>"
        f"<td>{esc(', '.join(map(str, f['lines'])))}{' ...' if f['unexpected_count'] > len(f['lines']) and f['lines'] else ''}"
        f"{' (could not be evaluated)' if f.get('could_not_evaluate') else ''}</td></tr>"
        for f in report["failures"]
    )
    every = "".join(
        f"<tr class={'pass' if e['success'] else 'fail'}><td class=n>{'' if e['index'] is None else e['index'] + 1}</td>"
        f"<td>{esc(e['rule'])}</td><td><code>{esc(e['expectation'])}</code></td>"
        f"<td><code>{esc(e['column'])}</code></td><td>{'passed' if e['success'] else 'FAILED'}</td>"
        f"<td class=n>{count(e['unexpected_count'])}</td><td class=n>{count(e['element_count'])}</td></tr>"
        for e in report["expectations"]
    )
    if report["failures"]:
        body = (
            "<h2>Failed rules</h2><table><tr><th>rule</th><th>column</th><th>rows failing</th>"
            f"<th>rows checked</th><th>line numbers (first {MAX_LINES_REPORTED})</th></tr>{failed}</table>"
        )
    else:
        body = f"<h2>Why</h2><p>{esc(report['message'])}</p>"
    if every:
        body += (
            f"<h2>Every expectation of suite <code>{esc(str(report['extract']))}</code></h2>"
            "<table><tr><th>#</th><th>rule</th><th>expectation</th><th>column</th><th>outcome</th>"
            f"<th>rows failing</th><th>rows checked</th></tr>{every}</table>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>p20 load: {esc(report['file'])} rejected</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: .3em .5em; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }} td.n {{ text-align: right; }}
tr.fail td {{ background: #fdecea; }} .meta td:first-child {{ font-weight: bold; width: 12em; }}
</style></head><body>
<h1>{esc(report['file'])} was rejected</h1>
<table class=meta>
<tr><td>load</td><td><code>{esc(report['load_id'])}</code></td></tr>
<tr><td>extract, school year</td><td>{esc(str(report['extract']))}, {esc(str(report['school_year']))}</td></tr>
<tr><td>file SHA-256</td><td><code>{esc(str(report['file_sha256']))}</code></td></tr>
</table>
{body}
<p>Nothing of this file was landed. The report names rules, columns, counts and line numbers,
never the values in the file. Fix the extract at the custodian and load again.</p>
</body></html>
"""


def load(outbox: Path, on_file: Callable[[int, int, str], None] | None = None) -> list[Outcome]:
    """Load every extract an outbox's manifest lists; schools first, then by year.

    `on_file(done, total, file)` is called before each file and once at the end (for a
    progress bar)."""
    manifest = verified_manifest(outbox)
    warehouse = paths.warehouse_dir()
    with exclusive_lock(warehouse):
        ledger = read_ledger()
        recover_after_crash(ledger)
        check_trust(manifest)
        current = current_loads(ledger)
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
        outcomes = []
        # Three files at a time: this thread validates one (Great Expectations, mostly Python)
        # while the reader hashes and reads the next and the recorder lands the one before and
        # appends every ledger line, in file order (hashlib and DuckDB let go of the GIL).
        recorder, reader = ThreadPoolExecutor(max_workers=1), ThreadPoolExecutor(max_workers=1)
        recording: list = []
        if entries:
            reading = reader.submit(read_ahead, con, outbox, entries[0], current, "p20_read_0")
        for done, entry in enumerate(entries):
            if on_file:
                on_file(done, len(entries), entry.get("file", "?"))
            started = dt.datetime.now(dt.UTC).isoformat()
            read = reading.result()
            if done + 1 < len(entries):
                reading = reader.submit(
                    read_ahead, con, outbox, entries[done + 1], current, f"p20_read_{done + 1}"
                )
            outcome = load_file(con, outbox, entry, current, school_codes, read)
            con.sql(f"drop table if exists p20_read_{done}")  # read, but not validated
            if outcome.status == "rejected":
                _quarantine(outcome, entry)
            prior = current.get((outcome.extract, outcome.school_year))
            record = LoadRecord(
                load_id=outcome.load_id,
                extract=outcome.extract,
                school_year=outcome.school_year,
                file=outcome.file,
                file_sha256=entry.get("sha256"),
                rows=outcome.rows,
                suite=outcome.extract,
                suite_version=_suite_version(outcome.extract),
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
            if recording:  # one file at a time waits to be landed: memory stays at ~2 files
                recording.pop().result()
            extract = extracts().get(outcome.extract)
            if outcome.status == "landed":
                # The validated rows are kept under a name of their own while the next file is
                # read into the frame table and validated.
                landing = f"p20_landing_{extract.name}_{outcome.school_year}"
                con.sql(f"alter table {frame_table_name(extract)} rename to {landing}")
                recording.append(
                    recorder.submit(_land_and_record, con, extract, outcome.school_year, record, landing)
                )
            else:
                if extract:
                    con.sql(f"drop table if exists {frame_table_name(extract)}")
                recording.append(recorder.submit(append_ledger, record))
            if outcome.status == "landed":
                current[(outcome.extract, outcome.school_year)] = {
                    "load_id": outcome.load_id,
                    "file_sha256": entry.get("sha256"),
                    "rows": outcome.rows,
                }
            outcomes.append(outcome)
        for pending in recording:
            pending.result()
        recorder.shutdown()
        reader.shutdown()
        if on_file:
            on_file(len(entries), len(entries), "")
        for name in unlisted:
            outcomes.append(
                Outcome(
                    file=name,
                    extract="?",
                    school_year=None,
                    status="rejected",
                    message=f"{name}: not listed in the manifest; it was not loaded",
                )
            )
        if any(o.status == "landed" for o in outcomes):
            pin_trust(manifest)
        release_gx()
        con.close()
    return outcomes


@cache
def _suite_version(extract: str) -> str | None:
    path = paths.EXPECTATIONS_DIR / f"{extract}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text()).get("meta", {}).get("version")
