"""The loader's last step: every file's columns merged into one checked :class:`Dataset`.

:func:`build` runs named stages over the instances of all files: images and categories merged
(a repeat must be identical), the annotation columns joined (file order), the instances sorted
by (image_id, category_id, ann_id), results' bbox-only entries given their box polygon, the
segmentation kinds checked, the polygons laid out (:func:`cocodiff.engine.ragged.polygon_layout`)
and the RLE counts decoded and laid out (:func:`cocodiff.engine.ragged.rle_layout`), then the ids
and the sizes checked against the images. Each stage raises the first problem it finds as an
:class:`InputError`; the stages run in this order so that a file with several problems always
names the same one.
"""
from __future__ import annotations

import logging
import time
from itertools import chain
from operator import attrgetter
from typing import NamedTuple

import numpy as np

from ._load_columns import SEG_BAD, SEG_NULL, SEG_OK, SEG_RLE, Cols, int_col
from ._load_schema import MAX_ABS_COORD, MAX_RING_CROSSINGS, UINT32_MAX, validation_failed
from .dataset import KIND_POLYGON, KIND_RLE_STRING, Dataset
from .errors import InputError, Warnings

# the loader's one logger (its records name cocodiff.loader, whichever module writes them)
log = logging.getLogger("cocodiff.loader")


def _first(mask) -> int:
    """The index of the first True in ``mask``."""
    return int(np.argmax(mask))


def instance_order(img, cat, ann_id):
    """``np.lexsort((ann_id, cat, img))``: the permutation putting instances in (image_id,
    category_id, ann_id) order, ties in input order.

    When the ids already rise in input order (files are usually written by id; results are
    numbered in order) one stable sort of a combined (image, category) key gives the same
    permutation in about half the time.

    Examples
    --------
    >>> instance_order(np.array([5, 3, 5, 3]), np.array([2, 9, 1, 9]), np.array([1, 2, 3, 4])).tolist()
    [1, 3, 2, 0]
    """
    n = img.shape[0]
    if n > 1 and not (ann_id[1:] < ann_id[:-1]).any():
        i0, i1, c0, c1 = int(img.min()), int(img.max()), int(cat.min()), int(cat.max())
        cspan = c1 - c0 + 1
        if (i1 - i0 + 1) * cspan < 1 << 62:
            key = (img - i0) * cspan + (cat - c0)
            return np.argsort(key, kind="stable")
    return np.lexsort((ann_id, cat, img))


class _Ticker:
    """CPU-time checkpoints of the build, logged at debug level."""

    def __init__(self):
        self._clock = time.process_time
        self._t = self._clock()
        self._on = log.isEnabledFor(logging.DEBUG)

    def __call__(self, what):
        if self._on:
            t = self._clock()
            log.debug("build: %.3f s CPU before %s", t - self._t, what)
            self._t = t


# --------------------------------------------------------------------------------------------
# images and categories
def _obj_array(it, n):
    a = np.empty(n, object)
    a[:] = list(it)
    return a


def _dedupe(ids, src, cols, names, what):
    """Sort by id; drop identical repeats coming from other files; raise on duplicates/conflicts."""
    order = np.lexsort((src, ids))
    ids = ids[order]
    src = src[order]
    cols = [c[order] for c in cols]
    same = np.flatnonzero(ids[1:] == ids[:-1]) + 1
    if same.size:
        same_file = src[same] == src[same - 1]
        if same_file.any():
            j = same[np.argmax(same_file)]
            raise InputError(f"duplicate {what} id {ids[j]}", names[src[j]], ids[j], "id", kind=what)
        for j in same:
            for c in cols:
                if c[j] != c[j - 1]:
                    raise InputError(f"{what} id {ids[j]} conflicts with the same id in {names[src[j - 1]]}",
                                     names[src[j]], ids[j], "id", kind=what)
        keep = np.ones(ids.shape[0], bool)
        keep[same] = False
        ids = ids[keep]
        cols = [c[keep] for c in cols]
    return ids, cols


