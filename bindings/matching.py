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

Work is done in batches of ``batch_images`` images (:func:`_compare_batch`, in stages: rasterise,
mask facts, candidates, intersections, relations, Boundary IoU, rows): only that batch's
instances of A and B are rasterised (pycocotools-identical RLE), then one pass over the runs
gives every mask's area / extent / run starts, candidate pairs, intersections and IoUs (Numba),
relations (:mod:`cocodiff.relations`: array operations, the group unions and the assignment in
Numba) and Boundary IoU (Numba, bit-packed crops) run on flat arrays; only the output rows are
kept. What every batch reads is computed once (:class:`_Inputs`); what a thread reuses from
batch to batch is its own (:class:`_Scratch`). With ``threads > 1`` (and more than
``PARALLEL_MIN_INSTANCES`` instances) the serial, disk-cached ``nogil`` kernels run on a thread
pool -- no per-process compilation of ``parallel=True`` kernels: whole batches at once, one per
thread, when there are at least ``BATCHES_PER_THREAD_MIN`` per thread (batches are made smaller
for that, down to ``BATCH_IMAGES_MIN`` images), else one batch at a time over cost-balanced
chunks. Wall / CPU seconds per stage are in ``Comparison.timings`` (summed over the threads when
batches run at once). The table and its files: :mod:`cocodiff.comparison`; Dask: :mod:`cocodiff.distributed`.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._threads import in_pool, run_jobs as _run_jobs, submit
from ._alignment import Alignment, comparison_meta, image_report
from .comparison import Comparison, Names, read_output, table_from_batches
from .conventions import VERY_SMALL_AREA
from .dataset import Dataset
from .engine._jit import get_threads, using_threads
from .engine.boundary import dilation_for
from .engine.groups import group_union
from .engine.ragged import move_left
from .engine.raster import instance_bounds, rasterize_range
from .engine.relate import candidate_pairs
from .measures import boundary_ious, mask_facts, n_chunks, pair_measures
from .relations import REL_CODE, RELATIONS, SPLIT, Relations, Rules, relate

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


# ----------------------------------------------------------------------------- inputs

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


@dataclass(frozen=True)
class _Inputs:
    """What every batch reads, computed once for all of them (:func:`_prepare`): both datasets,
    their alignment and names, the rules, and per-instance arrays of each side."""

    A: Dataset
    B: Dataset
    al: Alignment
    names: Names
    rules: Rules
    boundary: bool
    dilation_ratio: float
    raster_a: _Raster
    raster_b: _Raster
    vert_a: np.ndarray     # int64 stored polygon points
    vert_b: np.ndarray
    h_a: np.ndarray        # int64 mask height / width (the image's)
    w_a: np.ndarray
    h_b: np.ndarray
    crowd_a: np.ndarray    # bool
    crowd_b: np.ndarray
    cat_a: np.ndarray      # int64
    cat_b: np.ndarray
    pos_dtype: type        # of the run starts (:func:`_pos_dtype`)

    def params(self) -> dict:
        """``Comparison.params``: the thresholds and options used."""
        r = self.rules
        return dict(iou_threshold=r.iou_threshold, cover_threshold=r.cover_threshold, group_margin=r.group_margin,
                    mode=r.mode, boundary=self.boundary, dilation_ratio=self.dilation_ratio)


def _prepare(A, B, rules, boundary, dilation_ratio) -> _Inputs:
    """The :class:`_Inputs` of a comparison of ``A`` and ``B``."""
    al = Alignment.of(A, B)
    return _Inputs(A=A, B=B, al=al, names=Names.of(A, B, al.ids, al.in_a, al.in_b), rules=rules,
                   boundary=bool(boundary), dilation_ratio=float(dilation_ratio),
                   raster_a=_Raster(A), raster_b=_Raster(B),
                   vert_a=A.n_points().astype(np.int64), vert_b=B.n_points().astype(np.int64),
                   h_a=A.inst_h(), w_a=A.inst_w(), h_b=B.inst_h(),
                   crowd_a=A.iscrowd.astype(bool), crowd_b=B.iscrowd.astype(bool),
                   cat_a=A.category_id.astype(np.int64), cat_b=B.category_id.astype(np.int64),
                   pos_dtype=_pos_dtype(A, B))


