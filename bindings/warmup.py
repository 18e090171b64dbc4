"""Compile (and cache) the kernels ahead of the work: ``cocodiff warmup``, and the first run's
second process.

Numba compiles a kernel the first time it is called and caches it on disk (under the user's cache
folder, :mod:`cocodiff.engine._jit`); later processes load it in milliseconds. On an empty cache
the README's main job spends most of its time compiling. Numba compiles one function at a time per
process, but its disk cache is shared between processes, so :func:`start_background` lets a second
process compile while the first one works, in the order that keeps the two apart: the first one
compiles what it meets first (the loader, then the comparison's rasteriser and pair measures); the
second starts with the comparison's last stages (relations, assignment, Boundary IoU: the part
``"relations"``, run on hand-made masks, without the stages before it), then the statistics and the
report, so that the first process finds those in the cache when it gets there.

``cocodiff warmup`` compiles everything the commands use, in the foreground -- for cluster images
and Dask workers (every fresh worker would otherwise compile again).
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import orjson

from . import loader, matching
from ._report_data import _outlines
from .dataset import KIND_POLYGON, KIND_RLE_LIST, Dataset
from .engine._jit import user_cache_dir, using_threads
from .engine.raster import rasterize_range
from .relations import Rules
from .statistics import stats

__all__ = ["warmup", "start_background", "cache_is_cold", "PARTS", "BACKGROUND_PARTS"]

log = logging.getLogger(__name__)

#: what :func:`warmup` can compile: the loader (the JSON scanner and the msgspec path), the
#: comparison, its last stages alone (see the module docstring), the statistics and the report's
#: mask decoding
PARTS = ("load", "compare", "relations", "stats", "report")

def _crowd_counts(x0, x1, y0, y1, h=24, w=32):
    """Uncompressed RLE counts (column-major, background first) of a box."""
    m = np.zeros((h, w), bool)
    m[y0:y1, x0:x1] = True
    flat = m.T.ravel()
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.r_[0, change, flat.size]
    counts = np.diff(bounds).tolist()
    return counts if not flat[0] else [0] + counts


def _tiny_pair():
    """One 24 x 32 image. A: a crowd (RLE) with a person inside, a car of two rings; B: the
    crowd's people one by one plus a smaller crowd, the car as two parts -- enough for every
    relation kernel (groups, matching, Boundary IoU) to run."""
    def ann(i, cat, seg, crowd=0):
        return {"id": i, "image_id": 1, "category_id": cat, "iscrowd": crowd, "area": 1.0,
                "bbox": [0.0, 0.0, 1.0, 1.0], "segmentation": seg}

    head = {"images": [{"id": 1, "width": 32, "height": 24, "file_name": "1.jpg"}],
            "categories": [{"id": 1, "name": "person", "supercategory": "person"},
                           {"id": 3, "name": "car", "supercategory": "vehicle"}]}
    a = dict(head, annotations=[
        ann(1, 1, {"size": [24, 32], "counts": _crowd_counts(0, 8, 0, 12)}, 1),
        ann(2, 1, [[1.0, 1.0, 5.0, 1.0, 5.0, 5.0, 1.0, 5.0]]),
        ann(3, 3, [[12.0, 2.0, 24.5, 2.0, 24.5, 12.0, 12.0, 12.0], [26.0, 14.0, 30.0, 14.0, 30.0, 18.0]])])
    b = dict(head, annotations=[
        ann(11, 1, [[1.0, 1.0, 5.0, 1.0, 5.0, 5.0, 1.0, 5.0]]),
        ann(12, 1, [[1.0, 6.0, 4.0, 6.0, 4.0, 9.0, 1.0, 9.0]]),
        ann(13, 1, {"size": [24, 32], "counts": _crowd_counts(5, 8, 0, 8)}, 1),
        ann(14, 3, [[12.0, 2.0, 20.0, 2.0, 20.0, 12.0, 12.0, 12.0]]),
        ann(15, 3, [[20.0, 2.0, 24.5, 2.0, 24.5, 12.0, 20.0, 12.0]])])
    return a, b


def _tiny_datasets():
    """The tiny pair as Datasets, built without the JSON scanner, with the loader's dtypes, so that
    the comparison's kernels compile without the scanner's."""
    out = []
    for d, name in zip(_tiny_pair(), ("warmup-a", "warmup-b")):
        anns = sorted(d["annotations"], key=lambda x: (x["image_id"], x["category_id"], x["id"]))
        xy, ro, iro, counts, co, kind, rh, rw = [], [0], [0], [], [0], [], [], []
        for a in anns:
            seg = a["segmentation"]
            if isinstance(seg, list):
                for ring in seg:
                    xy.extend(zip(ring[0::2], ring[1::2]))
                    ro.append(len(xy))
                kind.append(KIND_POLYGON)
                rh.append(0)
                rw.append(0)
            else:
                counts.extend(seg["counts"])
                kind.append(KIND_RLE_LIST)
                rh.append(seg["size"][0])
                rw.append(seg["size"][1])
            iro.append(len(ro) - 1)
            co.append(len(counts))
        n = len(anns)
        out.append(Dataset(
            path=name, sources=[name], image_id=np.array([1], np.int64), width=np.array([32], np.int32),
            height=np.array([24], np.int32), file_name=np.array(["1.jpg"], object),
            cat_id=np.array([1, 3], np.int64), cat_name=np.array(["person", "car"], object),
            cat_supercategory=np.array(["person", "vehicle"], object),
            ann_id=np.array([a["id"] for a in anns], np.int64),
            inst_image_id=np.array([a["image_id"] for a in anns], np.int64),
            category_id=np.array([a["category_id"] for a in anns], np.int64),
            iscrowd=np.array([a["iscrowd"] for a in anns], np.uint8),
            area=np.array([a["area"] for a in anns], np.float64),
            bbox=np.array([a["bbox"] for a in anns], np.float64), score=np.full(n, np.nan),
            kind=np.array(kind, np.int8), source=np.zeros(n, np.int16), img_row=np.zeros(n, np.int64),
            xy=np.array(xy, np.float64).reshape(-1, 2), ring_offsets=np.array(ro, np.int64),
            inst_ring_offsets=np.array(iro, np.int64), counts=np.array(counts, np.uint32),
            counts_offsets=np.array(co, np.int64), rle_h=np.array(rh, np.int32), rle_w=np.array(rw, np.int32)))
    return out


def _load() -> None:
    min_bytes = loader.SCANNER_MIN_BYTES
    with tempfile.TemporaryDirectory(prefix="cocodiff-warmup-") as d:
        try:   # the compiled scanner (big files), then the msgspec path (small ones)
            for threshold in (0, min_bytes):
                loader.SCANNER_MIN_BYTES = threshold
                for k, doc in enumerate(_tiny_pair()):
                    p = Path(d) / f"{k}.json"
                    p.write_bytes(orjson.dumps(doc))
                    loader.load(p, cache=False)
        finally:
            loader.SCANNER_MIN_BYTES = min_bytes


def _compare() -> None:
    matching.compare(*_tiny_datasets(), progress=False).summary()


#: the tiny pair's masks as boxes ``(x0, y0, x1, y1)`` (exclusive ends) per instance, in the
#: Datasets' order (image, category, id) -- near enough to the polygons for the same relations
_BOXES_A = ([(0, 0, 8, 12)], [(1, 1, 5, 5)], [(12, 2, 25, 12), (26, 14, 30, 18)])
_BOXES_B = ([(1, 1, 5, 5)], [(1, 6, 4, 9)], [(5, 0, 8, 8)], [(12, 2, 20, 12)], [(20, 2, 25, 12)])


def _box_masks(boxes, h=24, w=32) -> np.ndarray:
    masks = np.zeros((len(boxes), h, w), bool)
    for i, parts in enumerate(boxes):
        for x0, y0, x1, y1 in parts:
            masks[i, y0:y1, x0:x1] = True
    return masks


def _rle_store(masks):
    """Column-major RLE counts (background first) of ``masks`` in one store: (counts uint32,
    offsets int64)."""
    counts, offsets = [], [0]
    for m in masks:
        flat = m.T.ravel()
        change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
        runs = np.diff(np.r_[0, change, flat.size]).tolist()
        counts += runs if not flat[0] else [0] + runs
        offsets.append(len(counts))
    return np.array(counts, np.uint32), np.array(offsets, np.int64)


def _relations() -> None:
    """The comparison's last stages (:func:`cocodiff.matching._relate`, ``_boundary_iou``) on the
    tiny pair, their inputs -- masks, areas, extents, pair measures -- made here with numpy
    instead of by the stages before them, which this part leaves to the other process."""
    A, B = _tiny_datasets()
    inp = matching._prepare(A, B, Rules(), True, 0.02)
    ma, mb = _box_masks(_BOXES_A), _box_masks(_BOXES_B)
    masks = np.concatenate([ma, mb])
    counts, offsets = _rle_store(masks)
    area = masks.sum(axis=(1, 2)).astype(np.int64)
    ys, xs = masks.any(axis=2), masks.any(axis=1)
    ext = np.array([[x.argmax(), y.argmax(), x.size - x[::-1].argmax(), y.size - y[::-1].argmax()]
                    for x, y in zip(xs, ys)], np.int64)
    na, nb = len(ma), len(mb)
    pa, pb = (g.ravel().astype(np.int64) for g in np.meshgrid(np.arange(na), np.arange(nb), indexing="ij"))
    inter = (ma[pa] & mb[pb]).sum(axis=(1, 2)).astype(np.int64)
    iou_plain = inter / (area[pa] + area[na + pb] - inter)
    iou = np.where(inp.crowd_a[pa], inter / area[na + pb], iou_plain)
    batch = matching._Batch(0, na, 0, nb, na, nb, counts, offsets, area, ext)
    pairs = matching._Pairs(pa, pb, inter, iou, iou_plain)
    rel = matching._relate(inp, batch, pairs)
    matching._boundary_iou(inp, batch, pairs, rel.pair, 1)


def _stats() -> None:
    stats(*_tiny_datasets())


def _report() -> None:
    for ds in _tiny_datasets():
        for i in range(ds.n_instances):
            _outlines(ds, i)


_PART_FUNCTIONS = {"load": _load, "compare": _compare, "relations": _relations, "stats": _stats,
                   "report": _report}


def warmup(parts: Sequence[str] = PARTS) -> dict:
    """Compile (and cache) the kernels of ``parts`` (see :data:`PARTS`), in that order; returns
    seconds per part.

    Examples
    --------
    >>> warmup(("compare",))["compare"] >= 0       # doctest: +SKIP
    True
    """
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown warmup parts {sorted(unknown)}; choose from {PARTS}")
    secs = {}
    with using_threads(1):
        for part in dict.fromkeys(parts):
            t = time.perf_counter()
            _PART_FUNCTIONS[part]()
            secs[part] = time.perf_counter() - t
    return secs


def cache_is_cold() -> bool:
    """True when the comparison's kernels are not in the disk cache yet (a first run), judged by
    the rasteriser's cache index; False where kernels are not cached at all."""
    where = getattr(getattr(rasterize_range, "_cache", None), "cache_path", None)
    if where is None:
        return False
    return not any(Path(where).glob("raster.rasterize_range-*.nbi"))


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


