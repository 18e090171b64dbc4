"""Instance-by-instance correspondence between two annotation sets: :func:`compare`.

Side A is the reference ("ground truth" in pycocotools' sense), side B the other set.

Per image present in both files with the same size, every A instance is related to the
B instances whose mask extents overlap its own (any category). For each such candidate
pair, from the pycocotools-identical masks:

* ``intersection`` -- pixels in both masks;
* ``iou`` -- pycocotools' value with **A as gt** and B as dt, i.e.
  ``maskUtils.iou(b_masks, a_masks, a_iscrowd)``: ``intersection / union`` with
  ``union = a_area + b_area - intersection``, except when the A instance is a crowd:
  then ``union = b_area``. 0 when the intersection is 0. Exactly pycocotools' double
  even for RLEs holding zero-length runs after the first count (its intersection loop
  stops early on some of those; such pairs replay that loop).
* ``iou_plain`` -- the symmetric ``intersection / (a_area + b_area - intersection)``
  whatever the crowd flags (equals ``iou`` unless A is a crowd).

Relations (``relation`` column: ``matched``, ``split``, ``merged``, ``class_changed``,
``removed``, ``added``) are decided by :func:`cocodiff.relations.relate` from these pair measures:
split / merged groups first (parts lying inside a whole, judged on the union of the parts --
crowds decomposed into people, dominant-part splits, merges), then one-to-one matching on the
symmetric ``iou_plain`` (with the crowd rule a crowd region would "match" any single person drawn
inside it), class changes, and the instances left. The rules are documented there. Split / merged
rows carry ``group`` (one id per whole), ``group_iou`` and ``part_share``; ``ambiguity`` names the
rows whose reading is ambiguous.

Conservation: every A instance appears in exactly one row, except the whole of a split
(one row per part); every B instance in exactly one row, except the whole of a merge.

Images present in only one file, or whose sizes differ between the files, are listed in
``Comparison.images`` (counts and examples); their instances are ``removed`` (image only
in A, or size mismatch) / ``added`` (only in B, or size mismatch) -- never fatal.

Per row (where both sides exist): ``boundary_iou`` (:mod:`cocodiff.engine.boundary`,
dilation ratio 0.02, no crowd rule), ``area_ratio = b_area / a_area``, ``bbox_shift`` =
Euclidean distance between the centres of the two masks' bounding boxes (pixels) and
``bbox_corner_shift`` = the larger of the distances between the top-left corners and
between the bottom-right corners. ``a_area`` / ``b_area`` are mask areas in pixels (not
the files' ``area`` field); ``a_vertices`` / ``b_vertices`` are stored polygon points (0
for RLE instances). ``crowd_changed`` is set where both sides exist and their iscrowd
flags differ. ``group`` is -1 except for split / merged rows.

Rows are ordered by ``image_id``, then ``a_id`` (rows without A last), then ``b_id``. The
result does not depend on ``batch_images`` or ``threads``. Among several assignments
with the same total IoU the solver's deterministic choice is taken (see
:mod:`cocodiff.engine.assign`; e.g. of two identical A instances the lower id is matched).

Work is done in batches of ``batch_images`` images (:func:`_compare_batch`, callable per
shard): only that batch's instances of A and B are rasterised (pycocotools-identical RLE),
then one pass over the runs gives every mask's area / extent / run starts, candidate pairs,
intersections and IoUs (Numba), relations (:mod:`cocodiff.relations`: array operations, the
group unions and the assignment in Numba) and
Boundary IoU (Numba, bit-packed crops) run on flat arrays; only the output rows are kept.
With ``threads > 1`` (and more than ``PARALLEL_MIN_INSTANCES`` instances) the serial,
disk-cached ``nogil`` kernels run on a thread pool -- no per-process compilation of
``parallel=True`` kernels: whole batches at once, one per thread, when there are at least
``BATCHES_PER_THREAD_MIN`` per thread (batches are made smaller for that, down to
``BATCH_IMAGES_MIN`` images), else one batch at a time over cost-balanced chunks. Wall / CPU
seconds per stage are in ``Comparison.timings`` (summed over the threads when batches run at
once).
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

import numpy as np

from ._io import atomic_path, file_sha256, folder_lock, remove_stale_temps, sigint_deferred
from .conventions import VERY_SMALL_AREA
from ._threads import in_pool, run_jobs as _run_jobs, submit
from .engine._jit import get_threads, using_threads
from .engine.assign import assign
from .engine.boundary import biou_range, dilation_for
from .engine.chunks import pair_cost_bounds
from .engine.facts import facts_outputs, facts_range
from .engine.groups import group_union
from .engine.relate import _cost_bounds, measures_range, candidate_pairs
from .relations import AMBIGUITY, REL_CODE, RELATIONS, SPLIT, Rules, relate

__all__ = ["compare", "Comparison", "RELATIONS", "read_output"]

log = logging.getLogger(__name__)

#: Above this many instances (both sides together) the work is spread over ``threads`` threads.
PARALLEL_MIN_INSTANCES = 2_000
#: images rasterised and related at a time by default (``batch_images``): the RLE store of one
#: batch is all that is held (~11 MB of runs and as much for their start positions per 1,000
#: COCO-like images); bigger batches mean fewer per-batch overheads (5,000: 6 % faster than 2,000
#: on the full train twin, +0.1 GB peak)
BATCH_IMAGES = 5_000
#: batches run whole and at once, one per thread, from this many batches per thread on (see
#: :func:`_run_batches`); fewer: one batch at a time on all threads
BATCHES_PER_THREAD_MIN = 3
#: batches are not made smaller than this for the sake of threads (per-batch overheads)
BATCH_IMAGES_MIN = 250
_N_EXAMPLES = 10


def _as_dataset(x):
    from .dataset import Dataset
    if isinstance(x, Dataset):
        return x
    from .loader import load
    return load(x)


def _image_alignment(A, B):
    ids = np.union1d(A.image_id, B.image_id).astype(np.int64)
    ra = np.searchsorted(A.image_id, ids)
    rb = np.searchsorted(B.image_id, ids)
    in_a = (ra < A.n_images) & (A.image_id[np.minimum(ra, max(A.n_images - 1, 0))] == ids) if A.n_images else \
        np.zeros(ids.shape, bool)
    in_b = (rb < B.n_images) & (B.image_id[np.minimum(rb, max(B.n_images - 1, 0))] == ids) if B.n_images else \
        np.zeros(ids.shape, bool)
    sa = A.image_slices()
    sb = B.image_slices()
    a_lo = sa[ra]
    a_hi = np.where(in_a, sa[np.minimum(ra + 1, A.n_images)], a_lo)
    b_lo = sb[rb]
    b_hi = np.where(in_b, sb[np.minimum(rb + 1, B.n_images)], b_lo)
    both = in_a & in_b
    ha = np.zeros(ids.shape, np.int64)
    wa = np.zeros(ids.shape, np.int64)
    hb = np.zeros(ids.shape, np.int64)
    wb = np.zeros(ids.shape, np.int64)
    ha[in_a] = A.height[ra[in_a]]
    wa[in_a] = A.width[ra[in_a]]
    hb[in_b] = B.height[rb[in_b]]
    wb[in_b] = B.width[rb[in_b]]
    same = both & (ha == hb) & (wa == wb)
    return dict(ids=ids, in_a=in_a, in_b=in_b, comparable=same, a_lo=a_lo.astype(np.int64),
                a_hi=a_hi.astype(np.int64), b_lo=b_lo.astype(np.int64), b_hi=b_hi.astype(np.int64),
                h=np.where(in_a, ha, hb), w=np.where(in_a, wa, wb), ha=ha, wa=wa, hb=hb, wb=wb)


class _Stages:
    """Wall and CPU seconds per stage (``Comparison.timings``; logged at DEBUG).

    ``thread=True``: the CPU seconds of the calling thread only (a worker running whole batches),
    else of the process."""

    def __init__(self, thread=False):
        self.wall = {}
        self.cpu = {}
        self._t = None
        self._cpu = time.thread_time if thread else time.process_time

    def start(self):
        self._t = (time.perf_counter(), self._cpu())

    def lap(self, name):
        w, c = time.perf_counter(), self._cpu()
        if self._t is not None:
            self.wall[name] = self.wall.get(name, 0.0) + w - self._t[0]
            self.cpu[name] = self.cpu.get(name, 0.0) + c - self._t[1]
        self._t = (w, c)

    def as_dict(self):
        return {k: dict(wall=round(self.wall[k], 4), cpu=round(self.cpu[k], 4)) for k in self.wall}

    def add(self, other):
        """Add ``other``'s seconds to these (batches run on several threads: summed over them)."""
        for k in other.wall:
            self.wall[k] = self.wall.get(k, 0.0) + other.wall[k]
            self.cpu[k] = self.cpu.get(k, 0.0) + other.cpu[k]


