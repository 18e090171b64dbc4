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
    lambda: C.frPyObjects({"size": [2, 2], "counts": [1, 2]}, 2, 2),            # sum != h*w
    lambda: C.frPyObjects({"size": [2, 2], "counts": [1, -1, 4]}, 2, 2),        # negative count
    lambda: C.frPyObjects({"size": [0, 2], "counts": []}, 2, 2),                # size h = 0
    lambda: C.decode({"size": [2, 2], "counts": b"1\x7f"}),                     # bad character
    lambda: C.decode({"size": [2, 2], "counts": "1é"}),                         # non-ascii
    lambda: C.decode({"size": [2, 2], "counts": b"1P"}),                        # truncated
    lambda: C.decode([]),                                                       # empty list
    lambda: C.decode([{"size": [2, 2], "counts": b"4"}, {"size": [1, 4], "counts": b"4"}]),
    lambda: C.area({"size": [2, 2], "counts": b"3"}),                           # sum 3 != 4
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
