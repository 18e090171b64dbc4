"""One-to-one assignment for many small IoU matrices at once.

Input is a flat *candidate-pair table* grouped into independent problems (typically one
per (image, category)):

``group_offsets`` int64 (n_groups + 1)
    pairs ``group_offsets[g]:group_offsets[g+1]`` belong to group ``g``.
``pair_a``, ``pair_b`` int64 (n_pairs)
    local row / column index of the pair inside its group (small non-negative integers;
    lower index = lower annotation id when the caller numbers instances in id order).
``iou`` float64 (n_pairs)
    the pair's score. A pair is *eligible* when ``iou >= threshold`` and ``iou > 0``.

Output is a ``bool`` flag per pair: True where the pair is part of the assignment.
Each row and each column of a group is used at most once. Duplicate (a, b) pairs in a
group are not allowed.

Modes
-----
optimal (:func:`assign_optimal`)
    maximises the total IoU of the chosen eligible pairs (maximum-weight bipartite
    matching, not maximum cardinality). Exact: a dense Jonker-Volgenant / shortest
    augmenting path solver (the rectangular variant of Crouse 2016, as in
    ``scipy.optimize.linear_sum_assignment``) over the group's compressed matrix with cost
    ``-iou`` for eligible pairs and ``0`` elsewhere (a row assigned to a zero-cost cell
    is unmatched). Groups with one eligible pair, or whose eligible pairs share no row
    or column, are solved without the dense solver.
greedy (:func:`assign_greedy`)
    pycocotools style: eligible pairs sorted by IoU descending, then by ``a`` ascending,
    then ``b`` ascending; a pair is taken when both its row and column are still free.

Tie-breaks / determinism
------------------------
Both modes depend only on the input values and their local indices, never on thread
count or memory layout. Greedy ties are broken by lower ``a`` then lower ``b``. When
several optimal assignments have the same total, the optimal solver returns the one its
shortest-augmenting-path sweep finds when rows are inserted in ascending local index
(columns scanned in ascending index, an unassigned column preferred on equal path cost),
so e.g. of two identical rows the lower one keeps the match.
"""
from __future__ import annotations

import numpy as np

from ._jit import parallel, prange, serial

__all__ = ["assign", "assign_optimal", "assign_greedy", "lsa_dense"]


@serial
def lsa_dense(cost):
    """Minimum-cost assignment of every row of ``cost`` (nr <= nc) to a distinct column.

    Parameters
    ----------
    cost : float64 (nr, nc), nr <= nc, finite values.

    Returns
    -------
    col4row : int64 (nr,) -- the column of every row.

    Examples
    --------
    >>> import numpy as np
    >>> lsa_dense(np.array([[4.0, 1.0, 3.0], [2.0, 0.0, 5.0]]))
    array([1, 0])
    """
    nr, nc = cost.shape
    u = np.zeros(nr)
    v = np.zeros(nc)
    spc = np.empty(nc)
    path = np.full(nc, -1, np.int64)
    col4row = np.full(nr, -1, np.int64)
    row4col = np.full(nc, -1, np.int64)
    sr = np.zeros(nr, np.bool_)
    sc = np.zeros(nc, np.bool_)
    remaining = np.empty(nc, np.int64)
    for cur in range(nr):
        min_val = 0.0
        i = cur
        num_rem = nc
        for it in range(nc):
            remaining[it] = it
        sr[:] = False
        sc[:] = False
        spc[:] = np.inf
        sink = -1
        while sink == -1:
            index = -1
            lowest = np.inf
            sr[i] = True
            for it in range(num_rem):
                j = remaining[it]
                r = min_val + cost[i, j] - u[i] - v[j]
                if r < spc[j]:
                    path[j] = i
                    spc[j] = r
                if spc[j] < lowest or (spc[j] == lowest and row4col[j] == -1
                                       and (index == -1 or row4col[remaining[index]] != -1)):
                    lowest = spc[j]
                    index = it
            min_val = lowest
            if index == -1:  # cannot happen with finite costs and nr <= nc
                return col4row
            j = remaining[index]
            if row4col[j] == -1:
                sink = j
            else:
                i = row4col[j]
            sc[j] = True
            num_rem -= 1
            # keep ``remaining`` in ascending order (deterministic, lower column first on ties)
            for it in range(index, num_rem):
                remaining[it] = remaining[it + 1]
        u[cur] += min_val
        for r_ in range(nr):
            if sr[r_] and r_ != cur:
                u[r_] += min_val - spc[col4row[r_]]
        for c_ in range(nc):
            if sc[c_]:
                v[c_] -= min_val - spc[c_]
        j = sink
        while True:
            i = path[j]
            row4col[j] = i
            tmp = col4row[i]
            col4row[i] = j
            j = tmp
            if i == cur:
                break
    return col4row


