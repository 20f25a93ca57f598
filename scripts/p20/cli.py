"""The `p20` command. Each subcommand is a thin call into one workflow module.

Exit codes: 0 ok, 1 rejected input, 2 usage error, 130 Ctrl-C, 143 SIGTERM. Expected failures print
one line, no traceback.
"""

import atexit
import functools
import signal
from pathlib import Path
from typing import Annotated

import typer

from p20 import paths
from p20.console import audit_and_report, err, out, progress_bar
from p20.errors import P20Error, Terminated, UsageError, request_stop
from p20.teardown import quiet_interpreter_shutdown

# A traceback (a bug) never shows local variables: they may hold key bytes or ids.
app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False)
keys_app = typer.Typer(no_args_is_help=True, help="The partnership key (custodian zone only).")
app.add_typer(keys_app, name="keys")


atexit.register(quiet_interpreter_shutdown)  # first registered, so it runs last


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"p20 {version('p20')}", markup=False)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print p20's version and exit.")
    ] = False,
):
    if checkout := paths.foreign_checkout():
        err.print(
            f"p20: {checkout}/.venv runs the code of {paths.REPO_ROOT} (it was installed there and "
            f"copied or moved), so it would use that checkout's zones; rebuild it: "
            f"cd {checkout} && make install",
            markup=False,
        )
        raise typer.Exit(2)
    # SIGTERM stops a run as Ctrl-C does: the command says what was left (see expected_errors);
    # both are recorded, so a stop a library swallows is raised again (p20.errors.request_stop)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)


def _stop(signum, frame):
    request_stop(signum)


def expected_errors(fn):
    """Turn a P20Error into one line on stderr and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except P20Error as exc:
            err.print(f"p20: {exc}", markup=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt as exc:  # a workflow with more to say raises Interrupted instead
            err.print(f"p20 {fn.__name__}: interrupted before it finished; run it again to complete it", markup=False)
            raise typer.Exit(143 if isinstance(exc, Terminated) else 130) from None

    return wrapper


def parse_years(text: str) -> range:
    try:
        first, _, last = text.partition("-")
        first_year, last_year = int(first), int(last or first)
    except ValueError:
        raise UsageError(f"--years {text!r}: expected a range like 2016-2025") from None
    if last_year < first_year:
        raise UsageError(f"--years {text!r}: the range is empty")
    return range(first_year, last_year + 1)


@app.command()
@expected_errors
def synth(
    preset: Annotated[str, typer.Option(help="tiny | small | medium | lausd")] = "tiny",
    seed: Annotated[int, typer.Option(help="random seed: the same seed gives the same bytes")] = 42,
    years: Annotated[str, typer.Option(help="school years (spring year), e.g. 2016-2025")] = "2016-2025",
    faults: Annotated[
        bool, typer.Option("--faults", help="also write labelled broken extracts to custodian/faults/")
    ] = False,
):
    """Write a synthetic district's raw extracts and truth into the custodian zone."""
    from p20.synth import generate

    params = generate(preset, seed, parse_years(years), paths.custodian_dir(), faults=faults)
    out.print(f"synth: {params['preset']} district, seed {seed}, {years} -> {paths.raw_dir()}")
    if faults:
        out.print(f"synth: labelled broken extracts -> {paths.custodian_dir() / 'faults'}")


@keys_app.command("init")
@expected_errors
def keys_init():
    """Create the partnership's 256-bit master key and the separate escrow key (mode 0600;
    never overwrites)."""
    from p20 import keys

    path = keys.init_master_key()
    escrow_path = keys.init_escrow_key() if not keys.escrow_key_path().exists() else keys.escrow_key_path()
    out.print(f"keys: new key {keys.fingerprint(keys.load_master_key(path))} written to {path}")
    out.print(f"keys: escrow key at {escrow_path}; keep it apart from the master key")


@keys_app.command("export-manifest-key")
@expected_errors
def keys_export_manifest_key(
    out_path: Annotated[Path | None, typer.Option("--out", help="where the research zone keeps it")] = None,
):
    """Write the manifest key (derived; it can check manifests, not make tokens) for `p20 load`."""
    from p20 import keys

    path = keys.write_secret(out_path or keys.manifest_key_path(), keys.manifest_key(keys.load_master_key()))
    out.print(f"keys: manifest key written to {path}")


