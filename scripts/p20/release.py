"""`p20 release <dsa>`: the marts a data-sharing agreement (DSA) allows, as one bundle for its
project, checked against the agreement's terms and sealed for the auditors.

The terms are data: seeds/dsa_agreements.csv (who, until when, which school years, whether
student-level rows may leave, the k of k-anonymity) and seeds/dsa_tables.csv (which public
marts, which columns left out, which are quasi-identifiers). Marts leave by the disclosure class
their YAML declares (config.meta.disclosure in dbt's manifest; class_refusal): internal never,
student_level only where the agreement allows it, and then k-anonymous (p20.anonymity). A
release is refused (exit 1) when the agreement is not in force, lists a mart that is not public
or whose class it does not allow, cannot reach its k without suppressing more than the agreed
share, or when the marts are not a green dbt build newer than the newest load. Every attempt,
released or refused, is a line in warehouse/ledger/releases.jsonl.

Tokens are re-keyed per project: each `<kind>_token` column (student, teacher, section,
incident) becomes HMAC-SHA256(project key, warehouse token), where the project key is HKDF of
the release key with the agreement's id. Two projects' bundles never join with each other or
back to the warehouse, while a project's own tables join among themselves. Only distinct tokens
are hashed; the rows stay in DuckDB.

A bundle is written under a temporary name and renamed into place:
warehouse/releases/<dsa_id>/<release_id>/ holds one Parquet file per mart, README.txt for the
recipients and release.json (terms, per-file rows, columns and sha256, k-anonymity figures, the
dbt build and the current loads the marts came from, and every other file of the folder with its
sha256, sealed with an HMAC): the bundle is closed, and `p20 audit` checks it is.
"""

import datetime as dt
import hmac
import json
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from p20 import anonymity, keys, paths
from p20.errors import RejectedInput, UsageError
from p20.ledger import current_loads
from p20.policy import read_seed
from p20.textio import append_jsonl, atomic_dir, file_sha256, read_jsonl, sql_str

RELEASE_FORMAT = "p20-release/2"  # 2: release.json lists every file, README.txt too
MARTS_SCHEMA = "marts"
TOKEN_SUFFIX = "_token"


@dataclass(frozen=True)
class Agreement:
    dsa_id: str
    project_title: str
    recipient: str
    signed_on: dt.date
    expires_on: dt.date
    first_school_year: int
    last_school_year: int
    allows_student_level: bool
    tables: dict[str, tuple[str, ...]]  # mart -> columns left out
    # k-anonymity of student-level marts (p20.anonymity): agreement-wide terms, per-mart columns
    min_k: int | None = None
    max_suppressed_share: float | None = None
    min_l: int | None = None
    quasi_identifiers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sensitive_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def in_force(self, day: dt.date) -> bool:
        return self.signed_on <= day <= self.expires_on


def _listed(value: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in value.split(";") if c.strip())


def _number(value: str, kind):
    return kind(value) if value.strip() else None


def agreements() -> dict[str, Agreement]:
    tables: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {}
    for row in read_seed("dsa_tables"):
        for part in ("excluded_columns", "quasi_identifiers", "sensitive_columns"):
            tables.setdefault(row["dsa_id"], {}).setdefault(part, {})[row["model"]] = _listed(row[part])
    return {
        row["dsa_id"]: Agreement(
            dsa_id=row["dsa_id"],
            project_title=row["project_title"],
            recipient=row["recipient"],
            signed_on=dt.date.fromisoformat(row["signed_on"]),
            expires_on=dt.date.fromisoformat(row["expires_on"]),
            first_school_year=int(row["first_school_year"]),
            last_school_year=int(row["last_school_year"]),
            allows_student_level=row["allows_student_level"].strip().lower() == "true",
            tables=tables.get(row["dsa_id"], {}).get("excluded_columns", {}),
            min_k=_number(row["min_k"], int),
            max_suppressed_share=_number(row["max_suppressed_share"], float),
            min_l=_number(row["min_l"], int),
            quasi_identifiers={m: q for m, q in tables.get(row["dsa_id"], {}).get("quasi_identifiers", {}).items() if q},
            sensitive_columns={m: q for m, q in tables.get(row["dsa_id"], {}).get("sensitive_columns", {}).items() if q},
        )
        for row in read_seed("dsa_agreements")
    }


