"""Shapes of the synthetic twin (:mod:`cocodiff.synth`), planned with numpy.

Polygon instances are *stars* (jittered star-shaped rings around a frame ``cx, cy, rx, ry,
th``, 2-3 detached rings when multi-polygon), crowds are unions of 1-4 rotated ellipses,
split / merged wholes are cut into pie slices. This module plans their frames and boxes;
:mod:`cocodiff._synth_draw` hands them to the kernels of :mod:`cocodiff.engine.synth`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def ranges(lo, lens):
    """Flat indices of the ranges ``lo[i]:lo[i]+lens[i]`` (int64)."""
    lens = np.asarray(lens, np.int64)
    tot = int(lens.sum())
    if tot == 0:
        return np.zeros(0, np.int64)
    starts = np.repeat(np.asarray(lo, np.int64) - np.concatenate(([0], np.cumsum(lens)[:-1])),
                       lens)
    return starts + np.arange(tot, dtype=np.int64)


def offsets(lens):
    """Offsets (int64, starting at 0) of consecutive ranges of lengths ``lens``."""
    out = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(lens, out=out[1:])
    return out


def positions(rows, n):
    """Per item ``0..n-1`` its position in ``rows`` (-1: not in it)."""
    out = np.full(n, -1, np.int64)
    out[rows] = np.arange(len(rows))
    return out


def seeds(rng, n):
    """``n`` seeds for the counter-based randomness of the kernels."""
    return rng.integers(0, 2**63 - 1, n, dtype=np.int64).astype(np.uint64)


@dataclass
class Stars:
    """Planned star-shaped polygon instances: frames, rings (ring arrays are per ring)."""
    cx: np.ndarray
    cy: np.ndarray
    rx: np.ndarray
    ry: np.ndarray
    th: np.ndarray
    nring: np.ndarray
    ring_ox: np.ndarray
    ring_oy: np.ndarray
    ring_s: np.ndarray
    ring_n: np.ndarray
    ext: np.ndarray        # radius of the fitting margin around (cx, cy)


def plan_stars(rng, area, W, H, multi, c_vert, cx, cy, n_min=4, asp_sigma=0.4):
    """Plan star instances of target ``area`` in images ``W x H`` (multi: 2-3 rings)."""
    n = len(area)
    nring = np.where(multi, 2 + (rng.random(n) < 0.3), 1).astype(np.int64)
    ro = offsets(nring)
    nr = int(ro[-1])
    first = np.zeros(nr, bool)
    first[ro[:-1]] = True
    # detached parts: ring j >= 1 at distance ~2 radii, ~2.2 rad apart (no overlap)
    j = np.arange(nr) - np.repeat(ro[:-1], nring)
    phi = np.repeat(2 * np.pi * rng.random(n), nring) + 2.2 * j + rng.uniform(-0.3, 0.3, nr)
    d = rng.uniform(1.95, 2.3, nr)
    s = np.where(first, 1.0, rng.uniform(0.3, 0.5, nr))
    ox = np.where(first, 0.0, d * np.cos(phi))
    oy = np.where(first, 0.0, d * np.sin(phi))
    ring_inst = np.repeat(np.arange(n), nring)
    asp = np.exp(rng.normal(0.0, asp_sigma, n))
    ntot = np.clip(np.round(c_vert * area ** 0.4 * np.exp(rng.normal(0, 0.25, n))), 4, 800)
    ring_n = np.maximum(np.broadcast_to(n_min, (n,))[ring_inst], np.round(
        ntot[ring_inst] * s / np.bincount(ring_inst, s, minlength=n)[ring_inst])).astype(
        np.int64)
    # an n-gon inscribed in a circle covers n/(2 pi) sin(2 pi/n) of it
    poly_f = ring_n / (2 * np.pi) * np.sin(2 * np.pi / ring_n)
    cover = np.bincount(ring_inst, s * s * poly_f, minlength=n)
    R = np.sqrt(area / (np.pi * 1.01 * cover))
    rx = R * np.sqrt(asp)
    ry = R / np.sqrt(asp)
    th = np.pi * rng.random(n)
    ext_r = np.sqrt(ox * ox + oy * oy) + 1.3 * s
    ext = np.maximum(rx, ry) * np.maximum.reduceat(ext_r, ro[:-1]) if nr else np.zeros(n)
    lim = 0.5 * np.minimum(W, H) - 0.5
    f = np.minimum(1.0, lim / np.maximum(ext, 1e-9))
    rx *= f
    ry *= f
    ext *= f
    # NaN centre: free, uniform inside the fitting margin; else clipped into it
    free = np.isnan(cx)
    ux = rng.random(n)
    uy = rng.random(n)
    cx = np.where(free, ext + (W - 2 * ext) * ux, np.clip(np.nan_to_num(cx), ext, W - ext))
    cy = np.where(free, ext + (H - 2 * ext) * uy, np.clip(np.nan_to_num(cy), ext, H - ext))
    return Stars(cx, cy, rx, ry, th, nring, ox, oy, s, ring_n, ext)


def plan_crowd(rng, area, W, H):
    """Plan crowds as unions of 1-4 rotated ellipses; returns (n_ell, cx, cy, a, b, th).
    The first (largest) ellipse lies inside the image."""
    n = len(area)
    m = 1 + rng.binomial(3, 0.4, n)
    asp = np.exp(rng.normal(0.0, 0.35, n))
    R = np.sqrt(area / np.pi / (1 + 0.35 * (m - 1)))
    a0 = R * np.sqrt(asp)
    b0 = R / np.sqrt(asp)
    lim = 0.45 * np.minimum(W, H)
    f = np.minimum(1.0, lim / np.maximum(a0, b0))
    a0 *= f
    b0 *= f
    inst = np.repeat(np.arange(n), m)
    eo = offsets(m)
    first = np.zeros(len(inst), bool)
    first[eo[:-1]] = True
    ne = len(inst)
    eth = np.pi * rng.random(ne)
    t0 = eth[eo[:-1]]
    hx = np.hypot(a0 * np.cos(t0), b0 * np.sin(t0))
    hy = np.hypot(a0 * np.sin(t0), b0 * np.cos(t0))
    cx0 = hx + (W - 2 * hx) * rng.random(n)
    cy0 = hy + (H - 2 * hy) * rng.random(n)
    phi = 2 * np.pi * rng.random(ne)
    rr = rng.uniform(0.5, 1.0, ne)
    ecx = cx0[inst] + np.where(first, 0.0, rr * a0[inst] * np.cos(phi))
    ecy = cy0[inst] + np.where(first, 0.0, rr * b0[inst] * np.sin(phi))
    sc = np.where(first, 1.0, rng.uniform(0.4, 0.8, ne))
    ea = np.maximum(a0[inst] * sc, 1.0)
    eb = np.maximum(b0[inst] * sc, 1.0)
    return m, ecx, ecy, ea, eb, eth


# ------------------------------------------------------------ boxes -------------------

def star_box(st, f=1.2):
    """Boxes (x0, y0, x1, y1) of planned stars (all their rings; a ring's radius is at most
    1.25 times its frame's, rarely over 1.2)."""
    if not len(st.cx):
        return np.zeros((0, 4))
    ro = offsets(st.nring)[:-1]
    inst = np.repeat(np.arange(len(st.cx)), st.nring)
    c, s = np.cos(st.th)[inst], np.sin(st.th)[inst]
    rx, ry = st.rx[inst], st.ry[inst]
    ux = st.ring_ox * rx
    uy = st.ring_oy * ry
    px = st.cx[inst] + ux * c - uy * s
    py = st.cy[inst] + ux * s + uy * c
    hx = f * st.ring_s * np.hypot(rx * c, ry * s)
    hy = f * st.ring_s * np.hypot(rx * s, ry * c)
    return np.stack([np.minimum.reduceat(px - hx, ro), np.minimum.reduceat(py - hy, ro),
                     np.maximum.reduceat(px + hx, ro), np.maximum.reduceat(py + hy, ro)], 1)


def star_mbox(st):
    """The fitting margins of planned stars (kept inside the image when moved)."""
    return np.stack([st.cx - st.ext, st.cy - st.ext, st.cx + st.ext, st.cy + st.ext], 1)


def ell_box(n_ell, ecx, ecy, ea, eb, eth):
    """Boxes of crowds (unions of ellipses)."""
    if not len(n_ell):
        return np.zeros((0, 4))
    c, s = np.cos(eth), np.sin(eth)
    hx = np.hypot(ea * c, eb * s)
    hy = np.hypot(ea * s, eb * c)
    eo = offsets(n_ell)[:-1]
    return np.stack([np.minimum.reduceat(ecx - hx, eo), np.minimum.reduceat(ecy - hy, eo),
                     np.maximum.reduceat(ecx + hx, eo), np.maximum.reduceat(ecy + hy, eo)], 1)


# ------------------------------------------------------------ pie slices --------------

def plan_slices(rng, xy, vo, rings, ccx, ccy, k):
    """Cut star-shaped rings into ``k`` (2 or 3) pie slices around ``(ccx, ccy)``
    (hundredths) at their vertices: the largest slice holds 55-82 % (k=2) or 55-72 % (k=3) of
    the area, each other one >= ~11 %. Returns per slice, wholes in order: (whole index,
    first vertex, vertex count)."""
    nw = len(rings)
    if nw == 0:
        z = np.zeros(0, np.int64)
        return z, z, z
    n = vo[rings + 1] - vo[rings]
    big = np.where(k == 2, rng.uniform(0.55, 0.82, nw), rng.uniform(0.55, 0.72, nw))
    second = np.where(k == 2, 1.0 - big, (1.0 - big) * rng.uniform(0.42, 0.58, nw))
    o = offsets(n)
    wi = np.repeat(np.arange(nw), n)
    idx = ranges(vo[rings], n)
    nxt = idx + 1
    nxt[o[1:] - 1] = vo[rings]
    x = xy[idx, 0] - ccx[wi]
    y = xy[idx, 1] - ccy[wi]
    tri = np.abs(x * (xy[nxt, 1] - ccy[wi]) - (xy[nxt, 0] - ccx[wi]) * y)
    cum = np.cumsum(tri)
    before = np.concatenate(([0.0], cum))[o[:-1]]
    tot = np.maximum(cum[o[1:] - 1] - before, 1e-9)
    cf = (cum - before[wi]) / tot[wi]       # flat q of whole w: share up to vertex q - o[w] + 1
    key = wi + cf
    bounds = np.zeros((nw, 4), np.int64)
    bounds[:, 1:] = n[:, None]
    w = np.arange(nw)
    for p, target in ((1, big), (2, big + second)):
        sel = k > p
        ws = w[sel]
        tg = target[sel]
        pos = np.clip(np.searchsorted(key, ws + tg), o[ws], o[ws + 1] - 1)
        jhi = pos - o[ws] + 1
        cf_lo = np.where(jhi > 1, cf[np.maximum(pos - 1, 0)], 0.0)
        j = np.where(tg - cf_lo < cf[pos] - tg, jhi - 1, jhi)
        j = np.clip(j, bounds[ws, p - 1] + 1, n[ws] - (k[ws] - p))
        bounds[ws, p] = j
    pw = np.repeat(w, k)
    pp = np.arange(len(pw)) - np.repeat(offsets(k)[:-1], k)
    j0 = bounds[pw, pp]
    m = bounds[pw, pp + 1] - j0 + 1
    return pw, j0, m


def n_spoke(n):
    """Points on a slice's spoke, spaced like the ring's vertices."""
    return np.clip(np.round(n / (2 * np.pi)) - 1, 0, 24).astype(np.int64)

