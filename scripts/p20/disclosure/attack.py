"""The attacker audit: what an outsider can solve for from every published table at once.

Each promise about a hidden count is a requirement that some table consistent with everything
published (all shown counts, the relations between them: linked.py, and what the rules say
of a hidden cell) puts the count at the edge of its protection interval: a small group at 1
and at the minimum minus 1, a coded count at both ends of its band, any hidden count away from
its true value. A requirement holds when a feasible point reaches it, so a few LPs (HiGHS)
that push all requirements at once verify most of them, and one LP each settles the rest: the
attacker's own LP, min or max of the count, decides a requirement that no shared point met.
Independent components of the hidden cells are solved in batches.

The promise it checks (README, "What a hidden cell tells a researcher"):
- a hidden group size is never determined exactly, and a small one (under the minimum group
  size) can be anything from 1 to the minimum minus 1;
- a hidden count is never determined exactly, and never pinned to its (hidden) group's size;
- a top/bottom-coded count can be anything in its code's band;
- no equality has a single hidden member (the journalist's differencing: district minus the
  shown schools, all students minus the shown groups).
Findings name the rule, mart, cell and count, never a value.
"""

from dataclasses import dataclass

import highspy
import numpy as np
from scipy.sparse import csr_matrix

from p20.disclosure.linked import LinkedTables

BATCH_VARIABLES = 4000  # variables per batched LP: larger batches mean fewer, slower solves
EPS = 1e-6
AGGREGATE_ROUNDS = 12
LOCAL_VARIABLES = 600  # components larger than this are decided locally (_meet_locally)
LOCAL_HOPS = (3, 6)


def shown_rhs(tables: LinkedTables, hidden: np.ndarray) -> np.ndarray:
    """Per relation, minus the contribution of its shown members: sum over hidden ones <= this."""
    return -(tables.relations @ np.where(hidden, 0.0, tables.value.astype(np.float64)))


def block_model(tables: LinkedTables, rhs_all: np.ndarray, variables: np.ndarray, lo, hi):
    """One HiGHS model over `variables`, with every relation that touches them; the others
    stand at their values (`rhs_all`, from shown_rhs). Columns in `variables` order."""
    sub = tables.relations_csc[:, variables]
    rows = np.unique(sub.indices)
    sub = sub[rows, :].tocsc()
    rhs = rhs_all[rows]
    return highs(np.zeros(len(variables)), lo[variables], hi[variables],
                 np.where(tables.is_equality[rows], rhs, -highspy.kHighsInf), rhs, sub)


