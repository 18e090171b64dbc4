"""Kernels of the synthetic COCO twin generator (:mod:`cocodiff.synth`).

Coordinates are integers in hundredths of a pixel (int32): COCO writes 2 decimals, and
integer coordinates make the shoelace area exact (twice the area in 1e-4 px^2 units is an
integer) and the JSON text exact. Randomness inside the kernels is counter-based
(SplitMix64 finaliser of ``seed + k * golden``), seeded per instance/ring by the caller's
numpy ``Generator``: results do not depend on the order the kernels visit items.

Ragged layout as in the rest of the engine: ring ``r`` owns vertices
``vo[r]:vo[r+1]`` of the (n_vertices, 2) coordinate array; instance ``i`` owns rings
``ring_lo[i]:ring_hi[i]``; crowd ``c`` owns counts ``co[c]:co[c+1]``.
"""
from __future__ import annotations

import numpy as np

from ._jit import serial

__all__ = ["star_fill", "densify_fill", "slice_fill", "poly_stats", "crowd_rle",
           "box_conflicts", "write_annotations", "uniform"]

_GOLD = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0


@serial
def uniform(seed, k):
    """Counter-based uniform in [0, 1): SplitMix64 finaliser of ``seed + (k+1) * golden``."""
    z = seed + np.uint64(k + 1) * _GOLD
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    z = z ^ (z >> _S31)
    return float(z >> _S11) * _INV53


@serial
def star_fill(xy, vo, inst_rings, ring_lo, ring_hi, width, height, cx, cy, rx, ry, theta,
              seed, ring_ox, ring_oy, ring_s, scratch):
    """Fill star-shaped jittered rings of the listed instances into ``xy`` (hundredths).

    Instance ``i`` (index into the per-instance arrays) is an ellipse frame (centre, radii,
    rotation); its rings ``ring_lo[i]:ring_hi[i]`` are star-shaped outlines centred at
    ``(ring_ox, ring_oy)`` (in units of the radii) scaled by ``ring_s``. The instance is
    scaled down/shifted so that all its points lie in ``[0, width] x [0, height]``.
    ``inst_rings`` lists the instance indices to fill; ``scratch`` is float64 (>= 2*max n).
    """
    for t in range(inst_rings.shape[0]):
        i = inst_rings[t]
        s0 = seed[i]
        ct = np.cos(theta[i])
        st = np.sin(theta[i])
        # pass 1: points relative to the centre, into scratch; track bbox
        x0 = 1e30
        x1 = -1e30
        y0 = 1e30
        y1 = -1e30
        base = vo[ring_lo[i]]
        k = 0
        for r in range(ring_lo[i], ring_hi[i]):
            n = vo[r + 1] - vo[r]
            rk = np.uint64(r - ring_lo[i] + 1) * np.uint64(7919)
            rs = s0 ^ (rk * _GOLD)
            ph = 2.0 * np.pi * uniform(rs, 0)
            a1 = 0.10 * uniform(rs, 1)
            a2 = 0.07 * uniform(rs, 2)
            a3 = 0.04 * uniform(rs, 3)
            p1 = 2.0 * np.pi * uniform(rs, 4)
            p2 = 2.0 * np.pi * uniform(rs, 5)
            p3 = 2.0 * np.pi * uniform(rs, 6)
            for j in range(n):
                ang = ph + 2.0 * np.pi * (j + 0.7 * (uniform(rs, 10 + 2 * j) - 0.5)) / n
                rho = 1.0 + a1 * np.sin(2.0 * ang + p1) + a2 * np.sin(3.0 * ang + p2) \
                    + a3 * np.sin(5.0 * ang + p3) + 0.08 * (uniform(rs, 11 + 2 * j) - 0.5)
                if rho < 0.35:
                    rho = 0.35
                ux = (ring_ox[r] + ring_s[r] * rho * np.cos(ang)) * rx[i]
                uy = (ring_oy[r] + ring_s[r] * rho * np.sin(ang)) * ry[i]
                px = ux * ct - uy * st
                py = ux * st + uy * ct
                scratch[2 * k] = px
                scratch[2 * k + 1] = py
                k += 1
                x0 = min(x0, px)
                x1 = max(x1, px)
                y0 = min(y0, py)
                y1 = max(y1, py)
        W = float(width[i])
        H = float(height[i])
        sc = 1.0
        if x1 - x0 > W - 0.02:
            sc = min(sc, (W - 0.02) / (x1 - x0))
        if y1 - y0 > H - 0.02:
            sc = min(sc, (H - 0.02) / (y1 - y0))
        ccx = cx[i]
        ccy = cy[i]
        dx = 0.0
        dy = 0.0
        if ccx + sc * x0 < 0.01:
            dx = 0.01 - (ccx + sc * x0)
        elif ccx + sc * x1 > W - 0.01:
            dx = (W - 0.01) - (ccx + sc * x1)
        if ccy + sc * y0 < 0.01:
            dy = 0.01 - (ccy + sc * y0)
        elif ccy + sc * y1 > H - 0.01:
            dy = (H - 0.01) - (ccy + sc * y1)
        wi = np.int32(width[i] * 100)
        hi = np.int32(height[i] * 100)
        for q in range(k):
            qx = np.int32(np.round((ccx + dx + sc * scratch[2 * q]) * 100.0))
            qy = np.int32(np.round((ccy + dy + sc * scratch[2 * q + 1]) * 100.0))
            xy[base + q, 0] = min(max(qx, 0), wi)
            xy[base + q, 1] = min(max(qy, 0), hi)


