"""Scan conversion of one polygon ring to RLE, bit-identical to pycocotools' ``rleFrPoly``.

The rule being reproduced (cocoapi ``common/maskApi.c``)
-------------------------------------------------------
1. Vertices are upsampled x5 and rounded with a C cast: ``x = (int)(5*x + .5)``
   (truncation towards zero, so ``-0.3 -> 0``), the ring is closed.
2. Every edge is walked one upsampled step at a time along its major axis. After an
   orientation "flip" (x-major edges are walked from smaller x, y-major ones from smaller
   y) the minor coordinate of step ``t`` is ``(int)(start + s*t + .5)`` with
   ``s = (double)(d_minor)/d_major``.
3. Each pair of consecutive walk points whose upsampled x differs gives a candidate
   "y-boundary" point: it survives only when it lies exactly between upsampled columns
   ``5k+2`` and ``5k+3`` (``(xd+.5)/5-.5`` integral), ``0 <= k <= w-1``. Its row is
   ``ceil(clamp((min(v)+.5)/5-.5, 0, h))``.
4. The column-major positions ``k*h + row`` plus ``h*w`` are sorted, differenced and
   turned into runs; zero differences (repeated positions) cancel toggles.

The kernel here never walks the upsampled steps. Only the walk pairs that straddle a
``5k+2 | 5k+3`` column boundary matter, so per edge it enumerates the boundaries ``k`` in
the edge's x-range and evaluates the *same* floating-point expressions as the C code at
exactly the walk steps of that pair: x-major edges at ``t = 5k+2-xs`` directly; y-major
edges at the step found by a closed-form estimate corrected by evaluating the C
expression (which is monotone in the step). The row's ``ceil((v+.5)/5-.5)`` is done in
integers (identical for int32 inputs; a test checks it against the double expression).
Since every edge's column range is known up front, crossings are counted per column
(difference array), scattered straight into their column's slot and each short column is
insertion-sorted -- no global sort. Cost: O(vertices + crossings + columns spanned)
instead of O(5 * perimeter) plus a sort.

Layout (what pycocotools produces, reproduced bit for bit): the first run is ``a[0]`` even
when 0; a repeated position (zero difference) is dropped and swallows the next difference.

Out-of-range coordinates: a C ``(int)`` cast of a double outside the int32 range is
undefined behaviour; on x86-64 (where pycocotools wheels run) it yields ``INT_MIN``,
which is what :func:`_c_int` returns. ``w == 0`` / ``h == 0`` images are not emulated.

Instances (rings merged, boxes, RLE instances) and batches are :mod:`cocodiff.engine.raster`'s.
"""
from __future__ import annotations

import math

import numpy as np

from ._intrinsics import ptr as _ptr
from ._jit import serial

__all__ = ["ring_bound", "ring_to_rle_into", "make_scratch"]

_INT_MIN = -2147483648


@serial
def _c_int(v):
    """``(int)v`` of C on x86-64: truncate towards zero; NaN/out of int32 -> INT_MIN."""
    if not (v > -2147483649.0 and v < 2147483648.0):
        return np.int64(_INT_MIN)
    return np.int64(int(v))


@serial
def _row_cell(vm, h):
    """Row of a y-boundary point from the smaller upsampled y ``vm`` of its walk pair.

    The C code computes ``ceil(clamp((vm + .5) / 5 - .5, 0, h))`` in doubles. For integer
    ``vm`` that is exactly ``clamp(ceil((vm - 2) / 5), 0, h)``: ``(vm + .5) / 5 - .5`` is
    an exact integer when ``5 | vm - 2`` (``k + .5`` is representable), and otherwise at
    least 0.2 from any integer, far beyond rounding error for ``|vm| < 2**31``. The test
    suite checks the identity over a wide range against the double expression.
    """
    d = vm - 2
    if d <= 0:  # ceil(d / 5) <= 0 -> clamped to 0
        return np.int64(0)
    r = (d + 4) // 5  # ceil(d / 5) for d > 0
    if r > h:
        return np.int64(h)
    return r