def releases_dir() -> Path:
    return paths.warehouse_dir() / "releases"


def release_ledger_path() -> Path:
    return paths.warehouse_dir() / "ledger" / "releases.jsonl"


def dbt_target_dir() -> Path:
    """Where every dbt run on this warehouse leaves its manifest and run results, however it is
    started (`dbt build` or `p20 build`): dbt_project.yml's target-path."""
    return paths.warehouse_dir() / "dbt" / "target"


def project_key(release_key: bytes, dsa_id: str, kind: str) -> bytes:
    return keys.derive_key(release_key, f"project:{dsa_id}/{kind}")


def seal(release_key: bytes, payload: dict) -> str:
    """The HMAC of a release.json without its `mac` field (canonical JSON)."""
    body = json.dumps({k: v for k, v in payload.items() if k != "mac"}, sort_keys=True).encode()
    return keys.mac(keys.derive_key(release_key, "release-seal"), body)


def seal_is_valid(release_key: bytes, payload: dict) -> bool:
    return hmac.compare_digest(seal(release_key, payload), str(payload.get("mac", "")))


# ---------------------------------------------------------------- checks before anything is written


def _public_marts() -> dict[str, dict]:
    """Public models of the last build's manifest: name -> manifest node."""
    manifest_path = dbt_target_dir() / "manifest.json"
    if not manifest_path.exists():
        raise UsageError(f"{manifest_path}: no dbt build of this warehouse; run `p20 build` first")
    nodes = json.loads(manifest_path.read_text(encoding="utf-8"))["nodes"].values()
    return {n["name"]: n for n in nodes if n["resource_type"] == "model" and n.get("access") == "public"}


# "no-op": what dbt build records for an exposure (models/governance), which it does not run.
# macros/publish.sql keeps the same list.
GREEN_STATUSES = ("success", "pass", "skipped", "warn", "no-op")


def last_dbt_run() -> dict | None:
    """The run results of the last dbt run on this warehouse (None before the first)."""
    path = dbt_target_dir() / "run_results.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def not_a_build(run: dict) -> str | None:
    """Why the last dbt run is no evidence of the marts (`dbt docs generate`, `dbt compile` ...
    replace the build's run results), or None for a build. Release and audit both ask this."""
    which = run["args"].get("which")
    if which == "build":
        return None
    return (f"{dbt_target_dir() / 'run_results.json'}: the last dbt run on this warehouse was "
            f"`{which}`, not a build; run `p20 build` (or `dbt build`)")


def failed_nodes(run: dict) -> list[str]:
    return sorted(r["unique_id"] for r in run["results"] if r["status"] not in GREEN_STATUSES)


def load_newer_than(run: dict, ledger: list[dict]) -> str | None:
    """The newest landing's time when it is later than the run's start (the marts are stale)."""
    started = dt.datetime.fromisoformat(run["metadata"]["invocation_started_at"].replace("Z", "+00:00"))
    newest = max((r["finished_at"] for r in ledger if r["outcome"] == "landed"), default=None)
    return newest if newest and dt.datetime.fromisoformat(newest) > started else None


def check_build(models: list[str], ledger: list[dict]) -> dict:
    """The last dbt run must be a green build, newer than the newest landing, that built every
    released model. Returns its run results' metadata."""
    results_path = dbt_target_dir() / "run_results.json"
    run = last_dbt_run()
    if run is None:
        raise UsageError(f"{results_path}: no dbt build of this warehouse; run `p20 build` first")
    if problem := not_a_build(run):
        raise RejectedInput(problem)
    failed = failed_nodes(run)
    if failed:
        raise RejectedInput(
            f"{results_path}: the last dbt build had {len(failed)} failing nodes "
            f"({', '.join(failed[:5])}{', ...' if len(failed) > 5 else ''}); a release needs a green build"
        )
    built = {r["unique_id"].split(".")[-1] for r in run["results"] if r["status"] == "success"}
    missing = [m for m in models if m not in built]
    if missing:
        raise RejectedInput(f"{results_path}: the last dbt build did not build {', '.join(missing)}; run `p20 build`")
    started = run["metadata"]["invocation_started_at"]
    newest = load_newer_than(run, ledger)
    if newest:
        raise RejectedInput(
            f"the marts were built at {started}, before the newest load ({newest}); run `p20 build`"
        )
    return {"invocation_id": run["metadata"]["invocation_id"], "invocation_started_at": started,
            "manifest_sha256": file_sha256(dbt_target_dir() / "manifest.json")}


