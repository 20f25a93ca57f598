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
import fcntl
import hmac
import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb

from p20 import keys, paths
from p20.custodian import MANIFEST, MANIFEST_FORMAT, manifest_payload
from p20.errors import RejectedInput, UsageError
from p20.policy import Extract, code_set, extracts, project_var
from p20.textio import (
    atomic_dir,
    file_sha256,
    register_lines,
    remove_stale_temporaries,
    sql_str,
    write_json_atomic,
)

MAX_LINES_REPORTED = 20
TRUST_FILE = "trust.json"


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
    message: str = ""


def new_load_id() -> str:
    """Sortable by time (the newest landed load of an extract and year is the current one)."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]


@contextlib.contextmanager
def exclusive_lock(warehouse: Path) -> Iterator[None]:
    """One `p20 load` at a time; a second one waits and says so."""
    warehouse.mkdir(parents=True, exist_ok=True)
    with open(warehouse / ".load.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("another p20 load is running on this warehouse; waiting for it", file=sys.stderr)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# ---------------------------------------------------------------- ledger


def read_ledger() -> list[dict]:
    path = paths.ledger_path()
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:  # a torn last line from a crash: ignored, never rewritten
                continue
    return records


def append_ledger(record: dict) -> None:
    path = paths.ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def current_loads(ledger: list[dict]) -> dict[tuple[str, int], dict]:
    """(extract, school_year) -> the newest landed ledger record."""
    current: dict[tuple[str, int], dict] = {}
    for rec in ledger:
        if rec["outcome"] == "landed":
            current[(rec["extract"], rec["school_year"])] = rec
    return current


def landed_path(extract: str, year: int, load_id: str) -> Path:
    return paths.landed_dir() / extract / f"school_year={year}" / f"load_id={load_id}"


LOAD_RECORD = "_load.json"


def land(con: duckdb.DuckDBPyConnection, extract: Extract, year: int, record: dict, rows_sql: str = "") -> None:
    """Write the rows (default: the validated outbox_lines) and their ledger record into a
    temporary directory, then rename it into landed/ in one step: the rename is the commit point
    of a load. `p20 rekey` lands its re-keyed rows through here too."""
    rows_sql = rows_sql or f"select * exclude (field_count) from ({_frame_sql(extract)})"
    with atomic_dir(landed_path(extract.name, year, record["load_id"])) as tmp:
        con.sql(
            f"copy (select *, current_timestamp as loaded_at "
            f"from ({rows_sql}) order by line_no) "
            f"to {sql_str(tmp / 'part-0.parquet')} (format parquet, compression zstd)"
        )
        (tmp / LOAD_RECORD).write_text(json.dumps(record, sort_keys=True), encoding="utf-8")


def recover_after_crash(ledger: list[dict]) -> int:
    """Finish what a killed load left: remove temporaries (never read by dbt), and append the
    ledger line of a load that was renamed into place but not yet recorded (from its own
    _load.json). Returns the number of recovered records."""
    remove_stale_temporaries(paths.landed_dir())
    remove_stale_temporaries(paths.quarantine_dir())
    recorded = {rec["load_id"] for rec in ledger if rec["outcome"] == "landed"}
    recovered = 0
    for load_dir in sorted(paths.landed_dir().glob("*/school_year=*/load_id=*")):
        if load_dir.name.removeprefix("load_id=") not in recorded:
            if not (load_dir / LOAD_RECORD).exists():  # not written by a p20 load: not trusted
                shutil.rmtree(load_dir)
                continue
            record = json.loads((load_dir / LOAD_RECORD).read_text(encoding="utf-8"))
            record["recovered_after_crash"] = True
            append_ledger(record)
            ledger.append(record)
            recovered += 1
    return recovered


# ---------------------------------------------------------------- validation


@cache
def _gx_batch_definition():
    """An ephemeral GX context (nothing written to disk) with one pandas dataframe asset."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # GX's own switch: TQDM_DISABLE does not silence its metric progress bars.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("outbox").add_dataframe_asset("extract")
    return asset.add_batch_definition_whole_dataframe("whole_file")


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
        "known_school_codes": known_school_codes,
        "school_year_start": pd.Timestamp(year - 1, 7, 1),
        "school_year_end": pd.Timestamp(year, 6, 30),
        "volume_min_rows": int(previous_year_rows * band) if previous_year_rows else None,
        "volume_max_rows": int(previous_year_rows / band) if previous_year_rows else None,
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


