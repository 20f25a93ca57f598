"""Benchmark `p20 release` and `p20 audit` (not a test): wall time, peak memory, rows/s at a
preset's scale, on the warehouse that scripts/bench/dbt_build.py built.

    .venv/bin/python scripts/bench/dbt_build.py --preset medium   # landed -> marts
    .venv/bin/python scripts/bench/release.py --preset medium     # marts -> bundle, then audit

The release key is derived from the bench custodian's master key when the warehouse has none
(as `p20 keys export-release-key` would). Bundles accumulate under dbt-warehouse/releases/.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def timed(command: list[str], env: dict) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds and peak resident GiB of one p20 process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out, err = proc.stdout.read(), proc.stderr.read()
    return wall, usage.ru_maxrss / 2**20, subprocess.CompletedProcess(command, os.waitstatus_to_exitcode(status), out, err)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--dsa", default="demo-algebra-2026")
    args = parser.parse_args()
    root = Path(os.environ.get("P20_BENCH_DIR", "/tmp/p20-bench")) / args.preset
    warehouse = root / "dbt-warehouse"
    if not (warehouse / "p20.duckdb").exists():
        raise SystemExit(f"{warehouse}: no marts; run scripts/bench/dbt_build.py --preset {args.preset}")
    env = {**os.environ, "P20_WAREHOUSE_DIR": str(warehouse), "P20_CUSTODIAN_DIR": str(root / "custodian")}
    if not (warehouse / "keys" / "release.key").exists():
        subprocess.run([sys.executable, "-m", "p20", "keys", "export-release-key"], env=env, check=True,
                       capture_output=True)
    wall, peak, proc = timed([sys.executable, "-m", "p20", "release", args.dsa], env)
    if proc.returncode != 0:
        raise SystemExit(f"p20 release exited {proc.returncode}: {proc.stderr.strip()}")
    bundle = sorted((warehouse / "releases" / args.dsa).iterdir())[-1]
    record = json.loads((bundle / "release.json").read_text())
    rows = sum(t["rows"] for t in record["tables"].values())
    tokens = sum(k["distinct"] for k in record["tokens"].values())
    size = sum(p.stat().st_size for p in bundle.iterdir()) / 2**20
    print(f"preset            {args.preset}: DSA {args.dsa}, {len(record['tables'])} marts")
    print(f"release           {wall:.1f} s, {rows:,} rows ({rows / wall:,.0f} rows/s), "
          f"{tokens:,} distinct tokens re-keyed, {size:.0f} MiB, peak {peak:.2f} GiB")
    wall, peak, proc = timed([sys.executable, "-m", "p20", "audit"], env)
    findings = "no findings" if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()}"
    print(f"audit             {wall:.1f} s, peak {peak:.2f} GiB, {findings}")


if __name__ == "__main__":
    main()
