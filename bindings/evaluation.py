"""COCO detection evaluation (AP / AR), identical to pycocotools' ``COCOeval``, against one ground
truth or several at once.

::

    import cocodiff
    ev = cocodiff.evaluate("detections.json", "instances_val2017.json", iou_type="segm")
    ev.stats            # COCOeval.stats: the twelve summary numbers
    ev.precision        # COCOeval.eval["precision"], (T, R, K, A, M)

    a, b = evaluate_many("detections.json", ["instances_val2017.json", "sama_coco_val.zip"])
    ex = explain("detections.json", "instances_val2017.json", "sama_coco_val.zip")
    ex.flips            # detections whose status changed, by the kind of change of the instance hit
    ex.what_if          # the twelve numbers on A with one kind of change applied

Rules (those of pycocotools 2.0.x ``COCOeval`` with its default ``Params``, read from its source
and written anew here):

* images and categories: all of the ground truth's (sorted ids); a result whose ``image_id`` or
  ``category_id`` the ground truth does not define is an :class:`~cocodiff.errors.InputError`;
* results as ``COCO.loadRes`` reads them: ids 1..n in file order; when the *first* result has a
  ``bbox``, every result's ``area`` is ``w * h`` of its box (a result with only a box gets the box
  polygon as its segmentation), else the pixel count of its mask and its box the mask's box;
* per (image, category): the detections sorted by score with a stable sort (ties keep file
  order), the first 100 kept; IoU by ``maskUtils.iou`` (masks, ``segm``) or its box IoU
  (``bbox``), a crowd's union being the detection's area;
* crowds are ignore regions; a ground truth outside an area range (its file ``area`` field:
  all, small < 32², medium, large > 96²) is ignored in that range, and so is an unmatched
  detection whose area is outside it;
* greedy matching per IoU threshold (``np.linspace(.5, 0.95, 10)``), then per category, area
  range and ``maxDets`` (1, 10, 100) the precision at the 101 recall points and the recall;
  ``-1`` where a category has no ground truth that counts; ``stats`` are the means over the
  entries above -1.

The masks of the detections are rasterised once and reused for every ground truth
(:func:`evaluate_many`); the ground truths' masks are rasterised only where a detection of the
same image and category exists. The precision / recall / scores arrays equal pycocotools' bit
for bit (tests/test_evaluate.py), with one difference in principle: the ground truths of one
image and category are visited in annotation-id order, where pycocotools visits them in file
order -- the same thing for files written in id order within an image and category (every COCO
file in data/ is), and a difference only when two ground truths tie exactly on their IoU with
a detection.

Why the numbers moved (:func:`explain`, ``cocodiff eval ... --explain``): with two ground truths
every evaluated detection gets its status at IoU 0.50 (area all, maxDets 100) under each -- TP,
FP, or ignored (matched to a crowd) -- and its TP share over the ten thresholds; a detection
whose status changed is put down to the kind of change (:func:`cocodiff.compare`'s relations:
``crowd_decomposed``, ``split``, ``merged``, ``class_changed``, ``removed``, ``added``,
``redrawn``) of the instance it hit under A, else under B. The counts (per kind and status pair,
and per class) add up to the detections evaluated. ``what_if``: the twelve numbers on A with only
one kind of change applied (A's instances in relation rows of that kind replaced by B's, added
after A's in each image and category); all kinds applied give B.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field

import numpy as np

from .dataset import KIND_POLYGON, Dataset
from .errors import InputError

__all__ = [
    "CHANGE_KINDS",
    "IOU_TYPES",
    "STAT_NAMES",
    "Detections",
    "Evaluation",
    "Explanation",
    "evaluate",
    "evaluate_many",
    "explain",
    "format_explanation",
    "format_per_class",
    "format_stats",
]

log = logging.getLogger(__name__)

IOU_TYPES = ("segm", "bbox")

#: the twelve summary numbers, in ``COCOeval.stats`` order
STAT_NAMES = [
    "AP @[IoU=0.50:0.95 | area=all | maxDets=100]",
    "AP @[IoU=0.50 | area=all | maxDets=100]",
    "AP @[IoU=0.75 | area=all | maxDets=100]",
    "AP @[IoU=0.50:0.95 | area=small | maxDets=100]",
    "AP @[IoU=0.50:0.95 | area=medium | maxDets=100]",
    "AP @[IoU=0.50:0.95 | area=large | maxDets=100]",
    "AR @[IoU=0.50:0.95 | area=all | maxDets=1]",
    "AR @[IoU=0.50:0.95 | area=all | maxDets=10]",
    "AR @[IoU=0.50:0.95 | area=all | maxDets=100]",
    "AR @[IoU=0.50:0.95 | area=small | maxDets=100]",
    "AR @[IoU=0.50:0.95 | area=medium | maxDets=100]",
    "AR @[IoU=0.50:0.95 | area=large | maxDets=100]",
]
#: short names of the twelve numbers (JSON keys, table rows)
STAT_KEYS = ["AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
             "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large"]


def default_params() -> dict:
    """COCOeval's default detection parameters, built the way pycocotools builds them (``iouThrs``
    by ``np.linspace`` -- ``np.arange`` would give slightly different thresholds)."""
    return dict(
        iouThrs=np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True),
        recThrs=np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True),
        maxDets=[1, 10, 100],
        areaRng=[[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]],
        areaRngLbl=["all", "small", "medium", "large"],
    )


def _first_row(ds, mask):
    """Row of the lowest annotation id among ``mask`` (the first in the file, for results)."""
    rows = np.flatnonzero(mask)
    return int(rows[np.argmin(ds.ann_id[rows])])


# --------------------------------------------------------------------------------------------
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
        from .rasterize import rasterize
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
                    from .engine.rle import rle_area_batch
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
                from .engine.rle import rle_bbox_batch
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
        from ._threads import run_jobs
        from .rasterize import rasterize
        n_jobs = 1 if n_threads <= 1 or rows.size < 256 else 4 * n_threads
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
        from ._threads import run_jobs
        from .engine.evaluate import facts_rows
        from .engine.facts import facts_outputs
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
        n_jobs = 1 if n_threads <= 1 or rows.size < 256 else 4 * n_threads
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
    import gzip
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


# --------------------------------------------------------------------------------------------
@dataclass
class Evaluation:
    """One evaluation of a results set against one ground truth.

    Attributes
    ----------
    stats : ndarray (12,)            ``COCOeval.stats`` (see :data:`STAT_NAMES`)
    precision : ndarray (T, R, K, A, M), recall : ndarray (T, K, A, M), scores : like precision
        ``COCOeval.eval``'s arrays
    cat_ids, cat_names : the K categories (the ground truth's, sorted by id)
    params : dict                    iouThrs, recThrs, maxDets, areaRng, areaRngLbl
    n_gt : ndarray (K, A)            ground truths that count, per category and area range
    det_rows, det_match, det_code :  per kept detection: its row in the results Dataset, the ground
        truth row it matched at each IoU threshold (area "all"; -1: none), and its outcome code
        (:data:`cocodiff.engine.evaluate.TP` / ``FP`` / ``IGNORED``) per area range and threshold
    """

    iou_type: str
    gt_path: str
    results_path: str
    stats: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    cat_ids: np.ndarray
    cat_names: np.ndarray
    params: dict
    n_gt: np.ndarray
    n_results: int = 0
    n_evaluated: int = 0
    det_rows: np.ndarray | None = None
    det_match: np.ndarray | None = None
    det_code: np.ndarray | None = None
    timings: dict = field(default_factory=dict)

    def per_class(self) -> list:
        """One dict per category: ``id``, ``name``, ``n_gt`` (not ignored, area all), ``AP``,
        ``AP50``, ``AP75`` (maxDets 100, area all; ``None`` where the category has no ground
        truth that counts)."""
        p = self.precision
        t50 = np.where(0.5 == self.params["iouThrs"])[0]
        t75 = np.where(0.75 == self.params["iouThrs"])[0]
        out = []
        for k, (cid, name) in enumerate(zip(self.cat_ids, self.cat_names)):
            row = {"id": int(cid), "name": str(name), "n_gt": int(self.n_gt[k, 0])}
            for key, s in (("AP", p[:, :, k, 0, -1]), ("AP50", p[t50, :, k, 0, -1]), ("AP75", p[t75, :, k, 0, -1])):
                v = s[s > -1]
                row[key] = float(np.mean(v)) if v.size else None
            out.append(row)
        return out

    def summary_lines(self) -> list:
        """The twelve lines ``COCOeval.summarize`` prints."""
        out = []
        for i, v in enumerate(self.stats):
            kind = "Average Precision  (AP)" if i < 6 else "Average Recall     (AR)"
            iou = "0.50:0.95" if i not in (1, 2) else ("0.50" if i == 1 else "0.75")
            area = ["all", "all", "all", "small", "medium", "large", "all", "all", "all", "small", "medium",
                    "large"][i]
            md = [100, 100, 100, 100, 100, 100, 1, 10, 100, 100, 100, 100][i]
            out.append(f" {kind} @[ IoU={iou:<9} | area={area:>6s} | maxDets={md:>3d} ] = {v:0.3f}")
        return out

    def to_dict(self, per_class: bool = False) -> dict:
        d = {"path": self.gt_path, "stats": [float(x) for x in self.stats],
             "n_results": int(self.n_results), "n_evaluated": int(self.n_evaluated)}
        if per_class:
            d["per_class"] = self.per_class()
        return d


def summarize(precision, recall, params) -> np.ndarray:
    """The twelve numbers of ``COCOeval.summarize`` from the accumulated arrays: the mean of the
    selected entries above -1, or -1 when there is none."""
    iou_thrs = params["iouThrs"]
    lbl = params["areaRngLbl"]
    md = params["maxDets"]

    def one(ap, iou=None, area="all", max_dets=100):
        ai = [i for i, x in enumerate(lbl) if x == area]
        mi = [i for i, x in enumerate(md) if x == max_dets]
        s = precision if ap else recall
        if iou is not None:
            s = s[np.where(iou == iou_thrs)[0]]
        s = s[:, :, :, ai, mi] if ap else s[:, :, ai, mi]
        v = s[s > -1]
        return -1.0 if len(v) == 0 else np.mean(v)

    m = md[2]
    return np.array([one(1), one(1, .5, max_dets=m), one(1, .75, max_dets=m), one(1, area="small", max_dets=m),
                     one(1, area="medium", max_dets=m), one(1, area="large", max_dets=m),
                     one(0, max_dets=md[0]), one(0, max_dets=md[1]), one(0, max_dets=m),
                     one(0, area="small", max_dets=m), one(0, area="medium", max_dets=m),
                     one(0, area="large", max_dets=m)], dtype=np.float64)


# --------------------------------------------------------------------------------------------
def _map_ids(values, table, det, what):
    """Rows of ``values`` in the sorted id array ``table``; InputError naming the first result whose
    id is not there."""
    pos = np.searchsorted(table, values)
    posc = np.minimum(pos, max(len(table) - 1, 0))
    bad = (pos >= len(table)) | (table[posc] != values) if len(table) else np.ones(len(values), bool)
    if bad.any():
        j = _first_row(det.ds, bad)
        raise InputError(f"{what} id {int(values[j])} is not in the ground truth", det.ds.path,
                         int(det.ds.ann_id[j]), f"{what}_id", kind="result")
    return pos.astype(np.int64)


class _Plan:
    """One ground truth's side of an evaluation: ids mapped, checks done, (image, category) groups
    and the (detection, ground truth) pairs whose IoU is needed."""

    def __init__(self, det: Detections, gt: Dataset):
        t0 = time.perf_counter()
        self.gt = gt
        ds = det.ds
        K = len(gt.cat_id)
        self.K = K
        # every result's image and category must be the ground truth's (loadRes / getAnnIds)
        img_all = _map_ids(ds.inst_image_id, gt.image_id, det, "image")
        cat_all = _map_ids(ds.category_id, gt.cat_id, det, "category")
        d_img = img_all[det.rows]
        d_cat = cat_all[det.rows]
        if det.iou_type == "segm" and det.n:
            r = ds.img_row[det.rows]
            bad = (ds.height[r] != gt.height[d_img]) | (ds.width[r] != gt.width[d_img])
            if bad.any():
                j = int(det.rows[np.flatnonzero(bad)[0]])
                raise InputError(f"image {int(ds.inst_image_id[j])} has another size in the ground truth "
                                 f"{gt.path}", ds.path, int(ds.ann_id[j]), "image_id", kind="result")
        noa = np.isnan(gt.area)
        if noa.any():
            j = _first_row(gt, noa)
            raise InputError("ground truth has no 'area' (COCOeval's area ranges read it)", gt.path,
                             int(gt.ann_id[j]), "area")
        if det.iou_type == "bbox":
            nob = np.isnan(gt.bbox).any(axis=1)
            if nob.any():
                j = _first_row(gt, nob)
                raise InputError("ground truth has no 'bbox' (needed for --iou-type bbox)", gt.path,
                                 int(gt.ann_id[j]), "bbox")
        g_cat = np.searchsorted(gt.cat_id, gt.category_id).astype(np.int64)
        gt_key = gt.img_row * K + g_cat
        dt_key = d_img * K + d_cat
        keys = np.union1d(gt_key, dt_key)
        self.keys = keys
        self.d_cat = d_cat
        self.g_gt = np.append(np.searchsorted(gt_key, keys), len(gt_key)).astype(np.int64)
        self.g_dt = np.append(np.searchsorted(dt_key, keys), len(dt_key)).astype(np.int64)
        G = np.diff(self.g_gt)
        D = np.diff(self.g_dt)
        npairs = D * G
        g_iou = np.zeros(len(keys), np.int64)
        if len(keys) > 1:
            np.cumsum(npairs[:-1], out=g_iou[1:])
        self.g_iou = g_iou
        P = int(npairs.sum())
        q = np.repeat(np.arange(len(keys), dtype=np.int64), npairs)
        local = np.arange(P, dtype=np.int64) - g_iou[q]
        Gq = np.maximum(G[q], 1)
        self.pd = self.g_dt[q] + local // Gq          # kept detection of each pair
        self.pg = self.g_gt[q] + local % Gq           # ground-truth row of each pair
        self.crowd = gt.iscrowd[self.pg].astype(np.uint8)
        self.t_plan = time.perf_counter() - t0


def _chunks(n, n_threads, min_size=4096):
    """``[lo, hi)`` ranges splitting ``n`` items for ``n_threads`` threads (one when small)."""
    k = 1 if n_threads <= 1 or n < min_size else 4 * n_threads
    cuts = np.linspace(0, n, k + 1).astype(np.int64)
    return [(int(cuts[i]), int(cuts[i + 1])) for i in range(k) if cuts[i + 1] > cuts[i]] or [(0, 0)]


def _evaluate_one(det: Detections, plan: _Plan, n_threads: int) -> Evaluation:
    from ._threads import run_jobs
    from .engine.evaluate import accumulate, match_groups, pair_box_iou

    tm = {"plan": plan.t_plan}
    params = default_params()
    gt = plan.gt
    K = plan.K
    t0 = time.perf_counter()
    if det.iou_type == "segm":
        ious = _mask_ious(det, plan, n_threads)
    else:
        ious = pair_box_iou(det.box, np.ascontiguousarray(gt.bbox), plan.pd, plan.pg, plan.crowd)
    tm["iou"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    A = len(params["areaRng"])
    T = len(params["iouThrs"])
    n_groups = len(plan.keys)
    code = np.zeros((det.n, A, T), np.uint8)
    npig = np.zeros((n_groups, A), np.int64)
    dt_match = np.full((det.n, T), -1, np.int64)
    args = (plan.g_dt, plan.g_gt, plan.g_iou, ious, gt.iscrowd.astype(np.uint8), np.ascontiguousarray(gt.area),
            gt.ann_id.astype(np.int64), np.ascontiguousarray(det.area, dtype=np.float64),
            np.asarray(params["areaRng"], np.float64), params["iouThrs"], code, npig, dt_match)
    run_jobs(n_threads, lambda j: match_groups(*args, j[0], j[1]), _chunks(n_groups, n_threads))
    tm["match"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_gt = np.zeros((K, A), np.int64)
    np.add.at(n_gt, plan.keys % K, npig)
    cat_dt = np.argsort(plan.d_cat, kind="stable").astype(np.int64)
    cat_off = np.searchsorted(plan.d_cat[cat_dt], np.arange(K + 1)).astype(np.int64)
    R = len(params["recThrs"])
    M = len(params["maxDets"])
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    scores = -np.ones((T, R, K, A, M))
    acc = (cat_dt, cat_off, det.rank, np.ascontiguousarray(det.score), code, n_gt,
           np.asarray(params["maxDets"], np.int64), params["recThrs"], precision, recall, scores)
    run_jobs(n_threads, lambda j: accumulate(*acc, j[0], j[1]), _chunks(K, n_threads, min_size=2))
    tm["accumulate"] = time.perf_counter() - t0
    stats = summarize(precision, recall, params)
    return Evaluation(iou_type=det.iou_type, gt_path=str(gt.path), results_path=str(det.ds.path), stats=stats,
                      precision=precision, recall=recall, scores=scores, cat_ids=gt.cat_id.copy(),
                      cat_names=gt.cat_name.copy(), params=params, n_gt=n_gt, n_results=det.n_results,
                      n_evaluated=det.n, det_rows=det.rows, det_match=dt_match, det_code=code, timings=tm)


def _mask_ious(det, plan, n_threads):
    """IoU of every (kept detection, ground truth) pair: the detections' masks (rasterised once
    for every ground truth) against the needed ground truths' masks, ``rleIou`` per pair."""
    from ._threads import run_jobs
    from .engine.evaluate import pair_mask_iou

    gt = plan.gt
    need = np.unique(plan.pg)
    gst = _MaskStore.build(gt, need, n_threads)
    idx = np.full(gt.n_instances, -1, np.int64)
    idx[need] = np.arange(need.size)
    dst = det._store
    pa = det.mask_index(plan.pd)
    pb = idx[plan.pg]
    out = np.zeros(pa.shape[0], np.float64)
    if pa.shape[0] == 0:
        return out
    args = (dst.counts, dst.offsets, *dst.facts, gst.counts, gst.offsets, *gst.facts, pa, pb, plan.crowd, out)
    run_jobs(n_threads, lambda j: pair_mask_iou(*args, j[0], j[1]), _chunks(pa.shape[0], n_threads))
    return out


