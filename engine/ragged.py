"""Ragged-array kernels: gather/permute segments, the loader's polygon and RLE layouts.

A ragged array is ``values`` (flat) plus ``offsets`` (int64, ``len = n_segments + 1``,
starting at 0, non-decreasing); segment ``i`` is ``values[offsets[i]:offsets[i+1]]``.

Batches of compressed RLE strings are decoded by :func:`cocodiff.engine.rle.rle_from_strings`
(:func:`decode_strings` is the loader's name for it); polygon lists in JSON are parsed by
:func:`cocodiff.engine.jsonseg.parse_polygons`.
"""
from __future__ import annotations

import numpy as np

from ._intrinsics import ptr as _ptr, ptr_add as _ptr_add
from ._jit import serial
from .raster import _ring_bound
from .rle import RLE_BAD_CHAR, RLE_ERROR_TEXT, RLE_NEGATIVE, RLE_OK, RLE_OVERFLOW, RLE_TRUNCATED, rle_from_strings

__all__ = ["gather_ragged", "move_left", "rle_layout", "decode_strings", "ring_crossings_over",
           "RLE_OK", "RLE_BAD_CHAR", "RLE_TRUNCATED",
           "RLE_NEGATIVE", "RLE_OVERFLOW", "RLE_ERROR_TEXT"]


@serial
def _gather_kernel(values, offsets, idx, out, out_offsets):
    pos = 0
    out_offsets[0] = 0
    for j in range(idx.shape[0]):
        i = idx[j]
        a = offsets[i]
        b = offsets[i + 1]
        for k in range(a, b):
            out[pos] = values[k]
            pos += 1
        out_offsets[j + 1] = pos


def gather_ragged(values: np.ndarray, offsets: np.ndarray, idx: np.ndarray):
    """Gather segments ``idx`` of a ragged array, in that order.

    Parameters
    ----------
    values : ndarray (m,) or (m, k)
        Flat values; a 2-D array is gathered by rows.
    offsets : ndarray of int64 (n + 1,)
    idx : ndarray of int (j,)
        Segment indices (may repeat or omit segments).

    Returns
    -------
    out_values, out_offsets : ndarray, ndarray of int64 (j + 1,)

    Examples
    --------
    >>> v = np.array([1., 2., 3., 4.]); off = np.array([0, 1, 4])
    >>> gather_ragged(v, off, np.array([1, 0]))
    (array([2., 3., 4., 1.]), array([0, 3, 4]))
    """
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    lens = offsets[1:] - offsets[:-1]
    total = int(lens[idx].sum()) if idx.size else 0
    out_offsets = np.empty(idx.shape[0] + 1, np.int64)
    if values.ndim == 2:
        k = values.shape[1]
        flat = np.ascontiguousarray(values).reshape(-1)
        out = np.empty(total * k, values.dtype)
        _gather_kernel(flat, offsets * k, idx, out, out_offsets)
        return out.reshape(total, k), out_offsets // k
    out = np.empty(total, values.dtype)
    _gather_kernel(np.ascontiguousarray(values), offsets, idx, out, out_offsets)
    return out, out_offsets


@serial
def move_left(buf, src, dst, n):
    """``buf[dst:dst + n] = buf[src:src + n]`` for ``dst <= src`` (overlap allowed), in place.

    Examples
    --------
    >>> b = np.arange(6); move_left(b, 2, 1, 4); b.tolist()
    [0, 2, 3, 4, 5, 5]
    """
    for k in range(n):
        buf[dst + k] = buf[src + k]


@serial(inline="always")
def _copy_count_bad(dst, src, m, max_abs):
    """Copy ``m`` values (pointers) and count those that are not ``|v| <= max_abs`` (one
    vectorised pass: every value is read once)."""
    nb = 0
    for k in range(m):
        v = src[k]
        dst[k] = v
        nb += not (abs(v) <= max_abs)
    return nb


