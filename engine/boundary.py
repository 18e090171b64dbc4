"""Boundary IoU (Cheng et al., CVPR 2021) for pairs of RLE masks.

Follows the official implementation (bowenc0221/boundary-iou-api,
``boundary_iou/utils/boundary_utils.py::mask_to_boundary``):

* ``d = max(1, round(dilation_ratio * sqrt(h**2 + w**2)))`` with the *image* size
  (``dilation_ratio`` 0.02 by default; ``round`` is Python's, half to even);
* the mask is padded by one zero pixel on every side and eroded ``d`` times with a 3x3
  kernel -- i.e. a pixel survives iff every pixel within Chebyshev distance ``d`` is
  foreground, pixels outside the image counting as background;
* boundary = mask minus its erosion;
* Boundary IoU of a pair = |B1 & B2| / |B1 | B2| (plain IoU of the two boundary masks,
  what the official COCO evaluator passes to ``maskUtils.iou`` for non-crowd ground truth;
  no crowd rule here). 0 when both boundaries are empty.

Work is done on RLE counts (pycocotools layout: column-major, runs alternate starting
with background). For each pair only the crop covering the union of the two masks'
extents is decoded: outside it both masks are background, so the erosion inside the
crop with zero padding equals the erosion of the full zero-padded image. The erosion by
a (2d+1) square is done separably (a 1-D run-length test along columns, then rows).
"""
from __future__ import annotations

import numpy as np

from ._jit import parallel, prange, serial

__all__ = ["dilation_for", "boundary_iou_pairs", "boundary_rle_mask"]


