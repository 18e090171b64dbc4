"""COCO segmentation values in JSON: the one polygon-list parser and the RLE object parser.

:func:`poly_list` reads ``[[x, y, ...], ...]`` into flat coordinates plus numbers per ring; the
scanner (:mod:`cocodiff.engine.jsonscan`) calls it for every polygon annotation and
:func:`parse_polygons` (the msgspec path: the segmentation texts of a file decoded the slow
way) for every segmentation text. :func:`rle_obj` reads ``{"size": [h, w], "counts": ...}``
for the scanner. Numbers are converted by :mod:`cocodiff.engine.numparse`; those it defers are
recorded as slow spans (target ``T_*``, index, start, end: four arrays) and converted by its
:func:`slow_floats`.

Output arrays are passed to the kernels as data pointers with their capacities (flat
arguments: named tuples of them cost seconds of compile time); a full one gives status
``-NEED_*`` with nothing committed, for the caller to grow it and call again.
"""
from __future__ import annotations

import numpy as np

from ._intrinsics import load8 as _load8, ptr as _ptr
from ._jit import serial
from .jsonskip import key_bit, key_colon, key_is, key_repeats, next_item, skip_value, ws
from .numparse import NUM_BAD, NUM_SLOW, POW10, int18, num, short8, slow_floats
from .scancodes import (BAIL_KEY, BAIL_NESTING, BAIL_RLE, BAIL_SEGMENTATION, BAIL_STRING, NEED_COORDS, NEED_LIST,
                        NEED_RINGS, NEED_SLOW, NEED_STR, OK, SEG_RLE_LIST, SEG_RLE_STRING, T_COORD)

__all__ = ["poly_list", "rle_obj", "parse_polygons", "add_slow", "grow",
           "POLY_OK", "POLY_RLE", "POLY_NULL", "POLY_BAD"]

#: :func:`parse_polygons`' kinds of a segmentation text
POLY_OK = 0     # a polygon list
POLY_RLE = 1    # a JSON object (RLE, not parsed here)
POLY_NULL = 2   # ``null``
POLY_BAD = -1   # anything else


@serial(inline="always")
def add_slow(slow_t, slow_i, slow_a, slow_b, scap, ns, target, index, a, b):
    """Record the slow number ``buf[a:b]`` for output ``target`` (``T_*``), ``index`` in the slow-span
    arrays (pointers, capacity ``scap``): the new count, or -1 when they are full."""
    if ns >= scap:
        return -1
    slow_t[ns] = target
    slow_i[ns] = index
    slow_a[ns] = a
    slow_b[ns] = b
    return ns + 1


