"""Kernels of COCO detection evaluation, with pycocotools' ``COCOeval`` rules.

:func:`match_groups` is ``COCOeval.evaluateImg`` for every (image, category) group at once: per
area range the ground truths are reordered (not ignored first, ignored last, stably), and per
IoU threshold every detection -- highest score first -- takes the ground truth of highest IoU
at or above the threshold among those still free (a crowd is never used up), visiting them in
that order, replacing a candidate on an equal IoU, and stopping at the first ignored one once
it holds a regular one. Each detection's outcome is one code: :data:`IGNORED`, :data:`TP` or
:data:`FP` (a detection matched to a ground truth of id 0 counts as unmatched, as the
ids stored in ``dtMatches`` do in pycocotools).

:func:`accumulate` is ``COCOeval.accumulate``: per category and ``maxDets`` the detections of
every image (image order, each image's first ``maxDet``) sorted by score with a stable sort,
cumulative TP / FP counts, precision made monotone from the right, and read at the recall
thresholds with a left binary search; ``-1`` where a category has no ground truth that counts.
Every float is computed with the same operations in the same order as pycocotools does, so the
arrays are equal to its arrays bit for bit.

:func:`pair_box_iou` is pycocotools' ``bbIou`` for a list of (detection, ground truth) pairs.
"""
from __future__ import annotations

import numpy as np

from ._jit import serial
from .facts import facts_range
from .iou import _fmax, _fmin, _iou_one

__all__ = ["FP", "IGNORED", "TP", "accumulate", "match_groups", "pair_box_iou", "pair_mask_iou"]

IGNORED = 0
TP = 1
FP = 2


@serial
def pair_box_iou(dt_box, gt_box, pa, pb, crowd):
    """IoU of boxes ``dt_box[pa[k]]`` and ``gt_box[pb[k]]`` (``[x, y, w, h]``), as ``bbIou``.

    ``crowd[k]``: the ground truth is a crowd, whose union is the detection's box area.

    Examples
    --------
    >>> import numpy as np
    >>> b = np.array([[0., 0, 2, 2], [1., 0, 2, 2]])
    >>> pair_box_iou(b, b, np.array([0]), np.array([1]), np.zeros(1, np.uint8))
    array([0.33333333])
    """
    n = pa.shape[0]
    out = np.zeros(n, np.float64)
    for k in range(n):
        d = pa[k]
        g = pb[k]
        dx = dt_box[d, 0]
        dy = dt_box[d, 1]
        dw = dt_box[d, 2]
        dh = dt_box[d, 3]
        gx = gt_box[g, 0]
        gy = gt_box[g, 1]
        gw = gt_box[g, 2]
        gh = gt_box[g, 3]
        ga = gw * gh
        da = dw * dh
        w = _fmin(dw + dx, gw + gx) - _fmax(dx, gx)
        if w <= 0:
            continue
        h = _fmin(dh + dy, gh + gy) - _fmax(dy, gy)
        if h <= 0:
            continue
        i = w * h
        u = da if crowd[k] != 0 else da + ga - i
        out[k] = i / u
    return out


@serial
def facts_rows(counts, offsets, h, rows, lo, hi, area, total, ext, first, last, inner_zero, ylo, yhi, pos):
    """:func:`cocodiff.engine.facts.facts_range` of the masks ``rows[lo:hi]`` (each fact at the
    mask's own index)."""
    for k in range(lo, hi):
        r = rows[k]
        facts_range(counts, offsets, h, r, r + 1, area, total, ext, first, last, inner_zero, ylo, yhi, pos)


