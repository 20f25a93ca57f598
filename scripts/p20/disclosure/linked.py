"""The published aggregates as one set of linked tables: every count a protected mart publishes
or hides is a variable, and the relations an outsider knows between them (groups add up to
their unit, schools to the district, a count stays within its denominator, one table's students
are among another's) are linear rows. Built from the dbt models int_disclosure__cells and
int_disclosure__relations; used by the protection (protect.py) and the attacker audit
(attack.py), so both reason about the same tables.

What an outsider knows of a hidden count from the published rules alone (`a_priori`): a hidden
group may have no students at all (every protected mart has a row for every group of every
unit, macros/disclosure.sql: disclosure_grid); a count lies within its shown
denominator; a top/bottom code bounds its count to the code's band; 'withheld' beside a shown
denominator of at least the minimum group size means the rate was not coded.
"""

import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

# An upper bound no count reaches (a district's students over all years and tests).
UNBOUNDED = 1e9


@dataclass
class LinkedTables:
    mart: np.ndarray  # per variable: the published mart
    cell_key: np.ndarray  # the published row ('|'-joined key columns)
    count_name: np.ndarray  # the published column
    value: np.ndarray  # the true count (never published where hidden)
    is_size: np.ndarray  # the cell's group size (n_students), not an outcome count
    denominator: np.ndarray  # index of the count's denominator variable, -1 for sizes
    rate_code: np.ndarray  # the code its rate gets by rule ('<=b', '>=c') or None
    is_coded_rate: np.ndarray  # its rate is subject to top/bottom coding
    is_unit_total: np.ndarray  # the all-students row of a school or the district
    row: np.ndarray  # index of the published row (mart, cell_key) the variable sits in
    relations: csr_matrix  # relation x variable coefficients
    is_equality: np.ndarray  # per relation: '=' (else '<=' 0)
    pooled: csr_matrix  # relation x variable: a pooled cell (-1) and the cells it adds up (+1)
    min_group_size: int
    bands: list  # [(min_students, bound_pct)], ascending

    @functools.cached_property
    def relations_csc(self):
        return self.relations.tocsc()

    @functools.cached_property
    def unbounded(self) -> float:
        """A bound above every count (a smaller one than UNBOUNDED keeps the LPs well scaled)."""
        return 2.0 * float(self.value.max(initial=0)) + 10.0

    @property
    def n(self) -> int:
        return len(self.value)

    @classmethod
    def from_arrow(cls, cells: pa.Table, relations: pa.Table, min_group_size: int, bands) -> "LinkedTables":
        """From int_disclosure__cells and int_disclosure__relations (their dense ids)."""
        cells = cells.sort_by("variable_id")
        column = lambda table, name: table[name].to_numpy(zero_copy_only=False)  # noqa: E731
        n = len(cells)
        assert (column(cells, "variable_id") == np.arange(n)).all(), "variable ids are not dense"
        rows = column(relations, "relation_number").astype(np.int64)
        n_rel = int(rows.max()) + 1 if len(rows) else 0
        sense = relations["sense"].to_numpy(zero_copy_only=False)
        coefficient = column(relations, "coefficient").astype(np.float64)
        variable = column(relations, "variable_id")

        def matrix_of(keep):
            m = csr_matrix((coefficient[keep], (rows[keep], variable[keep])), shape=(n_rel, n))
            m.sum_duplicates()
            return m

        is_pooled = sense == "pooled"
        matrix = matrix_of(~is_pooled)
        pooled = matrix_of(is_pooled)
        is_equality = np.zeros(n_rel, dtype=bool)
        is_equality[rows] = sense == "="
        denominator = pc.fill_null(cells["denominator_id"], -1).to_numpy(zero_copy_only=False).astype(np.int64)
        return cls(
            mart=np.array(cells["mart"].to_pylist(), dtype=object),
            cell_key=np.array(cells["cell_key"].to_pylist(), dtype=object),
            count_name=np.array(cells["count_name"].to_pylist(), dtype=object),
            row=column(cells, "row_id").astype(np.int64),
            value=column(cells, "count_value").astype(np.int64),
            is_size=denominator < 0,
            denominator=denominator,
            rate_code=np.array(cells["rate_code"].to_pylist(), dtype=object),
            is_coded_rate=column(cells, "is_coded_rate").astype(bool),
            is_unit_total=column(cells, "is_unit_total").astype(bool),
            relations=matrix,
            is_equality=is_equality,
            pooled=pooled,
            min_group_size=int(min_group_size),
            bands=sorted((int(b["min_students"]), int(b["bound_pct"])) for b in bands),
        )

    def bound_pct(self, n: int) -> int:
        """The coding bound of a group of n students (var p20:pct_coding_bands)."""
        bound = self.bands[0][1]
        for min_students, pct in self.bands:
            if n >= min_students:
                bound = pct
        return bound

    def a_priori(self, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bounds an outsider reads off the rules for each variable under the pattern `hidden`
        (shown variables: their value)."""
        lo = self.value.astype(np.float64).copy()
        hi = lo.copy()
        unbounded = self.unbounded
        for i in np.flatnonzero(hidden):
            lo[i], hi[i] = self.hidden_band(i, hidden)
        hi[hi >= UNBOUNDED] = unbounded
        return lo, hi

    def bands_if_hidden(self, idx: np.ndarray, hidden: np.ndarray) -> np.ndarray:
        """hidden_band of each variable in `idx` (an (len, 2) array), vectorised."""
        out = np.empty((len(idx), 2))
        size = self.is_size[idx]
        d = np.where(size, 0, self.denominator[idx])
        n = self.value[d]
        den_hidden = ~size & hidden[d]
        uncoded = ~size & ~den_hidden & (~self.is_coded_rate[idx] | (n < self.min_group_size))
        coded_rule = ~size & ~den_hidden & ~uncoded
        pct = np.array([self.bound_pct(int(x)) for x in n]) if len(n) else np.zeros(0, dtype=np.int64)
        k = pct * n // 100
        codes = self.rate_code[idx]
        is_le = np.array([c is not None and c.startswith("<=") for c in codes], dtype=bool)
        is_ge = np.array([c is not None and c.startswith(">=") for c in codes], dtype=bool)
        withheld = coded_rule & ~is_le & ~is_ge
        out[:, 0] = np.select([size, den_hidden, uncoded, withheld, is_le],
                              [0.0, 0.0, 0.0, k + 1, 0.0], n - k)
        out[:, 1] = np.select([size, den_hidden, uncoded, withheld, is_le], [UNBOUNDED, UNBOUNDED, n, n - k - 1, k], n)
        return out

    def hidden_band(self, i: int, hidden: np.ndarray) -> tuple[float, float]:
        """What the rules say of variable i when it is hidden under `hidden`."""
        if self.is_size[i]:
            return 0.0, UNBOUNDED
        d = self.denominator[i]
        if hidden[d]:
            return 0.0, UNBOUNDED
        n = int(self.value[d])
        if not self.is_coded_rate[i] or n < self.min_group_size:
            return 0.0, float(n)
        k = self.bound_pct(n) * n // 100  # pct_code: 100 c <= b n
        code = self.rate_code[i]
        if code is None:  # 'withheld': the rate is not coded
            return float(k + 1), float(n - k - 1)
        return (0.0, float(k)) if code.startswith("<=") else (float(n - k), float(n))

    def primary(self) -> np.ndarray:
        """The cells the rules hide: every count of a group under the minimum size (its row is
        suppressed), a coded rate's count, and a rate's count over a denominator under the minimum."""
        small_row = np.isin(self.row, self.row[self.is_size & (self.value < self.min_group_size)])
        coded = np.array([c is not None for c in self.rate_code])
        has_den = self.denominator >= 0
        small_den = np.zeros(self.n, dtype=bool)
        small_den[has_den] = self.is_coded_rate[has_den] & (
            self.value[self.denominator[has_den]] < self.min_group_size
        )
        return small_row | coded | small_den

    def pooled_to_hide(self, hidden: np.ndarray) -> np.ndarray:
        """Pooled cells to hide with their parts: a pooled cell whose sum holds a hidden cell
        (consistent suppression, so the pooled table tells nothing of the hidden part)."""
        rows_with_hidden = (self.pooled.multiply(self.pooled > 0) @ hidden.astype(np.float64)) > 0
        pooled_cells = self.pooled.multiply(self.pooled < 0).tocsr()[rows_with_hidden]
        out = np.zeros(self.n, dtype=bool)
        out[np.unique(pooled_cells.indices)] = True
        return out & ~hidden

    def components(self, hidden: np.ndarray) -> tuple[int, np.ndarray]:
        """Connected components of the hidden variables: two are connected when a relation holds
        both. Shown variables get label -1."""
        idx = np.flatnonzero(hidden)
        sub = self.relations[:, idx]
        sub.data = np.ones_like(sub.data)
        n_rel, n_var = sub.shape
        # bipartite graph relations <-> hidden variables
        graph = csr_matrix(
            (np.ones(sub.nnz), (sub.nonzero()[0], sub.nonzero()[1] + n_rel)), shape=(n_rel + n_var, n_rel + n_var)
        )
        n_comp, labels = connected_components(graph, directed=False)
        var_labels = labels[n_rel:]
        _, var_labels = np.unique(var_labels, return_inverse=True)
        out = np.full(self.n, -1, dtype=np.int64)
        out[idx] = var_labels
        return int(var_labels.max() + 1) if len(idx) else 0, out