@serial
def ring_bound(xy, p0, p1, w):
    """Upper bound on the number of y-boundary points of ring ``xy[p0:p1]`` (``xy``: (n, 2)).

    Per edge: at most ``min(dx // 5 + 2, w)`` column boundaries are crossed (``dx`` in
    upsampled units). The ring's RLE has at most ``bound + 1`` runs.
    """
    return _ring_bound(_ptr(np.ascontiguousarray(xy)), p0, p1, w)


@serial
def _ring_bound(xy, p0, p1, w):
    """:func:`ring_bound` on a flat ``x0, y0, x1, ...`` pointer."""
    k = p1 - p0
    if k <= 0:
        return np.int64(0)
    total = np.int64(0)
    x_first = _c_int(5.0 * xy[2 * p0] + 0.5)
    xp = x_first
    for j in range(k):
        if j + 1 < k:
            xn = _c_int(5.0 * xy[2 * (p0 + j + 1)] + 0.5)
        else:
            xn = x_first
        dx = abs(xn - xp)
        b = dx // 5 + 2
        if b > w:
            b = w
        total += b
        xp = xn
    return total


@serial
def _scale_ring(xy, p0, p1, ix, iy):
    """Upsampled integer vertices ``(int)(5*x + .5)`` of ring ``p0:p1`` of the flat ``xy``
    (``x0, y0, x1, ...``), closed."""
    k = p1 - p0
    for j in range(k):
        ix[j] = _c_int(5.0 * xy[2 * (p0 + j)] + 0.5)
        iy[j] = _c_int(5.0 * xy[2 * (p0 + j) + 1] + 0.5)
    ix[k] = ix[0]
    iy[k] = iy[0]


