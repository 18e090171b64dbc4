"""Why the numbers moved between two ground truths (:func:`explain`, ``cocodiff eval --explain``):
each detection's status under A and B, the changes of status put down to the kind of change
(:func:`cocodiff.compare`'s relations) of the instance hit, and the twelve numbers on A with one
kind of change applied (see :mod:`cocodiff.evaluation`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._cocoeval import Evaluation, _load_gt, _load_results, _run
from ._eval_detections import IOU_TYPES, Detections
from .comparison import Comparison
from .dataset import Dataset
from .engine.evaluate import TP
from .matching import compare
from .relations import RELATIONS

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
    # a relation's kind of change (a matched pair: "redrawn"); a split of a crowd: "crowd_decomposed"
    code = {r: CHANGE_KINDS.index("redrawn" if r == "matched" else r) for r in RELATIONS}
    k = np.array([code[r] for r in table.column("relation").to_pylist()], np.int64)
    crowd = np.asarray(table.column("a_iscrowd").fill_null(False).to_numpy(zero_copy_only=False), bool)
    k[(k == CHANGE_KINDS.index("split")) & crowd] = CHANGE_KINDS.index("crowd_decomposed")

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


def explain(results, a, b, iou_type: str = "segm", *, comparison: Comparison | None = None, what_if: bool = True,
            threads: int | None = None) -> Explanation:
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
    if iou_type not in IOU_TYPES:
        raise ValueError(f"iou_type must be one of {IOU_TYPES}, got {iou_type!r}")
    A, B = _load_gt(a), _load_gt(b)
    ds = _load_results(results, A)
    if comparison is None:
        comparison = compare(A, B, threads=threads, progress=False, boundary=False)
    kind_a, kind_b = _kinds_of(comparison.table, A.ann_id, B.ann_id)
    gsets = [A, B]
    kinds, b_ok = [], None
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
    flip = st_a != st_b
    cause, flips = _flip_table(flip, _at_match(kind_a, ma), _at_match(kind_b, mb), st_a, st_b)
    cat = ds.category_id[det.rows]
    wi = [{"kind": CHANGE_KINDS[k], "a_instances": int((kind_a == k).sum()),
           "b_instances": int(((kind_b == k) & b_ok).sum()), "stats": ev.stats} for k, ev in zip(kinds, evs[2:])]
    return Explanation(a=ea, b=eb, result_id=ds.ann_id[det.rows], category_id=cat, status_a=st_a, status_b=st_b,
                       tp_share_a=(ea.det_code[:, 0, :] == TP).mean(axis=1),
                       tp_share_b=(eb.det_code[:, 0, :] == TP).mean(axis=1), hit_a=_at_match(A.ann_id, ma),
                       hit_b=_at_match(B.ann_id, mb), cause=cause, flips=flips,
                       per_class=_per_class_flips(A, cat, flip), what_if=wi)


def _at_match(values, match):
    """``values`` (one per ground-truth instance) of the instance each detection matched, -1 where
    it matched none."""
    if not values.size:
        return np.full(match.shape[0], -1)
    return np.where(match >= 0, values[np.maximum(match, 0)], -1)


def _flip_table(flip, ka, kb, st_a, st_b):
    """The cause of each detection's change of status (the kind of change of its A match, else of
    its B match; "unrelated": no comparison row; None: no change) and the flip table: one row per
    (cause, status under A, status under B) with its count, every detection counted once."""
    kcause = np.where(flip, np.where(ka >= 0, ka, kb), -2)
    # -1: the instance hit has no row in the comparison ("unrelated"); -2: no change of status
    names = np.array(list(CHANGE_KINDS) + ["unrelated", None], dtype=object)
    kcause = np.where(kcause == -2, len(CHANGE_KINDS) + 1, np.where(kcause == -1, len(CHANGE_KINDS), kcause))
    flips = []
    keys = np.stack([kcause, st_a, st_b], 1)
    uk, cnt = np.unique(keys, axis=0, return_counts=True)
    for (kc, sa, sb), n in zip(uk.tolist(), cnt.tolist()):
        flips.append({"kind": names[kc], "a": STATUS_NAMES[sa], "b": STATUS_NAMES[sb], "detections": int(n)})
    flips.sort(key=lambda r: (r["kind"] is None, r["kind"] or "", -r["detections"]))
    return names[kcause], flips


def _per_class_flips(A: Dataset, cat, flip) -> list:
    """Detections and changes of status per category of A (categories with detections)."""
    per_class = []
    for cid, name in zip(A.cat_id, A.cat_name):
        sel = cat == cid
        if sel.any():
            per_class.append({"id": int(cid), "name": str(name), "detections": int(sel.sum()),
                              "flips": int((sel & flip).sum())})
    return per_class
