"""`p20 report`: one self-contained HTML page of charts, report/index.html in the warehouse.

It reads the published snapshot, as a researcher would, and charts only what may be seen there:
the protected aggregates (meta.disclosure: protected_aggregate, checked in the build's manifest)
for researchers, and the load and release ledgers (internal audit marts) for auditors. Hidden
cells stay hidden: a suppressed, coded or withheld rate is embedded as null and drawn as a grey
gap. The page works offline, in a research enclave: the Vega, Vega-Lite and vega-embed scripts
(vl-convert's bundle, the one altair's own inline pages use) and every chart's data are inside
it, so opening it makes no request.
"""

import datetime as dt
import html
import json
from pathlib import Path
from string import Template

import altair as alt
import duckdb

from p20 import paths
from p20.errors import UsageError
from p20.textio import atomic_dir

TEMPLATE = Path(__file__).parent / "templates" / "report.html"

# The marts each part of the page reads, by the disclosure class their YAML must declare.
RESEARCH_MARTS = (
    "agg_grade8_algebra__district_subgroup",
    "agg_grade8_algebra__school_subgroup",
    "fct_school_index",
)
AUDIT_MARTS = ("fct_loads", "fct_load_expectations", "fct_releases")

RATES = {"pct_ready": "ready by end of grade 7", "pct_took_algebra1": "took Algebra I",
         "pct_passed_algebra1": "passed Algebra I"}
HIDDEN = "#d9d9d9"  # the grey of a gap: a hidden cell, never a value


def report() -> Path:
    """Write report/index.html from the published snapshot (in one step); return its path."""
    snapshot = paths.published_duckdb_path()
    if not snapshot.exists():
        raise UsageError(f"{snapshot}: no published snapshot yet; run `p20 build` first")
    check_disclosure_classes()
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        (build,) = con.sql("select invocation_id, build_started_at, published_at from main.published_build").fetchall()
        charts = [(section, title, chart.__doc__, chart(con)) for section, title, chart in CHARTS]
    finally:
        con.close()
    page = render(charts, build)
    with atomic_dir(paths.report_dir()) as tmp:
        (tmp / "index.html").write_text(page, encoding="utf-8")
    return paths.report_dir() / "index.html"


def check_disclosure_classes() -> None:
    """Refuse to chart a mart whose YAML no longer declares the class this page assumes."""
    from p20 import release

    public = release._public_marts()  # the one reading of the manifest, as audit does
    for marts, wanted in ((RESEARCH_MARTS, "protected_aggregate"), (AUDIT_MARTS, "internal")):
        for mart in marts:
            found = release.disclosure(public[mart]) if mart in public else None
            if found != wanted:
                raise UsageError(f"{mart}: the report charts it as {wanted}, but the last build's manifest "
                                 f"declares {found or 'no public mart of that name'}; the report was not written")


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    """A query's rows as JSON-ready dicts (dates and timestamps as ISO text, NULL as None)."""
    return [{k: v.isoformat() if isinstance(v, dt.date) else v for k, v in r.items()}
            for r in con.sql(sql).to_arrow_table().to_pylist()]


def with_data(chart: alt.TopLevelMixin, name: str, values: list[dict]) -> dict:
    """The chart's spec with its data inline under the mart's name (so a reader, or a test, can
    tell which mart every embedded value came from)."""
    spec = chart.to_dict()
    spec["datasets"] = {name: values}
    return spec


# ---- researchers ---------------------------------------------------------------------------

