"""Benchmark the load gate (not a test): GX validation of the largest extract, and a whole
`p20 load` of the outbox. Prints rows/s validated and peak memory.

    .venv/bin/python scripts/bench/pseudonymise.py --preset medium   # makes the outbox first
    .venv/bin/python scripts/bench/load.py --preset medium
"""

import argparse
import json
import os
import resource
import shutil
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="medium")
    args = parser.parse_args()
    root = Path(os.environ.get("P20_BENCH_DIR", "/tmp/p20-bench")) / args.preset
    os.environ["P20_CUSTODIAN_DIR"] = str(root / "custodian")
    os.environ["P20_WAREHOUSE_DIR"] = str(root / "warehouse")
    outbox = root / "custodian" / "outbox"
    if not (outbox / "manifest.json").exists():
        raise SystemExit(f"{outbox}: no outbox; run scripts/bench/pseudonymise.py --preset {args.preset}")
    shutil.rmtree(root / "warehouse", ignore_errors=True)
    from p20 import keys

    keys.write_secret(keys.manifest_key_path(), keys.manifest_key(keys.load_master_key()))
    import duckdb

    from p20 import gate, gx_suite
    from p20.policy import extracts
    from p20.textio import register_lines

    manifest = json.loads((outbox / "manifest.json").read_text())
    largest = max(manifest["files"], key=lambda f: f["rows"])
    extract = extracts()[largest["extract"]]
    con = duckdb.connect()
    gx_suite.gx_context()  # GX's own start (import, context), once per process: not timed
    gx_suite.suite_parameters(extract, largest["school_year"], [])
    start = time.perf_counter()
    register_lines(con, outbox / largest["file"], "outbox_lines")
    table = gx_suite.frame_table(con, extract)
    codes = [r[0] for r in con.execute(f"select distinct school_code from {table}").fetchall()]
    params = gx_suite.suite_parameters(extract, largest["school_year"], codes)
    read = time.perf_counter() - start

    def suite_seconds() -> float:
        """Median of three runs of the whole suite (the first warms GX's caches up)."""
        times = []
        for _ in range(3):
            started = time.perf_counter()
            validation = gx_suite.validate(con, extract, params)
            times.append(time.perf_counter() - started)
            assert not validation.failures, validation.failures
        return sorted(times)[1]

    suite = suite_seconds()
    n_expectations = len(gx_suite.load_suite(extract.name).expectations)
    print(f"largest extract   {largest['file']} ({largest['rows']:,} rows, {n_expectations} expectations)")
    print(f"read              {read:.2f} s (file into DuckDB, split into its columns)")
    print(f"validate          {suite:.2f} s, {largest['rows'] / suite:,.0f} rows/s (GX suite, median of 3)")
    print(f"read + validate   {read + suite:.2f} s, {largest['rows'] / (read + suite):,.0f} rows/s")
    print(f"peak memory       {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB (after validating it)")
    con.sql(f"create or replace table {table} as select * from {table} where line_no <= 1000")
    fixed = suite_seconds()
    print(f"GX fixed cost     {fixed:.2f} s per file (the same suite on the file's first 1,000 rows)")
    start = time.perf_counter()
    outcomes = gate.load(outbox)
    wall = time.perf_counter() - start
    rows = sum(o.rows for o in outcomes)
    assert all(o.status == "landed" for o in outcomes)
    print(f"p20 load, all     {len(outcomes)} files, {rows:,} rows in {wall:.1f} s, {rows / wall:,.0f} rows/s")
    print(f"peak memory       {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB (whole run)")


if __name__ == "__main__":
    main()
