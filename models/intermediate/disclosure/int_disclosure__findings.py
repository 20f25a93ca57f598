"""The attacker audit of the published aggregates as built: one row per way a hidden or coded
count can be solved for from every published table at once (scripts/p20/disclosure/attack.py).
Empty when the promise holds; the test assert_no_disclosure_findings fails the build otherwise."""


def model(dbt, session):
    dbt.config(materialized="table")
    from p20.disclosure import audit, hidden_from, linked_tables

    tables = linked_tables(
        dbt.ref("int_disclosure__cells").fetch_arrow_table(),
        dbt.ref("int_disclosure__relations").fetch_arrow_table(),
        dbt.config.get("min_group_size"),
        dbt.config.get("pct_coding_bands"),
    )
    return audit(tables, hidden_from(tables, dbt.ref("int_disclosure__pattern").fetch_arrow_table()))