def dilation_for(h, w, dilation_ratio=0.02):
    """Erosion depth ``d`` of the official code for images of size ``h`` x ``w`` (arrays ok).

    Examples
    --------
    >>> int(dilation_for(480, 640))
    16
    """
    h = np.asarray(h, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    d = np.round(dilation_ratio * np.sqrt(h * h + w * w)).astype(np.int64)
    return np.maximum(d, 1)


@serial
def _extent(counts, lo, hi, h):
    """(x0, x1, y0, y1) inclusive extent of the foreground; x0 = -1 when empty."""
    pos = 0
    val = 0
    x0 = -1
    x1 = -1
    y0 = h
    y1 = -1
    for k in range(lo, hi):
        c = np.int64(counts[k])
        if val == 1 and c > 0:
            s = pos
            e = pos + c - 1
            xs = s // h
            xe = e // h
            if x0 == -1:
                x0 = xs
            x1 = xe
            if xe > xs:
                y0 = 0
                y1 = h - 1
            else:
                ys = s - xs * h
                ye = e - xs * h
                if ys < y0:
                    y0 = ys
                if ye > y1:
                    y1 = ye
        pos += c
        val = 1 - val
    return x0, x1, y0, y1


@serial
def _decode_crop(counts, lo, hi, h, x0, y0, buf):
    """Write the mask's pixels inside the crop into ``buf[x - x0, y - y0]`` (buf zeroed)."""
    cw = buf.shape[0]
    ch = buf.shape[1]
    pos = 0
    val = 0
    for k in range(lo, hi):
        c = np.int64(counts[k])
        if val == 1 and c > 0:
            s = pos
            e = pos + c  # exclusive
            xs = s // h
            xe = (e - 1) // h
            xa = max(xs, x0)
            xb = min(xe, x0 + cw - 1)
            for x in range(xa, xb + 1):
                ya = max(s - x * h, 0)
                yb = min(e - x * h, h)
                ya = max(ya, y0)
                yb = min(yb, y0 + ch)
                for y in range(ya, yb):
                    buf[x - x0, y - y0] = 1
        pos += c
        val = 1 - val


@serial
def _boundary_inplace(m, d, tmp):
    """Replace binary ``m`` (cw, ch) by its boundary (m minus erosion by a (2d+1) square)."""
    cw = m.shape[0]
    ch = m.shape[1]
    need = d + 1
    # pass 1: along y (second axis) -> tmp
    for x in range(cw):
        run = 0
        for y in range(ch):
            if m[x, y]:
                run += 1
            else:
                run = 0
            tmp[x, y] = 1 if run >= need else 0   # left run long enough
        run = 0
        for y in range(ch - 1, -1, -1):
            if m[x, y]:
                run += 1
            else:
                run = 0
            if run < need:
                tmp[x, y] = 0
    # pass 2: along x on tmp; boundary = m & ~eroded
    for y in range(ch):
        run = 0
        for x in range(cw):
            if tmp[x, y]:
                run += 1
            else:
                run = 0
            # store "left ok" in bit 1 of tmp
            if run >= need:
                tmp[x, y] = 3
        run = 0
        for x in range(cw - 1, -1, -1):
            if tmp[x, y]:
                run += 1
            else:
                run = 0
            eroded = run >= need and tmp[x, y] == 3
            if eroded:
                m[x, y] = 0


@serial
def _flush_mv(s, e, h, x0, y0, d, m, v):
    xs = s // h
    xe = (e - 1) // h
    for x in range(xs, xe + 1):
        ya = max(s - x * h, 0)
        yb = min(e - x * h, h)
        for y in range(ya, yb):
            m[x - x0, y - y0] = 1
        for y in range(ya + d, yb - d):
            v[x - x0, y - y0] = 1


@serial
def _decode_mv(counts, lo, hi, h, x0, y0, d, m, v):
    """Decode the mask (``m``) and its vertical erosion by radius ``d`` (``v``) into the crop.

    Works on maximal foreground intervals (runs separated by an empty background run
    are merged), cut per column with the image top/bottom counting as background, so the
    vertical erosion of a column segment ``[ya, yb)`` is simply ``[ya + d, yb - d)``.
    """
    pos = np.int64(0)
    fs = np.int64(-1)
    fe = np.int64(-1)
    for k in range(lo, hi):
        c = np.int64(counts[k])
        if (k - lo) % 2 == 1 and c > 0:
            if fs >= 0 and fe == pos:
                fe = pos + c
            else:
                if fs >= 0:
                    _flush_mv(fs, fe, h, x0, y0, d, m, v)
                fs = pos
                fe = pos + c
        pos += c
    if fs >= 0:
        _flush_mv(fs, fe, h, x0, y0, d, m, v)


@serial
def _pair_boundary_iou(counts, offsets, a, b, h, w, d):
    la = offsets[a]
    ha = offsets[a + 1]
    lb = offsets[b]
    hb = offsets[b + 1]
    ax0, ax1, ay0, ay1 = _extent(counts, la, ha, h)
    bx0, bx1, by0, by1 = _extent(counts, lb, hb, h)
    if ax0 == -1 and bx0 == -1:
        return 0.0
    if ax0 == -1:
        x0, x1, y0, y1 = bx0, bx1, by0, by1
    elif bx0 == -1:
        x0, x1, y0, y1 = ax0, ax1, ay0, ay1
    else:
        x0 = min(ax0, bx0)
        x1 = max(ax1, bx1)
        y0 = min(ay0, by0)
        y1 = max(ay1, by1)
    cw = x1 - x0 + 1
    ch = y1 - y0 + 1
    ma = np.zeros((cw, ch), np.uint8)
    va = np.zeros((cw, ch), np.uint8)
    mb = np.zeros((cw, ch), np.uint8)
    vb = np.zeros((cw, ch), np.uint8)
    _decode_mv(counts, la, ha, h, x0, y0, d, ma, va)
    _decode_mv(counts, lb, hb, h, x0, y0, d, mb, vb)
    # horizontal erosion: column c = x - d is eroded iff columns x-2d..x of v are all 1;
    # run lengths per row, v overwritten in place by the erosion of column c.
    la_ = np.zeros(ch, np.int32)
    lb_ = np.zeros(ch, np.int32)
    win = 2 * d + 1
    inter = 0
    union = 0
    for x in range(cw + d):
        c = x - d
        if x < cw:
            for y in range(ch):   # branch-free run lengths (v is 0/1)
                la_[y] = (la_[y] + 1) * va[x, y]
                lb_[y] = (lb_[y] + 1) * vb[x, y]
            if c >= 0:
                for y in range(ch):
                    p = ma[c, y] & np.uint8(la_[y] < win)
                    q = mb[c, y] & np.uint8(lb_[y] < win)
                    inter += p & q
                    union += p | q
        elif c >= 0:
            for y in range(ch):
                p = ma[c, y]
                q = mb[c, y]
                inter += p & q
                union += p | q
    if union == 0:
        return 0.0
    return inter / union


@serial
def _biou_serial(counts, offsets, pa, pb, h, w, d):
    n = pa.shape[0]
    out = np.empty(n)
    for k in range(n):
        out[k] = _pair_boundary_iou(counts, offsets, pa[k], pb[k], h[k], w[k], d[k])
    return out


@parallel
def _biou_parallel(counts, offsets, pa, pb, h, w, d):
    n = pa.shape[0]
    out = np.empty(n)
    for k in prange(n):
        out[k] = _pair_boundary_iou(counts, offsets, pa[k], pb[k], h[k], w[k], d[k])
    return out


def boundary_iou_pairs(counts, offsets, pa, pb, h, w, dilation=None, dilation_ratio=0.02, parallel=None):
    """Boundary IoU of mask pairs ``(pa[k], pb[k])`` of one RLE store.

    Parameters
    ----------
    counts : uint32 flat RLE counts; offsets : int64 (n_masks + 1).
    pa, pb : int64 (n_pairs) mask indices.
    h, w : int64 (n_pairs) image size of each pair (both masks share it).
    dilation : int64 (n_pairs) or None -- erosion depth; None: :func:`dilation_for(h, w)`.
    parallel : bool or None -- None: parallel when there are more than 20000 pairs (the parallel
        twin is not cached: compiling it costs seconds, worth it only for big batches).

    Returns
    -------
    float64 (n_pairs)

    Examples
    --------
    >>> import numpy as np
    >>> counts = np.array([0, 16, 5, 11], np.uint32)   # 4x4 full square / its first 5 px
    >>> off = np.array([0, 2, 4])
    >>> float(boundary_iou_pairs(counts, off, np.array([0]), np.array([0]), np.array([4]), np.array([4]))[0])
    1.0
    """
    counts = np.ascontiguousarray(counts, dtype=np.uint32)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    pa = np.ascontiguousarray(pa, dtype=np.int64)
    pb = np.ascontiguousarray(pb, dtype=np.int64)
    n = pa.shape[0]
    h = np.ascontiguousarray(np.broadcast_to(np.asarray(h, dtype=np.int64), (n,)))
    w = np.ascontiguousarray(np.broadcast_to(np.asarray(w, dtype=np.int64), (n,)))
    if dilation is None:
        dilation = dilation_for(h, w, dilation_ratio)
    d = np.ascontiguousarray(np.broadcast_to(np.asarray(dilation, dtype=np.int64), (n,)))
    if parallel is None:
        parallel = n > 20000
    fn = _biou_parallel if parallel else _biou_serial
    return fn(counts, offsets, pa, pb, h, w, d)


@serial
def _boundary_full(counts, lo, hi, h, w, d):
    m = np.zeros((w, h), np.uint8)
    _decode_crop(counts, lo, hi, h, 0, 0, m)
    tmp = np.empty((w, h), np.uint8)
    _boundary_inplace(m, d, tmp)
    return m


def boundary_rle_mask(counts, h, w, dilation=None, dilation_ratio=0.02):
    """Boundary of one RLE mask as a dense ``uint8 (h, w)`` array (for inspection / tests).

    Examples
    --------
    >>> import numpy as np
    >>> b = boundary_rle_mask(np.array([0, 16], np.uint32), 4, 4, dilation=1)
    >>> int(b.sum())   # the ring of a full 4x4 image (border counts as background)
    12
    """
    counts = np.ascontiguousarray(counts, dtype=np.uint32)
    if dilation is None:
        dilation = int(dilation_for(h, w, dilation_ratio))
    m = _boundary_full(counts, 0, counts.shape[0], int(h), int(w), int(dilation))
    return np.ascontiguousarray(m.T)
