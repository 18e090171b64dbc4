"""Union measures of instance groups: a whole against the union of its parts.

A split or merge is judged on the union of its parts (parts may overlap, so the union is not the
sum of their areas). Masks are RLEs of one store (``counts`` / ``offsets``, pycocotools' layout:
column-major runs, the first one background); every mask of a group covers the same ``h * w``
pixels.
"""
from __future__ import annotations

import numpy as np

from ._jit import serial

__all__ = ["group_union", "claim_groups", "owners", "best_counterpart_iou"]


@serial
def _fg_intervals(counts, lo, hi, s, e, m):
    """Append the foreground runs of the RLE ``counts[lo:hi]`` to ``s`` / ``e`` from ``m``
    on (half-open pixel intervals); returns the new ``m``."""
    pos = np.int64(0)
    for j in range(lo, hi):
        c = np.int64(counts[j])
        if (j - lo) & 1 and c > 0:
            s[m] = pos
            e[m] = pos + c
            m += 1
        pos += c
    return m


@serial
def _argsort(s, m):
    """Indices that sort ``s[:m]`` (a bottom-up merge sort: a few lines to compile, where
    ``np.argsort`` brings a generic sort that takes seconds)."""
    a = np.arange(m)
    b = np.empty(m, np.int64)
    w = 1
    while w < m:
        for lo in range(0, m, 2 * w):
            mid = min(lo + w, m)
            hi = min(lo + 2 * w, m)
            i = lo
            j = mid
            for k in range(lo, hi):
                if i < mid and (j >= hi or s[a[i]] <= s[a[j]]):
                    b[k] = a[i]
                    i += 1
                else:
                    b[k] = a[j]
                    j += 1
        a, b = b, a
        w *= 2
    return a


@serial
def _merge_intervals(s, e, m, us, ue):
    """Sort the intervals ``s[:m], e[:m]`` and merge them into ``us`` / ``ue``; returns their count."""
    order = _argsort(s, m)
    nu = 0
    for t in range(m):
        i = order[t]
        if nu > 0 and s[i] <= ue[nu - 1]:
            if e[i] > ue[nu - 1]:
                ue[nu - 1] = e[i]
        else:
            us[nu] = s[i]
            ue[nu] = e[i]
            nu += 1
    return nu


@serial
def _area_and_inter(counts, lo, hi, us, ue, nu):
    """Area of the merged intervals ``us[:nu], ue[:nu]`` and their intersection with the RLE
    ``counts[lo:hi]``."""
    area = np.int64(0)
    for t in range(nu):
        area += ue[t] - us[t]
    pos = np.int64(0)
    t = 0
    inter = np.int64(0)
    for j in range(lo, hi):
        c = np.int64(counts[j])
        if (j - lo) & 1 and c > 0:
            a0 = pos
            a1 = pos + c
            while t < nu and ue[t] <= a0:
                t += 1
            q = t
            while q < nu and us[q] < a1:
                inter += min(a1, ue[q]) - max(a0, us[q])
                q += 1
        pos += c
    return area, inter


@serial
def group_union(counts, offsets, whole, g_off, parts, skip):
    """For every group ``g``: the area of the union of its parts and that union's intersection
    with the whole; the same for the union of its parts other than ``skip[g]``.

    Parameters
    ----------
    counts : uint32 -- RLE counts of the store; offsets : int64 (n + 1).
    whole : int64 (n_groups) -- the whole's mask index in the store.
    g_off : int64 (n_groups + 1) -- group ``g``'s parts are ``parts[g_off[g]:g_off[g + 1]]``.
    parts : int64 -- mask indices.
    skip : int64 (n_groups) -- a part left out of the second union (-1: none, the second union
        is the first).

    Returns
    -------
    union_area, union_inter, rest_area, rest_inter : int64 (n_groups) -- ``|P_1 u ... u P_k|``,
        ``|W n (P_1 u ... u P_k)|``, and the same without the part ``skip[g]``.

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([0, 4, 4,   0, 3, 5,   2, 2, 4], np.uint32)    # whole 0:4, parts 0:3, 2:4
    >>> o = np.array([0, 3, 6, 9], np.int64)
    >>> r = group_union(c, o, np.array([0]), np.array([0, 2]), np.array([1, 2]), np.array([1]))
    >>> [x.tolist() for x in r]
    [[4], [4], [2], [2]]
    """
    n = whole.shape[0]
    union_area = np.zeros(n, np.int64)
    union_inter = np.zeros(n, np.int64)
    rest_area = np.zeros(n, np.int64)
    rest_inter = np.zeros(n, np.int64)
    cap = 0
    for g in range(n):
        tot = 0
        for k in range(g_off[g], g_off[g + 1]):
            p = parts[k]
            tot += (offsets[p + 1] - offsets[p]) // 2 + 1
        cap = max(cap, tot)
    s = np.empty(cap, np.int64)
    e = np.empty(cap, np.int64)
    us = np.empty(cap, np.int64)
    ue = np.empty(cap, np.int64)
    for g in range(n):
        w = whole[g]
        for rest in range(2):
            if rest == 1 and skip[g] < 0:   # no part left out: the same union
                rest_area[g] = union_area[g]
                rest_inter[g] = union_inter[g]
                break
            m = np.int64(0)   # not a literal 0: one compiled version of the helpers
            for k in range(g_off[g], g_off[g + 1]):
                p = parts[k]
                if rest == 0 or p != skip[g]:
                    m = _fg_intervals(counts, offsets[p], offsets[p + 1], s, e, m)
            nu = _merge_intervals(s, e, m, us, ue)
            area, inter = _area_and_inter(counts, offsets[w], offsets[w + 1], us, ue, nu)
            if rest == 0:
                union_area[g] = area
                union_inter[g] = inter
            else:
                rest_area[g] = area
                rest_inter[g] = inter
    return union_area, union_inter, rest_area, rest_inter