@serial
def poly_list(buf, p, end, coords, ncap, nv, ring_vals, rcap, nr, slow_t, slow_i, slow_a, slow_b, scap, ns):
    """Polygon list at ``p`` ('['): its numbers into ``coords``, numbers per ring into
    ``ring_vals``, slow spans (target ``T_COORD``) into ``slow_*``, after the first ``nv``,
    ``nr``, ``ns`` of them (pointers, capacities ``ncap``, ``rcap``, ``scap``). Returns (status,
    p, nv, nr, ns, rings read): ``BAIL_SEGMENTATION`` for anything but a list of lists of
    numbers, ``-NEED_*`` when an output is full (nothing committed: grow it, call again)."""
    p = ws(buf, p + 1, end)
    nri = 0
    if p < end and buf[p] == 93:
        return OK, p + 1, nv, nr, ns, 0
    while True:
        if p >= end or buf[p] != 91:
            return BAIL_SEGMENTATION, p, nv, nr, ns, nri
        p = ws(buf, p + 1, end)
        cnt = 0
        if p < end and buf[p] == 93:
            p += 1
        else:
            while True:
                if p + 18 <= end and nv < ncap:   # hot path: a short number and a comma
                    w = _load8(buf, p)
                    ok, ln, m, e = short8(w)
                    if ok and ((w >> np.uint64(8 * ln)) & np.uint64(0xFF)) == 44:
                        v = np.float64(m)
                        if e > 0:
                            v = v / POW10[e]
                        coords[nv] = v
                        nv += 1
                        cnt += 1
                        p += ln + 1
                        continue
                p = ws(buf, p, end)   # after '[' or ',': whitespace allowed
                val, q, code = num(buf, p, end)
                if code == NUM_BAD:
                    return BAIL_SEGMENTATION, p, nv, nr, ns, nri
                if nv >= ncap:
                    return -NEED_COORDS, p, nv, nr, ns, nri
                coords[nv] = val
                if code == NUM_SLOW:
                    ns2 = add_slow(slow_t, slow_i, slow_a, slow_b, scap, ns, T_COORD, nv, p, q)
                    if ns2 < 0:
                        return -NEED_SLOW, p, nv, nr, ns, nri
                    ns = ns2
                nv += 1
                cnt += 1
                p = q
                if p < end and buf[p] == 44:
                    p += 1
                    if p < end and buf[p] <= 32:
                        p = ws(buf, p, end)
                    continue
                more, p = next_item(buf, p, end, 93)
                if more == 1:
                    continue
                if more == 0:
                    break
                return BAIL_SEGMENTATION, p, nv, nr, ns, nri
        if nr >= rcap:
            return -NEED_RINGS, p, nv, nr, ns, nri
        ring_vals[nr] = cnt
        nr += 1
        nri += 1
        more, p = next_item(buf, p, end, 93)
        if more == 1:
            continue
        if more == 0:
            return OK, p, nv, nr, ns, nri
        return BAIL_SEGMENTATION, p, nv, nr, ns, nri


@serial
def grow(a, need):
    """``a``, or a copy with room for ``need`` items (at least twice the size)."""
    if need <= a.shape[0]:
        return a
    b = np.empty(max(need, 2 * a.shape[0]), a.dtype)
    b[:a.shape[0]] = a
    return b


_K_SIZE = np.frombuffer(b"size", np.uint8).copy()
_K_COUNTS = np.frombuffer(b"counts", np.uint8).copy()


