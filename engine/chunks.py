"""Cost-balanced splits of ragged work for ``prange`` and thread pools.

Ragged work is split by *cost*, not by item count: a few crowd masks with thousands of runs,
or a few polygons with thousands of vertices, would otherwise land in one chunk. One splitter,
:func:`cost_bounds`, cuts the cumulative cost evenly with ``searchsorted`` (the idea of
stumpy's ``_get_array_ranges``); each caller only says what one item costs:

* :func:`pair_cost_bounds` -- pairs of masks of one RLE store (runs of both masks);
* :func:`mask_cost_bounds` -- the masks of one RLE store (their runs);
* :func:`cocodiff.engine.raster.rasterize_batch_parallel` -- instances to rasterise (their
  RLE-length bound and vertices).
"""
from __future__ import annotations

import numpy as np

from ._jit import serial

__all__ = ["cost_bounds", "pair_cost_bounds", "mask_cost_bounds"]


@serial
def cost_bounds(cum, n_chunks):
    """Split items ``0..k-1`` into ``n_chunks`` contiguous ranges of about equal cost.

    Parameters
    ----------
    cum : int64 (k + 1) -- cumulative cost: ``cum[0] == 0``, non-decreasing; item ``t``
        costs ``cum[t + 1] - cum[t]``.
    n_chunks : int -- wanted number of chunks (at most ``k`` are made, at least one).

    Returns
    -------
    bounds : int64 (n_chunks + 1) -- chunk ``c`` is items ``[bounds[c], bounds[c + 1])``;
        ``bounds[0] == 0``, ``bounds[-1] == k``, non-decreasing (a chunk may be empty).
        ``bounds[c]`` is the first ``t`` with ``cum[t] >= cum[k] * c // n_chunks``.

    Examples
    --------
    >>> import numpy as np
    >>> cost_bounds(np.array([0, 100, 101, 102, 103]), 2).tolist()   # item 0 is costly
    [0, 1, 4]
    >>> cost_bounds(np.array([0, 1, 2, 3, 4]), 2).tolist()
    [0, 2, 4]
    """
    k = cum.shape[0] - 1
    if n_chunks > k:
        n_chunks = max(k, 1)
    bounds = np.empty(n_chunks + 1, np.int64)
    for c in range(n_chunks + 1):
        bounds[c] = np.searchsorted(cum, (cum[k] * c) // n_chunks)
    bounds[0] = 0
    bounds[n_chunks] = k
    return bounds


@serial
def pair_cost_bounds(offsets, pa, pb, n_chunks, overhead=8):
    """:func:`cost_bounds` of mask pairs ``(pa[t], pb[t])`` of one RLE store.

    Cost of a pair = runs of mask ``pa[t]`` + runs of mask ``pb[t]`` + ``overhead``, with runs
    read from the store's ``offsets``.

    Examples
    --------
    >>> import numpy as np
    >>> offsets = np.array([0, 100, 101, 102, 103], np.int64)   # mask 0 is costly
    >>> pair_cost_bounds(offsets, np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3]), 2, 0).tolist()
    [0, 1, 4]
    """
    k = pa.shape[0]
    cum = np.empty(k + 1, np.int64)
    cum[0] = 0
    for t in range(k):
        a = pa[t]
        b = pb[t]
        cum[t + 1] = cum[t] + (offsets[a + 1] - offsets[a]) + (offsets[b + 1] - offsets[b]) + overhead
    return cost_bounds(cum, n_chunks)


@serial
def mask_cost_bounds(offsets, n_chunks):
    """:func:`cost_bounds` of the masks of one RLE store; cost of a mask = its runs + 1.

    Examples
    --------
    >>> import numpy as np
    >>> mask_cost_bounds(np.array([0, 100, 101, 102, 103], np.int64), 2).tolist()
    [0, 1, 4]
    """
    n = offsets.shape[0] - 1
    cum = np.empty(n + 1, np.int64)
    base = offsets[0]
    for i in range(n + 1):
        cum[i] = offsets[i] - base + i
    return cost_bounds(cum, n_chunks)
