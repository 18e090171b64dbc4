"""The comparison's per-mask and per-pair measures of one RLE store, run on threads: the serial
(disk-cached, ``nogil``) kernels of :mod:`cocodiff.engine` over cost-balanced chunks, handed out to
the process's thread pool. Numba ``parallel=True`` twins would do the same but are never cached and
cost seconds of compilation in every process.

What :func:`cocodiff.compare` runs on every batch; also the IoU benchmark's kernel rows.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._threads import run_jobs
from .engine.boundary import biou_range
from .engine.chunks import mask_cost_bounds, pair_cost_bounds
from .engine.facts import facts_outputs, facts_range
from .engine.relate import measures_range

__all__ = ["mask_facts", "pair_measures", "boundary_ious", "run_chunks", "n_chunks"]


def run_chunks(n: int, fn: Callable, bounds: np.ndarray, *args) -> None:
    """``fn(*args, lo, hi)`` for every chunk ``bounds[c]:bounds[c + 1]`` (empty ones skipped), on
    ``n`` threads, handed out as threads free up."""
    jobs = [(int(bounds[c]), int(bounds[c + 1])) for c in range(len(bounds) - 1) if bounds[c + 1] > bounds[c]]
    run_jobs(n, lambda lohi: fn(*args, *lohi), jobs)


def n_chunks(n: int) -> int:
    """Chunks for ``n`` threads: one without threads, else eight per thread (dynamic balance)."""
    return 1 if n <= 1 else 8 * n


def mask_facts(counts: np.ndarray, offsets: np.ndarray, h: np.ndarray, threads: int = 1,
               pos: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Per-mask facts of an RLE store (:func:`cocodiff.engine.facts.facts_range`).

    Parameters
    ----------
    counts : uint32 flat RLE counts; offsets : int64 (n + 1); h : int64 (n) mask heights.
    threads : int -- threads to run the chunks on.
    pos : integer array or None -- scratch for the start position of every run, at least
        ``counts.shape[0]`` long (None: int64, allocated here); uint32 when every mask has fewer
        than 2**32 pixels halves the memory traffic.

    Returns
    -------
    area : int64 (n) -- foreground pixels.
    ext : int64 (n, 4) -- ``x0, y0, x1, y1`` with exclusive ends (zeros when empty).
    facts : tuple ``(first, last, inner_zero, ylo, yhi, pos)`` for :func:`pair_measures`.

    Examples
    --------
    >>> area, ext, facts = mask_facts(np.array([5, 2, 9], np.uint32), np.array([0, 3]), np.array([4]))
    >>> area.tolist(), ext.tolist()
    ([2], [[1, 1, 2, 3]])
    """
    counts = np.ascontiguousarray(counts, dtype=np.uint32)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    h = np.ascontiguousarray(h, dtype=np.int64)
    if pos is None or pos.shape[0] < counts.shape[0]:
        pos = np.empty(counts.shape[0], np.int64 if pos is None else pos.dtype)
    area, total, ext, first, last, inner_zero, ylo, yhi = facts_outputs(offsets.shape[0] - 1)
    run_chunks(threads, lambda lo, hi: facts_range(counts, offsets, h, lo, hi, area, total, ext, first, last,
                                                   inner_zero, ylo, yhi, pos),
               mask_cost_bounds(offsets, n_chunks(threads)))
    return area, ext, (first, last, inner_zero, ylo, yhi, pos)


def pair_measures(counts: np.ndarray, offsets: np.ndarray, pa: np.ndarray, pb: np.ndarray, crowd: np.ndarray,
                  area: np.ndarray, facts: tuple, threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intersection and both IoUs of mask pairs of one store (A = ``pa[k]``, B = ``pb[k]``).

    Parameters
    ----------
    counts, offsets : the RLE store; pa, pb : int64 (k) mask indices (same mask size).
    crowd : bool / uint8 (k) -- A's iscrowd flag of each pair.
    area, facts : from :func:`mask_facts` of that store.
    threads : int -- threads to run the chunks on.

    Returns
    -------
    inter : int64 (k) -- true shared pixels.
    iou : float64 (k) -- pycocotools' ``maskUtils.iou([b], [a], [crowd])`` exactly, including its
        early stop on RLEs with zero-length runs after the first count.
    iou_plain : float64 (k) -- ``inter / (area_a + area_b - inter)`` (0 when ``inter`` is 0).

    Examples
    --------
    >>> c = np.array([1, 2, 3, 2, 4], np.uint32); o = np.array([0, 3, 5], np.int64)
    >>> area, ext, facts = mask_facts(c, o, np.array([6, 6]))
    >>> inter, iou, plain = pair_measures(c, o, np.array([1]), np.array([0]), np.array([True]), area, facts)
    >>> inter.tolist(), iou.tolist(), plain.tolist()
    ([1], [0.5], [0.2])
    """
    first, last, z, ylo, yhi, pos = facts
    pa = np.ascontiguousarray(pa, dtype=np.int64)
    pb = np.ascontiguousarray(pb, dtype=np.int64)
    k = pa.shape[0]
    inter = np.empty(k, np.int64)
    iou = np.empty(k, np.float64)
    iou_plain = np.empty(k, np.float64)
    run_chunks(threads, measures_range, pair_cost_bounds(offsets, pa, pb, n_chunks(threads)), counts, offsets,
               pa, pb, np.ascontiguousarray(crowd, dtype=np.uint8), area, first, last, z, ylo, yhi, pos, inter,
               iou, iou_plain)
    return inter, iou, iou_plain


def boundary_ious(counts: np.ndarray, offsets: np.ndarray, pa: np.ndarray, pb: np.ndarray, h: np.ndarray,
                  w: np.ndarray, d: np.ndarray, ext: np.ndarray, threads: int = 1) -> np.ndarray:
    """Boundary IoU of mask pairs of one store (:func:`cocodiff.engine.boundary.biou_range`), erosion
    depth ``d[k]``, image size ``h[k]`` x ``w[k]``, extents ``ext`` from :func:`mask_facts`."""
    out = np.empty(pa.shape[0])
    run_chunks(threads, biou_range, pair_cost_bounds(offsets, pa, pb, n_chunks(threads)), counts, offsets, pa, pb,
               h, w, d, ext, out)
    return out