@serial
def _edge_setup(xs, xe, ys, ye, kmax):
    """Orientation and column range of one upsampled edge, as rleFrPoly walks it.

    Returns ``(xmajor, xs, ys, s, c0, c1)`` after the C code's flip: ``s`` is the minor
    slope, ``[c0, c1]`` (clipped to ``[0, kmax]``) the columns ``c`` whose boundary
    ``5c+2 | 5c+3`` the walk crosses (x-major: always once each; y-major: once each unless
    the rounded walk skipped a value, which the caller checks).
    """
    dx = abs(xe - xs)
    dy = abs(ys - ye)
    if dx >= dy:
        if xs > xe:
            xs, xe = xe, xs
            ys, ye = ye, ys
        if dx == 0:
            return True, xs, ys, 0.0, np.int64(0), np.int64(-1)  # single walk point
        s = np.float64(ye - ys) / dx
        lo = xs
        hi = xe
    else:
        if ys > ye:
            xs, xe = xe, xs
            ys, ye = ye, ys
        s = np.float64(xe - xs) / dy
        fxs = np.float64(xs)
        u0 = _c_int(fxs + s * 0.0 + 0.5)
        u1 = _c_int(fxs + s * np.float64(dy) + 0.5)
        lo = u0 if u0 < u1 else u1
        hi = u1 if u0 < u1 else u0
    # boundaries 5c+2 | 5c+3 with lo <= 5c+2 and 5c+3 <= hi
    c0 = -((2 - lo) // 5)
    c1 = (hi - 3) // 5
    if c0 < 0:
        c0 = np.int64(0)
    if c1 > kmax:
        c1 = kmax
    return dx >= dy, xs, ys, s, c0, c1


@serial
def _ring_points(ix, iy, k, h, w, pos, pcol, cur, cmin, scatter, e0, e1, exs, eys, es, exm):
    """Emit the y-boundary positions ``c*h + row`` of the closed upsampled ring ``ix/iy``.

    ``scatter=False``: write them in edge order to ``pos`` (columns to ``pcol``); returns
    their number. ``scatter=True``: write each straight into its column's slot of ``pos``
    (``cur[c - cmin]`` is the next free index of column ``c``, advanced here); returns the
    number written, or -1 when a y-major edge's rounded walk skipped a column value (then
    the precounted slots are wrong and the caller must use the unscattered path).
    ``e0, e1, exs, eys, es, exm``: each edge's :func:`_edge_setup` (``c0, c1, xs, ys, s,
    xmajor``), computed once by the caller.
    """
    n = 0
    for j in range(k):
        c0 = e0[j]
        c1 = e1[j]
        if c1 < c0:
            continue
        xs = exs[j]
        ys = eys[j]
        s = es[j]
        xmajor = exm[j] != 0
        if xmajor:
            # walk point t has u = xs + t, v(t) = (int)(ys + s*t + .5), monotone in t
            # (each step of the double expression is), so min(v(t), v(t+1)) is v(t) when
            # s >= 0, else v(t+1); the pair straddling column c starts at t = 5c+2-xs.
            # The values go to a buffer first in a branch-free loop LLVM vectorises (the C cast
            # as a select, the row as the C double expression): pcol when scattering (then
            # scattered into the columns' slots), else straight into pos in edge order.
            fys = np.float64(ys)
            base = 2 - xs + (0 if s >= 0.0 else 1)
            fh = np.float64(h)
            dst = pcol if scatter else pos
            q0 = 0 if scatter else n
            for c in range(c0, c1 + 1):
                v = fys + s * np.float64(5 * c + base) + 0.5
                vm = np.trunc(v) if (v > -2147483649.0 and v < 2147483648.0) else -2147483648.0
                yd = min(max((vm + 0.5) / 5.0 - 0.5, 0.0), fh)
                dst[q0 + c - c0] = c * h + np.int64(np.ceil(yd))
            if scatter:
                for c in range(c0, c1 + 1):
                    q = cur[c - cmin]
                    pos[q] = pcol[c - c0]
                    cur[c - cmin] = q + 1
            else:
                for c in range(c0, c1 + 1):
                    pcol[n + c - c0] = c
            n += c1 - c0 + 1
        else:
            dy = abs(iy[j + 1] - iy[j])
            fxs = np.float64(xs)
            up = s > 0.0
            inv_s = 1.0 / s  # only for the estimate, which is then corrected exactly
            t = np.int64(1)
            for c in range(c0, c1 + 1):
                # the walk pair (t-1, t) whose u goes 5c+2 -> 5c+3 (s > 0) or 5c+3 -> 5c+2
                # (s < 0); u(t) = (int)(xs + s*t + .5) is monotone in t
                if up:
                    target = 5 * c + 3
                    te = (np.float64(target) - 0.5 - fxs) * inv_s
                else:
                    target = 5 * c + 2
                    te = (np.float64(target) + 0.5 - fxs) * inv_s
                if not te > 1.0:  # (also NaN)
                    te = 1.0
                elif te > dy:
                    te = np.float64(dy)
                t = np.int64(math.ceil(te))
                ua = _c_int(fxs + s * np.float64(t - 1) + 0.5)  # u(t-1)
                ub = _c_int(fxs + s * np.float64(t) + 0.5)      # u(t)
                if up:
                    while t > 1 and ua >= target:
                        t -= 1
                        ub = ua
                        ua = _c_int(fxs + s * np.float64(t - 1) + 0.5)
                    while t < dy and ub < target:
                        t += 1
                        ua = ub
                        ub = _c_int(fxs + s * np.float64(t) + 0.5)
                    ok = ub == target and ua == target - 1
                else:
                    while t > 1 and ua <= target:
                        t -= 1
                        ub = ua
                        ua = _c_int(fxs + s * np.float64(t - 1) + 0.5)
                    while t < dy and ub > target:
                        t += 1
                        ua = ub
                        ub = _c_int(fxs + s * np.float64(t) + 0.5)
                    ok = ub == target and ua == target + 1
                if ok:
                    val = c * h + _row_cell(ys + t - 1, h)
                    if scatter:
                        q = cur[c - cmin]
                        pos[q] = val
                        cur[c - cmin] = q + 1
                    else:
                        pos[n] = val
                        pcol[n] = c
                    n += 1
                elif scatter:
                    return -1
    return n


@serial
def _sort_points(pos, pcol, n, cnt, srt):
    """Sort ``pos[:n]`` into ``srt[:n]``: counting sort on the column, then insertion sort
    inside each column (a column holds few crossings). O(n + columns spanned).

    ``cnt`` is int64 scratch of length >= columns spanned + 2 (``w + 2`` suffices).
    """
    if n == 0:
        return
    if n <= 16:
        for j in range(n):
            v = pos[j]
            q = j - 1
            while q >= 0 and srt[q] > v:
                srt[q + 1] = srt[q]
                q -= 1
            srt[q + 1] = v
        return
    cmin = pcol[0]
    cmax = pcol[0]
    for j in range(1, n):
        c = pcol[j]
        if c < cmin:
            cmin = c
        elif c > cmax:
            cmax = c
    ncol = cmax - cmin + 1
    for c in range(ncol + 1):
        cnt[c] = 0
    for j in range(n):
        cnt[pcol[j] - cmin + 1] += 1
    for c in range(ncol):
        cnt[c + 1] += cnt[c]
    # cnt[c] is now the start of column c; place, then sort each column's slice
    for j in range(n):
        c = pcol[j] - cmin
        srt[cnt[c]] = pos[j]
        cnt[c] += 1
    start = 0
    for c in range(ncol):
        end = cnt[c]
        for j in range(start + 1, end):
            v = srt[j]
            q = j - 1
            while q >= start and srt[q] > v:
                srt[q + 1] = srt[q]
                q -= 1
            srt[q + 1] = v
        start = end


@serial
def _runs_from_points(srt, n, hw, out, o):
    """Runs from sorted positions ``srt[:n]`` (plus ``h*w``), as rleFrPoly builds them
    (``b[0] = a[0]``; a zero difference is dropped and swallows the next one); returns
    the run count."""
    if n == 0:
        out[o] = np.uint32(hw)
        return 1
    prev = srt[0]
    out[o] = np.uint32(prev)
    m = 1
    j = 1
    while j < n:
        cur = srt[j]
        d = cur - prev
        prev = cur
        j += 1
        if d > 0:
            out[o + m] = np.uint32(d)
            m += 1
        elif j < n:
            cur = srt[j]
            out[o + m - 1] += np.uint32(cur - prev)
            prev = cur
            j += 1
        else:
            out[o + m - 1] += np.uint32(hw - prev)  # the appended h*w is swallowed
            return m
    d = hw - prev
    if d > 0:
        out[o + m] = np.uint32(d)
        m += 1
    return m


@serial
def ring_to_rle_into(xy, p0, p1, h, w, scr, out, o):
    """RLE of ring ``xy[p0:p1]`` written to ``out[o:]``; returns the run count.

    ``scr`` is the scratch tuple from :func:`make_scratch` (large enough for this ring);
    ``out`` needs ``ring_bound + 1`` free entries.

    Fast path: count the crossings per column from the edges' column ranges (a difference
    array, O(edges + columns)), scatter each crossing straight into its column's slots,
    insertion-sort each (short) column. Fallback (``force_unscattered`` or a y-major walk
    that skipped a value, never seen in practice): emit in edge order, counting-sort.
    """
    return _ring_to_rle(xy, p0, p1, h, w, scr, out, o, False)


@serial
def _ring_to_rle(xy, p0, p1, h, w, scr, out, o, force_unscattered):
    ix, iy, pos, pcol, srt, cnt, e0, e1, exs, eys, es, exm = scr
    return _ring_rle(_ptr(np.ascontiguousarray(xy)), p0, p1, h, w, _ptr(ix), _ptr(iy), _ptr(pos), _ptr(pcol),
                     _ptr(srt), _ptr(cnt), _ptr(e0), _ptr(e1), _ptr(exs), _ptr(eys), _ptr(es), _ptr(exm),
                     _ptr(out), o, force_unscattered)


@serial
def _ring_rle(xy, p0, p1, h, w, ix, iy, pos, pcol, srt, cnt, e0, e1, exs, eys, es, exm, out, o, force_unscattered):
    """:func:`ring_to_rle_into` on pointers: ``xy`` flat, scratch as :func:`make_scratch`."""
    k = p1 - p0
    hw = np.int64(h) * np.int64(w)
    if k <= 0 or w <= 0:
        out[o] = np.uint32(hw)
        return 1
    _scale_ring(xy, p0, p1, ix, iy)
    kmax = np.int64(w) - 1
    # pass 1: each edge's column range, and the ring's column span
    cmin = np.int64(1) << 62
    cmax = np.int64(-1)
    for j in range(k):
        xmajor, xs, ys, s, c0, c1 = _edge_setup(ix[j], ix[j + 1], iy[j], iy[j + 1], kmax)
        e0[j] = c0
        e1[j] = c1
        exs[j] = xs
        eys[j] = ys
        es[j] = s
        exm[j] = xmajor
        if c1 >= c0:
            if c0 < cmin:
                cmin = c0
            if c1 > cmax:
                cmax = c1
    if cmax < 0:
        out[o] = np.uint32(hw)
        return 1
    ncol = cmax - cmin + 1
    # pass 2: crossings per column via a difference array -> column start offsets
    for c in range(ncol + 1):
        cnt[c] = 0
    for j in range(k):
        if e1[j] >= e0[j]:
            cnt[e0[j] - cmin] += 1
            cnt[e1[j] - cmin + 1] -= 1
    run = np.int64(0)
    acc = np.int64(0)
    for c in range(ncol):
        run += cnt[c]
        cnt[c] = acc  # start of column c
        acc += run
    scatter = not force_unscattered
    while True:
        n = _ring_points(ix, iy, k, h, w, srt if scatter else pos, pcol, cnt, cmin, scatter, e0, e1, exs, eys, es,
                         exm)
        if n >= 0:
            break
        scatter = False
    if scatter:
        # cnt[c] is now the end of column c; insertion-sort each column
        start = np.int64(0)
        for c in range(ncol):
            end = cnt[c]
            if end - start == 2:  # the common case, branch-free
                a0 = srt[start]
                a1 = srt[start + 1]
                srt[start] = min(a0, a1)
                srt[start + 1] = max(a0, a1)
                start = end
                continue
            for j in range(start + 1, end):
                v = srt[j]
                q = j - 1
                while q >= start and srt[q] > v:
                    srt[q + 1] = srt[q]
                    q -= 1
                srt[q + 1] = v
            start = end
    else:
        _sort_points(pos, pcol, n, cnt, srt)
    return _runs_from_points(srt, n, hw, out, o)


@serial
def make_scratch(max_pts, max_bound, max_w):
    """Scratch buffers for rings of up to ``max_pts`` points / ``max_bound`` crossings
    on images up to ``max_w`` wide: ``(ix, iy, pos, pcol, srt, cnt, e0, e1, exs, eys, es,
    exm)`` (the last six: per-edge setup, see :func:`_ring_points`)."""
    return (np.empty(max_pts + 1, np.int64), np.empty(max_pts + 1, np.int64),
            np.empty(max_bound + 1, np.int64), np.empty(max_bound + 1, np.int64),
            np.empty(max_bound + 1, np.int64), np.empty(max_w + 2, np.int64),
            np.empty(max_pts + 1, np.int64), np.empty(max_pts + 1, np.int64),
            np.empty(max_pts + 1, np.int64), np.empty(max_pts + 1, np.int64),
            np.empty(max_pts + 1, np.float64), np.empty(max_pts + 1, np.uint8))