DISCLOSURE_CLASSES = ("student_level", "protected_aggregate", "internal", "reference")


def disclosure(node: dict) -> str | None:
    """A mart's declared disclosure class (config.meta.disclosure in its YAML)."""
    return node.get("config", {}).get("meta", {}).get("disclosure")


def class_refusal(agreement: Agreement, model: str, disclosure_class: str | None) -> str | None:
    """Why a mart of this class may not leave under the agreement (None: it may). The one rule
    release and audit both apply: internal never; student_level only where the agreement
    allows student-level rows; protected_aggregate and reference always."""
    if disclosure_class not in DISCLOSURE_CLASSES:
        return f"{model} declares no disclosure class (config.meta.disclosure), so it cannot be released"
    if disclosure_class == "internal":
        return f"{model} is an internal mart (meta.disclosure: internal), never released"
    if disclosure_class == "student_level" and not agreement.allows_student_level:
        return (f"{model} is student-level (meta.disclosure) and the agreement does not allow student-level "
                "rows (seeds/dsa_agreements.csv allows_student_level)")
    return None


def check_terms(agreement: Agreement, public: dict[str, dict], day: dt.date) -> None:
    where = f"DSA {agreement.dsa_id}"
    if not agreement.in_force(day):
        raise RejectedInput(
            f"{where} is not in force on {day} (signed {agreement.signed_on}, expires "
            f"{agreement.expires_on}; seeds/dsa_agreements.csv); nothing released"
        )
    if not agreement.tables:
        raise RejectedInput(f"{where} lists no marts in seeds/dsa_tables.csv; nothing released")
    not_public = [m for m in agreement.tables if m not in public]
    if not_public:
        raise RejectedInput(
            f"{where}: seeds/dsa_tables.csv lists {', '.join(not_public)}, which is not a public mart "
            "of the last build; only public marts (access: public, enforced contract) can be released"
        )
    for model in agreement.tables:
        refusal = class_refusal(agreement, model, disclosure(public[model]))
        if refusal:
            raise RejectedInput(f"{where}: {refusal}; nothing released")
    for model, excluded in agreement.tables.items():
        columns = list(public[model]["columns"])
        unknown = [c for c in excluded if c not in columns]
        if unknown:
            raise RejectedInput(f"{where}: {model} has no column {', '.join(unknown)} to leave out (seeds/dsa_tables.csv)")
        kept = [c for c in columns if c not in excluded]
        tokens = [c for c in kept if c.endswith(TOKEN_SUFFIX)]
        if tokens and not agreement.allows_student_level:
            raise RejectedInput(
                f"{where} does not allow student-level rows, but {model} carries {', '.join(tokens)} "
                "(seeds/dsa_agreements.csv allows_student_level)"
            )
        if disclosure(public[model]) == "student_level":
            _check_anonymity_terms(agreement, model, kept)


def _check_anonymity_terms(agreement: Agreement, model: str, kept: list[str]) -> None:
    where = f"DSA {agreement.dsa_id}: {model} is student-level, so"
    if agreement.min_k is None or agreement.max_suppressed_share is None:
        raise RejectedInput(f"{where} the agreement needs min_k and max_suppressed_share (seeds/dsa_agreements.csv)")
    quasi = agreement.quasi_identifiers.get(model, ())
    if not quasi:
        raise RejectedInput(f"{where} seeds/dsa_tables.csv must name its quasi_identifiers")
    missing = [c for c in quasi + agreement.sensitive_columns.get(model, ()) if c not in kept]
    if missing:
        raise RejectedInput(f"{where} its quasi_identifiers / sensitive_columns name {', '.join(missing)}, "
                            "which it does not release (seeds/dsa_tables.csv)")
    if anonymity.person_token(kept, TOKEN_SUFFIX) is None:
        raise RejectedInput(f"{where} it must keep its token column: k-anonymity suppresses students by it")