@serial
def densify_fill(xy, vo, rings, src_xy, src_vo, src_ring, n_insert, sigma, seed, width, height):
    """Copy source rings into ``xy``, inserting ``n_insert[r]`` jittered midpoints, evenly
    spread over the edges, and jittering every point by up to ``sigma[r]`` px.

    ``rings`` lists the destination ring indices; ``vo[r+1]-vo[r]`` must equal the source
    ring's vertex count plus ``n_insert[r]``. ``sigma == 0`` and ``n_insert == 0`` copies
    the ring exactly.
    """
    for t in range(rings.shape[0]):
        r = rings[t]
        s = src_ring[r]
        a = src_vo[s]
        n = src_vo[s + 1] - a
        m = n_insert[r]
        sg = sigma[r] * 100.0
        rs = seed[r]
        wi = np.int32(width[r] * 100)
        hi = np.int32(height[r] * 100)
        o = vo[r]
        c = 0
        for j in range(n):
            x = src_xy[a + j, 0]
            y = src_xy[a + j, 1]
            if sg > 0.0:
                x = x + np.int32(np.round(sg * (2.0 * uniform(rs, 4 * j) - 1.0)))
                y = y + np.int32(np.round(sg * (2.0 * uniform(rs, 4 * j + 1) - 1.0)))
            xy[o + c, 0] = min(max(x, 0), wi)
            xy[o + c, 1] = min(max(y, 0), hi)
            c += 1
            if m > 0 and ((j + 1) * m) // n > (j * m) // n:
                jn = j + 1 if j + 1 < n else 0
                mx = 0.5 * (src_xy[a + j, 0] + src_xy[a + jn, 0])
                my = 0.5 * (src_xy[a + j, 1] + src_xy[a + jn, 1])
                if sg > 0.0:
                    mx += sg * (2.0 * uniform(rs, 4 * j + 2) - 1.0)
                    my += sg * (2.0 * uniform(rs, 4 * j + 3) - 1.0)
                qx = np.int32(np.round(mx))
                qy = np.int32(np.round(my))
                xy[o + c, 0] = min(max(qx, 0), wi)
                xy[o + c, 1] = min(max(qy, 0), hi)
                c += 1


@serial
def _put_point(xy, o, x, y, sg, rs, c, wi, hi):
    """Store ``(x, y)`` (hundredths, float) at row ``o``, jittered by up to ``sg`` hundredths
    with the counters ``c``, ``c+1`` of seed ``rs``, rounded and clamped to the image."""
    if sg > 0.0:
        x += sg * (2.0 * uniform(rs, c) - 1.0)
        y += sg * (2.0 * uniform(rs, c + 1) - 1.0)
    qx = np.int32(np.round(x))
    qy = np.int32(np.round(y))
    xy[o, 0] = min(max(qx, 0), wi)
    xy[o, 1] = min(max(qy, 0), hi)


