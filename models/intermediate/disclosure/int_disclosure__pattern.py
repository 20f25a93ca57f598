"""Which published counts of the protected aggregates are hidden: one row per count of
int_disclosure__cells. The rules hide small groups and coded rates; a linear programme per
under-protected cell (HiGHS, scripts/p20/disclosure/protect.py) chooses the complementary
cells, until the attacker audit finds nothing."""


def model(dbt, session):
    dbt.config(materialized="table")
    from p20.disclosure import linked_tables, pattern

    tables = linked_tables(
        dbt.ref("int_disclosure__cells").fetch_arrow_table(),
        dbt.ref("int_disclosure__relations").fetch_arrow_table(),
        dbt.config.get("min_group_size"),
        dbt.config.get("pct_coding_bands"),
    )
    return pattern(tables)