# ---------------------------------------------------------------- the bundle


def _year_filter(columns: list[str], agreement: Agreement) -> str:
    first, last = agreement.first_school_year, agreement.last_school_year
    if "school_year" in columns:
        return f"where school_year between {first} and {last}"
    if "first_school_year" in columns and "last_school_year" in columns:
        return f"where first_school_year <= {last} and last_school_year >= {first}"
    return ""


def _token_maps(con: duckdb.DuckDBPyConnection, selects: dict[str, tuple[list[str], str]],
                release_key: bytes, dsa_id: str) -> dict[str, int]:
    """One table `project_tokens_<kind>` (warehouse_token, project_token) per token kind, over
    the distinct tokens of every released row. Returns the number of tokens per kind."""
    by_kind: dict[str, list[str]] = {}
    for model, (columns, where) in selects.items():
        for column in columns:
            if column.endswith(TOKEN_SUFFIX):
                kind = column.removesuffix(TOKEN_SUFFIX)
                by_kind.setdefault(kind, []).append(f"select {column} as token from wh.{MARTS_SCHEMA}.{model} {where}")
    counts = {}
    for kind, parts in sorted(by_kind.items()):
        distinct = con.sql(f"select distinct token from ({' union all '.join(parts)}) where token is not null")
        warehouse_tokens = distinct.fetch_arrow_table().column("token").to_pylist()
        mapped = keys.hmac_hex_many(project_key(release_key, dsa_id, kind), warehouse_tokens)
        con.register(f"project_tokens_{kind}", pa.table({"warehouse_token": warehouse_tokens, "project_token": mapped}))
        counts[kind] = len(warehouse_tokens)
    return counts


def _select_sql(model: str, columns: list[str], where: str, plan: "anonymity.Plan | None" = None,
                person: str | None = None) -> str:
    """The released rows of a mart: tokens re-keyed; under a k-anonymity plan, columns
    generalised and the quasi-identifiers of suppressed students nulled."""
    outputs, joins = [], []
    for i, column in enumerate(columns):
        if column.endswith(TOKEN_SUFFIX):
            kind = column.removesuffix(TOKEN_SUFFIX)
            alias = f"map_{column}"
            outputs.append(f"{alias}.project_token as {column}")
            joins.append(f"left join project_tokens_{kind} as {alias} on released.{column} = {alias}.warehouse_token")
        elif plan is not None:
            expr, join = anonymity.released_column(person, column, plan, f"gen_{i}", f"released.{column}")
            outputs.append(f"{expr} as {column}")
            joins.append(join)
        else:
            outputs.append(f"released.{column}")
    return (
        f"select {', '.join(outputs)} from (select * from wh.{MARTS_SCHEMA}.{model} {where}) as released "
        + " ".join(joins)
    )


def new_release_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


README_FILE = "README.txt"
RECORD_FILE = "release.json"


def _readme(agreement: Agreement, record: dict) -> str:
    protected = {m: t["anonymity"] for m, t in record["tables"].items() if "anonymity" in t}
    lines = [
        f"p20 release {record['release_id']} under data-sharing agreement {agreement.dsa_id}",
        f"Project: {agreement.project_title}",
        f"Recipient: {agreement.recipient}",
        f"School years {agreement.first_school_year}-{agreement.last_school_year}; the agreement expires on "
        f"{agreement.expires_on}: delete these files then, unless it is renewed.",
        "",
        "Tokens (columns ending in _token) are this project's own: they join the tables of this",
        "release to each other, and to nothing else. Aggregates keep the warehouse's suppression",
        "(no count or rate of a group under the minimum size; complementary cells hidden too).",
    ]
    if protected:
        generalised = record["anonymity"]["generalised"]
        lines += [
            "",
            f"Student-level files are {agreement.min_k}-anonymous: every combination of the quasi-identifiers",
            "below (with those of the files they join one-to-one) is shared by at least that many rows.",
            "Coarsened columns: " + ("; ".join(f"{c} ({d})" for c, d in generalised.items()) or "none") + ".",
            "Where a student's combination was rarer, their quasi-identifiers are empty (null) in every file.",
            *(f"  {m}: k = {a['k_achieved']} on {', '.join(a['quasi_identifiers'])}; {a['classes']} classes; "
              f"{a['rows_suppressed']} rows with values suppressed" for m, a in protected.items()),
        ]
    lines += [
        "",
        "Files (rows, sha256):",
        *(f"  {t['file']}  {t['rows']} rows  {t['sha256']}" for t in record["tables"].values()),
        "",
        f"{RECORD_FILE} holds the terms, the dbt build and the loads these numbers come from, and lists",
        f"every file of this folder with its sha256 ({README_FILE} too).",
    ]
    return "\n".join(lines) + "\n"