@serial
def rle_obj(buf, p, end, sbytes, sbcap, nsb, lcounts, lccap, nlc):
    """RLE object at ``p`` ('{'). Returns (status, p, kind, h, w, nsb, nlc). ``sbytes`` /
    ``lcounts`` are pointers with capacities ``sbcap`` / ``lccap``; a full one gives status
    ``-NEED_STR`` / ``-NEED_LIST``. A key repeated: ``BAIL_RLE`` (``size`` / ``counts``) or ``BAIL_KEY``."""
    a0 = p
    p = ws(buf, p + 1, end)
    rseen = 0
    kind = SEG_RLE_STRING
    hv = 0
    wv = 0
    if p < end and buf[p] == 125:
        return BAIL_RLE, p, kind, hv, wv, nsb, nlc
    while True:
        if p >= end or buf[p] != 34:
            return BAIL_RLE, p, kind, hv, wv, nsb, nlc
        st, ka, kb, p = key_colon(buf, p, end)
        if st != OK:
            return st, p, kind, hv, wv, nsb, nlc
        if key_is(buf, ka, kb, _K_SIZE):
            if (rseen & 1) != 0 or p >= end or buf[p] != 91:
                return BAIL_RLE, p, kind, hv, wv, nsb, nlc
            rseen |= 1
            p = ws(buf, p + 1, end)
            hv, q, ok = int18(buf, p, end)
            if not ok:
                return BAIL_RLE, p, kind, hv, wv, nsb, nlc
            p = ws(buf, q, end)
            if p >= end or buf[p] != 44:
                return BAIL_RLE, p, kind, hv, wv, nsb, nlc
            p = ws(buf, p + 1, end)
            wv, q, ok = int18(buf, p, end)
            if not ok:
                return BAIL_RLE, p, kind, hv, wv, nsb, nlc
            p = ws(buf, q, end)
            if p >= end or buf[p] != 93:
                return BAIL_RLE, p, kind, hv, wv, nsb, nlc
            p += 1
        elif key_is(buf, ka, kb, _K_COUNTS):
            if (rseen & 2) != 0 or p >= end:
                return BAIL_RLE, p, kind, hv, wv, nsb, nlc
            rseen |= 2
            if buf[p] == 34:   # compressed string
                kind = SEG_RLE_STRING
                p += 1
                while True:
                    if p >= end:
                        return BAIL_STRING, p, kind, hv, wv, nsb, nlc
                    ch = buf[p]
                    if ch == 34:
                        p += 1
                        break
                    if ch == 92:
                        if p + 1 >= end:
                            return BAIL_STRING, p, kind, hv, wv, nsb, nlc
                        ch = buf[p + 1]
                        if not (ch == 92 or ch == 47 or ch == 34):
                            return BAIL_STRING, p, kind, hv, wv, nsb, nlc
                        p += 1
                    elif ch < 32 or ch >= 128:
                        return BAIL_STRING, p, kind, hv, wv, nsb, nlc
                    if nsb >= sbcap:
                        return -NEED_STR, p, kind, hv, wv, nsb, nlc
                    sbytes[nsb] = ch
                    nsb += 1
                    p += 1
            elif buf[p] == 91:   # uncompressed list
                kind = SEG_RLE_LIST
                p = ws(buf, p + 1, end)
                if p < end and buf[p] == 93:
                    p += 1
                else:
                    while True:
                        iv, q, ok = int18(buf, p, end)
                        if not ok:
                            return BAIL_RLE, p, kind, hv, wv, nsb, nlc
                        if nlc >= lccap:
                            return -NEED_LIST, p, kind, hv, wv, nsb, nlc
                        lcounts[nlc] = iv
                        nlc += 1
                        more, p = next_item(buf, q, end, 93)
                        if more == 1:
                            continue
                        if more == 0:
                            break
                        return BAIL_RLE, p, kind, hv, wv, nsb, nlc
            else:
                return BAIL_RLE, p, kind, hv, wv, nsb, nlc
        else:
            bit = key_bit(buf, ka, kb, 2, 60)
            if (rseen & bit) != 0 and key_repeats(buf, a0, ka, kb):
                return BAIL_KEY, p, kind, hv, wv, nsb, nlc
            rseen |= bit
            q = skip_value(buf, p, end, end >= 0)   # True, as a plain bool (see jsonscan._anns' STRICT)
            if q < 0:
                return BAIL_NESTING, p, kind, hv, wv, nsb, nlc
            p = q
        more, p = next_item(buf, p, end, 125)
        if more == 1:
            continue
        if more == 0:
            break
        return BAIL_RLE, p, kind, hv, wv, nsb, nlc
    if (rseen & 3) != 3:
        return BAIL_RLE, p, kind, hv, wv, nsb, nlc
    return OK, p, kind, hv, wv, nsb, nlc



@serial
def _count_bounds(buf):
    n_open = 0
    n_sep = 0
    for i in range(buf.shape[0]):
        c = buf[i]
        n_open += c == 91
        n_sep += (c == 44) | (c == 93)
    return n_open, n_sep