def _pos_dtype(A, B):
    """uint32 run starts when every image has fewer than 2**32 pixels (they are < h * w), else
    int64: half the memory traffic in the common case."""
    hw = [int((d.height.astype(np.int64) * d.width.astype(np.int64)).max()) for d in (A, B) if d.height.size]
    return np.uint32 if max(hw, default=0) < 2 ** 32 else np.int64


# ----------------------------------------------------------------------------- per thread

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


class _Scratch:
    """What one thread keeps from batch to batch: its kernel thread count ``nt``, its stage clock
    and two buffers reused instead of fresh memory per batch (which cost more in page faults than
    the rasterisation of some batches)."""

    def __init__(self, nt: int, pos_dtype, thread: bool = False):
        self.nt = nt
        self.stages = _Stages(thread)
        self._counts = np.zeros(0, np.uint32)
        self._pos = np.zeros(0, pos_dtype)

    def counts(self, n: int) -> np.ndarray:
        """The uint32 counts buffer, at least ``n`` long (its contents are the last batch's)."""
        if self._counts.shape[0] < n:
            self._counts = np.empty(int(n * 1.25) + 4096, np.uint32)
        return self._counts

    def run_starts(self, n: int) -> np.ndarray:
        """The run-start buffer (:func:`_pos_dtype`), at least ``n`` long."""
        if self._pos.shape[0] < n:
            self._pos = np.empty(int(n * 1.25) + 1024, self._pos.dtype)
        return self._pos


# ----------------------------------------------------------------------------- rasterising on threads

