"""Deterministic synthetic twins of COCO-2017 (A) and a Sama-COCO-like relabel of it (B).

The generator plans *units* -- small groups of A and B instances tied by one relation --
with numpy (``Generator(PCG64(seed))``), draws the outlines with the counter-based Numba
kernels of :mod:`cocodiff.engine.synth` and writes the JSON text of the annotations
straight from the columnar arrays (no per-vertex Python object).

Relations (``truth["relations"]``), with the kinds of unit (``truth["groups"]["kind"]``)
that make them:

``matched``
    one A instance -> one B instance of the same category (``matched``): polygons
    densified (midpoints inserted on ~45 % of the edges) and jittered by a fraction of a
    pixel, sometimes with a small detached extra ring; an A crowd -> a slightly perturbed
    B crowd (``crowd_matched``).
``split``
    one A whole -> >= 2 B parts of its category lying inside it: an A crowd -> individuals
    (``crowd_split``); an A crowd -> k >= 1 individuals (>= ~110 px, well inside it) plus,
    in ~60 % of the units, a smaller B crowd left for the balance (its ellipses shrunk,
    IoU with the A crowd < 0.5) (``crowd_decomposed``, Sama's headline change, the most
    common crowd change); an A "group" polygon -> individuals inside it (``group_split``);
    one A polygon -> 2-3 B polygons tiling it, pie slices around its centre cut at its
    vertices (densified, jittered), the largest holding 55-85 % of the area, each >= ~10 %
    (``dominant_split``).
``merged``
    >= 2 A parts of one category -> one B whole covering them: individuals -> a B crowd
    (list-counts RLE) (``merged_crowd``) or a B multi-polygon made of their (densified)
    outlines (``merged_poly``); 2-3 adjacent A polygons tiling a star (pie slices) -> the
    whole star, densified (``merged_adjacent``).
``class_changed``
    one A instance -> one B instance with the identical geometry, a category absent from
    the image (``class_changed``).
``removed``
    an A instance with no B counterpart (mostly very small ones: Sama drops tiny objects)
    (``removed``).
``added``
    a B polygon (``added``) or crowd (``added_crowd``) with no A counterpart.

The truth is unambiguous: units are placed so that no instance lies mostly inside (or
covers) a same-category instance of another unit of its image when either unit is not a
plain matched / class-changed one (a crowd, a split or merged whole, a removed or added
instance); such a unit is re-drawn elsewhere, and after a few tries given a category absent
from the image. (Two plain matched instances one inside the other may stay: each one's own
B counterpart explains it best.) Bounding boxes are used for the test.

Shape statistics targeted (COCO-2017 train vs Sama-COCO train, scaled from the published
train+val figures): ~7.3 vs ~9.0 instances per image; ~1.2 % vs ~4.3 % crowds; ~9.6 % vs
~15.7 % multi-polygon instances; ~25.6 vs ~39 vertices per polygon instance; size shares
(very small <= 10^2, small < 32^2, medium < 96^2, large) ~8.7/41/34/24 % vs ~4.3/50/32/18 %.
:func:`shape_stats` measures them on a COCO dict.
"""
from __future__ import annotations

import logging
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from ._io import atomic_path, write_bytes_atomic
from .conventions import LARGE_AREA, SMALL_AREA, VERY_SMALL_AREA, size_masks
from .relations import RELATIONS   # the comparison's names and order (_UNIT_REL indexes them)
from .engine import synth as _k

__all__ = ["generate", "write_pair", "shape_stats", "CATEGORIES", "USED_CAT_IDS",
           "RELATIONS", "UNIT_KINDS", "SCALES", "TARGETS", "GENERATOR_VERSION"]

log = logging.getLogger(__name__)

FULL_IMAGES = 118_287
#: bumped whenever the output for a given (scale, seed) changes (invalidates caches)
GENERATOR_VERSION = 2
SCALES = {"tiny": 50, "val": 5_000, "full": FULL_IMAGES}

# (id, name, supercategory): the 91 categories of COCO-2014's list; 80 are used.
CATEGORIES = [
    (1, "person", "person"), (2, "bicycle", "vehicle"), (3, "car", "vehicle"),
    (4, "motorcycle", "vehicle"), (5, "airplane", "vehicle"), (6, "bus", "vehicle"),
    (7, "train", "vehicle"), (8, "truck", "vehicle"), (9, "boat", "vehicle"),
    (10, "traffic light", "outdoor"), (11, "fire hydrant", "outdoor"),
    (12, "street sign", "outdoor"), (13, "stop sign", "outdoor"),
    (14, "parking meter", "outdoor"), (15, "bench", "outdoor"), (16, "bird", "animal"),
    (17, "cat", "animal"), (18, "dog", "animal"), (19, "horse", "animal"),
    (20, "sheep", "animal"), (21, "cow", "animal"), (22, "elephant", "animal"),
    (23, "bear", "animal"), (24, "zebra", "animal"), (25, "giraffe", "animal"),
    (26, "hat", "accessory"), (27, "backpack", "accessory"), (28, "umbrella", "accessory"),
    (29, "shoe", "accessory"), (30, "eye glasses", "accessory"),
    (31, "handbag", "accessory"), (32, "tie", "accessory"), (33, "suitcase", "accessory"),
    (34, "frisbee", "sports"), (35, "skis", "sports"), (36, "snowboard", "sports"),
    (37, "sports ball", "sports"), (38, "kite", "sports"), (39, "baseball bat", "sports"),
    (40, "baseball glove", "sports"), (41, "skateboard", "sports"),
    (42, "surfboard", "sports"), (43, "tennis racket", "sports"), (44, "bottle", "kitchen"),
    (45, "plate", "kitchen"), (46, "wine glass", "kitchen"), (47, "cup", "kitchen"),
    (48, "fork", "kitchen"), (49, "knife", "kitchen"), (50, "spoon", "kitchen"),
    (51, "bowl", "kitchen"), (52, "banana", "food"), (53, "apple", "food"),
    (54, "sandwich", "food"), (55, "orange", "food"), (56, "broccoli", "food"),
    (57, "carrot", "food"), (58, "hot dog", "food"), (59, "pizza", "food"),
    (60, "donut", "food"), (61, "cake", "food"), (62, "chair", "furniture"),
    (63, "couch", "furniture"), (64, "potted plant", "furniture"), (65, "bed", "furniture"),
    (66, "mirror", "furniture"), (67, "dining table", "furniture"),
    (68, "window", "furniture"), (69, "desk", "furniture"), (70, "toilet", "furniture"),
    (71, "door", "furniture"), (72, "tv", "electronic"), (73, "laptop", "electronic"),
    (74, "mouse", "electronic"), (75, "remote", "electronic"),
    (76, "keyboard", "electronic"), (77, "cell phone", "electronic"),
    (78, "microwave", "appliance"), (79, "oven", "appliance"), (80, "toaster", "appliance"),
    (81, "sink", "appliance"), (82, "refrigerator", "appliance"),
    (83, "blender", "appliance"), (84, "book", "indoor"), (85, "clock", "indoor"),
    (86, "vase", "indoor"), (87, "scissors", "indoor"), (88, "teddy bear", "indoor"),
    (89, "hair drier", "indoor"), (90, "toothbrush", "indoor"), (91, "hair brush", "indoor"),
]
UNUSED_CAT_IDS = (12, 26, 29, 30, 45, 66, 68, 69, 71, 83, 91)
USED_CAT_IDS = np.array([c[0] for c in CATEGORIES if c[0] not in UNUSED_CAT_IDS], np.int64)


# Published shape statistics, train split (scaled from train+val), used by tests/CLI.
TARGETS = {
    "a": dict(per_image=7.27, crowd=0.0117, multi=0.096, vertices=25.6,
              very_small=0.087, small=0.414, medium=0.343, large=0.242),
    "b": dict(per_image=9.05, crowd=0.0425, multi=0.1575, vertices=39.0,
              very_small=0.0434, small=0.498, medium=0.318, large=0.185),
}

# ----------------------------------------------------------------- unit plan ----------
(MATCH, CLS, REMOVE, ADD, ADD_CROWD, CROWD_MATCH, CROWD_SPLIT, GROUP_SPLIT, MERGE_CROWD,
 MERGE_POLY, CROWD_DECOMP, DOMINANT_SPLIT, MERGE_ADJ) = range(13)
_N_UNIT = 13
#: ``truth["groups"]["kind"]``: the kind of unit (change) each group was made by
UNIT_KINDS = ("matched", "class_changed", "removed", "added", "added_crowd", "crowd_matched",
              "crowd_split", "group_split", "merged_crowd", "merged_poly", "crowd_decomposed",
              "dominant_split", "merged_adjacent")
