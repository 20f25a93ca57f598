"""What the `p20` commands print with: the two consoles (results on stdout, errors and progress
on stderr), the progress bar of a run over files, and the audit's table. Shared by p20.cli and
p20.demo, so that nothing imports the cli."""

from rich import box
from rich.console import Console
from rich.table import Table

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def progress_bar(label: str):
    """One p20 progress bar on stderr (when it is a terminal) for a run over files:
    returns the callback `(done, total, file)` the workflow calls."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn(f"{label} {{task.fields[file]}}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err, transient=True,
    )
    state: dict = {}

    def on_file(done: int, total: int, file: str) -> None:
        if "task" not in state:
            progress.start()
            state["task"] = progress.add_task(label, total=total, file=file)
        progress.update(state["task"], completed=done, file=file)
        if done >= total:
            progress.stop()

    return on_file


def audit_and_report() -> bool:
    """Run `p20 audit`'s checks, print their table and findings; True when there are none."""
    from p20.audit import audit as run

    checks, folder = run()
    table = Table(title="p20 audit", box=box.SIMPLE, padding=(0, 1))
    for name in ("check", "examined", "findings"):
        table.add_column(name)
    for c in checks:
        table.add_row(c.name, ", ".join(f"{n} {what}" for what, n in c.examined.items()), str(len(c.findings)))
    out.print(table)
    for c in checks:
        for f in c.findings:
            err.print(f"finding: {c.name}: {f['rule']}: {f['where']}", markup=False)
        for n in c.notes:
            err.print(f"note: {c.name}: {n['rule']}: {n['where']}", markup=False)
    out.print(f"audit: report -> {folder}", markup=False)
    return not any(c.findings for c in checks)
