"""`p20 audit`: the evidence an auditor asks for, checked from the files themselves.

Four checks, each a count of what was examined and a list of findings (rule, place, count;
never a value):
- loads: every landed directory has its ledger record and the ledger every landed directory;
  each landed load passed its whole suite, holds the rows its record says, and was made under
  the key the warehouse trusts;
- privacy: no table or landed file of the research zone has a column named like a raw
  identifier of the column policy (seeds/extract_columns.csv: names, SSIDs, birth dates, ...),
  and every `*_token` value in the marts is a 64-hex token;
- releases: every bundle on disk is in the release ledger and every released one is on disk
  while its agreement is in force; its seal and file hashes hold; it is closed (release.json
  lists every file of its folder, README.txt too, and each is there unchanged); it lists only
  marts and columns its agreement allows, by the same class rule as `p20 release`; no bundle is
  kept past the end of its agreement; no value of any of its Parquet files looks like an SSID,
  a personal name or a full birth date, and no project token equals a warehouse token;
- build: the last dbt build passed and is newer than the newest load;
- disclosure: the attacker audit (p20.disclosure) run again on the warehouse's own published
  pattern: no hidden or coded count of the protected aggregates can be solved for from every
  published table at once.

The report goes to warehouse/audit/<audit_id>/report.json and report.txt (written whole or not
at all). Exit 0 with no findings, 1 with any.
"""

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from p20 import anonymity, keys, paths, release
from p20.errors import P20Error
from p20.landing import NOT_RECORDED, TRUST_FILE, landed_file_problems
from p20.ledger import LOAD_RECORD, current_loads, read_ledger
from p20.policy import SSID_LIKE, extracts
from p20.textio import atomic_dir, file_sha256, read_jsonl, sql_str

TOKEN_PATTERN = "^[0-9a-f]{64}$"


@dataclass
class Check:
    name: str
    examined: dict[str, int] = field(default_factory=dict)
    findings: list[dict] = field(default_factory=list)
    # what an auditor should know but that breaks no rule (e.g. a ledger line older than a check)
    notes: list[dict] = field(default_factory=list)

    def find(self, rule: str, where: str, count: int = 1) -> None:
        self.findings.append({"rule": rule, "where": where, "count": count})

    def note(self, rule: str, where: str) -> None:
        self.notes.append({"rule": rule, "where": where})


def identifier_column_names() -> set[str]:
    """Raw column names the policy keeps out of the research zone (dropped, tokenised or
    coarsened under another name), e.g. ssid, first_name, birth_date."""
    return {
        c.raw_column.lower()
        for e in extracts().values()
        for c in e.columns
        if c.action != "keep" and c.raw_column != c.outbox_column
    }


def _landed_dirs() -> dict[str, Path]:
    return {p.name.removeprefix("load_id="): p for p in paths.landed_dir().glob("*/school_year=*/load_id=*")}


def check_loads(con: duckdb.DuckDBPyConnection) -> Check:
    check = Check("loads")
    ledger = read_ledger()
    landed = {r["load_id"]: r for r in ledger if r["outcome"] == "landed"}
    on_disk = _landed_dirs()
    trust_path = paths.warehouse_dir() / TRUST_FILE
    trusted = json.loads(trust_path.read_text())["key_fingerprint"] if trust_path.exists() else None
    current = {r["load_id"] for r in current_loads(ledger).values()}
    check.examined = {"ledger records": len(ledger), "landed loads": len(landed), "landed directories": len(on_disk)}
    for load_id in sorted(set(on_disk) - set(landed)):
        check.find("a landed directory has no ledger record (it did not pass through the gate's record)", str(on_disk[load_id].relative_to(paths.warehouse_dir())))
    relanded = {(r["extract"], r["school_year"], r["file_sha256"]) for r in landed.values() if r["load_id"] in on_disk}
    check.examined["landed files hashed"] = 0
    for load_id, rec in sorted(landed.items()):
        where = f"load {load_id} ({rec['file']})"
        if load_id not in on_disk:
            if rec["file_sha256"] and (rec["extract"], rec["school_year"], rec["file_sha256"]) in relanded:
                check.note("a landed load's directory was removed; the same file is landed again", where)
            else:
                check.find("a landed load's directory is missing", where)
            continue
        for file, problem in landed_file_problems(rec):
            if problem == NOT_RECORDED:  # a ledger line older than landed_files: nothing to check
                check.note(NOT_RECORDED, where)
            else:
                check.find(f"a landed file does not match its load record: {problem}", f"load {load_id}: {file}")
        check.examined["landed files hashed"] += len(rec.get("landed_files") or [])
        if rec["n_failed_rules"] or (not rec.get("rekeyed_from") and rec["n_expectations"] == 0):
            check.find("a landed load did not pass a whole suite", where)
        stored = json.loads((on_disk[load_id] / LOAD_RECORD).read_text(encoding="utf-8"))
        if (stored.get("file_sha256"), stored.get("rows"), stored.get("landed_files")) != (
            rec["file_sha256"], rec["rows"], rec.get("landed_files")
        ):
            check.find("the landed record disagrees with the ledger (file hash, rows or landed files)", where)
        rows = con.execute(
            f"select count(*) from read_parquet({sql_str(on_disk[load_id] / '*.parquet')})"
        ).fetchall()[0][0]
        if rows != rec["rows"]:
            check.find("landed rows differ from the ledger's count", where, abs(rows - rec["rows"]))
        if trusted and load_id in current and rec["key_fingerprint"] != trusted:
            check.find("a current landing was made under a key the warehouse does not trust", where)
    return check


