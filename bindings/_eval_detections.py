"""Results prepared for COCO evaluation (:mod:`cocodiff.evaluation`): checked as ``COCO.loadRes``
reads them, the top ``maxDets[-1]`` per (image, category) kept in score order, their areas and
boxes as ``loadRes`` makes them, their masks rasterised once for every ground truth."""
from __future__ import annotations

import gzip
import json
import os

import numpy as np

from ._threads import run_jobs
from .dataset import KIND_POLYGON, Dataset
from .engine.evaluate import facts_rows
from .engine.facts import facts_outputs
from .engine.rle import rle_area_batch, rle_bbox_batch
from .errors import InputError
from .rasterize import rasterize

IOU_TYPES = ("segm", "bbox")


def _n_jobs(n, n_threads, min_size=256) -> int:
    """How many jobs to split ``n`` items into for ``n_threads`` threads: one when few, else four
    per thread (uneven jobs even out)."""
    return 1 if n_threads <= 1 or n < min_size else 4 * n_threads


def _first_row(ds, mask):
    """Row of the lowest annotation id among ``mask`` (the first in the file, for results)."""
    rows = np.flatnonzero(mask)
    return int(rows[np.argmin(ds.ann_id[rows])])


class Detections:
    """A results set prepared for evaluation: checked, its per-(image, category) top
    ``maxDets[-1]`` kept in score order, their areas and boxes as ``loadRes`` makes them, their
    masks rasterised once (on first use) for every ground truth it is evaluated against.

    Attributes
    ----------
    ds : Dataset          the results, as :func:`cocodiff.load` gives them (``like=`` a ground truth)
    rows : int64          kept instance rows of ``ds``, by (image, category, score rank)
    rank : int64          each kept row's rank by score in its (image, category)
    score, area : float64 per kept row
    """

    def __init__(self, ds: Dataset, iou_type: str = "segm", max_det: int = 100):
        if iou_type not in IOU_TYPES:
            raise ValueError(f"iou_type must be one of {IOU_TYPES}, got {iou_type!r}")
        self.ds = ds
        self.iou_type = iou_type
        n = ds.n_instances
        nos = np.isnan(ds.score)
        if nos.any():
            j = _first_row(ds, nos)
            raise InputError("detection has no 'score'", ds.path, int(ds.ann_id[j]), "score", kind="result")
        bbox_branch = False
        if n:
            first = int(np.argmin(ds.ann_id))
            bbox_branch = not np.isnan(ds.bbox[first]).any()
            if bbox_branch:
                nob = np.isnan(ds.bbox).any(axis=1)
                if nob.any():
                    j = _first_row(ds, nob)
                    raise InputError("result has no 'bbox' while the first result has one (COCO.loadRes then "
                                     "takes every result's area from its box)", ds.path, int(ds.ann_id[j]),
                                     "bbox", kind="result")
            if iou_type == "segm" and self._box_polygons().any():
                _check_segmentations(ds)
        # ---- per (image, category): stable sort by -score, first max_det
        img = ds.inst_image_id
        cat = ds.category_id
        new = np.ones(n, bool)
        if n > 1:
            new[1:] = (img[1:] != img[:-1]) | (cat[1:] != cat[:-1])
        gid = np.cumsum(new) - 1
        o1 = np.argsort(-ds.score, kind="stable")
        order = o1[np.argsort(gid[o1], kind="stable")]
        starts = np.flatnonzero(new)
        rank = np.arange(n, dtype=np.int64) - starts[gid[order]]
        keep = rank < max_det
        self.rows = order[keep].astype(np.int64)
        self.rank = rank[keep]
        self.score = ds.score[self.rows]
        self.image_id = img[self.rows]
        self.category_id = cat[self.rows]
        self.n_results = n
        self._bbox_branch = bbox_branch
        self._mask_of = None
        self._store = None
        self._done = None
        self._area = None
        self._box = None

    def _box_polygons(self):
        """Instances whose geometry is exactly the box polygon ``loadRes`` gives a result with only
        a ``bbox`` (one ring ``[x, y, x, y+h, x+w, y+h, x+w, y]``): results without a segmentation."""
        ds = self.ds
        out = np.zeros(ds.n_instances, bool)
        cand = np.flatnonzero((ds.kind == KIND_POLYGON) & (ds.n_rings() == 1) & (ds.n_points() == 4)
                              & ~np.isnan(ds.bbox).any(axis=1))
        if cand.size == 0:
            return out
        p0 = ds.ring_offsets[ds.inst_ring_offsets[cand]]
        pts = ds.xy[p0[:, None] + np.arange(4)[None, :]]          # (c, 4, 2)
        x, y, w, h = ds.bbox[cand].T
        want = np.stack([np.stack([x, y], 1), np.stack([x, y + h], 1), np.stack([x + w, y + h], 1),
                         np.stack([x + w, y], 1)], axis=1)
        out[cand] = (pts == want).all(axis=(1, 2))
        return out

    @property
    def n(self) -> int:
        return int(self.rows.shape[0])

    def prepare_masks(self, need, n_threads=1):
        """Rasterise the kept detections flagged in ``need`` (bool, one per kept detection) that
        are not rasterised yet, and the facts the IoU kernel reads; done once, shared by every
        ground truth (:func:`evaluate_many` passes the union of what they need). RLE results are
        not copied: the loader's counts are the masks."""
        ds = self.ds
        if self._mask_of is None and not (ds.kind[self.rows] == KIND_POLYGON).any():
            self._store = _MaskStore(ds.counts, ds.counts_offsets, ds.inst_h().astype(np.int64),
                                     ds.inst_w().astype(np.int64), sparse=True)
            self._mask_of = self.rows
        if self._store is not None and self._store.sparse:
            todo = self.rows[need & ~self._done] if self._done is not None else self.rows[need]
            self._store.make_facts(n_threads, todo)
            self._done = need if self._done is None else (self._done | need)
            return
        have = self._mask_of is not None
        if have:
            need = need & (self._mask_of < 0)
        todo = np.flatnonzero(need)
        if todo.size == 0 and have:
            return
        store = _MaskStore.build(self.ds, self.rows[todo], n_threads)
        if not have:
            self._mask_of = np.full(self.n, -1, np.int64)
            self._store = store
            self._mask_of[todo] = np.arange(todo.size)
        else:   # a later, larger need: one store of both
            base = self._store.n
            self._store = _MaskStore.join(self._store, store, n_threads)
            self._mask_of[todo] = base + np.arange(todo.size)

    def mask_index(self, kept):
        """Store index of kept detections (their masks must be prepared)."""
        return self._mask_of[kept]

    def _masks_of(self, kept):
        """(counts, offsets, heights) of some kept detections, rasterised now (not kept)."""
        rows = self.rows[kept]
        counts, offsets = rasterize(self.ds, rows=rows, threads=1)
        return counts, offsets, self.ds.inst_h()[rows].astype(np.int64)

    @property
    def area(self):
        """Each kept detection's ``area`` as ``loadRes`` sets it."""
        if self._area is None:
            ds = self.ds
            if self._bbox_branch:
                b = ds.bbox[self.rows]
                self._area = b[:, 2] * b[:, 3]
            else:
                area = ds.area[self.rows].copy()
                poly = np.flatnonzero(ds.kind[self.rows] == KIND_POLYGON)
                if poly.size:     # (pycocotools' loadRes cannot read polygon results without a box)
                    counts, offsets, _ = self._masks_of(poly)
                    area[poly] = rle_area_batch(counts, offsets)
                self._area = area
        return self._area

    @property
    def box(self):
        """Each kept detection's box: its ``bbox``, else its mask's box (``maskUtils.toBbox``)."""
        if self._box is None:
            b = self.ds.bbox[self.rows].copy()
            nob = np.flatnonzero(np.isnan(b).any(axis=1))
            if nob.size:
                counts, offsets, h = self._masks_of(nob)
                b[nob] = rle_bbox_batch(counts, offsets, h)
            self._box = np.ascontiguousarray(b)
        return self._box