def _images(ims, names):
    """Every file's images (lists of Structs) merged: (image_id, width, height, file_name), by id."""
    n_im = sum(map(len, ims))
    im_src = np.repeat(np.arange(len(ims), dtype=np.int16), list(map(len, ims)))
    allim = list(chain.from_iterable(ims))
    iid = int_col(allim, "id", n_im, names, im_src, "image")
    w = int_col(allim, "width", n_im, names, im_src, "image", ids=iid)
    h = int_col(allim, "height", n_im, names, im_src, "image", ids=iid)
    bad = (w <= 0) | (h <= 0) | (w > 2**31 - 1) | (h > 2**31 - 1)
    if bad.any():
        j = _first(bad)
        fld = "width" if not 0 < w[j] < 2**31 else "height"
        raise InputError(f"{fld} must be a positive integer, got {w[j] if fld == 'width' else h[j]}",
                         names[im_src[j]], iid[j], fld, kind="image")
    fn = _obj_array(map(attrgetter("file_name"), allim), n_im)
    image_id, (width, height, file_name) = _dedupe(iid, im_src, [w, h, fn], names, "image")
    return image_id, width.astype(np.int32), height.astype(np.int32), file_name


def _categories(cats, names):
    """Every file's categories merged: (cat_id, cat_name, cat_supercategory), by id."""
    n_cat = sum(map(len, cats))
    c_src = np.repeat(np.arange(len(cats), dtype=np.int16), list(map(len, cats)))
    allc = list(chain.from_iterable(cats))
    cid = int_col(allc, "id", n_cat, names, c_src, "category")
    cn = _obj_array(map(attrgetter("name"), allc), n_cat)
    cs = _obj_array(map(attrgetter("supercategory"), allc), n_cat)
    cat_id, (cat_name, cat_super) = _dedupe(cid, c_src, [cn, cs], names, "category")
    return cat_id, cat_name, cat_super


# --------------------------------------------------------------------------------------------
# annotations
class _Instances:
    """The instances of all files, a column each: in file order as :func:`_annotations` joins
    them, in (image_id, category_id, ann_id) order once :func:`_sort` has run (``order``: file
    index of each; ``ident``: the order was already right). ``src`` indexes ``names`` (the
    files); ring ``r0[i] + k`` of instance ``i`` has ``ring_vals[r0[i] + k]`` numbers in ``coords``
    (rings in file order)."""

    __slots__ = ("names", "n", "src", "ann_id", "iscrowd", "img", "cat", "area", "score", "has_bb", "bbox",
                 "seg_kind", "n_rings", "r0", "ring_vals", "coords", "rle_kind", "kind", "order", "ident")


def _concat(cols: list[Cols], attr: str):
    a = [getattr(c, attr) for c in cols]
    return np.concatenate(a) if len(a) > 1 else a[0]


def _cat_ragged(offs):
    """Concatenate per-file (n_f + 1) offsets into one (n + 1) offsets array."""
    out = [np.zeros(1, np.int64)]
    base = 0
    for o in offs:
        out.append(o[1:] - o[0] + base)
        base = int(out[-1][-1]) if len(o) > 1 else base
    return np.concatenate(out)


def _annotations(cols: list[Cols], names, results: bool) -> _Instances:
    """The files' annotation columns joined, in file order; iscrowd and bbox lengths checked."""
    t = _Instances()
    t.names = names
    lens = [c.n for c in cols]
    n = t.n = sum(lens)
    src = t.src = np.repeat(np.arange(len(cols), dtype=np.int16), lens)
    if results:
        t.ann_id = np.arange(1, n + 1, dtype=np.int64)
        t.iscrowd = np.zeros(n, np.uint8)
    else:
        t.ann_id = _concat(cols, "ann_id")
        crowd = _concat(cols, "iscrowd")
        bad = (crowd != 0) & (crowd != 1)
        if bad.any():
            j = _first(bad)
            raise InputError(f"iscrowd must be 0 or 1, got {crowd[j]}", names[src[j]], t.ann_id[j], "iscrowd")
        t.iscrowd = crowd.astype(np.uint8)
    t.img = _concat(cols, "img")
    t.cat = _concat(cols, "cat")
    t.area = _concat(cols, "area")
    t.score = _concat(cols, "score")
    t.has_bb = _concat(cols, "has_bb")
    if any(c.bb_len is not None for c in cols):
        bb_len = np.concatenate([c.bb_len if c.bb_len is not None else np.where(c.has_bb, 4, 0) for c in cols])
        bad = t.has_bb & (bb_len != 4)
        if bad.any():
            j = _first(bad)
            raise InputError("bbox must be 4 numbers [x, y, w, h]", names[src[j]], t.ann_id[j], "bbox")
    t.bbox = _concat(cols, "bbox")
    t.seg_kind = _concat(cols, "seg_kind")
    t.n_rings = _concat(cols, "n_rings")
    t.ring_vals = _concat(cols, "ring_vals")
    t.coords = _concat(cols, "coords")
    for c in cols:   # the only reference left is ``coords``: the scanner's buffer is freed once laid out
        c.coords = None
    t.r0 = np.zeros(n, np.int64)   # each instance's first ring (file order, all files)
    if n:
        np.cumsum(t.n_rings[:-1], out=t.r0[1:])
    t.rle_kind = _concat(cols, "rle_kind")
    return t