def _load_gt(gt):
    if isinstance(gt, Dataset):
        return gt
    from .loader import _is_results_file, load
    if not isinstance(gt, (list, tuple)) and _is_results_file(gt):
        raise InputError("this is a results file (a JSON list of detections), not a ground truth", os.fspath(gt))
    return load(gt)


def _load_results(results, like):
    if isinstance(results, Dataset):
        return results
    from .loader import _is_results_file, load
    if isinstance(results, (list, tuple)) or not _is_results_file(results):
        label = results if isinstance(results, (list, tuple)) else os.fspath(results)
        if isinstance(label, str) and not os.path.exists(label):
            raise InputError("no such file", label)
        raise InputError("not a results file (a top-level JSON list of detections, as COCO.loadRes reads)",
                         str(label))
    return load(results, like=like)


def evaluate_many(results, gts, iou_type: str = "segm", *, threads=None) -> list:
    """Evaluate one results set against several ground truths (e.g. COCO-2017 and Sama-COCO),
    rasterising the detections once.

    Parameters
    ----------
    results : path or Dataset
        A results file (a JSON list of ``{image_id, category_id, segmentation and/or bbox,
        score}``), or a Dataset loaded from one (``cocodiff.load(path, like=gt)``).
    gts : list of path or Dataset
        Ground truths (anything :func:`cocodiff.load` reads).
    iou_type : "segm" or "bbox"
    threads : int, optional
        Numba threads (None: the current setting).

    Returns
    -------
    list of :class:`Evaluation`, one per ground truth.

    Raises
    ------
    InputError
        A result whose image or category the ground truth lacks, a result without ``score``, a
        ``segm`` result without ``segmentation``, unreadable input.
    """
    if iou_type not in IOU_TYPES:
        raise ValueError(f"iou_type must be one of {IOU_TYPES}, got {iou_type!r}")
    if not gts:
        raise ValueError("evaluate_many: no ground truth")
    t0 = time.perf_counter()
    gsets = [_load_gt(g) for g in gts]
    ds = _load_results(results, gsets[0])
    t_load = time.perf_counter() - t0
    out = _run(ds, gsets, iou_type, threads)
    for ev in out:
        ev.timings = {"load": t_load, **ev.timings}
    return out


