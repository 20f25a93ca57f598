"""The published snapshot researchers open: `$P20_WAREHOUSE_DIR/published/p20.duckdb`
(p20.paths.published_duckdb_path).

dbt builds `p20.duckdb` and holds it open for writing; a researcher's read-only session on that
file would stop the build (DuckDB locks the file). So researchers read a copy instead: after a
green full `dbt build` (or `p20 build`), the on-run-end hook `publish_snapshot`
(macros/publish.sql) copies the warehouse into a new file and this module renames it over the
published one in one step. A reader that has the old snapshot open keeps its file (and its
view) until it closes; the next reader opens the new one; no reader ever locks what the build
writes.

This module is a dbt-duckdb plugin (profiles.yml, `plugins:`): it gives the build's DuckDB
connection the two file operations SQL has not got, as functions the hook calls.
"""

import os
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin

from p20 import paths


def prepare(warehouse: str, invocation_id: str) -> str:
    """A fresh temporary file beside the published snapshot of `warehouse` (the folder of the
    file dbt builds, macros/warehouse_dir.sql: never this process's environment or this code's
    checkout) for this build's copy. Copies a killed build left are removed: only one build
    runs at a time (it holds the build file)."""
    final = paths.published_duckdb_path(Path(warehouse))
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".{final.name}.*.tmp*"):
        stale.unlink(missing_ok=True)
    return str(final.with_name(f".{final.name}.{invocation_id}.tmp"))


def replace(tmp: str) -> str:
    """Rename the finished copy over the published snapshot, atomically; return its path."""
    if Path(tmp + ".wal").exists():  # the hook checkpoints the copy first: a WAL means not whole
        raise RuntimeError(f"{tmp}: the copy was not checkpointed; the snapshot is left as it was")
    final = paths.published_duckdb_path(Path(tmp).parent.parent)
    os.replace(tmp, final)
    return str(final)


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        conn.create_function(
            "p20_snapshot_prepare", prepare, ["VARCHAR", "VARCHAR"], "VARCHAR", side_effects=True
        )
        conn.create_function("p20_snapshot_replace", replace, ["VARCHAR"], "VARCHAR", side_effects=True)
