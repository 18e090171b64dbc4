"""Tests of cocodiff.engine.assign: optimal totals vs scipy / brute force, greedy order, determinism."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from cocodiff.engine.assign import assign, lsa_dense
from ref_match import max_weight_matrix

try:
    from scipy.optimize import linear_sum_assignment
except ImportError:  # pragma: no cover
    linear_sum_assignment = None


def _best_total(W):
    """Maximum total weight of a one-to-one matching in W (zeros = not allowed)."""
    if linear_sum_assignment is not None:
        r, c = linear_sum_assignment(W, maximize=True)
        return W[r, c].sum()
    r, c = max_weight_matrix(W)   # plain-Python Hungarian (tests/ref_match.py)
    return W[r, c].sum()


def _brute_total(W):
    na, nb = W.shape
    if na > nb:
        W = W.T
        na, nb = nb, na
    return max(sum(W[i, p[i]] for i in range(na)) for p in itertools.permutations(range(nb), na))


def _dense_pairs(M):
    A, B = np.nonzero(np.ones_like(M))
    return A, B, M[A, B]


def _check_valid(A, B, v, m, thr):
    assert np.all(v[m] >= thr)
    assert len(set(A[m].tolist())) == int(m.sum())
    assert len(set(B[m].tolist())) == int(m.sum())


def test_lsa_dense_vs_brute():
    rng = np.random.default_rng(3)
    for _ in range(100):
        nr = int(rng.integers(1, 5))
        nc = int(rng.integers(nr, 7))
        C = rng.integers(-5, 5, (nr, nc)).astype(float)
        col = lsa_dense(C)
        assert len(set(col.tolist())) == nr
        best = min(sum(C[i, p[i]] for i in range(nr)) for p in itertools.permutations(range(nc), nr))
        assert C[np.arange(nr), col].sum() == best


def test_optimal_total_equals_reference_random():
    rng = np.random.default_rng(0)
    groups, all_a, all_b, all_v, Ws = [0], [], [], [], []
    for trial in range(300):
        na, nb = (int(x) for x in rng.integers(1, 10, 2))
        M = rng.random((na, nb))
        M[rng.random((na, nb)) < 0.5] = 0.0
        if trial % 3 == 0:
            M = np.round(M, 1)  # many exact ties
        A, B, v = _dense_pairs(M)
        # drop zero (non-candidate) pairs from the table, shuffle the order
        keep = v > 0
        perm = rng.permutation(int(keep.sum()))
        all_a.append(A[keep][perm]); all_b.append(B[keep][perm]); all_v.append(v[keep][perm])
        groups.append(groups[-1] + int(keep.sum()))
        Ws.append(M)
    go = np.array(groups)
    pa, pb, v = np.concatenate(all_a), np.concatenate(all_b), np.concatenate(all_v)
    thr = 0.3
    m = assign(go, pa, pb, v, thr, "optimal")
    m_par = assign(go, pa, pb, v, thr, "optimal", parallel=True)
    assert np.array_equal(m, m_par)
    for g, M in enumerate(Ws):
        sl = slice(go[g], go[g + 1])
        _check_valid(pa[sl], pb[sl], v[sl], m[sl], thr)
        W = np.where(M >= thr, M, 0.0)
        assert v[sl][m[sl]].sum() == pytest.approx(_best_total(W), abs=1e-9)


def test_optimal_beats_greedy_example():
    go = np.array([0, 4])
    a = np.array([0, 0, 1, 1]); b = np.array([0, 1, 0, 1])
    iou = np.array([0.9, 0.8, 0.85, 0.1])
    assert assign(go, a, b, iou, 0.5, "optimal").tolist() == [False, True, True, False]
    assert assign(go, a, b, iou, 0.5, "greedy").tolist() == [True, False, False, False]


def test_threshold_and_zero_excluded():
    go = np.array([0, 3])
    m = assign(go, np.array([0, 1, 2]), np.array([0, 1, 2]), np.array([0.49999, 0.5, 0.0]), 0.5)
    assert m.tolist() == [False, True, False]
    m0 = assign(go, np.array([0, 1, 2]), np.array([0, 1, 2]), np.array([0.3, 0.5, 0.0]), 0.0)
    assert m0.tolist() == [True, True, False]   # iou 0 is never matched


def test_greedy_tie_break_lower_ids():
    # all equal: greedy takes (0,0) then (1,1); a lower a wins a contested b
    go = np.array([0, 4])
    m = assign(go, np.array([1, 0, 1, 0]), np.array([0, 0, 1, 1]), np.full(4, 0.7), 0.5, "greedy")
    assert m.tolist() == [False, True, True, False]
    go = np.array([0, 2])
    m = assign(go, np.array([1, 0]), np.array([0, 0]), np.array([0.7, 0.7]), 0.5, "greedy")
    assert m.tolist() == [False, True]


def test_optimal_tie_duplicate_rows_lower_id_wins():
    # two identical A rows competing for one B: the lower A keeps it, in either table order
    for order in ([0, 1], [1, 0]):
        a = np.array(order)
        m = assign(np.array([0, 2]), a, np.array([0, 0]), np.array([0.8, 0.8]), 0.5)
        assert a[m].tolist() == [0]
    # a wider tie: 3 identical rows x 2 columns: rows 0 and 1 get matched
    A, B = np.meshgrid(np.arange(3), np.arange(2), indexing="ij")
    m = assign(np.array([0, 6]), A.ravel(), B.ravel(), np.full(6, 0.6), 0.5)
    assert sorted(A.ravel()[m].tolist()) == [0, 1]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.3, 0.5]))
def test_hypothesis_vs_bruteforce(na, nb, seed, thr):
    rng = np.random.default_rng(seed)
    M = np.round(rng.random((na, nb)), int(rng.integers(1, 4)))
    A, B, v = _dense_pairs(M)
    m = assign(np.array([0, v.size]), A, B, v, thr, "optimal")
    _check_valid(A, B, v, m, thr)
    W = np.where((M >= thr) & (M > 0), M, 0.0)
    assert v[m].sum() == pytest.approx(_brute_total(W), abs=1e-9)
    # greedy is a valid (maximal) matching, never better than optimal
    g = assign(np.array([0, v.size]), A, B, v, thr, "greedy")
    _check_valid(A, B, v, g, thr)
    assert v[g].sum() <= v[m].sum() + 1e-9
    free_a = np.ones(na, bool); free_a[A[g]] = False
    free_b = np.ones(nb, bool); free_b[B[g]] = False
    el = (v >= thr) & (v > 0)
    assert not np.any(el & free_a[A] & free_b[B])   # maximal


def test_deterministic_and_input_order_invariant_totals():
    rng = np.random.default_rng(7)
    M = np.round(rng.random((12, 15)), 1)
    A, B, v = _dense_pairs(M)
    go = np.array([0, v.size])
    m1 = assign(go, A, B, v, 0.2)
    m2 = assign(go, A, B, v, 0.2)
    assert np.array_equal(m1, m2)
    perm = rng.permutation(v.size)
    m3 = assign(go, A[perm], B[perm], v[perm], 0.2)
    # same (a, b) pairs chosen whatever the table order
    assert sorted(zip(A[m1], B[m1])) == sorted(zip(A[perm][m3], B[perm][m3]))


def test_empty_and_bad_input():
    m = assign(np.array([0]), np.zeros(0), np.zeros(0), np.zeros(0))
    assert m.shape == (0,)
    m = assign(np.array([0, 0, 0]), np.zeros(0), np.zeros(0), np.zeros(0))
    assert m.shape == (0,)
    with pytest.raises(ValueError):
        assign(np.array([0, 2]), np.zeros(1), np.zeros(1), np.zeros(1))
    with pytest.raises(ValueError):
        assign(np.array([0, 1]), np.zeros(1), np.zeros(1), np.zeros(1), mode="fast")


def test_large_group():
    rng = np.random.default_rng(11)
    M = rng.random((120, 90)) * (rng.random((120, 90)) < 0.05)
    A, B, v = _dense_pairs(M)
    keep = v > 0
    m = assign(np.array([0, int(keep.sum())]), A[keep], B[keep], v[keep], 0.1)
    W = np.where(M >= 0.1, M, 0.0)
    assert v[keep][m].sum() == pytest.approx(_best_total(W), abs=1e-9)
    r, c = max_weight_matrix(W)
    assert v[keep][m].sum() == pytest.approx(W[r, c].sum(), abs=1e-9)


def test_python_hungarian_oracle_vs_brute():
    # the plain-Python oracle itself, against brute force
    rng = np.random.default_rng(21)
    for _ in range(60):
        na, nb = (int(x) for x in rng.integers(1, 6, 2))
        W = np.round(rng.random((na, nb)), 1) * (rng.random((na, nb)) < 0.7)
        r, c = max_weight_matrix(W)
        assert W[r, c].sum() == pytest.approx(_brute_total(W), abs=1e-9)
