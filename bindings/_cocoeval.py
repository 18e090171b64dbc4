"""COCOeval itself (:mod:`cocodiff.evaluation`): pycocotools' default parameters and twelve summary
numbers, the plan of one ground truth (ids mapped, checks, the (detection, ground truth) pairs
whose IoU is needed), the matching and accumulation kernels run on threads, and the
:class:`Evaluation` they give."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from ._eval_detections import IOU_TYPES, Detections, _first_row, _MaskStore, _n_jobs
from ._load_sources import is_results_file
from ._threads import run_jobs
from .conventions import LARGE_AREA, SMALL_AREA
from .dataset import Dataset
from .engine import _jit
from .engine.evaluate import accumulate, match_groups, pair_box_iou, pair_mask_iou
from .errors import InputError
from .loader import load

#: the twelve summary numbers of ``COCOeval.summarize``, in its order: AP or AR, IoU threshold
#: (None: the mean over 0.50:0.95), area range, index into ``maxDets``
_STATS = (("AP", None, "all", 2), ("AP", .5, "all", 2), ("AP", .75, "all", 2),
          ("AP", None, "small", 2), ("AP", None, "medium", 2), ("AP", None, "large", 2),
          ("AR", None, "all", 0), ("AR", None, "all", 1), ("AR", None, "all", 2),
          ("AR", None, "small", 2), ("AR", None, "medium", 2), ("AR", None, "large", 2))


def default_params() -> dict:
    """COCOeval's default detection parameters, built the way pycocotools builds them (``iouThrs``
    by ``np.linspace`` -- ``np.arange`` would give slightly different thresholds)."""
    return dict(
        iouThrs=np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True),
        recThrs=np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True),
        maxDets=[1, 10, 100],
        areaRng=[[0 ** 2, 1e5 ** 2], [0 ** 2, SMALL_AREA], [SMALL_AREA, LARGE_AREA], [LARGE_AREA, 1e5 ** 2]],
        areaRngLbl=["all", "small", "medium", "large"],
    )


def _iou_label(thr) -> str:
    return "0.50:0.95" if thr is None else f"{thr:.2f}"


#: the twelve summary numbers, in ``COCOeval.stats`` order
STAT_NAMES = [f"{kind} @[IoU={_iou_label(thr)} | area={area} | maxDets={default_params()['maxDets'][m]}]"
              for kind, thr, area, m in _STATS]


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
        for (kind, thr, area, m), v in zip(_STATS, self.stats):
            what = "Average Precision  (AP)" if kind == "AP" else "Average Recall     (AR)"
            out.append(f" {what} @[ IoU={_iou_label(thr):<9} | area={area:>6s} | "
                       f"maxDets={self.params['maxDets'][m]:>3d} ] = {v:0.3f}")
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

    def one(ap, iou, area, max_dets):
        ai = [i for i, x in enumerate(lbl) if x == area]
        mi = [i for i, x in enumerate(md) if x == max_dets]
        s = precision if ap else recall
        if iou is not None:
            s = s[np.where(iou == iou_thrs)[0]]
        s = s[:, :, :, ai, mi] if ap else s[:, :, ai, mi]
        v = s[s > -1]
        return -1.0 if len(v) == 0 else np.mean(v)

    return np.array([one(kind == "AP", thr, area, md[m]) for kind, thr, area, m in _STATS], dtype=np.float64)


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
    k = _n_jobs(n, n_threads, min_size)
    cuts = np.linspace(0, n, k + 1).astype(np.int64)
    return [(int(cuts[i]), int(cuts[i + 1])) for i in range(k) if cuts[i + 1] > cuts[i]] or [(0, 0)]


def _evaluate_one(det: Detections, plan: _Plan, n_threads: int) -> Evaluation:
    """``COCOeval`` ``evaluate()`` (the pairs' IoUs, the greedy matching), ``accumulate()`` and
    ``summarize()`` of the detections against one ground truth, timed by stage."""
    tm = {"plan": plan.t_plan}
    params = default_params()
    gt = plan.gt
    t0 = time.perf_counter()
    if det.iou_type == "segm":
        ious = _mask_ious(det, plan, n_threads)
    else:
        ious = pair_box_iou(det.box, np.ascontiguousarray(gt.bbox), plan.pd, plan.pg, plan.crowd)
    tm["iou"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    code, npig, dt_match = _match(det, plan, ious, params, n_threads)
    tm["match"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_gt, precision, recall, scores = _accumulate(det, plan, code, npig, params, n_threads)
    tm["accumulate"] = time.perf_counter() - t0
    stats = summarize(precision, recall, params)
    return Evaluation(iou_type=det.iou_type, gt_path=str(gt.path), results_path=str(det.ds.path), stats=stats,
                      precision=precision, recall=recall, scores=scores, cat_ids=gt.cat_id.copy(),
                      cat_names=gt.cat_name.copy(), params=params, n_gt=n_gt, n_results=det.n_results,
                      n_evaluated=det.n, det_rows=det.rows, det_match=dt_match, det_code=code, timings=tm)


def _match(det: Detections, plan: _Plan, ious, params: dict, n_threads: int) -> tuple:
    """``evaluateImg`` of every (image, category) group (:func:`cocodiff.engine.evaluate.match_groups`):
    each detection's outcome code per area range and threshold, the ground truths that count per
    group and area range, and the ground truth each detection matched (area all; -1: none)."""
    gt = plan.gt
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
    return code, npig, dt_match


def _accumulate(det: Detections, plan: _Plan, code, npig, params: dict, n_threads: int) -> tuple:
    """``accumulate()`` per category (:func:`cocodiff.engine.evaluate.accumulate`): the ground
    truths that count per category and area range, and the precision, recall and scores arrays."""
    K = plan.K
    A, T = code.shape[1], code.shape[2]
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
    return n_gt, precision, recall, scores


def _mask_ious(det, plan, n_threads):
    """IoU of every (kept detection, ground truth) pair: the detections' masks (rasterised once
    for every ground truth) against the needed ground truths' masks, ``rleIou`` per pair."""
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
    if not isinstance(gt, (list, tuple)) and is_results_file(gt):
        raise InputError("this is a results file (a JSON list of detections), not a ground truth", os.fspath(gt))
    return load(gt)


def _load_results(results, like):
    if isinstance(results, Dataset):
        return results
    if isinstance(results, (list, tuple)) or not is_results_file(results):
        label = results if isinstance(results, (list, tuple)) else os.fspath(results)
        if isinstance(label, str) and not os.path.exists(label):
            raise InputError("no such file", label)
        raise InputError("not a results file (a top-level JSON list of detections, as COCO.loadRes reads)",
                         str(label))
    return load(results, like=like)


def evaluate_many(results, gts: list, iou_type: str = "segm", *, threads: int | None = None) -> list:
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


def evaluate(results, gt, iou_type: str = "segm", *, threads: int | None = None) -> Evaluation:
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