def _sort(t: _Instances) -> None:
    """Put the instances in (image_id, category_id, ann_id) order: every column is permuted by
    numpy, the ragged geometry (by ``r0``) by one gather once the checks have passed."""
    t.order = order = instance_order(t.img, t.cat, t.ann_id)
    t.ident = not (order[1:] < order[:-1]).any()
    if not t.ident:
        t.ann_id, t.iscrowd, t.img, t.cat = t.ann_id[order], t.iscrowd[order], t.img[order], t.cat[order]
        t.src, t.area, t.score, t.has_bb = t.src[order], t.area[order], t.score[order], t.has_bb[order]
        t.bbox = np.take(t.bbox, order, axis=0)   # rows: several times faster than bbox[order]
        t.seg_kind, t.n_rings, t.r0, t.rle_kind = t.seg_kind[order], t.n_rings[order], t.r0[order], t.rle_kind[order]
    else:
        t.area, t.bbox = t.area.copy(), t.bbox.copy()


def _result_boxes(t: _Instances) -> None:
    """loadRes: a result with no segmentation but a bbox becomes the bbox polygon, area w * h."""
    nul = np.flatnonzero(t.seg_kind == SEG_NULL)
    if not nul.size:
        return
    nob = ~t.has_bb[nul]
    if nob.any():
        j = nul[_first(nob)]
        raise InputError("result has neither 'segmentation' nor 'bbox'", t.names[t.src[j]], t.ann_id[j],
                         "segmentation")
    x, y, bw, bh = t.bbox[nul].T
    extra = np.stack([x, y, x, y + bh, x + bw, y + bh, x + bw, y], axis=1).ravel()
    t.r0 = t.r0.copy()
    t.n_rings = t.n_rings.copy()
    t.seg_kind = t.seg_kind.copy()
    t.r0[nul] = len(t.ring_vals) + np.arange(nul.size)
    t.n_rings[nul] = 1
    t.seg_kind[nul] = SEG_OK
    t.area[nul] = bw * bh
    t.ring_vals = np.concatenate([t.ring_vals, np.full(nul.size, 8, np.int64)])
    t.coords = np.concatenate([t.coords, extra])


def _segmentation_kinds(t: _Instances, cols: list[Cols], datas, results: bool) -> None:
    """Refuse a segmentation that is neither polygons nor RLE (explained from the file's bytes,
    ``datas``), then set ``t.kind`` (``KIND_*``)."""

    def explain(j, why):
        data = datas[t.src[j]]   # raises, precise when it can:
        validation_failed(data() if callable(data) else data, t.names[t.src[j]], why, results)
        raise InputError(why, t.names[t.src[j]], t.ann_id[j], "segmentation")  # pragma: no cover

    bad = (t.seg_kind == SEG_BAD) | (t.seg_kind == SEG_NULL)
    if bad.any():
        explain(_first(bad), "segmentation is neither polygons (list of rings of numbers) nor RLE")
    if any(c.rle_fail for c in cols):
        lens = [c.n for c in cols]
        inv = np.empty(t.n, np.int64)
        inv[t.order] = np.arange(t.n)
        cand = []
        base = 0
        for c in cols:
            cand.extend(inv[base + j] for j in (c.rle_fail or ()))
            base += c.n
        k = int(min(cand))
        fo = int(t.order[k])
        f = int(np.searchsorted(np.cumsum(lens), fo, side="right"))
        explain(k, cols[f].rle_fail[fo - sum(lens[:f])])
    t.kind = np.where(t.seg_kind == SEG_RLE, t.rle_kind, KIND_POLYGON).astype(np.int8)


# --------------------------------------------------------------------------------------------
# geometry
class _Polygons(NamedTuple):
    xy: np.ndarray                  # (points, 2) float64, instance order
    ring_offsets: np.ndarray        # rings + 1 -> xy rows
    inst_ring_offsets: np.ndarray   # instances + 1 -> rings