_UNIT_REL = np.array([0, 3, 4, 5, 5, 0, 1, 1, 2, 2, 1, 1, 2])     # index into RELATIONS
# expected units per full train split (thousands)
_UNIT_W = np.array([640.5, 17.0, 38.0, 225.3, 13.3, 2.2, 1.3, 33.0, 26.0, 8.0,
                    6.6, 3.5, 3.0])
_UNIT_P = _UNIT_W / _UNIT_W.sum()
_UNITS_PER_IMAGE = _UNIT_W.sum() * 1000 / FULL_IMAGES

# area bins: very small (<=100), small, medium, large; sampled log-uniform inside a bin
_BIN_EDGES = np.array([[3.0, VERY_SMALL_AREA], [VERY_SMALL_AREA, SMALL_AREA], [SMALL_AREA, LARGE_AREA],
                       [LARGE_AREA, 140000.0]])
_BINS_A = np.array([0.030, 0.310, 0.385, 0.275])      # A individuals (matched, ...)
_BINS_REMOVE = np.array([0.78, 0.22, 0.0, 0.0])
_BINS_MEMBER = np.array([0.15, 0.60, 0.25, 0.0])
_BINS_GROUP = np.array([0.0, 0.0, 0.30, 0.70])
_BINS_CROWD = np.array([0.0, 0.10, 0.45, 0.45])
_BINS_ADD = np.array([0.07, 0.83, 0.09, 0.01])
_BINS_DECOMP = np.array([0.0, 0.0, 0.40, 0.60])      # decomposed crowds (>= _MIN_DECOMP)
_BINS_DOM = np.array([0.0, 0.03, 0.52, 0.45])        # dominant-split wholes (>= _MIN_DOM)
_BINS_ADJ = np.array([0.0, 0.12, 0.50, 0.38])        # adjacent-merge wholes (>= _MIN_ADJ)
_MIN_DECOMP = 4000.0
_MIN_DOM = 1200.0
_MIN_ADJ = 600.0
_MIN_PART = 110.0         # Sama labels no individual smaller than this out of a crowd

_P_MULTI_A = 0.128        # multi-ring share of A individuals with area >= 150 (not members)
_P_EXTRA_RING = 0.10     # matched single-ring instance gains a small detached ring in B
_P_MULTI_ADD = 0.15       # added B instance is multi-ring
_P_DENSIFY = 0.55         # share of edges that get a midpoint in a matched B outline
_P_REST = 0.60            # a decomposed crowd keeps a smaller crowd for the balance
_C_VERT_A = 0.84          # A vertex count ~ c * area^0.4
_C_VERT_B = 2.14
# placement: instances of two units of one image and category whose boxes overlap by this
# share of the smaller box are moved apart (then re-categorised): the truth must not be
# ambiguous; anything touching a crowd from 10 % on
_OVERLAP = 0.25
_OVERLAP_CROWD = 0.1
_MOVE_ROUNDS = 8
_DECLUTTER_ROUNDS = 11
_P_PERSON = 0.345         # drawn person share; ~30 % once crowded units are re-categorised

# (w, h, weight)
_IMAGE_SIZES = np.array([(640, 480, 35), (480, 640, 10), (640, 427, 20), (427, 640, 8),
                         (640, 640, 3), (500, 375, 4), (640, 425, 6), (425, 640, 3),
                         (640, 428, 5), (612, 612, 2), (640, 360, 4)], np.float64)


def _n_images(scale) -> int:
    if isinstance(scale, str):
        if scale in SCALES:
            return SCALES[scale]
        try:
            scale = float(scale)
        except ValueError:
            raise ValueError(f"scale must be one of {sorted(SCALES)} or a float fraction, "
                             f"got {scale!r}") from None
    f = float(scale)
    if not (0.0 < f <= 1.0):
        raise ValueError(f"scale fraction must be in (0, 1], got {f}")
    return max(1, int(round(f * FULL_IMAGES)))


def _ranges(lo, lens):
    """Flat indices of the ranges ``lo[i]:lo[i]+lens[i]`` (int64)."""
    lens = np.asarray(lens, np.int64)
    tot = int(lens.sum())
    if tot == 0:
        return np.zeros(0, np.int64)
    starts = np.repeat(np.asarray(lo, np.int64) - np.concatenate(([0], np.cumsum(lens)[:-1])),
                       lens)
    return starts + np.arange(tot, dtype=np.int64)


def _offsets(lens):
    out = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(lens, out=out[1:])
    return out


def _areas(rng, probs, n):
    b = rng.choice(4, n, p=probs / probs.sum())
    lo = np.log(_BIN_EDGES[b, 0])
    hi = np.log(_BIN_EDGES[b, 1])
    return np.exp(lo + (hi - lo) * rng.random(n))


def _seeds(rng, n):
    return rng.integers(0, 2**63 - 1, n, dtype=np.int64).astype(np.uint64)



@dataclass
class _Stars:
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


def _plan_stars(rng, area, W, H, multi, c_vert, cx, cy, n_min=4, asp_sigma=0.4):
    """Plan star instances of target ``area`` in images ``W x H`` (multi: 2-3 rings)."""
    n = len(area)
    nring = np.where(multi, 2 + (rng.random(n) < 0.3), 1).astype(np.int64)
    ro = _offsets(nring)
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
    return _Stars(cx, cy, rx, ry, th, nring, ox, oy, s, ring_n, ext)


def _plan_crowd(rng, area, W, H):
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
    eo = _offsets(m)
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


# ------------------------------------------------------------ placement boxes ---------

def _star_box(st, f=1.2):
    """Boxes (x0, y0, x1, y1) of planned stars (all their rings; a ring's radius is at most
    1.25 times its frame's, rarely over 1.2)."""
    if not len(st.cx):
        return np.zeros((0, 4))
    ro = _offsets(st.nring)[:-1]
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


def _star_mbox(st):
    """The fitting margins of planned stars (kept inside the image when moved)."""
    return np.stack([st.cx - st.ext, st.cy - st.ext, st.cx + st.ext, st.cy + st.ext], 1)


def _ell_box(n_ell, ecx, ecy, ea, eb, eth):
    """Boxes of crowds (unions of ellipses)."""
    if not len(n_ell):
        return np.zeros((0, 4))
    c, s = np.cos(eth), np.sin(eth)
    hx = np.hypot(ea * c, eb * s)
    hy = np.hypot(ea * s, eb * c)
    eo = _offsets(n_ell)[:-1]
    return np.stack([np.minimum.reduceat(ecx - hx, eo), np.minimum.reduceat(ecy - hy, eo),
                     np.maximum.reduceat(ecx + hx, eo), np.maximum.reduceat(ecy + hy, eo)], 1)


def _box_iou_reaches(b1, b2, iou):
    """Whether the IoU of boxes (x0, y0, x1, y1) reaches ``iou``."""
    iw = np.minimum(b1[:, 2], b2[:, 2]) - np.maximum(b1[:, 0], b2[:, 0])
    ih = np.minimum(b1[:, 3], b2[:, 3]) - np.maximum(b1[:, 1], b2[:, 1])
    inter = np.maximum(iw, 0.0) * np.maximum(ih, 0.0)
    a1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
    a2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
    return (inter > 0) & (inter >= iou * (a1 + a2 - inter))


def _pairs_within(key, size):
    """All pairs ``(i, j)`` of items with equal ``key``, ``i`` larger than ``j`` (``size``;
    ties: ``i`` first)."""
    n = len(key)
    order = np.lexsort((-size, key))
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ks = key[order]
    new = np.ones(n, bool)
    new[1:] = ks[1:] != ks[:-1]
    gstart = np.flatnonzero(new)
    gend = np.append(gstart[1:], n)
    cnt = gend[np.cumsum(new) - 1] - np.arange(n) - 1
    p = np.repeat(np.arange(n), cnt)
    q = _ranges(np.arange(n) + 1, cnt)
    return order[p], order[q]


def _shift(rng, mbox, W, H):
    """Random translations putting ``mbox`` anywhere inside the image (or straddling it,
    when larger)."""
    out = []
    for lo_c, hi_c, S in ((0, 2, W), (1, 3, H)):
        a = -mbox[:, lo_c]
        b = S - mbox[:, hi_c]
        out.append(np.minimum(a, b) + np.abs(b - a) * rng.random(len(mbox)))
    return out


def _plan_slices(rng, xy, vo, rings, ccx, ccy, k):
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
    o = _offsets(n)
    wi = np.repeat(np.arange(nw), n)
    idx = _ranges(vo[rings], n)
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
    pp = np.arange(len(pw)) - np.repeat(_offsets(k)[:-1], k)
    j0 = bounds[pw, pp]
    m = bounds[pw, pp + 1] - j0 + 1
    return pw, j0, m