def _run(ds, gsets, iou_type, threads, det=None):
    """Evaluate the loaded results ``ds`` against every ground truth of ``gsets``; the detections'
    masks rasterised once for all (those that meet a ground truth of any of them)."""
    from .engine import _jit

    with _jit.using_threads(threads) as n_threads:
        t0 = time.perf_counter()
        det = det if det is not None else Detections(ds, iou_type)
        plans = [_Plan(det, g) for g in gsets]
        if iou_type == "segm":
            need = np.zeros(det.n, bool)
            for p in plans:
                need[p.pd] = True
            det.prepare_masks(need, n_threads)
        t_prep = time.perf_counter() - t0
        out = []
        for p in plans:
            ev = _evaluate_one(det, p, n_threads)
            ev.timings = {"prepare": t_prep, **ev.timings}
            out.append(ev)
    return out


def evaluate(results, gt, iou_type: str = "segm", *, threads=None) -> Evaluation:
    """COCO AP / AR of a results set against a ground truth, identical to pycocotools' ``COCOeval``
    (``evaluate()``, ``accumulate()``, ``summarize()``).

    Parameters
    ----------
    results : path or Dataset
        Results file (a JSON list of detections) or a Dataset loaded from one with ``like=gt``.
    gt : path or Dataset
        The ground truth.
    iou_type : "segm" or "bbox"
    threads : int, optional

    Returns
    -------
    Evaluation
        ``.stats`` (the twelve numbers), ``.precision``, ``.recall``, ``.per_class()``.

    Examples
    --------
    >>> from cocodiff.evaluation import evaluate
    >>> ev = evaluate("data/coco2014_val100/instances_val2014_fakesegm100_results.json",
    ...               "data/coco2014_val100/instances_val2014_100.json", "segm")
    >>> round(float(ev.stats[0]), 3)
    0.32
    """
    return evaluate_many(results, [gt], iou_type, threads=threads)[0]