class _Rles(NamedTuple):
    h: np.ndarray        # int64 (0 for polygons) until checked against the image size
    w: np.ndarray
    counts: np.ndarray   # uint32 counts, instance order
    offsets: np.ndarray  # instances + 1 -> counts
    sums: np.ndarray     # each instance's counts summed


def _polygons(t: _Instances, strict: bool, warnings: Warnings) -> _Polygons:
    """The polygons laid out in instance order; an empty list, an odd ring and a bad coordinate
    refused; a ring of under 3 points counted (``degenerate_ring``; an error when ``strict``)."""
    from .engine.ragged import polygon_layout   # Numba, imported on first use (start-up time)
    names, src, ann_id = t.names, t.src, t.ann_id
    empty = (t.kind == KIND_POLYGON) & (t.n_rings == 0)
    if empty.any():
        j = _first(empty)
        raise InputError("empty segmentation list", names[src[j]], ann_id[j], "segmentation")
    coords, ring_vals, inst_ring_offsets, ring_offsets, first_odd, first_bad = polygon_layout(
        t.coords, t.ring_vals, t.r0, t.n_rings, MAX_ABS_COORD)
    t.coords = t.ring_vals = None

    def ring_owner(r):
        i = int(np.searchsorted(inst_ring_offsets, r, side="right") - 1)
        return i, int(r - inst_ring_offsets[i])

    if first_odd >= 0:
        r = first_odd
        i, k = ring_owner(r)
        raise InputError(f"ring has an odd number of coordinates ({ring_vals[r]})", names[src[i]], ann_id[i],
                         f"segmentation[{k}]")
    if first_bad >= 0:  # NaN, inf or huge
        q = first_bad
        val_off = np.concatenate([[0], np.cumsum(ring_vals)])
        r = int(np.searchsorted(val_off, q, side="right") - 1)
        i, k = ring_owner(r)
        v = float(coords[q])
        reason = (f"non-finite coordinate {v!r}" if not np.isfinite(v)
                  else f"coordinate {v!r} exceeds |x| <= {MAX_ABS_COORD:g}")
        raise InputError(reason, names[src[i]], ann_id[i], f"segmentation[{k}][{q - val_off[r]}]")
    degen = ring_vals < 6
    if degen.any():
        rs = np.flatnonzero(degen)
        for r in rs[:warnings.max_examples]:
            i, k = ring_owner(r)
            msg = (f"{names[src[i]]}: annotation {ann_id[i]}: field 'segmentation[{k}]': ring has "
                   f"{ring_vals[r] // 2} points (need >= 3); kept as stored")
            if strict:
                raise InputError(f"ring has {ring_vals[r] // 2} points (need >= 3)", names[src[i]], ann_id[i],
                                 f"segmentation[{k}]")
            warnings.add("degenerate_ring", msg)
        warnings.counts["degenerate_ring"] += len(rs) - min(len(rs), warnings.max_examples)
        log.warning("%d polygon ring(s) with fewer than 3 points kept (e.g. %s)", len(rs),
                    warnings.examples["degenerate_ring"][0])
    return _Polygons(coords.reshape(-1, 2), ring_offsets, inst_ring_offsets)


def _decode_batch(buf, boff):
    from .engine.ragged import decode_strings   # Numba, imported on first use (start-up time)
    if boff.shape[0] == 1:
        return np.zeros(0, np.uint32), boff.copy(), np.zeros(0, np.int8)
    return decode_strings(buf, boff)