@serial(inline="always")
def _count_bad(src, m, max_abs):
    nb = 0
    for k in range(m):
        nb += not (abs(src[k]) <= max_abs)
    return nb


@serial
def _polygon_layout(coords, ring_vals, r0, n_rings, max_abs, copy, out, out_rv, inst_ro, ring_off):
    """See :func:`polygon_layout`. Returns (first odd ring, first bad value), output indices.

    An instance's rings are contiguous in the source, so its values are moved as one block
    (checked while copied); only an instance holding a bad value is searched value by value.
    """
    nsrc = ring_vals.shape[0]
    val_off = np.empty(nsrc + 1, np.int64)
    val_off[0] = 0
    for r in range(nsrc):
        val_off[r + 1] = val_off[r] + ring_vals[r]
    cp = _ptr(coords)
    op = _ptr(out)
    first_odd = -1
    first_bad = -1
    rr = 0
    pos = 0
    inst_ro[0] = 0
    ring_off[0] = 0
    for j in range(n_rings.shape[0]):
        ra = r0[j]
        rb = ra + n_rings[j]
        for r in range(ra, rb):
            m = ring_vals[r]
            out_rv[rr] = m
            ring_off[rr + 1] = ring_off[rr] + m // 2
            if m % 2 != 0 and first_odd < 0:
                first_odd = rr
            rr += 1
        inst_ro[j + 1] = rr
        a = val_off[ra]
        m = val_off[rb] - a
        if copy:
            nb = _copy_count_bad(_ptr_add(op, pos), _ptr_add(cp, a), m, max_abs)
        else:
            nb = _count_bad(_ptr_add(cp, a), m, max_abs)
        if nb > 0 and first_bad < 0:
            for k in range(m):
                if not (abs(coords[a + k]) <= max_abs):
                    first_bad = pos + k
                    break
        pos += m
    return first_odd, first_bad


def polygon_layout(coords: np.ndarray, ring_vals: np.ndarray, r0: np.ndarray, n_rings: np.ndarray,
                   max_abs: float):
    """Put polygon rings in instance order and check them, in one pass over the coordinates.

    Parameters
    ----------
    coords : ndarray of float64
        All numbers of all rings, ring after ring (source order).
    ring_vals : ndarray of int64
        Numbers per source ring.
    r0, n_rings : ndarray of int64 (n,)
        Instance ``j`` (output order) is source rings ``r0[j] .. r0[j] + n_rings[j] - 1``.
    max_abs : float
        Largest allowed ``|coordinate|``; NaN and infinities fail too.

    Returns
    -------
    coords, ring_vals, inst_ring_offsets, ring_offsets, first_odd, first_bad
        Reordered numbers (the input itself when already in order), numbers per ring, rings
        per instance (n + 1 offsets), points per ring (offsets of ``coords.reshape(-1, 2)``
        when every ring is even), the first ring with an odd number of values and the first
        bad number (output indices, -1 when none).

    Examples
    --------
    >>> c = np.array([1., 2, 3, 4, 5, 6, 9., 9, 8, 8, 7, 7])
    >>> out = polygon_layout(c, np.array([6, 6]), np.array([1, 0]), np.array([1, 1]), 1e6)
    >>> out[0][:6], out[3], out[4:]
    (array([9., 9., 8., 8., 7., 7.]), array([0, 3, 6]), (-1, -1))
    """
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    ring_vals = np.ascontiguousarray(ring_vals, dtype=np.int64)
    r0 = np.ascontiguousarray(r0, dtype=np.int64)
    n_rings = np.ascontiguousarray(n_rings, dtype=np.int64)
    n = n_rings.shape[0]
    inst_ro = np.empty(n + 1, np.int64)
    n_out = int(n_rings.sum())
    ident = n_out == ring_vals.shape[0] and bool((r0 == np.cumsum(n_rings) - n_rings).all())
    total = coords.shape[0] if ident else int(_selected_total(ring_vals, r0, n_rings))
    out = coords if ident else np.empty(total, np.float64)
    out_rv = np.empty(n_out, np.int64)
    ring_off = np.empty(n_out + 1, np.int64)
    first_odd, first_bad = _polygon_layout(coords, ring_vals, r0, n_rings, float(max_abs), not ident,
                                           out, out_rv, inst_ro, ring_off)
    return out, out_rv, inst_ro, ring_off, int(first_odd), int(first_bad)