#: what the second process of a first ``cocodiff compare`` compiles, in this order (see the module
#: docstring): the comparison's last stages, the next commands' kernels, then the rest
BACKGROUND_PARTS = ("relations", "stats", "report", "compare")


def start_background(parts: Iterable[str] = BACKGROUND_PARTS) -> subprocess.Popen[bytes] | None:
    """On a first run (:func:`cache_is_cold`) with two or more cores: start a second process that
    compiles ``parts`` into the shared cache while this one works. Returns the
    process, or None when none was started (warm cache, one core, ``COCODIFF_BACKGROUND_COMPILE=0``,
    or another such process running -- a lock file in the cache folder says so).

    The process runs on its own: it writes nothing but the kernel cache, prints nothing, and
    outlives this one if this one ends first (it then only finishes filling the cache).
    """
    if os.environ.get("COCODIFF_BACKGROUND_COMPILE", "").strip() == "0" or _cpus() < 2:
        return None
    try:
        if not cache_is_cold():
            return None
        lock = user_cache_dir() / "warmup.lock"
        try:   # a lock older than 10 minutes is a dead process's
            if time.time() - lock.stat().st_mtime > 600:
                lock.unlink()
        except FileNotFoundError:
            pass
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except OSError:
        return None
    os.close(fd)
    code = ("import os, sys\n"
            "from cocodiff.warmup import warmup\n"
            "try:\n"
            f"    warmup({tuple(parts)!r})\n"
            "finally:\n"
            "    try:\n"
            "        os.unlink(sys.argv[1])\n"
            "    except OSError:\n"
            "        pass\n")
    env = dict(os.environ, COCODIFF_COMPILE_NOTICE="0", COCODIFF_BACKGROUND_COMPILE="0")
    try:
        return subprocess.Popen([sys.executable, "-c", code, str(lock)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                start_new_session=True)
    except OSError:
        try:
            os.unlink(lock)
        except OSError:
            pass
        return None
