"""Drop-in replacement for ``pycocotools.mask``::

    from cocodiff import mask as maskUtils

Same functions, arguments and return conventions as pycocotools 2.0.x -- RLEs are dicts
``{'size': [h, w], 'counts': bytes}``, masks are ``uint8`` arrays in Fortran order, ``area``
gives ``uint32``, ``toBbox`` / ``iou`` give ``float64`` -- and the same results, bit for bit
(strings, areas, boxes, IoUs). The work is done by the Numba kernels in
:mod:`cocodiff.engine.rle` and :mod:`cocodiff.engine.iou`.

Where pycocotools crashes, reads uninitialised memory or silently guesses, this module
raises ``ValueError`` (a subclass of ``Exception``, so ``except Exception`` still works):

* an empty list (``decode``, ``merge``, ``frPyObjects``), masks of different sizes in
  ``decode`` / ``merge``;
* negative counts, compressed strings with characters outside ``'0'..'o'`` or that end
  inside a value, ``h`` or ``w`` not >= 1;
* ``decode`` of counts that do not sum to ``h * w`` (pycocotools refuses a long one and
  leaves the rest of the mask uninitialised for a short one);
* ``frPyObjects`` with a bare flat list of 4 numbers (a box or a 2-point polygon?), a
  ragged list whose first item has 4 numbers, a polygon with an odd number or no
  coordinates or a non-finite one.

Conventions kept from pycocotools (documented because they surprise):

* ``frPyObjects`` reads a list whose items are all 4-number lists, or an ``(N, 4)`` array,
  as **boxes** ``[x, y, w, h]`` -- so a polygon list ``[[x1, y1, x2, y2]]`` is a box;
* an uncompressed RLE dict carries its own ``size``; ``frPyObjects`` ignores ``h, w`` for it;
* ``iou`` returns ``[]`` (a list) when ``dt`` or ``gt`` is empty, ``-1`` for a pair of masks
  of different sizes whose boxes overlap (``0`` when they do not), and for a crowd ``gt``
  uses ``area(dt)`` as the union.

Counts that do not sum to ``h * w`` ("loose" RLEs, short or long) are accepted where
pycocotools accepts them, with its results bit for bit: ``frPyObjects`` /
``frUncompressedRLE`` encode the counts as they are, ``area`` sums the foreground runs
(``uint32``, wrapping like C), ``toBbox`` follows ``rleToBbox``'s unsigned arithmetic with the
RLE's own ``w``, and ``iou`` / ``merge`` of RLEs of one total walk them as pycocotools does.
Where pycocotools never returns (``iou`` / ``merge`` of two RLEs of one size but different
totals: its loop spins forever) the shorter is read as ending in background. Each loose RLE
is counted (:func:`loose_rle_count`) and logged (a warning the first time, then at debug
level). The dataset loader keeps its strict policy: this is only the drop-in.

Extensions: ``encode`` also takes ``bool`` masks and any memory layout; ``iou`` / ``area`` /
``toBbox`` / ``decode`` / ``merge`` also take uncompressed RLE dicts (list counts);
``frPyObjects`` also takes compressed RLE dicts (returned re-encoded) and a single flat
polygon list (returns one RLE dict); ``iscrowd=None`` means no crowd.
"""
from __future__ import annotations

import logging
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._rle_dicts import U32_MAX, check_dim, one_rle, parse_rles, rles_to_store, store_to_rles
from .engine.iou import bbox_iou_matrix, iou_matrix
from .engine.rle import rle_area_batch, rle_bbox_batch, rle_decode_batch, rle_encode

__all__ = ["encode", "decode", "area", "toBbox", "iou", "merge", "frPyObjects", "frBbox",
           "frPoly", "frUncompressedRLE", "rles_to_store", "store_to_rles"]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- loose RLEs
_loose = {"count": 0, "warned": False}


def loose_rle_count() -> int:
    """Number of RLEs whose counts do not sum to ``h * w`` the drop-in has accepted so far.

    Examples
    --------
    >>> n = loose_rle_count()
    >>> _ = area({'size': [5, 4], 'counts': [6, 2]})
    >>> loose_rle_count() - n
    1
    """
    return _loose["count"]


