"""Whole-store RLE helpers: areas and boxes of every mask of a counts store at once.

A store is ``counts`` (flat ``uint32``) + ``offsets`` (``int64``, ``n + 1``) as in
:class:`cocodiff.Dataset` (``counts`` / ``counts_offsets``).
"""
from __future__ import annotations

import numpy as np

from .engine.rle import rle_area_batch, rle_bbox_batch

__all__ = ["areas_bboxes"]


def areas_bboxes(counts, offsets, h):
    """Area and pycocotools box of every RLE of a store.

    Parameters
    ----------
    counts : ndarray of uint32
    offsets : ndarray of int64 (n + 1,)
    h : array-like of int (n,)
        Mask heights (>= 1).

    Returns
    -------
    area : ndarray of int64 (n,)
        Foreground pixels (``pycocotools.mask.area``, as int64).
    bbox : ndarray of float64 (n, 4)
        ``[x, y, w, h]`` identical to ``pycocotools.mask.toBbox``.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = areas_bboxes(np.array([6, 2, 3, 2, 7], np.uint32), np.array([0, 5]), [5])
    >>> a.tolist(), b.tolist()
    ([4], [[1.0, 1.0, 2.0, 2.0]])
    """
    counts = np.ascontiguousarray(counts, np.uint32)
    offsets = np.ascontiguousarray(offsets, np.int64)
    h = np.ascontiguousarray(h, np.int64)
    if offsets.ndim != 1 or offsets.shape[0] < 1 or h.shape[0] != offsets.shape[0] - 1:
        raise ValueError("areas_bboxes: offsets must have n + 1 entries and h n entries")
    if np.any(h < 1):
        raise ValueError("areas_bboxes: mask heights must be >= 1")
    return rle_area_batch(counts, offsets), rle_bbox_batch(counts, offsets, h)
