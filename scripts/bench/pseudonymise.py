"""Benchmark `p20 pseudonymise` (not a test): wall time, rows/s, distinct ids/s, peak memory.

    .venv/bin/python scripts/bench/pseudonymise.py --preset medium   # generates the raw data once

Raw data and keys go to $P20_BENCH_DIR/<preset>/custodian (default /tmp/p20-bench); the timed
part is the pseudonymisation of all ten years of every extract, outbox and escrow included.
"""

import argparse
import os
import resource
import time
from pathlib import Path

# scripts/bench/district.py: run as a script, this folder is on the import path
from district import prepare_custodian


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    root = Path(os.environ.get("P20_BENCH_DIR", "/tmp/p20-bench")) / args.preset
    custodian = root / "custodian"
    prepare_custodian(custodian, args.preset, args.seed)
    from p20.custodian import pseudonymise
    raw_rows = sum(
        sum(1 for _ in open(p, "rb")) for p in (custodian / "raw").glob("*.txt")
    )
    start = time.perf_counter()
    manifest = pseudonymise(custodian / "raw", custodian / "outbox")
    wall = time.perf_counter() - start
    rows = sum(f["rows"] for f in manifest["files"])
    assert rows == raw_rows, (rows, raw_rows)
    distinct_ids = sum(1 for _ in _crosswalk_rows(custodian, manifest["key_fingerprint"]))
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"preset            {args.preset}")
    print(f"files             {len(manifest['files'])}")
    print(f"rows              {rows:,}")
    print(f"distinct ids      {distinct_ids:,}")
    print(f"wall time         {wall:.1f} s")
    print(f"rows/s            {rows / wall:,.0f}")
    print(f"distinct ids/s    {distinct_ids / wall:,.0f}")
    print(f"peak memory       {peak_gib:.2f} GiB (max RSS of this process)")


def _crosswalk_rows(custodian: Path, fingerprint: str):
    from p20 import escrow, keys

    table = escrow.read_crosswalk("student", keys.load_escrow_key(), fingerprint)
    yield from range(table.num_rows)


if __name__ == "__main__":
    main()