class _MaskStore:
    """RLE masks (concatenated counts, offsets) with the per-mask facts the IoU kernel reads
    (:func:`cocodiff.engine.facts.facts_range`), made on threads by serial kernels (cached
    compiled code: no per-process compile of parallel kernels)."""

    def __init__(self, counts, offsets, h, w, sparse=False):
        self.counts = counts
        self.offsets = offsets
        self.h = h
        self.w = w
        self.sparse = sparse      # facts only for the masks asked for (make_facts(rows=...))
        self.facts = None

    @property
    def n(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @staticmethod
    def build(ds, rows, n_threads):
        n_jobs = _n_jobs(rows.size, n_threads)
        parts = np.array_split(rows, n_jobs)
        res = run_jobs(n_threads, lambda r: rasterize(ds, rows=r, threads=1), parts)
        st = _MaskStore(*_concat_stores([c for c, _ in res], [o for _, o in res]),
                        ds.inst_h()[rows].astype(np.int64), ds.inst_w()[rows].astype(np.int64))
        st.make_facts(n_threads)
        return st

    @staticmethod
    def join(a, b, n_threads):
        st = _MaskStore(*_concat_stores([a.counts, b.counts], [a.offsets, b.offsets]), np.concatenate([a.h, b.h]),
                        np.concatenate([a.w, b.w]))
        st.make_facts(n_threads)
        return st

    def make_facts(self, n_threads, rows=None):
        """The IoU kernel's per-mask facts (:func:`cocodiff.engine.facts.facts_range`) of every
        mask, or (sparse store) of ``rows`` only, added to those made before."""
        n = self.n
        if self.facts is None:
            area, total, ext, first, last, z, ylo, yhi = facts_outputs(n)
            # run start positions: int32 when every mask has fewer than 2**31 pixels (half the memory)
            big = n > 0 and int((self.h * self.w).max()) >= 2 ** 31
            pos = np.empty(self.counts.shape[0], np.int64 if big else np.int32)
            self.facts = (area, total, first, last, z, ylo, yhi, pos)
            self._ext = ext
        area, total, first, last, z, ylo, yhi, pos = self.facts
        if rows is None:
            rows = np.arange(n, dtype=np.int64)
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        cost = np.cumsum(self.offsets[rows + 1] - self.offsets[rows] + 8)
        n_jobs = _n_jobs(rows.size, n_threads)
        cuts = np.searchsorted(cost, np.linspace(0, cost[-1], n_jobs + 1)).astype(np.int64)
        cuts[0], cuts[-1] = 0, rows.size
        jobs = [(int(cuts[i]), int(cuts[i + 1])) for i in range(n_jobs) if cuts[i + 1] > cuts[i]]
        run_jobs(n_threads, lambda j: facts_rows(self.counts, self.offsets, self.h, rows, j[0], j[1], area, total,
                                                 self._ext, first, last, z, ylo, yhi, pos), jobs)


def _concat_stores(counts_list, offsets_list):
    counts = np.concatenate(counts_list) if len(counts_list) != 1 else counts_list[0]
    offs = [np.zeros(1, np.int64)]
    base = 0
    for o in offsets_list:
        offs.append(o[1:] + base)
        base += int(o[-1])
    return counts, np.concatenate(offs).astype(np.int64)


def _check_segmentations(ds):
    """InputError naming the first result without a ``segmentation`` (the loader gave it its box
    polygon, as ``loadRes`` does). Called only when some result's geometry is exactly that polygon:
    the results file is then read again -- its ``"segmentation"`` keys counted, and only when there
    are fewer than results, parsed to find the first one without. Without a readable file (a
    Dataset made elsewhere) nothing is checked."""
    path = ds.path
    if len(ds.sources) != 1 or not isinstance(path, str) or not os.path.isfile(path):
        return
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data.count(b'"segmentation"') >= ds.n_instances:
        return
    items = json.loads(data)
    for i, d in enumerate(items):
        if isinstance(d, dict) and "segmentation" not in d:
            raise InputError("result has no 'segmentation' (needed for --iou-type segm; bbox evaluates boxes)",
                             path, i + 1, "segmentation", kind="result")
