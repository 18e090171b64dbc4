"""Polygon -> RLE rasteriser, bit-identical to pycocotools' ``rleFrPoly`` (+ ``rleMerge``).

The public entry points -- one ring (:func:`poly_to_rle`), a batch of instances
(:func:`rasterize_batch`, :func:`rasterize_batch_parallel`, :func:`rasterize_range`) -- and
the instance and batch logic; the scan conversion of one ring, and the rule it reproduces,
are in :mod:`cocodiff.engine.ring_rle`.

Instances, as pycocotools' ``annToRLE`` builds them: an instance given as RLE keeps its
counts verbatim; rings of a polygon instance are merged left to right with
:func:`cocodiff.engine.merge.rle_merge2_into`. An instance whose rings are all exactly 2
points (``[x, y, w, h]``) is rasterised as boxes, as pycocotools' ``frPyObjects`` dispatch
intends (2.0.11 raises on a *list* of boxes; an ndarray of them -- and hotcoco -- give exactly
this). A polygon instance with no ring (pycocotools raises) gets the empty mask ``[h*w]``.
"""
from __future__ import annotations

import numpy as np
from numba import get_num_threads as numba_threads   # callable inside kernels

from .chunks import cost_bounds
from ._intrinsics import ptr as _ptr
from ._jit import parallel, prange, serial
from .merge import rle_merge2_into
from .ring_rle import _ring_bound, _ring_rle, make_scratch, ring_bound, ring_to_rle_into

__all__ = ["rasterize_range", "poly_to_rle", "ring_bound", "ring_to_rle_into", "make_scratch",
           "rasterize_batch", "rasterize_batch_parallel", "instance_bounds"]


@serial
def poly_to_rle(xy_flat, h, w):
    """RLE counts of one polygon ring, identical to ``pycocotools.mask.frPyObjects([ring], h, w)``.

    Parameters
    ----------
    xy_flat : float64[:]
        ``[x0, y0, x1, y1, ...]``; an odd trailing value is ignored (as pycocotools does).
    h, w : int
        Mask height and width.

    Returns
    -------
    uint32[:]
        Column-major RLE counts, first run background.

    Examples
    --------
    >>> import numpy as np
    >>> poly_to_rle(np.array([0., 0., 2., 0., 2., 2., 0., 2.]), 3, 3).tolist()
    [0, 2, 1, 2, 4]
    """
    k = xy_flat.shape[0] // 2
    xy = xy_flat[:2 * k].reshape((k, 2))
    bound = ring_bound(xy, 0, k, w)
    scr = make_scratch(k, bound, w)
    out = np.empty(bound + 1, np.uint32)
    m = ring_to_rle_into(xy, 0, k, h, w, scr, out, 0)
    return out[:m].copy()


# ---------------------------------------------------------------------------------------
# batches
# ---------------------------------------------------------------------------------------

@serial
def _instance_ring_bound(xy, p0, p1, w):
    """:func:`ring_bound` of ring ``p0:p1`` of the flat ``xy`` pointer; a 2-point ring may be
    read as a box ``[x, y, bw, bh]`` (see :func:`_rasterize_one`), whose 4-edge rectangle can
    cross more columns: the larger of the two."""
    rb = _ring_bound(xy, p0, p1, w)
    if p1 - p0 == 2:
        bw = abs(xy[2 * p0 + 2])
        cb = np.int64(w)
        if bw < cb:
            cb = np.int64(bw) + 3
        if 2 * cb + 4 > rb:
            rb = 2 * cb + 4
    return rb