@serial
def match_groups(g_dt, g_gt, g_iou, ious, gt_crowd, gt_area, gt_id, dt_area, area_rng, iou_thrs,
                 code, npig, dt_match, lo, hi):
    """Greedy matching of every group, area range and IoU threshold (``evaluateImg``).

    Parameters
    ----------
    g_dt, g_gt : int64 (n_groups + 1,)
        Group ``q``'s detections are ``[g_dt[q], g_dt[q+1])`` (highest score first, at most
        ``maxDets[-1]``), its ground truths ``[g_gt[q], g_gt[q+1])`` (file order).
    g_iou : int64 (n_groups,)
        Where group ``q``'s ``D x G`` IoU block starts in ``ious`` (row-major, detection-major).
    ious : float64
    gt_crowd : uint8, gt_area : float64, gt_id : int64 -- per ground truth
    dt_area : float64 -- per detection
    area_rng : float64 (A, 2), iou_thrs : float64 (T,)
    code : uint8 (n_dt, A, T), out
        :data:`IGNORED`, :data:`TP` or :data:`FP`.
    npig : int64 (n_groups, A), out
        Ground truths not ignored.
    dt_match : int64 (n_dt, T), out
        The ground truth (row) each detection matched in area range 0, or -1.
    lo, hi : int
        The groups to do, ``[lo, hi)`` (threads share the work by ranges of groups).
    """
    A = area_rng.shape[0]
    T = iou_thrs.shape[0]
    lim = 1 - 1e-10
    tmin = lim
    for t in range(T):
        tmin = min(tmin, iou_thrs[t])
    for q in range(lo, hi):
        d0 = g_dt[q]
        D = g_dt[q + 1] - d0
        g0 = g_gt[q]
        G = g_gt[q + 1] - g0
        io = g_iou[q]
        perm = np.empty(G, np.int64)
        ig = np.zeros(G, np.uint8)
        used = np.zeros(G, np.uint8)
        # per detection, the ground truths it could match at the lowest threshold, in the visiting
        # order: the others would be passed over at every threshold (their IoU is below it), and
        # where pycocotools would stop at one of them (an ignored one, after a regular match),
        # every later one is ignored too, so it stops at the next candidate or runs out the same
        cand = np.empty((D, G), np.int64)
        ncand = np.zeros(D, np.int64)
        for a in range(A):
            lo_a = area_rng[a, 0]
            hi_a = area_rng[a, 1]
            n_ok = 0
            for j in range(G):
                ar = gt_area[g0 + j]
                ig[j] = 1 if (gt_crowd[g0 + j] != 0 or ar < lo_a or ar > hi_a) else 0
                if ig[j] == 0:
                    perm[n_ok] = j
                    n_ok += 1
            npig[q, a] = n_ok
            k = n_ok
            for j in range(G):
                if ig[j] != 0:
                    perm[k] = j
                    k += 1
            for d in range(D):
                row = io + d * G
                c = 0
                for qq in range(G):
                    j = perm[qq]
                    if ious[row + j] >= tmin:
                        cand[d, c] = j
                        c += 1
                ncand[d] = c
            for t in range(T):
                thr = iou_thrs[t]
                thr = min(thr, lim)
                used[:] = 0
                for d in range(D):
                    best = thr
                    m = -1
                    row = io + d * G
                    for qq in range(ncand[d]):
                        j = cand[d, qq]
                        if used[j] != 0 and gt_crowd[g0 + j] == 0:
                            continue
                        if m > -1 and ig[m] == 0 and ig[j] == 1:
                            break
                        v = ious[row + j]
                        if v < best:
                            continue
                        best = v
                        m = j
                    di = d0 + d
                    ar = dt_area[di]
                    out_rng = ar < lo_a or ar > hi_a
                    if m == -1:
                        c = IGNORED if out_rng else FP
                    else:
                        used[m] = 1
                        if ig[m] != 0:
                            c = IGNORED
                        elif gt_id[g0 + m] != 0:
                            c = TP
                        else:
                            c = IGNORED if out_rng else FP
                    code[di, a, t] = c
                    if a == 0:
                        dt_match[di, t] = -1 if m == -1 else g0 + m


