"""``from cocodiff import mask as maskUtils`` behaves like ``pycocotools.mask``."""
from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as P

import cocodiff
from cocodiff import mask as C
from conftest import DATA

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def user_script(maskUtils):
    """Code as people write it against pycocotools.mask; returns everything it computed."""
    out = []
    with open(DATA / "coco2017_subsets" / "tinycoco_instances_val2017.json") as f:
        d = json.load(f)
    imgs = {im["id"]: im for im in d["images"]}
    by_img = {}
    for ann in d["annotations"]:
        im = imgs[ann["image_id"]]
        h, w = im["height"], im["width"]
        segm = ann["segmentation"]
        if isinstance(segm, list):
            rles = maskUtils.frPyObjects(segm, h, w)
            rle = maskUtils.merge(rles)
            out.append(rles)
        elif isinstance(segm["counts"], list):
            rle = maskUtils.frPyObjects(segm, h, w)
        else:
            rle = segm
        out.append(rle)
        by_img.setdefault(ann["image_id"], []).append((rle, ann["iscrowd"], ann["bbox"]))
    for img, items in sorted(by_img.items()):
        rles = [r for r, _, _ in items]
        crowd = [c for _, c, _ in items]
        boxes = [b for _, _, b in items]
        out.append(maskUtils.area(rles))
        out.append(maskUtils.area(rles[0]))
        out.append(maskUtils.toBbox(rles))
        out.append(maskUtils.toBbox(rles[0]))
        out.append(maskUtils.iou(rles, rles, crowd))
        out.append(maskUtils.iou(boxes, boxes, crowd))
        out.append(maskUtils.iou(np.array(boxes), np.array(boxes), crowd))
        out.append(maskUtils.iou(rles[:1], [], []))
        m = maskUtils.decode(rles)
        out.append(m)
        out.append(maskUtils.decode(rles[0]))
        out.append(maskUtils.encode(m))
        out.append(maskUtils.encode(m[:, :, 0]))
        out.append(maskUtils.merge(rles))
        out.append(maskUtils.merge(rles, intersect=True))
        out.append(maskUtils.merge(rles[:1]))
        h, w = rles[0]["size"]
        out.append(maskUtils.frPyObjects(np.array(boxes, np.float64), h, w))
    return out


def _same(a, b):
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        assert a["size"] == b["size"] and type(a["counts"]) is type(b["counts"]) and a["counts"] == b["counts"]
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        a_arr, b_arr = np.asarray(a), np.asarray(b)
        assert type(a) is type(b) or (isinstance(a, np.ndarray) and isinstance(b, np.ndarray))
        assert a_arr.dtype == b_arr.dtype and a_arr.shape == b_arr.shape
        assert np.array_equal(a_arr, b_arr)
        if isinstance(a, np.ndarray) and a.ndim >= 2:
            assert a.flags.f_contiguous == b.flags.f_contiguous


def test_user_script_identical():
    theirs = user_script(P)
    ours = user_script(C)
    assert len(theirs) == len(ours) > 100
    for a, b in zip(theirs, ours):
        _same(a, b)


def test_import_styles():
    assert cocodiff.mask is C
    from cocodiff.mask import area, decode, encode, frPyObjects, iou, merge, toBbox  # noqa: F401


def test_str_counts_and_single_dicts():
    m = np.zeros((7, 5), np.uint8, order="F")
    m[2:5, 1:4] = 1
    r = P.encode(m)
    r_str = {"size": r["size"], "counts": r["counts"].decode()}
    assert np.array_equal(C.decode(r_str), P.decode(r_str))
    assert C.area(r_str) == P.area(r_str)
    assert np.array_equal(C.toBbox(r_str), P.toBbox(r_str))
    assert np.array_equal(C.iou([r_str], [r], [1]), P.iou([r_str], [r], [1]))
    # single-object frPyObjects forms
    poly = [1.0, 1.0, 4.0, 1.0, 4.0, 5.0, 1.0, 5.0]
    assert C.frPyObjects(poly, 7, 5) == P.frPyObjects([poly], 7, 5)[0]
    assert C.frPyObjects({"size": [7, 5], "counts": [2, 3, 30]}, 7, 5) == \
        P.frPyObjects({"size": [7, 5], "counts": [2, 3, 30]}, 7, 5)
    assert C.frPyObjects([[1, 1, 2, 3]], 7, 5) == P.frPyObjects(np.array([[1, 1, 2, 3]], np.float64), 7, 5)
    # bool masks accepted
    assert C.encode(m.astype(bool)) == P.encode(m)


