"""Benchmark `p20 link` (not a test): rows, wall time, peak memory, precision and recall.

    .venv/bin/python scripts/bench/link.py --preset small    # generates the district once

The district (raw extracts with preschool/ and nsc/), keys and a pseudonymised outbox go to
$P20_BENCH_DIR/link-<preset>/custodian (default /tmp/p20-bench), untimed; the timed part is
`p20 link` on both sources (district identities, Splink training and prediction, outbox files
and manifest). Precision and recall are measured against the generator's planted truth
(truth/linkage_*.csv) at the threshold var p20:link_match_threshold, or at --threshold.
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
    parser.add_argument("--preset", default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=None, help="override the var (for a sweep)")
    args = parser.parse_args()
    root = Path(os.environ.get("P20_BENCH_DIR", "/tmp/p20-bench")) / f"link-{args.preset}"
    custodian = root / "custodian"
    os.environ["P20_WAREHOUSE_DIR"] = str(root / "warehouse")
    prepare_custodian(custodian, args.preset, args.seed)
    from p20 import link
    from p20.custodian import pseudonymise
    if not (custodian / "outbox" / "manifest.json").exists():
        pseudonymise(custodian / "raw", custodian / "outbox")
    if args.threshold is not None:
        link.threshold = lambda: args.threshold
    start = time.perf_counter()
    results = link.link(custodian / "raw", custodian / "outbox")
    wall = time.perf_counter() - start
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    measured = link.quality(results, custodian / "truth")
    print(f"preset            {args.preset}")
    print(f"threshold         {link.threshold()}")
    for r in results:
        q = measured[r.extract]
        print(
            f"{r.extract:<22} {r.rows:,} rows ({r.identities:,} distinct identities), "
            f"{r.matched_rows:,} matched; precision {q['precision']:.4f}, recall {q['recall']:.4f}"
        )
    print(f"wall time         {wall:.1f} s")
    print(f"rows/s            {sum(r.rows for r in results) / wall:,.0f}")
    print(f"peak memory       {peak_gib:.2f} GiB (max RSS of this process)")


if __name__ == "__main__":
    main()