@serial
def _solve_group_optimal(pa, pb, iou, lo, hi, threshold, out):
    # eligible pairs of this group
    n_el = 0
    max_a = -1
    max_b = -1
    for p in range(lo, hi):
        if iou[p] >= threshold and iou[p] > 0.0:
            n_el += 1
            if pa[p] > max_a:
                max_a = pa[p]
            if pb[p] > max_b:
                max_b = pb[p]
    if n_el == 0:
        return
    if n_el == 1:
        for p in range(lo, hi):
            if iou[p] >= threshold and iou[p] > 0.0:
                out[p] = True
        return
    # compress rows / columns to those with an eligible pair (ascending local index)
    amap = np.full(max_a + 1, -1, np.int64)
    bmap = np.full(max_b + 1, -1, np.int64)
    for p in range(lo, hi):
        if iou[p] >= threshold and iou[p] > 0.0:
            amap[pa[p]] = 0
            bmap[pb[p]] = 0
    na = 0
    for k in range(max_a + 1):
        if amap[k] == 0:
            amap[k] = na
            na += 1
    nb = 0
    for k in range(max_b + 1):
        if bmap[k] == 0:
            bmap[k] = nb
            nb += 1
    if na == n_el and nb == n_el:  # no row or column shared: every eligible pair is matched
        for p in range(lo, hi):
            if iou[p] >= threshold and iou[p] > 0.0:
                out[p] = True
        return
    transpose = na > nb
    if transpose:
        nr = nb
        nc = na
    else:
        nr = na
        nc = nb
    cost = np.zeros((nr, nc))
    for p in range(lo, hi):
        if iou[p] >= threshold and iou[p] > 0.0:
            if transpose:
                cost[bmap[pb[p]], amap[pa[p]]] = -iou[p]
            else:
                cost[amap[pa[p]], bmap[pb[p]]] = -iou[p]
    col4row = lsa_dense(cost)
    for p in range(lo, hi):
        if iou[p] >= threshold and iou[p] > 0.0:
            ra = amap[pa[p]]
            cb = bmap[pb[p]]
            if transpose:
                if col4row[cb] == ra:
                    out[p] = True
            else:
                if col4row[ra] == cb:
                    out[p] = True


@serial
def _solve_group_greedy(pa, pb, iou, lo, hi, threshold, out):
    n = hi - lo
    if n == 0:
        return
    max_a = -1
    max_b = -1
    for p in range(lo, hi):
        if pa[p] > max_a:
            max_a = pa[p]
        if pb[p] > max_b:
            max_b = pb[p]
    # order: iou desc, a asc, b asc (stable sorts, least significant key first)
    idx = np.argsort(pb[lo:hi], kind="mergesort")
    idx = idx[np.argsort(pa[lo:hi][idx], kind="mergesort")]
    idx = idx[np.argsort(-iou[lo:hi][idx], kind="mergesort")]
    a_used = np.zeros(max_a + 1, np.bool_)
    b_used = np.zeros(max_b + 1, np.bool_)
    for k in range(n):
        p = lo + idx[k]
        if not (iou[p] >= threshold and iou[p] > 0.0):
            continue
        if a_used[pa[p]] or b_used[pb[p]]:
            continue
        a_used[pa[p]] = True
        b_used[pb[p]] = True
        out[p] = True


# One kernel per (schedule, rule): a run compiles only the rule it uses (the greedy one brings
# Numba's merge sort along).
@serial
def _optimal_serial(group_offsets, pa, pb, iou, threshold):
    out = np.zeros(pa.shape[0], np.bool_)
    for g in range(group_offsets.shape[0] - 1):
        _solve_group_optimal(pa, pb, iou, group_offsets[g], group_offsets[g + 1], threshold, out)
    return out


@parallel
def _optimal_parallel(group_offsets, pa, pb, iou, threshold):
    out = np.zeros(pa.shape[0], np.bool_)
    for g in prange(group_offsets.shape[0] - 1):
        _solve_group_optimal(pa, pb, iou, group_offsets[g], group_offsets[g + 1], threshold, out)
    return out


