"""`p20 freeze-index-cuts`: the multiple-measures index's cut points, computed once.

Each measure is placed on levels 1-10 by nine cut points: the deciles of the schools' values
(all students, measures that count) in a base school year. They are frozen in
seeds/index_level_cuts.csv so that later years are judged against a fixed bar, not against
each other; re-freezing is a deliberate, reviewed change of that seed.
"""

import os
import uuid
from pathlib import Path

import duckdb

from p20 import paths
from p20.errors import UsageError
from p20.policy import project_var

CUTS_SEED = paths.SEEDS_DIR / "index_level_cuts.csv"
DECILES = [i / 10 for i in range(1, 10)]


def freeze(base_year: int | None = None, seed_path: Path = CUTS_SEED) -> int:
    """Write the seed from the warehouse's fct_school_measures; returns the measures frozen."""
    year = int(base_year or project_var("index_base_year"))
    database = paths.duckdb_path()
    if not database.exists():
        raise UsageError(f"{database}: no warehouse yet (run `p20 demo` or `p20 build` first)")
    con = duckdb.connect(str(database), read_only=True)
    try:
        quantiles = ", ".join(f"quantile_cont(measure_value, {q}) as cut_{i}" for i, q in enumerate(DECILES, 1))
        rows = con.sql(
            f"""
            select measure, {year} as base_year, {quantiles}
            from marts.fct_school_measures
            where reporting_group = 'all' and is_reported and school_year = {year}
            group by measure
            order by measure
            """
        ).fetchall()
    finally:
        con.close()
    if not rows:
        raise UsageError(f"no school measures for base year {year} in {database}")
    header = "measure,base_year," + ",".join(f"cut_{i}" for i in range(1, 10))
    lines = [header] + [",".join([r[0], str(r[1])] + [f"{v:.4f}" for v in r[2:]]) for r in rows]
    tmp = seed_path.parent / f".tmp-{seed_path.name}-{uuid.uuid4().hex[:8]}"
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, seed_path)
    return len(rows)