@serial
def _poly_texts(data, seg_off, i, nv, nr, ns, coords, ring_vals, slow_t, slow_i, slow_a, slow_b, seg_kind, seg_nrings):
    """Segmentation texts ``i ..`` of :func:`parse_polygons` into the output arrays after ``nv``
    numbers, ``nr`` rings, ``ns`` slow spans. Returns (the text an output filled up in, or n;
    the counts before it; the ``NEED_*`` bits asked for, 0 when done)."""
    buf = _ptr(data)
    n = seg_off.shape[0] - 1
    while i < n:
        end = seg_off[i + 1]
        p = ws(buf, seg_off[i], end)
        seg_nrings[i] = 0
        kind = POLY_BAD
        if p < end:
            c = buf[p]
            if c == 123:
                kind = POLY_RLE
            elif c == 110:
                kind = POLY_NULL
            elif c == 91:
                st, p, nv2, nr2, ns2, nri = poly_list(buf, p, end, _ptr(coords), coords.shape[0], nv, _ptr(ring_vals),
                                                      ring_vals.shape[0], nr, _ptr(slow_t), _ptr(slow_i), _ptr(slow_a),
                                                      _ptr(slow_b), slow_t.shape[0], ns)
                if st < 0:
                    return i, nv, nr, ns, -st
                seg_nrings[i] = nri
                if st == OK:
                    kind = POLY_OK
                    nv, nr, ns = nv2, nr2, ns2
        seg_kind[i] = kind
        i += 1
    return i, nv, nr, ns, 0


def parse_polygons(buf: np.ndarray, seg_offsets: np.ndarray):
    """Parse JSON segmentation texts; polygon lists become flat coordinates.

    Parameters
    ----------
    buf : ndarray of uint8
        The JSON texts of all segmentations, concatenated.
    seg_offsets : ndarray of int64 (n + 1,)

    Returns
    -------
    seg_kind : ndarray of int8 (n,)
        :data:`POLY_OK` polygon list (``[[x, y, ...], ...]``), :data:`POLY_RLE` JSON object (RLE,
        not parsed here), :data:`POLY_NULL` ``null``, :data:`POLY_BAD` anything else (not numbers
        in lists of lists: the caller explains).
    seg_nrings : ndarray of int64 (n,)
        Rings per polygon segmentation.
    ring_vals : ndarray of int64
        Numbers per ring (empty when any ``seg_kind`` is :data:`POLY_BAD`).
    coords : ndarray of float64
        All numbers, exactly as Python's ``float`` would read them.

    Examples
    --------
    >>> s = b"[[1, 2.5, 3e1, -4, 5, 6]]"
    >>> k, nr, rv, xy = parse_polygons(np.frombuffer(s, np.uint8), np.array([0, len(s)]))
    >>> xy
    array([ 1. ,  2.5, 30. , -4. ,  5. ,  6. ])
    """
    buf = np.ascontiguousarray(buf, dtype=np.uint8)
    seg_offsets = np.ascontiguousarray(seg_offsets, dtype=np.int64)
    n = seg_offsets.shape[0] - 1
    seg_kind = np.empty(n, np.int8)
    seg_nrings = np.empty(n, np.int64)
    # upper bounds: every ring opens with '[', every number is followed by ',' or ']'
    n_open, n_sep = _count_bounds(buf)
    coords = np.empty(n_sep, np.float64)
    ring_vals = np.empty(n_open, np.int64)
    slow = [np.empty(n_sep // 16 + 64, t) for t in (np.int8, np.int64, np.int64, np.int64)]   # target, index, a, b
    i = nv = nr = ns = 0
    while True:
        i, nv, nr, ns, need = _poly_texts(buf, seg_offsets, i, nv, nr, ns, coords, ring_vals, *slow, seg_kind,
                                          seg_nrings)
        if not need:
            break
        if need & NEED_COORDS:
            coords = grow(coords, 2 * coords.shape[0] + 64)
        if need & NEED_RINGS:
            ring_vals = grow(ring_vals, 2 * ring_vals.shape[0] + 64)
        if need & NEED_SLOW:
            slow = [grow(a, 2 * a.shape[0] + 64) for a in slow]
    if (seg_kind == POLY_BAD).any():
        return seg_kind, seg_nrings, np.zeros(0, np.int64), np.zeros(0, np.float64)
    coords = coords[:nv]
    if ns:
        coords[slow[1][:ns]] = slow_floats(buf, slow[2][:ns], slow[3][:ns])
    return seg_kind, seg_nrings, ring_vals[:nr], coords
