"""Project rules over dbt's manifest (the dbt-project-evaluator rules, which cannot be
installed here): naming by layer, no mart reading a source, public models contracted,
documented and primary-key tested, no staging model joining two sources."""

import json

import pytest


@pytest.fixture(scope="module")
def manifest(tiny_run):
    return json.loads((tiny_run.warehouse / "dbt" / "target" / "manifest.json").read_text())


def _models(manifest):
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def _tests_on(manifest, unique_id):
    return [
        n for n in manifest["nodes"].values()
        if n["resource_type"] == "test" and unique_id in n["depends_on"]["nodes"]
    ]


LAYER_PREFIX = {"staging": ("stg_",), "intermediate": ("int_",), "marts": ("dim_", "fct_", "agg_")}


def test_models_are_named_for_their_layer(manifest):
    models = _models(manifest)
    assert len(models) >= 10
    for m in models:
        layer = m["fqn"][1]
        assert layer in LAYER_PREFIX, f"{m['name']} is outside staging/intermediate/marts"
        assert m["name"].startswith(LAYER_PREFIX[layer]), f"{m['name']} in {layer}"
        if layer == "staging":
            source = m["fqn"][2]
            assert m["name"].startswith(f"stg_{source}__"), m["name"]


def test_only_staging_reads_sources_and_from_one_source_table(manifest):
    for m in _models(manifest):
        sources = [d for d in m["depends_on"]["nodes"] if d.startswith("source.")]
        if m["fqn"][1] == "staging":
            assert len(sources) == 1, f"{m['name']} reads {sources}"
        else:
            assert not sources, f"{m['name']} reads a source directly: {sources}"


def test_public_marts_are_contracted_documented_and_key_tested(manifest):
    marts = [m for m in _models(manifest) if m["fqn"][1] == "marts"]
    assert marts
    for m in marts:
        assert m["access"] == "public", m["name"]
        assert m["config"]["contract"]["enforced"], m["name"]
        assert m["description"].strip(), m["name"]
        assert m["description"].strip().startswith("One row per"), f"{m['name']}: grain first"
        for name, col in m["columns"].items():
            assert col["description"].strip(), f"{m['name']}.{name} has no description"
            assert col.get("data_type"), f"{m['name']}.{name} has no data type"
        key_tests = [
            t for t in _tests_on(manifest, m["unique_id"])
            if t.get("test_metadata", {}).get("name") in ("unique", "unique_combination")
        ]
        assert key_tests, f"{m['name']} has no primary-key test"


def test_every_model_states_its_grain(manifest):
    for m in _models(manifest):
        assert m["description"].strip().startswith("One row per"), m["name"]


def test_token_columns_are_tagged(manifest):
    for m in _models(manifest):
        for name, col in m["columns"].items():
            if name.endswith("_token"):
                assert col.get("meta", {}).get("token") is True, f"{m['name']}.{name}"


def test_docs_generate_and_every_built_column_is_documented(tiny_run, tmp_path):
    """`dbt docs generate` succeeds, and every column of every public model as built in the
    warehouse (dbt's catalog) has a description."""
    from conftest import copy_zones

    zones = copy_zones(tiny_run, tmp_path / "docs")
    zones.p20("docs", check=True)
    target = zones.warehouse / "dbt" / "docs"
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    public = [m for m in _models(manifest) if m.get("access") == "public"]
    assert len(public) >= 14
    for m in public:
        built = catalog["nodes"][m["unique_id"]]["columns"]
        documented = {name.lower() for name, col in m["columns"].items() if col["description"].strip()}
        missing = sorted(c for c in built if c.lower() not in documented)
        assert not missing, f"{m['name']}: undocumented columns {missing}"


DISCLOSURE_CLASSES = {"student_level", "protected_aggregate", "internal", "reference"}


def test_every_mart_declares_its_disclosure_class(manifest):
    """Release, audit and the disclosure tests select marts by `meta.disclosure`, never by name:
    a mart without a class (or with an unknown one) could leave in a bundle unchecked."""
    marts = [m for m in _models(manifest) if m["fqn"][1] == "marts"]
    for m in marts:
        assert m["config"]["meta"].get("disclosure") in DISCLOSURE_CLASSES, m["name"]
    protected = {m["name"] for m in marts if m["config"]["meta"]["disclosure"] == "protected_aggregate"}
    assert {"fct_school_measures", "agg_grade8_algebra__school_subgroup"} <= protected


def test_no_published_double_carries_more_digits_than_its_documented_precision(tiny_run, manifest):
    """Every double a protected aggregate publishes declares its precision (column
    `meta.precision`, decimals) and carries no more: 2.7600000000000002 is float noise, not an
    index score, and a rate shown to more digits than it means tells an outsider more."""
    import duckdb

    marts = {m["name"]: m for m in _models(manifest)
             if m["fqn"][1] == "marts" and m["config"]["meta"].get("disclosure") == "protected_aggregate"}
    con = duckdb.connect(str(tiny_run.warehouse / "published" / "p20.duckdb"), read_only=True)
    try:
        doubles = con.execute("select table_name, column_name from duckdb_columns() where schema_name = 'marts' "
                              "and data_type in ('DOUBLE', 'FLOAT') order by all").fetchall()
        undeclared, noisy = [], []
        for table, column in doubles:
            if table not in marts:
                continue
            precision = (marts[table]["columns"].get(column, {}).get("meta") or {}).get("precision")
            if not isinstance(precision, int):
                undeclared.append(f"{table}.{column}")
                continue
            [(n,)] = con.execute(f'select count(*) from marts."{table}" where abs("{column}" - '
                                 f'round("{column}", {precision})) > 1e-9').fetchall()
            if n:
                noisy.append(f"{table}.{column}: {n} values past {precision} decimals")
    finally:
        con.close()
    assert {t for t, _ in doubles} & set(marts), "no protected aggregate publishes a double"
    assert not undeclared, f"doubles without meta.precision: {undeclared}"
    assert not noisy, noisy
