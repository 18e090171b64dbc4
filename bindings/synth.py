"""Deterministic synthetic twins of COCO-2017 (A) and a Sama-COCO-like relabel of it (B).

The generator plans *units* -- small groups of A and B instances tied by one relation --
with numpy (``Generator(PCG64(seed))``), draws the outlines with the counter-based Numba
kernels of :mod:`cocodiff.engine.synth` and writes the JSON text of the annotations
straight from the columnar arrays (no per-vertex Python object).

Relations (``truth["relations"]``):

``matched``
    one A instance -> one B instance: same category; polygons densified (midpoints inserted
    on ~45 % of the edges) and jittered by a fraction of a pixel, sometimes with a small
    detached extra ring; A crowds matched to a slightly perturbed B crowd.
``split``
    one A crowd, or one A "group" polygon, -> several B individuals lying inside it.
``merged``
    several A individuals of one class -> one B crowd (list-counts RLE) covering them, or
    one B multi-polygon made of their (densified) outlines.
``class_changed``
    one A instance -> one B instance with the identical geometry, another category.
``removed``
    an A instance with no B counterpart (mostly very small ones: Sama drops tiny objects).
``added``
    a B instance (polygon or crowd) with no A counterpart.

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
from .engine import synth as _k

__all__ = ["generate", "write_pair", "shape_stats", "CATEGORIES", "USED_CAT_IDS",
           "RELATIONS", "SCALES", "TARGETS", "GENERATOR_VERSION"]

log = logging.getLogger(__name__)

FULL_IMAGES = 118_287
#: bumped whenever the output for a given (scale, seed) changes (invalidates caches)
GENERATOR_VERSION = 1
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

RELATIONS = ("matched", "split", "merged", "class_changed", "removed", "added")

# Published shape statistics, train split (scaled from train+val), used by tests/CLI.
TARGETS = {
    "a": dict(per_image=7.27, crowd=0.0117, multi=0.096, vertices=25.6,
              very_small=0.087, small=0.414, medium=0.343, large=0.242),
    "b": dict(per_image=9.05, crowd=0.0425, multi=0.1575, vertices=39.0,
              very_small=0.0434, small=0.498, medium=0.318, large=0.185),
}

# ----------------------------------------------------------------- unit plan ----------
MATCH, CLS, REMOVE, ADD, ADD_CROWD, CROWD_MATCH, CROWD_SPLIT, GROUP_SPLIT, MERGE_CROWD, \
    MERGE_POLY = range(10)
_UNIT_REL = np.array([0, 3, 4, 5, 5, 0, 1, 1, 2, 2])          # index into RELATIONS
# expected units per full train split (thousands)
_UNIT_W = np.array([648.9, 17.0, 38.0, 236.0, 15.5, 4.0, 6.1, 35.0, 26.0, 8.0])
_UNIT_P = _UNIT_W / _UNIT_W.sum()
_UNITS_PER_IMAGE = _UNIT_W.sum() * 1000 / FULL_IMAGES

# area bins: very small (<=100), small, medium, large; sampled log-uniform inside a bin
_BIN_EDGES = np.array([[3.0, 100.0], [100.0, 1024.0], [1024.0, 9216.0], [9216.0, 140000.0]])
_BINS_A = np.array([0.030, 0.310, 0.385, 0.275])      # A individuals (matched, ...)
_BINS_REMOVE = np.array([0.78, 0.22, 0.0, 0.0])
_BINS_MEMBER = np.array([0.15, 0.60, 0.25, 0.0])
_BINS_GROUP = np.array([0.0, 0.02, 0.28, 0.70])
_BINS_CROWD = np.array([0.0, 0.10, 0.45, 0.45])
_BINS_ADD = np.array([0.07, 0.81, 0.11, 0.01])

_P_MULTI_A = 0.125        # multi-ring share of A individuals with area >= 150 (not members)
_P_EXTRA_RING = 0.10     # matched single-ring instance gains a small detached ring in B
_P_MULTI_ADD = 0.15       # added B instance is multi-ring
_P_DENSIFY = 0.55         # share of edges that get a midpoint in a matched B outline
_C_VERT_A = 0.83          # A vertex count ~ c * area^0.4
_C_VERT_B = 2.1

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


def _plan_stars(rng, area, W, H, multi, c_vert, cx, cy):
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
    asp = np.exp(rng.normal(0.0, 0.4, n))
    ntot = np.clip(np.round(c_vert * area ** 0.4 * np.exp(rng.normal(0, 0.25, n))), 4, 800)
    ring_n = np.maximum(4, np.round(ntot[ring_inst] * s / np.bincount(
        ring_inst, s, minlength=n)[ring_inst])).astype(np.int64)
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
    return _Stars(cx, cy, rx, ry, th, nring, ox, oy, s, ring_n)


def _plan_crowd(rng, area, W, H):
    """Plan crowds as unions of 1-4 rotated ellipses; returns (n_ell, cx, cy, a, b, th)."""
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
    cx0 = a0 * 0.5 + (W - a0) * rng.random(n)
    cy0 = b0 * 0.5 + (H - b0) * rng.random(n)
    inst = np.repeat(np.arange(n), m)
    eo = _offsets(m)
    first = np.zeros(len(inst), bool)
    first[eo[:-1]] = True
    ne = len(inst)
    phi = 2 * np.pi * rng.random(ne)
    rr = rng.uniform(0.5, 1.0, ne)
    ecx = cx0[inst] + np.where(first, 0.0, rr * a0[inst] * np.cos(phi))
    ecy = cy0[inst] + np.where(first, 0.0, rr * b0[inst] * np.sin(phi))
    sc = np.where(first, 1.0, rng.uniform(0.4, 0.8, ne))
    ea = np.maximum(a0[inst] * sc, 1.0)
    eb = np.maximum(b0[inst] * sc, 1.0)
    eth = np.pi * rng.random(ne)
    return m, ecx, ecy, ea, eb, eth


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
        u_type = rng.choice(10, U, p=_UNIT_P)
        # every relation kind (in fact every unit type) present when there is room
        if U >= 40:
            for t in range(10):
                if not np.any(u_type == t):
                    cand = np.flatnonzero(u_type == MATCH)
                    u_type[cand[rng.integers(len(cand))]] = t
        # categories: person ~30 %; a fixed Zipf-like order for the other 79
        cw = np.empty(80)
        cw[0] = 0.30
        order = np.random.Generator(np.random.PCG64(2017)).permutation(79)
        zipf = 1.0 / (np.arange(79) + 4.0)
        cw[1:] = 0.70 * zipf[order] / zipf.sum()
        img_cats = rng.choice(80, (n_img, 3), p=cw)
        sel = rng.choice(3, U, p=[0.6, 0.25, 0.15])
        u_cat = img_cats[u_img, sel]
        u_catb = u_cat.copy()
        cls = u_type == CLS
        u_catb[cls] = (u_cat[cls] + 1 + rng.integers(0, 79, int(cls.sum()))) % 80
        k = np.ones(U, np.int64)
        for t, kk in ((CROWD_SPLIT, 2 + rng.poisson(2.0, U)),
                      (GROUP_SPLIT, 2 + rng.poisson(1.0, U)),
                      (MERGE_CROWD, 2 + rng.poisson(1.5, U)),
                      (MERGE_POLY, 2 + rng.binomial(1, 0.5, U))):
            k = np.where(u_type == t, kk, k)
        nA = np.select([np.isin(u_type, (ADD, ADD_CROWD)),
                        np.isin(u_type, (MERGE_CROWD, MERGE_POLY))], [0, k], 1)
        nB = np.select([u_type == REMOVE, np.isin(u_type, (CROWD_SPLIT, GROUP_SPLIT))],
                       [0, k], 1)
        self.U, self.u_type, self.u_img = U, u_type, u_img
        self.a_off = _offsets(nA)
        self.b_off = _offsets(nB)
        self._build_a(rng, nA, u_cat, k)
        self._build_b(rng, nB, u_catb, k)
        log.info("synth %s seed=%d: %d images, %d A / %d B instances in %.2fs", scale,
                 self.seed, n_img, self.A.n, self.B.n, time.perf_counter() - t0)

    # ---------------------------------------------------------------- A ---------
    def _build_a(self, rng, nA, u_cat, k):
        u_type, u_img = self.u_type, self.u_img
        a_unit = np.repeat(np.arange(self.U), nA)
        nAi = len(a_unit)
        t = u_type[a_unit]
        img = u_img[a_unit]
        W = self.img_w[img].astype(np.float64)
        H = self.img_h[img].astype(np.float64)
        crowd = np.isin(t, (CROWD_MATCH, CROWD_SPLIT))
        member = np.isin(t, (MERGE_CROWD, MERGE_POLY))
        poly = ~crowd
        # areas
        area = _areas(rng, _BINS_A, nAi)
        for tt, bins in ((REMOVE, _BINS_REMOVE), (GROUP_SPLIT, _BINS_GROUP)):
            sel = t == tt
            area[sel] = _areas(rng, bins, int(sel.sum()))
        area[member] = _areas(rng, _BINS_MEMBER, int(member.sum()))
        area[crowd] = _areas(rng, _BINS_CROWD, int(crowd.sum()))
        # polygon instances
        pi = np.flatnonzero(poly)
        multi = (~member[pi]) & (area[pi] >= 150) & (rng.random(len(pi)) < _P_MULTI_A)
        # merge members cluster around their unit's centre
        ucx = self.img_w[u_img] * rng.random(self.U)
        ucy = self.img_h[u_img] * rng.random(self.U)
        spread = np.sqrt(area[pi]) * np.sqrt(k[a_unit[pi]]) * 0.9
        ang = 2 * np.pi * rng.random(len(pi))
        rad = np.sqrt(rng.random(len(pi))) * spread
        ccx = np.where(member[pi], ucx[a_unit[pi]] + rad * np.cos(ang), np.nan)
        ccy = np.where(member[pi], ucy[a_unit[pi]] + rad * np.sin(ang), np.nan)
        st = _plan_stars(rng, area[pi], W[pi], H[pi], multi, _C_VERT_A, ccx, ccy)
        # free (non-member) instances: uniform position inside the fitting margin
        self.a_stars = st
        self.a_poly_rows = pi
        # crowds
        ci = np.flatnonzero(crowd)
        m, ecx, ecy, ea, eb, eth = _plan_crowd(rng, area[ci], W[ci], H[ci])
        self.a_crowd_ell = (m, ecx, ecy, ea, eb, eth)
        self.a_crowd_rows = ci
        self.A = self._realise(
            n=nAi, img=img, cat=USED_CAT_IDS[u_cat[a_unit]], crowd=crowd, poly_rows=pi,
            stars=st, star_seeds=_seeds(rng, len(pi)), crowd_rows=ci,
            ell=(m, ecx, ecy, ea, eb, eth), copies=None, ann_id0=1)
        self.a_unit = a_unit

    # ---------------------------------------------------------------- B ---------
    def _build_b(self, rng, nB, u_catb, k):
        A = self.A
        u_type, u_img = self.u_type, self.u_img
        b_unit = np.repeat(np.arange(self.U), nB)
        nBi = len(b_unit)
        t = u_type[b_unit]
        img = u_img[b_unit]
        W = self.img_w[img].astype(np.float64)
        H = self.img_h[img].astype(np.float64)
        crowd = np.isin(t, (ADD_CROWD, CROWD_MATCH, MERGE_CROWD))
        a_lo = self.a_off[b_unit]           # the unit's A instances a_lo:a_hi
        a_hi = self.a_off[b_unit + 1]
        # --- copied rings (matched / class changed / merged into a multi-polygon)
        copy = np.isin(t, (MATCH, CLS, MERGE_POLY))
        a_rlo = np.where(copy, A.ring_lo[np.minimum(a_lo, A.n - 1)], 0)
        a_rhi = np.where(copy, A.ring_hi[np.maximum(a_hi - 1, 0)], 0)
        n_copy = np.where(copy, a_rhi - a_rlo, 0)
        # --- star rings: extra detached ring, added instances, split children
        a_single = copy & (t == MATCH) & (n_copy == 1)
        a_area = np.where(copy | (t == GROUP_SPLIT), A.area()[np.minimum(a_lo, A.n - 1)], 0)
        extra = a_single & (a_area >= 100) & (rng.random(nBi) < _P_EXTRA_RING)
        child = np.isin(t, (CROWD_SPLIT, GROUP_SPLIT))
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
        # children of a crowd: inside one of its ellipses
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
        # children of a group polygon: inside the parent's star frame (ring 0)
        gs = (t[si] == GROUP_SPLIT)
        rows = si[gs]
        a_prow = np.full(A.n, -1, np.int64)
        a_prow[self.a_poly_rows] = np.arange(len(self.a_poly_rows))
        pr = a_prow[a_lo[rows]]
        S = self.a_stars
        rr = 0.5 * np.sqrt(rng.random(len(rows)))
        ph = 2 * np.pi * rng.random(len(rows))
        lx = rr * S.rx[pr] * np.cos(ph)
        ly = rr * S.ry[pr] * np.sin(ph)
        s_cx[gs] = S.cx[pr] + lx * np.cos(S.th[pr]) - ly * np.sin(S.th[pr])
        s_cy[gs] = S.cy[pr] + lx * np.sin(S.th[pr]) + ly * np.cos(S.th[pr])
        cr = np.minimum(S.rx[pr], S.ry[pr]) * rng.uniform(0.15, 0.28, len(rows))
        s_area[gs] = np.pi * cr * cr
        s_area = np.maximum(s_area, 3.0)
        # Sama skips tiny parts; a child stays well inside its parent
        cap = np.zeros(ns)
        cap[cs] = 0.2 * np.pi * pb * pt
        cap[gs] = 0.15 * np.pi * S.rx[pr] * S.ry[pr]
        s_area[cs | gs] = np.minimum(np.maximum(s_area[cs | gs], 110.0), cap[cs | gs])
        Ws, Hs = W[si], H[si]
        free = np.isnan(s_cx)
        s_cy[free] = np.nan
        st = _plan_stars(rng, s_area, Ws, Hs, s_multi, _C_VERT_B, s_cx, s_cy)
        n_star = np.zeros(nBi, np.int64)
        n_star[si] = st.nring
        # --- crowds
        crow = np.flatnonzero(crowd)
        ct = t[crow]
        n_ell = np.zeros(len(crow), np.int64)
        n_ell[ct == MERGE_CROWD] = (a_hi - a_lo)[crow[ct == MERGE_CROWD]]
        cm = ct == CROWD_MATCH
        n_ell[cm] = m_a[a_crow_idx[a_lo[crow[cm]]]]
        ac = ct == ADD_CROWD
        new = _plan_crowd(rng, _areas(rng, _BINS_CROWD, int(ac.sum())), W[crow[ac]],
                          H[crow[ac]])
        n_ell[ac] = new[0]
        eo = _offsets(n_ell)
        ne = int(eo[-1])
        E = np.zeros((5, ne))
        # matched crowds: A's ellipses, perturbed
        dst = _ranges(eo[:-1][cm], n_ell[cm])
        src = _ranges(a_eo[a_crow_idx[a_lo[crow[cm]]]], n_ell[cm])
        E[0, dst] = ecx[src] + rng.uniform(-1.5, 1.5, len(src))
        E[1, dst] = ecy[src] + rng.uniform(-1.5, 1.5, len(src))
        E[2, dst] = ea[src] * rng.uniform(0.96, 1.04, len(src))
        E[3, dst] = eb[src] * rng.uniform(0.96, 1.04, len(src))
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
        # --- densify parameters per copied ring
        copies = dict(n_copy=n_copy, src_lo=a_rlo,
                      dens=np.where(t == CLS, 0.0, _P_DENSIFY),
                      sigma=np.where(t == CLS, 0.0,
                                     np.clip(0.015 * np.sqrt(np.maximum(a_area, 0)), 0.05,
                                             0.8)))
        self.b_unit = b_unit
        self.B = self._realise(
            n=nBi, img=img, cat=USED_CAT_IDS[u_catb[b_unit]], crowd=crowd, poly_rows=si,
            stars=st, star_seeds=_seeds(rng, ns), crowd_rows=crow,
            ell=(n_ell, E[0], E[1], E[2], E[3], E[4]), copies=copies, ann_id0=1, rng=rng,
            n_star=n_star)

    # ------------------------------------------------------------- realise ------
    def _realise(self, n, img, cat, crowd, poly_rows, stars, star_seeds, crowd_rows, ell,
                 copies, ann_id0, rng=None, n_star=None):
        """Lay out rings/counts in instance order, run the kernels, compute area/bbox."""
        W = self.img_w[img]
        H = self.img_h[img]
        if copies is None:
            n_copy = np.zeros(n, np.int64)
            n_star = np.zeros(n, np.int64)
            n_star[poly_rows] = stars.nring
        else:
            n_copy = copies["n_copy"]
        nring = np.where(crowd, 0, n_copy + n_star)
        ro = _offsets(nring)
        ring_lo, ring_hi = ro[:-1], ro[1:]
        R = int(ro[-1])
        ring_n = np.zeros(R, np.int64)
        # star rings: after the copies of their instance
        s_ring = _ranges(ring_lo[poly_rows] + n_copy[poly_rows], stars.nring)
        ring_n[s_ring] = stars.ring_n
        if copies is not None:
            A = self.A
            crow = np.flatnonzero(n_copy)
            c_ring = _ranges(ring_lo[crow], n_copy[crow])
            src_ring = np.zeros(R, np.int64)
            src_ring[c_ring] = _ranges(copies["src_lo"][crow], n_copy[crow])
            src_n = A.vo[src_ring[c_ring] + 1] - A.vo[src_ring[c_ring]]
            owner = np.repeat(crow, n_copy[crow])
            n_ins = np.zeros(R, np.int64)
            n_ins[c_ring] = rng.binomial(src_n, copies["dens"][owner])
            ring_n[c_ring] = src_n + n_ins[c_ring]
            sig = np.zeros(R)
            sig[c_ring] = copies["sigma"][owner]
            r_seed = np.zeros(R, np.uint64)
            r_seed[c_ring] = _seeds(rng, len(c_ring))
            rW = np.zeros(R, np.int64)
            rH = np.zeros(R, np.int64)
            rW[c_ring] = W[owner]
            rH[c_ring] = H[owner]
        vo = _offsets(ring_n)
        xy = np.zeros((int(vo[-1]), 2), np.int32)
        # star kernel: per star instance its ring range in the global table
        g_ox = np.zeros(R)
        g_oy = np.zeros(R)
        g_s = np.zeros(R)
        g_ox[s_ring] = stars.ring_ox
        g_oy[s_ring] = stars.ring_oy
        g_s[s_ring] = stars.ring_s
        s_lo = ring_lo[poly_rows] + n_copy[poly_rows]
        s_hi = s_lo + stars.nring
        per = np.add.reduceat(stars.ring_n, _offsets(stars.nring)[:-1]) if len(
            stars.ring_n) else np.zeros(1, np.int64)
        scratch = np.zeros(2 * int(per.max()) + 2)
        _k.star_fill(xy, vo, np.arange(len(poly_rows), dtype=np.int64), s_lo, s_hi,
                     W[poly_rows], H[poly_rows], stars.cx, stars.cy, stars.rx, stars.ry,
                     stars.th, star_seeds, g_ox, g_oy, g_s, scratch)
        if copies is not None and len(c_ring):
            _k.densify_fill(xy, vo, c_ring, A.xy, A.vo, src_ring, n_ins, sig, r_seed, rW, rH)
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
            "very_small": float(np.sum(area <= 100) / n),
            "small": float(np.sum(area < 1024) / n),
            "medium": float(np.sum((area >= 1024) & (area < 9216)) / n),
            "large": float(np.sum(area >= 9216) / n)}


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
        ``relation``, ``image_id`` and the A / B ids of the group as ragged arrays
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
            "very_small": float(np.sum(area <= 100) / n),
            "small": float(np.sum(area < 1024) / n),
            "medium": float(np.sum((area >= 1024) & (area < 9216)) / n),
            "large": float(np.sum(area >= 9216) / n)}