@pytest.mark.parametrize("call", [
    lambda: C.frPyObjects([], 10, 10),                                          # empty list
    lambda: C.frPyObjects([1, 2, 3, 4], 10, 10),                                # bare 4 numbers
    lambda: C.frPyObjects([[1, 2, 3, 4], [1, 2, 3, 4, 5, 6]], 10, 10),          # ragged, box-first
    lambda: C.frPyObjects([[1, 2, 3, 4, 5, 6, 7]], 10, 10),                     # odd coordinates
    lambda: C.frPyObjects([[1, 2, 3, 4, 5, 6], []], 10, 10),                    # empty polygon
    lambda: C.frPyObjects([[1, 2, 3, float("nan"), 5, 6]], 10, 10),             # non-finite
    lambda: C.frPyObjects([[1, 2, 3, 4, 5, 6]], 0, 10),                         # h <= 0
    lambda: C.frPyObjects([[1, 2, 3, 4, 5, 6]], 10, -1),                        # w <= 0
    lambda: C.decode({"size": [2, 2], "counts": [1, 2]}),                       # decode, sum 3 < 4
    lambda: C.frPyObjects({"size": [2, 2], "counts": [1, -1, 4]}, 2, 2),        # negative count
    lambda: C.frPyObjects({"size": [0, 2], "counts": []}, 2, 2),                # size h = 0
    lambda: C.decode({"size": [2, 2], "counts": b"1\x7f"}),                     # bad character
    lambda: C.decode({"size": [2, 2], "counts": "1é"}),                         # non-ascii
    lambda: C.decode({"size": [2, 2], "counts": b"1P"}),                        # truncated
    lambda: C.decode([]),                                                       # empty list
    lambda: C.decode([{"size": [2, 2], "counts": b"4"}, {"size": [1, 4], "counts": b"4"}]),
    lambda: C.decode({"size": [2, 2], "counts": b"5"}),                         # decode, sum 5 > 4
    lambda: C.toBbox({"size": [2, 2]}),                                         # no counts
    lambda: C.merge([]),
    lambda: C.merge([{"size": [2, 2], "counts": b"4"}, {"size": [4, 1], "counts": b"4"}]),
    lambda: C.iou([{"size": [2, 2], "counts": b"4"}], [{"size": [2, 2], "counts": b"4"}], [0, 0]),
    lambda: C.iou([{"size": [2, 2], "counts": b"4"}], [[0, 0, 1, 1]], [0]),     # mixed kinds
    lambda: C.iou("abc", [[0, 0, 1, 1]], [0]),
    lambda: C.encode(np.zeros((3, 4), np.float32)),
    lambda: C.encode(np.zeros((0, 4), np.uint8)),
    lambda: C.encode(np.zeros(4, np.uint8)),
])
def test_value_errors(call):
    with pytest.raises(ValueError):
        call()


def test_iou_empty_returns_list_like_pycocotools():
    r = {"size": [2, 2], "counts": b"4"}
    assert C.iou([], [], []) == P.iou([], [], []) == []
    assert C.iou([r], [], []) == P.iou([r], [], []) == []


def test_merge_union_intersection_polygons():
    h, w = 20, 30
    polys = [[2, 2, 15, 2, 15, 12, 2, 12], [10, 5, 25, 5, 25, 18, 10, 18], [0, 0, 5, 0, 0, 5]]
    ours = C.frPyObjects(polys, h, w)
    theirs = P.frPyObjects(polys, h, w)
    assert ours == theirs
    for inter in (False, True):
        assert C.merge(ours, intersect=inter) == P.merge(theirs, intersect=inter)
    assert C.frBbox(np.array([[1.5, 2.5, 7.2, 3.3]]), h, w) == P.frPyObjects(np.array([[1.5, 2.5, 7.2, 3.3]]), h, w)


# --------------------------------------------------------------------------- loose RLEs
# (issue 18, item 10) RLEs whose counts do not sum to h*w: pycocotools encodes them, gives
# their area and box, merges and compares them; so does the drop-in, with the same bytes.

_U32 = 0xFFFFFFFF


def _runs(rng, total, k):
    """k run lengths (zeros allowed) summing to total."""
    cuts = np.sort(rng.integers(0, total + 1, size=k - 1)) if k > 1 else np.zeros(0, np.int64)
    pts = np.concatenate(([0], cuts, [total]))
    return [int(v) for v in np.diff(pts)]


def _loose_total(rng, h, w):
    """A total that is not h*w: short (possibly 0) or long."""
    a = h * w
    if rng.random() < 0.5 and a > 1:
        return int(rng.integers(0, a))
    return int(rng.integers(a + 1, 3 * a + 5))