def _n_spoke(n):
    """Points on a slice's spoke, spaced like the ring's vertices."""
    return np.clip(np.round(n / (2 * np.pi)) - 1, 0, 24).astype(np.int64)


@dataclass
class _Cols:
    """One annotation set, columnar (see :func:`cocodiff.engine.synth.write_annotations`)."""
    ann_id: np.ndarray
    image_id: np.ndarray
    category_id: np.ndarray
    iscrowd: np.ndarray
    ring_lo: np.ndarray
    ring_hi: np.ndarray
    vo: np.ndarray
    xy: np.ndarray
    co: np.ndarray
    counts: np.ndarray
    rle_h: np.ndarray
    rle_w: np.ndarray
    area_num: np.ndarray
    bbox: np.ndarray
    img_index: np.ndarray

    @property
    def n(self):
        return len(self.ann_id)

    def area(self):
        return np.where(self.iscrowd == 1, self.area_num.astype(np.float64),
                        self.area_num / 1e5)


def _fill_crowds(n_ell, ecx, ecy, ea, eb, eth, h, w):
    eo = _offsets(n_ell)
    nc = len(n_ell)
    co = np.zeros(nc + 1, np.int64)
    area = np.zeros(nc, np.int64)
    bbox = np.zeros((nc, 4), np.int64)
    lo, hi = eo[:-1], eo[1:]
    hh = np.asarray(h, np.int64)
    ww = np.asarray(w, np.int64)
    _k.crowd_rle(lo, hi, ecx, ecy, ea, eb, eth, hh, ww, co, np.zeros(0, np.uint32), area,
                 bbox, False)
    co = np.cumsum(co)
    counts = np.zeros(int(co[-1]), np.uint32)
    _k.crowd_rle(lo, hi, ecx, ecy, ea, eb, eth, hh, ww, co, counts, area, bbox, True)
    return co, counts, area, bbox


def _fill_stars(xy, vo, ring_lo, rows, stars, seeds, W, H):
    """Draw planned stars (their rings ``ring_lo[rows] .. + stars.nring``) into ``xy``."""
    if not len(rows):
        return
    R = len(vo) - 1
    s_ring = _ranges(ring_lo, stars.nring)
    g_ox = np.zeros(R)
    g_oy = np.zeros(R)
    g_s = np.zeros(R)
    g_ox[s_ring] = stars.ring_ox
    g_oy[s_ring] = stars.ring_oy
    g_s[s_ring] = stars.ring_s
    per = np.add.reduceat(stars.ring_n, _offsets(stars.nring)[:-1])
    scratch = np.zeros(2 * int(per.max()) + 2)
    _k.star_fill(xy, vo, np.arange(len(rows), dtype=np.int64), ring_lo,
                 ring_lo + stars.nring, W, H, stars.cx, stars.cy, stars.rx, stars.ry,
                 stars.th, seeds, g_ox, g_oy, g_s, scratch)


