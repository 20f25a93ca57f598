"""Which published counts of the protected aggregates are hidden: one row per count of
int_disclosure__cells. The rules hide small groups and coded rates; a linear programme per
under-protected cell (HiGHS, scripts/p20/disclosure/protect.py) chooses the complementary
cells, until the attacker audit finds nothing. A rebuild from the same cells, relations, rules
and solver code reuses the pattern it replaces (scripts/p20/disclosure/reuse.py)."""


def model(dbt, session):
    dbt.config(materialized="table")
    import pyarrow as pa

    from p20.disclosure import linked_tables, pattern
    from p20.disclosure.reuse import FINGERPRINT_COLUMN, fingerprint, solved_before

    cells = dbt.ref("int_disclosure__cells").fetch_arrow_table()
    relations = dbt.ref("int_disclosure__relations").fetch_arrow_table()
    min_group_size, bands = dbt.config.get("min_group_size"), dbt.config.get("pct_coding_bands")
    inputs = fingerprint(cells, relations, min_group_size, bands)
    previous = solved_before(session, str(dbt.this), inputs)
    if previous is not None:
        return previous
    solved = pattern(linked_tables(cells, relations, min_group_size, bands))
    return solved.append_column(FINGERPRINT_COLUMN, pa.array([inputs] * len(solved), pa.string()))
