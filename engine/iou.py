"""Mask and box IoU kernels, identical to pycocotools' ``rleIou`` / ``bbIou``.

``rleIou`` (cocoapi ``maskApi.c``) computes, for a detection ``d`` and a ground truth
``g`` of the same size, ``i = |d & g|`` and ``u = |d | g|`` (or ``u = area(d)`` when ``g``
is a crowd), and stores ``i / u`` as a double -- ``0.0`` when ``i == 0`` (the C code sets
``u = 1`` then). Its bounding-box pre-check only skips pairs that cannot intersect, so it
never changes a result between masks of the same size; here cheaper tests play that role:
the column-major index range of the foreground, and (when the mask heights are given) the
range of foreground rows. The sweep itself only visits the runs inside the overlap of the
two index ranges (binary search on run start positions), and a mask against itself (same
store, same index) is answered from its area.

The C intersection loop has one quirk: it stops as soon as both current runs are empty,
which an RLE holding zero-length runs after its first count can trigger early. Masks with
such inner zero counts go through an exact replica of the C loop; all others through a
foreground-interval sweep (about twice fewer steps) whose ``i`` and ``u`` are provably the
same integers, so every IoU is the same double.

Pairs whose masks have different sizes (different ``sum(counts)``) get ``-1.0`` from
these kernels; pycocotools gives ``-1`` for them only where the two boxes overlap and
``0`` elsewhere -- :func:`cocodiff.mask.iou` applies that rule.

The per-pair helpers (``_iou_one``, ``_inter_clipped``, ``_c_loop``) also serve the pair
kernels of the comparison (:func:`cocodiff.engine.relate.measures_range`) and of the
evaluation (:func:`cocodiff.engine.evaluate.pair_mask_iou`).
"""
from __future__ import annotations

import numpy as np

from .facts import mask_summary
from ._jit import serial

__all__ = ["iou_matrix", "bbox_iou_matrix"]


@serial
def _c_loop(ca, a0, a1, cb, b0, b1):
    """Exact replica of the rleIou inner loop; returns (i, u). Needs a1 > a0 and b1 > b0."""
    ka = a1 - a0
    kb = b1 - b0
    c_a = np.int64(ca[a0])
    c_b = np.int64(cb[b0])
    va = False
    vb = False
    a = 1
    b = 1
    i = np.int64(0)
    u = np.int64(0)
    ct = np.int64(1)
    while ct > 0:
        c = c_a if c_a < c_b else c_b
        if va or vb:
            u += c
            if va and vb:
                i += c
        ct = 0
        c_a -= c
        if c_a == 0 and a < ka:
            c_a = np.int64(ca[a0 + a])
            a += 1
            va = not va
        ct += c_a
        c_b -= c
        if c_b == 0 and b < kb:
            c_b = np.int64(cb[b0 + b])
            b += 1
            vb = not vb
        ct += c_b
    return i, u


@serial(inline="always")
def _fg_run_at(pos, a0, a1, x):
    """Index of the first foreground run of RLE [a0, a1) that ends after position x."""
    lo = a0
    hi = a1  # find the last j with pos[j] <= x
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if pos[mid] <= x:
            lo = mid
        else:
            hi = mid
    if (lo - a0) & 1 == 0:
        lo += 1
    return lo


@serial(inline="always")
def _inter_clipped(ca, pa, a0, a1, cb, pb, b0, b1, lo, hi):
    """Shared foreground of two RLEs, sweeping only the window [lo, hi) of positions."""
    ja = _fg_run_at(pa, a0, a1, lo)
    jb = _fg_run_at(pb, b0, b1, lo)
    inter = np.int64(0)
    if ja >= a1 or jb >= b1:
        return inter
    sa = pa[ja]
    ea = sa + np.int64(ca[ja])
    sb = pb[jb]
    eb = sb + np.int64(cb[jb])
    while True:
        s = sa if sa > sb else sb
        e = ea if ea < eb else eb
        if e > s:
            inter += e - s
        if ea <= eb:
            ja += 2
            if ja >= a1:
                break
            sa = pa[ja]
            if sa >= hi:
                break
            ea = sa + np.int64(ca[ja])
        else:
            jb += 2
            if jb >= b1:
                break
            sb = pb[jb]
            if sb >= hi:
                break
            eb = sb + np.int64(cb[jb])
    return inter


@serial(inline="always")
def _iou_one(ca, pa, a0, a1, cb, pb, b0, b1, area_a, area_b, tot_a, tot_b, fa, fb, la, lb,
             ylo_a, yhi_a, ylo_b, yhi_b, z, crowd, same):
    """IoU of dt = runs ca[a0:a1] against gt = runs cb[b0:b1], as rleIou computes it.

    ``same``: both are the very same mask (then i = u = area, unless the C loop's
    zero-run quirk applies).
    """
    if tot_a != tot_b:
        return -1.0
    if area_a == 0 or area_b == 0:
        return 0.0
    if same and not z:
        return 1.0
    if fa >= lb or fb >= la:
        return 0.0
    if ylo_a > yhi_b or ylo_b > yhi_a:
        return 0.0  # foreground rows do not overlap
    if z:
        i, u = _c_loop(ca, a0, a1, cb, b0, b1)
        if i == 0:
            return 0.0
        if crowd:
            u = area_a
        return np.float64(i) / np.float64(u)
    i = _inter_clipped(ca, pa, a0, a1, cb, pb, b0, b1,
                       fa if fa > fb else fb, la if la < lb else lb)
    if i == 0:
        return 0.0
    if crowd:
        u = area_a
    else:
        u = area_a + area_b - i
    return np.float64(i) / np.float64(u)