@serial
def claim_groups(order, side, whole, g_off, parts, a_used, b_used):
    """Accept groups in ``order`` while none of their instances is taken yet.

    Group ``g`` is a split (``side[g] == 0``: the whole is an A index, the parts B indices) or a
    merge (``side[g] == 1``: the whole is a B index, the parts A indices). An accepted group
    marks its whole and parts in ``a_used`` / ``b_used`` (updated in place); a group any of whose
    instances an earlier group took is dropped whole.

    Returns
    -------
    accepted : bool (n_groups)

    Examples
    --------
    >>> import numpy as np
    >>> a_used = np.zeros(2, np.bool_); b_used = np.zeros(3, np.bool_)
    >>> acc = claim_groups(np.array([1, 0]), np.array([0, 1]), np.array([0, 2]),
    ...                    np.array([0, 2, 4]), np.array([0, 1, 0, 1]), a_used, b_used)
    >>> acc.tolist(), a_used.tolist(), b_used.tolist()
    ([False, True], [True, True], [False, False, True])
    """
    n = whole.shape[0]
    accepted = np.zeros(n, np.bool_)
    for t in range(order.shape[0]):
        g = order[t]
        w_used = a_used if side[g] == 0 else b_used
        p_used = b_used if side[g] == 0 else a_used
        free = not w_used[whole[g]]
        for k in range(g_off[g], g_off[g + 1]):
            if p_used[parts[k]]:
                free = False
        if not free:
            continue
        accepted[g] = True
        w_used[whole[g]] = True
        for k in range(g_off[g], g_off[g + 1]):
            p_used[parts[k]] = True
    return accepted


@serial
def owners(part, whole, inter, iou, eligible, n_part):
    """Per part index: the eligible pair of its owner -- the highest ``iou``, then the largest
    ``inter``, then the lowest ``whole`` index; -1 where it has none.

    Examples
    --------
    >>> import numpy as np
    >>> owners(np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([5, 9, 2]),
    ...        np.array([0.5, 0.5, 0.1]), np.array([True, True, False]), 2).tolist()
    [1, -1]
    """
    out = np.full(n_part, -1, np.int64)
    for k in range(part.shape[0]):
        if not eligible[k]:
            continue
        q = part[k]
        c = out[q]
        if c == -1 or iou[k] > iou[c] or (iou[k] == iou[c] and (
                inter[k] > inter[c] or (inter[k] == inter[c] and whole[k] < whole[c]))):
            out[q] = k
    return out


@serial
def best_counterpart_iou(top, whole, iou, n_whole):
    """Per whole index: the highest ``iou[top[q]]`` over the parts ``q`` whose best pair
    ``top[q]`` (from :func:`owners`) goes to it; 0 where none.

    Examples
    --------
    >>> import numpy as np
    >>> best_counterpart_iou(np.array([1, -1]), np.array([0, 1]), np.array([0.2, 0.7]), 2).tolist()
    [0.0, 0.7]
    """
    out = np.zeros(n_whole)
    for q in range(top.shape[0]):
        k = top[q]
        if k >= 0 and iou[k] > out[whole[k]]:
            out[whole[k]] = iou[k]
    return out