class _Build:
    """Everything :func:`generate` and :func:`write_pair` need, columnar."""

    def __init__(self, scale="tiny", seed=0):
        t0 = time.perf_counter()
        self.scale = scale
        self.seed = int(seed)
        rng = np.random.Generator(np.random.PCG64(self.seed))
        n_img = _n_images(scale)
        self.n_img = n_img
        # ------------------------------------------------------------ images -------
        sw = _IMAGE_SIZES[:, 2] / _IMAGE_SIZES[:, 2].sum()
        si = rng.choice(len(_IMAGE_SIZES), n_img, p=sw)
        self.img_w = _IMAGE_SIZES[si, 0].astype(np.int64)
        self.img_h = _IMAGE_SIZES[si, 1].astype(np.int64)
        self.img_id = rng.choice(581_929, n_img, replace=False).astype(np.int64) + 1
        self.img_license = rng.integers(1, 9, n_img)
        # ------------------------------------------------------------ units --------
        mean_extra = _UNITS_PER_IMAGE - 1.0
        nbn = 1.5
        nu = 1 + rng.negative_binomial(nbn, nbn / (nbn + mean_extra), n_img)
        U = int(nu.sum())
        u_img = np.repeat(np.arange(n_img), nu)
        u_type = rng.choice(_N_UNIT, U, p=_UNIT_P)
        # every relation kind (in fact every unit type) present when there is room
        if U >= 40:
            for t in range(_N_UNIT):
                if not np.any(u_type == t):
                    cand = np.flatnonzero(u_type == MATCH)
                    u_type[cand[rng.integers(len(cand))]] = t
        # categories: person ~30 % (drawn ~33 %: placement moves some crowded units to
        # other categories); a fixed Zipf-like order for the other 79
        cw = np.empty(80)
        cw[0] = _P_PERSON
        order = np.random.Generator(np.random.PCG64(2017)).permutation(79)
        zipf = 1.0 / (np.arange(79) + 4.0)
        cw[1:] = (1.0 - _P_PERSON) * zipf[order] / zipf.sum()
        self.cat_w = cw
        self.img_cats = rng.choice(80, (n_img, 3), p=cw)
        sel = rng.choice(3, U, p=[0.6, 0.25, 0.15])
        self.u_cat = self.img_cats[u_img, sel]
        k = np.ones(U, np.int64)
        rest = (u_type == CROWD_DECOMP) & (rng.random(U) < _P_REST)
        for t, kk in ((CROWD_SPLIT, 2 + rng.poisson(2.0, U)),
                      (GROUP_SPLIT, 2 + rng.poisson(1.0, U)),
                      (MERGE_CROWD, 2 + rng.poisson(1.5, U)),
                      (MERGE_POLY, 2 + rng.binomial(1, 0.5, U)),
                      # with a remaining crowd one individual is enough
                      (CROWD_DECOMP, np.where(rest, 1, 2) + rng.poisson(1.5, U)),
                      (DOMINANT_SPLIT, 2 + (rng.random(U) < 0.25)),
                      (MERGE_ADJ, 2 + (rng.random(U) < 0.3))):
            k = np.where(u_type == t, kk, k)
        nA = np.select([np.isin(u_type, (ADD, ADD_CROWD)),
                        np.isin(u_type, (MERGE_CROWD, MERGE_POLY, MERGE_ADJ))], [0, k], 1)
        nB = np.select([u_type == REMOVE,
                        np.isin(u_type, (CROWD_SPLIT, GROUP_SPLIT, CROWD_DECOMP,
                                         DOMINANT_SPLIT))], [0, k + rest], 1)
        self.U, self.u_type, self.u_img, self.u_k, self.u_rest = U, u_type, u_img, k, rest
        self.a_off = _offsets(nA)
        self.b_off = _offsets(nB)
        self._build_a(rng, nA)
        # class changes: to a category absent from the image
        self.u_catb = self.u_cat.copy()
        cls = np.flatnonzero(u_type == CLS)
        self.u_catb[cls] = self._other_cats(rng, u_img[cls], self.u_cat[cls],
                                            np.sort(u_img * 128 + self.u_cat))
        self._build_b(rng, nB)
        log.info("synth %s seed=%d: %d images, %d A / %d B instances in %.2fs", scale,
                 self.seed, n_img, self.A.n, self.B.n, time.perf_counter() - t0)

    # ------------------------------------------------------------ placement -----
    def _other_cats(self, rng, img, cur, taken):
        """Random categories (weighted like the others) for units of images ``img``: not
        ``cur``, not one of the image's 3 drawn categories, nor one of ``taken`` (sorted keys
        ``image index * 128 + category`` already used)."""
        def bad_of(c):
            key = img * 128 + c
            pos = np.minimum(np.searchsorted(taken, key), max(len(taken) - 1, 0))
            used = taken[pos] == key if len(taken) else np.zeros(len(c), bool)
            return used | (self.img_cats[img] == c[:, None]).any(1) | (c == cur)
        c = rng.choice(80, len(img), p=self.cat_w)
        bad = bad_of(c)
        while bad.any():
            c[bad] = rng.choice(80, int(bad.sum()), p=self.cat_w)
            bad[bad] = bad_of(c)[bad]
        return c

    def _declutter(self, rng, units, owner, cat, box, mbox, movable, fixed=None, thr=None):
        """Re-draw the positions of units with an instance whose box overlaps the box of an
        instance of another unit of the same image and category by :data:`_OVERLAP` of the
        smaller one (an instance lying mostly inside another, or covering it, could make the
        truth ambiguous); the unit of the smaller instance moves.

        ``units``: the units; ``owner``: per instance box (``box``) its index into
        ``units``; ``cat``, ``mbox`` (the box the unit must keep inside the image), ``movable``
        per unit. Without ``fixed`` (the A units among themselves): after
        :data:`_MOVE_ROUNDS` tries a unit still in a *hard* conflict -- one of the two units
        is not a plain matched or class-changed one (a crowd, a split or merged whole, a
        removed instance), or the boxes are alike (IoU >= 0.4) -- gets a category absent from
        the image; plain instances one inside the other stay (unambiguous: the outer one's
        own B match explains it best). ``thr`` (per instance, default :data:`_OVERLAP`):
        a pair conflicts from the smaller threshold of its two instances on (crowds use
        :data:`_OVERLAP_CROWD`: whatever of the same category lies inside a crowd is read as
        one of its parts). With ``fixed`` = (key, box) of instances that stay,
        only conflicts with them count, all hard (added B instances must not lie inside,
        nor cover, an A instance); units not ``movable`` are re-categorised at once.
        ``cat``, ``box``, ``mbox`` are updated in place; returns the translations (dx, dy)
        per unit.
        """
        n = len(units)
        img = self.u_img[units]
        W = self.img_w[img].astype(np.float64)
        H = self.img_h[img].astype(np.float64)
        plain = np.isin(self.u_type[units], (MATCH, CLS))
        if thr is None:
            thr = np.full(len(box), _OVERLAP)
        within = fixed is None
        u_all = np.arange(n)
        i_lo = np.searchsorted(owner, u_all)              # owner is sorted
        i_n = np.searchsorted(owner, u_all, "right") - i_lo
        if within:
            f_box, f_thr = box, thr
        else:
            f_order = np.argsort(fixed[0], kind="stable")
            f_key = fixed[0][f_order]
            f_box = fixed[1]
            f_thr = np.full(len(f_box), _OVERLAP)

        def make_pairs(items):
            """Pairs (i, j, unit of i, unit of j or -1) of ``items`` with the others."""
            key = (img * 128 + cat)[owner[items]]
            if within:       # the smaller instance's unit moves
                i, j = _pairs_within(key, (box[items, 2] - box[items, 0]) *
                                     (box[items, 3] - box[items, 1]))
                i, j = items[i], items[j]
                keep = owner[i] != owner[j]
                i, j = i[keep], j[keep]
                return i, j, owner[i], owner[j]
            lo = np.searchsorted(f_key, key, "left")
            cnt = np.searchsorted(f_key, key, "right") - lo
            i = np.repeat(items, cnt)
            return i, f_order[_ranges(lo, cnt)], owner[i], np.full(len(i), -1, np.int64)

        def evaluate(p, conf=None, changed=None):
            """(Re-)test the pairs ``p`` (all, or those of ``changed`` units)."""
            if conf is None:
                conf = np.zeros(len(p[0]), bool)
            _k.box_conflicts(*p, np.zeros(1, bool) if changed is None else changed,
                             changed is None, box, f_box, thr, f_thr, conf)
            return conf

        P = make_pairs(np.arange(len(box)))
        conf = evaluate(P)
        ever_rec = np.zeros(n, bool)
        dx = np.zeros(n)
        dy = np.zeros(n)
        for rnd in range(_DECLUTTER_ROUNDS):
            c = np.flatnonzero(conf)
            if within and rnd >= _MOVE_ROUNDS:
                hard = ~(plain[P[2][c]] & plain[P[3][c]]) | _box_iou_reaches(
                    box[P[0][c]], box[P[1][c]], 0.4)
                c = c[hard]
            if not len(c):
                break
            flag = np.zeros(n, bool)
            flag[(P[3] if within else P[2])[c]] = True
            if rnd < _MOVE_ROUNDS:
                move = np.flatnonzero(flag & movable)
                rec = np.flatnonzero(flag & ~movable)
            else:
                move = np.zeros(0, np.int64)
                rec = np.flatnonzero(flag)
            if len(move):
                sx, sy = _shift(rng, mbox[move], W[move], H[move])
                dx[move] += sx
                dy[move] += sy
                d = np.stack([sx, sy, sx, sy], 1)
                mbox[move] += d
                box[_ranges(i_lo[move], i_n[move])] += np.repeat(d, i_n[move], axis=0)
                changed = np.zeros(n, bool)
                changed[move] = True
                evaluate(P, conf, changed)
            if len(rec):
                # new categories are absent from the image: only units re-categorised
                # (now or before) can pair up again
                taken = np.sort(img * 128 + cat) if within else f_key
                cat[rec] = self._other_cats(rng, img[rec], cat[rec], taken)
                ever_rec[rec] = True
                keep = ~ever_rec[P[2]]
                if within:
                    keep &= ~ever_rec[P[3]]
                Q = make_pairs(_ranges(i_lo[ever_rec], i_n[ever_rec]))
                P = tuple(np.concatenate([x[keep], y]) for x, y in zip(P, Q))
                conf = np.concatenate([conf[keep], evaluate(Q)])
        return dx, dy

    # ---------------------------------------------------------------- A ---------
    def _build_a(self, rng, nA):
        u_type, u_img, k = self.u_type, self.u_img, self.u_k
        a_unit = np.repeat(np.arange(self.U), nA)
        nAi = len(a_unit)
        t = u_type[a_unit]
        img = u_img[a_unit]
        W = self.img_w[img].astype(np.float64)
        H = self.img_h[img].astype(np.float64)
        crowd = np.isin(t, (CROWD_MATCH, CROWD_SPLIT, CROWD_DECOMP))
        member = np.isin(t, (MERGE_CROWD, MERGE_POLY))
        adj = t == MERGE_ADJ            # pie slices of a star (planned per unit below)
        poly = ~crowd & ~adj
        # areas
        area = _areas(rng, _BINS_A, nAi)
        for tt, bins, lo in ((REMOVE, _BINS_REMOVE, 0.0), (GROUP_SPLIT, _BINS_GROUP, 0.0),
                             (DOMINANT_SPLIT, _BINS_DOM, _MIN_DOM),
                             (CROWD_DECOMP, _BINS_DECOMP, _MIN_DECOMP)):
            sel = t == tt
            area[sel] = np.maximum(_areas(rng, bins, int(sel.sum())), lo)
        area[member] = _areas(rng, _BINS_MEMBER, int(member.sum()))
        # the outlines merged into one multi-polygon are of alike sizes (none negligible:
        # their union must explain the whole clearly better than the largest alone)
        mp = np.flatnonzero(t == MERGE_POLY)
        base = _areas(rng, _BINS_MEMBER, self.U)
        area[mp] = base[a_unit[mp]] * np.exp(rng.uniform(-0.45, 0.45, len(mp)))
        cr = crowd & (t != CROWD_DECOMP)
        area[cr] = _areas(rng, _BINS_CROWD, int(cr.sum()))
        # polygon instances
        pi = np.flatnonzero(poly)
        dom = t[pi] == DOMINANT_SPLIT
        multi = (~member[pi]) & (~dom) & (area[pi] >= 150) & (
            rng.random(len(pi)) < _P_MULTI_A)
        # merge members cluster around their unit's centre
        ucx = self.img_w[u_img] * rng.random(self.U)
        ucy = self.img_h[u_img] * rng.random(self.U)
        spread = np.sqrt(area[pi]) * np.sqrt(k[a_unit[pi]]) * 0.9
        ang = 2 * np.pi * rng.random(len(pi))
        rad = np.sqrt(rng.random(len(pi))) * spread
        ccx = np.where(member[pi], ucx[a_unit[pi]] + rad * np.cos(ang), np.nan)
        ccy = np.where(member[pi], ucy[a_unit[pi]] + rad * np.sin(ang), np.nan)
        # the outlines merged into a multi-polygon lie side by side (on a circle around the
        # unit's centre, clear of the image border), none inside another
        mpr = np.flatnonzero(t[pi] == MERGE_POLY)
        uu = a_unit[pi[mpr]]
        rb = np.sqrt(base / np.pi)
        rc = rb * rng.uniform(1.1, 1.4, self.U) / np.sin(np.pi / np.maximum(k, 2))
        marg = np.minimum(rc + 2.0 * rb, 0.5 * np.minimum(self.img_w, self.img_h)[u_img])
        ux = marg + (self.img_w[u_img] - 2 * marg) * rng.random(self.U)
        uy = marg + (self.img_h[u_img] - 2 * marg) * rng.random(self.U)
        ph = (2 * np.pi * rng.random(self.U))[uu] + 2 * np.pi * (pi[mpr] - self.a_off[uu]) / k[
            uu] + rng.uniform(-0.3, 0.3, len(mpr))
        ccx[mpr] = ux[uu] + rc[uu] * np.cos(ph)
        ccy[mpr] = uy[uu] + rc[uu] * np.sin(ph)
        st = _plan_stars(rng, area[pi], W[pi], H[pi], multi, _C_VERT_A, ccx, ccy,
                         n_min=np.where(dom, 8 * k[a_unit[pi]], 4))
        # crowds
        ci = np.flatnonzero(crowd)
        m, ecx, ecy, ea, eb, eth = _plan_crowd(rng, area[ci], W[ci], H[ci])
        # adjacent merges: one star per unit, the B whole; A holds its pie slices
        adj_u = np.flatnonzero(u_type == MERGE_ADJ)
        Wu = self.img_w[u_img[adj_u]].astype(np.float64)
        Hu = self.img_h[u_img[adj_u]].astype(np.float64)
        s_area = np.maximum(_areas(rng, _BINS_ADJ, len(adj_u)), _MIN_ADJ)
        nan = np.full(len(adj_u), np.nan)
        sst = _plan_stars(rng, s_area, Wu, Hu, np.zeros(len(adj_u), bool), _C_VERT_A, nan,
                          nan, n_min=6 * k[adj_u])
        # placement: the A instances' boxes (as B will draw them: a matched outline's extra
        # ring, a merged crowd's ellipses), then units moved apart (see _declutter)
        box = np.zeros((nAi, 4))
        mbox = np.zeros((nAi, 4))
        box[pi] = _star_box(st)
        mbox[pi] = _star_mbox(st)
        # a matched outline may gain a small ring just off its box in B
        mt = pi[t[pi] == MATCH]
        grow = 0.06 * (box[mt, 2:] - box[mt, :2])
        box[mt] += np.concatenate([-grow, grow], 1)
        # a merged crowd covers its members' boxes with ellipses 1.42 x their half sides
        mcr = np.flatnonzero(t[pi] == MERGE_CROWD)
        c2 = box[pi[mcr], :2] + box[pi[mcr], 2:]
        half = 1.42 / 1.2 * (box[pi[mcr], 2:] - box[pi[mcr], :2]) / 2 + 1.0
        box[pi[mcr]] = np.concatenate([c2 / 2 - half, c2 / 2 + half], 1)
        box[ci] = mbox[ci] = _ell_box(m, ecx, ecy, ea, eb, eth)
        u2adj = np.full(self.U, -1, np.int64)
        u2adj[adj_u] = np.arange(len(adj_u))
        box[adj] = _star_box(sst)[u2adj[a_unit[adj]]]
        mbox[adj] = _star_mbox(sst)[u2adj[a_unit[adj]]]
        ua = np.flatnonzero(nA > 0)
        owner = np.repeat(np.arange(len(ua)), nA[ua])      # == position of a_unit in ua
        st0 = self.a_off[:-1][ua]
        umbox = np.stack([np.minimum.reduceat(mbox[:, 0], st0),
                          np.minimum.reduceat(mbox[:, 1], st0),
                          np.maximum.reduceat(mbox[:, 2], st0),
                          np.maximum.reduceat(mbox[:, 3], st0)], 1) if nAi else np.zeros((0, 4))
        cat = self.u_cat[ua]
        thr = np.where(crowd | (t == MERGE_CROWD), _OVERLAP_CROWD, _OVERLAP)
        dxu, dyu = self._declutter(rng, ua, owner, cat, box, umbox, np.ones(len(ua), bool),
                                   thr=thr)
        self.u_cat[ua] = cat
        self.a_box = box        # the A instances' boxes (fixed for the B-only units)
        dx = np.zeros(self.U)
        dy = np.zeros(self.U)
        dx[ua] = dxu
        dy[ua] = dyu
        st.cx += dx[a_unit[pi]]
        st.cy += dy[a_unit[pi]]
        ecx += np.repeat(dx[a_unit[ci]], m)
        ecy += np.repeat(dy[a_unit[ci]], m)
        sst.cx += dx[adj_u]
        sst.cy += dy[adj_u]
        self.a_stars = st
        self.a_poly_rows = pi
        self.a_crowd_ell = (m, ecx, ecy, ea, eb, eth)
        self.a_crowd_rows = ci
        # the adjacent-merge wholes, drawn now; A gets their slices, B their copies
        s_vo = _offsets(sst.ring_n)
        s_xy = np.zeros((int(s_vo[-1]), 2), np.int32)
        _fill_stars(s_xy, s_vo, np.arange(len(adj_u), dtype=np.int64), adj_u, sst,
                    _seeds(rng, len(adj_u)), self.img_w[u_img[adj_u]],
                    self.img_h[u_img[adj_u]])
        self.adj = dict(units=adj_u, u2adj=u2adj, xy=s_xy, vo=s_vo, area=s_area)
        pw, j0, mm = _plan_slices(rng, s_xy, s_vo, np.arange(len(adj_u), dtype=np.int64),
                                  sst.cx * 100.0, sst.cy * 100.0, k[adj_u])
        n_src = np.diff(s_vo)[pw]
        slices = dict(rows=np.flatnonzero(adj), src_xy=s_xy, src_vo=s_vo, src_ring=pw, j0=j0,
                      m=mm, cx=np.round(sst.cx * 100.0)[pw], cy=np.round(sst.cy * 100.0)[pw],
                      n_spoke=_n_spoke(n_src), dens=np.zeros(len(pw)),
                      sigma=np.zeros(len(pw)))
        self.A = self._realise(
            n=nAi, img=img, cat=USED_CAT_IDS[self.u_cat[a_unit]], crowd=crowd, star_rows=pi,
            stars=st, star_seeds=_seeds(rng, len(pi)), crowd_rows=ci,
            ell=(m, ecx, ecy, ea, eb, eth), ann_id0=1, rng=rng, slices=slices)
        self.a_unit = a_unit

    # ---------------------------------------------------------------- B ---------
    def _build_b(self, rng, nB):
        A = self.A
        u_type, u_img, k = self.u_type, self.u_img, self.u_k
        b_unit = np.repeat(np.arange(self.U), nB)
        nBi = len(b_unit)
        t = u_type[b_unit]
        img = u_img[b_unit]
        W = self.img_w[img].astype(np.float64)
        H = self.img_h[img].astype(np.float64)
        rank = np.arange(nBi) - self.b_off[b_unit]
        rest = (t == CROWD_DECOMP) & (rank == k[b_unit])     # the crowd left for the balance
        crowd = np.isin(t, (ADD_CROWD, CROWD_MATCH, MERGE_CROWD)) | rest
        a_lo = self.a_off[b_unit]           # the unit's A instances a_lo:a_hi
        a_hi = self.a_off[b_unit + 1]
        a0 = np.minimum(a_lo, A.n - 1)
        # --- copied rings (matched / class changed / merged into a multi-polygon)
        copy = np.isin(t, (MATCH, CLS, MERGE_POLY))
        a_rlo = np.where(copy, A.ring_lo[a0], 0)
        a_rhi = np.where(copy, A.ring_hi[np.maximum(a_hi - 1, 0)], 0)
        n_copy = np.where(copy, a_rhi - a_rlo, 0)
        # --- star rings: extra detached ring, added instances, split children
        a_single = copy & (t == MATCH) & (n_copy == 1)
        a_area = np.where(copy | np.isin(t, (GROUP_SPLIT, DOMINANT_SPLIT)), A.area()[a0], 0)
        extra = a_single & (a_area >= 100) & (rng.random(nBi) < _P_EXTRA_RING)
        child = np.isin(t, (CROWD_SPLIT, GROUP_SPLIT)) | ((t == CROWD_DECOMP) & ~rest)
        add = t == ADD
        star = extra | child | add
        si = np.flatnonzero(star)
        ns = len(si)
        s_area = np.zeros(ns)
        s_cx = np.zeros(ns)
        s_cy = np.zeros(ns)
        s_multi = np.zeros(ns, bool)
        # extra ring: small blob at the edge of the A bbox
        ex = extra[si]
        e_rows = si[ex]
        ab = A.bbox[a_lo[e_rows]] / 100.0
        phi = 2 * np.pi * rng.random(len(e_rows))
        s_cx[ex] = ab[:, 0] + ab[:, 2] * (0.5 + 0.55 * np.cos(phi))
        s_cy[ex] = ab[:, 1] + ab[:, 3] * (0.5 + 0.55 * np.sin(phi))
        s_area[ex] = a_area[e_rows] * rng.uniform(0.02, 0.07, len(e_rows))
        # added
        ad = add[si]
        s_area[ad] = _areas(rng, _BINS_ADD, int(ad.sum()))
        s_multi[ad] = (s_area[ad] >= 150) & (rng.random(int(ad.sum())) < _P_MULTI_ADD)
        s_cx[ad] = np.nan
        # children of a crowd split: inside one of its ellipses
        m_a, ecx, ecy, ea, eb, eth = self.a_crowd_ell
        a_eo = _offsets(m_a)
        a_crow_idx = np.full(A.n, -1, np.int64)
        a_crow_idx[self.a_crowd_rows] = np.arange(len(self.a_crowd_rows))
        cs = (t[si] == CROWD_SPLIT)
        rows = si[cs]
        ci = a_crow_idx[a_lo[rows]]
        e = a_eo[ci] + (rng.random(len(rows)) * m_a[ci]).astype(np.int64)
        e = np.minimum(e, a_eo[ci + 1] - 1)
        pc, pa, pb, pt = ecx[e], ecy[e], ea[e], eb[e]
        pth = eth[e]
        rr = 0.5 * np.sqrt(rng.random(len(rows)))
        ph = 2 * np.pi * rng.random(len(rows))
        lx = rr * pb * np.cos(ph)
        ly = rr * pt * np.sin(ph)
        s_cx[cs] = pc + lx * np.cos(pth) - ly * np.sin(pth)
        s_cy[cs] = pa + lx * np.sin(pth) + ly * np.cos(pth)
        cr = np.minimum(pb, pt) * rng.uniform(0.2, 0.4, len(rows))
        s_area[cs] = np.pi * cr * cr
        # crowd decomposition: individuals spread around the main ellipse, clear of the
        # remaining (shrunk) crowd where there is one, each >= _MIN_PART and well inside
        shrink = rng.uniform(0.35, 0.55, self.U)
        phi0 = 2 * np.pi * rng.random(self.U)
        cd = (t[si] == CROWD_DECOMP)
        rows = si[cd]
        ru = b_unit[rows]
        e = a_eo[a_crow_idx[a_lo[rows]]]
        mn = np.minimum(ea[e], eb[e])
        crd = np.maximum(mn * rng.uniform(0.18, 0.3, len(rows)),
                         np.sqrt(1.1 * _MIN_PART / np.pi))
        ph = phi0[ru] + 2 * np.pi * rank[rows] / k[ru] + rng.uniform(-0.35, 0.35, len(rows))
        rr = np.where(self.u_rest[ru], rng.uniform(shrink[ru], 0.8),
                      0.75 * np.sqrt(rng.random(len(rows))))
        rr = np.maximum(np.minimum(rr, 0.92 - 1.4 * crd / mn), 0.0)
        lx = rr * ea[e] * np.cos(ph)
        ly = rr * eb[e] * np.sin(ph)
        s_cx[cd] = ecx[e] + lx * np.cos(eth[e]) - ly * np.sin(eth[e])
        s_cy[cd] = ecy[e] + lx * np.sin(eth[e]) + ly * np.cos(eth[e])
        s_area[cd] = np.pi * crd * crd
        # children of a group polygon: spread inside the parent's star frame (ring 0)
        gs = (t[si] == GROUP_SPLIT)
        rows = si[gs]
        ru = b_unit[rows]
        a_prow = np.full(A.n, -1, np.int64)
        a_prow[self.a_poly_rows] = np.arange(len(self.a_poly_rows))
        pr = a_prow[a_lo[rows]]
        S = self.a_stars
        mn = np.minimum(S.rx[pr], S.ry[pr])
        crg = mn * rng.uniform(0.15, 0.28, len(rows))
        rr = np.minimum(rng.uniform(0.25, 0.5, len(rows)), 0.9 - 1.4 * crg / mn)
        ph = phi0[ru] + 2 * np.pi * rank[rows] / k[ru] + rng.uniform(-0.3, 0.3, len(rows))
        lx = rr * S.rx[pr] * np.cos(ph)
        ly = rr * S.ry[pr] * np.sin(ph)
        s_cx[gs] = S.cx[pr] + lx * np.cos(S.th[pr]) - ly * np.sin(S.th[pr])
        s_cy[gs] = S.cy[pr] + lx * np.sin(S.th[pr]) + ly * np.cos(S.th[pr])
        s_area[gs] = np.pi * crg * crg
        s_area = np.maximum(s_area, 3.0)
        # Sama skips tiny parts; a child stays well inside its parent
        cap = np.zeros(ns)
        cap[cs] = 0.2 * np.pi * pb * pt
        cap[gs] = 0.15 * np.pi * S.rx[pr] * S.ry[pr]
        s_area[cs | gs] = np.minimum(np.maximum(s_area[cs | gs], _MIN_PART), cap[cs | gs])
        Ws, Hs = W[si], H[si]
        free = np.isnan(s_cx)
        s_cy[free] = np.nan
        st = _plan_stars(rng, s_area, Ws, Hs, s_multi, _C_VERT_B, s_cx, s_cy,
                         asp_sigma=np.where(cs | gs | cd, 0.2, 0.4))
        # --- crowds
        crow = np.flatnonzero(crowd)
        ct = t[crow]
        n_ell = np.zeros(len(crow), np.int64)
        n_ell[ct == MERGE_CROWD] = (a_hi - a_lo)[crow[ct == MERGE_CROWD]]
        cm = (ct == CROWD_MATCH) | (ct == CROWD_DECOMP)      # A's ellipses, changed
        n_ell[cm] = m_a[a_crow_idx[a_lo[crow[cm]]]]
        ac = ct == ADD_CROWD
        new = _plan_crowd(rng, _areas(rng, _BINS_CROWD, int(ac.sum())), W[crow[ac]],
                          H[crow[ac]])
        n_ell[ac] = new[0]
        # --- placement of the added instances: not inside nor over a same-category A unit
        ad_rows = si[ad]
        ac_rows = crow[ac]
        cls_u = np.flatnonzero(u_type == CLS)
        items = np.concatenate([b_unit[ad_rows], b_unit[ac_rows], cls_u])
        box = np.concatenate([_star_box(st)[ad], _ell_box(*new), self.a_box[self.a_off[cls_u]]])
        mbox = np.concatenate([_star_mbox(st)[ad], _ell_box(*new),
                               self.a_box[self.a_off[cls_u]]])
        movable = np.arange(len(items)) < len(ad_rows) + len(ac_rows)
        cat = self.u_catb[items]
        fkey = u_img[self.a_unit] * 128 + self.u_cat[self.a_unit]
        dxi, dyi = self._declutter(rng, items, np.arange(len(items)), cat, box, mbox, movable,
                                   fixed=(fkey, self.a_box))
        self.u_catb[items] = cat
        na = len(ad_rows)
        st.cx[ad] += dxi[:na]
        st.cy[ad] += dyi[:na]
        nac = len(ac_rows)
        new = (new[0], new[1] + np.repeat(dxi[na:na + nac], new[0]),
               new[2] + np.repeat(dyi[na:na + nac], new[0]), *new[3:])
        n_star = np.zeros(nBi, np.int64)
        n_star[si] = st.nring
        eo = _offsets(n_ell)
        ne = int(eo[-1])
        E = np.zeros((5, ne))
        # matched crowds: A's ellipses, perturbed; remaining crowds: A's ellipses, shrunk
        dst = _ranges(eo[:-1][cm], n_ell[cm])
        src = _ranges(a_eo[a_crow_idx[a_lo[crow[cm]]]], n_ell[cm])
        f = np.where(np.repeat(ct[cm] == CROWD_DECOMP, n_ell[cm]),
                     np.repeat(shrink[b_unit[crow[cm]]], n_ell[cm]), 1.0)
        E[0, dst] = ecx[src] + rng.uniform(-1.5, 1.5, len(src))
        E[1, dst] = ecy[src] + rng.uniform(-1.5, 1.5, len(src))
        E[2, dst] = f * ea[src] * rng.uniform(0.96, 1.04, len(src))
        E[3, dst] = f * eb[src] * rng.uniform(0.96, 1.04, len(src))
        E[4, dst] = eth[src]
        # merged into a crowd: one ellipse around each member's bbox
        mc = ct == MERGE_CROWD
        dst = _ranges(eo[:-1][mc], n_ell[mc])
        src = _ranges(a_lo[crow[mc]], n_ell[mc])
        bb = A.bbox[src] / 100.0
        E[0, dst] = bb[:, 0] + bb[:, 2] / 2
        E[1, dst] = bb[:, 1] + bb[:, 3] / 2
        E[2, dst] = bb[:, 2] / 2 * 1.42 + 1.0     # covers the bbox
        E[3, dst] = bb[:, 3] / 2 * 1.42 + 1.0
        E[4, dst] = 0.0
        dst = _ranges(eo[:-1][ac], n_ell[ac])
        for j in range(5):
            E[j, dst] = new[1 + j]
        # --- copies: of A's rings (densified, jittered) and of the adjacent-merge wholes
        crow_c = np.flatnonzero(copy)
        sig_a = np.clip(0.015 * np.sqrt(np.maximum(a_area, 0)), 0.05, 0.8)
        copies = [dict(rows=crow_c, n_copy=n_copy[crow_c], src_lo=a_rlo[crow_c],
                       dens=np.where(t[crow_c] == CLS, 0.0, _P_DENSIFY),
                       sigma=np.where(t[crow_c] == CLS, 0.0, sig_a[crow_c]),
                       src_xy=A.xy, src_vo=A.vo)]
        adj = self.adj
        ma = np.flatnonzero(t == MERGE_ADJ)
        sidx = adj["u2adj"][b_unit[ma]]
        copies.append(dict(rows=ma, n_copy=np.ones(len(ma), np.int64), src_lo=sidx,
                           dens=np.full(len(ma), _P_DENSIFY),
                           sigma=np.clip(0.015 * np.sqrt(adj["area"][sidx]), 0.05, 0.8),
                           src_xy=adj["xy"], src_vo=adj["vo"]))
        # --- dominant splits: pie slices of the A ring, densified and jittered
        dom_u = np.flatnonzero(u_type == DOMINANT_SPLIT)
        aw = self.a_off[dom_u]
        pr = a_prow[aw]
        pw, j0, mm = _plan_slices(rng, A.xy, A.vo, A.ring_lo[aw], S.cx[pr] * 100.0,
                                  S.cy[pr] * 100.0, k[dom_u])
        n_src = np.diff(A.vo)[A.ring_lo[aw]][pw]
        slices = dict(rows=np.flatnonzero(t == DOMINANT_SPLIT), src_xy=A.xy, src_vo=A.vo,
                      src_ring=A.ring_lo[aw][pw], j0=j0, m=mm,
                      cx=np.round(S.cx[pr] * 100.0)[pw], cy=np.round(S.cy[pr] * 100.0)[pw],
                      n_spoke=_n_spoke(1.5 * n_src), dens=np.full(len(pw), _P_DENSIFY),
                      sigma=np.clip(0.015 * np.sqrt(A.area()[aw]), 0.05, 0.8)[pw])
        self.b_unit = b_unit
        self.B = self._realise(
            n=nBi, img=img, cat=USED_CAT_IDS[self.u_catb[b_unit]], crowd=crowd, star_rows=si,
            stars=st, star_seeds=_seeds(rng, ns), crowd_rows=crow,
            ell=(n_ell, E[0], E[1], E[2], E[3], E[4]), ann_id0=1, rng=rng, copies=copies,
            slices=slices)

    # ------------------------------------------------------------- realise ------
    def _realise(self, n, img, cat, crowd, star_rows, stars, star_seeds, crowd_rows, ell,
                 ann_id0, rng, copies=(), slices=None):
        """Lay out rings/counts in instance order, run the kernels, compute area/bbox.

        An instance's rings: its copied rings (``copies``: per spec ``rows``, ``n_copy``,
        first source ring ``src_lo``, densify share ``dens``, jitter ``sigma`` and the source
        ``src_xy``/``src_vo``), then its pie slice (``slices``, see
        :func:`cocodiff.engine.synth.slice_fill`), then its star rings."""
        W = self.img_w[img]
        H = self.img_h[img]
        n_copy = np.zeros(n, np.int64)
        for c in copies:
            n_copy[c["rows"]] = c["n_copy"]
        n_slice = np.zeros(n, np.int64)
        if slices is not None:
            n_slice[slices["rows"]] = 1
        n_star = np.zeros(n, np.int64)
        n_star[star_rows] = stars.nring
        nring = np.where(crowd, 0, n_copy + n_slice + n_star)
        ro = _offsets(nring)
        ring_lo, ring_hi = ro[:-1], ro[1:]
        R = int(ro[-1])
        ring_n = np.zeros(R, np.int64)
        s_lo = ring_lo[star_rows] + n_copy[star_rows] + n_slice[star_rows]
        ring_n[_ranges(s_lo, stars.nring)] = stars.ring_n
        jobs = []
        for c in copies:
            rows = c["rows"]
            c_ring = _ranges(ring_lo[rows], c["n_copy"])
            src = _ranges(c["src_lo"], c["n_copy"])
            src_n = c["src_vo"][src + 1] - c["src_vo"][src]
            own = np.repeat(np.arange(len(rows)), c["n_copy"])
            n_ins = rng.binomial(src_n, c["dens"][own])
            ring_n[c_ring] = src_n + n_ins
            jobs.append((c, c_ring, src, n_ins, own))
        if slices is not None:
            sl_rows = slices["rows"]
            sl_ring = ring_lo[sl_rows] + n_copy[sl_rows]
            sl_ins = rng.binomial(slices["m"] - 1, slices["dens"])
            ring_n[sl_ring] = 1 + 2 * slices["n_spoke"] + slices["m"] + sl_ins
        vo = _offsets(ring_n)
        xy = np.zeros((int(vo[-1]), 2), np.int32)
        _fill_stars(xy, vo, s_lo, star_rows, stars, star_seeds, W[star_rows], H[star_rows])
        for c, c_ring, src, n_ins, own in jobs:
            if not len(c_ring):
                continue
            rows = c["rows"][own]
            src_ring = np.zeros(R, np.int64)
            src_ring[c_ring] = src
            nin = np.zeros(R, np.int64)
            nin[c_ring] = n_ins
            sig = np.zeros(R)
            sig[c_ring] = c["sigma"][own]
            r_seed = np.zeros(R, np.uint64)
            r_seed[c_ring] = _seeds(rng, len(c_ring))
            rW = np.zeros(R, np.int64)
            rH = np.zeros(R, np.int64)
            rW[c_ring] = W[rows]
            rH[c_ring] = H[rows]
            _k.densify_fill(xy, vo, c_ring, c["src_xy"], c["src_vo"], src_ring, nin, sig,
                            r_seed, rW, rH)
        if slices is not None and len(sl_rows):
            _k.slice_fill(xy, vo, sl_ring, slices["src_xy"], slices["src_vo"],
                          slices["src_ring"], slices["j0"], slices["m"], slices["cx"],
                          slices["cy"], slices["n_spoke"], sl_ins, slices["sigma"],
                          _seeds(rng, len(sl_rows)), W[sl_rows], H[sl_rows])
        area2 = np.zeros(n, np.int64)
        bbox = np.zeros((n, 4), np.int64)
        _k.poly_stats(xy, vo, ring_lo, ring_hi, area2, bbox)
        area_num = area2 * 5
        # crowds
        co_c, counts, c_area, c_bbox = _fill_crowds(ell[0], *ell[1:], H[crowd_rows],
                                                    W[crowd_rows])
        cl = np.zeros(n, np.int64)
        cl[crowd_rows] = np.diff(co_c)
        co = _offsets(cl)
        area_num[crowd_rows] = c_area
        bbox[crowd_rows] = c_bbox
        iscrowd = crowd.astype(np.uint8)
        return _Cols(ann_id=np.arange(ann_id0, ann_id0 + n, dtype=np.int64),
                     image_id=self.img_id[img], category_id=np.asarray(cat, np.int64),
                     iscrowd=iscrowd, ring_lo=ring_lo.copy(), ring_hi=ring_hi.copy(), vo=vo,
                     xy=xy, co=co, counts=counts, rle_h=np.where(crowd, H, 0),
                     rle_w=np.where(crowd, W, 0), area_num=area_num, bbox=bbox,
                     img_index=img)

    # ------------------------------------------------------------- output -------
    def _header(self):
        return orjson.dumps({"description": "cocodiff synthetic COCO-2017 twin",
                             "url": "https://github.com/cocodiff", "version": "1.0",
                             "year": 2017, "contributor": "cocodiff.synth",
                             "date_created": "2017/09/01",
                             "scale": str(self.scale), "seed": self.seed})

    def images_json(self, lo=0, hi=None):
        hi = self.n_img if hi is None else hi
        ims = [{"license": int(li), "file_name": f"{i:012d}.jpg",
                "coco_url": f"http://images.cocodataset.org/train2017/{i:012d}.jpg",
                "height": int(h), "width": int(w), "date_captured": "2013-11-14 11:18:45",
                "id": int(i)}
               for li, i, h, w in zip(self.img_license[lo:hi].tolist(),
                                      self.img_id[lo:hi].tolist(), self.img_h[lo:hi].tolist(),
                                      self.img_w[lo:hi].tolist())]
        return orjson.dumps(ims)

    @staticmethod
    def categories_json():
        return orjson.dumps([{"supercategory": s, "id": i, "name": nm}
                             for i, nm, s in CATEGORIES])

    @staticmethod
    def licenses_json():
        return orjson.dumps([{"url": f"http://creativecommons.org/licenses/{i}", "id": i,
                              "name": f"License {i}"} for i in range(1, 9)])

    def coco_bytes(self, which, img_lo=0, img_hi=None):
        """The COCO JSON text of set ``which`` ('a' or 'b'), restricted to images
        ``img_lo:img_hi`` (in file order) and their annotations."""
        C = self.A if which == "a" else self.B
        img_hi = self.n_img if img_hi is None else img_hi
        lo, hi = np.searchsorted(C.img_index, [img_lo, img_hi])
        ann = _k.write_annotations(int(lo), int(hi), C.iscrowd, C.ring_lo, C.ring_hi, C.vo,
                                   C.xy, C.co, C.counts, C.rle_h, C.rle_w, C.area_num, C.bbox,
                                   C.image_id, C.category_id, C.ann_id)
        return b"".join([b'{"info":', self._header(), b',"licenses":', self.licenses_json(),
                         b',"images":', self.images_json(img_lo, img_hi),
                         b',"annotations":[', ann, b'],"categories":',
                         self.categories_json(), b"}"])

    def truth(self):
        rel = np.array(RELATIONS)[_UNIT_REL[self.u_type]]
        return {
            "relations": list(RELATIONS),
            "scale": str(self.scale), "seed": self.seed,
            "groups": {
                "relation": rel,
                "kind": np.array(UNIT_KINDS)[self.u_type],
                "image_id": self.img_id[self.u_img],
                "a_offsets": self.a_off, "a_ids": self.A.ann_id,
                "b_offsets": self.b_off, "b_ids": self.B.ann_id,
            },
            "a": {"id": self.A.ann_id, "group": self.a_unit,
                  "relation": rel[self.a_unit]},
            "b": {"id": self.B.ann_id, "group": self.b_unit,
                  "relation": rel[self.b_unit]},
        }

    def truth_bytes(self):
        t = self.truth()

        def conv(o):
            if isinstance(o, dict):
                return {k: conv(v) for k, v in o.items()}
            if isinstance(o, np.ndarray) and o.dtype.kind == "U":
                return o.tolist()
            return o
        return orjson.dumps(conv(t), option=orjson.OPT_SERIALIZE_NUMPY)

    def stats(self):
        return {"a": _col_stats(self.A, self.n_img), "b": _col_stats(self.B, self.n_img)}


