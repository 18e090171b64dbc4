"""COCO's conventions, written once: the size buckets of the statistics table and of COCOeval's
area ranges, and the very-small bound Sama-COCO's table uses.

Sizes are judged on an annotation's ``area``: **very small** ``area <= 100`` (10 x 10 px),
**small** ``area < 32^2`` (very small ones included, as in COCO and the Sama-COCO table),
**medium** ``32^2 <= area < 96^2``, **large** ``area >= 96^2``. The relation names and codes live in
:mod:`cocodiff.relations`, pycocotools' crowd rule in :mod:`cocodiff.engine.iou`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["VERY_SMALL_AREA", "SMALL_AREA", "LARGE_AREA", "SIZE_NAMES", "size_masks"]

#: ``area <= VERY_SMALL_AREA``: very small (10 x 10 px; Sama-COCO drops most of them)
VERY_SMALL_AREA = 100.0
#: ``area < SMALL_AREA``: small (COCO's 32^2)
SMALL_AREA = 32.0 ** 2
#: ``area >= LARGE_AREA``: large (COCO's 96^2); medium in between
LARGE_AREA = 96.0 ** 2
SIZE_NAMES = ("very_small", "small", "medium", "large")


def size_masks(area: npt.ArrayLike) -> dict:
    """Boolean masks of the four size buckets (very small is part of small).

    Examples
    --------
    >>> m = size_masks([50, 500, 5000, 50000])
    >>> for k, v in m.items():
    ...     print(k, v.tolist())
    very_small [True, False, False, False]
    small [True, True, False, False]
    medium [False, False, True, False]
    large [False, False, False, True]
    """
    a = np.asarray(area, np.float64)
    return {"very_small": a <= VERY_SMALL_AREA, "small": a < SMALL_AREA,
            "medium": (a >= SMALL_AREA) & (a < LARGE_AREA), "large": a >= LARGE_AREA}