def check_privacy(con: duckdb.DuckDBPyConnection) -> Check:
    check = Check("privacy")
    forbidden = identifier_column_names()
    columns = con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() where database_name = 'wh'"
    ).fetchall()
    check.examined = {"warehouse columns": len(columns), "identifier names looked for": len(forbidden)}
    for schema, table, column in columns:
        if column.lower() in forbidden:
            check.find("a warehouse table has a column named like a raw identifier", f"{schema}.{table}.{column}")
    files = sorted(paths.landed_dir().rglob("*.parquet"))
    check.examined["landed files"] = len(files)
    if files:
        names = con.execute(
            "select distinct name from parquet_schema("
            f"[{', '.join(sql_str(f) for f in files)}])"
        ).fetchall()
        for (name,) in names:
            if name.lower() in forbidden:
                check.find("a landed file has a column named like a raw identifier", name)
    token_columns = [(s, t, c) for s, t, c in columns if s == release.MARTS_SCHEMA and c.endswith(release.TOKEN_SUFFIX)]
    check.examined["token columns"] = len(token_columns)
    for schema, table, column in token_columns:
        bad = con.execute(
            f'select count(*) from wh."{schema}"."{table}" where "{column}" is not null '
            f"and not regexp_full_match(\"{column}\", '{TOKEN_PATTERN[1:-1]}')"
        ).fetchall()[0][0]
        if bad:
            check.find("a token column holds values that are not 64-hex tokens", f"{schema}.{table}.{column}", bad)
    return check