def _rles(t: _Instances, cols: list[Cols]) -> _Rles:
    """The RLE counts in instance order (compressed strings decoded, lists as given), with their
    sums; a size that is not [h, w], a bad string and a count outside uint32 refused."""
    from .engine.ragged import RLE_ERROR_TEXT, rle_layout   # Numba, imported on first use (start-up time)
    names, src, ann_id, order, ident = t.names, t.src, t.ann_id, t.order, t.ident
    is_rle = t.kind != KIND_POLYGON
    if any(c.sz_len is not None for c in cols):
        sz_len = np.concatenate([c.sz_len if c.sz_len is not None else np.full(c.n, 2, np.int64) for c in cols])
        sz_len = sz_len if ident else sz_len[order]
        bad = is_rle & (sz_len != 2)
        if bad.any():
            j = _first(bad)
            raise InputError("RLE size must be [height, width]", names[src[j]], ann_id[j], "segmentation.size")
    rh = _concat(cols, "rle_h")
    rw = _concat(cols, "rle_w")
    if not ident:
        rh, rw = rh[order], rw[order]
    # per-instance ragged counts in file order: strings decoded, lists as given
    str_off = _cat_ragged([c.str_off for c in cols])
    str_bytes = _concat(cols, "str_bytes")
    lst_off = _cat_ragged([c.lst_off for c in cols])
    lst_counts = _concat(cols, "lst_counts")
    s_counts, s_off, s_err = _decode_batch(np.ascontiguousarray(str_bytes), str_off)
    s_err = s_err if ident else s_err[order]
    if (s_err != 0).any():
        j = _first(s_err != 0)
        raise InputError(RLE_ERROR_TEXT[int(s_err[j])], names[src[j]], ann_id[j], "segmentation.counts")
    # counts in instance order (strings decoded, lists as given), list counts checked, sums
    counts, offsets, sums, k = rle_layout(s_counts, s_off, lst_counts, lst_off,
                                          np.arange(t.n, dtype=np.int64) if ident else order,
                                          t.kind == KIND_RLE_STRING)
    if k >= 0:
        fo = int(order[k])
        seg = lst_counts[lst_off[fo]:lst_off[fo + 1]]
        v = int(seg[_first((seg < 0) | (seg > UINT32_MAX))])
        raise InputError(f"RLE count {v} is negative or exceeds 2**32 - 1", names[src[k]], ann_id[k],
                         "segmentation.counts")
    return _Rles(np.where(is_rle, rh, 0), np.where(is_rle, rw, 0), counts, offsets, sums)


# --------------------------------------------------------------------------------------------
# ids, and sizes against the images
def _image_rows(t: _Instances, image_id, cat_id, path_label: str, check_ann_ids: bool):
    """Each instance's row in the images; an unknown image or category id, and a repeated image
    or (``check_ann_ids``) annotation id, refused."""
    names, src, ann_id, img, cat = t.names, t.src, t.ann_id, t.img, t.cat
    ord_img = np.argsort(image_id, kind="stable")
    image_id_s = image_id[ord_img]
    if (image_id_s[1:] == image_id_s[:-1]).any():
        k = _first(image_id_s[1:] == image_id_s[:-1])
        raise InputError(f"duplicate image id {image_id_s[k]}", path_label, image_id_s[k], "id", kind="image")
    img_row = np.searchsorted(image_id, img)
    img_row_c = np.minimum(img_row, max(len(image_id) - 1, 0))
    unknown = (img_row >= len(image_id)) | (image_id[img_row_c] != img) if len(image_id) else np.ones(t.n, bool)
    if unknown.any():
        j = _first(unknown)
        raise InputError(f"image id {img[j]} is not defined in 'images'", names[src[j]], ann_id[j], "image_id")
    crow = np.searchsorted(cat_id, cat)
    crow_c = np.minimum(crow, max(len(cat_id) - 1, 0))
    unknown = (crow >= len(cat_id)) | (cat_id[crow_c] != cat) if len(cat_id) else np.ones(t.n, bool)
    if unknown.any():
        j = _first(unknown)
        raise InputError(f"category id {cat[j]} is not defined in 'categories'", names[src[j]], ann_id[j],
                         "category_id")
    if check_ann_ids:
        aord = np.argsort(ann_id, kind="stable")
        sa = ann_id[aord]
        dup = sa[1:] == sa[:-1]
        if dup.any():
            k = _first(dup)
            j0, j1 = aord[k], aord[k + 1]
            where = (f"in {names[src[j0]]}" if src[j0] == src[j1]
                     else f"also in {names[src[j0]]}")
            raise InputError(f"duplicate annotation id {sa[k]} ({where})", names[src[j1]], sa[k], "id")
    return img_row