# --------------------------------------------------------------------------------------------
# why the numbers moved: detections whose status differs between two ground truths
#: kinds of change between A and B, from the relation rows of :func:`cocodiff.compare`
#: (``crowd_decomposed``: a split whose A whole is a crowd; ``redrawn``: a matched pair)
CHANGE_KINDS = ("crowd_decomposed", "split", "merged", "class_changed", "removed", "added", "redrawn")
#: a detection's status at one IoU threshold (area all, maxDets 100), by outcome code
STATUS_NAMES = ("ignored", "TP", "FP")     # IGNORED = 0 (matched a crowd), TP = 1, FP = 2


@dataclass
class Explanation:
    """Why the numbers moved from ground truth A to ground truth B, per detection.

    Attributes
    ----------
    a, b : Evaluation                the two evaluations
    result_id : int64 (n,)            each evaluated detection's result id (1..N in file order)
    category_id : int64 (n,)
    status_a, status_b : uint8 (n,)   status at IoU 0.50 (area all): 0 ignored (matched a crowd),
                                      1 TP, 2 FP (:data:`STATUS_NAMES`)
    tp_share_a, tp_share_b : (n,)     share of the ten IoU thresholds 0.50:0.95 at which it is a TP
    hit_a, hit_b : int64 (n,)         annotation id of the ground truth it matched at IoU 0.50, -1: none
    cause : object (n,)               for a detection whose status at 0.50 differs, the kind of change
                                      (:data:`CHANGE_KINDS`) of the instance it hit -- its A match if it
                                      had one, else its B match; None where the status is the same
    flips : list of dict              ``kind``, ``a``, ``b`` (statuses), ``detections``: every
                                      detection counted once (the rows with ``kind`` None are those
                                      whose status did not change), so the counts add up to ``n``
    per_class : list of dict          ``id``, ``name``, ``detections``, ``flips``: the same, per class
    what_if : list of dict            ``kind``, ``a_instances`` / ``b_instances`` (how many A
                                      instances are replaced by how many B instances), ``stats``:
                                      the twelve numbers on A with only that kind of change applied
                                      (the other instances as in A)
    """

    a: Evaluation
    b: Evaluation
    result_id: np.ndarray
    category_id: np.ndarray
    status_a: np.ndarray
    status_b: np.ndarray
    tp_share_a: np.ndarray
    tp_share_b: np.ndarray
    hit_a: np.ndarray
    hit_b: np.ndarray
    cause: np.ndarray
    flips: list
    per_class: list
    what_if: list

    def to_dict(self) -> dict:
        return {"flips": self.flips, "per_class": self.per_class,
                "what_if": [{**w, "stats": [float(x) for x in w["stats"]]} for w in self.what_if],
                "n_detections": int(self.result_id.shape[0])}