def _run_chunks(n, fn, bounds, *args):
    """``fn(*args, lo, hi)`` for every chunk ``bounds[c]:bounds[c + 1]``, on ``n`` threads.

    The serial (disk-cached, ``nogil``) kernels run on Python threads instead of Numba
    ``parallel=True`` twins, which are never cached and would cost seconds of compilation
    in every process; chunks are cost-balanced and handed out dynamically.
    """
    jobs = [(int(bounds[c]), int(bounds[c + 1])) for c in range(len(bounds) - 1) if bounds[c + 1] > bounds[c]]
    _run_jobs(n, lambda lohi: fn(*args, *lohi), jobs)


def _n_chunks(n):
    return 1 if n <= 1 else 8 * n


class _Raster:
    """One dataset's arrays for the rasteriser, prepared once, and a cost estimate per instance
    (see :func:`_rasterize_both`)."""

    def __init__(self, ds):
        self.args = (np.ascontiguousarray(ds.xy, dtype=np.float64),
                     np.ascontiguousarray(ds.ring_offsets, dtype=np.int64),
                     np.ascontiguousarray(ds.inst_ring_offsets, dtype=np.int64),
                     np.ascontiguousarray(ds.counts, dtype=np.uint32),
                     np.ascontiguousarray(ds.counts_offsets, dtype=np.int64),
                     np.ascontiguousarray(ds.kind, dtype=np.int8),
                     ds.inst_h(), ds.inst_w())
        ro, iro, co = self.args[1], self.args[2], self.args[4]
        # cost estimate per instance: points + stored runs + a constant
        self.cost = (ro[iro[1:]] - ro[iro[:-1]]) + (co[1:] - co[:-1]) + 16