def _frame_sql(extract: Extract, typed_columns: dict[str, str] | None = None) -> str:
    cols = [
        f"nullif(fields[{i}], '') as {name}"
        for i, name in enumerate(extract.outbox_columns, start=1)
    ]
    index = {name: i for i, name in enumerate(extract.outbox_columns, start=1)}
    for name, kind in (typed_columns or {}).items():
        suffix, expr = TYPED_VIEWS[kind]
        cols.append(expr.format(col=f"nullif(fields[{index[name]}], '')") + f" as {name}{suffix}")
    return f"select line_no, n_fields as field_count, {', '.join(cols)} from outbox_lines"


def validate(con: duckdb.DuckDBPyConnection, extract: Extract, params: dict) -> list[dict]:
    """Run the extract's suite over outbox_lines; returns one summary per failed expectation.

    Summaries keep the rule, the column, counts and line numbers: never the failing values.
    """
    suite = load_suite(extract.name)
    typed = (suite.meta or {}).get("typed_columns", {})
    frame = con.sql(_frame_sql(extract, typed)).df().set_index("line_no")
    frame = frame.astype({c: "string" for c in extract.outbox_columns})
    batch = _gx_batch_definition().get_batch(batch_parameters={"dataframe": frame})
    # BASIC (counts) for the whole suite is about 2.5x cheaper than COMPLETE; line numbers are
    # then computed for the failed expectations only.
    result = batch.validate(suite, expectation_parameters=params, result_format={"result_format": "BASIC"})
    failed = [r for r in result.results if not r.success]
    if not failed:
        return []
    from great_expectations.core import ExpectationSuite

    failed_keys = {_rule_key(r.expectation_config.type, r.expectation_config.meta) for r in failed}
    document = _suite_json(extract.name)
    document["expectations"] = [
        e for e in document["expectations"] if _rule_key(e["type"], e.get("meta")) in failed_keys
    ]
    result = batch.validate(
        ExpectationSuite(**document),
        expectation_parameters=params,
        result_format={"result_format": "COMPLETE"},
    )
    failures = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        res = r.result or {}
        # GX returns the index (our line number), alone or in a dict beside the failing value:
        # only the line number is kept.
        lines = [
            int(i["line_no"]) if isinstance(i, dict) else int(i)
            for i in (res.get("unexpected_index_list") or [])
        ]
        info = r.exception_info if isinstance(r.exception_info, dict) else {}
        raised = any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())
        failures.append(
            {
                "rule": (cfg.meta or {}).get("rule", cfg.type),
                "expectation": cfg.type,
                "column": cfg.kwargs.get("column") or ",".join(cfg.kwargs.get("column_list") or []),
                "unexpected_count": int(res.get("unexpected_count") or 0),
                "element_count": int(res.get("element_count") or len(frame)),
                "lines": lines[:MAX_LINES_REPORTED],
                "could_not_evaluate": raised,
            }
        )
    return failures


# ---------------------------------------------------------------- the load