def test_issue_example_short_counts():
    seg = {"size": [1350, 1080], "counts": [0, 5, 5, 5, 5, 2, 3, 5, 2, 3, 5, 2, 3, 55]}
    r = C.frPyObjects(seg, 1350, 1080)
    assert r == P.frPyObjects(seg, 1350, 1080) == {"size": [1350, 1080], "counts": b"05500MN3ON3ONe1"}
    assert C.area(r) == P.area(r) == 77 and type(C.area(r)) is type(P.area(r))
    assert C.toBbox(r).tolist() == P.toBbox(r).tolist() == [0.0, 0.0, 1.0, 100.0]
    assert C.area([seg]).tolist() == [77] and C.toBbox([seg]).tolist() == [[0.0, 0.0, 1.0, 100.0]]
    assert C.frPyObjects([seg, seg], 1350, 1080) == P.frPyObjects([seg, seg], 1350, 1080)
    from pycocotools import _mask
    assert C.frUncompressedRLE([seg], 1350, 1080) == _mask.frUncompressedRLE([seg], 1350, 1080)
    # as COCO.annToRLE / COCOeval use it: iou against itself and a full-sum detection
    full = P.frPyObjects([[0, 0, 50, 0, 50, 60, 0, 60]], 1350, 1080)[0]
    assert np.array_equal(C.iou([r], [r], [0]), P.iou([r], [r], [0]))
    mf = C.decode(full).ravel(order="F")[:100].astype(bool)
    mr = _mask_of(seg["counts"], 100)
    inter = int((mf & mr).sum())
    assert 0 < inter < 77
    assert C.iou([full], [r], [0])[0, 0] == inter / (int(C.area(full)) + 77 - inter)
    assert C.iou([full], [r], [1])[0, 0] == inter / int(C.area(full))


def test_loose_counts_match_pycocotools_random():
    rng = np.random.default_rng(20240618)
    for case in range(400):
        h, w = int(rng.integers(1, 13)), int(rng.integers(1, 13))
        n = int(rng.integers(1, 5))
        segs = []
        for _ in range(n):
            k = int(rng.integers(1, 16))
            segs.append({"size": [h, w], "counts": _runs(rng, _loose_total(rng, h, w), k)})
        ours = C.frPyObjects(segs, h, w)
        theirs = P.frPyObjects(segs, h, w)
        assert ours == theirs, (case, segs)
        assert C.frPyObjects(segs[0], h, w) == P.frPyObjects(segs[0], h, w)
        for objs in (theirs, segs, [{"size": s["size"], "counts": s["counts"].decode()}
                                    for s in theirs]):
            _same(P.area(theirs), C.area(objs))
            _same(P.toBbox(theirs), C.toBbox(objs))
            _same(P.area(theirs[0]), C.area(objs[0]))
            _same(P.toBbox(theirs[0]), C.toBbox(objs[0]))
        # pycocotools refuses to decode a long RLE; the drop-in does too
        for s in theirs:
            if sum(_counts_of(s)) > h * w:
                with pytest.raises(ValueError):
                    P.decode(s)
            with pytest.raises(ValueError, match="sum"):
                C.decode(s)


def _counts_of(rle):
    from cocodiff.engine.rle import rle_from_string
    return rle_from_string(np.frombuffer(rle["counts"], np.uint8)).tolist()


def test_loose_iou_and_merge_match_pycocotools_random():
    # pycocotools walks two RLEs until both end: RLEs of one total (not h*w) compare and
    # merge fine there (RLEs of different totals make its loop spin forever: not asked)
    rng = np.random.default_rng(7)
    for case in range(300):
        h, w = int(rng.integers(1, 10)), int(rng.integers(1, 10))
        total = _loose_total(rng, h, w)
        n = int(rng.integers(1, 5))
        segs = [{"size": [h, w], "counts": _runs(rng, total, int(rng.integers(1, 12)))}
                for _ in range(n)]
        theirs = P.frPyObjects(segs, h, w)
        ours = C.frPyObjects(segs, h, w)
        crowd = [int(c) for c in rng.integers(0, 2, size=n)]
        _same(P.iou(theirs, theirs, crowd), C.iou(ours, ours, crowd))
        _same(P.iou(theirs[:1], theirs, crowd), C.iou(segs[:1], segs, crowd))
        # a mask of another size, of any total: -1 / 0 from the boxes, as pycocotools
        other = P.frPyObjects([{"size": [h + 1, w], "counts": _runs(rng, _loose_total(rng, h + 1, w), 5)}],
                              h + 1, w)
        _same(P.iou(theirs, other, [0]), C.iou(ours, other, [0]))
        # padding for a longer RLE of the same size in the same call does not change the
        # pairs of equal totals
        longer = {"size": [h, w], "counts": _runs(rng, total + int(rng.integers(1, 9)), 4)}
        got = C.iou(ours + [longer], ours, crowd)
        _same(P.iou(theirs, theirs, crowd), np.asfortranarray(got[:n]))
        assert np.all((got[n] >= 0) & (got[n] <= 1))
        # merge: within pycocotools' contract (an h*w+1 buffer; zero runs inside can end its
        # walk early, and merging that result again spins forever)
        pairs = [theirs[:2]] if any(0 in s["counts"][1:] for s in segs) else [theirs]
        for group in pairs:
            runs = sum(len(_counts_of(s)) for s in group)
            if runs > h * w + 1:
                continue
            for inter in (False, True):
                assert C.merge(group, intersect=inter) == P.merge(group, intersect=inter), \
                    (case, segs, inter)