def _rasterize_both(ra, rows_a, rb, rows_b, nt, params):
    """A's rows then B's, rasterised into one counts store (what ``ra(rows_a)`` and
    ``rb(rows_b)`` concatenated would be, without the copies).

    Every cost-balanced chunk writes at the start of its own region of one buffer sized by the
    rows' length bounds; the chunks are then moved left into place (one pass, in order: a
    chunk never moves past its own start) and the slack at the end is left unused. The buffer
    (``params["rbuf"]``) is reused batch after batch: the counts returned are a view into it,
    valid until the next call (fresh memory for every batch cost more in page faults than the
    rasterisation of some batches).
    """
    from .engine.raster import rasterize_range, instance_bounds
    from .engine.ragged import move_left
    na, nb = rows_a.shape[0], rows_b.shape[0]
    lens = np.empty(na + nb, np.int64)
    bnd = np.empty(na + nb, np.int64)   # length bound per row (A's rows, then B's)
    chunks = []   # (raster, rows, lo, hi, lens view, bound view, first row)
    for r, rows, shift in ((ra, rows_a, 0), (rb, rows_b, na)):
        if rows.shape[0] == 0:
            continue
        nc = _n_chunks(nt) if rows.shape[0] >= 64 else 1
        cum = np.cumsum(r.cost[rows])
        cut = np.unique(np.r_[0, np.searchsorted(cum, cum[-1] * np.arange(1, nc) / nc), rows.shape[0]])
        m = rows.shape[0]
        for c in range(cut.size - 1):
            chunks.append((r, rows, int(cut[c]), int(cut[c + 1]), lens[shift:shift + m], bnd[shift:shift + m], shift))

    def bounds(ch):
        r, rows, lo, hi, lv, bv, _ = ch
        xy, ro, iro, co, kind, w = r.args[0], r.args[1], r.args[2], r.args[4], r.args[5], r.args[7]
        # with the heights: a polygon's bound is capped at h * w + 1 runs
        bv[lo:hi] = instance_bounds(xy, ro, iro, co, kind, w, rows[lo:hi], r.args[6])[0]

    _run_jobs(nt, bounds, chunks)
    cb = np.zeros(na + nb + 1, np.int64)
    np.cumsum(bnd, out=cb[1:])
    base = int(cb[-1])
    if params["rbuf"].shape[0] < base:
        params["rbuf"] = np.empty(int(base * 1.25) + 4096, np.uint32)
    out = params["rbuf"]

    def one(ch):
        r, rows, lo, hi, lv, bv, shift = ch
        rasterize_range(*r.args, rows, lo, hi, bv, int(cb[shift + lo]), out, lv)

    _run_jobs(nt, one, chunks)
    offsets = np.zeros(na + nb + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    for r, rows, lo, hi, lv, bv, shift in chunks:   # move each chunk to its final place
        o0 = int(cb[shift + lo])
        dst = int(offsets[shift + lo])
        n = int(offsets[shift + hi]) - dst
        if dst != o0 and n:
            move_left(out, o0, dst, n)
    return out[:int(offsets[-1])], offsets


def _mask_facts_threaded(nt, counts, offsets, h, pos):
    """:func:`cocodiff.engine.relate.mask_facts` on ``nt`` threads (serial kernels over chunks)."""
    area, total, ext, first, last, inner_zero, ylo, yhi = facts_outputs(offsets.shape[0] - 1)
    bounds = _cost_bounds(offsets, _n_chunks(nt))
    _run_chunks(nt, lambda lo, hi: facts_range(counts, offsets, h, lo, hi, area, total, ext, first, last,
                                               inner_zero, ylo, yhi, pos), bounds)
    return area, ext, (first, last, inner_zero, ylo, yhi, pos)


def _pair_measures_threaded(nt, counts, offsets, pa, pb, crowd, area, facts):
    first, last, z, ylo, yhi, pos = facts
    k = pa.shape[0]
    inter = np.empty(k, np.int64)
    iou = np.empty(k, np.float64)
    iou_plain = np.empty(k, np.float64)
    bounds = pair_cost_bounds(offsets, pa, pb, _n_chunks(nt))
    _run_chunks(nt, measures_range, bounds, counts, offsets, pa, pb, np.ascontiguousarray(crowd, dtype=np.uint8),
                area, first, last, z, ylo, yhi, pos, inter, iou, iou_plain)
    return inter, iou, iou_plain


def _boundary_threaded(nt, counts, offsets, pa, pb, h, w, d, ext):
    out = np.empty(pa.shape[0])
    bounds = pair_cost_bounds(offsets, pa, pb, _n_chunks(nt))
    _run_chunks(nt, biou_range, bounds, counts, offsets, pa, pb, h, w, d, ext, out)
    return out


def _prepare(A, B, rules, boundary, dilation_ratio):
    """Per-instance arrays computed once for all batches (``params`` of :func:`_compare_batch`)."""
    return dict(rules=rules, iou_threshold=rules.iou_threshold, cover_threshold=rules.cover_threshold,
                group_margin=rules.group_margin, mode=rules.mode,
                boundary=bool(boundary), dilation_ratio=float(dilation_ratio),
                vert_a=A.n_points().astype(np.int64), vert_b=B.n_points().astype(np.int64),
                raster_a=_Raster(A), raster_b=_Raster(B),
                h_a=A.height[A.img_row].astype(np.int64), w_a=A.width[A.img_row].astype(np.int64),
                h_b=B.height[B.img_row].astype(np.int64),
                crowd_a=A.iscrowd.astype(bool), crowd_b=B.iscrowd.astype(bool),
                cat_a=A.category_id.astype(np.int64), cat_b=B.category_id.astype(np.int64),
                # run starts fit 32 bits unless an image holds 2**32 pixels: half the memory traffic
                stages=_Stages(), pos=np.zeros(0, _pos_dtype(A, B)), rbuf=np.zeros(0, np.uint32),
                # threads (set_threads / ``threads=``) only where there is enough work
                nt=get_threads() if A.n_instances + B.n_instances > PARALLEL_MIN_INSTANCES else 1)


def _pos_dtype(A, B):
    """uint32 run starts when every image has fewer than 2**32 pixels (they are < h * w), else int64."""
    hw = [int((d.height.astype(np.int64) * d.width.astype(np.int64)).max()) for d in (A, B) if d.height.size]
    return np.uint32 if max(hw, default=0) < 2 ** 32 else np.int64


def _compare_batch(A, B, al, u0, u1, params):
    """Relate the instances of union images ``u0:u1`` (rows of ``al``, see :func:`_image_alignment`).

    Parameters
    ----------
    A, B : Dataset; al : dict from ``_image_alignment(A, B)``; u0, u1 : int image-row range.
    params : dict from :func:`_prepare`.

    Returns
    -------
    cols : dict of numpy columns (``_COLUMNS`` names; ``relation`` int8 codes, absent sides
        -1, NaN for undefined floats), rows sorted like the final table; ``group`` ids
        numbered within the batch (:func:`_table_from_batches` renumbers them after the
        previous batches').
    n_pairs : int -- candidate pairs examined.
    """
    st = params["stages"]
    st.start()
    nt = params["nt"]
    a0, a1 = int(al["a_lo"][u0]), int(al["a_hi"][u1 - 1]) if u1 > u0 else int(al["a_lo"][u0])
    b0, b1 = int(al["b_lo"][u0]), int(al["b_hi"][u1 - 1]) if u1 > u0 else int(al["b_lo"][u0])
    a1 = max(a1, a0)
    b1 = max(b1, b0)
    na, nb = a1 - a0, b1 - b0
    rows_a = np.arange(a0, a1, dtype=np.int64)
    rows_b = np.arange(b0, b1, dtype=np.int64)
    counts, offsets = _rasterize_both(params["raster_a"], rows_a, params["raster_b"], rows_b, nt, params)
    st.lap("rasterise")
    h_a = params["h_a"][a0:a1]
    h_all = np.concatenate([h_a, params["h_b"][b0:b1]])
    if params["pos"].shape[0] < counts.shape[0]:     # reused run-start scratch (no page faults per batch)
        params["pos"] = np.empty(int(counts.shape[0] * 1.25) + 1024, params["pos"].dtype)
    area, ext, facts = _mask_facts_threaded(nt, counts, offsets, h_all, params["pos"])
    area_a, area_b = area[:na], area[na:]
    ext_a, ext_b = ext[:na], ext[na:]
    st.lap("mask_facts")

    sl = slice(u0, u1)
    pa, pb = candidate_pairs(al["a_lo"][sl] - a0, al["a_hi"][sl] - a0, al["b_lo"][sl] - b0,
                             al["b_hi"][sl] - b0, al["comparable"][sl], ext_a, ext_b)
    st.lap("candidates")
    cat_a = params["cat_a"][a0:a1]
    cat_b = params["cat_b"][b0:b1]
    crowd_a = params["crowd_a"][a0:a1]
    crowd_b = params["crowd_b"][b0:b1]
    inter, iou, iou_plain = _pair_measures_threaded(nt, counts, offsets, pa, pb + na, crowd_a[pa], area, facts)
    del facts
    st.lap("intersections")
    img_a = A.inst_image_id[a0:a1]
    img_b = B.inst_image_id[b0:b1]

    def union(side, wholes, off, parts, skip):   # store indices: A's masks first, then B's
        if side == SPLIT:
            return group_union(counts, offsets, wholes, off, parts + na, np.where(skip >= 0, skip + na, -1))
        return group_union(counts, offsets, wholes + na, off, parts, skip)

    rel = relate(pa, pb, inter, iou_plain, area_a, area_b, cat_a, cat_b, crowd_a, crowd_b, img_a, img_b,
                 union, params["rules"])
    st.lap("relations")

    # ---- two-sided rows
    pair_idx = rel.pair
    ra = pa[pair_idx]
    rb = pb[pair_idx]
    rem = rel.removed
    add = rel.added
    n2 = pair_idx.size

    biou = np.full(n2, np.nan)
    if params["boundary"] and n2:
        hh = h_a[ra]
        ww = params["w_a"][a0:a1][ra]
        dd = dilation_for(hh, ww, params["dilation_ratio"])
        # A mask whose extent cannot hold a (2d+1) square has an empty erosion: its boundary is
        # the mask. When that holds for both, Boundary IoU is the mask IoU -- the same two
        # integers, hence the same double as iou_plain (0 when the union is empty).
        win = 2 * dd + 1
        ea_, eb_ = ext_a[ra], ext_b[rb]
        thin = ((ea_[:, 2] - ea_[:, 0] < win) | (ea_[:, 3] - ea_[:, 1] < win)) & \
               ((eb_[:, 2] - eb_[:, 0] < win) | (eb_[:, 3] - eb_[:, 1] < win))
        biou = iou_plain[pair_idx].copy()
        k = np.flatnonzero(~thin)
        if k.size:
            biou[k] = _boundary_threaded(nt, counts, offsets, ra[k], rb[k] + na, hh[k], ww[k], dd[k], ext)
    del counts, offsets
    st.lap("boundary_iou")
    ea = ext_a[ra].astype(np.float64)
    eb = ext_b[rb].astype(np.float64)
    shift = np.hypot((ea[:, 0] + ea[:, 2] - eb[:, 0] - eb[:, 2]) / 2, (ea[:, 1] + ea[:, 3] - eb[:, 1] - eb[:, 3]) / 2)
    corner = np.maximum(np.hypot(ea[:, 0] - eb[:, 0], ea[:, 1] - eb[:, 1]),
                        np.hypot(ea[:, 2] - eb[:, 2], ea[:, 3] - eb[:, 3]))

    # ---- all rows: two-sided, then removed (A only), then added (B only)
    n_rem, n_add = rem.size, add.size
    n = n2 + n_rem + n_add
    ia = np.concatenate([ra, rem, np.zeros(n_add, np.int64)])     # local A index (valid where has_a)
    ib = np.concatenate([rb, np.zeros(n_rem, np.int64), add])
    has_a = np.zeros(n, bool)
    has_a[:n2 + n_rem] = True
    has_b = np.ones(n, bool)
    has_b[n2:n2 + n_rem] = False
    if na == 0:
        ia[:] = 0
    if nb == 0:
        ib[:] = 0
    nan = np.nan

    def pick(src, idx, present, fill, dtype):
        out = np.full(n, fill, dtype)
        if src.size:
            out[present] = src[idx[present]]
        return out

    a_id = pick(A.ann_id[a0:a1], ia, has_a, -1, np.int64)
    b_id = pick(B.ann_id[b0:b1], ib, has_b, -1, np.int64)
    image_id = np.concatenate([img_a[ra], img_a[rem], img_b[add]]).astype(np.int64)
    a_area = pick(area_a, ia, has_a, -1, np.int64)
    b_area = pick(area_b, ib, has_b, -1, np.int64)
    relation = np.concatenate([rel.relation, np.full(n_rem, REL_CODE["removed"], np.int8),
                               np.full(n_add, REL_CODE["added"], np.int8)])
    with np.errstate(divide="ignore", invalid="ignore"):
        ar = np.where(area_a[ra] > 0, area_b[rb] / np.maximum(area_a[ra], 1), nan)

    def two(v, fill, dtype):
        out = np.full(n, fill, dtype)
        out[:n2] = v
        return out

    very_small = np.zeros(n, bool)
    very_small[n2:n2 + n_rem] = area_a[rem] <= VERY_SMALL_AREA
    very_small[n2 + n_rem:] = area_b[add] <= VERY_SMALL_AREA
    a_cat = pick(cat_a, ia, has_a, -1, np.int64)
    b_cat = pick(cat_b, ib, has_b, -1, np.int64)
    names = params["names"]
    cols = dict(
        image_id=image_id, file_name=np.searchsorted(names.image_ids, image_id),
        a_id=a_id, b_id=b_id, a_category_id=a_cat, b_category_id=b_cat,
        a_category=np.where(has_a, np.searchsorted(names.cat_ids, a_cat), -1),
        b_category=np.where(has_b, np.searchsorted(names.cat_ids, b_cat), -1),
        relation=relation, group=two(rel.group, -1, np.int64),
        group_iou=two(rel.group_iou, nan, np.float64), part_share=two(rel.part_share, nan, np.float64),
        ambiguity=np.concatenate([rel.ambiguity, rel.removed_ambiguity, rel.added_ambiguity]),
        iou=two(iou[pair_idx], nan, np.float64), iou_plain=two(iou_plain[pair_idx], nan, np.float64),
        boundary_iou=two(biou, nan, np.float64), intersection=two(inter[pair_idx], -1, np.int64),
        a_area=a_area, b_area=b_area,
        a_vertices=pick(params["vert_a"][a0:a1], ia, has_a, -1, np.int64),
        b_vertices=pick(params["vert_b"][b0:b1], ib, has_b, -1, np.int64),
        a_iscrowd=pick(crowd_a.view(np.int8), ia, has_a, -1, np.int8),
        b_iscrowd=pick(crowd_b.view(np.int8), ib, has_b, -1, np.int8),
        crowd_changed=two(crowd_a[ra] != crowd_b[rb], False, bool), very_small=very_small,
        area_ratio=two(ar, nan, np.float64), bbox_shift=two(shift, nan, np.float64),
        bbox_corner_shift=two(corner, nan, np.float64))
    # final order: image, then a_id (absent last), then b_id
    big_i = np.iinfo(np.int64).max
    order = np.lexsort((np.where(has_b, b_id, big_i), np.where(has_a, a_id, big_i), image_id))
    cols = {k: v[order] for k, v in cols.items()}
    st.lap("rows")
    return cols, int(pa.size)


def compare(a, b, iou_threshold=0.5, cover_threshold=0.5, group_margin=0.05, mode="optimal", boundary=True,
            threads=None, batch_images=BATCH_IMAGES, progress=None, dilation_ratio=0.02, client=None):
    """Relate every instance of annotation set ``a`` to those of ``b`` (see the module docstring).

    Parameters
    ----------
    a, b : Dataset or path -- A is the reference (pycocotools' gt side for the crowd rule); two
        paths are parsed at the same time (:func:`cocodiff.loader.load_pair`).
    iou_threshold : float -- minimum IoU for ``matched`` and ``class_changed``.
    cover_threshold : float -- minimum fraction of a part inside its whole for split / merged.
    group_margin : float -- how much better (in IoU) the union of two or more parts must explain a
        whole than its best single counterpart when that one alone would match
        (:mod:`cocodiff.relations`).
    mode : ``"optimal"`` (maximum total IoU per (image, category)) or ``"greedy"``.
    boundary : bool -- compute Boundary IoU of every two-sided row.
    threads : int or None -- threads for the kernels and the loader during this call (None: the
        current Numba thread count, ``cocodiff.engine._jit.set_threads``); restored afterwards.
    batch_images : int -- at most this many images rasterised at a time (bounds memory;
        :data:`BATCH_IMAGES`); with several threads batches may be smaller (:func:`_batch_size`).
    progress : bool or None -- tqdm bar over batches (None: when stderr is a TTY).
    dilation_ratio : float -- Boundary IoU dilation ratio.
    client : dask.distributed.Client or None -- shard the images across the cluster's
        workers (:mod:`cocodiff.distributed`; ``pip install 'cocodiff[dask]'``); the result
        is identical. ``threads`` is then the Numba thread count per task (None: 1).

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import cocodiff
    >>> c = cocodiff.compare("gt.json", "other.json")          # doctest: +SKIP
    >>> c.summary()["relations"]["matched"]                      # doctest: +SKIP
    6
    """
    if client is not None:  # Dask: shards over the workers, see cocodiff.distributed
        from .distributed import compare_distributed
        return compare_distributed(a, b, client, iou_threshold=iou_threshold, cover_threshold=cover_threshold,
                                   group_margin=group_margin,
                                   mode=mode, boundary=boundary, threads=threads, batch_images=batch_images,
                                   progress=progress, dilation_ratio=dilation_ratio)
    rules = Rules(float(iou_threshold), float(cover_threshold), float(group_margin), mode)
    if batch_images < 1:
        raise ValueError("batch_images must be >= 1")
    with using_threads(threads):   # the caller's thread count is restored afterwards
        return _compare(a, b, rules, boundary, batch_images, progress, dilation_ratio)


def _batch_size(n_img, batch_images, nt):
    """Images per batch: ``batch_images`` at most (the memory bound), smaller when that gives
    each of ``nt`` threads at least :data:`BATCHES_PER_THREAD_MIN` batches (then run whole, one
    per thread: :func:`_run_batches`), but not below :data:`BATCH_IMAGES_MIN`. The output does not
    depend on it.

    Examples
    --------
    >>> _batch_size(118_287, 5_000, 2), _batch_size(5_000, 5_000, 2), _batch_size(5_000, 5_000, 1)
    (5000, 834, 5000)
    """
    if nt <= 1:
        return batch_images
    return min(batch_images, max(BATCH_IMAGES_MIN, -(-n_img // (BATCHES_PER_THREAD_MIN * nt))))


def _run_batches(A, B, al, jobs, params):
    """``(cols, n_pairs, job)`` of :func:`_compare_batch` for every image range in ``jobs``, in order.

    With several threads (``params["nt"]``) and at least :data:`BATCHES_PER_THREAD_MIN` batches
    per thread, whole batches run at once, one per thread, each on serial kernels with its own
    scratch (the thread pool hands them out as threads free up): the batches' single-threaded
    steps (candidates, relations, rows) then overlap other batches' work instead of leaving
    threads idle. Otherwise batches run one after the other, each on all threads. The batches
    are the same either way, hence the output.
    """
    nt = params["nt"]
    if nt <= 1 or len(jobs) < BATCHES_PER_THREAD_MIN * nt or in_pool():
        for u0, u1 in jobs:
            yield (*_compare_batch(A, B, al, u0, u1, params), (u0, u1))
        return
    local = threading.local()
    mine = []   # every worker's params (their stage times are added up at the end)

    def one(job):
        p = getattr(local, "params", None)
        if p is None:
            p = local.params = dict(params, nt=1, stages=_Stages(thread=True), rbuf=np.zeros(0, np.uint32),
                                    pos=np.zeros(0, params["pos"].dtype))
            mine.append(p)
        return _compare_batch(A, B, al, job[0], job[1], p)

    futures = [submit(nt, one, j) for j in jobs]
    try:
        for f, job in zip(futures, jobs):
            yield (*f.result(), job)
    finally:   # on an error or Ctrl-C: batches not started are dropped, started ones finish
        for f in futures:
            f.cancel()
        for f in futures:
            if not f.cancelled():
                f.exception()
        for p in mine:
            params["stages"].add(p["stages"])


def _compare(a, b, rules, boundary, batch_images, progress, dilation_ratio):
    """Body of :func:`compare` in one process (thread count already in force)."""
    from .loader import load_pair
    A, B = load_pair(a, b)
    al = _image_alignment(A, B)
    params = _prepare(A, B, rules, boundary, dilation_ratio)
    params["names"] = _Names.of(A, B, al)
    st = params["stages"]
    n_img = al["ids"].shape[0]
    bounds = list(range(0, n_img, _batch_size(n_img, batch_images, params["nt"]))) + [n_img]
    if progress is None:
        progress = sys.stderr.isatty()
    bar = None
    if progress and len(bounds) > 1:
        try:
            from tqdm import tqdm
            bar = tqdm(total=n_img, unit="img", desc="compare", file=sys.stderr)
        except ImportError:  # pragma: no cover
            bar = None
    jobs = [(u0, u1) for u0, u1 in zip(bounds[:-1], bounds[1:]) if u1 > u0]
    parts = []
    n_cand = 0
    for cols, npairs, (u0, u1) in _run_batches(A, B, al, jobs, params):
        parts.append(cols)
        n_cand += npairs
        if bar is not None:
            bar.update(u1 - u0)
    if bar is not None:
        bar.close()
    st.start()
    table = _table_from_batches(parts, params["names"])
    del parts
    st.lap("table")
    images = _image_report(A, B, al)
    timings = st.as_dict()
    params = {k: params[k] for k in ("iou_threshold", "cover_threshold", "group_margin", "mode", "boundary",
                                  "dilation_ratio")}
    meta = dict(a_path=_abs_input(A.path), b_path=_abs_input(B.path), inputs=_inputs_info(A.path, B.path),
                a_instances=A.n_instances, b_instances=B.n_instances,
                a_vertices=int(np.sum(A.n_points())), b_vertices=int(np.sum(B.n_points())),
                candidate_pairs=int(n_cand),
                categories={int(c): str(nm) for c, nm in zip(list(A.cat_id) + list(B.cat_id),
                                                            list(A.cat_name) + list(B.cat_name))})
    log.info("compare: %d A / %d B instances, %d candidate pairs, %d rows", A.n_instances, B.n_instances,
             n_cand, table.num_rows)
    log.debug("compare stages (seconds): %s", timings)
    return Comparison(table=table, params=params, images=images, meta=meta, timings=timings)


def _abs_input(path) -> str:
    """An input's absolute path when it is one file or folder on disk (so that ``report --from`` and
    ``export`` find it from any working directory), else its label as given."""
    p = str(path)
    return os.path.abspath(p) if os.path.exists(p) else p


def _inputs_info(a_path, b_path) -> dict:
    """Size and modification time of each input (when it is a file or folder on disk), for readers of
    the output to tell whether an input changed since."""
    out = {}
    for side, p in (("a", str(a_path)), ("b", str(b_path))):
        try:
            st = os.stat(p)
            out[side] = dict(size=int(st.st_size), mtime_ns=int(st.st_mtime_ns))
        except OSError:
            out[side] = None
    return out


_COLUMNS = [
    ("image_id", "int64"), ("file_name", "str"), ("a_id", "int64"), ("b_id", "int64"), ("a_category_id", "int64"),
    ("a_category", "str"), ("b_category_id", "int64"), ("b_category", "str"), ("relation", "str"), ("group", "int64"), ("group_iou", "float64"),
    ("part_share", "float64"), ("ambiguity", "str"), ("iou", "float64"),
    ("iou_plain", "float64"), ("boundary_iou", "float64"), ("intersection", "int64"), ("a_area", "int64"), ("b_area", "int64"),
    ("a_vertices", "int64"), ("b_vertices", "int64"), ("a_iscrowd", "bool"), ("b_iscrowd", "bool"),
    ("crowd_changed", "bool"), ("very_small", "bool"), ("area_ratio", "float64"), ("bbox_shift", "float64"),
    ("bbox_corner_shift", "float64"),
]


@dataclass(frozen=True)
class _Names:
    """What the table's name columns index: image ids (sorted) with their file names (A's, else
    B's), category ids (sorted) with their names (A's, else B's)."""

    image_ids: np.ndarray
    file_names: np.ndarray
    cat_ids: np.ndarray
    cat_names: np.ndarray

    @classmethod
    def of(cls, A, B, al):
        ids = al["ids"]
        fn = np.empty(ids.shape[0], object)
        for ds, present in ((B, al["in_b"]), (A, al["in_a"])):   # A's name wins
            rows = np.searchsorted(ds.image_id, ids[present])
            fn[present] = ds.file_name[rows]
        fn[fn == None] = ""   # noqa: E711 -- an image in neither (cannot happen) or without a name
        cat_ids = np.union1d(A.cat_id, B.cat_id).astype(np.int64)
        cn = np.empty(cat_ids.shape[0], object)
        for ds in (B, A):
            cn[np.searchsorted(cat_ids, ds.cat_id)] = ds.cat_name
        return cls(ids.astype(np.int64), fn, cat_ids, cn)

    @classmethod
    def empty(cls):
        z = np.zeros(0, np.int64)
        return cls(z, np.zeros(0, object), z, np.zeros(0, object))


def _table_from_batches(parts, names=None):
    """The batches' columns (consecutive image ranges, see :func:`_compare_batch`) -> one pyarrow
    Table, a chunk per batch: no copy of all rows into one set of arrays.

    Every batch's rows are put in the canonical order on their own (images do not span
    batches, so that is the global order) and its groups renumbered after the previous
    batches' (groups do not span batches either)."""
    import pyarrow as pa
    names = names if names is not None else _Names.empty()
    if not parts:
        return _to_arrow({}, names)[0]
    tables = []
    base = 0
    for cols in parts:
        t, base = _to_arrow(cols, names, presorted=True, group_base=base)
        tables.append(t)
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


def _to_arrow(cols, names, presorted=False, group_base=0):
    """Columns -> (pyarrow Table in the canonical row order, ``group_base`` + its groups)
    (``presorted``: rows may already be in it; group ids from ``group_base`` on)."""
    import pyarrow as pa

    from . import _arrow

    n = cols["relation"].shape[0] if cols else 0
    if n == 0:
        cols = {name: np.zeros(0, np.int64 if t != "float64" else np.float64) for name, t in _COLUMNS}
        cols["relation"] = np.zeros(0, np.int8)
        cols["ambiguity"] = np.zeros(0, np.int8)
        cols["a_iscrowd"] = cols["b_iscrowd"] = np.zeros(0, np.int8)
    rel = cols["relation"]
    has_a = rel != 5
    has_b = rel != 4
    # deterministic order: image, then a_id (absent last), then b_id
    a_key = np.where(has_a, cols["a_id"], np.iinfo(np.int64).max)
    b_key = np.where(has_b, cols["b_id"], np.iinfo(np.int64).max)
    if presorted and _is_sorted(cols["image_id"], a_key, b_key):
        order = None
    else:
        order = np.lexsort((b_key, a_key, cols["image_id"]))
    out = {}
    n_groups = 0
    for name, typ in _COLUMNS:
        v = cols[name] if order is None else cols[name][order]
        if name == "group":
            v, n_groups = _renumber_groups(v, group_base)
        if name == "relation":
            out[name] = pa.DictionaryArray.from_arrays(_arrow.array(v.astype(np.int32)), _arrow.strings(RELATIONS))
            continue
        if name in ("file_name", "a_category", "b_category"):   # indices into the names
            d = names.file_names if name == "file_name" else names.cat_names
            out[name] = pa.DictionaryArray.from_arrays(_arrow.array(v.astype(np.int32), mask=v < 0),
                                                       _arrow.strings(d.tolist()))
            continue
        if name == "ambiguity":   # null where the relation is clear-cut
            out[name] = pa.DictionaryArray.from_arrays(_arrow.array(v.astype(np.int32) - 1, mask=v == 0),
                                                       _arrow.strings(AMBIGUITY[1:]))
            continue
        mask = None
        if name.startswith("a_"):
            mask = _take(~has_a, order)
        elif name.startswith("b_"):
            mask = _take(~has_b, order)
        elif name in ("intersection",):
            mask = _take(~(has_a & has_b), order)
        if typ == "bool":
            v = v.astype(bool) if v.dtype != np.int8 else (v == 1)
        elif typ == "float64":  # undefined measures (no counterpart, 0/0) are nulls, not NaN
            undefined = np.isnan(v)
            mask = undefined if mask is None else (mask | undefined)
        out[name] = _arrow.array(v, mask=mask)
    t = pa.table(out)
    # plain string column (dictionary kept out of the file for the widest reader support)
    for name in ("relation", "ambiguity", "file_name", "a_category", "b_category"):
        t = t.set_column(t.schema.get_field_index(name), name, t.column(name).cast(pa.string()))
    return t, group_base + n_groups


def _renumber_groups(g, base=0):
    """Group ids ``base``, ``base + 1``, ... by first appearance in table order (-1 stays -1);
    returns them and the number of groups.

    Batches (and Dask shards) number their groups independently; renumbering in the final row
    order makes ``group`` independent of ``batch_images`` and of the sharding.

    Examples
    --------
    >>> ids, n = _renumber_groups(np.array([7, -1, 3, 7, 5]), base=10)
    >>> ids.tolist(), n
    ([10, -1, 11, 10, 12], 3)
    """
    pos = g >= 0
    if not pos.any():
        return g, 0
    vals = g[pos]
    uniq, first = np.unique(vals, return_index=True)
    rank = np.empty(uniq.shape[0], np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(base, base + uniq.shape[0], dtype=np.int64)
    out = g.copy()
    out[pos] = rank[np.searchsorted(uniq, vals)]
    return out, int(uniq.shape[0])


def _take(v, order):
    return v if order is None else v[order]


def _is_sorted(k1, k2, k3):
    """Rows already in lexicographic (k1, k2, k3) order?"""
    if k1.size < 2:
        return True
    d1 = np.diff(k1)
    if (d1 < 0).any():
        return False
    tie = d1 == 0
    if (tie & (k2[1:] < k2[:-1])).any():
        return False
    tie &= k2[1:] == k2[:-1]
    return not (tie & (k3[1:] < k3[:-1])).any()


def _image_report(A, B, al):
    ids = al["ids"]
    only_a = ids[al["in_a"] & ~al["in_b"]]
    only_b = ids[al["in_b"] & ~al["in_a"]]
    both = al["in_a"] & al["in_b"]
    mism = both & ~al["comparable"]
    ex_m = [dict(image_id=int(i), a_size=[int(ha), int(wa)], b_size=[int(hb), int(wb)])
            for i, ha, wa, hb, wb in zip(ids[mism][:_N_EXAMPLES], al["ha"][mism], al["wa"][mism],
                                         al["hb"][mism], al["wb"][mism])]
    return dict(a_images=int(A.n_images), b_images=int(B.n_images), common=int(al["comparable"].sum()),
                only_a=int(only_a.size), only_a_examples=[int(x) for x in only_a[:_N_EXAMPLES]],
                only_b=int(only_b.size), only_b_examples=[int(x) for x in only_b[:_N_EXAMPLES]],
                size_mismatch=int(mism.sum()), size_mismatch_examples=ex_m)


def _unique_inverse(x):
    """``np.unique(x, return_inverse=True)`` for int64 ``x``; without a sort when the values
    span a range not much larger than their number (image and category ids)."""
    if x.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lo, hi = int(x.min()), int(x.max())
    if hi - lo > 4 * x.size + (1 << 20):
        return np.unique(x, return_inverse=True)
    present = np.zeros(hi - lo + 1, bool)
    present[x - lo] = True
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) + lo, rank[x - lo]


def _nanmean(x):
    x = np.asarray(x, dtype=np.float64)
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else None


@dataclass
class Comparison:
    """Result of :func:`compare`.

    Attributes
    ----------
    table : pyarrow.Table -- one row per relation (see :mod:`cocodiff.matching`).
    params : dict -- thresholds and mode used.
    images : dict -- images only in A / only in B / with different sizes (counts, examples).
    meta : dict -- inputs, instance and vertex totals, category names.
    timings : dict -- wall and CPU seconds per stage of :func:`compare` (rasterise, mask_facts,
        candidates, intersections, relations, boundary_iou, rows, table; summed over the threads
        when batches run at once); not part of the summary.
    """

    table: object
    params: dict
    images: dict
    meta: dict
    timings: dict = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        rel = self.table.column("relation").value_counts().to_pylist() if self.table.num_rows else []
        counts = ", ".join(f"{d['values']}={d['counts']}" for d in rel)
        return f"Comparison({self.meta.get('a_path')!r} vs {self.meta.get('b_path')!r}: {counts or 'no rows'})"

    def to_pandas(self):
        """The table as a pandas DataFrame; integer and boolean columns keep their nulls as pandas'
        nullable ``Int64`` / ``boolean`` dtypes (an absent ``b_id`` is ``<NA>``, not a float NaN),
        floats are ``float64`` with NaN for nulls, names and relations are strings.

        Examples
        --------
        >>> df = cocodiff.compare("a.json", "b.json").to_pandas()   # doctest: +SKIP
        """
        import pandas as pd
        import pyarrow as pa
        return self.table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get)

    def _np(self, name):
        from . import _arrow
        col = self.table.column(name)
        if name == "relation":
            return np.asarray(col.to_pylist(), dtype=object)
        return _arrow.to_numpy(col)   # as col.to_numpy(zero_copy_only=False), without importing pandas

    def _rel_codes(self):
        """``relation`` as int64 indices into :data:`RELATIONS`."""
        import pyarrow as pa
        import pyarrow.compute as pc

        from . import _arrow
        col = self.table.column("relation")
        if col.type != pa.string():
            col = col.cast(pa.string())
        idx = pc.index_in(col, value_set=_arrow.strings(RELATIONS))
        if idx.null_count:
            raise ValueError("unknown relation in the table")
        return np.asarray(_arrow.to_numpy(idx), dtype=np.int64)

    def summary(self, top=20) -> dict:
        """Counts, means and rankings as a JSON-ready dict.

        Keys: ``relations`` (row count per relation), ``matched`` (mean IoU / Boundary IoU,
        crowd changes), ``vertices`` (totals per side, all and matched), ``images``,
        ``per_class`` (list: category id, name, row counts per relation -- A's category,
        B's for ``added`` -- and mean IoU of matched), ``per_image`` (columnar: image_id
        and one count list per relation), ``most_changed`` (top ``top`` images by
        ``non-matched rows + (1 - mean IoU of matched rows)``, mean IoU 0 when none
        matched), ``params``, ``meta``.

        Examples
        --------
        >>> cocodiff.compare("a.json", "b.json").summary()["relations"]   # doctest: +SKIP
        {'matched': 6, 'split': 2, ...}
        """
        code = self._rel_codes()
        iou = self._np("iou").astype(np.float64)
        biou = self._np("boundary_iou").astype(np.float64)
        img = self._np("image_id").astype(np.int64)
        is_m = code == 0
        n_rel = len(RELATIONS)
        cnt = np.bincount(code, minlength=n_rel)
        relations = {r: int(cnt[k]) for k, r in enumerate(RELATIONS)}
        av = self._np("a_vertices")
        bv = self._np("b_vertices")
        av = np.nan_to_num(np.asarray(av, dtype=np.float64))
        bv = np.nan_to_num(np.asarray(bv, dtype=np.float64))
        cc = np.asarray(self._np("crowd_changed"), dtype=bool)
        matched = dict(count=relations["matched"], mean_iou=_nanmean(iou[is_m]),
                       mean_boundary_iou=_nanmean(biou[is_m]), crowd_changed=int(np.sum(cc & is_m)))
        vertices = dict(a_total=self.meta["a_vertices"], b_total=self.meta["b_vertices"],
                        a_matched=int(av[is_m].sum()), b_matched=int(bv[is_m].sum()))
        # per class (integer relation codes; each class's matched IoUs in row order, as a mask would give)
        acat = np.nan_to_num(np.asarray(self._np("a_category_id"), dtype=np.float64), nan=-1).astype(np.int64)
        bcat = np.nan_to_num(np.asarray(self._np("b_category_id"), dtype=np.float64), nan=-1).astype(np.int64)
        cat = np.where(code == REL_CODE["added"], bcat, acat)
        names = self.meta.get("categories", {})
        ucat, cinv = _unique_inverse(cat)
        ccnt = np.bincount(cinv * n_rel + code, minlength=ucat.size * n_rel).reshape(ucat.size, n_rel)
        im = np.flatnonzero(is_m)
        im = im[np.argsort(cinv[im], kind="stable")]
        cut = np.searchsorted(cinv[im], np.arange(ucat.size + 1))
        per_class = []
        for j, c in enumerate(ucat):
            d = dict(category_id=int(c), name=names.get(int(c), ""))
            for k, r in enumerate(RELATIONS):
                d[r] = int(ccnt[j, k])
            d["mean_iou"] = _nanmean(iou[im[cut[j]:cut[j + 1]]])
            per_class.append(d)
        # per image
        uimg, inv = _unique_inverse(img)
        per_image = {"image_id": uimg.tolist()}
        icnt = np.bincount(inv * n_rel + code, minlength=uimg.size * n_rel).reshape(uimg.size, n_rel)
        for k, r in enumerate(RELATIONS):
            per_image[r] = icnt[:, k].astype(np.int64).tolist()
        n_non = np.bincount(inv, weights=~is_m, minlength=uimg.size)
        n_m = np.bincount(inv, weights=is_m, minlength=uimg.size)
        s_iou = np.bincount(inv, weights=np.where(is_m, np.nan_to_num(iou), 0.0), minlength=uimg.size)
        mean_iou = np.where(n_m > 0, s_iou / np.maximum(n_m, 1), 0.0)
        score = n_non + (1.0 - mean_iou)
        order = np.lexsort((uimg, -score))[:top]
        most = [dict(image_id=int(uimg[i]), score=float(score[i]), non_matched=int(n_non[i]),
                     matched=int(n_m[i]), mean_iou=float(mean_iou[i]) if n_m[i] else None) for i in order]
        return dict(relations=relations, groups=self._groups(code), ambiguous=self._ambiguous(),
                    matched=matched, vertices=vertices, images=self.images, per_class=per_class, per_image=per_image, most_changed=most, params=self.params,
                    meta={k: v for k, v in self.meta.items() if k != "categories"})

    def _groups(self, code):
        """Split / merged groups and their parts; crowds decomposed, with their kinds of parts."""
        grp = self._np("group").astype(np.int64)
        a_crowd = np.asarray(self._np("a_iscrowd"), dtype=bool)
        b_crowd = np.asarray(self._np("b_iscrowd"), dtype=bool)
        out = {}
        for rel in ("split", "merged"):
            sel = code == REL_CODE[rel]
            out[rel] = dict(groups=int(np.unique(grp[sel]).size), parts=int(sel.sum()))
        cs = (code == REL_CODE["split"]) & a_crowd
        out["crowds_decomposed"] = dict(groups=int(np.unique(grp[cs]).size),
                                        individuals=int(np.sum(cs & ~b_crowd)),
                                        remaining_crowds=int(np.sum(cs & b_crowd)))
        return out

    def _ambiguous(self):
        """Rows per ``ambiguity`` reason (see :mod:`cocodiff.relations`)."""
        import pyarrow.compute as pc
        out = dict.fromkeys(AMBIGUITY[1:], 0)
        if self.table.num_rows:
            for d in pc.value_counts(self.table.column("ambiguity")).to_pylist():
                if d["values"] is not None:
                    out[d["values"]] = int(d["counts"])
        return out

    def write(self, out_dir) -> dict:
        """Write ``matches.parquet`` and ``summary.json`` into ``out_dir``, as one unit.

        Both go to temporary files first; only when both are complete are they renamed into
        place, with Ctrl-C held for those two renames (an interrupt before leaves the folder as
        it was, without temporary files). ``summary.json`` records the SHA-256 of the table's
        bytes (``matches_sha256``): :func:`read_output` refuses a pair whose parts come from two
        runs (a kill between the renames). A second writer into the same folder meanwhile is
        refused (:func:`cocodiff._io.folder_lock`); temporary files a killed run left are removed.
        Returns the summary dict.

        Examples
        --------
        >>> cocodiff.compare("a.json", "b.json").write("out/")   # doctest: +SKIP
        """
        import orjson
        import pyarrow.parquet as pq

        summ = self.summary()
        with folder_lock(out_dir, "compare"), ExitStack() as stack:
            remove_stale_temps(out_dir, ("matches.parquet", "summary.json"))
            tmp_m = stack.enter_context(atomic_path(os.path.join(out_dir, "matches.parquet")))
            tmp_s = stack.enter_context(atomic_path(os.path.join(out_dir, "summary.json")))
            # dictionary pages only where values repeat (ids and measures are mostly distinct:
            # trying a dictionary for them costs a third of the write time)
            pq.write_table(self.table, tmp_m, use_dictionary=["relation", "a_category_id", "b_category_id",
                                                               "file_name", "a_category", "b_category", "ambiguity"])
            summ["matches_sha256"] = file_sha256(tmp_m)
            tmp_s.write_bytes(orjson.dumps(summ, option=orjson.OPT_INDENT_2) + b"\n")
            with sigint_deferred():
                stack.close()   # the renames: summary.json, then matches.parquet
        return summ


def read_output(out_dir, columns=None):
    """``(table, summary)`` of a ``compare`` output folder, checked to be one unit.

    Raises :class:`cocodiff.errors.InputError` (one line naming the file) when a file is missing,
    unreadable or truncated, or when the table is not the one the summary was written with
    (``matches_sha256``: a run killed between its two renames, or two runs into one folder).

    Examples
    --------
    >>> table, summ = read_output("out/")                   # doctest: +SKIP
    """
    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .errors import InputError
    out_dir = os.fspath(out_dir)
    ps, pm = os.path.join(out_dir, "summary.json"), os.path.join(out_dir, "matches.parquet")
    for f in (ps, pm):
        if not os.path.isfile(f):
            raise InputError(f"no {os.path.basename(f)} here: not a cocodiff compare output folder", f,
                             kind="")
    try:
        with open(ps, "rb") as f:
            summ = orjson.loads(f.read())
        if not isinstance(summ, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as e:
        raise InputError(f"unreadable summary ({e}); run cocodiff compare again", ps, kind="") from None
    want = summ.get("matches_sha256")
    if want is not None and file_sha256(pm) != want:
        raise InputError("matches.parquet is not the table this summary.json was written with (a run was "
                         "interrupted between its two files, or two runs wrote into this folder); run cocodiff "
                         "compare again", pm, kind="")
    try:
        table = pq.ParquetFile(pm).read(columns=columns)   # not read_table: its dataset import costs ~0.3 s
    except (OSError, pa.ArrowException) as e:
        raise InputError(f"unreadable table ({str(e).splitlines()[0] if str(e) else type(e).__name__}); run "
                         "cocodiff compare again", pm, kind="") from None
    return table, summ
