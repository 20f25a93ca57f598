"""What `p20 load` and `p20 rekey` write into the warehouse, and how: one at a time (a lock
file), each load a directory renamed into landed/<extract>/school_year=<y>/load_id=<id>/ in one
step, under the one key the warehouse trusts (trust.json), and what a killed run left behind
recorded or cleared before the next one starts.
"""

import contextlib
import dataclasses
import datetime as dt
import fcntl
import json
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from p20 import paths
from p20.errors import RejectedInput
from p20.ledger import LOAD_RECORD, LoadRecord, append_ledger, read_load_record, write_load_record
from p20.manifest import MANIFEST
from p20.policy import Extract
from p20.textio import atomic_dir, file_sha256, remove_stale_temporaries, sql_str, write_json_atomic

TRUST_FILE = "trust.json"


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


def landed_path(extract: str, year: int, load_id: str) -> Path:
    return paths.landed_dir() / extract / f"school_year={year}" / f"load_id={load_id}"


def land(
    con: duckdb.DuckDBPyConnection, extract: Extract, year: int, record: LoadRecord, rows_sql: str
) -> None:
    """Write the rows (line_no and the outbox columns) and their ledger record into a temporary
    directory, then rename it into landed/ in one step: the rename is the commit point of a
    load. `p20 rekey` lands its re-keyed rows through here too."""
    with atomic_dir(landed_path(extract.name, year, record.load_id)) as tmp:
        con.sql(
            f"copy (select *, current_timestamp as loaded_at "
            f"from ({rows_sql}) order by line_no) "
            f"to {sql_str(tmp / 'part-0.parquet')} "
            # zstd level 1: 20% faster than the default level 3, and as small (the tokens do not
            # compress; dictionary encoding does the work)
            "(format parquet, compression zstd, compression_level 1)"
        )
        # hashed as written, so that audit, load and build can tell a damaged file by name
        record.landed_files = [
            {"file": p.name, "bytes": p.stat().st_size, "sha256": file_sha256(p)}
            for p in sorted(tmp.glob("*.parquet"))
        ]
        write_load_record(tmp, record)


NOT_RECORDED = "no landed hash recorded"


def landed_file_problems(rec: dict, hash_files: bool = True) -> list[tuple[str, str]]:
    """(file, problem) for each landed file of a landed ledger record that is missing, extra,
    or differs in size or sha256 from the record (the hash only when hash_files). A record
    older than landed_files gives one (load folder, NOT_RECORDED)."""
    load_dir = landed_path(rec["extract"], rec["school_year"], rec["load_id"])
    where = str(load_dir.relative_to(paths.warehouse_dir()))
    if not rec.get("landed_files"):
        return [(where, NOT_RECORDED)]
    problems = []
    recorded = {f["file"]: f for f in rec["landed_files"]}
    on_disk = {p.name for p in load_dir.glob("*.parquet")}
    for name in sorted(on_disk - set(recorded)):
        problems.append((f"{where}/{name}", "extra file (not in the load record)"))
    for name, f in sorted(recorded.items()):
        path = load_dir / name
        if name not in on_disk:
            problems.append((f"{where}/{name}", "missing"))
        elif path.stat().st_size != f["bytes"]:
            problems.append((f"{where}/{name}", f"size {path.stat().st_size} bytes, recorded {f['bytes']}"))
        elif hash_files and file_sha256(path) != f["sha256"]:
            problems.append((f"{where}/{name}", "sha256 differs from the load record"))
    return problems


def reland_hint(rec: dict) -> str:
    """How to re-land a damaged load: its outbox file lands again once its folder is gone."""
    load_dir = landed_path(rec["extract"], rec["school_year"], rec["load_id"])
    return f"to re-land it, remove {load_dir} and run p20 load again"


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
            record = dataclasses.replace(read_load_record(load_dir), recovered_after_crash=True)
            append_ledger(record)
            ledger.append(record.to_json())
            recovered += 1
    return recovered


def check_trust(manifest: dict) -> None:
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


def pin_trust(manifest: dict) -> None:
    trust_path = paths.warehouse_dir() / TRUST_FILE
    if not trust_path.exists():
        write_json_atomic(trust_path, {"key_fingerprint": manifest["key_fingerprint"]})
