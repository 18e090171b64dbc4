"""Drawing a planned annotation set of the synthetic twin (:mod:`cocodiff.synth`) with the
kernels of :mod:`cocodiff.engine.synth`, into columnar arrays (:class:`Cols`).

An instance's rings, in order: its copied rings (of A's outlines or of the adjacent-merge
wholes: densified, jittered), then its pie slice, then its new star rings; a crowd has no
ring but a column-major RLE.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._synth_plan import Plan
from ._synth_shapes import Stars, offsets, ranges, seeds
from .engine import synth as _k


@dataclass
class Cols:
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


def fill_crowds(n_ell, ecx, ecy, ea, eb, eth, h, w):
    """RLE of crowds (unions of ``n_ell`` ellipses each) in images ``h x w``: (count
    offsets, counts, pixel areas, integer boxes)."""
    eo = offsets(n_ell)
    nc = len(n_ell)
    co = np.zeros(nc + 1, np.int64)
    area = np.zeros(nc, np.int64)
    bbox = np.zeros((nc, 4), np.int64)
    lo, hi = eo[:-1], eo[1:]
    hh = np.asarray(h, np.int64)
    ww = np.asarray(w, np.int64)
    # two passes: count the runs, then write them into one exactly sized buffer
    _k.crowd_rle(lo, hi, ecx, ecy, ea, eb, eth, hh, ww, co, np.zeros(0, np.uint32), area,
                 bbox, False)
    co = np.cumsum(co)
    counts = np.zeros(int(co[-1]), np.uint32)
    _k.crowd_rle(lo, hi, ecx, ecy, ea, eb, eth, hh, ww, co, counts, area, bbox, True)
    return co, counts, area, bbox


def fill_stars(xy, vo, ring_lo, rows, stars, star_seeds, W, H):
    """Draw planned stars (their rings ``ring_lo[rows] .. + stars.nring``) into ``xy``."""
    if not len(rows):
        return
    R = len(vo) - 1
    s_ring = ranges(ring_lo, stars.nring)
    g_ox = np.zeros(R)
    g_oy = np.zeros(R)
    g_s = np.zeros(R)
    g_ox[s_ring] = stars.ring_ox
    g_oy[s_ring] = stars.ring_oy
    g_s[s_ring] = stars.ring_s
    per = np.add.reduceat(stars.ring_n, offsets(stars.nring)[:-1])
    scratch = np.zeros(2 * int(per.max()) + 2)
    _k.star_fill(xy, vo, np.arange(len(rows), dtype=np.int64), ring_lo,
                 ring_lo + stars.nring, W, H, stars.cx, stars.cy, stars.rx, stars.ry,
                 stars.th, star_seeds, g_ox, g_oy, g_s, scratch)


def realise(rng, plan: Plan, img, cat, crowd, star_rows, stars: Stars, star_seeds, crowd_rows,
            ell, copies=(), slices=None) -> Cols:
    """Lay out rings/counts in instance order, run the kernels, compute area/bbox.

    One instance per entry of ``img`` (its image index), ids from 1. ``star_rows`` are
    drawn as ``stars``, ``crowd_rows`` as the crowds ``ell`` (``n_ell, ecx, ecy, ea, eb,
    eth``); ``copies``: per spec ``rows``, ``n_copy``, first source ring ``src_lo``,
    densify share ``dens``, jitter ``sigma`` and the source ``src_xy``/``src_vo``;
    ``slices``: see :func:`cocodiff.engine.synth.slice_fill`."""
    n = len(img)
    W = plan.img_w[img]
    H = plan.img_h[img]
    n_copy = np.zeros(n, np.int64)
    for c in copies:
        n_copy[c["rows"]] = c["n_copy"]
    n_slice = np.zeros(n, np.int64)
    if slices is not None:
        n_slice[slices["rows"]] = 1
    n_star = np.zeros(n, np.int64)
    n_star[star_rows] = stars.nring
    nring = np.where(crowd, 0, n_copy + n_slice + n_star)
    ro = offsets(nring)
    ring_lo, ring_hi = ro[:-1], ro[1:]
    ring_n = np.zeros(int(ro[-1]), np.int64)
    s_lo = ring_lo[star_rows] + n_copy[star_rows] + n_slice[star_rows]
    ring_n[ranges(s_lo, stars.nring)] = stars.ring_n
    jobs = [_copy_job(rng, c, ring_lo, ring_n) for c in copies]
    if slices is not None:
        sl_rows = slices["rows"]
        sl_ring = ring_lo[sl_rows] + n_copy[sl_rows]
        sl_ins = rng.binomial(slices["m"] - 1, slices["dens"])
        ring_n[sl_ring] = 1 + 2 * slices["n_spoke"] + slices["m"] + sl_ins
    vo = offsets(ring_n)
    xy = np.zeros((int(vo[-1]), 2), np.int32)
    fill_stars(xy, vo, s_lo, star_rows, stars, star_seeds, W[star_rows], H[star_rows])
    for job in jobs:
        _fill_copies(rng, xy, vo, W, H, *job)
    if slices is not None and len(sl_rows):
        _k.slice_fill(xy, vo, sl_ring, slices["src_xy"], slices["src_vo"],
                      slices["src_ring"], slices["j0"], slices["m"], slices["cx"],
                      slices["cy"], slices["n_spoke"], sl_ins, slices["sigma"],
                      seeds(rng, len(sl_rows)), W[sl_rows], H[sl_rows])
    area2 = np.zeros(n, np.int64)
    bbox = np.zeros((n, 4), np.int64)
    _k.poly_stats(xy, vo, ring_lo, ring_hi, area2, bbox)
    area_num = area2 * 5       # twice the area in 1e-4 px^2 -> the area in 1e-5 px^2
    co_c, counts, c_area, c_bbox = fill_crowds(ell[0], *ell[1:], H[crowd_rows],
                                               W[crowd_rows])
    cl = np.zeros(n, np.int64)
    cl[crowd_rows] = np.diff(co_c)
    area_num[crowd_rows] = c_area
    bbox[crowd_rows] = c_bbox
    return Cols(ann_id=np.arange(1, 1 + n, dtype=np.int64),
                image_id=plan.img_id[img], category_id=np.asarray(cat, np.int64),
                iscrowd=crowd.astype(np.uint8), ring_lo=ring_lo.copy(), ring_hi=ring_hi.copy(),
                vo=vo, xy=xy, co=offsets(cl), counts=counts, rle_h=np.where(crowd, H, 0),
                rle_w=np.where(crowd, W, 0), area_num=area_num, bbox=bbox, img_index=img)


def _copy_job(rng, c, ring_lo, ring_n):
    """Lay out the copied rings of spec ``c``: their vertex counts (source + inserted
    midpoints) into ``ring_n``. Returns what :func:`_fill_copies` needs."""
    rows = c["rows"]
    c_ring = ranges(ring_lo[rows], c["n_copy"])
    src = ranges(c["src_lo"], c["n_copy"])
    src_n = c["src_vo"][src + 1] - c["src_vo"][src]
    own = np.repeat(np.arange(len(rows)), c["n_copy"])
    n_ins = rng.binomial(src_n, c["dens"][own])
    ring_n[c_ring] = src_n + n_ins
    return c, c_ring, src, n_ins, own


def _fill_copies(rng, xy, vo, W, H, c, c_ring, src, n_ins, own):
    """Draw the copied rings ``c_ring`` of spec ``c`` (per-ring arguments of
    :func:`cocodiff.engine.synth.densify_fill`, zero on the other rings)."""
    if not len(c_ring):
        return
    R = len(vo) - 1
    rows = c["rows"][own]
    src_ring = np.zeros(R, np.int64)
    src_ring[c_ring] = src
    nin = np.zeros(R, np.int64)
    nin[c_ring] = n_ins
    sig = np.zeros(R)
    sig[c_ring] = c["sigma"][own]
    r_seed = np.zeros(R, np.uint64)
    r_seed[c_ring] = seeds(rng, len(c_ring))
    rW = np.zeros(R, np.int64)
    rH = np.zeros(R, np.int64)
    rW[c_ring] = W[rows]
    rH[c_ring] = H[rows]
    _k.densify_fill(xy, vo, c_ring, c["src_xy"], c["src_vo"], src_ring, nin, sig,
                    r_seed, rW, rH)
