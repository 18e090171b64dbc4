"""Per-mask facts of an RLE store, in one pass over the runs: what every pair kernel reads.

One kernel serves the IoU matrix (:mod:`cocodiff.engine.iou`), the comparison
(:mod:`cocodiff.engine.relate`, ``cocodiff.compare``), the evaluation's pair IoU and Boundary
IoU's crops (:mod:`cocodiff.engine.boundary`): area, sum of counts, pixel extent, first / last foreground
position, the zero-length-run flag of pycocotools' early stop, the foreground row range and the
start position of every run.

Conventions (column-major positions, runs alternate starting with background):

* an empty mask: ``first = total``, ``last = 0``, extent ``0, 0, 0, 0``, rows ``0 .. max``;
* a mask whose height is unknown (``h[i] <= 0``): extent zeros, rows ``0 .. max`` (no row
  test can reject a pair), everything else as usual.
"""
from __future__ import annotations

import numpy as np

from ._jit import serial

__all__ = ["facts_outputs", "facts_range", "mask_summary"]

_INT64_MAX = np.iinfo(np.int64).max


@serial(inline="always")
def _column_of(p, x, cs, h):
    """Column of position ``p`` (column-major, height ``h``) and that column's start, from a
    column ``x`` at or before it starting at ``cs``: a step of one or none in the common case,
    a division only for a longer jump."""
    r = p - cs
    if r >= h:
        if r < 2 * h:
            return x + 1, cs + h
        x = p // h
        return x, x * h
    return x, cs


@serial
def facts_outputs(n):
    """The per-mask arrays :func:`facts_range` fills for ``n`` masks:
    ``(area, total, ext, first, last, inner_zero, ylo, yhi)``."""
    return (np.empty(n, np.int64), np.empty(n, np.int64), np.empty((n, 4), np.int64), np.empty(n, np.int64),
            np.empty(n, np.int64), np.empty(n, np.uint8), np.empty(n, np.int64), np.empty(n, np.int64))


@serial
def facts_range(counts, offsets, h, lo, hi, area, total, ext, first, last, inner_zero, ylo, yhi, pos):
    """Facts of masks ``lo..hi-1`` into the :func:`facts_outputs` arrays, and the start position
    of each of their runs into ``pos`` (any integer dtype wide enough).

    ``area``: foreground pixels; ``total``: sum of counts (h * w for a valid RLE); ``ext``:
    ``x0, y0, x1, y1`` with exclusive ends (:func:`cocodiff.engine.relate.rle_extents`);
    ``first`` / ``last``: first foreground position and one past the last; ``inner_zero``: 1
    where a count after the first is 0 (pycocotools' IoU loop may stop early there);
    ``ylo`` / ``yhi``: inclusive foreground row range.
    """
    for i in range(lo, hi):
        a = offsets[i]
        b = offsets[i + 1]
        hh = np.int64(h[i])
        p = np.int64(0)
        ar = np.int64(0)
        f = np.int64(-1)
        end = np.int64(0)
        z = 0
        x0 = np.int64(-1)
        x1 = np.int64(-1)
        y0 = hh
        y1 = np.int64(-1)
        xs = np.int64(0)
        cs = np.int64(0)
        for j in range(a, b):
            c = np.int64(counts[j])
            pos[j] = p
            if c == 0 and j > a:
                z = 1
            if (j - a) & 1 and c > 0:
                if f < 0:
                    f = p
                e = p + c - 1
                end = e + 1
                ar += c
                if hh > 0:
                    xs, cs = _column_of(p, xs, cs, hh)   # tracked without a division in the common cases
                    if x0 == -1:
                        x0 = xs
                    if e - cs >= hh:    # the run spans columns: every row
                        x1 = e // hh
                        y0 = 0
                        y1 = hh - 1
                    else:
                        x1 = xs
                        ys = p - cs
                        ye = e - cs
                        if ys < y0:
                            y0 = ys
                        if ye > y1:
                            y1 = ye
            p += c
        area[i] = ar
        total[i] = p
        first[i] = p if f < 0 else f
        last[i] = end
        inner_zero[i] = z
        if x0 >= 0:
            ext[i, 0] = x0
            ext[i, 1] = y0
            ext[i, 2] = x1 + 1
            ext[i, 3] = y1 + 1
            ylo[i] = y0
            yhi[i] = y1
        else:
            ext[i, 0] = 0
            ext[i, 1] = 0
            ext[i, 2] = 0
            ext[i, 3] = 0
            ylo[i] = 0
            yhi[i] = _INT64_MAX


@serial
def mask_summary(counts, offsets, h):
    """:func:`facts_range` of every mask of a store (``h`` empty: heights unknown).

    Returns
    -------
    area, total, first, last, inner_zero, ylo, yhi, pos, ext

    Examples
    --------
    >>> import numpy as np
    >>> s = mask_summary(np.array([5, 2, 9], np.uint32), np.array([0, 3]), np.array([4]))
    >>> [int(v[0]) for v in s[:7]], s[8].tolist()
    ([2, 16, 5, 7, 0, 1, 2], [[1, 1, 2, 3]])
    """
    n = offsets.shape[0] - 1
    area, total, ext, first, last, inner_zero, ylo, yhi = facts_outputs(n)
    pos = np.empty(counts.shape[0], np.int64)
    hh = h if h.shape[0] == n else np.zeros(n, np.int64)
    facts_range(counts, offsets, hh, 0, n, area, total, ext, first, last, inner_zero, ylo, yhi, pos)
    return area, total, first, last, inner_zero, ylo, yhi, pos, ext
