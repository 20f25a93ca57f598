"""The package's imports go one way: no module imports one that (through others) imports it
back, nothing imports the cli, and the research zone's modules never reach the custodian's
(the code that reads raw extracts, holds the escrow or links on identities). Read from the
source, so an import inside a function counts too; one subprocess checks it at run time."""

import ast
import subprocess
import sys

from conftest import REPO

PACKAGE = REPO / "scripts" / "p20"
# The modules `p20 load`, `dbt build`, `p20 release` and `p20 audit` run in the research zone.
RESEARCH_ZONE = {
    "p20.gate", "p20.landing", "p20.ledger", "p20.manifest", "p20.gx_suite", "p20.quarantine",
    "p20.pipeline", "p20.release", "p20.anonymity", "p20.audit", "p20.build", "p20.disclosure",
    "p20.report",
}
CUSTODIAN_ZONE = {"p20.custodian", "p20.link", "p20.escrow"}


def _module(path) -> str:
    parts = ("p20", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the p20 modules it imports (anywhere in its source)."""
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([package.rsplit(".", node.level - 1)[0]] + ([base] if base else []))
                deps |= {f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names}
        graph[name] = {d for d in deps if d in files and d != name}
    return graph


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for dep in graph[todo.pop()] - seen:
            seen.add(dep)
            todo.append(dep)
    return seen


def test_imports_have_no_cycle_and_nothing_imports_the_cli():
    graph = import_graph()
    assert len(graph) > 30 and "p20.gate" in graph
    cycles = sorted(m for m in graph if m in _reach(graph, m))
    assert not cycles, f"modules that import themselves through others: {cycles}"
    assert {m for m, deps in graph.items() if "p20.cli" in deps} == {"p20.__main__"}


def test_research_zone_modules_never_reach_the_custodian_zone():
    graph = import_graph()
    assert RESEARCH_ZONE <= set(graph)
    reached = {m: sorted(_reach(graph, m) & CUSTODIAN_ZONE) for m in sorted(RESEARCH_ZONE)}
    assert not {m: r for m, r in reached.items() if r}


def test_loading_the_gate_and_audit_leaves_the_custodian_unimported():
    code = (
        "import sys, p20.gate, p20.audit, p20.release, p20.rotation; "
        "print(sorted(m for m in sys.modules if m in ('p20.custodian', 'p20.link')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert proc.stdout.strip() == "[]"