@serial
def _rle_layout(s_counts, s_off, l_counts, l_off, src, is_str, out, out_off, seg_sum):
    """See :func:`rle_layout`; returns the first output segment holding a bad list count (-1: none)."""
    first_bad = -1
    o = 0
    out_off[0] = 0
    for j in range(src.shape[0]):
        i = src[j]
        t = np.uint64(0)
        if is_str[j]:
            for k in range(s_off[i], s_off[i + 1]):
                v = s_counts[k]
                out[o] = v
                t += np.uint64(v)
                o += 1
        else:
            for k in range(l_off[i], l_off[i + 1]):
                v = l_counts[k]
                if v < 0 or v > 4294967295:
                    if first_bad < 0:
                        first_bad = j
                    v = 0
                out[o] = np.uint32(v)
                t += np.uint64(v)
                o += 1
        seg_sum[j] = t
        out_off[j + 1] = o
    return first_bad


def rle_layout(s_counts: np.ndarray, s_off: np.ndarray, l_counts: np.ndarray, l_off: np.ndarray,
               src: np.ndarray, is_str: np.ndarray):
    """The loader's RLE counts in instance order, checked and summed in one pass.

    Output segment ``j`` is string-decoded segment ``src[j]`` of ``s_counts`` when ``is_str[j]``,
    else list segment ``src[j]`` of ``l_counts`` (int64 as parsed, each checked to fit uint32).
    Both ragged inputs have one segment per source instance (empty where it has none).

    Returns
    -------
    counts : ndarray of uint32
    offsets : ndarray of int64 (len(src) + 1,)
    seg_sum : ndarray of uint64 (len(src),)
        Sum of each output segment's counts.
    first_bad : int
        First output segment with a list count outside ``0 .. 2**32 - 1`` (written as 0), -1 when none.

    Examples
    --------
    >>> sc, so = np.array([3, 1], np.uint32), np.array([0, 2, 2, 2])    # instance 0: a string
    >>> lc, lo = np.array([2, 2, -1]), np.array([0, 0, 2, 3])          # instances 1, 2: lists
    >>> c, o, t, bad = rle_layout(sc, so, lc, lo, np.array([1, 0, 2]), np.array([False, True, False]))
    >>> c.tolist(), o.tolist(), t.tolist(), bad
    ([2, 2, 3, 1, 0], [0, 2, 4, 5], [4, 4, 0], 2)
    """
    s_off = np.ascontiguousarray(s_off, dtype=np.int64)
    l_off = np.ascontiguousarray(l_off, dtype=np.int64)
    src = np.ascontiguousarray(src, dtype=np.int64)
    is_str = np.ascontiguousarray(is_str, dtype=np.bool_)
    n = src.shape[0]
    lens = np.where(is_str, s_off[1:][src] - s_off[:-1][src], l_off[1:][src] - l_off[:-1][src])
    out = np.empty(int(lens.sum()), np.uint32)
    out_off = np.empty(n + 1, np.int64)
    seg_sum = np.empty(n, np.uint64)
    first_bad = _rle_layout(np.ascontiguousarray(s_counts, dtype=np.uint32), s_off,
                            np.ascontiguousarray(l_counts, dtype=np.int64), l_off, src, is_str, out, out_off, seg_sum)
    return out, out_off, seg_sum, int(first_bad)


@serial
def _selected_total(ring_vals, r0, n_rings):
    t = 0
    for j in range(n_rings.shape[0]):
        for r in range(r0[j], r0[j] + n_rings[j]):
            t += ring_vals[r]
    return t