@serial
def slice_fill(xy, vo, rings, src_xy, src_vo, src_ring, j0, m, ccx, ccy, n_spoke, n_insert,
               sigma, seed, width, height):
    """Write pie slices of star-shaped source rings into ``xy`` (hundredths).

    Slice ``t`` goes to ring ``rings[t]``: the centre ``(ccx[t], ccy[t])`` (hundredths), then
    ``n_spoke[t]`` points evenly spaced on the spoke out to source vertex ``j0[t]``, the
    ``m[t]`` source vertices ``j0[t] .. j0[t]+m[t]-1`` of ring ``src_ring[t]`` (cyclic, so
    consecutive slices share their boundary vertex) with ``n_insert[t]`` midpoints spread
    over their ``m[t]-1`` edges, and ``n_spoke[t]`` points on the spoke back to the centre.
    Every point is jittered by up to ``sigma[t]`` px (counter-based, seed ``seed[t]``);
    ``vo[r+1]-vo[r]`` must be ``1 + 2*n_spoke + m + n_insert``. The slices of one ring cut
    at its vertices tile the ring's polygon when it is star-shaped around the centre.
    """
    for t in range(rings.shape[0]):
        s = src_ring[t]
        a = src_vo[s]
        n = src_vo[s + 1] - a
        mm = m[t]
        ni = n_insert[t]
        ns = n_spoke[t]
        sg = sigma[t] * 100.0
        rs = seed[t]
        wi = np.int32(width[t] * 100)
        hi = np.int32(height[t] * 100)
        o = vo[rings[t]]
        cx = ccx[t]
        cy = ccy[t]
        c = 0
        _put_point(xy, o, cx, cy, sg, rs, 0, wi, hi)
        c += 1
        v = a + j0[t] % n
        fx = float(src_xy[v, 0])
        fy = float(src_xy[v, 1])
        for q in range(1, ns + 1):
            f = q / (ns + 1.0)
            _put_point(xy, o + c, cx + f * (fx - cx), cy + f * (fy - cy), sg, rs, 2 * c, wi, hi)
            c += 1
        for q in range(mm):
            v = a + (j0[t] + q) % n
            fx = float(src_xy[v, 0])
            fy = float(src_xy[v, 1])
            _put_point(xy, o + c, fx, fy, sg, rs, 2 * c, wi, hi)
            c += 1
            if q < mm - 1 and ni > 0 and ((q + 1) * ni) // (mm - 1) > (q * ni) // (mm - 1):
                vn = a + (j0[t] + q + 1) % n
                _put_point(xy, o + c, 0.5 * (fx + src_xy[vn, 0]), 0.5 * (fy + src_xy[vn, 1]),
                           sg, rs, 2 * c, wi, hi)
                c += 1
        for q in range(1, ns + 1):
            f = q / (ns + 1.0)
            _put_point(xy, o + c, fx + f * (cx - fx), fy + f * (cy - fy), sg, rs, 2 * c, wi, hi)
            c += 1


@serial
def poly_stats(xy, vo, ring_lo, ring_hi, area2, bbox):
    """Per polygon instance: ``area2`` = sum over rings of |twice the shoelace area| (int64,
    in 1e-4 px^2 units) and the tight ``bbox`` (x, y, w, h) of its points, in hundredths."""
    for i in range(ring_lo.shape[0]):
        tot = np.int64(0)
        x0 = np.int64(1 << 40)
        y0 = np.int64(1 << 40)
        x1 = np.int64(-(1 << 40))
        y1 = np.int64(-(1 << 40))
        for r in range(ring_lo[i], ring_hi[i]):
            a = vo[r]
            b = vo[r + 1]
            s = np.int64(0)
            for j in range(a, b):
                jn = j + 1 if j + 1 < b else a
                xj = np.int64(xy[j, 0])
                yj = np.int64(xy[j, 1])
                s += xj * np.int64(xy[jn, 1]) - np.int64(xy[jn, 0]) * yj
                x0 = min(x0, xj)
                x1 = max(x1, xj)
                y0 = min(y0, yj)
                y1 = max(y1, yj)
            tot += abs(s)
        area2[i] = tot
        bbox[i, 0] = x0
        bbox[i, 1] = y0
        bbox[i, 2] = x1 - x0
        bbox[i, 3] = y1 - y0


