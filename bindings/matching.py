"""Instance-by-instance correspondence between two annotation sets: :func:`compare`.

Side A is the reference ("ground truth" in pycocotools' sense), side B the other set.

Per image present in both files with the same size, every A instance is related to the
B instances whose mask extents overlap its own (any category). For each such candidate
pair, from the pycocotools-identical masks:

* ``intersection`` -- pixels in both masks;
* ``iou`` -- pycocotools' value with **A as gt** and B as dt, i.e.
  ``maskUtils.iou(b_masks, a_masks, a_iscrowd)``: ``intersection / union`` with
  ``union = a_area + b_area - intersection``, except when the A instance is a crowd:
  then ``union = b_area``. 0 when the intersection is 0.
* ``iou_plain`` -- the symmetric ``intersection / (a_area + b_area - intersection)``
  whatever the crowd flags (equals ``iou`` unless A is a crowd).

Matching (``matched`` and ``class_changed``) thresholds and maximises ``iou_plain``: with
the crowd rule a crowd region would "match" any single person drawn inside it and a
crowd split into people could never be seen as a split. A crowd A therefore matches a B
that covers about the same region (typically a crowd again, or a single instance, which
sets ``crowd_changed``).

Relations (``relation`` column), decided in this order:

``matched``
    optimal one-to-one assignment (maximum total IoU, :mod:`cocodiff.engine.assign`)
    among pairs of the SAME category with ``iou_plain >= iou_threshold`` (``mode="greedy"``:
    pycocotools' greedy order instead). One row per pair.
``split``
    an unmatched A instance covered by >= 2 unmatched B instances of the same category,
    each lying mostly inside it (``intersection / b_area >= cover_threshold``); a B part
    that qualifies for several A instances goes to the one it overlaps most (ties: lower
    A). One row per part, all sharing a ``group`` id (the A instance repeats).
``merged``
    the mirror among the still unmatched: >= 2 A parts with
    ``intersection / a_area >= cover_threshold`` inside one B instance. One row per part.
``class_changed``
    still unmatched A and B of DIFFERENT categories with ``iou_plain >= iou_threshold``,
    paired by the same one-to-one assignment (per image). One row per pair.
``removed`` / ``added``
    every A / B instance left over: one row each, the other side null. ``very_small`` is
    set when that instance's mask area is <= 100 pixels.

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

Work is done in batches of ``batch_images`` images: only that batch's instances of A and B
are rasterised (pycocotools-identical RLE), then candidate pairs (Numba), intersections,
assignment (Numba), relations (array operations) and Boundary IoU (Numba) run on flat
arrays; only the output rows are kept.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field

import numpy as np

from .engine._jit import get_threads, set_threads
from .engine.assign import assign
from .engine.boundary import boundary_iou_pairs, dilation_for
from .engine.relate import best_cover, candidate_pairs, rle_extents, rle_extents_parallel, run_starts

__all__ = ["compare", "Comparison", "RELATIONS"]

log = logging.getLogger(__name__)

RELATIONS = ("matched", "split", "merged", "class_changed", "removed", "added")
_REL_CODE = {r: i for i, r in enumerate(RELATIONS)}
VERY_SMALL_AREA = 100
#: Above this many instances (both sides together) the multi-threaded kernels are used.
PARALLEL_MIN_INSTANCES = 50_000
_N_EXAMPLES = 10


def _as_dataset(x):
    from .dataset import Dataset
    if isinstance(x, Dataset):
        return x
    from .loader import load
    return load(x)


@dataclass
class _Rows:
    """Column buffers of output rows (numpy), -1 / NaN sentinels for missing sides."""
    cols: dict = field(default_factory=dict)

    def add(self, **kw):
        for k, v in kw.items():
            self.cols.setdefault(k, []).append(v)

    def concat(self):
        return {k: np.concatenate(v) if v else np.zeros(0) for k, v in self.cols.items()}


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


class _Raster:
    """Rasterises row ranges of one dataset (per-instance arrays prepared once)."""

    def __init__(self, ds):
        self.args = (np.ascontiguousarray(ds.xy, dtype=np.float64),
                     np.ascontiguousarray(ds.ring_offsets, dtype=np.int64),
                     np.ascontiguousarray(ds.inst_ring_offsets, dtype=np.int64),
                     np.ascontiguousarray(ds.counts, dtype=np.uint32),
                     np.ascontiguousarray(ds.counts_offsets, dtype=np.int64),
                     np.ascontiguousarray(ds.kind, dtype=np.int8),
                     ds.inst_h(), ds.inst_w())

    def __call__(self, rows):
        """Same masks as :func:`cocodiff.rasterize.rasterize` ``(ds, rows)``."""
        from .engine.raster import rasterize_batch, rasterize_batch_parallel
        from .rasterize import PARALLEL_MIN_ROWS
        if rows.size == 0:
            return np.zeros(0, np.uint32), np.zeros(1, np.int64)
        fn = rasterize_batch_parallel if (get_threads() > 1 and rows.size >= PARALLEL_MIN_ROWS) else rasterize_batch
        counts, offsets = fn(*self.args, rows)
        return np.asarray(counts, dtype=np.uint32), np.asarray(offsets, dtype=np.int64)


def _process_batch(A, B, al, u0, u1, params, rows, group_base):
    """Relate the instances of union images u0:u1; append output rows; return groups used."""
    from .engine.iou import pair_intersections, pair_intersections_parallel
    from .engine.rle import rle_area_batch

    thr = params["iou_threshold"]
    cover = params["cover_threshold"]
    a0, a1 = int(al["a_lo"][u0]), int(al["a_hi"][u1 - 1]) if u1 > u0 else int(al["a_lo"][u0])
    b0, b1 = int(al["b_lo"][u0]), int(al["b_hi"][u1 - 1]) if u1 > u0 else int(al["b_lo"][u0])
    a1 = max(a1, a0)
    b1 = max(b1, b0)
    na, nb = a1 - a0, b1 - b0
    rows_a = np.arange(a0, a1, dtype=np.int64)
    rows_b = np.arange(b0, b1, dtype=np.int64)
    ca, oa = params["raster_a"](rows_a)
    cb, ob = params["raster_b"](rows_b)
    counts = np.concatenate([ca, cb])
    offsets = np.concatenate([oa, ob[1:] + oa[-1]]).astype(np.int64)
    h_a = A.height[A.img_row[rows_a]].astype(np.int64)
    h_b = B.height[B.img_row[rows_b]].astype(np.int64)
    w_a = A.width[A.img_row[rows_a]].astype(np.int64)
    area = np.asarray(rle_area_batch(counts, offsets), dtype=np.int64)
    area_a, area_b = area[:na], area[na:]
    ext_fn = rle_extents_parallel if params["big"] else rle_extents
    ext = ext_fn(counts, offsets, np.concatenate([h_a, h_b]))
    ext_a, ext_b = ext[:na], ext[na:]

    sl = slice(u0, u1)
    ia_lo = al["a_lo"][sl] - a0
    ia_hi = al["a_hi"][sl] - a0
    ib_lo = al["b_lo"][sl] - b0
    ib_hi = al["b_hi"][sl] - b0
    pa, pb = candidate_pairs(ia_lo, ia_hi, ib_lo, ib_hi, al["comparable"][sl], ext_a, ext_b)
    inter_fn = pair_intersections_parallel if params["big"] else pair_intersections
    inter = np.asarray(inter_fn(counts, offsets, pa, pb + na), dtype=np.int64)
    cat_a = A.category_id[rows_a]
    cat_b = B.category_id[rows_b]
    crowd_a = A.iscrowd[rows_a].astype(bool)
    crowd_b = B.iscrowd[rows_b].astype(bool)
    union = np.where(crowd_a[pa], area_b[pb], area_a[pa] + area_b[pb] - inter)
    union_plain = area_a[pa] + area_b[pb] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(inter > 0, inter / np.maximum(union, 1).astype(np.float64), 0.0)
        iou_plain = np.where(inter > 0, inter / np.maximum(union_plain, 1).astype(np.float64), 0.0)
    same_cat = cat_a[pa] == cat_b[pb]

    # (b) matched: optimal assignment within (image, category) groups
    img_a = A.inst_image_id[rows_a]
    img_b = B.inst_image_id[rows_b]
    grp_first_a = run_starts(img_a, cat_a)
    grp_first_b = run_starts(img_b, cat_b)
    elig = same_cat & (iou_plain >= thr) & (inter > 0)
    e = np.flatnonzero(elig)
    matched = np.zeros(pa.shape[0], bool)
    if e.size:
        ga = grp_first_a[pa[e]]          # non-decreasing (pairs sorted by a)
        starts = np.flatnonzero(np.r_[True, ga[1:] != ga[:-1]])
        go = np.r_[starts, e.size].astype(np.int64)
        m = assign(go, pa[e] - ga, pb[e] - grp_first_b[pb[e]], iou_plain[e], thr, params["mode"])
        matched[e[m]] = True
    a_used = np.zeros(na, bool)
    b_used = np.zeros(nb, bool)
    a_used[pa[matched]] = True
    b_used[pb[matched]] = True

    # (c) split: >= 2 B parts inside one unmatched A
    free = ~a_used[pa] & ~b_used[pb]
    with np.errstate(divide="ignore", invalid="ignore"):
        cov_b = np.where(area_b[pb] > 0, inter / np.maximum(area_b[pb], 1), 0.0)
        cov_a = np.where(area_a[pa] > 0, inter / np.maximum(area_a[pa], 1), 0.0)
    el_s = free & same_cat & (inter > 0) & (cov_b >= cover)
    chosen, n_parts = best_cover(pa, pb, inter, el_s, na, nb)
    ch = chosen[chosen >= 0]
    split_pairs = np.sort(ch[n_parts[pa[ch]] >= 2])
    a_used[pa[split_pairs]] = True
    b_used[pb[split_pairs]] = True
    # (c') merged: >= 2 A parts inside one unmatched B
    free = ~a_used[pa] & ~b_used[pb]
    el_m = free & same_cat & (inter > 0) & (cov_a >= cover)
    chosen, n_parts = best_cover(pb, pa, inter, el_m, nb, na)
    ch = chosen[chosen >= 0]
    merged_pairs = ch[n_parts[pb[ch]] >= 2]
    merged_pairs = merged_pairs[np.lexsort((pa[merged_pairs], pb[merged_pairs]))]
    a_used[pa[merged_pairs]] = True
    b_used[pb[merged_pairs]] = True

    # (d) class_changed: different categories, assignment per image
    free = ~a_used[pa] & ~b_used[pb]
    elig = free & ~same_cat & (iou_plain >= thr) & (inter > 0)
    e = np.flatnonzero(elig)
    cc = np.zeros(pa.shape[0], bool)
    if e.size:
        first_img_a = run_starts(img_a, np.zeros(na, np.int64))
        first_img_b = run_starts(img_b, np.zeros(nb, np.int64))
        ga = first_img_a[pa[e]]
        starts = np.flatnonzero(np.r_[True, ga[1:] != ga[:-1]])
        go = np.r_[starts, e.size].astype(np.int64)
        m = assign(go, pa[e] - ga, pb[e] - first_img_b[pb[e]], iou_plain[e], thr, params["mode"])
        cc[e[m]] = True
    a_used[pa[cc]] = True
    b_used[pb[cc]] = True

    # group ids for split (by A whole) and merged (by B whole)
    n_groups = 0
    grp_split = np.zeros(split_pairs.shape[0], np.int64)
    if split_pairs.size:
        wa = pa[split_pairs]
        new = np.r_[True, wa[1:] != wa[:-1]]
        grp_split = group_base + np.cumsum(new) - 1
        n_groups += int(new.sum())
    grp_merged = np.zeros(merged_pairs.shape[0], np.int64)
    if merged_pairs.size:
        wb = pb[merged_pairs]
        new = np.r_[True, wb[1:] != wb[:-1]]
        grp_merged = group_base + n_groups + np.cumsum(new) - 1
        n_groups += int(new.sum())

    # ---- rows
    m_idx = np.flatnonzero(matched)
    c_idx = np.flatnonzero(cc)
    pair_idx = np.concatenate([m_idx, split_pairs, merged_pairs, c_idx]).astype(np.int64)
    rel = np.concatenate([np.full(m_idx.size, 0), np.full(split_pairs.size, 1),
                          np.full(merged_pairs.size, 2), np.full(c_idx.size, 3)]).astype(np.int8)
    grp = np.concatenate([np.full(m_idx.size, -1), grp_split, grp_merged, np.full(c_idx.size, -1)]).astype(np.int64)
    ra = pa[pair_idx]
    rb = pb[pair_idx]
    rem = np.flatnonzero(~a_used)
    add = np.flatnonzero(~b_used)
    n2 = pair_idx.size

    biou = np.full(n2, np.nan)
    if params["boundary"] and n2:
        hh = h_a[ra]
        ww = w_a[ra]
        biou = boundary_iou_pairs(counts, offsets, ra, rb + na, hh, ww,
                                  dilation=dilation_for(hh, ww, params["dilation_ratio"]),
                                  parallel=params["big"])
    ea = ext_a[ra].astype(np.float64)
    eb = ext_b[rb].astype(np.float64)
    ca_ = (ea[:, :2] + ea[:, 2:]) / 2
    cb_ = (eb[:, :2] + eb[:, 2:]) / 2
    shift = np.hypot(ca_[:, 0] - cb_[:, 0], ca_[:, 1] - cb_[:, 1])
    corner = np.maximum(np.hypot(ea[:, 0] - eb[:, 0], ea[:, 1] - eb[:, 1]),
                        np.hypot(ea[:, 2] - eb[:, 2], ea[:, 3] - eb[:, 3]))
    vert_a = params["vert_a"][rows_a]
    vert_b = params["vert_b"][rows_b]

    def side_a(idx, present):
        n = idx.size
        if present:
            return dict(a_id=A.ann_id[rows_a[idx]], a_category_id=cat_a[idx], a_area=area_a[idx],
                        a_vertices=vert_a[idx], a_iscrowd=crowd_a[idx].astype(np.int8), image_id=img_a[idx])
        return dict(a_id=np.full(n, -1, np.int64), a_category_id=np.full(n, -1, np.int64),
                    a_area=np.full(n, -1, np.int64), a_vertices=np.full(n, -1, np.int64),
                    a_iscrowd=np.full(n, -1, np.int8))

    def side_b(idx, present):
        n = idx.size
        if present:
            return dict(b_id=B.ann_id[rows_b[idx]], b_category_id=cat_b[idx], b_area=area_b[idx],
                        b_vertices=vert_b[idx], b_iscrowd=crowd_b[idx].astype(np.int8))
        return dict(b_id=np.full(n, -1, np.int64), b_category_id=np.full(n, -1, np.int64),
                    b_area=np.full(n, -1, np.int64), b_vertices=np.full(n, -1, np.int64),
                    b_iscrowd=np.full(n, -1, np.int8))

    nan = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        ar = np.where(area_a[ra] > 0, area_b[rb] / np.maximum(area_a[ra], 1), nan)
    # two-sided rows
    rows.add(**side_a(ra, True), **side_b(rb, True), relation=rel, group=grp, iou=iou[pair_idx],
             iou_plain=iou_plain[pair_idx],
             boundary_iou=biou, intersection=inter[pair_idx], crowd_changed=crowd_a[ra] != crowd_b[rb],
             very_small=np.zeros(n2, bool), area_ratio=ar, bbox_shift=shift, bbox_corner_shift=corner)
    # removed
    n = rem.size
    rows.add(**side_a(rem, True), **side_b(rem, False), relation=np.full(n, 4, np.int8),
             group=np.full(n, -1, np.int64), iou=np.full(n, nan), iou_plain=np.full(n, nan), boundary_iou=np.full(n, nan),
             intersection=np.full(n, -1, np.int64), crowd_changed=np.zeros(n, bool),
             very_small=area_a[rem] <= VERY_SMALL_AREA, area_ratio=np.full(n, nan),
             bbox_shift=np.full(n, nan), bbox_corner_shift=np.full(n, nan))
    # added
    n = add.size
    rows.add(**side_a(add, False), image_id=img_b[add], **side_b(add, True), relation=np.full(n, 5, np.int8),
             group=np.full(n, -1, np.int64), iou=np.full(n, nan), iou_plain=np.full(n, nan), boundary_iou=np.full(n, nan),
             intersection=np.full(n, -1, np.int64), crowd_changed=np.zeros(n, bool),
             very_small=area_b[add] <= VERY_SMALL_AREA, area_ratio=np.full(n, nan),
             bbox_shift=np.full(n, nan), bbox_corner_shift=np.full(n, nan))
    return n_groups, pa.size


def compare(a, b, iou_threshold=0.5, cover_threshold=0.5, mode="optimal", boundary=True, threads=None,
            batch_images=2000, progress=None, dilation_ratio=0.02):
    """Relate every instance of annotation set ``a`` to those of ``b`` (see the module docstring).

    Parameters
    ----------
    a, b : Dataset or path -- A is the reference (pycocotools' gt side for the crowd rule).
    iou_threshold : float -- minimum IoU for ``matched`` and ``class_changed``.
    cover_threshold : float -- minimum fraction of a part inside its whole for split / merged.
    mode : ``"optimal"`` (maximum total IoU per (image, category)) or ``"greedy"``.
    boundary : bool -- compute Boundary IoU of every two-sided row.
    threads : int or None -- Numba threads.
    batch_images : int -- images rasterised at a time (bounds memory).
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
    if mode not in ("optimal", "greedy"):
        raise ValueError(f"mode must be 'optimal' or 'greedy', got {mode!r}")
    if batch_images < 1:
        raise ValueError("batch_images must be >= 1")
    A = _as_dataset(a)
    B = _as_dataset(b)
    if threads is not None:
        set_threads(threads)
    al = _image_alignment(A, B)
    params = dict(iou_threshold=float(iou_threshold), cover_threshold=float(cover_threshold), mode=mode,
                  boundary=bool(boundary), threads=threads, dilation_ratio=float(dilation_ratio),
                  vert_a=A.n_points().astype(np.int64), vert_b=B.n_points().astype(np.int64),
                  raster_a=_Raster(A), raster_b=_Raster(B),
                  # multi-threaded kernels (compiled per process, seconds) only for big inputs
                  big=get_threads() > 1 and A.n_instances + B.n_instances > PARALLEL_MIN_INSTANCES)
    n_img = al["ids"].shape[0]
    bounds = list(range(0, n_img, batch_images)) + [n_img]
    it = range(len(bounds) - 1)
    if progress is None:
        progress = sys.stderr.isatty()
    bar = None
    if progress and len(bounds) > 1:
        try:
            from tqdm import tqdm
            bar = tqdm(total=n_img, unit="img", desc="compare", file=sys.stderr)
        except ImportError:  # pragma: no cover
            bar = None
    rows = _Rows()
    group_base = 0
    n_cand = 0
    for k in it:
        u0, u1 = bounds[k], bounds[k + 1]
        if u1 <= u0:
            continue
        g, npairs = _process_batch(A, B, al, u0, u1, params, rows, group_base)
        group_base += g
        n_cand += npairs
        if bar is not None:
            bar.update(u1 - u0)
    if bar is not None:
        bar.close()
    cols = rows.concat()
    if not cols:
        cols = {}
    table = _to_arrow(cols)
    images = _image_report(A, B, al)
    for k in ("vert_a", "vert_b", "threads", "raster_a", "raster_b", "big"):
        params.pop(k)
    meta = dict(a_path=str(A.path), b_path=str(B.path), a_instances=A.n_instances, b_instances=B.n_instances,
                a_vertices=int(np.sum(A.n_points())), b_vertices=int(np.sum(B.n_points())),
                candidate_pairs=int(n_cand),
                categories={int(c): str(nm) for c, nm in zip(list(A.cat_id) + list(B.cat_id),
                                                            list(A.cat_name) + list(B.cat_name))})
    log.info("compare: %d A / %d B instances, %d candidate pairs, %d rows", A.n_instances, B.n_instances,
             n_cand, table.num_rows)
    return Comparison(table=table, params=params, images=images, meta=meta)


_COLUMNS = [
    ("image_id", "int64"), ("a_id", "int64"), ("b_id", "int64"), ("a_category_id", "int64"),
    ("b_category_id", "int64"), ("relation", "str"), ("group", "int64"), ("iou", "float64"),
    ("iou_plain", "float64"), ("boundary_iou", "float64"), ("intersection", "int64"), ("a_area", "int64"), ("b_area", "int64"),
    ("a_vertices", "int64"), ("b_vertices", "int64"), ("a_iscrowd", "bool"), ("b_iscrowd", "bool"),
    ("crowd_changed", "bool"), ("very_small", "bool"), ("area_ratio", "float64"), ("bbox_shift", "float64"),
    ("bbox_corner_shift", "float64"),
]


def _to_arrow(cols):
    import pyarrow as pa

    n = cols["relation"].shape[0] if cols else 0
    if n == 0:
        cols = {name: np.zeros(0, np.int64 if t != "float64" else np.float64) for name, t in _COLUMNS}
        cols["relation"] = np.zeros(0, np.int8)
        cols["a_iscrowd"] = cols["b_iscrowd"] = np.zeros(0, np.int8)
    rel = cols["relation"]
    has_a = rel != 5
    has_b = rel != 4
    # deterministic order: image, then a_id (absent last), then b_id
    a_key = np.where(has_a, cols["a_id"], np.iinfo(np.int64).max)
    b_key = np.where(has_b, cols["b_id"], np.iinfo(np.int64).max)
    order = np.lexsort((b_key, a_key, cols["image_id"]))
    out = {}
    for name, typ in _COLUMNS:
        v = cols[name][order]
        if name == "relation":
            out[name] = pa.DictionaryArray.from_arrays(pa.array(v.astype(np.int32)), pa.array(list(RELATIONS)))
            continue
        mask = None
        if name.startswith("a_"):
            mask = ~has_a[order]
        elif name.startswith("b_"):
            mask = ~has_b[order]
        elif name in ("intersection",):
            mask = ~(has_a & has_b)[order]
        if typ == "bool":
            v = v.astype(bool) if v.dtype != np.int8 else (v == 1)
        out[name] = pa.array(v, mask=mask) if mask is not None and mask.any() else pa.array(v)
    t = pa.table(out)
    # plain string column (dictionary kept out of the file for the widest reader support)
    return t.set_column(t.schema.get_field_index("relation"), "relation", t.column("relation").cast(pa.string()))


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
    """

    table: object
    params: dict
    images: dict
    meta: dict

    def __repr__(self) -> str:
        rel = self.table.column("relation").value_counts().to_pylist() if self.table.num_rows else []
        counts = ", ".join(f"{d['values']}={d['counts']}" for d in rel)
        return f"Comparison({self.meta.get('a_path')!r} vs {self.meta.get('b_path')!r}: {counts or 'no rows'})"

    def to_pandas(self):
        """The table as a pandas DataFrame.

        Examples
        --------
        >>> df = cocodiff.compare("a.json", "b.json").to_pandas()   # doctest: +SKIP
        """
        return self.table.to_pandas()

    def _np(self, name):
        col = self.table.column(name)
        if name == "relation":
            return np.asarray(col.to_pylist(), dtype=object)
        return col.to_numpy(zero_copy_only=False)

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
        rel = self._np("relation")
        iou = self._np("iou").astype(np.float64)
        biou = self._np("boundary_iou").astype(np.float64)
        img = self._np("image_id").astype(np.int64)
        is_m = rel == "matched"
        relations = {r: int(np.sum(rel == r)) for r in RELATIONS}
        av = self.table.column("a_vertices").to_numpy(zero_copy_only=False)
        bv = self.table.column("b_vertices").to_numpy(zero_copy_only=False)
        av = np.nan_to_num(np.asarray(av, dtype=np.float64))
        bv = np.nan_to_num(np.asarray(bv, dtype=np.float64))
        cc = np.asarray(self._np("crowd_changed"), dtype=bool)
        matched = dict(count=relations["matched"], mean_iou=_nanmean(iou[is_m]),
                       mean_boundary_iou=_nanmean(biou[is_m]), crowd_changed=int(np.sum(cc & is_m)))
        vertices = dict(a_total=self.meta["a_vertices"], b_total=self.meta["b_vertices"],
                        a_matched=int(av[is_m].sum()), b_matched=int(bv[is_m].sum()))
        # per class
        acat = np.nan_to_num(np.asarray(self._np("a_category_id"), dtype=np.float64), nan=-1).astype(np.int64)
        bcat = np.nan_to_num(np.asarray(self._np("b_category_id"), dtype=np.float64), nan=-1).astype(np.int64)
        cat = np.where(rel == "added", bcat, acat)
        names = self.meta.get("categories", {})
        per_class = []
        for c in np.unique(cat):
            sel = cat == c
            d = dict(category_id=int(c), name=names.get(int(c), ""))
            for r in RELATIONS:
                d[r] = int(np.sum(rel[sel] == r))
            d["mean_iou"] = _nanmean(iou[sel & is_m])
            per_class.append(d)
        # per image
        uimg, inv = np.unique(img, return_inverse=True)
        per_image = {"image_id": uimg.tolist()}
        for r in RELATIONS:
            per_image[r] = np.bincount(inv, weights=(rel == r), minlength=uimg.size).astype(np.int64).tolist()
        n_non = np.bincount(inv, weights=~is_m, minlength=uimg.size)
        n_m = np.bincount(inv, weights=is_m, minlength=uimg.size)
        s_iou = np.bincount(inv, weights=np.where(is_m, np.nan_to_num(iou), 0.0), minlength=uimg.size)
        mean_iou = np.where(n_m > 0, s_iou / np.maximum(n_m, 1), 0.0)
        score = n_non + (1.0 - mean_iou)
        order = np.lexsort((uimg, -score))[:top]
        most = [dict(image_id=int(uimg[i]), score=float(score[i]), non_matched=int(n_non[i]),
                     matched=int(n_m[i]), mean_iou=float(mean_iou[i]) if n_m[i] else None) for i in order]
        return dict(relations=relations, matched=matched, vertices=vertices, images=self.images,
                    per_class=per_class, per_image=per_image, most_changed=most, params=self.params,
                    meta={k: v for k, v in self.meta.items() if k != "categories"})

    def write(self, out_dir) -> dict:
        """Write ``matches.parquet`` and ``summary.json`` into ``out_dir`` atomically.

        Returns the summary dict.

        Examples
        --------
        >>> cocodiff.compare("a.json", "b.json").write("out/")   # doctest: +SKIP
        """
        import pyarrow.parquet as pq

        os.makedirs(out_dir, exist_ok=True)
        summ = self.summary()
        fd, tmp = tempfile.mkstemp(prefix=".matches.", suffix=".parquet.tmp", dir=out_dir)
        os.close(fd)
        try:
            pq.write_table(self.table, tmp)
            os.replace(tmp, os.path.join(out_dir, "matches.parquet"))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        fd, tmp = tempfile.mkstemp(prefix=".summary.", suffix=".json.tmp", dir=out_dir)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(summ, f, indent=1)
            os.replace(tmp, os.path.join(out_dir, "summary.json"))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return summ
