"""`p20 demo` (what `make demo` runs): synth -> keys -> pseudonymise and link -> load -> dbt
build -> audit on one machine playing both zones, then a summary of the marts and the path of
`p20 report`'s charts."""

import duckdb
from rich import box
from rich.console import Console
from rich.table import Table

from p20 import keys, paths
from p20.build import dbt
from p20.console import audit_and_report, err, out, progress_bar
from p20.custodian import pseudonymise as run_pseudonymise
from p20.gate import load as run_load
from p20.link import link as run_link
from p20.policy import linked_extracts
from p20.report import report
from p20.synth import generate, synth_marker_matches

# What `p20 demo --preset` takes (its help says so): the district sizes one machine runs end to
# end in minutes.
DEMO_PRESETS = ("tiny", "small")


def demo(preset: str, seed: int) -> bool:
    """The whole path on a synthetic district; False (after saying why) when a step fails."""
    if synth_marker_matches(preset, seed, paths.custodian_dir()):
        out.print(f"1/5 synth: {paths.raw_dir()} already holds the {preset} district, seed {seed}; kept")
    else:
        generate(preset, seed, range(2016, 2026), paths.custodian_dir())
        out.print(f"1/5 synth: {preset} district, seed {seed}, 2016-2025 -> {paths.raw_dir()}")
    if not keys.master_key_path().exists():
        keys.init_master_key()
    if not keys.escrow_key_path().exists():
        keys.init_escrow_key()
    if not keys.manifest_key_path().exists():  # one machine plays both zones in the demo
        keys.write_secret(keys.manifest_key_path(), keys.manifest_key(keys.load_master_key()))
    if not keys.release_key_path().exists():
        keys.write_secret(keys.release_key_path(), keys.release_key(keys.load_master_key()))
    manifest = run_pseudonymise(paths.raw_dir(), paths.outbox_dir())
    linked = run_link(paths.raw_dir(), paths.outbox_dir())
    out.print(
        f"2/5 pseudonymise: {sum(f['extract'] not in linked_extracts() for f in manifest['files'])} extracts; link: "
        f"{sum(len(r.files) for r in linked)} files with no district id -> {paths.outbox_dir()}"
    )
    outcomes = run_load(paths.outbox_dir(), on_file=progress_bar("validating"))
    rejected = [o for o in outcomes if o.status == "rejected"]
    for o in rejected:
        for line in o.problems():
            err.print(f"rejected: {line}", markup=False)
    out.print(
        f"3/5 load: {sum(o.status == 'landed' for o in outcomes)} landed, "
        f"{sum(o.status == 'unchanged' for o in outcomes)} unchanged, {len(rejected)} rejected"
    )
    if rejected:
        return False
    out.print("4/5 dbt build ...")
    if not dbt(["build", "--quiet"]):
        err.print("p20: dbt build failed; see the log above")
        return False
    out.print("5/5 audit: every load, the research zone's columns and tokens, every release, the build")
    if not audit_and_report():
        return False
    print_summary()
    out.print(f"Charts of this build, for researchers and auditors (works offline): {report()}", markup=False)
    return True


def print_summary() -> None:
    """The two tables `make demo` ends with: census counts by year and grade, and the
    district's grade-8 algebra readiness, take-up and pass rates."""
    con = duckdb.connect(str(paths.duckdb_path()), read_only=True)
    rows = con.execute(
        """
        select school_year, grade_level, count(*) as n
        from marts.fct_student_years
        where is_enrolled_on_census_day
        group by all
        """
    ).fetchall()
    algebra = con.execute(
        """
        select school_year, n_students,
               coalesce(cast(pct_ready as varchar), pct_ready_coded),
               coalesce(cast(pct_took_algebra1 as varchar), pct_took_algebra1_coded),
               coalesce(cast(pct_passed_algebra1 as varchar), pct_passed_algebra1_coded)
        from marts.agg_grade8_algebra__district_subgroup
        where subgroup_type = 'all'
        order by school_year
        """
    ).fetchall()
    con.close()
    grades = sorted({r[1] for r in rows}, key=lambda g: -1 if g == "KN" else int(g))
    years = sorted({r[0] for r in rows})
    cell = {(r[0], r[1]): r[2] for r in rows}
    table = Table(
        title="Students enrolled on census day, by school year and grade", box=box.SIMPLE, padding=(0, 1)
    )
    table.add_column("year")
    for g in grades:
        table.add_column(g, justify="right")
    table.add_column("total", justify="right")
    for y in years:
        values = [cell.get((y, g), 0) for g in grades]
        table.add_row(str(y), *map(str, values), str(sum(values)))
    # a table needs its width even when stdout is not a terminal (CI logs, pipes)
    wide = Console(highlight=False, width=max(out.width, 8 * len(grades) + 16))
    wide.print(table)
    study = Table(
        title="Grade 8 and Algebra I (marts.agg_grade8_algebra__district_subgroup)", box=box.SIMPLE, padding=(0, 1)
    )
    for name in ("year", "grade 8", "% ready", "% took Algebra I", "% passed"):
        study.add_column(name, justify="right")
    for year, *values in algebra:
        study.add_row(str(year), *("-" if v is None else str(v) for v in values))
    wide.print(study)
    out.print(
        "Open the warehouse read-only in SQL (the published snapshot of this build):\n"
        f"  .venv/bin/python -c \"import duckdb; duckdb.connect('{paths.published_duckdb_path()}', read_only=True)"
        ".sql('select * from marts.fct_student_years limit 5').show()\"\n"
        f"  or, with the DuckDB CLI: duckdb -readonly {paths.published_duckdb_path()}"
    )

