"""`p20 link`: records that carry no district id (county preschool enrolments, NSC college
enrolments), matched to the district's students on identity fields, in the custodian zone.

1. The district's identities: one row per student (SSID normalised as `p20.keys` does), the
   most frequent (first name, last name, birth date, gender, address) of its raw SINF rows over
   all years, and the last high school of its SENR rows.
2. A source's identities: the distinct identity fields of its rows (per program year for the
   preschool file, so one child may match in two years), normalised the same way (upper case,
   accents and punctuation removed; dates read in the formats its configuration lists, see
   p20.sources and docs/linkage-sources.md).
3. Splink (Fellegi-Sunter, DuckDB backend) compares them with the source's model, read from
   the `model:` section of its configuration (p20.linkmodel): blocking rules, comparisons with
   their levels and term-frequency adjustments, and training (u from a random sample with the
   configured seed, m by expectation maximisation): deterministic for given files.
4. Each source identity takes its best candidate; it is a match when the match probability is
   at least var `p20:link_match_threshold` (dbt_project.yml: the one place it is set), the best
   candidate is not tied with another student, no other identity of the same program year
   (preschool) or file (college) claims the same student with a higher probability, and (for
   preschool) no other row of the year carries the very same identity fields.
5. The rows, with `matched_ssid` and `match_probability` added, go through the column policy
   (seeds/extract_columns.csv) as every extract does (p20.custodian.pseudonymise_columns):
   identity fields dropped, `matched_ssid` tokenised with the warehouse's student key (a blank
   one stays blank: an unmatched row has no token). The files are written under temporary
   names, renamed into the outbox, and listed in its manifest, which is sealed again.

Nothing identifying is printed: Splink's loggers are silenced, its output and warnings are
swallowed, and an error inside the matching step becomes one line naming the source and the
error's type; its full text (which may quote identity values) goes to custodian/logs/.
"""

import contextlib
import datetime as dt
import io
import json
import logging
import os
import re
import traceback
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv

from p20 import keys, linkmodel, paths
from p20.custodian import TokenCache, pseudonymise_columns, render_lines
from p20.errors import P20Error, RejectedInput, UsageError
from p20.inventory import linked_source_files, relisted
from p20.manifest import MANIFEST, seal_manifest
from p20.policy import LINK_ID_COLUMN, Extract, linked_extracts, project_var
from p20.sources import Source
from p20.sources import load_sources as _load_sources
from p20.textio import file_sha256, sql_str, write_json_atomic

MATCH_PROBABILITY_COLUMN = "match_probability"
PREDICT_FLOOR = 0.001  # candidates below this are not kept (their probability is reported blank)


def load_sources() -> dict[str, Source]:
    """The linked sources' configurations (scripts/p20/linked_sources/*.yml; docs/linkage-sources.md)."""
    return _load_sources()


class LinkFailed(P20Error):
    """The matching step failed; its message names the source and the error type only."""

    exit_code = 1


@dataclass
class SourceResult:
    extract: str
    files: list[dict] = field(default_factory=list)  # manifest entries
    rows: int = 0
    matched_rows: int = 0
    identities: int = 0
    # Custodian-side only (never written to the outbox): per raw row, the file, its data line
    # (1 = first row after the header) and the SSID matched ('' when none).
    matches: pa.Table | None = None


def threshold() -> float:
    return float(project_var("link_match_threshold"))


def header_name(text: str) -> str:
    """A CSV header as the policy names it: 'Record Found Y/N', 'RECORD_FOUND_Y/N' ->
    'record_found_y_n'; 'Graduated?' -> 'graduated' (providers spell headers differently)."""
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


ID_PREFIX = "_identity__"  # a column of the read table carrying an identity field (never crosses)