def _mask_of(counts, n):
    out = np.zeros(n, bool)
    p, v = 0, False
    for c in counts:
        out[p:p + c] = v
        p += c
        v = not v
    return out


def test_loose_different_totals_pad_with_background():
    # where pycocotools spins forever (two RLEs of one size but different totals), the
    # drop-in reads the shorter as ending in background: one answer, no hang, no error
    a = {"size": [4, 5], "counts": [2, 3, 1]}            # pixels 2..4, total 6
    b = {"size": [4, 5], "counts": [0, 20]}              # all 20 pixels
    c = {"size": [4, 5], "counts": [3, 2, 20, 4]}        # pixels 3, 4 and 25..28, total 29
    assert C.iou([a], [b], [0])[0, 0] == 3 / 20
    assert C.iou([a], [c], [0])[0, 0] == 2 / 7
    assert C.iou([a], [c], [1])[0, 0] == 2 / 3
    assert C.iou([c], [a], [1])[0, 0] == 2 / 6
    for group, inter in (([a, b], False), ([a, c], False), ([a, c], True), ([b, a, c], False)):
        got = C.merge(group, intersect=inter)
        n = max(sum(g["counts"]) for g in group)
        masks = [_mask_of(g["counts"], n) for g in group]
        expect = np.logical_and.reduce(masks) if inter else np.logical_or.reduce(masks)
        assert np.array_equal(_mask_of(_counts_of(got), n), expect)


def test_loose_extremes_match_pycocotools():
    # counts near 2**32: pycocotools' unsigned arithmetic wraps, the drop-in wraps the same way
    cases = [(3, 4, [0, _U32, 5]), (3, 4, [0, _U32, 0, _U32]), (3, 4, [_U32, 3, 2]), (1, 1, [0, 0]), (1, 1, [5]),
             (7, 3, [0, 0, 0, 0]), (1350, 1080, [1458000, 3, 2]),
             (2, 2, [1, 2, 3, 4, 5, 6, 7, 8]), (100000, 100000, [10 ** 9, 7, 10 ** 9, 3])]
    for h, w, counts in cases:
        seg = {"size": [h, w], "counts": counts}
        r = P.frPyObjects(seg, h, w)
        assert C.frPyObjects(seg, h, w) == r, counts
        _same(P.area(r), C.area(r))
        _same(P.toBbox(r), C.toBbox(r))
        _same(P.toBbox([r, r]), C.toBbox([seg, r]))


def test_loose_rles_are_counted_and_logged(caplog):
    before = C.loose_rle_count()
    seg = {"size": [10, 10], "counts": [3, 4, 5]}
    with caplog.at_level("DEBUG", logger="cocodiff.mask"):
        C.area([seg, seg])
    assert C.loose_rle_count() == before + 2
    assert any("sum" in rec.getMessage() for rec in caplog.records)
    C.area([{"size": [2, 2], "counts": [1, 2, 1]}])
    assert C.loose_rle_count() == before + 2


def test_valid_round_trips_still_exact():
    rng = np.random.default_rng(3)
    for _ in range(100):
        h, w = int(rng.integers(1, 12)), int(rng.integers(1, 12))
        segs = [{"size": [h, w], "counts": _runs(rng, h * w, int(rng.integers(1, 10)))}
                for _ in range(3)]
        theirs = P.frPyObjects(segs, h, w)
        _same(P.decode(theirs), C.decode(segs))
        _same(P.encode(P.decode(theirs)), C.encode(C.decode(theirs)))