def _manifest(outbox: Path) -> dict:
    path = outbox / MANIFEST
    if not path.exists():
        raise UsageError(f"{path}: no manifest; an outbox is made by `p20 pseudonymise`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RejectedInput(f"{path.name}: manifest is not valid JSON") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise RejectedInput(f"{path.name}: manifest format is not {MANIFEST_FORMAT}")
    expected = keys.mac(keys.load_manifest_key(), manifest_payload(manifest))
    if not hmac.compare_digest(expected, str(manifest.get("mac", ""))):
        raise RejectedInput(
            f"{path.name}: rule 'manifest authenticity' failed: the manifest was altered after the "
            "custodian sealed it, or it was made with another partnership key; nothing was loaded"
        )
    return manifest


def _check_trust(manifest: dict) -> None:
    """The warehouse accepts tokens of one key: the one its first load came with."""
    trust_path = paths.warehouse_dir() / TRUST_FILE
    fingerprint = manifest.get("key_fingerprint")
    if trust_path.exists():
        expected = json.loads(trust_path.read_text())["key_fingerprint"]
        if fingerprint != expected:
            raise RejectedInput(
                f"{MANIFEST}: key fingerprint {fingerprint} is not the warehouse's key ({expected}); "
                "its tokens would not link. Re-pseudonymise with the partnership key, or rotate"
            )


def _pin_trust(manifest: dict) -> None:
    trust_path = paths.warehouse_dir() / TRUST_FILE
    if not trust_path.exists():
        write_json_atomic(trust_path, {"key_fingerprint": manifest["key_fingerprint"]})


def _landed_school_codes(con: duckdb.DuckDBPyConnection, year: int, current: dict) -> set[str]:
    rec = current.get(("schools", year))
    if not rec:
        return set()
    glob = landed_path("schools", year, rec["load_id"]) / "*.parquet"
    rows = con.execute(f"select distinct school_code from read_parquet({sql_str(glob)})").fetchall()
    return {r[0] for r in rows}


def load_file(
    con: duckdb.DuckDBPyConnection, outbox: Path, entry: dict, current: dict, school_codes: dict
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
    sha = file_sha256(path)
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
    try:
        register_lines(con, path, "outbox_lines")
    except RejectedInput as exc:
        outcome.message = str(exc)
        return outcome
    rows = con.execute("select count(*) from outbox_lines").fetchall()[0][0]
    outcome.rows = rows
    if rows != entry.get("rows"):
        outcome.message = (
            f"{name}: rule 'manifest rows' failed: {rows} rows, manifest says {entry.get('rows')}"
        )
        return outcome
    known = school_codes.get(year) or _landed_school_codes(con, year, current)
    previous = current.get((extract.name, year - 1))
    params = suite_parameters(extract, year, sorted(known), previous["rows"] if previous else None)
    outcome.failures = validate(con, extract, params)
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
                f"select distinct fields[{extract.outbox_columns.index('school_code') + 1}] from outbox_lines"
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


def load(outbox: Path) -> list[Outcome]:
    """Load every extract an outbox's manifest lists; schools first, then by year."""
    manifest = _manifest(outbox)
    warehouse = paths.warehouse_dir()
    with exclusive_lock(warehouse):
        ledger = read_ledger()
        recover_after_crash(ledger)
        _check_trust(manifest)
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
        for entry in entries:
            started = dt.datetime.now(dt.UTC).isoformat()
            outcome = load_file(con, outbox, entry, current, school_codes)
            if outcome.status == "rejected":
                _quarantine(outcome, entry)
            prior = current.get((outcome.extract, outcome.school_year))
            record = {
                "attempt_id": uuid.uuid4().hex,
                "load_id": outcome.load_id,
                "extract": outcome.extract,
                "school_year": outcome.school_year,
                "file": outcome.file,
                "file_sha256": entry.get("sha256"),
                "rows": outcome.rows,
                "suite": outcome.extract,
                "suite_version": _suite_version(outcome.extract),
                "key_fingerprint": manifest.get("key_fingerprint"),
                "policy_version": manifest.get("policy_version"),
                "failed_rules": [
                    {k: f[k] for k in ("rule", "expectation", "column", "unexpected_count")}
                    for f in outcome.failures
                ],
                "n_failed_rules": len(outcome.failures),
                "message": outcome.message if outcome.status != "landed" else "",
                "outcome": outcome.status,
                "supersedes": prior["load_id"] if prior and outcome.status == "landed" else None,
                "rekeyed_from": None,
                "started_at": started,
                "finished_at": dt.datetime.now(dt.UTC).isoformat(),
            }
            if outcome.status == "landed":
                land(con, extracts()[outcome.extract], outcome.school_year, record)
            append_ledger(record)
            if outcome.status == "landed":
                current[(outcome.extract, outcome.school_year)] = {
                    "load_id": outcome.load_id,
                    "file_sha256": entry.get("sha256"),
                    "rows": outcome.rows,
                }
            outcomes.append(outcome)
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
            _pin_trust(manifest)
    return outcomes


@cache
def _suite_version(extract: str) -> str | None:
    path = paths.EXPECTATIONS_DIR / f"{extract}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text()).get("meta", {}).get("version")
