"""`p20 build`: run dbt on the warehouse through dbt's programmatic runner.

Plain `dbt build` from the repository root works too (profiles.yml reads P20_WAREHOUSE_DIR);
this wrapper also keeps dbt's target/ and logs/ inside the warehouse zone they describe.
"""

import os

from p20 import paths


def dbt(args: list[str]) -> bool:
    from dbt.cli.main import dbtRunner

    warehouse = paths.warehouse_dir()
    os.environ["P20_WAREHOUSE_DIR"] = str(warehouse)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    root = str(paths.REPO_ROOT)
    full = [
        *args,
        "--project-dir", root,
        "--profiles-dir", root,
        "--target-path", str(warehouse / "dbt" / "target"),
        "--log-path", str(warehouse / "dbt" / "logs"),
    ]
    result = dbtRunner().invoke(full)
    return bool(result.success)
