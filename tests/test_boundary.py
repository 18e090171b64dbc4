"""Tests of cocodiff.engine.boundary against a scikit-image morphology oracle."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from skimage.morphology import erosion

from cocodiff.engine.boundary import boundary_iou_pairs, boundary_rle_mask, dilation_for


def _encode(m):
    """pycocotools-layout RLE counts (column-major, starting with a background run)."""
    f = np.asarray(m, dtype=np.uint8).flatten(order="F")
    change = np.flatnonzero(np.diff(f)) + 1
    bounds = np.r_[0, change, f.size]
    runs = np.diff(bounds)
    if f.size and f[0] == 1:
        runs = np.r_[0, runs]
    return runs.astype(np.uint32)


def _oracle_boundary(m, d):
    """Official rule: zero-pad, erode d times with 3x3 == one erosion with a (2d+1) square."""
    p = np.pad(np.asarray(m, dtype=np.uint8), d)
    e = erosion(p, np.ones((2 * d + 1, 2 * d + 1), np.uint8))[d:-d, d:-d]
    return (np.asarray(m, bool) & ~e.astype(bool))


def _oracle_biou(m1, m2, d):
    b1, b2 = _oracle_boundary(m1, d), _oracle_boundary(m2, d)
    u = np.sum(b1 | b2)
    return np.sum(b1 & b2) / u if u else 0.0


def _random_mask(rng, h, w):
    m = np.zeros((h, w), np.uint8)
    kind = rng.integers(0, 3)
    if kind == 0:
        m = (rng.random((h, w)) < 0.6).astype(np.uint8)
    else:
        for _ in range(int(rng.integers(0, 4))):
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            m[y0:y0 + rng.integers(1, h + 1), x0:x0 + rng.integers(1, w + 1)] = 1
    return m


def test_dilation_matches_official_formula():
    for h, w in [(480, 640), (10, 10), (1, 1), (427, 640), (25, 25), (375, 500)]:
        expected = max(1, int(round(0.02 * np.sqrt(h ** 2 + w ** 2))))
        assert int(dilation_for(h, w)) == expected
    assert dilation_for(np.array([480, 2]), np.array([640, 2])).tolist() == [16, 1]


def test_border_counts_as_background():
    # full image: boundary is the d-wide frame along the image border
    h, w, d = 9, 7, 2
    b = boundary_rle_mask(_encode(np.ones((h, w))), h, w, dilation=d)
    exp = np.ones((h, w), bool)
    exp[d:h - d, d:w - d] = False
    assert np.array_equal(b.astype(bool), exp)


def test_boundary_mask_vs_skimage_random():
    rng = np.random.default_rng(5)
    for _ in range(150):
        h, w = (int(x) for x in rng.integers(1, 30, 2))
        d = int(rng.integers(1, 6))
        m = _random_mask(rng, h, w)
        b = boundary_rle_mask(_encode(m), h, w, dilation=d)
        assert b.shape == (h, w)
        assert np.array_equal(b.astype(bool), _oracle_boundary(m, d))


@pytest.mark.parametrize("parallel", [False, True])
def test_pairs_vs_skimage(parallel):
    rng = np.random.default_rng(9)
    counts, offs, pa, pb, hs, ws, ds, exp = [], [0], [], [], [], [], [], []
    k = 0
    for _ in range(120):
        h, w = (int(x) for x in rng.integers(1, 40, 2))
        d = int(rng.integers(1, 5))
        m1, m2 = _random_mask(rng, h, w), _random_mask(rng, h, w)
        for m in (m1, m2):
            c = _encode(m)
            counts.append(c)
            offs.append(offs[-1] + c.size)
        pa.append(k); pb.append(k + 1); k += 2
        hs.append(h); ws.append(w); ds.append(d)
        exp.append(_oracle_biou(m1, m2, d))
    got = boundary_iou_pairs(np.concatenate(counts), np.array(offs), np.array(pa), np.array(pb),
                             np.array(hs), np.array(ws), dilation=np.array(ds), parallel=parallel)
    assert np.array_equal(got, np.array(exp, dtype=np.float64))


def test_default_dilation_and_identity():
    h, w = 60, 80   # d = 2
    m1 = np.zeros((h, w), np.uint8); m1[10:40, 20:70] = 1
    m2 = np.zeros((h, w), np.uint8); m2[12:41, 18:66] = 1
    c1, c2 = _encode(m1), _encode(m2)
    counts = np.concatenate([c1, c2]); off = np.array([0, c1.size, c1.size + c2.size])
    r = boundary_iou_pairs(counts, off, np.array([0, 0]), np.array([1, 0]), h, w)
    assert r[0] == _oracle_biou(m1, m2, 2)
    assert r[1] == 1.0
    assert 0 < r[0] < 1
    # empty vs empty -> 0
    z = _encode(np.zeros((h, w)))
    r = boundary_iou_pairs(np.concatenate([z, z]), np.array([0, z.size, 2 * z.size]), np.array([0]),
                           np.array([1]), h, w)
    assert r[0] == 0.0


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 25), st.integers(1, 25), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_hypothesis_boundary(h, w, d, seed):
    rng = np.random.default_rng(seed)
    m1, m2 = _random_mask(rng, h, w), _random_mask(rng, h, w)
    c1, c2 = _encode(m1), _encode(m2)
    got = boundary_iou_pairs(np.concatenate([c1, c2]), np.array([0, c1.size, c1.size + c2.size]),
                             np.array([0]), np.array([1]), h, w, dilation=d, parallel=False)
    assert got[0] == _oracle_biou(m1, m2, d)


def test_empty_runs_inside_counts():
    # counts with zero-length runs in the middle (allowed RLE): [2, 3, 0, 4, 7] == [2, 7, 7]
    h, w, d = 4, 4, 1
    c1 = np.array([2, 3, 0, 4, 7], np.uint32)
    c2 = np.array([2, 7, 7], np.uint32)
    m = np.zeros(16, np.uint8); m[2:9] = 1
    m = m.reshape((w, h)).T
    b1 = boundary_rle_mask(c1, h, w, dilation=d)
    assert np.array_equal(b1.astype(bool), _oracle_boundary(m, d))
    counts = np.concatenate([c1, c2])
    got = boundary_iou_pairs(counts, np.array([0, 5, 8]), np.array([0]), np.array([1]), h, w, dilation=d,
                             parallel=False)
    assert got[0] == 1.0
