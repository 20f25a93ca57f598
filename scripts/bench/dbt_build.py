"""Benchmark the full `dbt build` (not a test): wall time and peak memory at a preset's scale.

    .venv/bin/python scripts/bench/pseudonymise.py --preset medium   # raw -> outbox
    .venv/bin/python scripts/bench/load.py --preset medium           # outbox -> landed
    .venv/bin/python scripts/bench/dbt_build.py --preset medium      # landed -> marts (timed)

The landed Parquet and the ledger of $P20_BENCH_DIR/<preset>/warehouse are copied into a fresh
warehouse beside it (dbt-warehouse/), so every run builds every model from nothing.
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="medium")
    args = parser.parse_args()
    root = Path(os.environ.get("P20_BENCH_DIR", "/tmp/p20-bench")) / args.preset
    loaded = root / "warehouse"
    if not (loaded / "landed").is_dir():
        raise SystemExit(f"{loaded}: nothing landed; run scripts/bench/load.py --preset {args.preset}")
    warehouse = root / "dbt-warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)
    shutil.copytree(loaded / "landed", warehouse / "landed")
    shutil.copytree(loaded / "ledger", warehouse / "ledger")
    env = {**os.environ, "P20_WAREHOUSE_DIR": str(warehouse)}
    rows = subprocess.run(
        [sys.executable, "-c", "import duckdb; print(duckdb.sql(\"select count(*) from "
         f"read_parquet('{warehouse}/landed/*/*/*/*.parquet')\").fetchall()[0][0])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "p20", "build", "--quiet"], env=env)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    if proc.returncode != 0:
        raise SystemExit(f"dbt build failed (exit {proc.returncode})")
    size = (warehouse / "p20.duckdb").stat().st_size / 2**30
    print(f"preset            {args.preset}: {int(rows):,} landed rows")
    print(f"dbt build         {wall:.0f} s ({wall / 60:.1f} min), every model, test and unit test")
    print(f"peak memory       {peak:.2f} GiB (largest child process: dbt with DuckDB in it)")
    print(f"warehouse file    {size:.2f} GiB")


if __name__ == "__main__":
    main()
