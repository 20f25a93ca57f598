"""Reports of rejected files: quarantine/<load_id>/report.{json,txt,html}, written in one step.

A report holds rules, columns, counts and line numbers, never a value of the file; the file
itself stays in the outbox with the custodian (a rejected file may hold exactly what must not
cross). The HTML page is templates/quarantine_report.html filled from report.json's fields.
"""

import html
import json
from functools import cache
from pathlib import Path
from string import Template
from typing import Protocol

from p20 import paths
from p20.gx_suite import MAX_LINES_REPORTED
from p20.textio import atomic_dir

TEMPLATE = Path(__file__).parent / "templates" / "quarantine_report.html"


class Rejected(Protocol):
    """What the gate knows of a rejected file (p20.gate.Outcome)."""

    load_id: str
    file: str
    extract: str
    school_year: int | None
    failures: list[dict]
    results: list[dict]
    message: str

    def problems(self) -> list[str]: ...


def write_report(outcome: Rejected, file_sha256: str | None) -> None:
    """The three reports of a rejected extract, under quarantine/<outcome.load_id>/."""
    with atomic_dir(paths.quarantine_dir() / outcome.load_id) as tmp:
        report = {
            "load_id": outcome.load_id,
            "file": outcome.file,
            "extract": outcome.extract,
            "school_year": outcome.school_year,
            "file_sha256": file_sha256,
            "failures": outcome.failures,
            "expectations": outcome.results,
            "message": outcome.message if not outcome.failures else "",
            # what `p20 load` printed, one line per problem (a row-count rule's figures included)
            "problems": outcome.problems(),
        }
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        (tmp / "report.txt").write_text(text_report(report), encoding="utf-8")
        (tmp / "report.html").write_text(html_report(report), encoding="utf-8")


def text_report(report: dict) -> str:
    lines = [f"p20 load: {report['file']} was rejected (load {report['load_id']})", ""]
    if report.get("problems"):
        lines += [f"- {p}" for p in report["problems"]]
    elif report["failures"]:
        for f in report["failures"]:
            where = f" lines {', '.join(map(str, f['lines']))}" if f["lines"] else ""
            lines.append(
                f"- {f['rule']}: {f['unexpected_count']} of {f['element_count']} rows;{where}"
            )
    else:
        lines.append(f"- {report['message']}")
    lines += [
        "",
        "Nothing of this file was landed. Fix the extract at the custodian and load again.",
    ]
    return "\n".join(lines) + "\n"


@cache
def _page() -> Template:
    return Template(TEMPLATE.read_text(encoding="utf-8"))


def html_report(report: dict) -> str:
    """A small self-contained page of a rejected file's report: the failed rules with counts
    and line numbers, then every expectation's outcome. Built from report.json's fields only,
    which hold rules, columns, counts and line numbers, never values."""
    esc = html.escape

    def count(value) -> str:
        return "" if value is None else f"{value:,}"

    failed = "".join(
        f"<tr><td>{esc(f['rule'])}</td><td><code>{esc(f['column'])}</code></td>"
        f"<td class=n>{count(f['unexpected_count'])}</td><td class=n>{count(f['element_count'])}</td>"
        f"<td>{esc(', '.join(map(str, f['lines'])))}{' ...' if f['unexpected_count'] > len(f['lines']) and f['lines'] else ''}"
        f"{' (could not be evaluated)' if f.get('could_not_evaluate') else ''}</td></tr>"
        for f in report["failures"]
    )
    every = "".join(
        f"<tr class={'pass' if e['success'] else 'fail'}><td class=n>{'' if e['index'] is None else e['index'] + 1}</td>"
        f"<td>{esc(e['rule'])}</td><td><code>{esc(e['expectation'])}</code></td>"
        f"<td><code>{esc(e['column'])}</code></td><td>{'passed' if e['success'] else 'FAILED'}</td>"
        f"<td class=n>{count(e['unexpected_count'])}</td><td class=n>{count(e['element_count'])}</td></tr>"
        for e in report["expectations"]
    )
    if report["failures"]:
        body = (
            "<h2>Failed rules</h2><table><tr><th>rule</th><th>column</th><th>rows failing</th>"
            f"<th>rows checked</th><th>line numbers (first {MAX_LINES_REPORTED})</th></tr>{failed}</table>"
        )
    else:
        body = f"<h2>Why</h2><p>{esc(report['message'])}</p>"
    if every:
        body += (
            f"<h2>Every expectation of suite <code>{esc(str(report['extract']))}</code></h2>"
            "<table><tr><th>#</th><th>rule</th><th>expectation</th><th>column</th><th>outcome</th>"
            f"<th>rows failing</th><th>rows checked</th></tr>{every}</table>"
        )
    return _page().substitute(
        file=esc(report["file"]),
        load_id=esc(report["load_id"]),
        extract=esc(str(report["extract"])),
        school_year=esc(str(report["school_year"])),
        file_sha256=esc(str(report["file_sha256"])),
        body=body,
    )