# one kernel, not split: the column scan carries the open run, area and bbox across columns
@serial
def crowd_rle(ell_lo, ell_hi, ecx, ecy, ea, eb, eth, height, width, co, counts, area, bbox,
              fill):
    """Rasterise each crowd (a union of rotated ellipses) as column-major COCO RLE.

    A pixel ``(x, y)`` is set when its centre ``(x + .5, y + .5)`` lies in one of the crowd's
    ellipses. With ``fill=False`` only the number of runs is stored in ``co[c+1]`` (so that
    the caller can prefix-sum it); with ``fill=True`` the runs are written to
    ``counts[co[c]:co[c+1]]`` (starting with a zeros run, summing to h*w), and ``area`` and
    the integer ``bbox`` (x, y, w, h) of the set pixels are stored.
    """
    nmax = 1
    for c in range(ell_lo.shape[0]):
        nmax = max(nmax, ell_hi[c] - ell_lo[c])
    lo_buf = np.empty(nmax, np.int64)
    hi_buf = np.empty(nmax, np.int64)
    qa = np.empty(nmax)
    qb = np.empty(nmax)
    qc = np.empty(nmax)
    for c in range(ell_lo.shape[0]):
        h = np.int64(height[c])
        w = np.int64(width[c])
        last = np.int64(0)       # pixel index where the last emitted run ended
        open_end = np.int64(0)   # end of the open (not yet emitted) ones run
        is_open = False
        k0 = co[c] if fill else np.int64(0)
        k = k0
        ar = np.int64(0)
        bx0 = w
        bx1 = np.int64(-1)
        by0 = h
        by1 = np.int64(-1)
        # ((dx ct + dy st)/a)^2 + ((-dx st + dy ct)/b)^2 <= 1 as qa dy^2 + qb dx dy + qc dx^2 <= 1
        ne = ell_hi[c] - ell_lo[c]
        for j in range(ne):
            e = ell_lo[c] + j
            ct = np.cos(eth[e])
            st = np.sin(eth[e])
            ia = 1.0 / (ea[e] * ea[e])
            ib = 1.0 / (eb[e] * eb[e])
            qa[j] = st * st * ia + ct * ct * ib
            qb[j] = 2.0 * ct * st * (ia - ib)
            qc[j] = ct * ct * ia + st * st * ib
        for x in range(w):
            px = x + 0.5
            m = 0
            for j in range(ne):
                e = ell_lo[c] + j
                dx = px - ecx[e]
                A = qa[j]
                B = qb[j] * dx
                C = qc[j] * dx * dx - 1.0
                disc = B * B - 4.0 * A * C
                if disc < 0.0:
                    continue
                sq = np.sqrt(disc)
                ylo = ecy[e] + (-B - sq) / (2.0 * A)
                yhi = ecy[e] + (-B + sq) / (2.0 * A)
                p0 = np.int64(np.ceil(ylo - 0.5))
                p1 = np.int64(np.floor(yhi - 0.5))
                if p0 < 0:
                    p0 = 0
                if p1 > h - 1:
                    p1 = h - 1
                if p1 < p0:
                    continue
                # insert [p0, p1+1) sorted by start
                q = m
                while q > 0 and lo_buf[q - 1] > p0:
                    lo_buf[q] = lo_buf[q - 1]
                    hi_buf[q] = hi_buf[q - 1]
                    q -= 1
                lo_buf[q] = p0
                hi_buf[q] = p1 + 1
                m += 1
            # merge intervals of this column; emit runs (ones runs extend across columns)
            q = 0
            while q < m:
                s0 = lo_buf[q]
                s1 = hi_buf[q]
                q += 1
                while q < m and lo_buf[q] <= s1:
                    if hi_buf[q] > s1:
                        s1 = hi_buf[q]
                    q += 1
                start = x * h + s0
                end = x * h + s1
                ar += s1 - s0
                if x < bx0:
                    bx0 = x
                bx1 = x
                if s0 < by0:
                    by0 = s0
                if s1 - 1 > by1:
                    by1 = s1 - 1
                if is_open and start == open_end:
                    open_end = end
                    continue
                if is_open:
                    if fill:
                        counts[k] = open_end - last
                    k += 1
                    last = open_end
                if fill:
                    counts[k] = start - last
                k += 1
                last = start
                open_end = end
                is_open = True
        total = h * w
        if is_open:
            if fill:
                counts[k] = open_end - last
            k += 1
            last = open_end
        if last < total or k == k0:
            if fill:
                counts[k] = total - last
            k += 1
        if not fill:
            co[c + 1] = k - k0
        else:
            area[c] = ar
            if bx1 < 0:
                bbox[c, 0] = 0
                bbox[c, 1] = 0
                bbox[c, 2] = 0
                bbox[c, 3] = 0
            else:
                bbox[c, 0] = bx0
                bbox[c, 1] = by0
                bbox[c, 2] = bx1 - bx0 + 1
                bbox[c, 3] = by1 - by0 + 1


