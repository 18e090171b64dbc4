"""Slow, plain-Python references for the rasteriser and the RLE merge.

These are line-by-line readable ports of cocoapi ``common/maskApi.c`` (``rleFrPoly``,
``rleMerge``) -- the upsampled edge walk is walked step by step here, unlike the
analytic kernel in ``cocodiff.engine.ring_rle``. They are only for tests.
"""
from __future__ import annotations

import math

import numpy as np

INT_MIN = -2147483648


def c_int(v: float) -> int:
    """C ``(int)`` of a double on x86-64 (truncation; out of range / NaN -> INT_MIN)."""
    if not (-2147483649.0 < v < 2147483648.0):
        return INT_MIN
    return math.trunc(v)


def row_cell(vm: int, h: int) -> int:
    """Row of a y-boundary point from the smaller upsampled y ``vm`` of its walk pair, as
    rleFrPoly computes it in doubles: ``ceil(clamp((vm + .5) / 5 - .5, 0, h))``."""
    yd = (float(vm) + .5) / 5.0 - .5
    if yd < 0:
        yd = 0.0
    elif yd > h:
        yd = float(h)
    return math.ceil(yd)


def ref_poly_to_rle(xy_flat, h: int, w: int) -> list[int]:
    """rleFrPoly, literally: upsample x5, walk every edge, keep column crossings, runs."""
    xy = [float(v) for v in xy_flat]
    k = len(xy) // 2
    scale = 5.0
    if k == 0:
        return [h * w]
    x = [c_int(scale * xy[2 * j] + .5) for j in range(k)]
    y = [c_int(scale * xy[2 * j + 1] + .5) for j in range(k)]
    x.append(x[0])
    y.append(y[0])
    # 1. dense upsampled boundary walk
    u: list[int] = []
    v: list[int] = []
    for j in range(k):
        xs, xe, ys, ye = x[j], x[j + 1], y[j], y[j + 1]
        dx = abs(xe - xs)
        dy = abs(ys - ye)
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            xs, xe = xe, xs
            ys, ye = ye, ys
        if dx >= dy:
            s = (ye - ys) / dx if dx else math.nan
            for d in range(dx + 1):
                t = dx - d if flip else d
                u.append(t + xs)
                v.append(c_int(ys + s * t + .5) if dx else 0)  # v unused when dx == 0
        else:
            s = (xe - xs) / dy
            for d in range(dy + 1):
                t = dy - d if flip else d
                v.append(t + ys)
                u.append(c_int(xs + s * t + .5))
    # 2. points along y-boundary, downsampled
    px: list[int] = []
    py: list[int] = []
    for j in range(1, len(u)):
        if u[j] == u[j - 1]:
            continue
        xd = float(u[j] if u[j] < u[j - 1] else u[j] - 1)
        xd = (xd + .5) / scale - .5
        if math.floor(xd) != xd or xd < 0 or xd > w - 1:
            continue
        px.append(int(xd))
        py.append(row_cell(v[j] if v[j] < v[j - 1] else v[j - 1], h))
    # 3. runs from sorted column-major positions
    a = sorted([px[j] * h + py[j] for j in range(len(px))] + [h * w])
    p = 0
    for j in range(len(a)):
        t = a[j]
        a[j] -= p
        p = t
    b = [a[0]]
    j = 1
    while j < len(a):
        if a[j] > 0:
            b.append(a[j])
            j += 1
        else:
            j += 1
            if j < len(a):
                b[-1] += a[j]
                j += 1
    return b


def ref_merge(rles: list[list[int]], intersect: bool) -> list[int]:
    """rleMerge, literally (all RLEs over the same number of pixels)."""
    n = len(rles)
    if n == 0:
        return []
    if n == 1:
        return list(rles[0])
    cnts = list(rles[0])
    for i in range(1, n):
        A = cnts
        B = rles[i]
        ca = A[0]
        cb = B[0]
        v = va = vb = False
        out: list[int] = []
        a = b = 1
        cc = 0
        ct = 1
        while ct > 0:
            c = min(ca, cb)
            cc += c
            ct = 0
            ca -= c
            if not ca and a < len(A):
                ca = A[a]
                a += 1
                va = not va
            ct += ca
            cb -= c
            if not cb and b < len(B):
                cb = B[b]
                b += 1
                vb = not vb
            ct += cb
            vp = v
            v = (va and vb) if intersect else (va or vb)
            if v != vp or ct == 0:
                out.append(cc)
                cc = 0
        cnts = out
    return cnts


def rle_string_to_counts(s) -> list[int]:
    """Decode a pycocotools compressed RLE string (rleFrString)."""
    if isinstance(s, str):
        s = s.encode()
    cnts: list[int] = []
    p = 0
    while p < len(s):
        x = 0
        k = 0
        more = 1
        while more:
            c = s[p] - 48
            x |= (c & 0x1f) << 5 * k
            more = c & 0x20
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << 5 * k
        if len(cnts) > 2:
            x += cnts[-2]
        cnts.append(x & 0xFFFFFFFF)
    return cnts


def counts_to_mask(counts, h: int, w: int) -> np.ndarray:
    """Decode column-major RLE counts to an (h, w) uint8 mask."""
    flat = np.zeros(h * w, np.uint8)
    pos = 0
    val = 0
    for c in counts:
        if val:
            flat[pos:pos + c] = 1
        pos += c
        val ^= 1
    return flat.reshape(w, h).T
