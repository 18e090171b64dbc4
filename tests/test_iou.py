"""IoU kernels vs pycocotools.mask.iou (difference exactly 0) and the slow rleIou transcription."""
from __future__ import annotations


import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from pycocotools import mask as P

from cocodiff import mask as C
from cocodiff.engine.iou import bbox_iou_matrix, iou_matrix
from cocodiff.measures import mask_facts, pair_measures
from cocodiff.engine.rle import rle_encode
from conftest import DATA, REAL_INSTANCE_FILES
from ref_rle import load_real_rles, ref_intersection, ref_iou

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
HYP = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GT_2014 = DATA / "coco2014_val100" / "instances_val2014_100.json"
FAKESEGM = DATA / "coco2014_val100" / "instances_val2014_fakesegm100_results.json"


def _store(rles):
    counts, offsets, _, _ = C.rles_to_store(rles)
    return counts, offsets


def _pairs(c, o, pa, pb, crowd_b, h, parallel=False):
    """The comparison's pair measures, :func:`cocodiff.measures.pair_measures` (on two threads
    when ``parallel``), in ``maskUtils.iou([pa], [pb], [crowd_b])`` orientation (dt = ``pa``, gt =
    ``pb``); ``h`` all zeros: heights unknown. Returns ``(inter, iou)``."""
    threads = 2 if parallel else 1
    area, _, facts = mask_facts(c, o, h, threads)
    inter, iou, _ = pair_measures(c, o, pb, pa, crowd_b, area, facts, threads)
    return inter, iou


# --------------------------------------------------------------------------- real files
@pytest.mark.parametrize("path", REAL_INSTANCE_FILES, ids=lambda p: p.name)
def test_real_iou_within_images(path):
    groups = load_real_rles(path)
    n_pairs = 0
    n_crowd = 0
    for rl, crowd in groups.values():
        expected = P.iou(rl, rl, crowd)
        got = C.iou(rl, rl, crowd)
        assert isinstance(got, np.ndarray) and got.dtype == np.float64
        assert got.shape == expected.shape == (len(rl), len(rl))
        assert np.array_equal(got, expected)
        # the raw kernel too (all masks of an image have one size)
        c, o = _store(rl)
        assert np.array_equal(iou_matrix(c, o, c, o, np.array(crowd, np.uint8)), expected)
        n_pairs += len(rl) ** 2
        n_crowd += sum(crowd)
    assert n_pairs > 0


def _fakesegm_by_image():
    import json
    with open(FAKESEGM) as f:
        res = json.load(f)
    out = {}
    for r in res:
        s = r["segmentation"]
        out.setdefault(r["image_id"], []).append({"size": s["size"], "counts": s["counts"].encode()})
    return out


def test_real_iou_fakesegm_vs_gt():
    gt = load_real_rles(GT_2014)
    dt = _fakesegm_by_image()
    n = 0
    crowd_seen = 0
    for img, dts in dt.items():
        if img not in gt:
            continue
        gts, crowd = gt[img]
        expected = P.iou(dts, gts, crowd)
        got = C.iou(dts, gts, crowd)
        assert np.array_equal(got, expected)
        # also with str counts (as json gives them)
        got_s = C.iou([{"size": d["size"], "counts": d["counts"].decode()} for d in dts], gts, crowd)
        assert np.array_equal(got_s, expected)
        n += expected.size
        crowd_seen += int(np.any(np.array(crowd)[None, :] & (expected > 0)))
    assert n > 1000
    assert crowd_seen > 0  # the crowd rule was exercised with non-zero IoUs


def test_pair_kernels_on_real_store():
    gt = load_real_rles(GT_2014)
    rles, img_of, crowd = [], [], []
    for img, (rl, cr) in gt.items():
        rles += rl
        img_of += [img] * len(rl)
        crowd += cr
    c, o = _store(rles)
    img_of = np.array(img_of)
    pa, pb = np.nonzero(img_of[:, None] == img_of[None, :])
    pa = pa.astype(np.int64)
    pb = pb.astype(np.int64)
    crowd_b = np.array(crowd, np.uint8)[pb]
    hs = np.array([r["size"][0] for r in rles], np.int64)
    inter, ious = _pairs(c, o, pa, pb, crowd_b, np.zeros_like(hs))
    for parallel in (False, True):
        got_inter, got_ious = _pairs(c, o, pa, pb, crowd_b, hs, parallel)
        assert np.array_equal(got_ious, ious) and np.array_equal(got_inter, inter)
    # each pair equals the pycocotools matrix entry
    k = 0
    for img, (rl, cr) in gt.items():
        m = P.iou(rl, rl, cr)
        sel = img_of[pa] == img
        assert np.array_equal(ious[sel], m.ravel())
        k += 1
    # intersections: decoded masks, for a sample
    for t in range(0, len(pa), 151):
        ma = P.decode(rles[pa[t]]).astype(bool)
        mb = P.decode(rles[pb[t]]).astype(bool)
        assert inter[t] == int((ma & mb).sum())