def algebra_by_subgroup(con) -> dict:
    """Ten years of the district's three rates, one row per subgroup: a heat map whose grey
    cells are the hidden ones (the tooltip says why; the mart's codes are reasons, not values)."""
    mart = "agg_grade8_algebra__district_subgroup"
    values = rows(con, f"""
        select school_year, subgroup_type, subgroup_value, n_students, is_suppressed,
               pct_ready, pct_ready_coded, pct_took_algebra1, pct_took_algebra1_coded,
               pct_passed_algebra1, pct_passed_algebra1_coded
        from marts.{mart} order by subgroup_type = 'all' desc, subgroup_type, subgroup_value, school_year""")

    def heat_map(rate: str, title: str, labelled: bool) -> alt.LayerChart:
        base = alt.Chart(alt.NamedData(name=mart)).transform_calculate(
            group="datum.subgroup_type == 'all' ? 'all students' : datum.subgroup_type + ': ' + datum.subgroup_value",
            pct=f"datum.{rate}",
            cell=f"datum.is_suppressed ? 'suppressed (fewer than 10 students, or hidden with such a group)'"
                 f" : datum.{rate} != null ? 'shown' : datum.{rate}_coded == 'withheld'"
                 f" ? 'withheld to protect another cell' : 'coded: ' + datum.{rate}_coded + ' percent'",
        )
        encode = dict(
            x=alt.X("school_year:O", title="school year (spring)"),
            y=alt.Y("group:N", title=None, sort=None, axis=alt.Axis(labelLimit=260) if labelled else None),
            tooltip=["group:N", "school_year:O", alt.Tooltip("pct:Q", title="percent", format=".1f"),
                     "cell:N", alt.Tooltip("n_students:Q", title="grade-8 students")],
        )
        gaps = base.mark_rect(color=HIDDEN).encode(**encode)
        shown = base.transform_filter("datum.pct != null")
        cells = shown.mark_rect().encode(
            color=alt.Color("pct:Q", title="percent", scale=alt.Scale(domain=[0, 100], scheme="viridis")), **encode)
        labels = shown.mark_text(fontSize=9).encode(
            text=alt.Text("pct:Q", format=".0f"),
            color=alt.condition("datum.pct > 60", alt.value("black"), alt.value("white")), **encode)
        return (gaps + cells + labels).properties(title=title, width=220, height=alt.Step(15))

    maps = [heat_map(rate, title, labelled=i == 0) for i, (rate, title) in enumerate(RATES.items())]
    return with_data(alt.hconcat(*maps).resolve_scale(color="shared"), mart, values)


def algebra_across_schools(con) -> dict:
    """Each school's all-students rates per year (a dot per school, a box for the spread),
    and under them how many schools' rates are shown and how many hidden."""
    mart = "agg_grade8_algebra__school_subgroup"
    values = rows(con, f"""
        select school_year, school_code, subgroup_type, subgroup_value, n_students, is_suppressed,
               pct_ready, pct_took_algebra1, pct_passed_algebra1
        from marts.{mart} where subgroup_type = 'all' order by school_year, school_code""")
    years = sorted({r["school_year"] for r in values})  # every panel on the same years, gaps and all
    x = alt.X("school_year:O", title="school year (spring)", scale=alt.Scale(domain=years))

    def spread(rate: str, title: str) -> alt.VConcatChart:
        base = alt.Chart(alt.NamedData(name=mart)).transform_calculate(
            pct=f"datum.{rate}", status=f"datum.{rate} == null ? 'hidden' : 'shown'")
        shown = base.transform_filter("datum.pct != null")
        boxes = shown.mark_boxplot(extent="min-max", opacity=0.5).encode(
            x=x, y=alt.Y("pct:Q", title="percent of the school's grade-8 students", scale=alt.Scale(domain=[0, 100])))
        dots = shown.mark_circle(size=18, color="black").encode(
            x=x, y="pct:Q",
            tooltip=["school_code:N", "school_year:O", alt.Tooltip("pct:Q", format=".1f"), "n_students:Q"])
        counts = base.mark_bar().encode(
            x=x, y=alt.Y("count():Q", title="schools"),
            color=alt.Color("status:N", scale=alt.Scale(domain=["shown", "hidden"], range=["#4c78a8", HIDDEN]),
                            title="school's rate"),
            tooltip=["school_year:O", "status:N", "count():Q"],
        )
        return alt.vconcat((boxes + dots).properties(title=title, width=240, height=200),
                           counts.properties(width=240, height=70))

    return with_data(alt.hconcat(*[spread(rate, title) for rate, title in RATES.items()]), mart, values)


