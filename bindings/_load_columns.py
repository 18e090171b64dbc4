"""One file's annotations as columns (:class:`Cols`), from the JSON scanner or from msgspec.

Both decode paths give the same columns in file order, so everything after them -- the merge,
the checks and the layout in :mod:`cocodiff._load_build` -- is shared. A segmentation's kind
is one of the ``SEG_*`` codes here; the scanner's codes are mapped onto them.
"""
from __future__ import annotations

from itertools import chain, compress, repeat
from operator import attrgetter, is_not

import msgspec
import numpy as np

from ._load_schema import DEC_RLE, UINT32_MAX
from .dataset import KIND_POLYGON, KIND_RLE_LIST, KIND_RLE_STRING
from .engine import scancodes as _sc   # plain integers: no Numba imported
from .errors import InputError

_SECTION = {"annotation": "annotations", "image": "images", "category": "categories"}


def int_col(items, attr: str, n: int, names, src, what="annotation", ids=None) -> np.ndarray:
    """Attribute ``attr`` of every item as int64; a value out of range is an InputError naming
    the file (``names[src[i]]``) and the item (by ``ids`` when given, else by index)."""
    try:
        return np.fromiter(map(attrgetter(attr), items), np.int64, n)
    except OverflowError:
        for i, it in enumerate(items):
            v = getattr(it, attr)
            if not -(1 << 63) <= v < (1 << 63):
                k = i - int(np.searchsorted(src, src[i]))   # index within its file
                fld = attr if ids is not None else f"{_SECTION.get(what, what)}[{k}].{attr}"
                raise InputError(f"integer {v} out of the int64 range", names[src[i]],
                                 None if ids is None else ids[i], fld, kind=what) from None
        raise


class Cols:
    """One file's annotation columns in file order (from the scanner or from msgspec)."""

    __slots__ = ("n", "ann_id", "iscrowd", "img", "cat", "area", "score", "bbox", "has_bb", "bb_len",
                 "seg_kind", "n_rings", "ring_vals", "coords", "rle_kind", "rle_fail", "rle_h", "rle_w",
                 "sz_len", "str_bytes", "str_off", "lst_counts", "lst_off")


#: a segmentation's kind in :attr:`Cols.seg_kind`: polygons, an RLE object, ``null`` (results
#: files only), anything else -- the codes of :func:`cocodiff.engine.jsonseg.parse_polygons`
#: (``POLY_*``), written here because that module imports Numba
SEG_OK, SEG_RLE, SEG_NULL, SEG_BAD = 0, 1, 2, -1


def cols_from_scan(r, results: bool) -> Cols:
    """The scanner's result ``r`` (:func:`cocodiff.engine.jsonscan.scan_coco`) -> columns (file order)."""
    c = Cols()
    c.n = r.n
    c.ann_id = None if results else r.ann_id
    c.iscrowd = None if results else r.iscrowd
    c.img, c.cat, c.area, c.score, c.bbox = r.image_id, r.category_id, r.area, r.score, r.bbox
    c.has_bb = r.has_bbox
    c.bb_len = None
    sk = r.seg_kind
    c.seg_kind = np.where(sk == _sc.SEG_POLYGON, SEG_OK,
                          np.where(sk == _sc.SEG_NULL, SEG_NULL, SEG_RLE)).astype(np.int8)
    c.n_rings, c.ring_vals, c.coords = r.n_rings, r.ring_vals, r.coords
    c.rle_kind = np.where(sk == _sc.SEG_RLE_STRING, KIND_RLE_STRING,
                          np.where(sk == _sc.SEG_RLE_LIST, KIND_RLE_LIST, KIND_POLYGON)).astype(np.int8)
    c.rle_fail = None
    c.rle_h, c.rle_w = r.rle_h, r.rle_w
    c.sz_len = None
    c.str_bytes, c.str_off = r.str_bytes, r.str_offsets
    c.lst_counts, c.lst_off = r.list_counts, r.list_offsets
    return c