@serial
def instance_bounds(xy, ring_offsets, inst_ring_offsets, counts_offsets, kind, w, rows, h=None):
    """Per requested row: an upper bound on its RLE length, and its max ring size/bound.

    Returns ``(bound, max_ring_pts, max_ring_bound)`` arrays over ``rows``. With the heights
    ``h``, a polygon instance's bound is capped at ``h * w + 1``: its mask has at most that
    many runs (every run after the first is at least one pixel), however many crossings its
    rings have; ``max_ring_bound`` (the crossing-point scratch a ring needs) is not capped.
    """
    nr = rows.shape[0]
    bound = np.empty(nr, np.int64)
    mpts = np.zeros(nr, np.int64)
    mrb = np.zeros(nr, np.int64)
    xyp = _ptr(xy)
    for r in range(nr):
        i = rows[r]
        if kind[i] != 0:
            bound[r] = counts_offsets[i + 1] - counts_offsets[i]
            continue
        b = np.int64(0)
        r0 = inst_ring_offsets[i]
        r1 = inst_ring_offsets[i + 1]
        for g in range(r0, r1):
            p0 = ring_offsets[g]
            p1 = ring_offsets[g + 1]
            rb = _instance_ring_bound(xyp, p0, p1, w[i])
            b += rb + 1
            if p1 - p0 > mpts[r]:
                mpts[r] = p1 - p0
            if rb > mrb[r]:
                mrb[r] = rb
        if b < 1:
            b = 1
        if h is not None:
            cap = np.int64(h[i]) * np.int64(w[i]) + 1
            if b > cap:
                b = cap
        bound[r] = b
    return bound, mpts, mrb


@serial
def _rasterize_one(i, xy, ring_offsets, inst_ring_offsets, counts, counts_offsets, kind, h, w,
                   out, o, ix, iy, pos, pcol, srt, cnt, e0, e1, exs, eys, es, exm, acc, tmp, ring, bxy):
    """Instance ``i``'s RLE written at ``out[o:]``; returns its length.

    Every array is a pointer (``xy`` flat, ``bxy`` 8 floats); scratch must be large enough (see
    :func:`instance_bounds`): ``ix..e1`` as :func:`make_scratch`, ``acc``/``tmp``/``ring`` >=
    instance bound.
    """
    if kind[i] != 0:
        c0 = counts_offsets[i]
        c1 = counts_offsets[i + 1]
        for j in range(c1 - c0):
            out[o + j] = counts[c0 + j]
        return c1 - c0
    hi = h[i]
    wi = w[i]
    r0 = inst_ring_offsets[i]
    r1 = inst_ring_offsets[i + 1]
    nrings = r1 - r0
    if nrings == 0:
        # pycocotools cannot rasterise an empty polygon list; we return an empty mask
        out[o] = np.uint32(hi * wi)
        return 1
    # pycocotools' frPyObjects reads a first ring of exactly 4 numbers as a bbox list
    # [x, y, w, h] (then every ring is one); annToRLE follows, so do we when all are.
    as_bbox = True
    for g in range(r0, r1):
        if ring_offsets[g + 1] - ring_offsets[g] != 2:
            as_bbox = False
            break
    m = np.int64(0)   # not a literal: one compiled version of rle_merge2_into
    for g in range(r0, r1):
        if as_bbox:
            p = ring_offsets[g]
            xs = xy[2 * p]
            ys = xy[2 * p + 1]
            xe = xs + xy[2 * p + 2]
            ye = ys + xy[2 * p + 3]
            bxy[0] = xs
            bxy[1] = ys
            bxy[2] = xs
            bxy[3] = ye
            bxy[4] = xe
            bxy[5] = ye
            bxy[6] = xe
            bxy[7] = ys
            src = bxy
            q0 = 0
            q1 = 4
        else:
            src = xy
            q0 = ring_offsets[g]
            q1 = ring_offsets[g + 1]
        if nrings == 1:
            dst = out
            od = o
        elif g == r0:
            dst = acc
            od = 0
        else:
            dst = ring
            od = 0
        mr = _ring_rle(src, q0, q1, hi, wi, ix, iy, pos, pcol, srt, cnt, e0, e1, exs, eys, es, exm, dst, od, False)
        if nrings == 1:
            return mr
        if g == r0:
            m = mr
            continue
        m = rle_merge2_into(acc, m, ring, mr, tmp, False)
        acc, tmp = tmp, acc
    for j in range(m):
        out[o + j] = acc[j]
    return m


