"""RLE merge (union / intersection) against pycocotools.mask.merge and the slow reference."""
from __future__ import annotations

import numpy as np
import pycocotools.mask as maskUtils
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cocodiff.engine.merge import rle_merge, rle_merge2_into

from ref_raster import counts_to_mask, ref_merge, rle_string_to_counts


def coco_merge(rles, h, w, intersect):
    objs = [maskUtils.frPyObjects({"size": [h, w], "counts": [int(c) for c in r]}, h, w) for r in rles]
    return rle_string_to_counts(maskUtils.merge(objs, intersect=int(intersect))["counts"])


def pack(rles):
    counts = np.asarray([c for r in rles for c in r], np.uint32)
    offsets = np.zeros(len(rles) + 1, np.int64)
    offsets[1:] = np.cumsum([len(r) for r in rles])
    return counts, offsets


@st.composite
def rle_set(draw):
    """n = 1..5 RLEs over the same h*w; some non-canonical (zero-length runs) ones."""
    h = draw(st.integers(1, 12))
    w = draw(st.integers(1, 12))
    n = draw(st.integers(1, 5))
    rles = []
    for _ in range(n):
        style = draw(st.sampled_from(["mask", "mask", "runs", "empty", "full"]))
        if style == "mask":
            p = draw(st.floats(0.0, 1.0))
            bits = [draw(st.floats(0, 1)) < p for _ in range(h * w)]
            m = np.asarray(bits, np.uint8).reshape(w, h).T
            enc = maskUtils.encode(np.asfortranarray(m))
            rles.append(rle_string_to_counts(enc["counts"]))
        elif style == "runs":  # arbitrary runs including zeros, summing to h*w
            cuts = sorted(draw(st.lists(st.integers(0, h * w), min_size=0, max_size=8)))
            pts = [0] + cuts + [h * w]
            rles.append([b - a for a, b in zip(pts[:-1], pts[1:])])
        elif style == "empty":
            rles.append([h * w])
        else:
            rles.append([0, h * w])
    return rles, h, w


@settings(max_examples=200, deadline=None)
@given(rle_set(), st.booleans())
def test_merge_vs_pycocotools(case, intersect):
    rles, h, w = case
    if any(0 in r[1:] for r in rles):
        # pycocotools writes the result into an h*w+1 buffer: non-canonical inputs with
        # more runs than that overflow it (heap corruption), so stay within its contract
        assume(sum(len(r) for r in rles) <= h * w + 1)
        # ... and such inputs can make pycocotools' walk stop early with a result that
        # no longer sums to h*w; merging that with a third RLE loops forever in C
        assume(len(rles) <= 2)
    counts, offsets = pack(rles)
    got = rle_merge(counts, offsets, intersect).tolist()
    assert got == coco_merge(rles, h, w, intersect)
    assert got == ref_merge(rles, intersect)
    # and, for canonical inputs, the pixels are the boolean union / intersection
    # (with zero-length runs inside, pycocotools' walk can stop early: [[0, 0, 6],
    # [0, 0, 0, 6]] merges to [0] -- we follow pycocotools there, not geometry)
    if any(0 in r[1:] for r in rles):
        return
    masks = [counts_to_mask(r, h, w).astype(bool) for r in rles]
    expect = np.logical_and.reduce(masks) if intersect else np.logical_or.reduce(masks)
    assert np.array_equal(counts_to_mask(got, h, w).astype(bool), expect)


def test_merge_layout_details():
    h, w = 3, 4
    # pixel 0 set in both: output starts with a zero-length background run
    a, b = [0, 2, 10], [0, 1, 11]
    for inter in (False, True):
        assert rle_merge(*pack([a, b]), inter).tolist() == coco_merge([a, b], h, w, inter)
    # zero-length runs inside the inputs
    a, b = [1, 0, 2, 9], [2, 2, 0, 0, 8]
    for inter in (False, True):
        assert rle_merge(*pack([a, b]), inter).tolist() == coco_merge([a, b], h, w, inter)


def test_merge_n0_n1():
    assert rle_merge(np.zeros(0, np.uint32), np.zeros(1, np.int64), False).shape == (0,)
    one = [3, 0, 0, 2, 1]  # n == 1 is a verbatim copy, even when not canonical
    c, o = pack([one])
    out = rle_merge(c, o, False)
    assert out.tolist() == one
    out[0] = 99
    assert c[0] == 3  # a copy, not a view
    assert one == coco_merge([one], 2, 3, False)


def test_merge2_into_matches_n2():
    rng = np.random.default_rng(1)
    for _ in range(100):
        h, w = (int(v) for v in rng.integers(1, 10, 2))
        ms = [np.asfortranarray((rng.random((h, w)) < 0.5).astype(np.uint8)) for _ in range(2)]
        r = [np.asarray(rle_string_to_counts(maskUtils.encode(m)["counts"]), np.uint32) for m in ms]
        out = np.empty(len(r[0]) + len(r[1]), np.uint32)
        for inter in (False, True):
            m = rle_merge2_into(r[0], len(r[0]), r[1], len(r[1]), out, inter)
            assert out[:m].tolist() == rle_merge(*pack(r), inter).tolist()


def test_merge_large_masks():
    rng = np.random.default_rng(2)
    h, w = 480, 640
    rles = []
    for _ in range(4):
        m = np.zeros((h, w), np.uint8)
        y, x = rng.integers(0, h - 100), rng.integers(0, w - 100)
        m[y:y + rng.integers(5, 100), x:x + rng.integers(5, 100)] = 1
        rles.append(rle_string_to_counts(maskUtils.encode(np.asfortranarray(m))["counts"]))
    for inter in (False, True):
        assert rle_merge(*pack(rles), inter).tolist() == coco_merge(rles, h, w, inter)
