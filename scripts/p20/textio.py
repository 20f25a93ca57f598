"""The thin file layer both zones share: read a caret-delimited extract into DuckDB, hash a file,
and write directories and files atomically (temporary name, then one rename)."""

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from p20.errors import RejectedInput

DELIMITER = "^"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sql_str(value: str | Path) -> str:
    """A SQL string literal (paths are ours, but quote them properly anyway)."""
    return "'" + str(value).replace("'", "''") + "'"


def register_lines(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    """Create table `table` (line_no, line) from a headerless caret-delimited file.

    Each line is read whole (fields are split later, by whoever reads the table), so a line with
    too many or too few fields is a row the rules can point at, not a parser crash. The table
    keeps file order. DuckDB's own parse errors quote the offending line, so they are replaced
    by a message that keeps only the line number.
    """
    source = (
        f"read_csv({sql_str(path)}, columns = {{'line': 'VARCHAR'}}, delim = '\x01', "
        "header = false, quote = '', escape = '', auto_detect = false, strict_mode = false)"
    )
    try:
        con.sql(
            f"""
            create or replace temp table {table} as
            select cast(row_number() over () as bigint) as line_no, coalesce(line, '') as line
            from {source}
            """
        )
    except duckdb.Error as exc:
        line = re.search(r"Line: (\d+)", str(exc))
        where = f" at line {line.group(1)}" if line else ""
        if "unicode" in str(exc).lower() or "utf-8" in str(exc).lower():
            rule = "file is not valid UTF-8 text"
        else:
            rule = "file is not readable as caret-delimited text"
        raise RejectedInput(f"{path.name}: {rule}{where}") from None


@contextlib.contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a temporary sibling directory; rename it to `final` only if the block succeeds.

    A crash leaves at most a `.tmp-*` directory, which readers never glob and cleanup removes.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{final.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        for child in tmp.rglob("*"):
            if child.is_file():
                with open(child, "rb") as f:
                    os.fsync(f.fileno())
        if final.exists():
            trash = final.parent / f".old-{final.name}-{uuid.uuid4().hex[:8]}"
            os.rename(final, trash)
            os.rename(tmp, final)
            shutil.rmtree(trash)
        else:
            os.rename(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_json_atomic(path: Path, payload: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{path.name}-{uuid.uuid4().hex[:8]}"
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_jsonl(path: Path) -> list[dict]:
    """The records of an append-only JSON-lines ledger ([] when there is none yet)."""
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


def append_jsonl(path: Path, record: dict) -> None:
    """Append one record as one line with one write, fsynced: a crash tears at most that line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    size = os.fstat(fd).st_size
    try:
        # A full disk or a file-size limit can write part of the line: take it back, so the
        # next line never runs on from a torn one.
        if os.write(fd, data) != len(data):
            raise OSError(errno.EFBIG, "the line could not be written whole", str(path))
        os.fsync(fd)
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        raise
    finally:
        os.close(fd)


def remove_stale_temporaries(root: Path) -> int:
    """Remove `.tmp-*` leftovers of a crashed run under `root`; returns how many."""
    if not root.exists():
        return 0
    stale = [p for p in root.rglob(".tmp-*")]
    for p in stale:
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    return len(stale)