def index_levels(con) -> dict:
    """The index score of every school per year (all students): the year's lowest 5% in red,
    the schools they are paired with (similar students, a better index) in green; beside it
    the latest year's two domain levels."""
    mart = "fct_school_index"
    values = rows(con, f"""
        select school_year, school_code, reporting_group, n_measures,
               round(academic_level, 2) as academic_level, round(non_academic_level, 2) as non_academic_level,
               round(index_score, 2) as index_score, round(index_percentile, 2) as index_percentile,
               is_lowest_performing, paired_school_code
        from marts.{mart} where reporting_group = 'all' order by school_year, school_code""")
    base = alt.Chart(alt.NamedData(name=mart)).transform_filter("datum.index_score != null")
    status = alt.Color("status:N", title=None, scale=alt.Scale(
        domain=["lowest 5%", "paired school", "other"], range=["#d62728", "#2ca02c", "#9e9e9e"]))
    tooltip = ["school_code:N", "school_year:O", "index_score:Q", "index_percentile:Q", "academic_level:Q",
               "non_academic_level:Q", "n_measures:Q", "paired_school_code:N"]
    marked = base.transform_joinaggregate(
        paired="values(paired_school_code)", groupby=["school_year"]
    ).transform_calculate(
        status="datum.is_lowest_performing ? 'lowest 5%' : "
               "indexof(pluck(datum.paired, 'paired_school_code'), datum.school_code) >= 0 ? 'paired school' : 'other'"
    )
    scores = marked.mark_circle(size=40, opacity=0.8).encode(
        x=alt.X("school_year:O", title="school year (spring)"),
        y=alt.Y("index_score:Q", title="index score (levels 1-10)", scale=alt.Scale(domain=[1, 10])),
        color=status, tooltip=tooltip,
    ).properties(width=420, height=260, title="Index score, all students")
    latest = marked.transform_joinaggregate(last="max(school_year)").transform_filter(
        "datum.school_year == datum.last"
    ).mark_circle(size=50).encode(
        x=alt.X("academic_level:Q", title="academic level", scale=alt.Scale(domain=[1, 10])),
        y=alt.Y("non_academic_level:Q", title="non-academic level", scale=alt.Scale(domain=[1, 10])),
        color=status, tooltip=tooltip,
    ).properties(width=260, height=260, title="Domain levels, latest year")
    return with_data(alt.hconcat(scores, latest), mart, values)


# ---- auditors ------------------------------------------------------------------------------

def loads(con) -> dict:
    """Every extract and school year: the outcome of its current load and how many attempts it
    took; and the load attempts over time by outcome."""
    mart = "fct_loads"
    values = rows(con, f"""
        select extract_name, school_year, outcome, is_current, n_rows, started_at
        from marts.{mart} order by started_at""")
    base = alt.Chart(alt.NamedData(name=mart))
    grid = base.transform_filter("datum.school_year != null").transform_calculate(
        is_current_num="datum.is_current ? 1 : 0", current_rows="datum.is_current ? datum.n_rows : null"
    ).transform_aggregate(
        attempts="count()", landed="sum(is_current_num)", rows="max(current_rows)",
        groupby=["extract_name", "school_year"],
    ).transform_calculate(outcome_current="datum.landed > 0 ? 'landed' : 'rejected'").mark_rect().encode(
        x=alt.X("school_year:O", title="school year (spring)"),
        y=alt.Y("extract_name:N", title=None),
        color=alt.Color("outcome_current:N", title="current load",
                        scale=alt.Scale(domain=["landed", "rejected"], range=["#4c78a8", "#d62728"])),
        tooltip=["extract_name:N", "school_year:O", alt.Tooltip("attempts:Q", title="load attempts"),
                 alt.Tooltip("rows:Q", title="rows of the current load"), "outcome_current:N"],
    ).properties(width=360, height=alt.Step(14), title="Current load of each extract and year")
    timeline = base.mark_bar().encode(
        x=alt.X("yearmonthdate(started_at):O", title="day a load started (days with loads only)"),
        y=alt.Y("count():Q", title="load attempts"),
        color=alt.Color("outcome:N", scale=alt.Scale(domain=["landed", "rejected"], range=["#4c78a8", "#d62728"])),
        tooltip=[alt.Tooltip("yearmonthdate(started_at):O", title="day"), "outcome:N", "count():Q"],
    ).properties(height=200, title="Load attempts over time")
    return with_data(alt.hconcat(grid, timeline), mart, values)