def _kinds_of(table, a_ids, b_ids):
    """Kind of change (index into :data:`CHANGE_KINDS`, -1 if none) of every A instance id of
    ``a_ids`` and B instance id of ``b_ids``, from a comparison table."""
    code = {"split": 1, "merged": 2, "class_changed": 3, "removed": 4, "added": 5, "matched": 6}
    k = np.array([code[r] for r in table.column("relation").to_pylist()], np.int64)
    crowd = np.asarray(table.column("a_iscrowd").fill_null(False).to_numpy(zero_copy_only=False), bool)
    k[(k == 1) & crowd] = 0

    def lookup(name, want):
        col = table.column(name)
        has = np.asarray(col.is_valid().to_numpy(zero_copy_only=False), bool)
        ids = np.asarray(col.fill_null(0).to_numpy(zero_copy_only=False), np.int64)[has]
        kk = k[has]
        o = np.argsort(ids, kind="stable")
        ids, kk = ids[o], kk[o]
        if len(ids) == 0:
            return np.full(len(want), -1, np.int64)
        pos = np.searchsorted(ids, want)
        posc = np.minimum(pos, len(ids) - 1)
        return np.where((pos < len(ids)) & (ids[posc] == want), kk[posc], -1)

    return lookup("a_id", a_ids), lookup("b_id", b_ids)


