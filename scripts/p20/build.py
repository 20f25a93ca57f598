"""`p20 build`: run dbt on the warehouse, as `dbt build` in its own process.

Plain `dbt build` from the repository root does the same: profiles.yml makes P20_WAREHOUSE_DIR
absolute (against the repository root) and dbt_project.yml, the sources and the macros read it
from there, so the DuckDB file, dbt's target/ and the views' paths are the same either way (this
wrapper also keeps dbt's logs/ there). A separate process, so that dbt-duckdb's open
connection is closed when dbt is done.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from p20 import paths
from p20.errors import RejectedInput
from p20.landing import NOT_RECORDED, landed_file_problems, reland_hint
from p20.ledger import current_loads, read_ledger


def refuse_if_damaged() -> None:
    """Before dbt reads them: every current load's files as their record says (size and
    sha256), so that a damaged file is named here and not by an unrelated dbt test."""
    for rec in current_loads(read_ledger()).values():
        problems = [p for p in landed_file_problems(rec) if p[1] != NOT_RECORDED]
        if problems:
            file, problem = problems[0]
            raise RejectedInput(
                f"{file}: landed file damaged ({problem}), so dbt was not started; {reland_hint(rec)}"
            )


def refuse_if_locked() -> None:
    """One clear line, before dbt starts, when another process holds the warehouse file (dbt
    would fail on it in a few hundred lines). Researchers read the published snapshot, which a
    build never writes in place."""
    path = paths.duckdb_path()
    if not path.exists():
        return  # dbt creates it (profiles.yml); nothing here may create it otherwise
    try:
        duckdb.connect(str(path), config=paths.duckdb_config()).close()
    except duckdb.IOException as exc:
        held = re.search(r"Conflicting lock is held in (.*?) \(PID (\d+)\)", str(exc))
        if not held:
            raise
        raise RejectedInput(
            f"{path}: open in another process ({Path(held[1]).name}, PID {held[2]}), so dbt cannot "
            f"write it; close that session (researchers open {paths.published_duckdb_path()})"
        ) from None


def dbt(args: list[str]) -> bool:
    warehouse = paths.warehouse_dir()
    warehouse.mkdir(parents=True, exist_ok=True)
    refuse_if_locked()
    if args[:1] == ["build"]:
        refuse_if_damaged()
    # P20_WAREHOUSE_DIR goes to dbt as it was given: profiles.yml makes it absolute by the rule
    # paths.warehouse_dir applies, so the views are the same as a plain `dbt build` writes
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    executable = Path(sys.executable).parent / "dbt"
    command = [str(executable) if executable.exists() else shutil.which("dbt") or "dbt", *args]
    root = str(paths.REPO_ROOT)
    # target/ comes from dbt_project.yml (the same for a plain `dbt build`); the log is ours
    command += ["--project-dir", root, "--profiles-dir", root, "--log-path", str(warehouse / "dbt" / "logs")]
    return subprocess.run(command, env=env, cwd=root).returncode == 0
