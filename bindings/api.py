"""``cocodiff.compare``: one entry point that runs a comparison in this process
(:func:`cocodiff.matching.compare`) or shards it across a Dask cluster
(:func:`cocodiff.distributed.compare_distributed`) -- the same result either way.

It sits above both modules, so neither imports the other's way back: ``distributed`` runs
``matching.compare`` on every shard, and ``matching`` knows nothing of Dask.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .comparison import Comparison
from .dataset import Dataset
from .distributed import compare_distributed
from .matching import BATCH_IMAGES
from .matching import compare as compare_local

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["compare"]


def compare(a: Dataset | str | os.PathLike, b: Dataset | str | os.PathLike, iou_threshold: float = 0.5,
            cover_threshold: float = 0.5, group_margin: float = 0.05, mode: str = "optimal", boundary: bool = True,
            threads: int | None = None, batch_images: int = BATCH_IMAGES, progress: bool | None = None,
            dilation_ratio: float = 0.02, client: Client | None = None) -> Comparison:
    """Relate every instance of annotation set ``a`` to those of ``b``.

    Parameters
    ----------
    a, b, iou_threshold, cover_threshold, group_margin, mode, boundary, threads, batch_images,
    progress, dilation_ratio : as :func:`cocodiff.matching.compare`.
    client : dask.distributed.Client or None -- shard the images across the cluster's workers
        (:mod:`cocodiff.distributed`; ``pip install 'cocodiff[dask]'``); the result is identical.
        ``threads`` is then the Numba thread count per task (None: 1).

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
    options = dict(iou_threshold=iou_threshold, cover_threshold=cover_threshold, group_margin=group_margin,
                   mode=mode, boundary=boundary, threads=threads, batch_images=batch_images, progress=progress,
                   dilation_ratio=dilation_ratio)
    if client is None:
        return compare_local(a, b, **options)
    return compare_distributed(a, b, client, **options)