@serial
def rasterize_range(xy, ring_offsets, inst_ring_offsets, counts, counts_offsets, kind, h, w,
                     rows, r_start, r_end, bnd, o0, out, lens):
    """Rasterise ``rows[r_start:r_end]`` into ``out`` back to back from ``out[o0]``;
    lengths to ``lens[r]``. ``bnd[r]`` are the rows' length bounds (``out`` must hold
    their sum from ``o0``). Scratch is allocated once, sized to the largest ring/instance:
    a ring's crossing points need its crossing bound, which never exceeds its instance's
    bound unless that was capped at ``h * w + 1`` (:func:`instance_bounds`): such rows'
    rings are measured here. Returns the end offset.
    """
    if r_end <= r_start:
        return o0
    max_pts = np.int64(4)
    max_b = np.int64(1)
    max_w = np.int64(1)
    max_pb = np.int64(1)   # crossing points of the largest ring
    xyp = _ptr(xy)
    for r in range(r_start, r_end):
        i = rows[r]
        if bnd[r] > max_b:
            max_b = bnd[r]
        if kind[i] == 0:
            if w[i] > max_w:
                max_w = w[i]
            capped = bnd[r] >= np.int64(h[i]) * np.int64(w[i]) + 1
            for g in range(inst_ring_offsets[i], inst_ring_offsets[i + 1]):
                npt = ring_offsets[g + 1] - ring_offsets[g]
                if npt > max_pts:
                    max_pts = npt
                if capped:   # the bound may be capped below this ring's crossings: measure them
                    rb = _instance_ring_bound(xyp, ring_offsets[g], ring_offsets[g + 1], w[i])
                    if rb > max_pb:
                        max_pb = rb
    if max_b > max_pb:
        max_pb = max_b
    ix, iy, pos, pcol, srt, cnt, e0, e1, exs, eys, es, exm = make_scratch(max_pts, max_pb, max_w)
    acc = np.empty(max_b + 1, np.uint32)
    tmp = np.empty(max_b + 1, np.uint32)
    ring = np.empty(max_b + 1, np.uint32)
    bxy = np.empty(8, np.float64)
    o = o0
    for r in range(r_start, r_end):
        m = _rasterize_one(rows[r], _ptr(xy), _ptr(ring_offsets), _ptr(inst_ring_offsets), _ptr(counts),
                           _ptr(counts_offsets), _ptr(kind), _ptr(h), _ptr(w), _ptr(out), o,
                           _ptr(ix), _ptr(iy), _ptr(pos), _ptr(pcol), _ptr(srt), _ptr(cnt), _ptr(e0), _ptr(e1),
                           _ptr(exs), _ptr(eys), _ptr(es), _ptr(exm), _ptr(acc), _ptr(tmp), _ptr(ring), _ptr(bxy))
        lens[r] = m
        o += m
    return o


@serial
def rasterize_batch(xy, ring_offsets, inst_ring_offsets, counts, counts_offsets, kind, h, w, rows):
    """RLE masks of instances ``rows`` (in that order), as pycocotools' ``annToRLE``.

    Polygon instances (``kind == 0``): every ring rasterised like ``frPyObjects`` and the
    rings unioned like ``merge`` (one ring: its RLE as is). RLE instances (``kind`` 1 or
    2): their counts are copied unchanged. See ``cocodiff.dataset`` for the layout.

    Parameters
    ----------
    xy : float64[:, 2]
    ring_offsets, inst_ring_offsets : int64[:]
    counts : uint32[:]
    counts_offsets : int64[:]
    kind : int8[:]
    h, w : int64[:]
        Mask height / width per instance (all instances, not only ``rows``).
    rows : int64[:]
        Instance indices to rasterise.

    Returns
    -------
    out_counts : uint32[:]
    out_offsets : int64[:]
        ``len(rows) + 1`` offsets: row ``r``'s RLE is ``out_counts[out_offsets[r]:out_offsets[r+1]]``.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.array([[0., 0.], [2., 0.], [2., 2.], [0., 2.]])
    >>> c, o = rasterize_batch(xy, np.array([0, 4]), np.array([0, 1]), np.zeros(0, np.uint32),
    ...                        np.zeros(2, np.int64), np.zeros(1, np.int8), np.array([3]),
    ...                        np.array([3]), np.array([0]))
    >>> c.tolist(), o.tolist()
    ([0, 2, 1, 2, 4], [0, 5])
    """
    nr = rows.shape[0]
    bnd, _, _ = instance_bounds(xy, ring_offsets, inst_ring_offsets, counts_offsets, kind, w, rows, h)
    total = np.int64(0)
    for r in range(nr):
        total += bnd[r]
    out = np.empty(total, np.uint32)
    lens = np.empty(nr, np.int64)
    used = rasterize_range(xy, ring_offsets, inst_ring_offsets, counts, counts_offsets, kind,
                            h, w, rows, 0, nr, bnd, 0, out, lens)
    offsets = _cumsum_offsets(lens)
    if total - used > used // 4:  # give back a loose bound's slack
        return out[:used].copy(), offsets
    return out[:used], offsets