def _col_stats(C, n_img):
    area = C.area()
    nring = C.ring_hi - C.ring_lo
    poly = C.iscrowd == 0
    nverts = int(C.vo[-1])
    n = max(C.n, 1)
    return {"images": n_img, "instances": C.n, "per_image": C.n / max(n_img, 1),
            "crowd": float(np.mean(C.iscrowd == 1)) if C.n else 0.0,
            "multi": float(np.sum(nring > 1) / n),
            "vertices": nverts / max(int(poly.sum()), 1),
            **{k: float(np.sum(m) / n) for k, m in size_masks(area).items()}}


# ------------------------------------------------------------------- public API -------

def generate(scale="tiny", seed=0):
    """Generate a COCO-2017-like set A, a Sama-COCO-like relabel B of it, and the truth.

    Parameters
    ----------
    scale : {"tiny", "val", "full"} or float
        ``"tiny"`` (50 images), ``"val"`` (5,000), ``"full"`` (118,287, the train split) or
        a fraction of full in (0, 1].
    seed : int
        Seed of the ``numpy.random.Generator(PCG64(seed))``; same seed and scale give
        byte-identical output.

    Returns
    -------
    a, b : dict
        COCO instance dicts (``info``, ``licenses``, ``images``, ``annotations``,
        ``categories``: all 91 categories, 80 used).
    truth : dict
        ``relations`` (the 6 names); ``groups``: one row per relation group with
        ``relation``, ``kind`` (the kind of change, one of :data:`UNIT_KINDS`),
        ``image_id`` and the A / B ids of the group as ragged arrays
        (``a_ids[a_offsets[g]:a_offsets[g+1]]``, same for ``b``); ``a`` / ``b``: per
        instance ``id``, ``group`` and ``relation`` (each A and B id exactly once).

    Examples
    --------
    >>> from cocodiff.synth import generate
    >>> a, b, truth = generate("tiny", seed=0)
    >>> len(a["images"]), len(a["categories"])
    (50, 91)
    >>> sorted(set(truth["a"]["relation"]) | set(truth["b"]["relation"])) == sorted(RELATIONS)
    True
    """
    bd = _Build(scale, seed)
    a = orjson.loads(bd.coco_bytes("a"))
    b = orjson.loads(bd.coco_bytes("b"))
    truth = orjson.loads(bd.truth_bytes())
    return a, b, truth