def release(dsa_id: str, today: dt.date | None = None) -> dict:
    """Write one bundle for `dsa_id`; returns its release.json. Refusals are recorded too."""
    day = today or dt.date.today()
    terms = agreements()
    if dsa_id not in terms:
        known = ", ".join(sorted(terms)) or "none"
        raise UsageError(f"no data-sharing agreement {dsa_id!r} in seeds/dsa_agreements.csv (known: {known})")
    agreement = terms[dsa_id]
    release_id = new_release_id()
    attempt = {"release_id": release_id, "dsa_id": dsa_id, "started_at": dt.datetime.now(dt.UTC).isoformat()}
    try:
        release_key = keys.load_release_key()
        ledger = read_jsonl(paths.ledger_path())
        public = _public_marts()
        check_terms(agreement, public, day)
        build = check_build(list(agreement.tables), ledger)
        record = _write_bundle(agreement, public, release_key, release_id, build, ledger)
    except (RejectedInput, UsageError) as exc:
        append_jsonl(release_ledger_path(), {
            **attempt, "outcome": "refused", "message": str(exc), "path": None,
            "release_json_sha256": None, "n_tables": None, "n_rows": None,
            "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        })
        raise
    bundle = releases_dir() / dsa_id / release_id
    append_jsonl(release_ledger_path(), {
        **attempt, "outcome": "released", "message": "",
        "path": str(bundle.relative_to(paths.warehouse_dir())),
        "release_json_sha256": file_sha256(bundle / RECORD_FILE),
        "n_tables": len(record["tables"]), "n_rows": sum(t["rows"] for t in record["tables"].values()),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(),
    })
    return record


def _protect(con: duckdb.DuckDBPyConnection, agreement: Agreement, public: dict[str, dict],
             selects: dict[str, tuple[list[str], str]]) -> tuple[list["anonymity.Mart"], "anonymity.Plan | None"]:
    """The bundle's k-anonymity plan over its student-level marts (none: no plan)."""
    marts = [
        anonymity.Mart(model=m, rows_sql=f"select {', '.join(cols)} from wh.{MARTS_SCHEMA}.{m} {where}",
                       columns=cols, token=anonymity.person_token(cols, TOKEN_SUFFIX),
                       quasi_identifiers=agreement.quasi_identifiers[m],
                       sensitive=agreement.sensitive_columns.get(m, ()))
        for m, (cols, where) in selects.items() if disclosure(public[m]) == "student_level"
    ]
    if not marts:
        return [], None
    reference = {name for name, node in public.items() if disclosure(node) == "reference"}
    anonymity.prepare_lookups(con, {c for m in marts for c in m.columns}, reference, MARTS_SCHEMA)
    return marts, anonymity.protect(con, marts, _anonymity_terms(agreement), f"DSA {agreement.dsa_id}")


def _anonymity_terms(agreement: Agreement) -> "anonymity.Terms":
    return anonymity.Terms(agreement.min_k, agreement.max_suppressed_share, agreement.min_l)


def _check_measured(agreement: Agreement, measured: dict[str, dict]) -> None:
    """What the written files achieve must meet the terms (else nothing is released)."""
    where = f"DSA {agreement.dsa_id}"
    for model, m in measured.items():
        if m["k_achieved"] is not None and m["k_achieved"] < agreement.min_k:
            raise RejectedInput(f"{where}: {model} as written has a class of {m['k_achieved']} rows, under k = "
                                f"{agreement.min_k}; nothing released")
        low = {c: x["l"] for c, x in m["l_diversity"].items() if agreement.min_l and x["l"] is not None and x["l"] < agreement.min_l}
        if low:
            raise RejectedInput(f"{where}: {model} has classes with fewer than min_l = {agreement.min_l} values of "
                                + ", ".join(f"{c} (l = {n})" for c, n in low.items()) + "; nothing released")


def _write_bundle(agreement: Agreement, public: dict[str, dict], release_key: bytes, release_id: str,
                  build: dict, ledger: list[dict]) -> dict:
    db_path = paths.duckdb_path()
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")  # a report, not a terminal animation
    try:
        con.execute(f"attach {sql_str(db_path)} as wh (read_only)")
    except duckdb.IOException:
        raise UsageError(f"{db_path}: cannot open the warehouse read-only (is dbt building it?)") from None
    selects = {}
    for model, excluded in agreement.tables.items():
        columns = [r[0] for r in con.execute(
            "select column_name from duckdb_columns() where database_name = 'wh' and schema_name = ? "
            "and table_name = ? order by column_index", [MARTS_SCHEMA, model]).fetchall()]
        kept = [c for c in columns if c not in excluded]
        selects[model] = (kept, _year_filter(columns, agreement))
    marts, plan = _protect(con, agreement, public, selects)
    protected = {m.model: m for m in marts}
    token_counts = _token_maps(con, selects, release_key, agreement.dsa_id)
    loads = [
        {"load_id": r["load_id"], "extract": r["extract"], "school_year": r["school_year"],
         "file_sha256": r["file_sha256"], "rows": r["rows"]}
        for r in sorted(current_loads(ledger).values(), key=lambda r: (r["extract"], r["school_year"]))
    ]
    terms = {k: (str(v) if isinstance(v, dt.date) else v) for k, v in asdict(agreement).items() if k != "tables"}
    terms["tables"] = {m: list(ex) for m, ex in agreement.tables.items()}
    record = {
        "format": RELEASE_FORMAT,
        "release_id": release_id,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "dsa": terms,
        "release_key_fingerprint": keys.fingerprint(release_key),
        "tokens": {kind: {"distinct": n} for kind, n in token_counts.items()},
        "lineage": {"dbt_build": build, "current_loads": loads},
        "tables": {},
    }
    if plan is not None:
        record["anonymity"] = {
            "k": agreement.min_k, "max_suppressed_share": agreement.max_suppressed_share, "min_l": agreement.min_l,
            "generalised": anonymity.describe(plan.levels),
            "suppressed_columns": sorted(plan.suppressed_columns),
            "suppressed_students": con.execute("select count(*) from anon_suppressed").fetchall()[0][0],
        }
    bundle = releases_dir() / agreement.dsa_id / release_id
    with atomic_dir(bundle) as tmp:
        files = {}
        for model, (columns, where) in selects.items():
            target = tmp / f"{model}.parquet"
            mart = protected.get(model)
            sql = _select_sql(model, columns, where, plan if mart else None, mart.token if mart else None)
            con.execute(f"copy ({sql}) to {sql_str(target)} (format parquet, compression zstd)")
            rows = con.execute(f"select count(*) from read_parquet({sql_str(target)})").fetchone()[0]
            record["tables"][model] = {"file": target.name, "rows": rows, "columns": columns,
                                       "sha256": file_sha256(target)}
            files[model] = sql_str(target)
        if plan is not None:
            measured = anonymity.measure(con, marts, files)
            _check_measured(agreement, measured)
            for m in marts:
                record["tables"][m.model]["anonymity"] = {
                    "k_required": agreement.min_k, **measured[m.model], **plan.figures[m.model],
                    "generalised": anonymity.describe({c: n for c, n in plan.levels.items() if c in m.columns}),
                }
        (tmp / README_FILE).write_text(_readme(agreement, record), encoding="utf-8")
        record["files"] = {p.name: file_sha256(p) for p in sorted(tmp.iterdir())}
        record["mac"] = seal(release_key, record)
        (tmp / RECORD_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    con.close()
    return record