@keys_app.command("export-release-key")
@expected_errors
def keys_export_release_key(
    out_path: Annotated[Path | None, typer.Option("--out", help="where the research zone keeps it")] = None,
):
    """Write the release key (derived; `p20 release` re-keys tokens per project with it; it
    cannot make a token from an id)."""
    from p20 import keys

    path = keys.write_secret(out_path or keys.release_key_path(), keys.release_key(keys.load_master_key()))
    out.print(f"keys: release key written to {path}")


@keys_app.command("fingerprint")
@expected_errors
def keys_fingerprint():
    """Print the fingerprint of the key in use (a one-way name, not the key)."""
    from p20 import keys

    out.print(keys.fingerprint(keys.load_master_key()))


@keys_app.command("rotate")
@expected_errors
def keys_rotate():
    """New master key + token maps old -> new (a rotation package for `p20 rekey`)."""
    from p20.rotation import rotate

    package = rotate()
    out.print(f"keys: rotated; the old key is retired. Send {package} to the warehouse: p20 rekey {package}")


@app.command()
@expected_errors
def rekey(package: Annotated[Path, typer.Argument(help="a rotation package from `p20 keys rotate`")]):
    """Re-key the warehouse's current loads through a rotation package (then run dbt build)."""
    from p20.rotation import rekey as run

    loads = run(package)
    out.print(f"rekey: {len(loads)} loads re-keyed; the old ones stay for audit. Now run `p20 build`.")


escrow_app = typer.Typer(no_args_is_help=True, help="Controlled re-identification (custodian only).")
app.add_typer(escrow_app, name="escrow")


@escrow_app.command("lookup")
@expected_errors
def escrow_lookup(
    token: Annotated[str, typer.Argument(help="a token from the warehouse")],
    reason: Annotated[str, typer.Option(help="why; written to the custodian's lookup log")],
    kind: Annotated[str, typer.Option(help="id kind: student, teacher, section, incident")] = "student",
):
    """Print the (normalised) id behind a token. Needs the escrow key; every lookup is logged."""
    from p20 import escrow, keys

    found = escrow.lookup(
        token, reason, kind, keys.load_escrow_key(), keys.fingerprint(keys.load_master_key())
    )
    if found is None:
        err.print(f"p20: no {kind} token like that in the escrow (the lookup was logged)")
        raise typer.Exit(1)
    out.print(found)


@app.command()
@expected_errors
def pseudonymise(
    raw: Annotated[Path | None, typer.Argument(help="folder of raw extracts")] = None,
    outbox: Annotated[Path | None, typer.Option(help="where to write the outbox")] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="take a file under another name: FILE=CODE_YEAR, e.g. SENR_2025_corrected.txt=SENR_2025"),
    ] = None,
):
    """Tokenise ids, drop names and exact birth dates: raw extracts -> outbox + manifest.
    A file in the raw folder that p20 does not recognise refuses the run (exit 1)."""
    from p20.custodian import pseudonymise as run
    from p20.inventory import missing_lines, parse_mapping
    from p20.policy import linked_extracts

    manifest = run(raw or paths.raw_dir(), outbox or paths.outbox_dir(), mapping=parse_mapping(map_ or []))
    made = [f for f in manifest["files"] if f["extract"] not in linked_extracts()]
    out.print(
        f"pseudonymise: {len(made)} extracts, {sum(f['rows'] for f in made)} rows, key "
        f"{manifest['key_fingerprint']} -> {outbox or paths.outbox_dir()}"
    )
    kept = len(manifest["files"]) - len(made)
    if kept:
        out.print(
            f"pseudonymise: kept the previous outbox's {kept} files of `p20 link` (linked "
            f"{(manifest.get('link') or {}).get('linked_at', '?')}); run `p20 link` to match this delivery"
        )
    for line in missing_lines(manifest):
        err.print(line, markup=False)


@app.command()
@expected_errors
def link(
    raw: Annotated[Path | None, typer.Argument(help="folder of raw extracts (preschool/, nsc/ inside)")] = None,
    outbox: Annotated[Path | None, typer.Option(help="the outbox `p20 pseudonymise` wrote")] = None,
):
    """Match preschool and college records (no district id) to students; add them to the outbox."""
    from p20.link import link as run
    from p20.link import threshold

    for r in run(raw or paths.raw_dir(), outbox or paths.outbox_dir()):
        out.print(
            f"link: {r.extract}: {len(r.files)} files, {r.rows} rows, {r.matched_rows} matched "
            f"(match probability >= {threshold()})"
        )


