"""`p20 report`: one HTML page of charts from the published snapshot that works offline, embeds
only protected aggregates (and the audit ledgers) with every hidden cell as null, and draws every
chart in a real browser (headless Chromium, the system's package) with the network off."""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import duckdb
import pytest

from conftest import copy_zones
from p20.report import AUDIT_MARTS, RESEARCH_MARTS

# The columns that name a cell of a protected mart (the rest are its values).
KEYS = ("school_year", "school_code", "subgroup_type", "subgroup_value", "reporting_group")


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """What the tests read from a page: every resource address, the charts' specs, and per
    chart the items drawn inside Vega's data-mark groups (class role-mark, not axes or legends)."""

    def __init__(self, text: str):
        super().__init__()
        self.sources, self.specs, self.marks = [], [], {}
        self._stack, self._spec = [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.sources += [v for k, v in attrs if k in ("src", "href", "data", "poster", "srcset") and v]
        chart = a["id"] if (a.get("id") or "").startswith("chart-") else (self._stack[-1][1] if self._stack else None)
        if chart is not None:
            self.marks.setdefault(chart, 0)
            if self._stack and "role-mark" in self._stack[-1][2].split():
                self.marks[chart] += 1
        if tag == "script" and "spec" in (a.get("class") or "").split():
            self._spec = []
        if tag not in VOID:
            self._stack.append((tag, chart, a.get("class") or ""))

    def handle_endtag(self, tag):
        if tag == "script" and self._spec is not None:
            self.specs.append(json.loads("".join(self._spec)))
            self._spec = None
        if any(t == tag for t, _, _ in self._stack):
            while self._stack.pop()[0] != tag:
                pass

    def handle_data(self, data):
        if self._spec is not None:
            self._spec.append(data)


@pytest.fixture(scope="module")
def reported(tiny_run, tmp_path_factory):
    """tiny_run's warehouse, copied, with a report written by `p20 report` (not the demo's)."""
    zones = copy_zones(tiny_run, tmp_path_factory.mktemp("report"))
    shutil.rmtree(zones.warehouse / "report", ignore_errors=True)
    proc = zones.p20("report", check=True)
    return zones, proc


def test_report_is_one_page_in_the_warehouse_that_makes_no_request(reported):
    zones, proc = reported
    page_path = zones.warehouse / "report" / "index.html"
    assert str(page_path) in proc.stdout
    text = page_path.read_text(encoding="utf-8")
    page = Page(text)
    assert len(page.specs) == 6 and set(page.marks) == {f"chart-{i}" for i in range(6)}
    remote = [s for s in page.sources if re.match(r"\s*(https?:)?//", s)]
    assert not remote, f"the page loads from the network: {remote}"
    assert not re.search(r"<script[^>]+src=|<link[^>]+stylesheet|@import|url\(\s*['\"]?(https?:)?//", text)
    # every chart's data is inline: no spec names a data URL
    assert not re.search(r'"url"\s*:', json.dumps(page.specs))
    assert "window.vegaEmbed=" in text  # the scripts are inline too


def test_report_needs_a_published_snapshot_and_writes_nothing_without_one(zones):
    proc = zones.p20("report")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"p20: {zones.warehouse / 'published' / 'p20.duckdb'}: no published snapshot yet; run `p20 build` first"
    ]
    assert not (zones.warehouse / "report").exists()


def test_report_refuses_a_mart_no_longer_declared_protected(tiny_run, tmp_path):
    zones = copy_zones(tiny_run, tmp_path)
    before = (zones.warehouse / "report" / "index.html").read_bytes()  # the demo's
    manifest_path = zones.warehouse / "dbt" / "target" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    node = next(n for n in manifest["nodes"].values() if n["name"] == "fct_school_index")
    node["config"]["meta"]["disclosure"] = "student_level"
    manifest_path.write_text(json.dumps(manifest))
    proc = zones.p20("report")
    assert proc.returncode == 2
    assert "fct_school_index: the report charts it as protected_aggregate" in proc.stderr
    assert "declares student_level" in proc.stderr and "Traceback" not in proc.stderr
    assert (zones.warehouse / "report" / "index.html").read_bytes() == before


def test_report_embeds_no_student_token_and_only_the_protected_and_audit_marts(reported):
    zones, _ = reported
    text = (zones.warehouse / "report" / "index.html").read_text(encoding="utf-8")
    assert "student_token" not in text
    con = duckdb.connect(str(zones.warehouse / "published" / "p20.duckdb"), read_only=True)
    tokens = {t for (t,) in con.sql("select distinct student_token from marts.dim_students").fetchall()}
    con.close()
    assert len(tokens) > 100
    assert not tokens & set(re.findall(r"[0-9A-Za-z_-]{16,}", text))
    names = {name for spec in Page(text).specs for name in spec["datasets"]}
    assert names == set(RESEARCH_MARTS) | set(AUDIT_MARTS)


def test_report_embeds_every_hidden_cell_of_a_protected_mart_as_null(reported):
    zones, _ = reported
    page = Page((zones.warehouse / "report" / "index.html").read_text(encoding="utf-8"))
    con = duckdb.connect(str(zones.warehouse / "published" / "p20.duckdb"), read_only=True)
    checked = suppressed = 0
    for spec in page.specs:
        (mart, embedded), = spec["datasets"].items()
        if mart not in RESEARCH_MARTS:
            continue
        table = con.sql(f"select * from marts.{mart}").to_arrow_table().to_pylist()
        keys = [k for k in KEYS if k in table[0]]
        cells = {tuple(r[k] for k in keys): r for r in table}
        for row in embedded:
            truth = cells[tuple(row[k] for k in keys)]
            for column, value in row.items():
                if column in keys or column == "is_suppressed":
                    continue
                if truth.get("is_suppressed") or truth[column] is None:
                    assert value is None, f"{mart} {[row[k] for k in keys]}: {column} is hidden but embedded"
                checked += 1
            suppressed += bool(truth.get("is_suppressed"))
    con.close()
    assert checked > 1000 and suppressed > 100  # tiny suppresses most cells: the check is not vacuous


def _chromium(*args: str, profile) -> subprocess.CompletedProcess:
    """Headless Chromium with the network off (every request goes to a closed local port and no
    name resolves), logging the page's console to stderr."""
    browser = shutil.which("chromium")
    if browser is None:
        pytest.fail("chromium is not installed (Debian: apt-get install -y chromium; .ci/run does it)")
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=5000", "--window-size=1400,4200", *args],
        capture_output=True, text=True, timeout=120,
    )


def test_report_draws_every_chart_in_headless_chromium_offline(reported, tmp_path):
    zones, _ = reported
    url = (zones.warehouse / "report" / "index.html").as_uri()
    dom = _chromium("--dump-dom", url, profile=tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-charts="drawn"' in dom.stdout, "the page did not say every chart was drawn"
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    errors = [line for line in console if re.search(r"ERROR|Uncaught|Failed to load|net::ERR", line)]
    assert not errors, errors
    page = Page(dom.stdout)
    assert len(page.marks) == 6
    assert "<svg" in dom.stdout
    empty = [chart for chart, n in page.marks.items() if n == 0]
    assert not empty, f"charts drawn with no marks: {empty}"
    shot = tmp_path / "report.png"
    assert _chromium(f"--screenshot={shot}", url, profile=tmp_path / "profile").returncode == 0
    assert shot.stat().st_size > 50_000