def _ranges(starts, lens):
    """Concatenated ``range(starts[i], starts[i] + lens[i])``."""
    lens = np.asarray(lens, np.int64)
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    excl = np.cumsum(lens) - lens
    return np.repeat(np.asarray(starts, np.int64) - excl, lens) + np.arange(total, dtype=np.int64)


def _take(ds: Dataset, rows, path) -> Dataset:
    """A Dataset of ``ds``'s instances ``rows`` (in that order; rows must keep it sorted by image,
    category, annotation id), images and categories unchanged."""
    rows = np.asarray(rows, np.int64)
    iro, ro, co = ds.inst_ring_offsets, ds.ring_offsets, ds.counts_offsets
    nr = iro[rows + 1] - iro[rows]
    rings = _ranges(iro[rows], nr)
    rl = ro[rings + 1] - ro[rings]
    cl = co[rows + 1] - co[rows]
    cum = lambda v: np.concatenate([[0], np.cumsum(v)]).astype(np.int64)
    return Dataset(path=path, sources=list(ds.sources), image_id=ds.image_id, width=ds.width, height=ds.height,
                   file_name=ds.file_name, cat_id=ds.cat_id, cat_name=ds.cat_name,
                   cat_supercategory=ds.cat_supercategory, ann_id=ds.ann_id[rows],
                   inst_image_id=ds.inst_image_id[rows], category_id=ds.category_id[rows],
                   iscrowd=ds.iscrowd[rows], area=ds.area[rows], bbox=ds.bbox[rows], score=ds.score[rows],
                   kind=ds.kind[rows], source=ds.source[rows], img_row=ds.img_row[rows],
                   xy=ds.xy[_ranges(ro[rings], rl)], ring_offsets=cum(rl), inst_ring_offsets=cum(nr),
                   counts=ds.counts[_ranges(co[rows], cl)], counts_offsets=cum(cl), rle_h=ds.rle_h[rows],
                   rle_w=ds.rle_w[rows])


def _union(A: Dataset, B: Dataset):
    """A's and B's instances in one Dataset with A's images and categories (rows ``0..nA-1`` are
    A's, then B's, unsorted), and which B rows it could place (image and category in A, same
    image size)."""
    nA = A.n_instances
    pos = np.searchsorted(A.image_id, B.inst_image_id)
    posc = np.minimum(pos, max(len(A.image_id) - 1, 0))
    ok = (pos < len(A.image_id)) & (A.image_id[posc] == B.inst_image_id)
    ok &= (A.height[posc] == B.height[B.img_row]) & (A.width[posc] == B.width[B.img_row])
    cpos = np.searchsorted(A.cat_id, B.category_id)
    ok &= (cpos < len(A.cat_id)) & (A.cat_id[np.minimum(cpos, max(len(A.cat_id) - 1, 0))] == B.category_id)
    cat = lambda x, y: np.concatenate([x, y])
    U = Dataset(path="A+B", sources=list(A.sources) + list(B.sources), image_id=A.image_id, width=A.width,
                height=A.height, file_name=A.file_name, cat_id=A.cat_id, cat_name=A.cat_name,
                cat_supercategory=A.cat_supercategory, ann_id=cat(A.ann_id, B.ann_id),
                inst_image_id=cat(A.inst_image_id, B.inst_image_id), category_id=cat(A.category_id, B.category_id),
                iscrowd=cat(A.iscrowd, B.iscrowd), area=cat(A.area, B.area), bbox=cat(A.bbox, B.bbox),
                score=cat(A.score, B.score), kind=cat(A.kind, B.kind), source=cat(A.source, B.source),
                img_row=cat(A.img_row, posc.astype(np.int64)), xy=cat(A.xy, B.xy),
                ring_offsets=cat(A.ring_offsets, B.ring_offsets[1:] + A.ring_offsets[-1]),
                inst_ring_offsets=cat(A.inst_ring_offsets, B.inst_ring_offsets[1:] + A.inst_ring_offsets[-1]),
                counts=cat(A.counts, B.counts), counts_offsets=cat(A.counts_offsets, B.counts_offsets[1:]
                                                                   + A.counts_offsets[-1]),
                rle_h=cat(A.rle_h, B.rle_h), rle_w=cat(A.rle_w, B.rle_w))
    return U, nA, ok