def check_releases(con: duckdb.DuckDBPyConnection, today: dt.date) -> Check:
    check = Check("releases")
    ledger = read_jsonl(release.release_ledger_path())
    released = {r["release_id"]: r for r in ledger if r["outcome"] == "released"}
    bundles = {p.name: p for p in release.releases_dir().glob("*/*") if p.is_dir() and not p.name.startswith(".")}
    terms = release.agreements()
    check.examined = {"release attempts": len(ledger), "released": len(released),
                      "refused": sum(r["outcome"] == "refused" for r in ledger), "bundles on disk": len(bundles)}
    for release_id in sorted(set(bundles) - set(released)):
        check.find("a bundle on disk has no release ledger record", str(bundles[release_id].relative_to(paths.warehouse_dir())))
    try:
        release_key = keys.load_release_key()
    except P20Error:
        release_key = None
        if released:
            check.find("release seals cannot be checked: no release key in this zone", str(keys.release_key_path()))
    try:
        classes = {name: release.disclosure(node) for name, node in release._public_marts().items()}
    except P20Error:
        classes = None
        if released:
            check.find("disclosure classes cannot be checked: no dbt manifest", str(release.dbt_target_dir()))
    shipped: list[tuple[str, Path, str]] = []  # (where, file, token column) to check at the end
    examined_files = 0
    for release_id, rec in sorted(released.items()):
        where = f"release {release_id} (DSA {rec['dsa_id']})"
        bundle = bundles.get(release_id)
        agreement = terms.get(rec["dsa_id"])
        if bundle is None:
            # deleting a bundle is the duty at the end of its agreement, and a breach before
            if agreement is None or today <= agreement.expires_on:
                check.find("a released bundle's folder is gone while its agreement is in force", where)
            continue
        manifest_path = bundle / release.RECORD_FILE
        if not manifest_path.exists() or file_sha256(manifest_path) != rec["release_json_sha256"]:
            check.find("release.json is missing or differs from the ledger's hash", where)
            continue
        record = json.loads(manifest_path.read_text(encoding="utf-8"))
        if release_key and not release.seal_is_valid(release_key, record):
            check.find("the release's seal does not hold (changed after release)", where)
        examined_files += _check_closed(check, bundle, record, where)
        _check_values(check, con, bundle, where)
        _check_k(check, con, bundle, record, where)
        if agreement is None:
            check.find("the release's agreement is no longer in seeds/dsa_agreements.csv", where)
            continue
        if not agreement.in_force(dt.date.fromisoformat(record["created_at"][:10])):
            check.find("released outside the agreement's dates", where)
        if today > agreement.expires_on:
            check.find(f"bundle kept after its agreement expired on {agreement.expires_on}", where)
        for model, table in record["tables"].items():
            path = bundle / table["file"]
            if model not in agreement.tables:
                check.find("a released mart is not in the agreement", f"{where}: {model}")
            if classes is not None:
                refusal = release.class_refusal(agreement, model, classes.get(model))
                if refusal:
                    check.find("a released mart's disclosure class is not allowed by its agreement", f"{where}: {model}")
            if set(table["columns"]) & set(agreement.tables.get(model, ())):
                check.find("a released mart keeps a column the agreement leaves out", f"{where}: {model}")
            if not path.exists() or file_sha256(path) != table["sha256"]:
                check.find("a released file is missing or changed", f"{where}: {table['file']}")
                continue
            shipped += [(f"{where}: {model}.{c}", path, c) for c in table["columns"] if c.endswith(release.TOKEN_SUFFIX)]
    check.examined["bundle files"] = examined_files
    for where, count in _tokens_also_in_the_warehouse(con, shipped).items():
        check.find("a released token equals a warehouse token", where, count)
    return check


def _check_closed(check: Check, bundle: Path, record: dict, where: str) -> int:
    """A bundle is closed: release.json lists every other file of its folder with its sha256.
    Returns the number of files on disk."""
    listed = record.get("files")
    on_disk = {str(p.relative_to(bundle)) for p in bundle.rglob("*") if not p.is_dir()} - {release.RECORD_FILE}
    if listed is None:
        check.find("release.json lists no files (a bundle before p20-release/2)", where)
        return len(on_disk)
    for name in sorted(on_disk - set(listed)):
        check.find("a file in the bundle is not listed in its release.json", f"{where}: {name}")
    for name, sha in sorted(listed.items()):
        if name not in on_disk:
            check.find("a file listed in release.json is missing", f"{where}: {name}")
        elif file_sha256(bundle / name) != sha:
            check.find("a file listed in release.json has changed", f"{where}: {name}")
    return len(on_disk)


def _check_k(check: Check, con: duckdb.DuckDBPyConnection, bundle: Path, record: dict, where: str) -> None:
    """Each student-level file still holds no class under the k its release recorded, measured
    again on the files as they are (joined as a recipient would join them)."""
    marts = anonymity.marts_of_record(record, release.TOKEN_SUFFIX)
    files = {m.model: bundle / record["tables"][m.model]["file"] for m in marts}
    if not marts or not all(f.exists() for f in files.values()):
        return  # nothing student-level, or a missing file (a finding of its own)
    measured = anonymity.measure(con, marts, {m: sql_str(f) for m, f in files.items()})
    for m in marts:
        k, got = record["tables"][m.model]["anonymity"]["k_required"], measured[m.model]["k_achieved"]
        if got is not None and got < k:
            check.find(f"a student-level file has a class under its k = {k}", f"{where}: {m.model}", got)


# A personal name as the custodian's name columns hold it: capitalised words of letters, joined
# by a space, hyphen or apostrophe, every word one the names come from (see _name_words).
NAME_SHAPE = "[A-Z][a-z]+(?:[ '-][A-Z][a-z]+){0,2}"
DATE_VALUE = "[0-9]{8}|[0-9]{4}-[0-9]{2}-[0-9]{2}.*"  # CCYYMMDD or an ISO date (time and all)