def decode_strings(buf: np.ndarray, byte_offsets: np.ndarray):
    """Decode a batch of compressed COCO RLE strings to uint32 counts.

    Parameters
    ----------
    buf : ndarray of uint8
        All strings' bytes, concatenated.
    byte_offsets : ndarray of int64 (n + 1,)
        String ``i`` is ``buf[byte_offsets[i]:byte_offsets[i+1]]``.

    Returns
    -------
    counts : ndarray of uint32
    counts_offsets : ndarray of int64 (n + 1,)
    err : ndarray of int8 (n,)
        0 where string ``i`` decoded; else one of the ``RLE_*`` codes (its segment then holds
        garbage and must not be used; see :data:`RLE_ERROR_TEXT`).

    Examples
    --------
    >>> s = b"52203"  # 5, 2, 2, then deltas: 0 + 2, 3 + 2
    >>> decode_strings(np.frombuffer(s, np.uint8), np.array([0, len(s)]))[0]
    array([5, 2, 2, 2, 5], dtype=uint32)
    """
    return rle_from_strings(np.ascontiguousarray(buf, dtype=np.uint8),
                            np.ascontiguousarray(byte_offsets, dtype=np.int64))


@serial
def _ring_crossings_over(xy, ring_offsets, inst_ring_offsets, is_poly, h, w, max_extra):
    """See :func:`ring_crossings_over` (``xy`` flat)."""
    xyp = _ptr(xy)
    for i in range(is_poly.shape[0]):
        if not is_poly[i]:
            continue
        hw = np.int64(h[i]) * np.int64(w[i]) + 1
        extra = 8 * hw if 8 * hw < max_extra else np.int64(max_extra)
        for g in range(inst_ring_offsets[i], inst_ring_offsets[i + 1]):
            p0 = ring_offsets[g]
            k = ring_offsets[g + 1] - p0
            allowed = 2 * k + extra
            if k * np.int64(w[i]) <= allowed:   # each edge crosses at most w columns
                continue
            rb = _ring_bound(xyp, p0, p0 + k, w[i])
            if rb > allowed:
                return i, g - inst_ring_offsets[i], rb, allowed
    return -1, -1, np.int64(0), np.int64(0)


def ring_crossings_over(xy, ring_offsets, inst_ring_offsets, is_poly, h, w, max_extra):
    """The first polygon ring whose rasterisation would cross pixel-column boundaries more than
    ``2 * points + min(8 * (h * w + 1), max_extra)`` times (the rasteriser's crossing bound,
    :func:`cocodiff.engine.raster.ring_bound`): ``(instance, ring within it, bound, allowed)``,
    or ``(-1, -1, 0, 0)``. A simple polygon crosses each column boundary at most about 5 * h
    times (once per upsampled row); more means a ring doubling back over itself, e.g. a zigzag
    of millions of points across the image, whose crossing points would need gigabytes.

    Examples
    --------
    >>> xy = np.array([[0.5, 0.], [9.5, 1.], [0.5, 2.], [9.5, 3.]])
    >>> ring_crossings_over(xy, np.array([0, 4]), np.array([0, 1]), np.array([True]), np.array([10]),
    ...                     np.array([10]), 1 << 24)
    (-1, -1, 0, 0)
    >>> ring_crossings_over(xy, np.array([0, 4]), np.array([0, 1]), np.array([True]), np.array([10]),
    ...                     np.array([10]), 20)
    (0, 0, 40, 28)
    """
    i, k, rb, allowed = _ring_crossings_over(np.ascontiguousarray(xy, dtype=np.float64).reshape(-1),
                                             np.ascontiguousarray(ring_offsets, dtype=np.int64),
                                             np.ascontiguousarray(inst_ring_offsets, dtype=np.int64),
                                             np.ascontiguousarray(is_poly, dtype=np.bool_),
                                             np.ascontiguousarray(h, dtype=np.int64),
                                             np.ascontiguousarray(w, dtype=np.int64), int(max_extra))
    return int(i), int(k), int(rb), int(allowed)
