"""k-anonymity of the student-level marts a release ships, measured and enforced in DuckDB.

The terms are data. An agreement that allows student-level rows names a k and the share of
rows whose quasi-identifiers may be suppressed (seeds/dsa_agreements.csv: min_k,
max_suppressed_share, min_l), and per mart its quasi-identifiers and outcome columns
(seeds/dsa_tables.csv: quasi_identifiers, sensitive_columns). How a column may be coarsened is
a hierarchy, also data (seeds/generalisation_levels.csv, with the value maps of
seeds/generalisation_groups.csv): level 1, 2, ... of a column, each a function of the original
value, the last usually `suppressed` (the whole column to null).

What a recipient can join is what is measured. Every student-level mart of a bundle is linked
by its person token (student_token; else its first token column): a mart's key is its own
quasi-identifiers plus those of every mart of the bundle with at most one row per token (such
as dim_students), since a join adds them to each row. One generalisation serves the whole
bundle (the same columns at the same level in every mart, declared there or not), and a
suppressed student has the bundle's quasi-identifier columns nulled in all their rows of
every mart, so no join gives back a value hidden elsewhere.

The search is greedy, step by step: while some mart has more than its share of rows in classes
under k, raise the one column whose next level leaves the fewest such rows (ties: the one that
keeps more classes). Then the students of the classes still under k are suppressed; if that
leaves a class of suppressed rows under k, the next-smallest class goes with it. A release is
refused, with the figures, when more than the agreed share of a mart's rows would be
suppressed. Counts are over rows of the released file, the unit a reader can single out.
"""

from dataclasses import dataclass, field
from functools import cache

import duckdb

from p20.errors import RejectedInput
from p20.policy import read_seed
from p20.textio import sql_str

SUPPRESSED = "suppressed"
SEP = "chr(31)"  # joins a class's values into one string key: no code or label contains it


@dataclass(frozen=True)
class Level:
    column: str
    level: int
    source: str  # "groups", "prefix:<n>", "<reference mart>:<col>[+<col>]" or "suppressed"
    description: str


@cache
def hierarchies() -> dict[str, tuple[Level, ...]]:
    """Column -> its levels 1..n (seeds/generalisation_levels.csv)."""
    levels: dict[str, list[Level]] = {}
    for row in read_seed("generalisation_levels"):
        levels.setdefault(row["column_name"], []).append(
            Level(row["column_name"], int(row["level"]), row["source"], row["description"]))
    for column, ls in levels.items():
        ls.sort(key=lambda x: x.level)
        if [x.level for x in ls] != list(range(1, len(ls) + 1)):
            raise ValueError(f"seeds/generalisation_levels.csv: levels of {column} are not 1, 2, ...")
    return {c: tuple(ls) for c, ls in levels.items()}


@cache
def _groups() -> dict[tuple[str, int], dict[str, str]]:
    maps: dict[tuple[str, int], dict[str, str]] = {}
    for row in read_seed("generalisation_groups"):
        maps.setdefault((row["column_name"], int(row["level"])), {})[row["value"]] = row["generalised_value"]
    return maps


@dataclass(frozen=True)
class Terms:
    k: int
    max_suppressed_share: float
    min_l: int | None


@dataclass
class Mart:
    """A student-level mart as released: its rows (warehouse tokens), person token and terms."""
    model: str
    rows_sql: str  # select of the released rows and columns, before re-keying
    columns: list[str]
    token: str | None
    quasi_identifiers: tuple[str, ...]
    sensitive: tuple[str, ...]
    one_per_token: bool = False
    linked: list["Mart"] = field(default_factory=list)  # marts whose quasi-identifiers a join adds

    def key_columns(self) -> list[tuple[str, str]]:
        """(column in the key table, base column name): own quasi-identifiers, then the linked."""
        own = [(q, q) for q in self.quasi_identifiers]
        return own + [(f"{d.model}__{q}", q) for d in self.linked for q in d.quasi_identifiers]


def person_token(columns: list[str], token_suffix: str) -> str | None:
    tokens = [c for c in columns if c.endswith(token_suffix)]
    return "student_token" if "student_token" in tokens else (tokens[0] if tokens else None)


# ---------------------------------------------------------------- generalisation as SQL