def cols_from_struct(anns, name: str, results: bool) -> Cols:
    """The msgspec path: typed Structs -> columns (file order)."""
    from .engine.jsonseg import parse_polygons   # Numba, imported on first use (start-up time)
    c = Cols()
    n = c.n = len(anns)
    names = [name]
    src = np.zeros(n, np.int16)
    ids = None
    if results:
        c.ann_id = None
        c.iscrowd = None
    else:
        c.ann_id = ids = int_col(anns, "id", n, names, src)
        c.iscrowd = int_col(anns, "iscrowd", n, names, src, ids=ids)
    c.img = int_col(anns, "image_id", n, names, src, ids=ids)
    c.cat = int_col(anns, "category_id", n, names, src, ids=ids)
    c.area = np.fromiter(map(attrgetter("area"), anns), np.float64, n)
    c.score = np.fromiter(map(attrgetter("score"), anns), np.float64, n)
    bbs = list(map(attrgetter("bbox"), anns))
    has_bb = np.fromiter(map(is_not, bbs, repeat(None)), bool, n)
    bb_len = np.zeros(n, np.int64)
    bb_len[has_bb] = np.fromiter(map(len, compress(bbs, has_bb)), np.int64)
    bbox = np.full((n, 4), np.nan)
    ok = has_bb & (bb_len == 4)
    bbox[ok] = np.fromiter(chain.from_iterable(compress(bbs, ok)), np.float64, 4 * int(ok.sum())).reshape(-1, 4)
    c.bbox, c.has_bb, c.bb_len = bbox, has_bb, bb_len
    raws = list(map(attrgetter("segmentation"), anns))
    seg_off = np.zeros(n + 1, np.int64)
    np.cumsum(np.fromiter(map(len, raws), np.int64, n), out=seg_off[1:])
    seg_kind, n_rings, ring_vals, coords = parse_polygons(np.frombuffer(b"".join(raws), np.uint8), seg_off)
    seg_kind = seg_kind.copy()
    if not results:
        seg_kind[seg_kind == SEG_NULL] = SEG_BAD
    c.seg_kind, c.n_rings, c.ring_vals, c.coords = seg_kind, n_rings, ring_vals, coords
    _rle_cols(c, raws, name, ids)
    return c


def _rle_cols(c: Cols, raws, name: str, ids) -> None:
    """The RLE columns of ``c`` from the raw texts of its RLE segmentations (``SEG_RLE``): sizes,
    compressed strings and count lists as given; a text msgspec refuses is kept in ``rle_fail``
    for the build to explain."""
    n = c.n
    rle_kind = np.zeros(n, np.int8)
    rle_h = np.zeros(n, np.int64)
    rle_w = np.zeros(n, np.int64)
    sz_len = np.full(n, 2, np.int64)
    fail = {}
    str_parts = [b""] * n
    lst_parts = [()] * n
    for j in np.flatnonzero(c.seg_kind == SEG_RLE).tolist():
        try:
            sg = DEC_RLE.decode(raws[j])
        except (msgspec.ValidationError, msgspec.DecodeError) as e:
            fail[j] = f"invalid RLE segmentation ({e})"
            continue
        sz_len[j] = len(sg.size)
        if len(sg.size) == 2:
            if not all(-(1 << 62) < v < (1 << 62) for v in sg.size):
                raise InputError(f"RLE size {sg.size} is out of range", name,
                                 ids[j] if ids is not None else f"#{j + 1}", "segmentation.size")
            rle_h[j], rle_w[j] = sg.size
        if type(sg.counts) is str:
            rle_kind[j] = KIND_RLE_STRING
            str_parts[j] = sg.counts.encode()
        else:
            rle_kind[j] = KIND_RLE_LIST
            lst_parts[j] = sg.counts
    c.rle_kind, c.rle_h, c.rle_w, c.sz_len = rle_kind, rle_h, rle_w, sz_len
    c.rle_fail = fail or None
    c.str_off = np.zeros(n + 1, np.int64)
    np.cumsum(np.fromiter(map(len, str_parts), np.int64, n), out=c.str_off[1:])
    c.str_bytes = np.frombuffer(b"".join(str_parts), np.uint8)
    c.lst_off = np.zeros(n + 1, np.int64)
    np.cumsum(np.fromiter(map(len, lst_parts), np.int64, n), out=c.lst_off[1:])
    try:
        c.lst_counts = np.fromiter(chain.from_iterable(lst_parts), np.int64, int(c.lst_off[-1]))
    except OverflowError:
        for j, cs in enumerate(lst_parts):
            for v in cs:
                if not 0 <= v <= UINT32_MAX:
                    raise InputError(f"RLE count {v} is negative or exceeds 2**32 - 1", name, ids[j] if ids is not None
                                     else f"#{j + 1}", "segmentation.counts") from None
        raise