def _name_words() -> list[str]:
    """The words every first and last name of the district is made of: the generator's lists
    (p20.synth.district), from which its typos, nicknames and double surnames derive too."""
    from p20.synth.district import FIRST_NAMES, LAST_NAMES

    return sorted({w.lower() for w in [*FIRST_NAMES, *LAST_NAMES]})


def birth_date_columns() -> set[str]:
    """Columns that hold a birth date by the policy: raw birth-date columns and what they are
    coarsened to (birth_date -> birth_year_month)."""
    return {n.lower() for e in extracts().values() for c in e.columns if "birth" in c.raw_column
            for n in (c.raw_column, c.outbox_column) if n}


def _check_values(check: Check, con: duckdb.DuckDBPyConnection, bundle: Path, where: str) -> None:
    """No value of any Parquet file of the bundle (listed or not) looks like a raw identifier:
    an SSID, a name, a full birth date; nor is any column named like one."""
    forbidden, births, words = identifier_column_names(), birth_date_columns(), _name_words()
    for path in sorted(bundle.rglob("*.parquet")):
        place = f"{where}: {path.relative_to(bundle)}"
        columns = con.execute(f"select column_name, column_type from (describe select * from read_parquet({sql_str(path)}))").fetchall()
        for column, ctype in columns:
            col, ref = f"{place}.{column}", f'"{column}"'
            if column.lower() in forbidden:
                check.find("a released file has a column named like a raw identifier", col)
            if column.endswith(release.TOKEN_SUFFIX):
                continue  # hex tokens: checked against the warehouse's tokens
            text = f"cast({ref} as varchar)"
            candidates = [v for (v,) in con.execute(
                f"select distinct {text} from read_parquet({sql_str(path)}) where regexp_matches({text}, '[0-9]{{9}}')").fetchall()]
            n_ssid = sum(1 for v in candidates if SSID_LIKE.search(v))
            if n_ssid:
                check.find("a released value looks like an SSID (9-10 digits)", col, n_ssid)
            if ctype == "VARCHAR":
                (n_names,) = con.execute(
                    f"select count(distinct {ref}) from read_parquet({sql_str(path)}) where regexp_full_match({ref}, ?) "
                    f"and len(list_filter(string_split_regex(lower({ref}), '[ ''-]'), lambda w: not list_contains(?, w))) = 0",
                    [NAME_SHAPE, words]).fetchall()[0]
                if n_names:
                    check.find("a released value looks like a personal name", col, n_names)
            if column.lower() in births or "birth" in column.lower() or column.lower() == "dob":
                (n_dates,) = con.execute(
                    f"select count(*) from read_parquet({sql_str(path)}) where {ref} is not null and "
                    + ("true" if ctype.startswith(("DATE", "TIMESTAMP")) else f"regexp_full_match({text}, '{DATE_VALUE}')")
                ).fetchall()[0]
                if n_dates:
                    check.find("a released birth-date column holds full dates", col, n_dates)


def _tokens_also_in_the_warehouse(con: duckdb.DuckDBPyConnection, shipped: list[tuple[str, Path, str]]) -> dict[str, int]:
    """Released token columns -> how many of their tokens occur in any token column of the
    marts. The released tokens (small) are the hash side; each mart column is streamed past
    them, so memory stays at the size of the releases, not of the warehouse."""
    if not shipped:
        return {}
    parts = [f"select {i} as part, {c} as token from read_parquet({sql_str(path)})" for i, (_, path, c) in enumerate(shipped)]
    con.execute(f"create temp table released_tokens as select distinct part, token from ({' union all '.join(parts)}) where token is not null")
    mart_columns = con.execute(
        "select table_name, column_name from duckdb_columns() where database_name = 'wh' "
        f"and schema_name = '{release.MARTS_SCHEMA}' and column_name like '%{release.TOKEN_SUFFIX}'"
    ).fetchall()
    hits: dict[int, set] = {}
    for table, column in mart_columns:
        for part, n in con.execute(
            f'select released.part, count(distinct released.token) from wh.{release.MARTS_SCHEMA}."{table}" as mart '
            f'inner join released_tokens as released on mart."{column}" = released.token group by released.part'
        ).fetchall():
            hits.setdefault(part, set()).add(n)
    return {shipped[part][0]: max(ns) for part, ns in sorted(hits.items())}


