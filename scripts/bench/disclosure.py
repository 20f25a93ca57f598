"""Benchmark the disclosure protection and its attacker audit (not a test): wall time, peak
memory and counts/s of `protect` and `audit` (p20.disclosure) on the cells and relations a built
warehouse holds, and the information loss (counts published vs hidden, per mart; the all-students
rows of units with at least the minimum group size that stay published).

    .venv/bin/python scripts/bench/dbt_build.py --preset medium      # landed -> marts
    .venv/bin/python scripts/bench/disclosure.py --preset medium
    .venv/bin/python scripts/bench/disclosure.py --warehouse warehouse # make demo's warehouse

The floor in the same run: DuckDB reading the two tables into Arrow (what any solver pays).
"""

import argparse
import os
import resource
import time
from collections import Counter
from pathlib import Path

import duckdb

from p20 import disclosure
from p20.disclosure.protect import protect
from p20.policy import project_var


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--warehouse", help="a warehouse folder (default: the bench's for --preset)")
    args = parser.parse_args()
    root = Path(args.warehouse) if args.warehouse else (
        Path(os.environ.get("P20_BENCH_DIR", "/tmp/p20-bench")) / args.preset / "dbt-warehouse")
    con = duckdb.connect(str(root / "p20.duckdb"), read_only=True)
    start = time.perf_counter()
    cells = con.sql("select * from intermediate.int_disclosure__cells").to_arrow_table()
    relations = con.sql("select * from intermediate.int_disclosure__relations").to_arrow_table()
    floor = time.perf_counter() - start
    tables = disclosure.linked_tables(cells, relations, project_var("min_group_size"), project_var("pct_coding_bands"))
    start = time.perf_counter()
    hidden, primary = protect(tables)
    protect_s = time.perf_counter() - start
    start = time.perf_counter()
    findings = disclosure.audit(tables, hidden)
    audit_s = time.perf_counter() - start
    print(f"{root}: {tables.n:,} published counts, {tables.relations.shape[0]:,} relations")
    print(f"floor (DuckDB -> Arrow, both tables): {floor:.1f} s")
    print(f"protect: {protect_s:.1f} s ({tables.n / protect_s:,.0f} counts/s); audit: {audit_s:.1f} s, "
          f"{len(findings)} findings; peak {peak_gib():.2f} GiB")
    marts = sorted(set(tables.mart))
    print(f"{'mart':44} {'counts':>7} {'hidden by rule':>15} {'hidden in all':>14}")
    for mart in marts:
        mine = tables.mart == mart
        print(f"{mart:44} {int(mine.sum()):7} {int((primary & mine).sum()):15} {int((hidden & mine).sum()):14}")
    kept = tables.is_size & tables.is_unit_total & (tables.value >= tables.min_group_size)
    print(f"all-students rows of units with >= {tables.min_group_size} students: {int(kept.sum())}, "
          f"hidden {int((kept & hidden).sum())}")
    by_rule = Counter(f["rule"] for f in findings.to_pylist())
    for rule, n in sorted(by_rule.items()):
        print(f"  finding: {rule}: {n}")


if __name__ == "__main__":
    main()