def highs(cost, col_lower, col_upper, row_lower, row_upper, matrix) -> highspy.Highs:
    """A quiet, seeded HiGHS instance holding the LP (matrix: scipy CSC, rows x columns)."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = matrix.shape[1], matrix.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, col_lower, col_upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    h.passModel(lp)
    return h


def _optimise(h: highspy.Highs, cost: np.ndarray, maximise: bool) -> np.ndarray:
    h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize)
    h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"disclosure LP not optimal ({h.modelStatusToString(status)}): the relations "
                           "do not hold on the data (int_disclosure__relations)")
    return np.asarray(h.getSolution().col_value)


@dataclass
class Requirements:
    """Per requirement: the variable it protects, a linear expression (sparse row), at-least or
    at-most, the bound, the rule it checks, and its group (a group holds when any member
    holds: 'not determined exactly' is 'can be higher' or 'can be lower')."""

    variable: np.ndarray
    expression: csr_matrix
    at_least: np.ndarray
    bound: np.ndarray
    rule: np.ndarray
    group: np.ndarray


def requirements(tables: LinkedTables, hidden: np.ndarray, only: np.ndarray | None = None) -> Requirements:
    """The promise as requirements on the hidden variables (those in `only`, if given)."""
    band_lo, band_hi = tables.a_priori(hidden)
    small = tables.min_group_size
    var, terms, at_least, bound, rule, group = [], [], [], [], [], []

    def add(i, expr, up, b, why, g):
        var.append(i), terms.append(expr), at_least.append(up), bound.append(b), rule.append(why), group.append(g)

    g = 0
    targets = np.flatnonzero(hidden if only is None else hidden & only)
    for i in targets:
        x = float(tables.value[i])
        if tables.is_size[i] and x < small:
            add(i, {i: 1.0}, False, 1.0, f"size narrowed inside 1..{small - 1}", g)
            add(i, {i: 1.0}, True, small - 1.0, f"size narrowed inside 1..{small - 1}", g + 1)
            g += 2
            continue
        why = "size determined exactly" if tables.is_size[i] else "count determined exactly"
        if x + 1 <= band_hi[i]:
            add(i, {i: 1.0}, True, x + 1, why, g)
        if x - 1 >= band_lo[i]:
            add(i, {i: 1.0}, False, x - 1, why, g)
        g += 1
        if tables.is_size[i]:
            continue
        d = tables.denominator[i]
        if tables.rate_code[i] is not None and not hidden[d]:
            add(i, {i: 1.0}, False, band_lo[i], "coded count narrowed inside its band", g)
            add(i, {i: 1.0}, True, band_hi[i], "coded count narrowed inside its band", g + 1)
            g += 2
        if hidden[d] and tables.is_size[d]:
            add(i, {d: 1.0, i: -1.0}, True, 1.0, "count pinned to its group's size", g)
            g += 1
    rows = [r for r, expr in enumerate(terms) for _ in expr]
    cols = [j for expr in terms for j in expr]
    data = [c for expr in terms for c in expr.values()]
    return Requirements(
        variable=np.array(var, dtype=np.int64),
        expression=csr_matrix((data, (rows, cols)), shape=(len(terms), tables.n)),
        at_least=np.array(at_least, dtype=bool),
        bound=np.array(bound, dtype=np.float64),
        rule=np.array(rule, dtype=object),
        group=np.array(group, dtype=np.int64),
    )


def unmet(tables: LinkedTables, hidden: np.ndarray, only: np.ndarray | None = None) -> tuple[Requirements, np.ndarray]:
    """The requirements and, per requirement, whether its group fails: no table consistent with
    what is published reaches it."""
    req = requirements(tables, hidden, only)
    met = np.zeros(len(req.bound), dtype=bool)
    if not len(req.bound):
        return req, met
    band_lo, band_hi = tables.a_priori(hidden)
    rhs_all = shown_rhs(tables, hidden)
    batch: list[np.ndarray] = []
    wanted = np.zeros(tables.n, dtype=bool)
    wanted[req.variable] = True
    for comp in components_of(tables, hidden, wanted):
        if batch and sum(map(len, batch)) + len(comp) > BATCH_VARIABLES:
            _meet(tables, hidden, rhs_all, batch, band_lo, band_hi, req, met)
            batch = []
        batch.append(comp)
    if batch:
        _meet(tables, hidden, rhs_all, batch, band_lo, band_hi, req, met)
    group_met = np.zeros(req.group.max() + 1, dtype=bool)
    np.logical_or.at(group_met, req.group, met)
    return req, ~group_met[req.group]


def _meet(tables, hidden, rhs_all, comps, band_lo, band_hi, req: Requirements, met: np.ndarray) -> None:
    """Mark the requirements on the components `comps` that a feasible point reaches."""
    variables = np.concatenate(comps)
    mine = np.flatnonzero(np.isin(req.variable, variables))
    expr = req.expression[mine][:, variables]
    h = block_model(tables, rhs_all, variables, band_lo, band_hi)

    def record(x, expr=expr, mine=mine):
        values = expr @ x
        ok = np.where(req.at_least[mine], values >= req.bound[mine] - EPS, values <= req.bound[mine] + EPS)
        met[mine[ok]] = True

    # push all open requirements of one direction at once, while that meets more of them;
    # then one LP each for the rest (the attacker's own min or max of the count)
    open_ = ~met[mine]
    for _ in range(AGGREGATE_ROUNDS):
        before = int(met[mine].sum())
        for up in (True, False):
            pick = open_ & (req.at_least[mine] == up)
            if pick.any():
                record(_optimise(h, np.asarray(expr[pick].sum(axis=0)).ravel(), up))
            open_ = ~met[mine]
        if int(met[mine].sum()) - before <= max(1, len(mine) // 100):
            break
    if met[mine].all():
        return
    for comp in comps:  # the rest one by one, each on its own component's model
        own = np.flatnonzero(np.isin(req.variable, comp) & ~met)
        if not len(own):
            continue
        if len(comp) > LOCAL_VARIABLES:
            _meet_locally(tables, hidden, band_lo, band_hi, req, met, own)
            continue
        own_expr = req.expression[own][:, comp]
        hc = block_model(tables, rhs_all, comp, band_lo, band_hi)
        group_done: set = set()
        for k, r in enumerate(own):
            if met[r] or req.group[r] in group_done:
                continue
            x = _optimise(hc, own_expr[k].toarray().ravel(), bool(req.at_least[r]))
            record(x, own_expr, own)
            if met[r]:
                group_done.add(req.group[r])


def _meet_locally(tables, hidden, band_lo, band_hi, req: Requirements, met: np.ndarray, own: np.ndarray) -> None:
    """In a large component, decide each open requirement on the hidden cells within
    LOCAL_HOPS relations of it (the first that meets it), the others held at their true values. That can only narrow
    what the LP finds, so a requirement met here is met; one unmet here counts as unmet (and
    the protection hides more), never the other way round."""
    group_done: set = set()
    value = tables.value.astype(np.float64)
    for r in own:
        for hops in LOCAL_HOPS:  # a wider neighbourhood only where the narrow one does not reach it
            if met[r] or req.group[r] in group_done:
                break
            _meet_near(tables, hidden, band_lo, band_hi, req, met, r, hops, value)
            if met[r]:
                group_done.add(req.group[r])


def _meet_near(tables, hidden, band_lo, band_hi, req: Requirements, met: np.ndarray, r: int, hops: int, value) -> None:
    seeds = req.expression[r].indices
    mask = np.zeros(tables.n, dtype=bool)
    mask[seeds] = True
    for _ in range(hops):
        rels = np.unique(tables.relations_csc[:, np.flatnonzero(mask)].indices)
        mask[np.unique(tables.relations[rels].indices)] = True
    near = np.flatnonzero(mask & hidden)
    sub = tables.relations_csc[:, near]
    rows = np.unique(sub.indices)
    rhs_local = np.zeros(tables.relations.shape[0])
    rhs_local[rows] = -(tables.relations[rows] @ value - sub[rows, :] @ value[near])
    h = block_model(tables, rhs_local, near, band_lo, band_hi)
    local = np.flatnonzero(np.isin(req.variable, near) & ~met)
    local_expr = req.expression[local][:, near]
    k = int(np.flatnonzero(local == r)[0])
    x = _optimise(h, local_expr[k].toarray().ravel(), bool(req.at_least[r]))
    values = local_expr @ x
    ok = np.where(req.at_least[local], values >= req.bound[local] - EPS, values <= req.bound[local] + EPS)
    met[local[ok]] = True


def components_of(tables: LinkedTables, hidden: np.ndarray, only: np.ndarray | None = None) -> list[np.ndarray]:
    """The hidden variables by connected component (those holding `only`, if given)."""
    n_comp, label = tables.components(hidden)
    order = np.argsort(label, kind="stable")
    order = order[label[order] >= 0]
    starts = np.searchsorted(label[order], np.arange(n_comp + 1))
    wanted = np.ones(n_comp, dtype=bool)
    if only is not None:
        wanted[:] = False
        wanted[label[only & hidden]] = True
    return [order[starts[c]:starts[c + 1]] for c in range(n_comp) if wanted[c]]


def findings(tables: LinkedTables, hidden: np.ndarray) -> list[dict]:
    """Every way the published tables break the promise: rule, mart, cell, count (no values)."""
    req, failed = unmet(tables, hidden)
    out = []
    seen = set()
    for r in np.flatnonzero(failed):
        if (req.variable[r], req.rule[r]) not in seen:
            seen.add((req.variable[r], req.rule[r]))
            out.append(_finding(tables, req.variable[r], req.rule[r]))
    for i in np.flatnonzero(tables.pooled_to_hide(hidden)):
        out.append(_finding(tables, i, "pooled count shown beside a hidden part of it"))
    # the journalist: an equality with one hidden member gives it away by subtraction
    eq = tables.relations[np.flatnonzero(tables.is_equality)]
    members = eq[:, np.flatnonzero(hidden)]
    lone = np.flatnonzero(np.diff(members.indptr) == 1)
    for r in lone:
        i = np.flatnonzero(hidden)[members.indices[members.indptr[r]]]
        out.append(_finding(tables, i, "differencing: the only hidden member of a published sum"))
    return out


def _finding(tables: LinkedTables, i: int, rule: str) -> dict:
    return {"rule": rule, "mart": tables.mart[i], "cell_key": tables.cell_key[i], "count_name": tables.count_name[i]}