@app.command()
@expected_errors
def load(outbox: Annotated[Path | None, typer.Argument(help="an outbox folder")] = None):
    """Validate each extract with its GX suite; land what passes, quarantine what fails."""
    from p20.gate import load as run
    from p20.inventory import missing_lines

    outcomes = run(outbox or paths.outbox_dir(), on_file=progress_bar("validating"))
    counts = {s: sum(o.status == s for o in outcomes) for s in ("landed", "unchanged", "rejected")}
    for line in missing_lines(_read_manifest(outbox or paths.outbox_dir())):
        err.print(line, markup=False)
    for o in outcomes:
        if o.status == "rejected":
            for line in o.problems():
                err.print(f"rejected: {line}", markup=False)
    out.print(
        f"load: {counts['landed']} landed, {counts['unchanged']} unchanged, "
        f"{counts['rejected']} rejected -> {paths.warehouse_dir()}"
    )
    if counts["rejected"]:
        err.print(f"reports: {paths.quarantine_dir()}", markup=False)
        raise typer.Exit(1)


def _read_manifest(outbox: Path) -> dict:
    """The outbox's manifest, after `p20 load` has checked its seal."""
    import json

    from p20.manifest import MANIFEST

    return json.loads((outbox / MANIFEST).read_text(encoding="utf-8"))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@expected_errors
def build(ctx: typer.Context):
    """Run `dbt build` (extra arguments pass through to dbt) on the warehouse."""
    from p20.build import dbt

    if not dbt(["build", *ctx.args]):
        raise typer.Exit(1)


@app.command()
@expected_errors
def release(
    dsa: Annotated[str, typer.Argument(help="a data-sharing agreement id (seeds/dsa_agreements.csv)")],
):
    """Write the marts a data-sharing agreement allows, under project tokens, as a sealed bundle."""
    from p20.release import release as run

    record = run(dsa)
    rows = sum(t["rows"] for t in record["tables"].values())
    out.print(
        f"release: {len(record['tables'])} marts, {rows} rows under DSA {dsa} -> "
        f"{paths.warehouse_dir() / 'releases' / dsa / record['release_id']}",
        markup=False,
    )
    for model, table in record["tables"].items():
        if "anonymity" in table:
            a = table["anonymity"]
            out.print(f"  {model}: k = {a['k_achieved']} (at least {a['k_required']}), {a['classes']} classes, "
                      f"{a['rows_suppressed']} of {a['rows']} rows suppressed", markup=False)
    if "anonymity" in record:
        out.print("  generalised: " + ("; ".join(f"{c} {d}" for c, d in record["anonymity"]["generalised"].items()) or "nothing"),
                  markup=False)


@app.command()
@expected_errors
def audit():
    """Check every load, the research zone's columns and tokens, every release against its
    agreement, and the last build; write the evidence to warehouse/audit/. Exit 1 on findings."""
    if not audit_and_report():
        raise typer.Exit(1)


@app.command("freeze-index-cuts")
@expected_errors
def freeze_index_cuts(
    base_year: Annotated[int | None, typer.Option(help="default: var p20:index_base_year")] = None,
):
    """Freeze the index's level cut points (deciles of the base year's school values) into
    seeds/index_level_cuts.csv; run `p20 build` afterwards."""
    from p20.index_cuts import CUTS_SEED, freeze

    n = freeze(base_year)
    out.print(f"{n} measures frozen into {CUTS_SEED.relative_to(paths.REPO_ROOT)}", markup=False)


@app.command()
@expected_errors
def docs():
    """Generate dbt's documentation site (catalog and manifest) into the warehouse's dbt/docs,
    beside the build's dbt/target, whose run results release and audit read."""
    from p20.build import dbt

    if not dbt(["docs", "generate", "--target-path", str(paths.warehouse_dir() / "dbt" / "docs")]):
        raise typer.Exit(1)


@app.command()
@expected_errors
def report():
    """Write the charts of the published snapshot (protected aggregates for researchers; loads,
    validations and releases for auditors) as one HTML page that works offline."""
    from p20.report import report as run

    out.print(f"report: {run()}", markup=False)


@app.command()
@expected_errors
def demo(
    preset: Annotated[str, typer.Option(help="tiny | small")] = "small",
    seed: Annotated[int, typer.Option()] = 42,
):
    """Synth -> keys -> pseudonymise -> load -> dbt build, a summary of the marts, then an audit."""
    from p20.demo import DEMO_PRESETS
    from p20.demo import demo as run

    if preset not in DEMO_PRESETS:  # the larger presets are for `p20 synth` (GBs, hours)
        raise UsageError(f"demo --preset {preset!r}: expected one of {' | '.join(DEMO_PRESETS)}")

    if not run(preset, seed):
        raise typer.Exit(1)