@serial
def box_conflicts(pi, pj, ui, uj, changed, every, box_a, box_b, thr_a, thr_b, conf):
    """Overlap test of box pairs (placement of the synthetic units).

    Pair ``q`` is boxes ``box_a[pi[q]]`` and ``box_b[pj[q]]`` (x0, y0, x1, y1), of units
    ``ui[q]`` and ``uj[q]`` (-1: none). With ``every`` all pairs are tested, else only those
    with ``changed[ui[q]]`` or ``changed[uj[q]]``. ``conf[q]`` is set when the boxes
    intersect and the intersection reaches ``min(thr_a[pi[q]], thr_b[pj[q]])`` of the
    smaller box.
    """
    for q in range(pi.shape[0]):
        if not every:
            c = changed[ui[q]]
            if not c and uj[q] >= 0:
                c = changed[uj[q]]
            if not c:
                continue
        a = pi[q]
        b = pj[q]
        iw = min(box_a[a, 2], box_b[b, 2]) - max(box_a[a, 0], box_b[b, 0])
        ih = min(box_a[a, 3], box_b[b, 3]) - max(box_a[a, 1], box_b[b, 1])
        if iw <= 0.0 or ih <= 0.0:
            conf[q] = False
            continue
        a1 = (box_a[a, 2] - box_a[a, 0]) * (box_a[a, 3] - box_a[a, 1])
        a2 = (box_b[b, 2] - box_b[b, 0]) * (box_b[b, 3] - box_b[b, 1])
        conf[q] = iw * ih >= min(thr_a[a], thr_b[b]) * min(a1, a2)


# ---------------------------------------------------------------- JSON text ----------

@serial
def _put_uint(buf, p, v):
    if v == 0:
        buf[p] = 48
        return p + 1
    n = 0
    t = v
    while t > 0:
        t //= 10
        n += 1
    q = p + n - 1
    while v > 0:
        buf[q] = 48 + v % 10
        v //= 10
        q -= 1
    return p + n


@serial
def _put_fixed(buf, p, v, dec, pow10):
    """Write ``v / 10**dec`` (v >= 0) with trailing zeros trimmed, at least one decimal."""
    ip = v // pow10
    fp = v % pow10
    p = _put_uint(buf, p, ip)
    buf[p] = 46  # '.'
    p += 1
    if fp == 0:
        buf[p] = 48
        return p + 1
    d = dec
    while fp % 10 == 0:
        fp //= 10
        d -= 1
    # leading zeros of the fraction
    t = fp
    nd = 0
    while t > 0:
        t //= 10
        nd += 1
    for _ in range(d - nd):
        buf[p] = 48
        p += 1
    return _put_uint(buf, p, fp)


@serial
def _put_bytes(buf, p, s):
    for j in range(s.shape[0]):
        buf[p + j] = s[j]
    return p + s.shape[0]


_T_SEG = np.frombuffer(b'{"segmentation":', np.uint8).copy()
_T_CNT = np.frombuffer(b'{"counts":[', np.uint8).copy()
_T_SIZE = np.frombuffer(b'],"size":[', np.uint8).copy()
_T_AREA = np.frombuffer(b',"area":', np.uint8).copy()
_T_CROWD = np.frombuffer(b',"iscrowd":', np.uint8).copy()
_T_IMG = np.frombuffer(b',"image_id":', np.uint8).copy()
_T_BBOX = np.frombuffer(b',"bbox":[', np.uint8).copy()
_T_CAT = np.frombuffer(b'],"category_id":', np.uint8).copy()
_T_ID = np.frombuffer(b',"id":', np.uint8).copy()