@serial
def iou_matrix(dt_counts, dt_offsets, gt_counts, gt_offsets, iscrowd, dt_h=None, gt_h=None):
    """IoU of every detection RLE against every ground-truth RLE (pycocotools' ``rleIou``).

    Parameters
    ----------
    dt_counts : ndarray of uint32
    dt_offsets : ndarray of int64 (m + 1,)
    gt_counts : ndarray of uint32
    gt_offsets : ndarray of int64 (n + 1,)
    iscrowd : ndarray of uint8 (n,)
        1 where the ground truth is a crowd: then ``u = area(dt)``.
    dt_h, gt_h : ndarray of int64 (m,), (n,), optional
        Mask heights. Only a speed-up (pairs whose foreground rows do not overlap are
        skipped without a sweep); the result is the same.

    Returns
    -------
    ndarray of float64 (m, n), Fortran order (like pycocotools)
        Identical (bit for bit) to ``pycocotools.mask.iou(dt, gt, iscrowd)`` for masks of
        the same size; ``-1.0`` for pairs of different sizes (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([1, 2, 3, 2, 4], np.uint32); o = np.array([0, 3, 5], np.int64)
    >>> iou_matrix(c, o, c, o, np.zeros(2, np.uint8))
    array([[1. , 0.2],
           [0.2, 1. ]])
    """
    m = dt_offsets.shape[0] - 1
    n = gt_offsets.shape[0] - 1
    if iscrowd.shape[0] != n:
        raise ValueError("iou_matrix: iscrowd must have one entry per ground truth")
    no_h = np.zeros(0, np.int64)
    if dt_h is None or gt_h is None:
        sd = mask_summary(dt_counts, dt_offsets, no_h)
        sg = mask_summary(gt_counts, gt_offsets, no_h)
    else:
        if dt_h.shape[0] != m or gt_h.shape[0] != n:
            raise ValueError("iou_matrix: dt_h / gt_h must have one height per mask")
        sd = mask_summary(dt_counts, dt_offsets, dt_h)
        sg = mask_summary(gt_counts, gt_offsets, gt_h)
    ad, td, fd, ld, zd, yld, yhd, pd, _ = sd
    ag, tg, fg, lg, zg, ylg, yhg, pg, _ = sg
    same_store = (dt_counts.shape[0] == gt_counts.shape[0] and m == n
                  and dt_counts.ctypes.data == gt_counts.ctypes.data
                  and dt_offsets.ctypes.data == gt_offsets.ctypes.data)
    out = np.zeros((n, m), np.float64)
    for g in range(n):
        crowd = iscrowd[g] != 0
        b0 = gt_offsets[g]
        b1 = gt_offsets[g + 1]
        for d in range(m):
            out[g, d] = _iou_one(dt_counts, pd, dt_offsets[d], dt_offsets[d + 1],
                                 gt_counts, pg, b0, b1, ad[d], ag[g], td[d], tg[g],
                                 fd[d], fg[g], ld[d], lg[g], yld[d], yhd[d], ylg[g], yhg[g],
                                 zd[d] != 0 or zg[g] != 0, crowd, same_store and d == g)
    return out.T


# --------------------------------------------------------------------------- boxes
@serial
def _fmin(a, b):
    if np.isnan(a):
        return b
    if np.isnan(b):
        return a
    return a if a < b else b


@serial
def _fmax(a, b):
    if np.isnan(a):
        return b
    if np.isnan(b):
        return a
    return a if a > b else b


@serial
def bbox_iou_matrix(dt, gt, iscrowd):
    """Box IoU of every ``dt`` box against every ``gt`` box (pycocotools' ``bbIou``).

    Parameters
    ----------
    dt : ndarray of float64 (m, 4)   boxes ``[x, y, w, h]``
    gt : ndarray of float64 (n, 4)
    iscrowd : ndarray of uint8 (n,)  crowd gt: ``u = area(dt box)``

    Returns
    -------
    ndarray of float64 (m, n), Fortran order (like pycocotools)

    Examples
    --------
    >>> import numpy as np
    >>> bbox_iou_matrix(np.array([[0., 0, 2, 2]]), np.array([[1., 0, 2, 2]]), np.zeros(1, np.uint8))
    array([[0.33333333]])
    """
    m = dt.shape[0]
    n = gt.shape[0]
    if iscrowd.shape[0] != n:
        raise ValueError("bbox_iou_matrix: iscrowd must have one entry per ground truth")
    out = np.zeros((n, m), np.float64)
    for g in range(n):
        ga = gt[g, 2] * gt[g, 3]
        crowd = iscrowd[g] != 0
        for d in range(m):
            da = dt[d, 2] * dt[d, 3]
            w = _fmin(dt[d, 2] + dt[d, 0], gt[g, 2] + gt[g, 0]) - _fmax(dt[d, 0], gt[g, 0])
            if w <= 0:
                continue
            h = _fmin(dt[d, 3] + dt[d, 1], gt[g, 3] + gt[g, 1]) - _fmax(dt[d, 1], gt[g, 1])
            if h <= 0:
                continue
            i = w * h
            u = da if crowd else da + ga - i
            out[g, d] = i / u
    return out.T