def check_build() -> Check:
    check = Check("build")
    results_path = release.dbt_target_dir() / "run_results.json"
    run = release.last_dbt_run()
    if run is None:
        check.find("no dbt build recorded for this warehouse", str(results_path))
        return check
    check.examined = {"dbt nodes": len(run["results"])}
    if problem := release.not_a_build(run):
        check.find(problem, str(results_path))
        return check
    statuses = {r["unique_id"]: r["status"] for r in run["results"]}
    for node in release.failed_nodes(run):
        check.find(f"dbt node {statuses[node]}", node)
    if release.load_newer_than(run, read_ledger()):
        check.find("the marts are older than the newest load (run p20 build)", str(results_path))
    return check


DISCLOSURE_MODELS = ("int_disclosure__cells", "int_disclosure__relations", "int_disclosure__pattern")


def check_disclosure(con: duckdb.DuckDBPyConnection) -> Check:
    """The attacker audit of the protected aggregates, from the cells, relations and pattern
    the build left in the warehouse (not from the build's own verdict)."""
    from collections import Counter

    from p20 import disclosure
    from p20.policy import project_var

    check = Check("disclosure")
    found = dict(con.execute(
        "select table_name, schema_name from duckdb_tables() where database_name = 'wh' and table_name in "
        f"({', '.join(sql_str(m) for m in DISCLOSURE_MODELS)})").fetchall())
    missing = [m for m in DISCLOSURE_MODELS if m not in found]
    if missing:
        check.find("the disclosure pattern is not built (run p20 build)", ", ".join(missing))
        return check
    cells, relations, pattern = (con.sql(f'select * from wh.{found[m]}."{m}"').to_arrow_table()
                                 for m in DISCLOSURE_MODELS)
    tables = disclosure.linked_tables(cells, relations, project_var("min_group_size"), project_var("pct_coding_bands"))
    hidden = disclosure.hidden_from(tables, pattern)
    check.examined = {"published counts": tables.n, "hidden counts": int(hidden.sum())}
    by_rule = Counter((f["rule"], f["mart"], f["count_name"]) for f in disclosure.audit(tables, hidden).to_pylist())
    for (rule, mart, count_name), n in sorted(by_rule.items()):
        check.find(f"disclosure: {rule}", f"{mart}.{count_name}", n)
    return check


def audit(today: dt.date | None = None) -> tuple[list[Check], Path]:
    """Run every check; write the report; returns the checks and the report's folder."""
    day = today or dt.date.today()
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")  # a report, not a terminal animation
    db_path = paths.duckdb_path()
    if db_path.exists():
        con.execute(f"attach {sql_str(db_path)} as wh (read_only)")
    else:
        con.execute("attach ':memory:' as wh")
    checks = [check_loads(con), check_privacy(con), check_releases(con, day), check_build(), check_disclosure(con)]
    con.close()
    audit_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    report = {
        "audit_id": audit_id,
        "audited_on": str(day),
        "warehouse": str(paths.warehouse_dir()),
        "checks": [{"name": c.name, "examined": c.examined, "findings": c.findings, "notes": c.notes} for c in checks],
        "n_findings": sum(len(c.findings) for c in checks),
    }
    folder = paths.warehouse_dir() / "audit" / audit_id
    with atomic_dir(folder) as tmp:
        (tmp / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (tmp / "report.txt").write_text(render_text(report), encoding="utf-8")
    return checks, folder


def render_text(report: dict) -> str:
    lines = [f"p20 audit {report['audit_id']} of {report['warehouse']} on {report['audited_on']}: "
             f"{report['n_findings']} findings", ""]
    for c in report["checks"]:
        examined = ", ".join(f"{n} {what}" for what, n in c["examined"].items())
        lines.append(f"{c['name']}: {len(c['findings'])} findings ({examined})")
        lines += [f"  - {f['rule']}: {f['where']}" + (f" ({f['count']})" if f["count"] != 1 else "") for f in c["findings"]]
        lines += [f"  note: {n['rule']}: {n['where']}" for n in c.get("notes", [])]
    return "\n".join(lines) + "\n"
