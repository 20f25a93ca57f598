"""The generated parts of docs/formats.md: the layout of every extract (from the column policy,
seeds/extract_columns.csv) and the code sets the gate checks (from the suites' `seed__<name>`
parameters and the seeds themselves), so the document cannot drift from what the code reads.

    .venv/bin/python -m p20.formats_doc           # rewrite the generated blocks in place
    .venv/bin/python -m p20.formats_doc --check   # exit 1 when the document is stale

A generated block sits between `<!-- generated: <what> -->` and `<!-- end generated -->`;
<what> is `columns <extract>`, `code sets` or `seed <name>` (a seed as it is). Everything outside the blocks is written by hand.
"""

import json
import re
import sys
from pathlib import Path

from p20.paths import EXPECTATIONS_DIR, REPO_ROOT
from p20.policy import code_set, extracts

DOC = REPO_ROOT / "docs" / "formats.md"
BLOCK = re.compile(r"(<!-- generated: (?P<what>[^>]*?) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").strip()


def columns_table(extract: str) -> str:
    """One row per raw column of the extract, in file (or header) order."""
    rows = [
        "| # | raw column | action | outbox column | id kind | what it holds |",
        "|---|---|---|---|---|---|",
    ]
    for c in extracts()[extract].columns:
        description = _policy_descriptions()[(extract, c.position)]
        rows.append(
            f"| {c.position} | `{c.raw_column}` | {c.action} | {f'`{c.outbox_column}`' if c.outbox_column else ''} "
            f"| {c.id_kind} | {_cell(description)} |"
        )
    return "\n".join(rows) + "\n"


def _policy_descriptions() -> dict[tuple[str, int], str]:
    from p20.policy import read_seed

    return {(r["extract"], int(r["position"])): r["description"] for r in read_seed("extract_columns")}


def code_sets_table() -> str:
    """Every code set a suite checks a column against: the seed, its codes, where it applies."""
    used: dict[str, list[str]] = {}
    for path in sorted(EXPECTATIONS_DIR.glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for exp in suite["expectations"]:
            for value in exp["kwargs"].values():
                if isinstance(value, dict) and str(value.get("$PARAMETER", "")).startswith("seed__"):
                    seed = value["$PARAMETER"].removeprefix("seed__")
                    used.setdefault(seed, []).append(f"{suite['name']}.{exp['kwargs']['column']}")
    rows = ["| seed | codes | checked on (extract.column) |", "|---|---|---|"]
    for seed in sorted(used):
        codes = ", ".join(f"`{c}`" for c in code_set(seed))
        rows.append(f"| `seeds/{seed}.csv` | {codes} | {', '.join(sorted(set(used[seed])))} |")
    return "\n".join(rows) + "\n"


def seed_table(name: str) -> str:
    from p20.policy import read_seed

    rows = read_seed(name)
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(r[h]) for h in header) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def render(text: str) -> str:
    def block(m: re.Match) -> str:
        what = m["what"].strip()
        if what == "code sets":
            body = code_sets_table()
        elif what.startswith("seed "):
            body = seed_table(what.removeprefix("seed ").strip())
        elif what.startswith("columns "):
            body = columns_table(what.removeprefix("columns ").strip())
        else:
            raise ValueError(f"docs/formats.md: unknown generated block {what!r}")
        return m.group(1) + body + m.group(4)

    return BLOCK.sub(block, text)


def extracts_documented(text: str) -> set[str]:
    return {m["what"].removeprefix("columns ").strip() for m in BLOCK.finditer(text) if m["what"].startswith("columns ")}


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in argv:
        if new != text:
            print(f"{DOC.relative_to(REPO_ROOT)} is stale: run `.venv/bin/python -m p20.formats_doc`", file=sys.stderr)
            return 1
        return 0
    Path(DOC).write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