def _check_sizes(t: _Instances, poly: _Polygons, rle: _Rles, ih, iw) -> None:
    """Refuse an RLE whose size is not its image's or whose counts do not cover it, and a ring
    that would cross so many pixel columns of its image that rasterising it would need gigabytes
    (a zigzag folding back over itself)."""
    from .engine.ragged import ring_crossings_over   # Numba, imported on first use (start-up time)
    names, src, ann_id = t.names, t.src, t.ann_id
    is_rle = t.kind != KIND_POLYGON
    bad = is_rle & ((rle.h != ih) | (rle.w != iw))
    if bad.any():
        j = _first(bad)
        raise InputError(f"RLE size [{rle.h[j]}, {rle.w[j]}] differs from the image's [height, width] "
                         f"[{ih[j]}, {iw[j]}]", names[src[j]], ann_id[j], "segmentation.size")
    ring_offsets, inst_ring_offsets = poly.ring_offsets, poly.inst_ring_offsets
    i, k, rb, allowed = ring_crossings_over(poly.xy, ring_offsets, inst_ring_offsets, ~is_rle, ih, iw,
                                            MAX_RING_CROSSINGS)
    if i >= 0:
        npts = int(ring_offsets[inst_ring_offsets[i] + k + 1] - ring_offsets[inst_ring_offsets[i] + k])
        raise InputError(f"polygon ring of {npts} points would cross pixel columns up to {rb} times on its "
                         f"{iw[i]}x{ih[i]} image, over the bound of {allowed} (a ring folding back over "
                         f"itself); refused", names[src[i]], ann_id[i], f"segmentation[{k}]")
    bad = is_rle & (rle.sums != (ih * iw).astype(np.uint64))
    if bad.any():
        j = _first(bad)
        raise InputError(f"RLE counts sum to {rle.sums[j]}, expected height*width = {ih[j] * iw[j]}",
                         names[src[j]], ann_id[j], "segmentation.counts")


# --------------------------------------------------------------------------------------------
def build(parts, names, like, strict: bool, path_label: str, datas) -> Dataset:
    """One Dataset from ``parts``, a list of (images, categories, :class:`Cols`, results) per file
    (``names``: the files; ``datas``: each file's bytes, or a callable reading them again, for
    precise messages); a results list takes its images and categories from ``like``."""
    tick = _Ticker()
    warnings = Warnings()
    results = parts[0][3]
    if any(p[3] != results for p in parts):
        raise InputError("cannot merge results lists with instance files", path_label)
    if results:
        image_id, width, height, file_name = like.image_id, like.width, like.height, like.file_name
        cat_id, cat_name, cat_super = like.cat_id, like.cat_name, like.cat_supercategory
    else:
        image_id, width, height, file_name = _images([p[0] for p in parts], names)
        cat_id, cat_name, cat_super = _categories([p[1] for p in parts], names)
    tick("annotations ")
    cols = [p[2] for p in parts]
    t = _annotations(cols, names, results)
    tick("order = np.lexsort")
    # ids rising strictly in input order (files written by id) are unique: no sort to check them
    ids_rise = t.n < 2 or not (t.ann_id[1:] <= t.ann_id[:-1]).any()
    _sort(t)
    if results:
        _result_boxes(t)
    _segmentation_kinds(t, cols, datas, results)
    tick("polygons")
    poly = _polygons(t, strict, warnings)
    tick("RLE")
    rle = _rles(t, cols)
    tick("ids")
    img_row = _image_rows(t, image_id, cat_id, path_label, not results and not ids_rise)
    tick("RLE vs image size, s")
    ih = height[img_row].astype(np.int64)
    iw = width[img_row].astype(np.int64)
    _check_sizes(t, poly, rle, ih, iw)
    area = t.area
    if results:  # loadRes: an RLE result's area is its pixel count (one pass over the counts)
        from .engine.rle import rle_area_batch   # Numba, imported on first use (start-up time)
        px = rle_area_batch(np.ascontiguousarray(rle.counts, dtype=np.uint32),
                            np.ascontiguousarray(rle.offsets, dtype=np.int64))
        area = np.where(t.kind != KIND_POLYGON, px.astype(np.float64), area)
    tick("return Dataset")
    return Dataset(
        path=path_label, sources=list(names),
        image_id=image_id, width=width, height=height, file_name=file_name,
        cat_id=cat_id, cat_name=cat_name, cat_supercategory=cat_super,
        ann_id=t.ann_id, inst_image_id=t.img, category_id=t.cat, iscrowd=t.iscrowd,
        area=area, bbox=np.ascontiguousarray(t.bbox), score=t.score, kind=t.kind, source=t.src,
        img_row=img_row.astype(np.int64),
        xy=np.ascontiguousarray(poly.xy), ring_offsets=poly.ring_offsets,
        inst_ring_offsets=poly.inst_ring_offsets,
        counts=rle.counts, counts_offsets=rle.offsets,
        rle_h=rle.h.astype(np.int32), rle_w=rle.w.astype(np.int32),   # equal to image sizes now: they fit
        warnings=warnings,
    )