@serial
def accumulate(cat_dt, cat_off, rank, score, code, npig, max_dets, rec_thrs, precision, recall, scores,
               k_lo, k_hi):
    """``COCOeval.accumulate`` for categories ``[k_lo, k_hi)``: fills their entries of the
    precision, recall and scores arrays (allocated by the caller, filled with -1).

    Parameters
    ----------
    cat_dt : int64 (n,)
        Detections ordered by (category, image, rank in the image).
    cat_off : int64 (K + 1,)
        Category ``k``'s detections are ``cat_dt[cat_off[k]:cat_off[k+1]]``.
    rank : int64, score : float64 -- per detection (rank: place in its group by score)
    code : uint8 (n_dt, A, T) from :func:`match_groups`
    npig : int64 (K, A) ground truths that count, per category and area range
    max_dets : int64 (M,), rec_thrs : float64 (R,)
    precision (T, R, K, A, M), recall (T, K, A, M), scores (T, R, K, A, M) : float64, out
    """
    A = code.shape[1]
    T = code.shape[2]
    M = max_dets.shape[0]
    R = rec_thrs.shape[0]
    eps = np.spacing(1.0)
    for k in range(k_lo, k_hi):
        c0 = cat_off[k]
        c1 = cat_off[k + 1]
        any_gt = False
        for a in range(A):
            if npig[k, a] > 0:
                any_gt = True
        if not any_gt:
            continue
        for mi in range(M):
            md = max_dets[mi]
            nd = 0
            for i in range(c0, c1):
                if rank[cat_dt[i]] < md:
                    nd += 1
            sel = np.empty(nd, np.int64)
            neg = np.empty(nd, np.float64)
            j = 0
            for i in range(c0, c1):
                di = cat_dt[i]
                if rank[di] < md:
                    sel[j] = di
                    neg[j] = -score[di]
                    j += 1
            order = np.argsort(neg, kind="mergesort")
            sd = sel[order]
            # Along the score order, per (area range, threshold): the TP count rises at the TPs
            # only, so recall (tp / npig) steps there, and precision tp / (fp + tp + eps) peaks
            # there (an FP lowers it, an ignored detection keeps it). The precision made monotone
            # from the right at position i is therefore the largest precision at a TP at or after
            # i, and the first position reaching a recall threshold is a TP's (or 0 for a
            # threshold <= 0): precision is computed at the TPs only, with pycocotools'
            # expression, and every value read is one it reads.
            cap = 1
            for a in range(A):
                cap = max(cap, npig[k, a])
            if cap > nd:
                cap = max(nd, 1)
            tpos = np.empty((A, T, cap), np.int64)
            tpr = np.empty((A, T, cap), np.float64)
            ntp = np.zeros((A, T), np.int64)
            fpc = np.zeros((A, T), np.float64)
            for i in range(nd):
                di = sd[i]
                for a in range(A):
                    if npig[k, a] == 0:
                        continue
                    for t in range(T):
                        c = code[di, a, t]
                        if c == TP:
                            n = ntp[a, t]
                            tpv = np.float64(n + 1)
                            tpos[a, t, n] = i
                            tpr[a, t, n] = tpv / (fpc[a, t] + tpv + eps)
                            ntp[a, t] = n + 1
                        elif c == FP:
                            fpc[a, t] += 1.0
            for a in range(A):
                if npig[k, a] == 0:
                    continue
                fpos = np.float64(npig[k, a])
                for t in range(T):
                    n = ntp[a, t]
                    recall[t, k, a, mi] = np.float64(n) / fpos if nd > 0 else 0.0
                    p = tpr[a, t]
                    for j in range(n - 2, -1, -1):
                        p[j] = max(p[j], p[j + 1])
                    for ri in range(R):
                        precision[t, ri, k, a, mi] = 0.0
                        scores[t, ri, k, a, mi] = 0.0
                    v = 0
                    for ri in range(R):
                        thr = rec_thrs[ri]
                        if nd == 0:
                            break
                        if 0.0 / fpos >= thr:          # reached before any detection: position 0
                            precision[t, ri, k, a, mi] = p[0] if n > 0 else 0.0
                            scores[t, ri, k, a, mi] = score[sd[0]]
                            continue
                        while v < n and not (np.float64(v + 1) / fpos >= thr):
                            v += 1
                        if v >= n:
                            break
                        precision[t, ri, k, a, mi] = p[v]
                        scores[t, ri, k, a, mi] = score[sd[tpos[a, t, v]]]


@serial
def pair_mask_iou(dc, do, d_area, d_total, d_first, d_last, d_z, d_ylo, d_yhi, d_pos,
                  gc, go, g_area, g_total, g_first, g_last, g_z, g_ylo, g_yhi, g_pos,
                  pa, pb, crowd, out, lo, hi):
    """``rleIou`` of detection mask ``pa[k]`` (store ``dc``/``do``) against ground-truth mask
    ``pb[k]`` (store ``gc``/``go``) for pairs ``[lo, hi)``, into ``out``; each store with its
    :func:`cocodiff.engine.facts.mask_summary` facts (computed once per store, not per call).
    Equal, pair for pair, to that pair's :func:`cocodiff.engine.iou.iou_matrix` entry."""
    for k in range(lo, hi):
        a = pa[k]
        b = pb[k]
        out[k] = _iou_one(dc, d_pos, do[a], do[a + 1], gc, g_pos, go[b], go[b + 1], d_area[a], g_area[b],
                          d_total[a], g_total[b], d_first[a], g_first[b], d_last[a], g_last[b],
                          d_ylo[a], d_yhi[a], g_ylo[b], g_yhi[b], d_z[a] != 0 or g_z[b] != 0,
                          crowd[k] != 0, False)