@serial
def _write_annotations(lo, hi, iscrowd, ring_lo, ring_hi, vo, xy, co, counts, rle_h, rle_w,
                       area_num, bbox, image_id, category_id, ann_id, buf,
                       t_seg, t_cnt, t_size, t_area, t_crowd, t_img, t_bbox, t_cat, t_id):
    p = 0
    for i in range(lo, hi):
        if i > lo:
            buf[p] = 44
            p += 1
        p = _put_bytes(buf, p, t_seg)
        if iscrowd[i]:
            p = _put_bytes(buf, p, t_cnt)
            for q in range(co[i], co[i + 1]):
                if q > co[i]:
                    buf[p] = 44
                    p += 1
                p = _put_uint(buf, p, np.int64(counts[q]))
            p = _put_bytes(buf, p, t_size)
            p = _put_uint(buf, p, np.int64(rle_h[i]))
            buf[p] = 44
            p += 1
            p = _put_uint(buf, p, np.int64(rle_w[i]))
            buf[p] = 93
            buf[p + 1] = 125
            p += 2
        else:
            buf[p] = 91
            p += 1
            for r in range(ring_lo[i], ring_hi[i]):
                if r > ring_lo[i]:
                    buf[p] = 44
                    p += 1
                buf[p] = 91
                p += 1
                for j in range(vo[r], vo[r + 1]):
                    if j > vo[r]:
                        buf[p] = 44
                        p += 1
                    p = _put_fixed(buf, p, np.int64(xy[j, 0]), 2, 100)
                    buf[p] = 44
                    p += 1
                    p = _put_fixed(buf, p, np.int64(xy[j, 1]), 2, 100)
                buf[p] = 93
                p += 1
            buf[p] = 93
            p += 1
        p = _put_bytes(buf, p, t_area)
        if iscrowd[i]:
            p = _put_uint(buf, p, area_num[i])
        else:
            p = _put_fixed(buf, p, area_num[i], 5, 100000)
        p = _put_bytes(buf, p, t_crowd)
        buf[p] = 49 if iscrowd[i] else 48
        p += 1
        p = _put_bytes(buf, p, t_img)
        p = _put_uint(buf, p, image_id[i])
        p = _put_bytes(buf, p, t_bbox)
        for d in range(4):
            if d > 0:
                buf[p] = 44
                p += 1
            if iscrowd[i]:
                p = _put_uint(buf, p, bbox[i, d])
                buf[p] = 46
                buf[p + 1] = 48
                p += 2
            else:
                p = _put_fixed(buf, p, bbox[i, d], 2, 100)
        p = _put_bytes(buf, p, t_cat)
        p = _put_uint(buf, p, category_id[i])
        p = _put_bytes(buf, p, t_id)
        p = _put_uint(buf, p, ann_id[i])
        buf[p] = 125
        p += 1
    return p


def write_annotations(lo, hi, iscrowd, ring_lo, ring_hi, vo, xy, co, counts, rle_h, rle_w,
                      area_num, bbox, image_id, category_id, ann_id):
    """JSON text (bytes, no brackets) of annotations ``lo:hi``, comma-separated.

    Polygon ``area_num`` is the area in 1e-5 px^2 (written with 5 decimals), crowd
    ``area_num`` the pixel count; polygon ``bbox`` is in hundredths, crowd ``bbox`` in
    pixels. Coordinates ``xy`` are hundredths (written with up to 2 decimals).
    """
    if hi <= lo:
        return b""
    nv = int(vo[ring_hi[lo:hi].max()] - vo[ring_lo[lo:hi].min()]) if np.any(
        ring_hi[lo:hi] > ring_lo[lo:hi]) else 0
    nr = int((ring_hi[lo:hi] - ring_lo[lo:hi]).sum())
    nc = int((co[lo + 1:hi + 1] - co[lo:hi]).sum())
    bound = 16 * nv + 4 * nr + 12 * nc + 260 * (hi - lo) + 64
    buf = np.empty(bound, np.uint8)
    p = _write_annotations(lo, hi, iscrowd, ring_lo, ring_hi, vo, xy, co, counts, rle_h,
                           rle_w, area_num, bbox, image_id, category_id, ann_id, buf,
                           _T_SEG, _T_CNT, _T_SIZE, _T_AREA, _T_CROWD, _T_IMG, _T_BBOX,
                           _T_CAT, _T_ID)
    return buf[:p].tobytes()
