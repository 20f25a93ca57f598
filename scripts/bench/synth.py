"""Benchmark `p20 synth` for one preset (not a test): wall time, peak memory, rows per extract.

    .venv/bin/python scripts/bench/synth.py medium [--seed 42] [--out /tmp/p20-bench] [--keep]

Generates the ten school years 2016-2025 into a scratch custodian folder (removed afterwards
unless --keep), in this process, then prints the wall time, this process's peak resident set
size (ru_maxrss: every byte the generator touched, numpy and Arrow included, which tracemalloc
would miss), the bytes written, and the rows of each extract (all years, and the last year).
"""

import argparse
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from p20.synth import PRESETS, generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", choices=list(PRESETS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix=f"p20-bench-{args.preset}-"))
    custodian = root / "custodian"
    if custodian.exists():
        shutil.rmtree(custodian)
    started = time.perf_counter()
    generate(args.preset, args.seed, range(2016, 2026), custodian)
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    rows = pd.read_csv(custodian / "truth" / "rows_per_extract.csv")
    size = sum(p.stat().st_size for p in (custodian / "raw").glob("*.txt"))
    per_extract = rows.pivot_table(index="file_code", values="rows", aggfunc="sum")
    per_extract["last_year"] = rows[rows["school_year"] == rows["school_year"].max()].set_index("file_code")["rows"]
    print(f"preset        {args.preset} (seed {args.seed}, school years 2016-2025)")
    print(f"machine       {platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores, python {platform.python_version()}")
    print(f"wall time     {wall:.1f} s")
    print(f"peak memory   {peak_kib / 1024 / 1024:.2f} GiB (max RSS of this process)")
    print(f"raw written   {size / 1024**3:.2f} GiB in {len(rows)} files")
    print(f"rows          {int(rows['rows'].sum()):,} in all")
    print(per_extract.rename(columns={"rows": "all_years"}).to_string())
    if not args.keep and args.out is None:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
