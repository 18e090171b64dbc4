"""Rasterise a :class:`~cocodiff.dataset.Dataset`'s instances to RLE, as pycocotools does.

Every instance becomes exactly the RLE that pycocotools' ``COCO.annToRLE`` gives it: polygon
rings rasterised by ``frPyObjects`` and unioned by ``merge``; RLE inputs passed through with
their counts unchanged. The kernels live in :mod:`cocodiff.engine.raster`.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from .dataset import Dataset
from .engine import _jit
from .engine.raster import rasterize_batch, rasterize_batch_parallel
from .engine.rle import rle_area_batch

__all__ = ["rasterize", "raster_areas", "PARALLEL_MIN_ROWS"]

log = logging.getLogger(__name__)

#: Below this many rows the serial kernel is used (thread start-up is not worth it).
PARALLEL_MIN_ROWS = 2000


def rasterize(ds: Dataset, rows: Sequence[int] | np.ndarray | None = None,
              threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """RLE masks of a dataset's instances, bit-identical to pycocotools' ``annToRLE``.

    Parameters
    ----------
    ds : Dataset
        A loaded dataset (see :func:`cocodiff.load`).
    rows : array-like of int, optional
        Instance rows to rasterise, in the order wanted (default: all, in order).
    threads : int, optional
        Thread count. ``1`` forces the serial kernel; ``None`` keeps Numba's current
        setting. The parallel kernel is used when more than one thread is available and
        the batch has at least :data:`PARALLEL_MIN_ROWS` rows.

    Returns
    -------
    counts : numpy.ndarray of uint32
        Concatenated column-major RLE counts (first run background).
    offsets : numpy.ndarray of int64
        ``len(rows) + 1`` offsets: row ``r``'s counts are ``counts[offsets[r]:offsets[r+1]]``.

    Examples
    --------
    >>> import cocodiff
    >>> from cocodiff.rasterize import rasterize
    >>> ds = cocodiff.load("data/coco2017_subsets/tinycoco_instances_val2017.json")
    >>> counts, offsets = rasterize(ds, threads=1)
    >>> len(offsets) == ds.n_instances + 1
    True
    """
    if rows is None:
        rows = np.arange(ds.n_instances, dtype=np.int64)
    else:
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        if rows.ndim != 1:
            raise ValueError("rows must be one-dimensional")
        if rows.size and (rows.min() < 0 or rows.max() >= ds.n_instances):
            raise IndexError(f"rows out of range for {ds.n_instances} instances")
    with _jit.using_threads(threads) as n_threads:
        return _rasterize(ds, rows, n_threads)


def _rasterize(ds, rows, n_threads):
    args = (np.ascontiguousarray(ds.xy, dtype=np.float64),
            np.ascontiguousarray(ds.ring_offsets, dtype=np.int64),
            np.ascontiguousarray(ds.inst_ring_offsets, dtype=np.int64),
            np.ascontiguousarray(ds.counts, dtype=np.uint32),
            np.ascontiguousarray(ds.counts_offsets, dtype=np.int64),
            np.ascontiguousarray(ds.kind, dtype=np.int8),
            ds.inst_h(), ds.inst_w(), rows)
    if n_threads > 1 and rows.shape[0] >= PARALLEL_MIN_ROWS:
        log.debug("rasterize: %d rows, parallel on %d threads", rows.shape[0], n_threads)
        return rasterize_batch_parallel(*args)
    log.debug("rasterize: %d rows, serial", rows.shape[0])
    return rasterize_batch(*args)


def raster_areas(ds: Dataset, threads: int | None = None, batch_rows: int = 200_000) -> np.ndarray:
    """Pixel area of every instance's pycocotools mask (``maskUtils.area(annToRLE(ann))``).

    COCO's ``area`` field is the polygon's geometric area; the rasterised pixel count differs
    from it near the size-bucket bounds. The masks are made ``batch_rows`` instances at a time
    and dropped once counted, so memory stays bounded on full-size files.

    Parameters
    ----------
    ds : Dataset
    threads : int, optional
        As in :func:`rasterize`.
    batch_rows : int
        Instances rasterised per batch.

    Returns
    -------
    numpy.ndarray of int64, one area per instance row.

    Examples
    --------
    >>> import cocodiff
    >>> from cocodiff.rasterize import raster_areas
    >>> ds = cocodiff.load("data/coco2017_subsets/tinycoco_instances_val2017.json")
    >>> areas = raster_areas(ds, threads=1)
    >>> areas.shape == (ds.n_instances,) and bool((areas >= 0).all())
    True
    """
    n = ds.n_instances
    out = np.empty(n, dtype=np.int64)
    for start in range(0, n, batch_rows):
        rows = np.arange(start, min(n, start + batch_rows), dtype=np.int64)
        counts, offsets = rasterize(ds, rows=rows, threads=threads)
        out[start:start + rows.shape[0]] = rle_area_batch(counts, offsets)
    return out
