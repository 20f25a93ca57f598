"""A rebuild reuses the disclosure pattern only when it was solved from the same inputs
(scripts/p20/disclosure/reuse.py): the same rows in any order, the same rules, the same code.
One changed count, one changed relation or one changed rule means a new solve."""

import duckdb
import pyarrow as pa
import pytest

from p20.disclosure.reuse import FINGERPRINT_COLUMN, fingerprint, solved_before

BANDS = [[10, 20], [20, 10]]


@pytest.fixture
def inputs():
    cells = pa.table({"mart": ["m"] * 4, "cell_key": ["a", "b", "c", "d"], "count_name": ["n"] * 4,
                      "value": [3, 12, 0, 40]})
    relations = pa.table({"relation_id": [1, 1, 1], "cell_key": ["a", "b", "d"], "coefficient": [1, 1, -1]})
    return cells, relations


def test_the_fingerprint_ignores_row_order_and_sees_every_change(inputs):
    cells, relations = inputs
    base = fingerprint(cells, relations, 10, BANDS)
    assert fingerprint(cells.take([3, 1, 0, 2]), relations.take([2, 0, 1]), 10, BANDS) == base
    one_count_more = cells.set_column(3, "value", pa.array([3, 12, 1, 40]))
    two_counts_swapped = cells.set_column(3, "value", pa.array([12, 3, 0, 40]))
    other_relation = relations.set_column(2, "coefficient", pa.array([1, 1, 1]))
    assert len({base,
                fingerprint(one_count_more, relations, 10, BANDS),
                fingerprint(two_counts_swapped, relations, 10, BANDS),
                fingerprint(cells, other_relation, 10, BANDS),
                fingerprint(cells.slice(0, 3), relations, 10, BANDS),
                fingerprint(cells, relations, 11, BANDS),
                fingerprint(cells, relations, 10, [[10, 20], [20, 5]])}) == 7


def test_only_a_whole_pattern_of_the_same_fingerprint_is_reused():
    con = duckdb.connect()
    assert solved_before(con, "intermediate.int_disclosure__pattern", "f" * 64) is None  # first build
    con.execute("create table old_pattern as select range as variable_id, true as is_hidden from range(3)")
    assert solved_before(con, "old_pattern", "f" * 64) is None  # built before the fingerprint
    con.execute(f"create or replace table pattern as select range as variable_id, range = 1 as is_hidden, "
                f"'{'f' * 64}' as {FINGERPRINT_COLUMN} from range(3)")
    reused = solved_before(con, "pattern", "f" * 64)
    assert reused is not None and reused.column("is_hidden").to_pylist() == [False, True, False]
    assert solved_before(con, "pattern", "e" * 64) is None
    con.execute(f"update pattern set {FINGERPRINT_COLUMN} = '{'e' * 64}' where variable_id = 2")
    assert solved_before(con, "pattern", "f" * 64) is None  # a mixed table is never half reused