def _rasterize_both(ra, rows_a, rb, rows_b, scratch):
    """A's rows then B's, rasterised into one counts store (what ``ra(rows_a)`` and
    ``rb(rows_b)`` concatenated would be, without the copies).

    Every cost-balanced chunk writes at the start of its own region of one buffer sized by the
    rows' length bounds; the chunks are then moved left into place (one pass, in order: a
    chunk never moves past its own start) and the slack at the end is left unused. The buffer
    is the thread's (:meth:`_Scratch.counts`): the counts returned are a view into it, valid
    until the next call.
    """
    nt = scratch.nt
    na, nb = rows_a.shape[0], rows_b.shape[0]
    lens = np.empty(na + nb, np.int64)
    bnd = np.empty(na + nb, np.int64)   # length bound per row (A's rows, then B's)
    chunks = []   # (raster, rows, lo, hi, lens view, bound view, first row)
    for r, rows, shift in ((ra, rows_a, 0), (rb, rows_b, na)):
        if rows.shape[0] == 0:
            continue
        nc = n_chunks(nt) if rows.shape[0] >= 64 else 1
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
    out = scratch.counts(int(cb[-1]))

    def one(ch):
        r, rows, lo, hi, lv, bv, shift = ch
        rasterize_range(*r.args, rows, lo, hi, bv, int(cb[shift + lo]), out, lv)

    _run_jobs(nt, one, chunks)
    offsets = np.zeros(na + nb + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    for _, _, lo, hi, _, _, shift in chunks:   # move each chunk to its final place
        o0 = int(cb[shift + lo])
        dst = int(offsets[shift + lo])
        n = int(offsets[shift + hi]) - dst
        if dst != o0 and n:
            move_left(out, o0, dst, n)
    return out[:int(offsets[-1])], offsets


# ----------------------------------------------------------------------------- one batch

@dataclass(frozen=True)
class _Batch:
    """One batch's instances -- A rows ``a0:a1``, B rows ``b0:b1``, numbered locally from 0 --
    and their masks in one counts store: A's first, then B's (store index = local B index +
    ``na``), with every mask's area and extent."""

    a0: int
    a1: int
    b0: int
    b1: int
    na: int
    nb: int
    counts: np.ndarray
    offsets: np.ndarray
    area: np.ndarray
    ext: np.ndarray


class _Pairs(NamedTuple):
    """A batch's candidate pairs (local A index, local B index) and their measures."""

    a: np.ndarray
    b: np.ndarray
    inter: np.ndarray
    iou: np.ndarray
    iou_plain: np.ndarray


def _compare_batch(inp: _Inputs, u0: int, u1: int, scratch: _Scratch) -> tuple[dict, int]:
    """Relate the instances of the images ``u0:u1`` (rows of ``inp.al``), stage by stage.

    Returns
    -------
    cols : dict of numpy columns (:data:`cocodiff.comparison.COLUMNS` names; ``relation`` int8
        codes, absent sides -1, NaN for undefined floats), rows sorted like the final table;
        ``group`` ids numbered within the batch (:func:`cocodiff.comparison.table_from_batches`
        renumbers them after the previous batches').
    n_pairs : int -- candidate pairs examined.
    """
    st = scratch.stages
    st.start()
    a0, a1, b0, b1 = inp.al.rows(u0, u1)
    counts, offsets = _rasterize_both(inp.raster_a, np.arange(a0, a1, dtype=np.int64),
                                      inp.raster_b, np.arange(b0, b1, dtype=np.int64), scratch)
    st.lap("rasterise")
    h = np.concatenate([inp.h_a[a0:a1], inp.h_b[b0:b1]])
    area, ext, facts = mask_facts(counts, offsets, h, scratch.nt, scratch.run_starts(counts.shape[0]))
    b = _Batch(a0, a1, b0, b1, a1 - a0, b1 - b0, counts, offsets, area, ext)
    st.lap("mask_facts")
    sl = slice(u0, u1)
    al = inp.al
    pa, pb = candidate_pairs(al.a_lo[sl] - a0, al.a_hi[sl] - a0, al.b_lo[sl] - b0, al.b_hi[sl] - b0,
                             al.comparable[sl], ext[:b.na], ext[b.na:])
    st.lap("candidates")
    measures = pair_measures(counts, offsets, pa, pb + b.na, inp.crowd_a[a0:a1][pa], area, facts, scratch.nt)
    pairs = _Pairs(pa, pb, *measures)
    st.lap("intersections")
    rel = _relate(inp, b, pairs)
    st.lap("relations")
    biou = _boundary_iou(inp, b, pairs, rel.pair, scratch.nt)
    st.lap("boundary_iou")
    cols = _rows(inp, b, pairs, rel, biou)
    st.lap("rows")
    return cols, int(pa.size)


def _relate(inp: _Inputs, b: _Batch, p: _Pairs) -> Relations:
    """:func:`cocodiff.relations.relate` on the batch's pairs, group unions measured on its masks."""
    a0, a1, b0, b1, na = b.a0, b.a1, b.b0, b.b1, b.na

    def union(side, wholes, off, parts, skip):   # store indices: A's masks first, then B's
        if side == SPLIT:
            return group_union(b.counts, b.offsets, wholes, off, parts + na, np.where(skip >= 0, skip + na, -1))
        return group_union(b.counts, b.offsets, wholes + na, off, parts, skip)

    return relate(p.a, p.b, p.inter, p.iou_plain, b.area[:na], b.area[na:], inp.cat_a[a0:a1], inp.cat_b[b0:b1],
                  inp.crowd_a[a0:a1], inp.crowd_b[b0:b1], inp.A.inst_image_id[a0:a1], inp.B.inst_image_id[b0:b1],
                  union, inp.rules)


def _boundary_iou(inp: _Inputs, b: _Batch, p: _Pairs, pair_idx: np.ndarray, nt: int) -> np.ndarray:
    """Boundary IoU of the two-sided rows (the pairs ``pair_idx``); NaN without ``boundary``."""
    n2 = pair_idx.size
    if not inp.boundary or n2 == 0:
        return np.full(n2, np.nan)
    ra, rb = p.a[pair_idx], p.b[pair_idx]
    hh = inp.h_a[b.a0:b.a1][ra]
    ww = inp.w_a[b.a0:b.a1][ra]
    dd = dilation_for(hh, ww, inp.dilation_ratio)
    # A mask whose extent cannot hold a (2d+1) square has an empty erosion: its boundary is
    # the mask. When that holds for both, Boundary IoU is the mask IoU -- the same two
    # integers, hence the same double as iou_plain (0 when the union is empty).
    win = 2 * dd + 1
    ea, eb = b.ext[:b.na][ra], b.ext[b.na:][rb]
    thin = ((ea[:, 2] - ea[:, 0] < win) | (ea[:, 3] - ea[:, 1] < win)) & \
           ((eb[:, 2] - eb[:, 0] < win) | (eb[:, 3] - eb[:, 1] < win))
    biou = p.iou_plain[pair_idx].copy()
    k = np.flatnonzero(~thin)
    if k.size:
        biou[k] = boundary_ious(b.counts, b.offsets, ra[k], rb[k] + b.na, hh[k], ww[k], dd[k], b.ext, nt)
    return biou


def _bbox_shifts(ext_a, ext_b):
    """Per row: distance between the extents' centres, and the larger of the distances between
    their top-left and their bottom-right corners."""
    ea = ext_a.astype(np.float64)
    eb = ext_b.astype(np.float64)
    shift = np.hypot((ea[:, 0] + ea[:, 2] - eb[:, 0] - eb[:, 2]) / 2, (ea[:, 1] + ea[:, 3] - eb[:, 1] - eb[:, 3]) / 2)
    corner = np.maximum(np.hypot(ea[:, 0] - eb[:, 0], ea[:, 1] - eb[:, 1]),
                        np.hypot(ea[:, 2] - eb[:, 2], ea[:, 3] - eb[:, 3]))
    return shift, corner


class _RowSides(NamedTuple):
    """Per output row (two-sided rows, then removed, then added): its local A and B instance
    (0 where that side is absent) and which sides are present."""

    ia: np.ndarray
    ib: np.ndarray
    has_a: np.ndarray
    has_b: np.ndarray

    @classmethod
    def of(cls, ra, rb, rem, add, na, nb) -> _RowSides:
        n2, n_rem, n_add = ra.size, rem.size, add.size
        n = n2 + n_rem + n_add
        ia = np.concatenate([ra, rem, np.zeros(n_add, np.int64)])
        ib = np.concatenate([rb, np.zeros(n_rem, np.int64), add])
        has_a = np.zeros(n, bool)
        has_a[:n2 + n_rem] = True
        has_b = np.ones(n, bool)
        has_b[n2:n2 + n_rem] = False
        if na == 0:
            ia[:] = 0
        if nb == 0:
            ib[:] = 0
        return cls(ia, ib, has_a, has_b)

    def a(self, src, fill, dtype):
        """``src`` (per local A instance) per row; ``fill`` where A is absent."""
        return _pick(src, self.ia, self.has_a, fill, dtype)

    def b(self, src, fill, dtype):
        """``src`` (per local B instance) per row; ``fill`` where B is absent."""
        return _pick(src, self.ib, self.has_b, fill, dtype)


def _pick(src, idx, present, fill, dtype):
    out = np.full(idx.shape[0], fill, dtype)
    if src.size:
        out[present] = src[idx[present]]
    return out


def _two_sided(v, n, fill, dtype):
    """``v`` (per two-sided row) over all ``n`` rows; ``fill`` on the one-sided ones."""
    out = np.full(n, fill, dtype)
    out[:v.shape[0]] = v
    return out


def _rows(inp: _Inputs, b: _Batch, p: _Pairs, rel: Relations, biou: np.ndarray) -> dict:
    """The batch's columns (see :func:`_compare_batch`): two-sided rows, then removed (A only),
    then added (B only), put in the final order (image, then a_id with absent last, then b_id)."""
    a0, a1, b0, b1, na = b.a0, b.a1, b.b0, b.b1, b.na
    ra, rb, rem, add = p.a[rel.pair], p.b[rel.pair], rel.removed, rel.added
    n2 = ra.size
    n = n2 + rem.size + add.size
    s = _RowSides.of(ra, rb, rem, add, na, b.nb)
    area_a, area_b = b.area[:na], b.area[na:]
    img_a, img_b = inp.A.inst_image_id[a0:a1], inp.B.inst_image_id[b0:b1]
    crowd_a, crowd_b = inp.crowd_a[a0:a1], inp.crowd_b[b0:b1]
    a_id = s.a(inp.A.ann_id[a0:a1], -1, np.int64)
    b_id = s.b(inp.B.ann_id[b0:b1], -1, np.int64)
    image_id = np.concatenate([img_a[ra], img_a[rem], img_b[add]]).astype(np.int64)
    relation = np.concatenate([rel.relation, np.full(rem.size, REL_CODE["removed"], np.int8),
                               np.full(add.size, REL_CODE["added"], np.int8)])
    with np.errstate(divide="ignore", invalid="ignore"):
        ar = np.where(area_a[ra] > 0, area_b[rb] / np.maximum(area_a[ra], 1), np.nan)
    shift, corner = _bbox_shifts(b.ext[:na][ra], b.ext[na:][rb])
    very_small = np.zeros(n, bool)
    very_small[n2:n2 + rem.size] = area_a[rem] <= VERY_SMALL_AREA
    very_small[n2 + rem.size:] = area_b[add] <= VERY_SMALL_AREA
    a_cat = s.a(inp.cat_a[a0:a1], -1, np.int64)
    b_cat = s.b(inp.cat_b[b0:b1], -1, np.int64)
    names = inp.names
    f64 = np.float64
    cols = dict(
        image_id=image_id, file_name=np.searchsorted(names.image_ids, image_id),
        a_id=a_id, b_id=b_id, a_category_id=a_cat, b_category_id=b_cat,
        a_category=np.where(s.has_a, np.searchsorted(names.cat_ids, a_cat), -1),
        b_category=np.where(s.has_b, np.searchsorted(names.cat_ids, b_cat), -1),
        relation=relation, group=_two_sided(rel.group, n, -1, np.int64),
        group_iou=_two_sided(rel.group_iou, n, np.nan, f64), part_share=_two_sided(rel.part_share, n, np.nan, f64),
        ambiguity=np.concatenate([rel.ambiguity, rel.removed_ambiguity, rel.added_ambiguity]),
        iou=_two_sided(p.iou[rel.pair], n, np.nan, f64), iou_plain=_two_sided(p.iou_plain[rel.pair], n, np.nan, f64),
        boundary_iou=_two_sided(biou, n, np.nan, f64), intersection=_two_sided(p.inter[rel.pair], n, -1, np.int64),
        a_area=s.a(area_a, -1, np.int64), b_area=s.b(area_b, -1, np.int64),
        a_vertices=s.a(inp.vert_a[a0:a1], -1, np.int64), b_vertices=s.b(inp.vert_b[b0:b1], -1, np.int64),
        a_iscrowd=s.a(crowd_a.view(np.int8), -1, np.int8), b_iscrowd=s.b(crowd_b.view(np.int8), -1, np.int8),
        crowd_changed=_two_sided(crowd_a[ra] != crowd_b[rb], n, False, bool), very_small=very_small,
        area_ratio=_two_sided(ar, n, np.nan, f64), bbox_shift=_two_sided(shift, n, np.nan, f64),
        bbox_corner_shift=_two_sided(corner, n, np.nan, f64))
    big = np.iinfo(np.int64).max
    order = np.lexsort((np.where(s.has_b, b_id, big), np.where(s.has_a, a_id, big), image_id))
    return {k: v[order] for k, v in cols.items()}


# ----------------------------------------------------------------------------- all batches

def compare(a: Dataset | str | os.PathLike, b: Dataset | str | os.PathLike, iou_threshold: float = 0.5,
            cover_threshold: float = 0.5, group_margin: float = 0.05, mode: str = "optimal", boundary: bool = True,
            threads: int | None = None, batch_images: int = BATCH_IMAGES, progress: bool | None = None,
            dilation_ratio: float = 0.02) -> Comparison:
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


def _run_batches(inp, jobs, scratch):
    """``(cols, n_pairs, job)`` of :func:`_compare_batch` for every image range in ``jobs``, in order.

    With several threads (``scratch.nt``) and at least :data:`BATCHES_PER_THREAD_MIN` batches
    per thread, whole batches run at once, one per thread, each on serial kernels with its own
    :class:`_Scratch` (the thread pool hands them out as threads free up): the batches'
    single-threaded steps (candidates, relations, rows) then overlap other batches' work instead
    of leaving threads idle. Otherwise batches run one after the other, each on all threads. The
    batches are the same either way, hence the output.
    """
    nt = scratch.nt
    if nt <= 1 or len(jobs) < BATCHES_PER_THREAD_MIN * nt or in_pool():
        for u0, u1 in jobs:
            yield (*_compare_batch(inp, u0, u1, scratch), (u0, u1))
        return
    local = threading.local()
    mine = []   # every worker's scratch (their stage times are added up at the end)

    def one(job):
        s = getattr(local, "scratch", None)
        if s is None:
            s = local.scratch = _Scratch(1, inp.pos_dtype, thread=True)
            mine.append(s)
        return _compare_batch(inp, job[0], job[1], s)

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
        for s in mine:
            scratch.stages.add(s.stages)


def _compare(a, b, rules, boundary, batch_images, progress, dilation_ratio):
    """Body of :func:`compare` in one process (thread count already in force)."""
    from .loader import load_pair   # imported on first use: importing this module stays cheap
    A, B = load_pair(a, b)
    inp = _prepare(A, B, rules, boundary, dilation_ratio)
    # threads (set_threads / ``threads=``) only where there is enough work
    scratch = _Scratch(get_threads() if A.n_instances + B.n_instances > PARALLEL_MIN_INSTANCES else 1, inp.pos_dtype)
    n_img = inp.al.ids.shape[0]
    bounds = list(range(0, n_img, _batch_size(n_img, batch_images, scratch.nt))) + [n_img]
    jobs = [(u0, u1) for u0, u1 in zip(bounds[:-1], bounds[1:]) if u1 > u0]
    bar = _progress_bar(progress, n_img, len(jobs))
    parts = []
    n_cand = 0
    for cols, npairs, (u0, u1) in _run_batches(inp, jobs, scratch):
        parts.append(cols)
        n_cand += npairs
        if bar is not None:
            bar.update(u1 - u0)
    if bar is not None:
        bar.close()
    st = scratch.stages
    st.start()
    table = table_from_batches(parts, inp.names)
    del parts
    st.lap("table")
    timings = st.as_dict()
    log.info("compare: %d A / %d B instances, %d candidate pairs, %d rows", A.n_instances, B.n_instances,
             n_cand, table.num_rows)
    log.debug("compare stages (seconds): %s", timings)
    return Comparison(table=table, params=inp.params(), images=image_report(A, B, inp.al),
                      meta=comparison_meta(A, B, n_cand), timings=timings)


def _progress_bar(progress, n_img, n_batches):
    """A tqdm bar over ``n_img`` images (``progress`` None: when stderr is a TTY), or None (no
    batch, no progress wanted, or tqdm missing)."""
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress or n_batches == 0:
        return None
    try:
        from tqdm import tqdm   # optional, and only for a bar
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=n_img, unit="img", desc="compare", file=sys.stderr)