def _what_if_gt(U, nA, b_ok, kind_a, kind_b, kind):
    """Ground truth A with only the changes of one kind applied: A's instances of that kind dropped,
    B's instances of that kind added (after A's in each image and category)."""
    rows = np.concatenate([np.flatnonzero(kind_a != kind), nA + np.flatnonzero((kind_b == kind) & b_ok)])
    # per (image, category): A's instances, then B's, each by id (as if B's were appended to A's file)
    order = np.lexsort((U.ann_id[rows], rows >= nA, U.category_id[rows], U.inst_image_id[rows]))
    return _take(U, rows[order], f"A + {CHANGE_KINDS[kind]}")


def explain(results, a, b, iou_type: str = "segm", *, comparison=None, what_if: bool = True,
            threads=None) -> Explanation:
    """Evaluate a results set against ground truths A and B and say why the numbers moved.

    Every evaluated detection gets its status at IoU 0.50 under A and under B (TP, FP, or ignored
    as matched to a crowd) and its TP share over the ten thresholds 0.50:0.95; the detections
    whose status at 0.50 differs are counted by the kind of change of the instance they hit,
    relating A to B with :func:`cocodiff.compare` (a crowd decomposed into people, other
    splits, merges, class changes, removed, added, or a matched instance redrawn). With
    ``what_if``, the twelve numbers are also computed on A with only one kind of change applied
    (A's instances of that kind replaced by B's), for every kind present.

    Parameters
    ----------
    results : path or Dataset (loaded ``like=`` A)
    a, b : path or Dataset -- the two ground truths (A: the reference, e.g. COCO-2017)
    iou_type : "segm" or "bbox"
    comparison : Comparison, optional -- ``cocodiff.compare(a, b)`` if already made
    what_if : bool
    threads : int, optional

    Returns
    -------
    Explanation
    """
    from .engine.evaluate import TP
    if iou_type not in IOU_TYPES:
        raise ValueError(f"iou_type must be one of {IOU_TYPES}, got {iou_type!r}")
    A, B = _load_gt(a), _load_gt(b)
    ds = _load_results(results, A)
    if comparison is None:
        from .matching import compare
        comparison = compare(A, B, threads=threads, progress=False, boundary=False)
    kind_a, kind_b = _kinds_of(comparison.table, A.ann_id, B.ann_id)
    gsets = [A, B]
    kinds = []
    if what_if:
        U, nA, b_ok = _union(A, B)
        for k in range(len(CHANGE_KINDS)):
            if (kind_a == k).any() or ((kind_b == k) & b_ok).any():
                kinds.append(k)
                gsets.append(_what_if_gt(U, nA, b_ok, kind_a, kind_b, k))
    det = Detections(ds, iou_type)
    evs = _run(ds, gsets, iou_type, threads, det=det)
    ea, eb = evs[0], evs[1]
    st_a = ea.det_code[:, 0, 0]
    st_b = eb.det_code[:, 0, 0]
    ma = ea.det_match[:, 0]
    mb = eb.det_match[:, 0]
    hit_a = np.where(ma >= 0, A.ann_id[np.maximum(ma, 0)], -1) if A.n_instances else np.full(det.n, -1)
    hit_b = np.where(mb >= 0, B.ann_id[np.maximum(mb, 0)], -1) if B.n_instances else np.full(det.n, -1)
    ka = np.where(ma >= 0, kind_a[np.maximum(ma, 0)], -1) if A.n_instances else np.full(det.n, -1)
    kb = np.where(mb >= 0, kind_b[np.maximum(mb, 0)], -1) if B.n_instances else np.full(det.n, -1)
    flip = st_a != st_b
    kcause = np.where(flip, np.where(ka >= 0, ka, kb), -2)
    # -1: the instance hit has no row in the comparison ("unrelated"); -2: no change of status
    names = np.array(list(CHANGE_KINDS) + ["unrelated", None], dtype=object)
    kcause = np.where(kcause == -2, len(CHANGE_KINDS) + 1, np.where(kcause == -1, len(CHANGE_KINDS), kcause))
    cause = names[kcause]
    flips = []
    keys = np.stack([kcause, st_a, st_b], 1)
    uk, cnt = np.unique(keys, axis=0, return_counts=True)
    for (kc, sa, sb), n in zip(uk.tolist(), cnt.tolist()):
        flips.append({"kind": names[kc], "a": STATUS_NAMES[sa], "b": STATUS_NAMES[sb], "detections": int(n)})
    flips.sort(key=lambda r: (r["kind"] is None, r["kind"] or "", -r["detections"]))
    cat = ds.category_id[det.rows]
    per_class = []
    for cid, name in zip(A.cat_id, A.cat_name):
        sel = cat == cid
        if sel.any():
            per_class.append({"id": int(cid), "name": str(name), "detections": int(sel.sum()),
                              "flips": int((sel & flip).sum())})
    wi = []
    for k, ev in zip(kinds, evs[2:]):
        wi.append({"kind": CHANGE_KINDS[k], "a_instances": int((kind_a == k).sum()),
                   "b_instances": int(((kind_b == k) & b_ok).sum()) if what_if else 0, "stats": ev.stats})
    return Explanation(a=ea, b=eb, result_id=ds.ann_id[det.rows], category_id=cat, status_a=st_a, status_b=st_b,
                       tp_share_a=(ea.det_code[:, 0, :] == TP).mean(axis=1),
                       tp_share_b=(eb.det_code[:, 0, :] == TP).mean(axis=1), hit_a=hit_a, hit_b=hit_b,
                       cause=cause, flips=flips, per_class=per_class, what_if=wi)