@serial
def _cumsum_offsets(lens):
    nr = lens.shape[0]
    offsets = np.empty(nr + 1, np.int64)
    offsets[0] = 0
    for r in range(nr):
        offsets[r + 1] = offsets[r] + lens[r]
    return offsets


@serial
def _plan(xy, ring_offsets, inst_ring_offsets, counts_offsets, kind, w, rows, nchunks, h):
    """Length bounds per row, and cost-balanced chunks with their output regions.

    Cost of a row = its RLE-length bound + its point count + a constant; chunk ``c`` is
    ``rows[bounds[c]:bounds[c+1]]`` (:func:`cocodiff.engine.chunks.cost_bounds`) and writes
    from ``base[c]``.
    """
    nr = rows.shape[0]
    bnd, _, _ = instance_bounds(xy, ring_offsets, inst_ring_offsets, counts_offsets, kind,
                                w, rows, h)
    cum = np.empty(nr + 1, np.int64)
    cum[0] = 0
    for r in range(nr):
        i = rows[r]
        npts = ring_offsets[inst_ring_offsets[i + 1]] - ring_offsets[inst_ring_offsets[i]]
        cum[r + 1] = cum[r] + bnd[r] + npts + 4
    bounds = cost_bounds(cum, nchunks)
    nchunks = bounds.shape[0] - 1
    base = np.empty(nchunks + 1, np.int64)
    base[0] = 0
    for c in range(nchunks):
        t = np.int64(0)
        for r in range(bounds[c], bounds[c + 1]):
            t += bnd[r]
        base[c + 1] = base[c] + t
    return bnd, bounds, base


@serial
def _concat_chunks(buf, base, bounds, offsets, c):
    """Where chunk ``c``'s packed rows lie in ``buf`` and where they go in ``out``: ``(src, dst, n)``."""
    src = base[c]
    dst = offsets[bounds[c]]
    return src, dst, offsets[bounds[c + 1]] - dst


@parallel
def rasterize_batch_parallel(xy, ring_offsets, inst_ring_offsets, counts, counts_offsets, kind,
                             h, w, rows):
    """Multi-threaded :func:`rasterize_batch` (identical output).

    Rows are cut into contiguous chunks of equal estimated cost (see :func:`_plan`), 8 per
    thread; each chunk runs serially with its own scratch and writes its rows back to back
    into its own region of a shared buffer; the regions are then concatenated in parallel.
    """
    nr = rows.shape[0]
    bnd, bounds, base = _plan(xy, ring_offsets, inst_ring_offsets, counts_offsets, kind,
                              w, rows, 8 * numba_threads(), h)
    nchunks = bounds.shape[0] - 1
    buf = np.empty(base[nchunks], np.uint32)
    lens = np.empty(nr, np.int64)
    for c in prange(nchunks):
        rasterize_range(xy, ring_offsets, inst_ring_offsets, counts, counts_offsets, kind, h, w,
                         rows, bounds[c], bounds[c + 1], bnd, base[c], buf, lens)
    offsets = _cumsum_offsets(lens)
    out = np.empty(offsets[nr], np.uint32)
    for c in prange(nchunks):
        src, dst, n = _concat_chunks(buf, base, bounds, offsets, c)
        for j in range(n):
            out[dst + j] = buf[src + j]
    return out, offsets