def _check_config(source: Source, extract: Extract) -> None:
    """The configuration fits the extract's policy: data columns are policy columns, and every
    policy column that crosses is given (a dropped one the source lacks is read as blank)."""
    policy = {c.raw_column: c for c in extract.columns if c.raw_column not in (LINK_ID_COLUMN, MATCH_PROBABILITY_COLUMN)}
    unknown = sorted(set(source.data) - set(policy))
    lacking = [c for c, col in policy.items() if col.action != "drop" and c not in source.data]
    if unknown or lacking:
        what = "; ".join(p for p in (
            f"data names columns the {extract.name} policy does not know: {', '.join(unknown)}" if unknown else "",
            f"data must give the crossing columns {', '.join(lacking)}" if lacking else "",
        ) if p)
        raise UsageError(f"{source.config}: linked-source configuration: {what} (docs/linkage-sources.md)")


def read_source_file(path: Path, extract: Extract, source: Source) -> pa.Table:
    """A source file's rows as text columns: the policy's columns, in policy order (a dropped
    one the source lacks is blank), then one column per identity field (ID_PREFIX + field).
    A column the configuration does not name, or one it names that is missing, refuses the
    file (one line, no values)."""
    _check_config(source, extract)
    data = path.read_bytes()
    if source.encoding.lower().replace("-", "") in ("utf8", "utf8sig"):
        data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        data = data.decode(source.encoding).encode("utf-8")
    except (UnicodeDecodeError, LookupError):
        raise RejectedInput(
            f"{path.name}: rule 'text encoding {source.encoding}' failed; re-export the file or fix "
            f"'encoding' in {source.config}"
        ) from None
    first_line = data.split(b"\n", 1)[0].decode().rstrip("\r")
    names = [header_name(h) for h in next(iter(_csv_rows(first_line, source.delimiter)), [])]
    expected = source.columns
    unknown = [n for n in names if n not in expected]
    missing = sorted(n for n in expected if n not in names)
    if unknown or missing or len(set(names)) != len(names):
        what = "; ".join(
            part for part in (
                f"columns the policy does not know: {', '.join(unknown)}" if unknown else "",
                f"columns missing: {', '.join(missing)}" if missing else "",
                "a column appears twice" if len(set(names)) != len(names) else "",
            ) if part
        )
        raise RejectedInput(
            f"{path.name}: rule 'column policy' failed ({what}); the source configuration "
            f"{source.config.name} (identity, data, drop) and the {extract.name} policy in "
            "seeds/extract_columns.csv must account for every column before anything crosses"
        )
    try:
        table = pcsv.read_csv(
            pa.py_buffer(data),
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pcsv.ParseOptions(delimiter=source.delimiter),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as exc:  # Arrow quotes the row: report its number only
        row = re.search(r"Row #(\d+)", str(exc))
        where = f" at data row {int(row.group(1)) - 1}" if row else ""
        raise RejectedInput(
            f"{path.name}: rule 'CSV layout' failed{where}: a row has more or fewer fields than the header"
        ) from None
    blank = pa.array([""] * table.num_rows, pa.string())
    cols, out_names = [], []
    for c in extract.columns:
        if c.raw_column in (LINK_ID_COLUMN, MATCH_PROBABILITY_COLUMN):
            continue
        cols.append(table.column(source.data[c.raw_column]) if c.raw_column in source.data else blank)
        out_names.append(c.raw_column)
    for f, column in source.identity.items():
        cols.append(table.column(column))
        out_names.append(ID_PREFIX + f)
    return pa.table(cols, names=out_names)


def _csv_rows(text: str, delimiter: str = ","):
    import csv

    return csv.reader([text], delimiter=delimiter)


def source_files(raw_dir: Path, source: Source) -> list[tuple[Path, int]]:
    """The source's files (p20.inventory: a file of its folder named otherwise is refused)."""
    return linked_source_files(raw_dir, source.extract)


# Identity normalisation, the same SQL on both sides.
def _name(col: str) -> str:
    cleaned = f"regexp_replace(strip_accents(upper(trim({col}))), '[^A-Z -]', '', 'g')"
    return f"nullif(trim(regexp_replace({cleaned}, '\\s+', ' ', 'g')), '')"


# Street suffixes as USPS abbreviates them (Publication 28), so that 'Maple Street' and
# 'Maple St' are one address for blocking and comparison alike.
STREET_SUFFIXES = {"STREET": "ST", "AVENUE": "AVE", "ROAD": "RD", "DRIVE": "DR", "BOULEVARD": "BLVD",
                   "LANE": "LN", "PLACE": "PL", "COURT": "CT", "TERRACE": "TER", "HIGHWAY": "HWY"}


def _address(col: str) -> str:
    cleaned = f"regexp_replace(strip_accents(upper(trim({col}))), '[^A-Z0-9 ]', '', 'g')"
    for word, short in STREET_SUFFIXES.items():
        cleaned = f"regexp_replace({cleaned}, '\\b{word}\\b', '{short}', 'g')"
    return f"nullif(trim(regexp_replace({cleaned}, '\\s+', ' ', 'g')), '')"


def _year(col: str) -> str:
    """The year of a CCYYMMDD date (null when it is not one)."""
    return f"substr({_birth_date(col)}, 1, 4)"


def _date(col: str, formats: tuple[str, ...]) -> str:
    """A date in the first of the formats that reads it, as CCYYMMDD (null when none does). A
    format of digits only (%Y%m%d) must read the whole value back (20110618, not 2011618)."""
    parts = []
    for fmt in formats:
        parsed = f"try_strptime(trim({col}), {sql_str(fmt)})"
        if not re.sub(r"%[A-Za-z]", "", fmt):
            parsed = f"case when strftime({parsed}, {sql_str(fmt)}) = trim({col}) then {parsed} end"
        parts.append(f"strftime({parsed}, '%Y%m%d')")
    return f"coalesce({', '.join(parts)})" if len(parts) > 1 else parts[0]


def _birth_date(col: str) -> str:
    return f"case when try_strptime(trim({col}), '%Y%m%d') is not null and length(trim({col})) = 8 then trim({col}) end"


def _code(col: str) -> str:
    return f"nullif(upper(trim({col})), '')"


def district_identities(con: duckdb.DuckDBPyConnection, raw_dir: Path, manifest: dict) -> int:
    """Table `district` (one row per normalised SSID) from the raw SINF and SENR files the
    outbox was made from (the manifest's raw_file: a file taken through --map too)."""
    from p20.policy import extracts

    def read(code: str, extract: str) -> str:
        files = [
            raw_dir / e.get("raw_file", f"{code}_{e['school_year']}.txt")
            for e in manifest.get("files", []) if e.get("extract") == extract
        ]
        if not files:
            raise UsageError(f"the outbox lists no {code} files; the district's identities come from them (run `p20 pseudonymise`)")
        cols = ", ".join(f"'{c.raw_column}': 'VARCHAR'" for c in extracts()[extract].columns)
        return (
            f"read_csv([{', '.join(sql_str(f) for f in files)}], delim = '^', header = false, "
            f"quote = '', escape = '', columns = {{{cols}}}, auto_detect = false, null_padding = true)"
        )

    try:
        con.sql(f"create or replace temp table sinf as select * from {read('SINF', 'students')}")
        con.sql(f"create or replace temp table senr as select * from {read('SENR', 'enrollments')}")
    except duckdb.Error:  # DuckDB's message quotes the line
        raise RejectedInput(
            f"{raw_dir}: rule 'caret-delimited layout' failed in a SINF or SENR file; run `p20 pseudonymise` "
            "first, which names the file and lines"
        ) from None
    raw_forms = [r[0] for r in con.execute("select distinct ssid from (select ssid from sinf union all select ssid from senr) where ssid is not null").fetchall()]
    con.register("ssid_forms", pa.table({"ssid": raw_forms, "ssid_n": [keys.normalise_id(v) for v in raw_forms]}))
    con.sql("create or replace temp table ssid_map as select * from ssid_forms where ssid_n <> ''")
    con.unregister("ssid_forms")
    con.sql(
        f"""
        create or replace temp table district as
        with rows as (
            select m.ssid_n, {_name('first_name')} as first_name, {_name('last_name')} as last_name,
                   {_birth_date('birth_date')} as birth_date, {_code('gender')} as gender,
                   {_address('address')} as address, academic_year
            from sinf join ssid_map as m using (ssid)
        ),
        tuples as (
            select ssid_n, first_name, last_name, birth_date, gender, address,
                   count(*) as n, max(academic_year) as latest
            from rows group by all
        ),
        best as (
            select * from tuples
            qualify row_number() over (
                partition by ssid_n
                order by n desc, latest desc, first_name, last_name, birth_date, gender, address
            ) = 1
        ),
        high_school as (
            select m.ssid_n, {_code('school_code')} as high_school_code
            from senr join ssid_map as m using (ssid)
            where grade_level in ('09', '10', '11', '12')
            qualify row_number() over (
                partition by m.ssid_n order by academic_year desc, enrollment_start_date desc, school_code
            ) = 1
        ),
        graduated as (
            select m.ssid_n, max({_year('exit_date')}) as grad_year
            from senr join ssid_map as m using (ssid)
            where grade_level = '12' and completion_status = '100'
            group by m.ssid_n
        )
        select best.ssid_n, best.first_name, best.last_name, best.birth_date, best.gender,
               best.address, high_school.high_school_code, graduated.grad_year
        from best left join high_school using (ssid_n) left join graduated using (ssid_n)
        """
    )
    return con.execute("select count(*) from district").fetchall()[0][0]


@contextlib.contextmanager
def _quiet():
    """Nothing of Splink's reaches the terminal: loggers off, warnings and stray prints swallowed."""
    loggers = [logging.getLogger(name) for name in ("splink", "splink.internals")]
    saved = [(lg.level, lg.propagate, list(lg.handlers)) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 10)
        lg.propagate = False
        lg.handlers = [logging.NullHandler()]
    sink = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, (level, propagate, handlers) in zip(loggers, saved, strict=True):
            lg.setLevel(level)
            lg.propagate = propagate
            lg.handlers = handlers


def _score(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """Table `best` (source identity id -> ssid_n or null, match_probability) from tables
    `source_ids` and `district`, with Splink."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    cols = ["first_name", "last_name", "birth_date"] + [
        c for c in ("gender", "address", "high_school_code") if source.has(c)
    ] + (["grad_year"] if source.has("grad_date") else [])
    con.sql(f"create or replace table splink_left as select identity_id as unique_id, {', '.join(cols)} from source_ids")
    con.sql(f"create or replace table splink_right as select ssid_n as unique_id, {', '.join(cols)} from district")
    db_api = DuckDBAPI(connection=con)
    left = db_api.register("splink_left", table_name="a_source")
    right = db_api.register("splink_right", table_name="b_district")
    linker = Linker([left, right], SettingsCreator(**linkmodel.settings(source.model)), log_level=None)
    linkmodel.train(linker, source.model)
    predictions = linker.inference.predict(threshold_match_probability=PREDICT_FLOOR)
    con.sql(
        f"""
        create or replace temp table pairs as
        select case when source_dataset_l = 'a_source' then cast(unique_id_l as bigint) else cast(unique_id_r as bigint) end as identity_id,
               case when source_dataset_l = 'a_source' then cast(unique_id_r as varchar) else cast(unique_id_l as varchar) end as ssid_n,
               match_probability
        from {predictions.physical_name}
        """
    )
    predictions.drop_table_from_database_and_remove_from_cache()


def _decide(con: duckdb.DuckDBPyConnection, cutoff: float, one_row_per_student: bool) -> None:
    """Table `decided` (identity_id, ssid_n or null, match_probability): the best candidate,
    a match when >= cutoff, not tied with another student, and not claimed by a better identity
    of the same group (program year / file). With one_row_per_student (a preschool year), an
    identity on more than one row of its year (two children the file cannot tell apart) is
    not matched: which row is the district's child is unknowable."""
    con.sql(
        f"""
        create or replace temp table decided as
        with ranked as (
            select pairs.*, source_ids.group_key,
                   row_number() over (partition by pairs.identity_id order by match_probability desc, ssid_n) as rn,
                   count(*) over (partition by pairs.identity_id, match_probability) as n_same
            from pairs join source_ids using (identity_id)
        ),
        best as (select * from ranked where rn = 1),
        claimed as (
            select *, row_number() over (
                partition by group_key, ssid_n order by match_probability desc, identity_id
            ) as claim_rank
            from best
        )
        select source_ids.identity_id,
               case when claimed.match_probability >= {cutoff} and claimed.n_same = 1 and claimed.claim_rank = 1
                    and (source_ids.n_rows = 1 or not {one_row_per_student})
                    then claimed.ssid_n end as ssid_n,
               round(claimed.match_probability, 4) as match_probability
        from source_ids left join claimed using (identity_id)
        """
    )


def _refuse_unreadable_dates(con, path: Path, source: Source, dates: dict[str, str]) -> None:
    """A non-blank date that none of its formats reads refuses the file: counted by column,
    never shown (registered table `source_file`)."""
    counts = con.execute(
        "select " + ", ".join(
            f'count(*) filter (where trim("{ID_PREFIX}{f}") <> \'\' and {expr} is null)' for f, expr in dates.items()
        ) + " from source_file"
    ).fetchall()[0]
    bad = [(source.identity[f], n) for f, n in zip(dates, counts, strict=True) if n]
    if bad:
        con.unregister("source_file")
        what = ", ".join(f"{col}: {n} values" for col, n in bad)
        raise RejectedInput(
            f"{path.name}: rule 'dates in the configured formats' failed ({what} no format of "
            f"date_formats reads); fix the file or the formats in {source.config.name}"
        )


def link_source(
    con: duckdb.DuckDBPyConnection, source: Source, files: list[tuple[Path, int]], cutoff: float
) -> tuple[list[tuple[Path, int, pa.Table]], pa.Table]:
    """Match every row of a source's files; returns per file its rows with matched_ssid and
    match_probability added, and (custodian-only) per row the file, line and SSID matched."""
    extract = linked_extracts()[source.extract]
    tables = [(path, year, read_source_file(path, extract, source)) for path, year in files]
    parts = []

    def ident(f: str) -> str:
        return f'"{ID_PREFIX}{f}"'

    for i, (path, year, table) in enumerate(tables):
        con.register("source_file", table)
        dates = {f: _date(ident(f), source.date_formats[f]) for f in source.date_formats}
        _refuse_unreadable_dates(con, path, source, dates)
        con.sql(
            f"""
            create or replace temp table source_rows_{i} as
            select {i} as file_no, row_number() over () as line, {year if source.group_by_year else 0} as group_key,
                   {_name(ident('first_name'))} as first_name, {_name(ident('last_name'))} as last_name,
                   {dates['birth_date']} as birth_date,
                   {_code(ident('gender')) if source.has('gender') else 'null'} as gender,
                   {_address(ident('address')) if source.has('address') else 'null'} as address,
                   {_code(ident('high_school_code')) if source.has('high_school_code') else 'null'} as high_school_code,
                   {f"substr({dates['grad_date']}, 1, 4)" if source.has('grad_date') else 'null'} as grad_year
            from source_file
            """
        )
        con.unregister("source_file")
        parts.append(f"select * from source_rows_{i}")
    con.sql(f"create or replace temp table source_rows as {' union all '.join(parts)}")
    con.sql(
        """
        create or replace temp table source_ids as
        select row_number() over (
                   order by group_key, first_name, last_name, birth_date, gender, address, high_school_code, grad_year
               ) as identity_id, *
        from (
            select group_key, first_name, last_name, birth_date, gender, address, high_school_code, grad_year,
                   count(*) as n_rows
            from source_rows
            group by all
        )
        """
    )
    _score(con, source)
    _decide(con, cutoff, one_row_per_student=source.group_by_year)
    rows = con.execute(
        """
        select r.file_no, r.line, coalesce(d.ssid_n, '') as matched_ssid,
               coalesce(cast(d.match_probability as varchar), '') as match_probability
        from source_rows as r
        join source_ids as s
          on s.group_key = r.group_key
         and s.first_name is not distinct from r.first_name and s.last_name is not distinct from r.last_name
         and s.birth_date is not distinct from r.birth_date and s.gender is not distinct from r.gender
         and s.address is not distinct from r.address and s.high_school_code is not distinct from r.high_school_code
         and s.grad_year is not distinct from r.grad_year
        join decided as d on d.identity_id = s.identity_id
        order by r.file_no, r.line
        """
    ).to_arrow_table()
    out, matches = [], []
    for i, (path, year, table) in enumerate(tables):
        mine = rows.filter(pa.compute.equal(rows["file_no"], i))
        assert mine.num_rows == table.num_rows, "every source row is matched or not, exactly once"
        ssid = mine["matched_ssid"].cast(pa.string())
        prob = mine["match_probability"].cast(pa.string())
        out.append((path, year, table.append_column(LINK_ID_COLUMN, ssid).append_column(MATCH_PROBABILITY_COLUMN, prob)))
        matches.append(pa.table({"file": [path.name] * table.num_rows, "line": mine["line"], "ssid": ssid}))
    return out, pa.concat_tables(matches) if matches else pa.table({"file": [], "line": [], "ssid": []})


def _write_file(outbox: Path, name: str, body: pa.Buffer) -> Path:
    """Write a file under a temporary name in the outbox (not *.txt, so the gate never reads it)."""
    tmp = outbox / f".tmp-{name}-{uuid.uuid4().hex[:8]}.partial"
    with open(tmp, "wb") as f:
        f.write(body)
        f.flush()
        os.fsync(f.fileno())
    return tmp


def link(raw_dir: Path, outbox: Path, extracts_wanted: list[str] | None = None) -> list[SourceResult]:
    """Link every source found under raw_dir and add it to the outbox (files + manifest)."""
    manifest_path = outbox / MANIFEST
    if not manifest_path.exists():
        raise UsageError(f"{manifest_path}: no outbox manifest; run `p20 pseudonymise` first (link adds to its outbox)")
    if not raw_dir.is_dir():
        raise UsageError(f"{raw_dir}: no such folder of raw extracts (run `p20 synth` first?)")
    master = keys.load_master_key()
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    fingerprint = keys.fingerprint(master)
    if manifest.get("key_fingerprint") != fingerprint:
        raise UsageError(
            f"{manifest_path}: made with another key ({manifest.get('key_fingerprint')}, this key is "
            f"{fingerprint}); run `p20 pseudonymise` again before `p20 link`"
        )
    sources = load_sources()
    unlisted = [s.config.name for s in sources.values() if s.extract not in linked_extracts()]
    if unlisted:
        raise UsageError(
            f"{unlisted[0]}: its extract has no linked column policy in seeds/extract_columns.csv "
            "(matched_ssid and match_probability rows); add one before it can cross"
        )
    wanted = extracts_wanted or list(sources)
    unknown = [w for w in wanted if w not in sources]
    if unknown:
        raise UsageError(f"unknown linked extract {unknown[0]!r}; choose from {', '.join(sources)}")
    cutoff = threshold()
    inputs = {name: source_files(raw_dir, sources[name]) for name in wanted}  # refusals first
    con = duckdb.connect()
    con.sql("set enable_progress_bar = false")
    district_identities(con, raw_dir, manifest)
    tokens = TokenCache(master)
    results, staged = [], []  # staged: (temporary path, final path)
    try:
        for name in wanted:
            source = sources[name]
            files = inputs[name]
            result = SourceResult(name)
            results.append(result)
            if not files:
                continue
            try:
                with _quiet():
                    linked, result.matches = link_source(con, source, files, cutoff)
            except P20Error:
                raise
            except Exception as exc:  # may quote identity values: keep the text custodian-side
                log = _log_error(name, exc)
                raise LinkFailed(
                    f"{source.folder}/: matching failed ({type(exc).__name__}); nothing was written. "
                    f"The full error (it may quote identity values) is in {log}"
                ) from None
            result.identities = con.execute("select count(*) from source_ids").fetchall()[0][0]
            extract = linked_extracts()[name]
            for _path, year, table in linked:
                columns = pseudonymise_columns(table, extract, year, tokens)
                out_name = f"{extract.name}_{year}.txt"
                body = render_lines(columns) if table.num_rows else pa.py_buffer(b"")
                tmp = _write_file(outbox, out_name, body)
                staged.append((tmp, outbox / out_name))
                result.files.append(
                    {
                        "file": out_name,
                        "extract": extract.name,
                        "school_year": year,
                        "rows": table.num_rows,
                        "columns": extract.outbox_columns,
                        "sha256": file_sha256(tmp),
                    }
                )
                result.rows += table.num_rows
                result.matched_rows += sum(1 for v in table.column(LINK_ID_COLUMN).to_pylist() if v)
        # Commit: rename the files into place, then the manifest (sealed again) lists them.
        done = {r.extract for r in results}
        kept = [e for e in manifest["files"] if e.get("extract") not in done]
        stale = [outbox / e["file"] for e in manifest["files"] if e.get("extract") in done]
        for tmp, final in staged:
            os.replace(tmp, final)
        body = {k: v for k, v in manifest.items() if k != "mac"}
        body["files"] = kept + [f for r in results for f in r.files]
        body["inventory"] = relisted(manifest, body["files"])
        body["link"] = {
            "linked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "match_threshold": cutoff,
            "splink_version": _splink_version(),
        }
        write_json_atomic(manifest_path, seal_manifest(body, master))
        listed = {f["file"] for f in body["files"]}
        for path in stale:
            if path.name not in listed and path.exists():
                path.unlink()
    finally:
        for tmp, _ in staged:
            if tmp.exists():
                tmp.unlink()
        con.close()
    return results


def _splink_version() -> str:
    from importlib.metadata import version

    return version("splink")


def _log_error(source: str, exc: Exception) -> Path:
    log = paths.custodian_dir() / "logs" / "link-errors.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(log.parent, 0o700)
    with open(log, "a", encoding="utf-8") as f:
        f.write(f"--- {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')} {source}\n")
        f.write("".join(traceback.format_exception(exc)))
    return log


def quality(results: list[SourceResult], truth_dir: Path) -> dict[str, dict]:
    """Precision and recall of the matches against the generator's planted truth
    (truth/linkage_<source>.csv: file, line, ssid or blank): custodian-side measurement."""
    truth_files = {"preschool_enrollments": "linkage_preschool.csv", "college_enrollments": "linkage_college.csv"}
    out = {}
    con = duckdb.connect()
    for r in results:
        if r.matches is None:
            continue
        truth = truth_dir / truth_files[r.extract]
        con.register("matches", r.matches)
        row = con.execute(
            f"""
            with truth as (
                select file, line, coalesce(ltrim(cast(ssid as varchar), '0'), '') as ssid
                from read_csv({sql_str(truth)}, header = true, all_varchar = true)
            )
            select count(*) as rows,
                   count(*) filter (where m.ssid <> '') as matched,
                   count(*) filter (where m.ssid <> '' and m.ssid = t.ssid) as correct,
                   count(*) filter (where t.ssid <> '') as truly_district
            from matches as m join truth as t on t.file = m.file and cast(t.line as bigint) = m.line
            """
        ).fetchall()[0]
        con.unregister("matches")
        rows, matched, correct, truly = row
        out[r.extract] = {
            "rows": rows,
            "matched": matched,
            "precision": correct / matched if matched else 1.0,
            "recall": correct / truly if truly else 1.0,
        }
    con.close()
    return out
