"""The attacker audit of the published aggregates as built: one row per way a hidden or coded
count can be solved for from every published table at once (scripts/p20/disclosure/attack.py).
Empty when the promise holds; the test assert_no_disclosure_findings fails the build otherwise."""


def model(dbt, session):
    dbt.config(materialized="table")
    from p20.disclosure import audit, hidden_from, tables_of

    # dbt finds a model's refs in its own file: the two named here are the ones tables_of reads
    dbt.ref("int_disclosure__cells"), dbt.ref("int_disclosure__relations")
    tables = tables_of(dbt)
    return audit(tables, hidden_from(tables, dbt.ref("int_disclosure__pattern").fetch_arrow_table()))
