"""The Great Expectations side of the gate: one ephemeral GX context, a SQL datasource over the
load's DuckDB database (through duckdb-engine and SQLAlchemy), the suites
(expectations/<extract>.json) and the parameters they refer to, the frame table a suite scans,
and validation: counts of every expectation, line numbers of the failed ones, never values.
"""

import contextlib
import json
from dataclasses import dataclass
from functools import cache

import duckdb

from p20 import paths
from p20.ledger import ExpectationOutcome
from p20.policy import Extract, code_set, exit_completion_pairs, project_var
from p20.textio import DELIMITER

MAX_LINES_REPORTED = 20


@cache
def gx_context():
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
    context = gx_context()
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
            gx_context().data_sources.delete(datasource.name)


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

    results: list[ExpectationOutcome]
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
        entry = ExpectationOutcome(
            index=index.get(_rule_key(cfg.type, cfg.meta)),
            rule=(cfg.meta or {}).get("rule", cfg.type),
            expectation=cfg.type,
            column=_columns(cfg.kwargs),
            success=bool(r.success),
            element_count=res.get("element_count"),
            unexpected_count=res.get("unexpected_count"),
            missing_count=res.get("missing_count"),
            # the observed row count of table-level rules; never a column's value
            observed_value=res.get("observed_value") if cfg.type.startswith("expect_table_row_count") else None,
            could_not_evaluate=_raised(r),
        )
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
                # a row-count rule's figure (the file's rows), so its message can say it
                "observed_value": res.get("observed_value") if cfg.type.startswith("expect_table_row_count") else None,
            }
        )
    by_rule = {(f["expectation"], f["rule"]): f for f in failures}
    for entry in results:  # counts of the line-number pass win (the first pass had none for raises)
        f = by_rule.get((entry["expectation"], entry["rule"]))
        if f and entry["unexpected_count"] is None:
            entry["unexpected_count"] = f["unexpected_count"]
    return Validation(results, failures)


@cache
def suite_version(extract: str) -> str | None:
    path = paths.EXPECTATIONS_DIR / f"{extract}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text()).get("meta", {}).get("version")
