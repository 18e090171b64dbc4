"""The one cost-balanced splitter (:mod:`cocodiff.engine.chunks`) and its cost models."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from cocodiff.engine.chunks import cost_bounds, mask_cost_bounds, pair_cost_bounds


def _check_split(bounds, cost, n_chunks):
    """Contiguous, covering, and balanced: every chunk's cost is at most an even share plus one item."""
    k = len(cost)
    assert bounds.dtype == np.int64
    assert len(bounds) == min(max(n_chunks, 1), max(k, 1)) + 1
    assert bounds[0] == 0 and bounds[-1] == k and np.all(np.diff(bounds) >= 0)
    total = int(np.sum(cost))
    share = total / (len(bounds) - 1)
    biggest = int(np.max(cost)) if k else 0
    for c in range(len(bounds) - 1):
        assert int(np.sum(cost[bounds[c]:bounds[c + 1]])) <= share + biggest


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 1000), max_size=60), st.integers(1, 80))
def test_cost_bounds_is_a_balanced_cover(cost, n_chunks):
    cost = np.array(cost, np.int64)
    cum = np.zeros(len(cost) + 1, np.int64)
    np.cumsum(cost, out=cum[1:])
    _check_split(cost_bounds(cum, n_chunks), cost, n_chunks)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=30), st.integers(0, 40), st.integers(1, 20),
       st.integers(0, 2**32 - 1))
def test_cost_models(runs, k, n_chunks, seed):
    offsets = np.zeros(len(runs) + 1, np.int64)
    np.cumsum(runs, out=offsets[1:])
    _check_split(mask_cost_bounds(offsets, n_chunks), np.array(runs, np.int64) + 1, n_chunks)
    rng = np.random.default_rng(seed)
    pa = rng.integers(0, len(runs), k).astype(np.int64)
    pb = rng.integers(0, len(runs), k).astype(np.int64)
    runs = np.array(runs, np.int64)
    _check_split(pair_cost_bounds(offsets, pa, pb, n_chunks), runs[pa] + runs[pb] + 8, n_chunks)
    _check_split(pair_cost_bounds(offsets, pa, pb, n_chunks, 1), runs[pa] + runs[pb] + 1, n_chunks)
