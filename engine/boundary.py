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
crop with zero padding equals the erosion of the full zero-padded image. The crop is
held as bit columns (64 pixels a uint64 word); the erosion by a (2d+1) square is done
separably: along columns straight from the runs (a column segment ``[ya, yb)`` erodes
to ``[ya + d, yb - d)``), across columns as a sliding AND of 2d+1 bit columns (van Herk /
Gil-Werman: three word operations per word whatever ``d``); the two boundaries are
counted with popcounts.
"""
from __future__ import annotations

import numpy as np

from ._intrinsics import ptr as _ptr, ptr_add as _ptr_add
from ._jit import parallel, prange, serial
from .chunks import pair_cost_bounds
from .facts import _column_of, mask_summary

__all__ = ["biou_range", "dilation_for", "boundary_iou_pairs", "boundary_rle_mask"]


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


_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


@serial(inline="always")
def _popcount(x):
    """Set bits of a uint64 (SWAR; LLVM turns it into ``popcnt``)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@serial(inline="always")
def _set_bits(m, base, s, e):
    """Set bits ``[s, e)`` of the bit row starting at word ``m[base]`` (bit ``y`` in word ``y >> 6``)."""
    ws = base + (s >> 6)
    we = base + ((e - 1) >> 6)
    lo = _ALL << np.uint64(s & 63)
    hi = _ALL >> np.uint64(63 - ((e - 1) & 63))
    if ws == we:
        m[ws] |= lo & hi
    else:
        m[ws] |= lo
        for k in range(ws + 1, we):
            m[k] = _ALL
        m[we] |= hi


@serial(inline="always")
def _flush_bits(s, e, h, x0, y0, d, nw, m, v, x, cs, vr):
    """Set foreground ``[s, e)`` (column-major positions) in the flat bit crop ``m`` (``nw``
    words per column) and its vertical erosion in ``v``. ``x``, ``cs``: a column at or before
    ``s`` and its start position (tracked from interval to interval, without a division in
    the common cases); returns the column of ``e - 1`` and its start. ``vr``: first and last
    crop column holding ``v`` bits (``vr[0] == -1``: none yet), updated."""
    x, cs = _column_of(s, x, cs, h)
    while True:
        ya = s - cs
        if ya < 0:
            ya = 0
        yb = e - cs
        if yb > h:
            yb = h
        base = (x - x0) * nw
        _set_bits(m, base, ya - y0, yb - y0)
        if yb - ya > 2 * d:
            _set_bits(v, base, ya + d - y0, yb - d - y0)
            if vr[0] < 0:
                vr[0] = x - x0
            vr[1] = x - x0
        if e <= cs + h:
            return x, cs
        x += 1
        cs += h


@serial
def _decode_bits(counts, lo, hi, h, x0, y0, d, nw, m, v, vr):
    """Decode the mask (``m``) and its vertical erosion by radius ``d`` (``v``) into the flat
    bit crop: column ``x`` is words ``m[(x - x0) * nw:...]``, bit ``y - y0`` for pixel ``y``.

    Works on maximal foreground intervals (runs separated by an empty background run
    are merged), cut per column with the image top/bottom counting as background, so the
    vertical erosion of a column segment ``[ya, yb)`` is simply ``[ya + d, yb - d)``.
    ``vr`` (int64[2]) receives the first and last crop column with ``v`` bits (-1: none).
    """
    vr[0] = -1
    vr[1] = -1
    pos = np.int64(0)
    fs = np.int64(-1)
    fe = np.int64(-1)
    x = np.int64(0)
    cs = np.int64(0)
    for k in range(lo + 1, hi, 2):
        pos += np.int64(counts[k - 1])
        c = np.int64(counts[k])
        if c > 0:
            if fe == pos:        # touches the previous interval (empty background run)
                fe = pos + c
            else:
                if fs >= 0:
                    x, cs = _flush_bits(fs, fe, h, x0, y0, d, nw, m, v, x, cs, vr)
                fs = pos
                fe = pos + c
        pos += c
    if fs >= 0:
        _flush_bits(fs, fe, h, x0, y0, d, nw, m, v, x, cs, vr)


@serial
def _window_and(v, s, c0, c1, nw, L):
    """van Herk / Gil-Werman over bit columns ``c0..c1-1`` (``nw`` words each, flat): afterwards
    ``s[a] & v[a + L - 1]`` is the AND of columns ``a..a+L-1`` of the original ``v`` (``v``
    becomes block prefix ANDs, ``s`` block suffix ANDs; blocks of ``L`` columns from ``c0``)."""
    for b0 in range(c0, c1, L):
        b1 = min(b0 + L, c1)
        # suffix ANDs, right to left
        for i in range((b1 - 1) * nw, b1 * nw):
            s[i] = v[i]
        for i in range((b1 - 1) * nw - 1, b0 * nw - 1, -1):
            s[i] = v[i] & s[i + nw]
        # prefix ANDs in place, left to right
        for i in range((b0 + 1) * nw, b1 * nw):
            v[i] &= v[i - nw]


@serial
def _erode_out(m, v, s, vr, nw, d):
    """``m &= ~erosion`` where the erosion is the AND of 2d+1 columns of ``v`` (columns
    ``vr[0]..vr[1]`` hold all of ``v``'s bits; nothing outside them can be eroded)."""
    L = 2 * d + 1
    if vr[0] < 0 or vr[1] - vr[0] + 1 < L:
        return
    _window_and(v, s, vr[0], vr[1] + 1, nw, L)
    off = d * nw
    for i in range((vr[0] + d) * nw, (vr[1] - d + 1) * nw):
        m[i] &= ~(s[i - off] & v[i + off])