def _run(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """A statement whose result (a row count) nobody reads: fetched, so the connection is free."""
    con.execute(sql).fetchall()


def prepare_lookups(con: duckdb.DuckDBPyConnection, columns: set[str], reference_marts: set[str], schema: str) -> None:
    """One table gen_<column>_<level>(value, generalised) per looked-up level of `columns`."""
    for column in sorted(columns):
        for lv in hierarchies().get(column, ()):
            table = f"gen_{column}_{lv.level}"
            if lv.source == "groups":
                pairs = _groups().get((column, lv.level), {})
                values = ", ".join(f"({sql_str(a)}, {sql_str(b)})" for a, b in sorted(pairs.items())) or "(null, null)"
                _run(con, f"create or replace temp table {table} as select * from (values {values}) as t(value, generalised)")
            elif ":" in lv.source and not lv.source.startswith("prefix:"):
                mart, parts = lv.source.split(":", 1)
                if mart not in reference_marts:
                    raise ValueError(f"seeds/generalisation_levels.csv: {column} level {lv.level} looks up {mart}, "
                                     "which is not a reference mart (meta.disclosure)")
                value = "concat_ws(' ', " + ", ".join(parts.split("+")) + ")"
                # a school keeps its level and district across years; max() picks one if not
                _run(con, f"create or replace temp table {table} as select cast({column} as varchar) as value, "
                            f"max({value}) as generalised from wh.{schema}.{mart} group by 1")


def generalised(ref: str, column: str, level: int, alias: str) -> tuple[str, str]:
    """(expression, join clause) for `ref` (a column of base name `column`) at `level`."""
    if level == 0:
        return ref, ""
    lv = hierarchies()[column][level - 1]
    if lv.source == SUPPRESSED:
        return f"(case when false then {ref} end)", ""  # null of the column's own type
    if lv.source.startswith("prefix:"):
        return f"left(cast({ref} as varchar), {int(lv.source.split(':')[1])})", ""
    return f"{alias}.generalised", f"left join gen_{column}_{level} as {alias} on cast({ref} as varchar) = {alias}.value"


def describe(levels: dict[str, int]) -> dict[str, str]:
    return {c: f"level {n}: {hierarchies()[c][n - 1].description}" for c, n in sorted(levels.items()) if n}


# ---------------------------------------------------------------- measuring and choosing


def _key_sql(mart: Mart, levels: dict[str, int], suppressed: bool) -> tuple[str, str]:
    """(key expression, joins) of mart's generalised key over rows `r`; with `suppressed`, the
    rows of suppressed students have every value null."""
    parts, joins = [], []
    for i, (col, base) in enumerate(mart.key_columns()):
        expr, join = generalised(f"r.{col}", base, levels.get(base, 0), f"g{i}")
        parts.append(f"coalesce(cast({expr} as varchar), '')")
        joins.append(join)
    key = f"concat_ws({SEP}, {', '.join(parts)})" if parts else "''"
    if suppressed:
        key = f"case when s.person is null then {key} end"
        joins.append("left join anon_suppressed as s on r.person = s.person")
    return key, " ".join(joins)


def _prepare(con: duckdb.DuckDBPyConnection, marts: list[Mart]) -> None:
    for m in marts:
        token = m.token or "null"
        _run(con, f"create or replace temp table anon_rows_{m.model} as select {token} as person, "
                    f"{', '.join(m.quasi_identifiers)} from ({m.rows_sql})")
        m.one_per_token = bool(m.token) and con.execute(
            f"select count(*) = count(distinct person) and count(person) = count(*) from anon_rows_{m.model}").fetchall()[0][0]
    for m in marts:
        m.linked = [d for d in marts if d is not m and d.one_per_token and d.token and d.token == m.token]
        select = ["r.*"] + [f"l{i}.{q} as {d.model}__{q}" for i, d in enumerate(m.linked) for q in d.quasi_identifiers]
        joins = [f"left join anon_rows_{d.model} as l{i} on r.person = l{i}.person" for i, d in enumerate(m.linked)]
        _run(con, f"create or replace temp table anon_key_{m.model} as select {', '.join(select)} "
                    f"from anon_rows_{m.model} as r {' '.join(joins)}")
        cols = ", ".join(c for c, _ in m.key_columns())
        _run(con, f"create or replace temp table anon_counts_{m.model} as select {cols}, count(*) as n "
                    f"from anon_key_{m.model} group by all")


def _under_k(con, mart: Mart, levels: dict[str, int], k: int) -> tuple[int, int, int]:
    """(rows in classes under k, rows, classes) of mart at `levels`, before suppression."""
    key, joins = _key_sql(mart, levels, suppressed=False)
    return con.execute(
        f"select coalesce(sum(n) filter (where n < {k}), 0), coalesce(sum(n), 0), count(*) from ("
        f"select {key} as class, sum(r.n) as n from anon_counts_{mart.model} as r {joins} group by 1)").fetchall()[0]


@dataclass
class Plan:
    levels: dict[str, int]
    suppressed_columns: set[str]  # the bundle's quasi-identifier names, nulled for suppressed students
    figures: dict[str, dict]  # mart -> rows, rows_suppressed


def protect(con: duckdb.DuckDBPyConnection, marts: list[Mart], terms: Terms, where: str) -> Plan:
    """Choose the bundle's generalisation and suppressed students (table anon_suppressed);
    refuse when a mart would lose more than its share of rows to suppression."""
    _prepare(con, marts)
    order = list(dict.fromkeys(q for m in marts for q in m.quasi_identifiers))
    levels = {q: 0 for q in order}
    _run(con, "create or replace temp table anon_suppressed (person varchar primary key)")

    def within(figures: dict[str, tuple[int, int]]) -> bool:
        return all(lost <= terms.max_suppressed_share * rows for lost, rows in figures.values())

    while True:
        candidates = [q for q in order if levels[q] < len(hierarchies().get(q, ()))]
        if within({m.model: _under_k(con, m, levels, terms.k)[:2] for m in marts}) or not candidates:
            figures = _suppress(con, marts, levels, terms.k)
            if within(figures):
                return Plan(levels, set(order), {m: {"rows": n, "rows_suppressed": lost} for m, (lost, n) in figures.items()})
            if not candidates:
                model, (lost, rows) = max(figures.items(), key=lambda x: x[1][0] / max(x[1][1], 1))
                raise RejectedInput(
                    f"{where}: k = {terms.k} would suppress the quasi-identifiers of {lost} of {rows} rows of {model} "
                    f"({lost / max(rows, 1):.1%}; max_suppressed_share {terms.max_suppressed_share:.1%}, "
                    "seeds/dsa_agreements.csv) even with every column at its coarsest level "
                    f"(seeds/generalisation_levels.csv); nothing released")

        def under(step: tuple[str, ...]) -> tuple[float, int]:
            """(sum over marts of the share of rows in classes under k, classes) after `step`;
            shares, not rows, so that a mart of many rows does not outvote the others."""
            trial = {**levels, **{q: levels[q] + 1 for q in step}}
            results = [_under_k(con, m, trial, terms.k) for m in marts]
            return sum(u / max(n, 1) for u, n, _ in results), sum(r[2] for r in results)

        def score(step: tuple[str, ...], now: float) -> tuple[float, int]:
            # rows brought up to k per unit of precision lost: one step of a column with n
            # levels loses 1/n of it (Sweeney's precision metric, every column weighing alike)
            share, classes = under(step)
            return (now - share) / sum(1 / len(hierarchies()[q]) for q in step), classes

        now = under(())[0]
        best = max(((q,) for q in candidates), key=lambda step: score(step, now))  # first of equals: declared order
        if score(best, now)[0] <= 0 and len(candidates) > 1:
            # no one column helps alone (two columns tell the same thing, as el_status and
            # is_english_learner do): look two steps ahead rather than coarsen for nothing
            pairs = [(a, b) for i, a in enumerate(candidates) for b in candidates[i + 1:]]
            pair = max(pairs, key=lambda step: score(step, now))
            best = pair if score(pair, now)[0] > 0 else best
        for q in best:
            levels[q] += 1


def _suppress(con, marts: list[Mart], levels: dict[str, int], k: int) -> dict[str, tuple[int, int]]:
    """Fill anon_suppressed until every class of every mart has k rows or none. Returns
    mart -> (rows suppressed, rows)."""
    _run(con, "delete from anon_suppressed")
    while True:
        before = con.execute("select count(*) from anon_suppressed").fetchall()[0][0]
        for m in marts:
            key, joins = _key_sql(m, levels, suppressed=True)
            _run(con, f"create or replace temp table anon_classes as select r.person, {key} as class "
                        f"from anon_key_{m.model} as r {joins}")
            _run(con, "create or replace temp table anon_sizes as select class, count(*) as n from anon_classes group by 1")
            con.execute(f"""create or replace temp table anon_small as
                select class from anon_sizes where class is not null and n < {k}
                union all
                -- the suppressed rows are a class too: when it is under k, the next-smallest goes with it
                select * from (select class from anon_sizes where class is not null order by n, class limit 1)
                where (select coalesce(sum(n), 0) from anon_sizes where class is null) between 1 and {k - 1}
                  and not exists (select 1 from anon_sizes where class is not null and n < {k})""")
            _run(con, "insert or ignore into anon_suppressed select distinct person from anon_classes "
                        "where class in (select class from anon_small) and person is not null")
        if con.execute("select count(*) from anon_suppressed").fetchall()[0][0] == before:
            break
    return {m.model: con.execute(
        f"select count(s.person), count(*) from anon_rows_{m.model} as r "
        "left join anon_suppressed as s on r.person = s.person").fetchall()[0] for m in marts}


def released_column(mart_token: str | None, column: str, plan: Plan, alias: str, ref: str) -> tuple[str, str]:
    """(expression, join) of a released column of a student-level mart under the plan."""
    expr, join = generalised(ref, column, plan.levels.get(column, 0), alias)
    if column in plan.suppressed_columns and mart_token:
        expr = f"case when released.{mart_token} not in (select person from anon_suppressed) then {expr} end"
    return expr, join


# ---------------------------------------------------------------- the released files


def measure(con: duckdb.DuckDBPyConnection, marts: list[Mart], files: dict[str, str]) -> dict[str, dict]:
    """k, classes and l-diversity of each student-level mart as a recipient sees it: its
    released Parquet file joined to the released files of its linked marts. l of a sensitive
    column is its fewest distinct values (null counting as one) in any class."""
    out = {}
    for m in marts:
        select = [f"r.{q}" for q in m.quasi_identifiers] + [f"l{i}.{q}" for i, d in enumerate(m.linked) for q in d.quasi_identifiers]
        joins = " ".join(f"left join read_parquet({files[d.model]}) as l{i} on r.{m.token} = l{i}.{d.token}"
                         for i, d in enumerate(m.linked))
        key = " || chr(31) || ".join(f"coalesce(cast({c} as varchar), '')" for c in select) or "''"
        sens = "".join(f", count(distinct coalesce(cast(r.{c} as varchar), '')) as l_{c}" for c in m.sensitive)
        _run(con, f"create or replace temp table anon_measure as select {key} as class, count(*) as n{sens} "
                    f"from read_parquet({files[m.model]}) as r {joins} group by 1")
        k_achieved, classes = con.execute("select min(n), count(*) from anon_measure").fetchall()[0]
        l_div = {c: dict(zip(("l", "classes_with_one_value"), con.execute(
            f"select min(l_{c}), count(*) filter (where l_{c} = 1) from anon_measure").fetchall()[0], strict=True))
            for c in m.sensitive}
        out[m.model] = {"k_achieved": k_achieved, "classes": classes, "l_diversity": l_div,
                        "quasi_identifiers": list(m.quasi_identifiers),
                        "linked_quasi_identifiers": {d.model: list(d.quasi_identifiers) for d in m.linked}}
    return out


def marts_of_record(record: dict, token_suffix: str) -> list[Mart]:
    """The student-level marts of a written bundle, as its release.json describes them, for
    measuring again what the files hold (p20 audit)."""
    tables = {m: t for m, t in record["tables"].items() if "anonymity" in t}
    marts = {m: Mart(model=m, rows_sql="", columns=t["columns"], token=person_token(t["columns"], token_suffix),
                     quasi_identifiers=tuple(t["anonymity"]["quasi_identifiers"]),
                     sensitive=tuple(t["anonymity"]["l_diversity"])) for m, t in tables.items()}
    for m, t in tables.items():
        marts[m].linked = [marts[d] for d in t["anonymity"]["linked_quasi_identifiers"]]
    return list(marts.values())