def write_pair(out_dir, scale="tiny", seed=0, b_parts=1):
    """Write ``a.json``, ``b.json`` (or ``b.zip`` of ``b_parts`` files) and ``truth.json``.

    With ``b_parts > 1`` B is split by images into that many complete COCO files (each
    with its images, their annotations and all categories), stored in ``b.zip`` as
    ``b_part00.json``, ``b_part01.json``, ... like Sama-COCO ships its relabel.

    Parameters
    ----------
    out_dir : str or Path
        Created if missing.
    scale, seed
        As in :func:`generate`.
    b_parts : int
        Number of B part files (1: a single ``b.json``).

    Returns
    -------
    dict
        ``{"a": Path, "b": Path, "truth": Path}`` plus ``"stats"`` (shape statistics of
        both sets) and ``"seconds"``.

    Examples
    --------
    >>> import tempfile
    >>> from cocodiff.synth import write_pair
    >>> paths = write_pair(tempfile.mkdtemp(), "tiny", seed=1)
    >>> sorted(k for k in paths if k in ("a", "b", "truth"))
    ['a', 'b', 'truth']
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    b_parts = int(b_parts)
    if b_parts < 1:
        raise ValueError(f"b_parts must be >= 1, got {b_parts}")
    bd = _Build(scale, seed)
    pa = out / "a.json"
    write_bytes_atomic(pa, bd.coco_bytes("a"))
    if b_parts == 1:
        pb = out / "b.json"
        write_bytes_atomic(pb, bd.coco_bytes("b"))
    else:
        pb = out / "b.zip"
        edges = np.linspace(0, bd.n_img, b_parts + 1).round().astype(int)
        with atomic_path(pb) as tmp, open(tmp, "wb") as f:
            z = zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
            try:
                for j in range(b_parts):
                    info = zipfile.ZipInfo(f"b_part{j:02d}.json", date_time=(2017, 9, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    z.writestr(info, bd.coco_bytes("b", int(edges[j]), int(edges[j + 1])),
                               compresslevel=1)
            except BaseException:
                # Abandon the archive (atomic_path deletes it): after a Ctrl-C inside a member,
                # ZipFile.close() -- also run by its __del__ -- raises over the KeyboardInterrupt.
                z.fp = None
                raise
            z.close()
    pt = out / "truth.json"
    write_bytes_atomic(pt, bd.truth_bytes())
    dt = time.perf_counter() - t0
    log.info("wrote synthetic pair to %s in %.1fs", out, dt)
    return {"a": pa, "b": pb, "truth": pt, "stats": bd.stats(), "seconds": dt}


def shape_stats(coco):
    """Shape statistics of a COCO instances dict, as in the published comparison.

    Returns a dict with ``images``, ``instances``, ``per_image``, and shares of all
    instances: ``crowd``, ``multi`` (more than one polygon), ``very_small`` (area <= 100),
    ``small`` (< 32^2, includes very small), ``medium``, ``large`` (>= 96^2); and
    ``vertices`` (mean vertices per polygon instance).

    Examples
    --------
    >>> a, b, _ = generate("tiny")
    >>> 0.0 < shape_stats(a)["crowd"] < shape_stats(b)["crowd"] < 1.0
    True
    """
    anns = coco["annotations"]
    n = max(len(anns), 1)
    area = np.array([a["area"] for a in anns], np.float64)
    crowd = np.array([a.get("iscrowd", 0) for a in anns], bool)
    multi = sum(1 for a in anns if isinstance(a["segmentation"], list)
                and len(a["segmentation"]) > 1)
    nv = sum(len(r) // 2 for a in anns if isinstance(a["segmentation"], list)
             for r in a["segmentation"])
    npoly = max(int((~crowd).sum()), 1)
    ni = max(len(coco["images"]), 1)
    return {"images": len(coco["images"]), "instances": len(anns),
            "per_image": len(anns) / ni, "crowd": float(crowd.sum() / n),
            "multi": multi / n, "vertices": nv / npoly,
            **{k: float(np.sum(m) / n) for k, m in size_masks(area).items()}}