@serial
def _count_boundary(ma, mb, sz):
    inter = np.int64(0)
    union = np.int64(0)
    for i in range(sz):
        p = ma[i]
        q = mb[i]
        inter += _popcount(p & q)
        union += _popcount(p | q)
    return inter, union


@serial
def _pair_boundary_iou(counts, offsets, a, b, h, w, d, buf, bcap, ext, vr):
    """Boundary IoU of masks ``a`` and ``b``: (value, words needed). Every array is a pointer
    (no reference counting per pair): ``counts``, ``offsets``, ``buf`` (uint64 scratch of
    ``bcap`` words: when the crop needs more, nothing is computed and the second value says how
    many), ``ext`` (the masks' extents, flat :func:`cocodiff.engine.relate.rle_extents` rows),
    ``vr`` (int64[2] scratch).

    The union crop of the two extents is held as bit columns (64 pixels a word): mask
    ``m`` and its vertical erosion ``v`` decoded from the runs; the horizontal erosion of
    ``v`` by a (2d+1) window is a sliding AND (van Herk), and the boundary
    ``m & ~erosion`` of both masks is counted with popcounts.
    """
    la = offsets[a]
    ha = offsets[a + 1]
    lb = offsets[b]
    hb = offsets[b + 1]
    # rle_extents layout: x0, y0, x1, y1 (exclusive), x1 == x0 when empty
    ax0, ay0, ax1, ay1 = ext[4 * a], ext[4 * a + 1], ext[4 * a + 2] - 1, ext[4 * a + 3] - 1
    bx0, by0, bx1, by1 = ext[4 * b], ext[4 * b + 1], ext[4 * b + 2] - 1, ext[4 * b + 3] - 1
    if ax1 < ax0:
        ax0 = -1
    if bx1 < bx0:
        bx0 = -1
    if ax0 == -1 and bx0 == -1:
        return 0.0, 0
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
    nw = (ch + 63) >> 6
    sz = cw * nw
    if 4 * sz > bcap:
        return 0.0, 4 * sz
    for i in range(3 * sz):
        buf[i] = 0
    ma = buf
    mb = _ptr_add(buf, sz)
    v = _ptr_add(buf, 2 * sz)
    sw = _ptr_add(buf, 3 * sz)
    _decode_bits(counts, la, ha, h, x0, y0, d, nw, ma, v, vr)
    _erode_out(ma, v, sw, vr, nw, d)
    for i in range(sz):
        v[i] = 0
    _decode_bits(counts, lb, hb, h, x0, y0, d, nw, mb, v, vr)
    _erode_out(mb, v, sw, vr, nw, d)
    inter, union = _count_boundary(ma, mb, sz)
    if union == 0:
        return 0.0, 0
    return inter / union, 0


@serial
def biou_range(counts, offsets, pa, pb, h, w, d, ext, out, lo, hi):
    buf = np.empty(4096, np.uint64)
    vr = np.empty(2, np.int64)
    ext_c = np.ascontiguousarray(ext)
    cp = _ptr(counts)
    op = _ptr(offsets)
    ep = _ptr(ext_c)
    vp = _ptr(vr)
    for k in range(lo, hi):
        while True:
            r, need = _pair_boundary_iou(cp, op, pa[k], pb[k], h[k], w[k], d[k], _ptr(buf), buf.shape[0], ep, vp)
            if need == 0:
                break
            buf = np.empty(max(need, 2 * buf.shape[0]), np.uint64)
        out[k] = r


@serial
def _biou_serial(counts, offsets, pa, pb, h, w, d, ext):
    out = np.empty(pa.shape[0])
    biou_range(counts, offsets, pa, pb, h, w, d, ext, out, 0, pa.shape[0])
    return out


@parallel
def _biou_parallel(counts, offsets, pa, pb, h, w, d, ext):
    out = np.empty(pa.shape[0])
    bounds = pair_cost_bounds(offsets, pa, pb, 256)
    for c in prange(bounds.shape[0] - 1):
        biou_range(counts, offsets, pa, pb, h, w, d, ext, out, bounds[c], bounds[c + 1])
    return out


def boundary_iou_pairs(counts, offsets, pa, pb, h, w, dilation=None, dilation_ratio=0.02, parallel=None,
                       ext=None):
    """Boundary IoU of mask pairs ``(pa[k], pb[k])`` of one RLE store.

    Parameters
    ----------
    counts : uint32 flat RLE counts; offsets : int64 (n_masks + 1).
    pa, pb : int64 (n_pairs) mask indices.
    h, w : int64 (n_pairs) image size of each pair (both masks share it).
    dilation : int64 (n_pairs) or None -- erosion depth; None: :func:`dilation_for(h, w)`.
    parallel : bool or None -- None: parallel when there are more than 20000 pairs (the parallel
        twin is not cached: compiling it costs seconds, worth it only for big batches).
    ext : int64 (n_masks, 4) or None -- the masks' extents as :func:`cocodiff.engine.relate.rle_extents`
        gives them (a speed-up when already known; None: computed here, each mask with the
        height of a pair it is in). They must be the exact extents of these masks: the crop is
        sized from them.

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
    if ext is None:
        hm = np.zeros(offsets.shape[0] - 1, np.int64)   # height 0: in no pair, extent not needed
        hm[pa] = h
        hm[pb] = h
        ext = mask_summary(counts, offsets, hm)[8]
    ext = np.ascontiguousarray(ext, dtype=np.int64)
    fn = _biou_parallel if parallel else _biou_serial
    return fn(counts, offsets, pa, pb, h, w, d, ext)


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