def format_explanation(ex: Explanation) -> str:
    """The flip table and the one-kind-at-a-time numbers, as text."""
    lines = ["why the numbers moved: each detection's status at IoU 0.50 (area all, maxDets 100) under A and B;",
             ("a change of status is put down to the kind of change of the instance it hit (its A match, "
              "else its B match)")]
    rows = [[r["kind"] or "(status unchanged)", r["a"], r["b"], f"{r['detections']:,}"] for r in ex.flips]
    total = sum(r["detections"] for r in ex.flips)
    rows.append(["total", "", "", f"{total:,}"])
    lines.append(_table(["kind of change", "A", "B", "detections"], rows, left=3))
    if ex.what_if:
        lines.append("")
        lines.append("AP / AP50 on A with one kind of change applied (A's instances of that kind replaced by B's):")
        a0, b0 = ex.a.stats, ex.b.stats
        rows = [["none (A)", "", "", _fmt(a0[0]), _fmt(a0[1]), ""]]
        for w in ex.what_if:
            st = w["stats"]
            rows.append([w["kind"], f"{w['a_instances']:,}", f"{w['b_instances']:,}", _fmt(st[0]), _fmt(st[1]),
                         "n/a" if st[0] < 0 or a0[0] < 0 else f"{st[0] - a0[0]:+.3f}"])
        rows.append(["all (B)", "", "", _fmt(b0[0]), _fmt(b0[1]),
                     "n/a" if b0[0] < 0 or a0[0] < 0 else f"{b0[0] - a0[0]:+.3f}"])
        lines.append(_table(["kind applied", "A inst.", "B inst.", "AP", "AP50", "AP - AP(A)"], rows, left=1))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
def _fmt(v) -> str:
    return "n/a" if v is None or v < 0 else f"{v:.3f}"


def format_stats(evs, names=None) -> str:
    """The twelve numbers of one evaluation or several side by side, with the difference (last
    minus first) when there are two or more."""
    names = names or [chr(ord("A") + i) for i in range(len(evs))]
    hdr = ["metric"] + list(names) + ([f"{names[-1]} - {names[0]}"] if len(evs) > 1 else [])
    rows = []
    for i, lab in enumerate(STAT_NAMES):
        vals = [float(e.stats[i]) for e in evs]
        r = [lab] + [_fmt(v) for v in vals]
        if len(evs) > 1:
            r.append("n/a" if vals[0] < 0 or vals[-1] < 0 else f"{vals[-1] - vals[0]:+.3f}")
        rows.append(r)
    return _table(hdr, rows)


def format_per_class(evs, names=None) -> str:
    """Per-category AP (IoU 0.50:0.95, area all, maxDets 100) of one evaluation or several side
    by side, with the difference when there are two or more; categories absent from every
    ground truth's evaluation (no ground truth that counts) are left out."""
    names = names or [chr(ord("A") + i) for i in range(len(evs))]
    tables = [{r["id"]: r for r in e.per_class()} for e in evs]
    ids = sorted(set().union(*tables))
    hdr = ["id", "name"] + [f"AP {n}" for n in names] + [f"n_gt {n}" for n in names]
    if len(evs) > 1:
        hdr.append(f"AP {names[-1]} - {names[0]}")
    rows = []
    for cid in ids:
        rs = [t.get(cid) for t in tables]
        aps = [r["AP"] if r else None for r in rs]
        if all(a is None for a in aps):
            continue
        name = next(r["name"] for r in rs if r)
        row = [str(cid), name] + [_fmt(a) for a in aps] + [str(r["n_gt"]) if r else "-" for r in rs]
        if len(evs) > 1:
            row.append("n/a" if aps[0] is None or aps[-1] is None else f"{aps[-1] - aps[0]:+.3f}")
        rows.append(row)
    return _table(hdr, rows, left=2)


def _table(hdr, rows, left=1) -> str:
    widths = [max(len(r[c]) for r in [hdr] + rows) for c in range(len(hdr))]
    lines = []
    for r in [hdr] + rows:
        cells = [r[c].ljust(widths[c]) if c < left else r[c].rjust(widths[c]) for c in range(len(r))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
