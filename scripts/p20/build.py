"""`p20 build`: run dbt on the warehouse, as `dbt build` in its own process.

Plain `dbt build` from the repository root does the same: profiles.yml and dbt_project.yml read
P20_WAREHOUSE_DIR, so the DuckDB file and dbt's target/ land in the one warehouse zone either
way (this wrapper also keeps dbt's logs/ there). A separate process, so that dbt-duckdb's open
connection is closed when dbt is done.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from p20 import paths


def dbt(args: list[str]) -> bool:
    warehouse = paths.warehouse_dir()
    warehouse.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "P20_WAREHOUSE_DIR": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    executable = Path(sys.executable).parent / "dbt"
    command = [str(executable) if executable.exists() else shutil.which("dbt") or "dbt", *args]
    root = str(paths.REPO_ROOT)
    # target/ comes from dbt_project.yml (the same for a plain `dbt build`); the log is ours
    command += ["--project-dir", root, "--profiles-dir", root, "--log-path", str(warehouse / "dbt" / "logs")]
    return subprocess.run(command, env=env, cwd=root).returncode == 0