# --------------------------------------------------------------------------- random masks
@st.composite
def mask_sets(draw):
    h = draw(st.integers(1, 9))
    w = draw(st.integers(1, 9))
    n = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ms = []
    for _ in range(n):
        kind = rng.integers(0, 4)
        if kind == 0:
            m = np.zeros((h, w), np.uint8)
        elif kind == 1:
            m = np.ones((h, w), np.uint8)
        else:
            m = (rng.random((h, w)) < rng.random()).astype(np.uint8)
        ms.append(m)
    return h, w, ms


@HYP
@given(mask_sets(), mask_sets(), st.data())
def test_random_iou(a, b, data):
    h, w, ma = a
    mb = b[2] if b[0] == h and b[1] == w else a[2][::-1]
    dts = [C.encode(m) for m in ma]
    gts = [C.encode(m) for m in mb]
    crowd = data.draw(st.lists(st.integers(0, 1), min_size=len(gts), max_size=len(gts)))
    got = C.iou(dts, gts, crowd)
    assert np.array_equal(got, P.iou(dts, gts, crowd))
    ref = ref_iou([(rle_encode(m), h, w) for m in ma], [(rle_encode(m), h, w) for m in mb], crowd)
    assert np.array_equal(got, ref)
    assert np.all((got >= 0) & (got <= 1))
    no_crowd = C.iou(dts, gts, [0] * len(gts))
    assert np.array_equal(no_crowd.T, C.iou(gts, dts, [0] * len(dts)))
    for d, m1 in enumerate(ma):
        for g, m2 in enumerate(mb):
            i = int((m1 & m2).sum())
            u = int((m1 | m2).sum())
            assert no_crowd[d, g] == (i / u if i else 0.0)


def _counts_for(cnts, h):
    total = sum(cnts)
    pad = (-total) % h
    cnts = cnts[:-1] + [cnts[-1] + pad]
    return cnts, (total + pad) // h


@HYP
@given(st.lists(st.lists(st.integers(0, 4), min_size=1, max_size=10), min_size=2, max_size=4),
       st.integers(1, 3), st.integers(0, 3), st.data())
def test_zero_runs_follow_the_c_loop(lists, h, extra, data):
    # uncompressed RLEs with zero-length runs: rleIou's loop can stop early; match it exactly
    rles = []
    for cn in lists:
        cn, w = _counts_for(cn + [extra], h)
        rles.append((cn, w))
    w = max(wi for _, wi in rles)
    fixed = []
    for cn, wi in rles:
        cn = cn[:-1] + [cn[-1] + (w - wi) * h]
        fixed.append(cn)
    if w == 0:
        return
    objs = [C.frPyObjects({"size": [h, w], "counts": cn}, h, w) for cn in fixed]
    crowd = data.draw(st.lists(st.integers(0, 1), min_size=len(objs), max_size=len(objs)))
    expected = P.iou(objs, objs, crowd)
    assert np.array_equal(C.iou(objs, objs, crowd), expected)
    assert np.array_equal(ref_iou([(np.array(c), h, w) for c in fixed],
                                  [(np.array(c), h, w) for c in fixed], crowd), expected)


@HYP
@given(mask_sets(), mask_sets(), st.data())
def test_size_mismatch_rule(a, b, data):
    # masks of different sizes: pycocotools gives -1 where the boxes overlap, else 0
    dts = [C.encode(m) for m in a[2]]
    gts = [C.encode(m) for m in b[2]]
    crowd = data.draw(st.lists(st.integers(0, 1), min_size=len(gts), max_size=len(gts)))
    assert np.array_equal(C.iou(dts, gts, crowd), P.iou(dts, gts, crowd))


