"""Benchmark `p20 link` (not a test): precision, recall, F1, wall time, peak memory and rows/s,
before (main's model: scripts/bench/link_models_main/) and after (the sources' own `model:`).

    .venv/bin/python scripts/bench/link.py --preset small    # generates the district once

The district (raw extracts with preschool/ and nsc/), keys and a pseudonymised outbox go to
$P20_BENCH_DIR/link-<preset>/custodian (default /tmp/p20-bench), untimed. Two things are
measured, each model in its own process (so peak memory is its own):

- `p20 link` on the generator's two sources (district identities, Splink training and
  prediction, outbox files and manifest), against the generator's planted truth;
- an outside-style roster (scripts/bench/roster.py: names, ISO birth date, street, town,
  postcode; errors planted by another process than the generator's) of --roster rows against
  the same district, matched with the roster configuration and the preschool model.

Precision is over matched rows, recall over rows of district students, at the threshold var
p20:link_match_threshold, or at --threshold.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

# scripts/bench/district.py: run as a script, this folder is on the import path
from district import prepare_custodian

HERE = Path(__file__).resolve().parent
ROSTER_YEAR = 2025


def _model(variant: str, source: str) -> dict:
    from p20.sources import DEFAULT_DIR

    folder = HERE / "link_models_main" if variant == "before" else DEFAULT_DIR
    return yaml.safe_load((folder / f"{source}.yml").read_text())["model"]


def _sources_dir(root: Path, variant: str) -> Path:
    """The sources' configurations with the variant's model; the roster's beside them."""
    from roster import CONFIG

    from p20.linkmodel import COLUMNS
    from p20.sources import DEFAULT_DIR

    out = root / f"sources-{variant}"
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(DEFAULT_DIR.glob("*.yml")):
        body = yaml.safe_load(path.read_text())
        body["model"] = _model(variant, path.stem)
        (out / path.name).write_text(yaml.safe_dump(body, sort_keys=False))
    roster = yaml.safe_load(CONFIG)
    model = _model(variant, "preschool")  # the roster has no gender: that comparison goes
    model["comparisons"] = [c for c in model["comparisons"] if COLUMNS[c["output_column_name"]] in roster["identity"]]
    roster["model"] = model
    (root / f"roster-{variant}.yml").write_text(yaml.safe_dump(roster, sort_keys=False))
    return out


def _child(args, root: Path, custodian: Path) -> dict:
    """One model, one task, in this process: the figures as a dict."""
    from p20 import link
    from p20.sources import _parse

    if args.threshold is not None:
        link.threshold = lambda: args.threshold
    variant, task = args.child.split(":")
    os.environ["P20_LINK_SOURCES_DIR"] = str(root / f"sources-{variant}")
    out = {"variant": variant, "task": task, "threshold": link.threshold()}
    start = time.perf_counter()
    if task == "sources":
        results = link.link(custodian / "raw", custodian / "outbox")
        measured = link.quality(results, custodian / "truth")
        out["sources"] = {r.extract: {**measured[r.extract], "identities": r.identities} for r in results}
        out["rows"] = sum(r.rows for r in results)
    else:
        import duckdb

        source = _parse(root / f"roster-{variant}.yml")
        con = duckdb.connect()
        con.sql("set enable_progress_bar = false")
        manifest = json.loads((custodian / "outbox" / "manifest.json").read_text())
        link.district_identities(con, custodian / "raw", manifest)
        files = [(p, ROSTER_YEAR) for p in sorted((root / "roster" / "roster").glob("*.csv"))]
        with link._quiet():
            _, matches = link.link_source(con, source, files, link.threshold())
        result = link.SourceResult("preschool_enrollments", matches=matches)
        out["sources"] = {"roster": link.quality([result], root / "roster" / "truth")["preschool_enrollments"]}
        out["rows"] = matches.num_rows
    out["wall_s"] = time.perf_counter() - start
    out["peak_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return out


def _f1(q: dict) -> float:
    p, r = q["precision"], q["recall"]
    return 2 * p * r / (p + r) if p + r else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--roster", type=int, default=4000, help="rows of the outside-style roster")
    parser.add_argument("--threshold", type=float, default=None, help="override the var (for a sweep)")
    parser.add_argument("--only", choices=["before", "after"], default=None, help="one model only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    root = Path(os.environ.get("P20_BENCH_DIR", "/tmp/p20-bench")) / f"link-{args.preset}"
    custodian = root / "custodian"
    os.environ["P20_WAREHOUSE_DIR"] = str(root / "warehouse")
    prepare_custodian(custodian, args.preset, args.seed)
    if args.child:
        print(json.dumps(_child(args, root, custodian)))
        return
    from p20.custodian import pseudonymise

    if not (custodian / "outbox" / "manifest.json").exists():
        pseudonymise(custodian / "raw", custodian / "outbox")
    if not (root / "roster" / "truth").exists():
        import duckdb
        from roster import write_roster

        from p20 import link

        con = duckdb.connect()
        link.district_identities(con, custodian / "raw", json.loads((custodian / "outbox" / "manifest.json").read_text()))
        write_roster(con, root / "roster", ROSTER_YEAR, args.roster, args.seed)
    runs = []
    for variant in [args.only] if args.only else ["before", "after"]:
        _sources_dir(root, variant)
        for task in ("sources", "roster"):
            cmd = [sys.executable, __file__, "--preset", args.preset, "--seed", str(args.seed), "--child", f"{variant}:{task}"]
            if args.threshold is not None:
                cmd += ["--threshold", str(args.threshold)]
            proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"preset {args.preset}, seed {args.seed}, threshold {runs[0]['threshold']}")
    print(f"{'model':<7} {'source':<22} {'rows':>8} {'precision':>9} {'recall':>7} {'F1':>7} {'wall s':>7} {'peak GiB':>8} {'rows/s':>8}")
    for run in runs:
        for name, q in run["sources"].items():
            print(
                f"{run['variant']:<7} {name:<22} {q['rows']:>8,} {q['precision']:>9.4f} {q['recall']:>7.4f} {_f1(q):>7.4f} "
                f"{run['wall_s']:>7.1f} {run['peak_gib']:>8.2f} {run['rows'] / run['wall_s']:>8,.0f}"
            )
    print("wall time, peak memory (max RSS) and rows/s are per run: `p20 link` on both sources, or the roster alone")


if __name__ == "__main__":
    main()