def validations(con) -> dict:
    """The Great Expectations results of every load attempt, per extract: passed, failed,
    could not be evaluated."""
    mart = "fct_load_expectations"
    values = rows(con, f"""
        select extract_name,
               case when could_not_evaluate then 'not evaluated' when is_success then 'passed' else 'failed' end
                   as result,
               count(*) as n_expectations, count(distinct attempt_id) as n_attempts
        from marts.{mart} group by all order by all""")
    chart = alt.Chart(alt.NamedData(name=mart)).mark_bar().encode(
        y=alt.Y("extract_name:N", title=None),
        x=alt.X("sum(n_expectations):Q", title="expectations checked, over every load attempt"),
        color=alt.Color("result:N", scale=alt.Scale(domain=["passed", "failed", "not evaluated"],
                                                    range=["#4c78a8", "#d62728", "#ff7f0e"])),
        tooltip=["extract_name:N", "result:N", alt.Tooltip("sum(n_expectations):Q", title="expectations"),
                 alt.Tooltip("max(n_attempts):Q", title="load attempts")],
    ).properties(width=520, height=alt.Step(14))
    return with_data(chart, mart, values)


def releases(con) -> dict:
    """Each data-sharing agreement's term (seeds.dsa_agreements) as a bar, its releases as
    dots on it (from fct_releases: released or refused), and today as a rule."""
    mart = "fct_releases"
    values = rows(con, f"""
        select a.dsa_id, a.signed_on, a.expires_on, r.release_id, r.outcome, r.n_tables, r.n_rows,
               r.finished_at, current_date as today
        from seeds.dsa_agreements a left join marts.{mart} r using (dsa_id)
        order by a.dsa_id, r.finished_at""")
    base = alt.Chart(alt.NamedData(name=mart))
    y = alt.Y("dsa_id:N", title=None)
    term = base.mark_bar(height=14, color="#c6dbef").encode(
        x=alt.X("min(signed_on):T", title=None), x2="max(expires_on):T", y=y,
        tooltip=["dsa_id:N", alt.Tooltip("min(signed_on):T", title="signed"),
                 alt.Tooltip("max(expires_on):T", title="expires")],
    )
    done = base.transform_filter("datum.release_id != null").mark_point(size=80, filled=True).encode(
        x="finished_at:T", y=y, color=alt.Color("outcome:N", title="release"),
        tooltip=["dsa_id:N", "release_id:N", "outcome:N", "n_tables:Q", "n_rows:Q", "finished_at:T"],
    )
    today = base.mark_rule(color="black", strokeDash=[4, 3]).encode(x="max(today):T")
    return with_data((term + done + today).properties(width=520, height=alt.Step(28)), mart, values)


# ---- the page ------------------------------------------------------------------------------

CHARTS = (
    ("researchers", "Algebra I by grade 8, by subgroup", algebra_by_subgroup),
    ("researchers", "Schools: the spread of their rates", algebra_across_schools),
    ("researchers", "School index", index_levels),
    ("auditors", "Loads", loads),
    ("auditors", "Validations", validations),
    ("auditors", "Releases against agreements", releases),
)


def render(charts: list[tuple[str, str, str, dict]], build: tuple) -> str:
    """The page: the template, one inline copy of the scripts, and each chart's spec as JSON
    (with `<` escaped, so no value can end its script element)."""
    sections = {"researchers": [], "auditors": []}
    for i, (section, title, about, spec) in enumerate(charts):
        mart = next(iter(spec["datasets"]))
        data = json.dumps(spec, allow_nan=False).replace("<", "\\u003c")
        sections[section].append(
            f'<h3>{html.escape(title)}</h3>\n<p class="about">{html.escape(" ".join(about.split()))} '
            f'From <code>marts.{mart}</code>.</p>\n<div class="chart" id="chart-{i}"></div>\n'
            f'<script type="application/json" class="spec" data-chart="chart-{i}">{data}</script>'
        )
    invocation_id, started, published = build
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        vega_script=vega_script(),
        researchers="\n".join(sections["researchers"]),
        auditors="\n".join(sections["auditors"]),
        build=f"dbt build {invocation_id}, started {started:%Y-%m-%d %H:%M} UTC, published {published:%Y-%m-%d %H:%M} UTC",
        snapshot=str(paths.published_duckdb_path()),
    )


def vega_script() -> str:
    """Vega, Vega-Lite (the version this altair writes) and vega-embed in one script that sets
    window.vegaEmbed; vl-convert bundles it from the copies inside its wheel, with no network."""
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert

    return vl_convert.javascript_bundle(vl_version=vl_version_for_vl_convert())