@serial
def _greedy_serial(group_offsets, pa, pb, iou, threshold):
    out = np.zeros(pa.shape[0], np.bool_)
    for g in range(group_offsets.shape[0] - 1):
        _solve_group_greedy(pa, pb, iou, group_offsets[g], group_offsets[g + 1], threshold, out)
    return out


@parallel
def _greedy_parallel(group_offsets, pa, pb, iou, threshold):
    out = np.zeros(pa.shape[0], np.bool_)
    for g in prange(group_offsets.shape[0] - 1):
        _solve_group_greedy(pa, pb, iou, group_offsets[g], group_offsets[g + 1], threshold, out)
    return out


_KERNELS = {("optimal", False): _optimal_serial, ("optimal", True): _optimal_parallel,
            ("greedy", False): _greedy_serial, ("greedy", True): _greedy_parallel}


def _prep(group_offsets, pair_a, pair_b, iou):
    go = np.ascontiguousarray(group_offsets, dtype=np.int64)
    pa = np.ascontiguousarray(pair_a, dtype=np.int64)
    pb = np.ascontiguousarray(pair_b, dtype=np.int64)
    v = np.ascontiguousarray(iou, dtype=np.float64)
    if not (pa.shape == pb.shape == v.shape) or pa.ndim != 1:
        raise ValueError("pair_a, pair_b and iou must be 1-d arrays of one length")
    if go.ndim != 1 or go.shape[0] < 1 or go[0] != 0 or go[-1] != pa.shape[0] or np.any(np.diff(go) < 0):
        raise ValueError("group_offsets must start at 0, never decrease and end at the number of pairs")
    if pa.size and (pa.min() < 0 or pb.min() < 0):
        raise ValueError("local indices must be >= 0")
    return go, pa, pb, v


def assign(group_offsets, pair_a, pair_b, iou, threshold=0.5, mode="optimal", parallel=None):
    """Solve many independent one-to-one assignment problems given as a flat pair table.

    Parameters
    ----------
    group_offsets : int64 (n_groups + 1)
    pair_a, pair_b : int (n_pairs) -- local row / column index inside the group.
    iou : float64 (n_pairs)
    threshold : float -- pairs with ``iou >= threshold`` (and ``iou > 0``) are eligible.
    mode : ``"optimal"`` (maximum total IoU) or ``"greedy"`` (pycocotools order).
    parallel : bool or None -- run groups in parallel (None: when there are many groups).

    Returns
    -------
    matched : bool (n_pairs)

    Examples
    --------
    >>> import numpy as np
    >>> go = np.array([0, 4])
    >>> a = np.array([0, 0, 1, 1]); b = np.array([0, 1, 0, 1])
    >>> iou = np.array([0.9, 0.8, 0.85, 0.1])
    >>> assign(go, a, b, iou, 0.5, "optimal").tolist()   # 0.8 + 0.85 > 0.9
    [False, True, True, False]
    >>> assign(go, a, b, iou, 0.5, "greedy").tolist()
    [True, False, False, False]
    """
    if mode not in ("optimal", "greedy"):
        raise ValueError(f"mode must be 'optimal' or 'greedy', got {mode!r}")
    go, pa, pb, v = _prep(group_offsets, pair_a, pair_b, iou)
    if parallel is None:
        parallel = go.shape[0] > 20000
    return _KERNELS[mode, bool(parallel)](go, pa, pb, v, float(threshold))


def assign_optimal(group_offsets, pair_a, pair_b, iou, threshold=0.5):
    """Maximum-total-IoU assignment; see :func:`assign`.

    Examples
    --------
    >>> import numpy as np
    >>> assign_optimal(np.array([0, 1]), np.array([0]), np.array([0]), np.array([0.7])).tolist()
    [True]
    """
    return assign(group_offsets, pair_a, pair_b, iou, threshold, "optimal")


def assign_greedy(group_offsets, pair_a, pair_b, iou, threshold=0.5):
    """Greedy (pycocotools-order) assignment; see :func:`assign`.

    Examples
    --------
    >>> import numpy as np
    >>> assign_greedy(np.array([0, 1]), np.array([0]), np.array([0]), np.array([0.4])).tolist()
    [False]
    """
    return assign(group_offsets, pair_a, pair_b, iou, threshold, "greedy")
