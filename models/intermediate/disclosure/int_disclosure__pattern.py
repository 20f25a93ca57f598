"""Which published counts of the protected aggregates are hidden: one row per count of
int_disclosure__cells. The rules hide small groups and coded rates; a linear programme per
under-protected cell (HiGHS, scripts/p20/disclosure/protect.py) chooses the complementary
cells, until the attacker audit finds nothing."""


def model(dbt, session):
    dbt.config(materialized="table")
    from p20.disclosure import pattern, tables_of

    # dbt finds a model's refs in its own file: the two named here are the ones tables_of reads
    dbt.ref("int_disclosure__cells"), dbt.ref("int_disclosure__relations")
    return pattern(tables_of(dbt))