@HYP
@given(st.lists(st.lists(st.floats(-5, 20, allow_nan=False), min_size=4, max_size=4), min_size=1, max_size=5),
       st.lists(st.lists(st.floats(-5, 20, allow_nan=False), min_size=4, max_size=4), min_size=1, max_size=5),
       st.data())
def test_box_iou(dt, gt, data):
    crowd = data.draw(st.lists(st.integers(0, 1), min_size=len(gt), max_size=len(gt)))
    expected = P.iou(dt, gt, crowd)
    with np.errstate(all="ignore"):
        assert np.array_equal(C.iou(dt, gt, crowd), expected, equal_nan=True)
        assert np.array_equal(C.iou(np.array(dt), np.array(gt), crowd), expected, equal_nan=True)
        assert np.array_equal(bbox_iou_matrix(np.array(dt), np.array(gt), np.array(crowd, np.uint8)),
                              expected, equal_nan=True)


@HYP
@given(mask_sets(), st.integers(0, 2**32 - 1))
def test_pair_measures_random(a, seed):
    h, w, ms = a
    rles = [C.encode(m) for m in ms]
    c, o = _store(rles)
    rng = np.random.default_rng(seed)
    k = int(rng.integers(0, 30))
    pa = rng.integers(0, len(ms), k).astype(np.int64)
    pb = rng.integers(0, len(ms), k).astype(np.int64)
    cr = rng.integers(0, 2, k).astype(np.uint8)
    hs = np.full(len(ms), h, np.int64)
    inter, pi = _pairs(c, o, pa, pb, cr, np.zeros_like(hs))
    for parallel in (False, True):
        got_inter, got_pi = _pairs(c, o, pa, pb, cr, hs, parallel)
        assert np.array_equal(got_inter, inter) and np.array_equal(got_pi, pi)
    for t in range(k):
        assert inter[t] == ref_intersection(c[o[pa[t]]:o[pa[t] + 1]], c[o[pb[t]]:o[pb[t] + 1]], h, w)
    assert np.array_equal(pi, np.array([iou_matrix(c, o, c, o, np.full(len(ms), cr[t], np.uint8),
                                                   hs, hs)[pa[t], pb[t]] for t in range(k)]))
    full = [P.iou([rles[pa[t]]], [rles[pb[t]]], [int(cr[t])])[0, 0] for t in range(k)]
    assert np.array_equal(pi, np.array(full, np.float64).reshape(-1))


def test_iou_matrix_crowd_length_error():
    c = np.array([1, 2, 3], np.uint32)
    o = np.array([0, 3], np.int64)
    with pytest.raises(ValueError):
        iou_matrix(c, o, c, o, np.zeros(2, np.uint8))


def test_c_loop_early_stop_quirk():
    # counts [2, 0, 3, 4, 1]: after the first step both RLEs load a zero-length run and
    # rleIou's loop stops with i = 0, so pycocotools says 0 for a mask against itself.
    r = C.frPyObjects({"size": [1, 10], "counts": [2, 0, 3, 4, 1]}, 1, 10)
    assert P.iou([r], [r], [0])[0, 0] == 0.0
    assert C.iou([r], [r], [0])[0, 0] == 0.0
    # the same mask without the zero run: IoU 1
    r2 = C.frPyObjects({"size": [1, 10], "counts": [5, 4, 1]}, 1, 10)
    assert C.iou([r2], [r2], [0])[0, 0] == 1.0 == P.iou([r2], [r2], [0])[0, 0]
    # same list object (parsed once, same-store shortcut path) and the pair kernels agree
    objs = [r, r2]
    assert np.array_equal(C.iou(objs, objs, [0, 0]), P.iou(objs, objs, [0, 0]))
    c, o = _store(objs)
    z = np.zeros(2, np.uint8)
    pa = np.array([0, 0], np.int64)
    pb = np.array([0, 1], np.int64)
    for parallel in (False, True):
        inter, ious = _pairs(c, o, pa, pb, z, np.array([1, 1], np.int64), parallel)
        assert ious.tolist() == [0.0, P.iou([r], [r2], [0])[0, 0]]
        assert inter.tolist() == [4, 4]   # the true intersection is still reported
    assert np.array_equal(iou_matrix(c, o, c, o, np.zeros(2, np.uint8)), P.iou(objs, objs, [0, 0]))