def _note_loose(what: str, totals, hs, ws, bad) -> None:
    _loose["count"] += int(bad.size)
    i = int(bad[0])
    msg = (f"{what}: {bad.size} RLE(s) whose counts do not sum to h*w, read as pycocotools "
           f"does (the first: [{i}] sums to {int(totals[i])}, h*w = {int(hs[i])}*{int(ws[i])} "
           f"= {int(hs[i] * ws[i])})")
    if not _loose["warned"]:
        _loose["warned"] = True
        logger.warning("%s; further ones are logged at debug level", msg)
    else:
        logger.debug("%s", msg)


def _parse_loose(rleObjs, what: str):
    """:func:`parse_rles`, counting and logging the RLEs whose counts do not sum to ``h * w``.

    Returns counts, offsets, hs, ws, totals and the indices of the loose RLEs.
    """
    counts, offsets, hs, ws, totals = parse_rles(rleObjs, what)
    bad = np.nonzero(totals != hs * ws)[0]
    if bad.size:
        _note_loose(what, totals, hs, ws, bad)
    return counts, offsets, hs, ws, totals, bad


def _bbox_loose(c: np.ndarray, h: int, w: int) -> list:
    """``rleToBbox`` of one RLE of any total, in the C code's unsigned 32-bit arithmetic.

    The kernel derives the width from the total (exact for a valid RLE); pycocotools uses
    the RLE's own ``w``, which only differs for a loose one.
    """
    h32 = int(h) & U32_MAX
    w32 = int(w) & U32_MAX
    if h32 == 0:
        raise ValueError("toBbox: mask height is a multiple of 2**32")
    m = (len(c) // 2) * 2
    if m == 0:
        return [0.0, 0.0, 0.0, 0.0]
    runs = np.asarray(c[:m], np.uint64)
    ends = np.cumsum(runs, dtype=np.uint64) & np.uint64(U32_MAX)
    starts = np.concatenate((np.zeros(1, np.uint64), ends[:-1]))
    fg = np.nonzero(runs[1::2] > 0)[0] * 2 + 1
    xs, ys, xe, ye = w32, h32, 0, 0
    if fg.size:
        st = starts[fg]
        last = (ends[fg] + np.uint64(U32_MAX)) & np.uint64(U32_MAX)  # cc - 1, wrapped
        hh = np.uint64(h32)
        x0, y0, x1, y1 = st // hh, st % hh, last // hh, last % hh
        xs = min(xs, int(x0.min()))
        xe = max(xe, int(x1.max()))
        if np.any(x0 < x1):  # a run across columns: full height
            ys, ye = 0, h32 - 1
        else:
            ys = min(ys, int(y0.min()))
            ye = max(ye, int(y1.max()))
    return [float(xs), float(ys), float((xe - xs + 1) & U32_MAX), float((ye - ys + 1) & U32_MAX)]


def _bboxes(counts, offsets, hs, ws, loose):
    bb = rle_bbox_batch(counts, offsets, hs)
    for i in loose.tolist():
        bb[i] = _bbox_loose(counts[offsets[i]:offsets[i + 1]], hs[i], ws[i])
    return bb


def _pad_to(counts, offsets, totals, target):
    """The store with every RLE whose total is below ``target`` given a background tail."""
    pieces = []
    lens = []
    for i in range(len(offsets) - 1):
        c = counts[offsets[i]:offsets[i + 1]]
        d = int(target) - int(totals[i])
        if d > 0:
            tail = []
            if len(c) % 2 == 0:          # ends on foreground (or empty): a background run
                tail.append(min(d, U32_MAX))
                d -= tail[-1]
            elif int(c[-1]) + d <= U32_MAX:  # ends on background: lengthen it
                c = c.copy()
                c[-1] += d
                d = 0
            while d > 0:                 # runs past 2**32 - 1: (empty foreground, background)
                tail += [0, min(d, U32_MAX)]
                d -= tail[-1]
            if tail:
                c = np.concatenate((c, np.array(tail, np.uint32)))
        pieces.append(c)
        lens.append(len(c))
    off = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(lens, out=off[1:])
    flat = np.concatenate(pieces) if pieces else np.zeros(0, np.uint32)
    return np.ascontiguousarray(flat, np.uint32), off


# --------------------------------------------------------------------------- public API
def encode(bimask: np.ndarray) -> dict[str, Any] | list[dict[str, Any]]:
    """Run-length encode binary mask(s), like ``pycocotools.mask.encode``.

    Parameters
    ----------
    bimask : ndarray of uint8 or bool, (h, w) or (h, w, n)
        Any memory layout (pycocotools needs Fortran order for 3-D input).

    Returns
    -------
    dict or list of dict
        One RLE for a 2-D mask, a list of ``n`` for a 3-D stack.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((5, 4), np.uint8); m[1:3, 1:3] = 1
    >>> encode(m)
    {'size': [5, 4], 'counts': b'62304'}
    """
    if not isinstance(bimask, np.ndarray):
        raise ValueError(f"encode: expected a numpy array, got {type(bimask).__name__}")
    if bimask.dtype == np.bool_:
        bimask = bimask.view(np.uint8)
    if bimask.dtype != np.uint8:
        raise ValueError(f"encode: mask dtype must be uint8 or bool, got {bimask.dtype}")
    if bimask.ndim == 2:
        h, w = bimask.shape
        check_dim(h, "encode: mask height")
        check_dim(w, "encode: mask width")
        return one_rle(rle_encode(bimask), h, w)
    if bimask.ndim == 3:
        h, w, n = bimask.shape
        check_dim(h, "encode: mask height")
        check_dim(w, "encode: mask width")
        return [one_rle(rle_encode(bimask[:, :, i]), h, w) for i in range(n)]
    raise ValueError(f"encode: mask must be 2-D (h, w) or 3-D (h, w, n), got shape {bimask.shape}")


def decode(rleObjs: dict[str, Any] | list[dict[str, Any]]) -> np.ndarray:
    """Decode RLE(s) to binary mask(s), like ``pycocotools.mask.decode``.

    Parameters
    ----------
    rleObjs : dict or list of dict

    Returns
    -------
    ndarray of uint8
        ``(h, w)`` for one dict, ``(h, w, n)`` for a list; Fortran order.

    Examples
    --------
    >>> int(decode({'size': [5, 4], 'counts': b'62304'}).sum())
    4
    """
    single = type(rleObjs) is not list
    objs = [rleObjs] if single else rleObjs
    if len(objs) == 0:
        raise ValueError("decode: empty list of RLEs")
    counts, offsets, hs, ws = rles_to_store(objs, "decode")
    if np.any(hs != hs[0]) or np.any(ws != ws[0]):
        raise ValueError("decode: all RLEs must have the same size")
    out = rle_decode_batch(counts, offsets, int(hs[0]), int(ws[0]))
    return out[:, :, 0] if single else out


def area(rleObjs: dict[str, Any] | list[dict[str, Any]]) -> np.uint32 | np.ndarray:
    """Foreground area of RLE(s), like ``pycocotools.mask.area`` (``uint32``).

    Parameters
    ----------
    rleObjs : dict or list of dict

    Returns
    -------
    numpy.uint32 or ndarray of uint32

    Examples
    --------
    >>> int(area({'size': [5, 4], 'counts': b'62304'}))
    4
    """
    single = type(rleObjs) is not list
    objs = [rleObjs] if single else rleObjs
    counts, offsets, _, _, _, _ = _parse_loose(objs, "area")
    a = rle_area_batch(counts, offsets).astype(np.uint32)  # wraps like C's uint sum
    return a[0] if single else a


def toBbox(rleObjs: dict[str, Any] | list[dict[str, Any]]) -> np.ndarray:
    """Bounding boxes ``[x, y, w, h]`` of RLE(s), like ``pycocotools.mask.toBbox``.

    Parameters
    ----------
    rleObjs : dict or list of dict

    Returns
    -------
    ndarray of float64, (4,) for one dict or (n, 4) for a list

    Examples
    --------
    >>> toBbox({'size': [5, 4], 'counts': b'62304'})
    array([1., 1., 2., 2.])
    """
    single = type(rleObjs) is not list
    objs = [rleObjs] if single else rleObjs
    counts, offsets, hs, ws, _, loose = _parse_loose(objs, "toBbox")
    bb = _bboxes(counts, offsets, hs, ws, loose)
    return bb[0] if single else bb


def _iou_preproc(objs, name):
    if isinstance(objs, np.ndarray):
        if objs.size == 0:
            return "box", np.zeros((0, 4), np.float64)
        if objs.ndim == 1 and objs.shape[0] == 4:
            objs = objs.reshape(1, 4)
        if objs.ndim != 2 or objs.shape[1] != 4:
            raise ValueError(f"iou: {name}: a numpy array must be N x 4 bounding boxes, got shape {objs.shape}")
        return "box", np.ascontiguousarray(objs, np.float64)
    if isinstance(objs, list):
        if len(objs) == 0:
            return "empty", None
        if all(isinstance(o, (list, np.ndarray)) and len(o) == 4 for o in objs):
            arr = np.asarray(objs, dtype=np.float64)
            if arr.ndim != 2 or arr.shape[1] != 4:
                raise ValueError(f"iou: {name}: boxes must be N x 4")
            return "box", arr
        if all(isinstance(o, dict) for o in objs):
            return "rle", _parse_loose(objs, f"iou {name}")
        raise ValueError(f"iou: {name}: a list must hold bounding boxes (N x 4) or RLE dicts")
    raise ValueError(f"iou: {name}: unsupported type {type(objs).__name__}; use a list of RLE dicts, "
                     "a list of boxes or an N x 4 array")


def iou(dt: list[dict[str, Any]] | list[list[float] | np.ndarray] | np.ndarray,
        gt: list[dict[str, Any]] | list[list[float] | np.ndarray] | np.ndarray,
        pyiscrowd: Sequence[int] | np.ndarray | None) -> np.ndarray | list:
    """IoU of every ``dt`` against every ``gt``, like ``pycocotools.mask.iou``.

    Parameters
    ----------
    dt, gt : list of RLE dicts, or boxes (list of 4-number lists / N x 4 array)
        Both of the same kind.
    pyiscrowd : sequence of int (len(gt),) or None
        Crowd flags of ``gt``: a crowd's union is the area of ``dt``.

    Returns
    -------
    ndarray of float64 (len(dt), len(gt)), or ``[]`` if either is empty (as pycocotools)

    Examples
    --------
    >>> r = {'size': [5, 4], 'counts': b'62304'}
    >>> iou([r], [r], [0])
    array([[1.]])
    >>> iou([[0, 0, 2, 2]], [[1, 0, 2, 2]], [0])
    array([[0.33333333]])
    """
    kd, d = _iou_preproc(dt, "dt")
    if gt is dt:  # iou(rles, rles, crowd): parse once
        kg, g = kd, d
    else:
        kg, g = _iou_preproc(gt, "gt")
    m = 0 if kd == "empty" else (len(d) if kd == "box" else len(d[2]))
    n = 0 if kg == "empty" else (len(g) if kg == "box" else len(g[2]))
    if pyiscrowd is None:
        crowd = np.zeros(n, np.uint8)
    else:
        crowd = np.asarray(pyiscrowd)
        if crowd.ndim != 1 or crowd.shape[0] != n:
            raise ValueError(f"iou: iscrowd must have one flag per gt ({n}), got shape {crowd.shape}")
        crowd = crowd.astype(np.uint8)
    if m == 0 or n == 0:
        return []
    if kd != kg:
        raise ValueError("iou: dt and gt must be of the same kind (both RLEs or both boxes)")
    if kd == "box":
        return bbox_iou_matrix(d, g, crowd)
    dc, do, dh, dw, dt_tot, dl = d
    gc, go, gh, gw, gt_tot, gl = g
    if dl.size or gl.size:
        # loose RLEs: pycocotools walks a pair until both end, so pairs of one total agree
        # with it; pairs of one size but different totals (where its loop never ends) read
        # the shorter as ending in background. A background tail up to the largest total
        # changes no pair of equal totals.
        top = max(int(dt_tot.max()), int(gt_tot.max()))
        pdc, pdo = _pad_to(dc, do, dt_tot, top)
        pgc, pgo = (pdc, pdo) if gt is dt else _pad_to(gc, go, gt_tot, top)
        out = iou_matrix(pdc, pdo, pgc, pgo, crowd, dh, gh)
    else:
        out = iou_matrix(dc, do, gc, go, crowd, dh, gh)
    mismatch = (dh[:, None] != gh[None, :]) | (dw[:, None] != gw[None, :])
    if mismatch.any():
        # pycocotools: -1 where the boxes overlap, 0 where its bbox pre-check says no
        bo = bbox_iou_matrix(_bboxes(dc, do, dh, dw, dl), _bboxes(gc, go, gh, gw, gl), crowd)
        out = np.asfortranarray(out)
        out[mismatch] = np.where(bo[mismatch] > 0, -1.0, 0.0)
    return out


def merge(rleObjs: list[dict[str, Any]], intersect: bool = False) -> dict[str, Any]:
    """Union (or intersection) of RLEs, like ``pycocotools.mask.merge``.

    Parameters
    ----------
    rleObjs : list of dict
        RLEs of one size.
    intersect : bool
        Intersection instead of union.

    Returns
    -------
    dict

    Examples
    --------
    >>> a = {'size': [5, 4], 'counts': b'62304'}
    >>> merge([a, a])
    {'size': [5, 4], 'counts': b'62304'}
    """
    if type(rleObjs) is not list:
        raise ValueError(f"merge: expected a list of RLE dicts, got {type(rleObjs).__name__}")
    if len(rleObjs) == 0:
        raise ValueError("merge: empty list of RLEs")
    counts, offsets, hs, ws, totals, loose = _parse_loose(rleObjs, "merge")
    if np.any(hs != hs[0]) or np.any(ws != ws[0]):
        raise ValueError("merge: all RLEs must have the same size")
    if len(rleObjs) == 1:
        return one_rle(counts, hs[0], ws[0])
    if loose.size and np.any(totals != totals[0]):
        # pycocotools' loop never ends here: read the shorter ones as ending in background
        counts, offsets = _pad_to(counts, offsets, totals, int(totals.max()))
    from .engine.merge import rle_merge   # lazy: loaded by the first merge only (start-up time)
    out = rle_merge(counts, offsets, bool(intersect))
    return one_rle(np.asarray(out, np.uint32), hs[0], ws[0])


def _poly_array(p, where: str) -> np.ndarray:
    try:
        arr = np.asarray(p, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: a polygon must be a flat list of numbers") from None
    if arr.ndim != 1:
        raise ValueError(f"{where}: a polygon must be a flat list [x1, y1, x2, y2, ...]")
    if arr.size == 0:
        raise ValueError(f"{where}: empty polygon")
    if arr.size % 2:
        raise ValueError(f"{where}: polygon has an odd number of coordinates ({arr.size})")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{where}: polygon has a non-finite coordinate")
    return np.ascontiguousarray(arr)


def frPoly(poly: Sequence[Sequence[float] | np.ndarray], h: int, w: int) -> list[dict[str, Any]]:
    """RLEs of polygons, like ``pycocotools._mask.frPoly``.

    Parameters
    ----------
    poly : list of flat coordinate lists ``[x1, y1, x2, y2, ...]``
    h, w : int

    Returns
    -------
    list of dict (one per polygon)

    Examples
    --------
    >>> frPoly([[1, 1, 3, 1, 3, 3, 1, 3]], 5, 5)[0]['size']
    [5, 5]
    """
    h = check_dim(h, "frPoly: h")
    w = check_dim(w, "frPoly: w")
    from .engine.raster import poly_to_rle   # lazy: loaded by the first polygon only (start-up time)
    return [one_rle(np.asarray(poly_to_rle(_poly_array(p, f"frPoly: polygon {i}"), h, w), np.uint32), h, w)
            for i, p in enumerate(poly)]


def frBbox(bb: np.ndarray | Sequence[Sequence[float]], h: int, w: int) -> list[dict[str, Any]]:
    """RLEs of boxes ``[x, y, w, h]``, like ``pycocotools._mask.frBbox``.

    Parameters
    ----------
    bb : ndarray (n, 4) or list of 4-number lists
    h, w : int

    Returns
    -------
    list of dict

    Examples
    --------
    >>> int(area(frBbox([[0, 0, 2, 2]], 5, 5)[0]))
    4
    """
    h = check_dim(h, "frBbox: h")
    w = check_dim(w, "frBbox: w")
    arr = np.asarray(bb, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"frBbox: boxes must be N x 4, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("frBbox: box has a non-finite value")
    from .engine.raster import poly_to_rle   # lazy: loaded by the first polygon only (start-up time)
    out = []
    for xs, ys, bw, bh in arr:
        xe = xs + bw
        ye = ys + bh
        xy = np.array([xs, ys, xs, ye, xe, ye, xe, ys], np.float64)
        out.append(one_rle(np.asarray(poly_to_rle(xy, h, w), np.uint32), h, w))
    return out


def frUncompressedRLE(ucRles: list[dict[str, Any]], h: int, w: int) -> list[dict[str, Any]]:
    """Compressed RLEs from uncompressed ones (list counts), like pycocotools'.

    Each dict keeps its own ``size``; ``h, w`` are only checked to be >= 1.

    Examples
    --------
    >>> frUncompressedRLE([{'size': [5, 4], 'counts': [6, 2, 3, 2, 7]}], 5, 4)
    [{'size': [5, 4], 'counts': b'62304'}]
    """
    check_dim(h, "frUncompressedRLE: h")
    check_dim(w, "frUncompressedRLE: w")
    counts, offsets, hs, ws, _, _ = _parse_loose(ucRles, "frPyObjects")
    return store_to_rles(counts, offsets, hs, ws)


def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def frPyObjects(
        pyobj: np.ndarray | dict[str, Any] | list[dict[str, Any]] | list[Sequence[float] | np.ndarray] | list[float],
        h: int, w: int) -> dict[str, Any] | list[dict[str, Any]]:
    """Convert polygons, boxes or uncompressed RLEs to compressed RLEs (pycocotools').

    Parameters
    ----------
    pyobj : one of
        * list of polygons (flat coordinate lists, the first with > 4 numbers) -> list;
        * list of 4-number lists or an ``(N, 4)`` array -> boxes ``[x, y, w, h]`` -> list
          (pycocotools' convention: ``[[x1, y1, x2, y2]]`` is a box, not a polygon);
        * list of RLE dicts -> list; one RLE dict -> dict;
        * one flat polygon list (> 4 numbers) -> dict.
    h, w : int
        Image height and width (>= 1).

    Returns
    -------
    dict or list of dict

    Raises
    ------
    ValueError
        Empty list, a bare list of 4 numbers (box or 2-point polygon: ambiguous), a ragged
        list starting with a 4-number item, a bad polygon or RLE (see the module docstring).

    Examples
    --------
    >>> frPyObjects({'size': [5, 4], 'counts': [6, 2, 3, 2, 7]}, 5, 4)
    {'size': [5, 4], 'counts': b'62304'}
    """
    h = check_dim(h, "frPyObjects: h")
    w = check_dim(w, "frPyObjects: w")
    if isinstance(pyobj, np.ndarray):
        if pyobj.ndim != 2 or pyobj.shape[1] != 4 or pyobj.shape[0] == 0:
            raise ValueError(f"frPyObjects: a numpy array must be N x 4 boxes, got shape {pyobj.shape}")
        return frBbox(pyobj, h, w)
    if isinstance(pyobj, dict):
        return frUncompressedRLE([pyobj], h, w)[0]
    if not isinstance(pyobj, list):
        raise ValueError(f"frPyObjects: unsupported input type {type(pyobj).__name__}")
    if len(pyobj) == 0:
        raise ValueError("frPyObjects: empty list")
    first = pyobj[0]
    if isinstance(first, dict):
        if not all(isinstance(o, dict) for o in pyobj):
            raise ValueError("frPyObjects: a list of RLE dicts must hold only dicts")
        return frUncompressedRLE(pyobj, h, w)
    if _is_number(first):
        if not all(_is_number(x) for x in pyobj):
            raise ValueError("frPyObjects: a flat polygon must hold only numbers")
        if len(pyobj) == 4:
            raise ValueError("frPyObjects: a bare list of 4 numbers is ambiguous (box or 2-point "
                             "polygon); pass [[x, y, w, h]] for a box or [[x1, y1, ..., xn, yn]] "
                             "for a polygon")
        if len(pyobj) < 4:
            raise ValueError(f"frPyObjects: a flat polygon needs more than 4 numbers, got {len(pyobj)}")
        return frPoly([pyobj], h, w)[0]
    if not isinstance(first, (list, tuple, np.ndarray)):
        raise ValueError(f"frPyObjects: unsupported item type {type(first).__name__}")
    if len(first) == 4:
        if not all(isinstance(o, (list, tuple, np.ndarray)) and len(o) == 4 for o in pyobj):
            raise ValueError("frPyObjects: the first item has 4 numbers, which pycocotools reads as "
                             "a box, but not every item does (ragged list)")
        return frBbox(pyobj, h, w)
    if len(first) > 4:
        return frPoly(pyobj, h, w)
    raise ValueError(f"frPyObjects: the first polygon has {len(first)} numbers (need > 4)")
