"""Cell suppression for the linked published tables, as statistical agencies do it (the
approach of tau-ARGUS and sdcTable's protectTable): the rules hide the sensitive cells (small
groups, coded rates, rates over small denominators); then, while the attacker audit
(attack.py) can solve a hidden count to within less than its protection interval, one linear
programme per such cell chooses the complementary cells to hide: it looks for another table
that agrees with everything still shown and moves the cell to the edge of its interval, at the
least information loss (a weight per shown cell that it would have to change), and the cells it
had to change are hidden. The audit runs again until it finds nothing.

Information loss weights: a cell's weight grows with the log of its count, group sizes count
double (hiding one suppresses its row), and the all-students row of a unit with at least the
minimum group size is kept published unless nothing else protects the cell.
"""

import logging
import time

import highspy
import numpy as np
from scipy.sparse import bmat, csr_matrix, identity

from p20.disclosure.attack import BATCH_VARIABLES, findings, highs, unmet
from p20.disclosure.linked import LinkedTables

MAX_ROUNDS = 30
LOG = logging.getLogger(__name__).info
MAX_HOPS = 4
KEEP_PUBLISHED = 1000.0


def protect(tables: LinkedTables) -> tuple[np.ndarray, np.ndarray]:
    """The hidden pattern (and the primary part of it) under which the audit finds nothing."""
    primary = tables.primary()
    hidden = primary.copy()
    weight = (1.0 + np.log1p(tables.value)) * np.where(tables.is_size, 2.0, 1.0)
    keep = tables.is_size & tables.is_unit_total & (tables.value >= tables.min_group_size)
    weight[keep] *= KEEP_PUBLISHED
    changed = hidden.copy()
    for _ in range(MAX_ROUNDS):
        # a hidden size hides its whole row (is_suppressed: no count or rate of the group shows)
        whole_rows = np.isin(tables.row, tables.row[hidden & tables.is_size]) & ~hidden
        hidden |= whole_rows
        changed |= whole_rows
        t0 = time.time()
        req, failed = unmet(tables, hidden, only=_touched(tables, hidden, changed))
        needs = _needs(req, failed)
        t1 = time.time()
        before = hidden.copy()
        if not needs:
            hidden |= tables.pooled_to_hide(hidden)
            if (hidden == before).all():
                break
        fallbacks = 0
        # one at a time, each against the pattern as it stands: a need that an earlier one
        # already met costs one LP and hides nothing
        for expression, at_least, bound in needs:
            new = _complement(tables, hidden, weight, expression, at_least, bound)
            if new is None:  # no table within reach moves it: hide what shares a relation with it
                fallbacks += 1
                new = _neighbours(tables, np.array(list(expression)), 1) & ~hidden
            hidden |= new
        changed = hidden & ~before
        LOG(f"round: {len(needs)} needs (audit {t1 - t0:.1f} s), {int(changed.sum())} hidden more "
            f"({fallbacks} by neighbours) in {time.time() - t1:.1f} s; {int(hidden.sum())} hidden")
    else:
        raise RuntimeError(f"disclosure protection did not converge in {MAX_ROUNDS} rounds")
    remaining = findings(tables, hidden)
    if remaining:
        raise RuntimeError(f"disclosure protection left {len(remaining)} findings")
    return hidden, primary


def _touched(tables: LinkedTables, hidden, changed) -> np.ndarray:
    """The hidden variables whose component holds a newly hidden one: only they can change."""
    _, label = tables.components(hidden)
    return hidden & np.isin(label, label[changed & hidden])


def _needs(req, failed) -> list[tuple[dict, bool, float]]:
    """One need per failed requirement group (its first member): (expression, at least?, bound)."""
    out, seen = [], set()
    for r in np.flatnonzero(failed):
        if req.group[r] in seen:
            continue
        seen.add(req.group[r])
        row = req.expression[r]
        out.append(({int(j): float(c) for j, c in zip(row.indices, row.data, strict=True)},
                    bool(req.at_least[r]), float(req.bound[r])))
    return out


def _neighbours(tables: LinkedTables, seeds: np.ndarray, hops: int) -> np.ndarray:
    mask = np.zeros(tables.n, dtype=bool)
    mask[seeds] = True
    for _ in range(hops):
        rels = np.unique(tables.relations_csc[:, np.flatnonzero(mask)].indices)
        mask[np.unique(tables.relations[rels].indices)] = True
    return mask


def _complement(tables: LinkedTables, hidden, weight, expression: dict, at_least: bool, bound: float) -> np.ndarray:
    """The shown cells to hide so that another table, agreeing with all that stays shown and
    with the rules, puts `expression` at `bound`: the least-weight deviation (an LP)."""
    seeds = np.array(list(expression), dtype=np.int64)
    for hops in range(2, MAX_HOPS + 1):
        near = np.flatnonzero(_neighbours(tables, seeds, hops))
        if len(near) > 4 * BATCH_VARIABLES and hops > 2:
            break
        result = _deviation_lp(tables, hidden, weight, near, expression, at_least, bound)
        if result is not None:
            return result
    return None


def _deviation_lp(tables, hidden, weight, near, expression, at_least, bound):
    n = len(near)
    shown = np.flatnonzero(~hidden[near])
    m = len(shown)
    # a shown cell's bounds are the rules' once it is hidden (hidden_band reads only the
    # denominator's state)
    bands = tables.bands_if_hidden(near, hidden)
    value = tables.value[near].astype(np.float64)
    sub = tables.relations_csc[:, near]
    rows = np.unique(sub.indices)
    sub = sub[rows, :]
    rhs = -(tables.relations[rows] @ tables.value.astype(np.float64) - sub @ value)
    inf = highspy.kHighsInf
    # columns: z (n), up (m), down (m); rows: the relations; z - up + down = value for each
    # shown cell; the target on z
    pick = csr_matrix((np.ones(m), (np.arange(m), shown)), shape=(m, n))
    eye = identity(m, format="csr")
    position = {int(v): k for k, v in enumerate(near)}
    target = csr_matrix(
        (list(expression.values()), ([0] * len(expression), [position[i] for i in expression])), shape=(1, n)
    )
    matrix = bmat([[sub, None, None], [pick, -eye, eye], [target, None, None]], format="csc")
    h = highs(
        np.concatenate([np.zeros(n), weight[near][shown], weight[near][shown]]),
        np.concatenate([bands[:, 0], np.zeros(2 * m)]),
        np.concatenate([bands[:, 1], np.full(2 * m, inf)]),
        np.concatenate([np.where(tables.is_equality[rows], rhs, -inf), value[shown], [bound if at_least else -inf]]),
        np.concatenate([rhs, value[shown], [inf if at_least else bound]]),
        matrix,
    )
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    x = np.asarray(h.getSolution().col_value)
    moved = (x[n:n + m] + x[n + m:]) > 1e-6
    out = np.zeros(tables.n, dtype=bool)
    out[near[shown[moved]]] = True
    return out
