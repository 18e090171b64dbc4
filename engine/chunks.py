"""Cost-balanced splits of ragged work for ``prange`` and thread pools.

Work over pairs of masks is split by *cost* (runs of both masks), not by pair count: a few
crowd masks with thousands of runs would otherwise land in one chunk (the idea of stumpy's
``_get_array_ranges``: cumulative cost, then ``searchsorted``).
"""
from __future__ import annotations

import numpy as np

from ._jit import serial

__all__ = ["pair_cost_bounds"]


@serial
def pair_cost_bounds(offsets, pa, pb, n_chunks, overhead=8):
    """Split pairs ``(pa[t], pb[t])`` into ``n_chunks`` contiguous ranges of about equal cost.

    Cost of a pair = runs of mask ``pa[t]`` + runs of mask ``pb[t]`` + ``overhead``, with runs
    read from the store's ``offsets``. Returns ``bounds`` (int64, ``n_chunks + 1``, fewer when
    there are fewer pairs): chunk ``c`` is ``[bounds[c], bounds[c+1])``; ``bounds[0] == 0`` and
    ``bounds[-1] == len(pa)``.

    Examples
    --------
    >>> import numpy as np
    >>> offsets = np.array([0, 100, 101, 102, 103], np.int64)   # mask 0 is costly
    >>> pair_cost_bounds(offsets, np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3]), 2, 0).tolist()
    [0, 1, 4]
    """
    k = pa.shape[0]
    cost = np.empty(k + 1, np.int64)
    cost[0] = 0
    for t in range(k):
        a = pa[t]
        b = pb[t]
        cost[t + 1] = cost[t] + (offsets[a + 1] - offsets[a]) + (offsets[b + 1] - offsets[b]) + overhead
    if n_chunks > k:
        n_chunks = max(k, 1)
    bounds = np.empty(n_chunks + 1, np.int64)
    for c in range(n_chunks + 1):
        bounds[c] = np.searchsorted(cost, (cost[k] * c) // n_chunks)
    bounds[0] = 0
    bounds[n_chunks] = k
    return bounds
