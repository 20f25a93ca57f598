"""SQL style: sqlfluff (dbt templater, duckdb dialect, rules in .sqlfluff) passes on every model
and singular dbt test, as `make lint` checks it; here so that CI (`make test`) enforces it too.
About 60 s on 2 cores."""

import json
import os
import subprocess
import sys

from conftest import REPO

# The same paths as `make lint`: macro files are skipped by the dbt templater.
SQL_PATHS = ["models", "tests/dbt"]


def test_models_and_dbt_tests_pass_sqlfluff(tmp_path):
    # The dbt templater opens the profile's DuckDB file: a scratch warehouse, never a real one.
    env = dict(os.environ, P20_WAREHOUSE_DIR=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "sqlfluff", "lint", "--format", "json", *SQL_PATHS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    try:
        results = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"sqlfluff exited {proc.returncode} without a report:\n{proc.stderr}") from None
    violations = [
        f"{result['filepath']}:{v['start_line_no']}:{v['start_line_pos']}: {v['code']} {v['description']}"
        for result in results
        for v in result["violations"]
    ]
    assert not violations, (
        f"{len(violations)} sqlfluff violation(s); `make lint` shows them, "
        "`.venv/bin/sqlfluff fix <file>` fixes most:\n" + "\n".join(violations)
    )
    assert proc.returncode == 0, f"sqlfluff exited {proc.returncode}:\n{proc.stderr}"
    assert len(results) >= 40, f"sqlfluff linted only {len(results)} files"
