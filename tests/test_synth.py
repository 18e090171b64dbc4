"""Tests of the synthetic COCO twin generator (cocodiff.synth)."""
from __future__ import annotations

import argparse
import json
import zipfile
from collections import Counter

import numpy as np
import pytest

pycocotools = pytest.importorskip("pycocotools")
from pycocotools import mask as mask_utils  # noqa: E402
from pycocotools.coco import COCO  # noqa: E402

from cocodiff import synth  # noqa: E402
from cocodiff.engine import synth as ksynth  # noqa: E402


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny0")
    paths = synth.write_pair(out, "tiny", seed=0)
    return paths


@pytest.fixture(scope="module")
def tiny_coco(tiny_pair):
    return COCO(str(tiny_pair["a"])), COCO(str(tiny_pair["b"])), \
        json.loads(tiny_pair["truth"].read_bytes())


def _group_ids(truth, g):
    gr = truth["groups"]
    a = gr["a_ids"][gr["a_offsets"][g]:gr["a_offsets"][g + 1]]
    b = gr["b_ids"][gr["b_offsets"][g]:gr["b_offsets"][g + 1]]
    return a, b


# ------------------------------------------------------------------ determinism -------

def test_same_seed_byte_identical_other_seed_differs(tmp_path, tiny_pair):
    again = synth.write_pair(tmp_path / "again", "tiny", seed=0)
    for k in ("a", "b", "truth"):
        assert again[k].read_bytes() == tiny_pair[k].read_bytes(), k
    other = synth.write_pair(tmp_path / "other", "tiny", seed=1)
    for k in ("a", "b", "truth"):
        assert other[k].read_bytes() != tiny_pair[k].read_bytes(), k
    # generate() gives the same content as the files
    a, b, truth = synth.generate("tiny", seed=0)
    assert a == json.loads(tiny_pair["a"].read_bytes())
    assert b == json.loads(tiny_pair["b"].read_bytes())
    assert truth == json.loads(tiny_pair["truth"].read_bytes())


def test_zip_parts_deterministic_and_consistent(tmp_path, tiny_pair):
    p1 = synth.write_pair(tmp_path / "z1", "tiny", seed=0, b_parts=3)
    p2 = synth.write_pair(tmp_path / "z2", "tiny", seed=0, b_parts=3)
    assert p1["b"].name == "b.zip"
    assert p1["b"].read_bytes() == p2["b"].read_bytes()
    whole = json.loads(tiny_pair["b"].read_bytes())
    with zipfile.ZipFile(p1["b"]) as z:
        names = sorted(z.namelist())
        assert len(names) == 3
        parts = [json.loads(z.read(n)) for n in names]
    images, anns = [], []
    for part in parts:
        assert part["categories"] == whole["categories"]
        ids = {im["id"] for im in part["images"]}
        assert ids, "every part holds some images"
        assert all(a["image_id"] in ids for a in part["annotations"])
        images += part["images"]
        anns += part["annotations"]
    assert images == whole["images"]
    assert anns == whole["annotations"]


# ------------------------------------------------------------------ validity ----------

def _check_set(coco):
    cats = coco.dataset["categories"]
    assert len(cats) == 91 and len({c["id"] for c in cats}) == 91
    assert {c["id"] for c in cats} == set(range(1, 92))
    used = {a["category_id"] for a in coco.dataset["annotations"]}
    assert used <= set(synth.USED_CAT_IDS.tolist())
    assert not used & set(synth.UNUSED_CAT_IDS)
    ids = [a["id"] for a in coco.dataset["annotations"]]
    assert len(ids) == len(set(ids))
    assert len({im["id"] for im in coco.dataset["images"]}) == len(coco.dataset["images"])
    for im in coco.dataset["images"]:
        assert 0 < im["width"] <= 640 and 0 < im["height"] <= 640
    per_image_class = Counter((a["image_id"], a["category_id"])
                              for a in coco.dataset["annotations"])
    assert max(per_image_class.values()) >= 2, "several instances of a class in an image"
    for ann in coco.dataset["annotations"]:
        im = coco.imgs[ann["image_id"]]
        h, w = im["height"], im["width"]
        m = coco.annToMask(ann)
        assert m.shape == (h, w)
        seg = ann["segmentation"]
        if ann["iscrowd"]:
            assert isinstance(seg, dict) and seg["size"] == [h, w]
            counts = seg["counts"]
            assert isinstance(counts, list) and sum(counts) == h * w
            assert all(c >= 0 for c in counts)
            assert all(c > 0 for c in counts[1:-1]), "no empty run inside"
            # column-major: decode by hand and compare with pycocotools
            flat = np.zeros(h * w, np.uint8)
            pos = 0
            for j, c in enumerate(counts):
                if j % 2:
                    flat[pos:pos + c] = 1
                pos += c
            assert np.array_equal(flat.reshape(w, h).T, m)
            assert ann["area"] == int(m.sum()) > 0
            rle = mask_utils.frPyObjects(seg, h, w)
            assert np.allclose(mask_utils.toBbox(rle), ann["bbox"])
        else:
            assert isinstance(seg, list) and len(seg) >= 1
            xs, ys, tot = [], [], 0.0
            for ring in seg:
                assert len(ring) % 2 == 0 and len(ring) >= 6
                x = np.asarray(ring[0::2], np.float64)
                y = np.asarray(ring[1::2], np.float64)
                assert x.min() >= 0 and x.max() <= w and y.min() >= 0 and y.max() <= h
                assert np.allclose(np.round(x * 100), x * 100)   # 2 decimals
                tot += abs(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2
                xs.append(x)
                ys.append(y)
            x = np.concatenate(xs)
            y = np.concatenate(ys)
            assert ann["area"] == pytest.approx(tot, rel=1e-9, abs=1e-9)
            assert np.allclose(ann["bbox"], [x.min(), y.min(), x.max() - x.min(),
                                             y.max() - y.min()], atol=1e-9)
            if tot > 400 and len(seg) == 1:   # the raster agrees with the polygon area
                assert abs(int(m.sum()) - tot) < 0.15 * tot + 10
            elif tot > 400:                      # rings may overlap: area sums them
                assert 0.3 * tot < m.sum() < 1.15 * tot + 10


def test_every_annotation_is_valid_coco(tiny_coco):
    a, b, _ = tiny_coco
    _check_set(a)
    _check_set(b)
    assert [im["id"] for im in a.dataset["images"]] == [im["id"] for im in b.dataset["images"]]
    assert sum(x["iscrowd"] for x in a.dataset["annotations"]) >= 1
    assert sum(x["iscrowd"] for x in b.dataset["annotations"]) >= 1


# ------------------------------------------------------------------ truth -------------

def test_truth_conserves_every_id(tiny_coco):
    a, b, truth = tiny_coco
    gr = truth["groups"]
    ng = len(gr["relation"])
    assert len(gr["a_offsets"]) == len(gr["b_offsets"]) == ng + 1
    a_ids = sorted(x["id"] for x in a.dataset["annotations"])
    b_ids = sorted(x["id"] for x in b.dataset["annotations"])
    assert sorted(gr["a_ids"]) == a_ids and sorted(gr["b_ids"]) == b_ids
    assert sorted(truth["a"]["id"]) == a_ids and sorted(truth["b"]["id"]) == b_ids
    a_rel = dict(zip(truth["a"]["id"], truth["a"]["relation"]))
    b_rel = dict(zip(truth["b"]["id"], truth["b"]["relation"]))
    a_grp = dict(zip(truth["a"]["id"], truth["a"]["group"]))
    arity = {"matched": (1, 1), "class_changed": (1, 1), "removed": (1, 0), "added": (0, 1)}
    for g, rel in enumerate(gr["relation"]):
        ga, gb = _group_ids(truth, g)
        assert rel in synth.RELATIONS
        if rel in arity:
            assert (len(ga), len(gb)) == arity[rel]
        elif rel == "split":
            assert len(ga) == 1 and len(gb) >= 2
        else:
            assert len(ga) >= 2 and len(gb) == 1
        assert all(a_rel[i] == rel and a_grp[i] == g for i in ga)
        assert all(b_rel[i] == rel for i in gb)
        for i in ga:
            assert a.anns[i]["image_id"] == gr["image_id"][g]
        for i in gb:
            assert b.anns[i]["image_id"] == gr["image_id"][g]


_KIND_REL = {"matched": "matched", "crowd_matched": "matched",
             "class_changed": "class_changed", "removed": "removed", "added": "added",
             "added_crowd": "added", "crowd_split": "split", "crowd_decomposed": "split",
             "group_split": "split", "dominant_split": "split", "merged_crowd": "merged",
             "merged_poly": "merged", "merged_adjacent": "merged"}


def test_all_relation_kinds_present_at_tiny(tiny_coco):
    _, _, truth = tiny_coco
    assert set(truth["groups"]["relation"]) == set(synth.RELATIONS)
    assert set(truth["relations"]) == set(synth.RELATIONS)
    assert set(synth.UNIT_KINDS) == set(_KIND_REL)
    assert set(truth["groups"]["kind"]) == set(synth.UNIT_KINDS)
    assert len(truth["groups"]["kind"]) == len(truth["groups"]["relation"])
    for kind, rel in zip(truth["groups"]["kind"], truth["groups"]["relation"]):
        assert _KIND_REL[kind] == rel


def test_relations_geometry(tiny_coco):
    a, b, truth = tiny_coco
    ious, removed_area, kinds = [], [], Counter()
    for g, rel in enumerate(truth["groups"]["relation"]):
        ga, gb = _group_ids(truth, g)
        if rel in ("matched", "class_changed"):
            xa, xb = a.anns[ga[0]], b.anns[gb[0]]
            assert xa["iscrowd"] == xb["iscrowd"]
            if rel == "class_changed":
                assert xa["category_id"] != xb["category_id"]
                assert xa["segmentation"] == xb["segmentation"]
            else:
                assert xa["category_id"] == xb["category_id"]
                ma, mb = a.annToMask(xa), b.annToMask(xb)
                ious.append((ma & mb).sum() / max((ma | mb).sum(), 1))
                if not xa["iscrowd"]:
                    na = sum(len(r) for r in xa["segmentation"])
                    nb = sum(len(r) for r in xb["segmentation"])
                    assert nb >= na, "B outlines are densified"
        elif rel == "split":
            parent = a.anns[ga[0]]
            mp = a.annToMask(parent)
            cats = {b.anns[i]["category_id"] for i in gb}
            assert cats == {parent["category_id"]}
            n_crowd = sum(b.anns[i]["iscrowd"] for i in gb)
            # only a decomposed crowd keeps a (smaller) crowd for the balance
            assert n_crowd == 0 or (parent["iscrowd"] and n_crowd == 1
                                    and truth["groups"]["kind"][g] == "crowd_decomposed")
            for i in gb:
                mc = b.annToMask(b.anns[i])
                assert (mc & mp).sum() >= 0.8 * mc.sum()
            kinds["split_crowd" if parent["iscrowd"] else "split_group"] += 1
        elif rel == "merged":
            whole = b.anns[gb[0]]
            mw = b.annToMask(whole)
            for i in ga:
                assert not a.anns[i]["iscrowd"]
                assert a.anns[i]["category_id"] == whole["category_id"]
                mm = a.annToMask(a.anns[i])
                assert (mm & mw).sum() >= 0.85 * mm.sum()
            kinds["merged_crowd" if whole["iscrowd"] else "merged_poly"] += 1
        elif rel == "removed":
            removed_area.append(a.anns[ga[0]]["area"])
    assert np.mean(ious) > 0.9 and np.median(ious) > 0.93
    assert np.mean(np.array(removed_area) <= 100) > 0.5, "Sama drops mostly tiny objects"
    assert set(kinds) == {"split_crowd", "split_group", "merged_crowd", "merged_poly"}


# ------------------------------------------------------------------ val scale ---------

@pytest.fixture(scope="module")
def val_pair():
    """The ``val`` pair (seed 0) with pycocotools RLEs of every instance."""
    a, b, truth = synth.generate("val", seed=0)
    size = {im["id"]: (im["height"], im["width"]) for im in a["images"]}

    def rles(coco):
        out = {}
        for x in coco["annotations"]:
            h, w = size[x["image_id"]]
            r = mask_utils.frPyObjects(x["segmentation"], h, w)
            out[x["id"]] = mask_utils.merge(r) if isinstance(r, list) else r
        return out
    return a, b, truth, rles(a), rles(b)


def _groups_of(truth, kind):
    return [_group_ids(truth, g) for g, k in enumerate(truth["groups"]["kind"]) if k == kind]


def _inside(p, q):
    """Share of mask ``p`` lying inside mask ``q``."""
    return float(mask_utils.iou([p], [q], [1])[0, 0])


def _tiling(whole, parts):
    """(union-vs-whole IoU, area shares of the parts, share of each part inside the whole)."""
    union = mask_utils.merge(parts)
    ar = np.array([mask_utils.area(p) for p in parts], np.float64)
    return (float(mask_utils.iou([union], [whole], [0])[0, 0]), ar / ar.sum(),
            [_inside(p, whole) for p in parts])


def test_val_every_kind_present_with_its_truth(val_pair):
    a, b, truth, _, _ = val_pair
    kinds = Counter(truth["groups"]["kind"])
    assert set(kinds) == set(synth.UNIT_KINDS)
    # crowd decomposition is the most common crowd change
    assert kinds["crowd_decomposed"] > max(kinds["crowd_split"], kinds["crowd_matched"])
    for kind in ("crowd_decomposed", "dominant_split", "merged_adjacent"):
        assert kinds[kind] >= 80, (kind, kinds[kind])
    A = {x["id"]: x for x in a["annotations"]}
    B = {x["id"]: x for x in b["annotations"]}
    rest = 0
    for ga, gb in _groups_of(truth, "crowd_decomposed"):
        assert len(ga) == 1 and A[ga[0]]["iscrowd"] and len(gb) >= 2
        crowds = [i for i in gb if B[i]["iscrowd"]]
        assert len(crowds) <= 1 and len(gb) - len(crowds) >= 1
        rest += len(crowds)
        assert {B[i]["category_id"] for i in gb} == {A[ga[0]]["category_id"]}
        assert all(B[i]["area"] >= 100 for i in gb)
    assert 0.45 < rest / kinds["crowd_decomposed"] < 0.75
    for ga, gb in _groups_of(truth, "dominant_split"):
        assert len(ga) == 1 and 2 <= len(gb) <= 3
        assert not A[ga[0]]["iscrowd"] and len(A[ga[0]]["segmentation"]) == 1
        assert all(not B[i]["iscrowd"] and len(B[i]["segmentation"]) == 1 for i in gb)
        assert {B[i]["category_id"] for i in gb} == {A[ga[0]]["category_id"]}
    for ga, gb in _groups_of(truth, "merged_adjacent"):
        assert len(gb) == 1 and 2 <= len(ga) <= 3
        assert not B[gb[0]]["iscrowd"] and len(B[gb[0]]["segmentation"]) == 1
        assert all(not A[i]["iscrowd"] and len(A[i]["segmentation"]) == 1 for i in ga)
        assert {A[i]["category_id"] for i in ga} == {B[gb[0]]["category_id"]}
    for ga, gb in _groups_of(truth, "crowd_split"):
        assert A[ga[0]]["iscrowd"] and len(gb) >= 2
        assert not any(B[i]["iscrowd"] for i in gb)


@pytest.mark.parametrize("kind", ["dominant_split", "merged_adjacent"])
def test_val_parts_tile_the_whole(val_pair, kind):
    """Dominant-part splits and adjacent merges: the parts tile their whole, the largest holds
    half or more of it, every part a fair share."""
    _, _, truth, ra, rb = val_pair
    for ga, gb in _groups_of(truth, kind):
        whole, parts = (ra[ga[0]], [rb[i] for i in gb]) if kind == "dominant_split" else \
            (rb[gb[0]], [ra[i] for i in ga])
        iou, share, inside = _tiling(whole, parts)
        assert iou >= 0.9
        assert 0.5 <= share.max() <= 0.9 and share.min() >= 0.07
        assert min(inside) >= 0.9


def test_val_crowd_decompositions_lie_inside_the_crowd(val_pair):
    _, b, truth, ra, rb = val_pair
    crowd = {x["id"]: x["iscrowd"] for x in b["annotations"]}
    for ga, gb in _groups_of(truth, "crowd_decomposed"):
        for i in gb:
            assert _inside(rb[i], ra[ga[0]]) >= 0.8
            if crowd[i]:       # the crowd left is smaller: not a match of the A crowd
                assert mask_utils.iou([rb[i]], [ra[ga[0]]], [0])[0, 0] < 0.5


def test_val_no_ambiguous_overlap_across_units(val_pair):
    """No added B instance lies mostly inside, or covers, a same-category A instance of its
    image (nor a removed A one a B instance); nothing lies mostly inside, or covers, an
    instance of another unit when either unit is not a plain matched / class-changed one."""
    a, b, truth, ra, rb = val_pair
    kind = truth["groups"]["kind"]
    a_kind = {i: kind[g] for i, g in zip(truth["a"]["id"], truth["a"]["group"])}
    b_kind = {i: kind[g] for i, g in zip(truth["b"]["id"], truth["b"]["group"])}
    a_grp = dict(zip(truth["a"]["id"], truth["a"]["group"]))
    b_grp = dict(zip(truth["b"]["id"], truth["b"]["group"]))
    by = {}
    for x in a["annotations"]:
        by.setdefault((x["image_id"], x["category_id"]), ([], []))[0].append(x)
    for x in b["annotations"]:
        by.setdefault((x["image_id"], x["category_id"]), ([], []))[1].append(x)
    plain = {"matched", "class_changed"}
    checked = bad = 0
    added_seen = 0
    for la, lb in by.values():
        for xb in lb:
            added_seen += b_kind[xb["id"]] in ("added", "added_crowd")
            for xa in la:
                if a_grp[xa["id"]] == b_grp[xb["id"]]:
                    continue
                if {a_kind[xa["id"]], b_kind[xb["id"]]} <= plain:
                    continue
                (x0, y0, w0, h0), (x1, y1, w1, h1) = xa["bbox"], xb["bbox"]
                if min(x0 + w0, x1 + w1) <= max(x0, x1) or min(y0 + h0, y1 + h1) <= max(y0, y1):
                    continue
                checked += 1
                p, q = rb[xb["id"]], ra[xa["id"]]
                if max(_inside(p, q), _inside(q, p)) >= 0.5:
                    bad += 1
    assert added_seen > 5000 and checked > 100
    assert bad == 0


# ------------------------------------------------------------------ statistics --------

@pytest.fixture(scope="module")
def stats_002():
    a, b, _ = synth.generate(0.02, seed=5)
    return synth.shape_stats(a), synth.shape_stats(b)


@pytest.mark.parametrize("key,tol", [("per_image", 0.5), ("crowd", 0.005), ("multi", 0.02),
                                     ("vertices", 3.0), ("very_small", 0.015),
                                     ("small", 0.03), ("medium", 0.03), ("large", 0.03)])
def test_shares_near_published_targets(stats_002, key, tol):
    sa, sb = stats_002
    assert sa["images"] == sb["images"] == round(0.02 * synth.FULL_IMAGES)
    tol_b = 2 * tol if key == "crowd" else tol
    assert abs(sa[key] - synth.TARGETS["a"][key]) <= tol, (key, sa[key])
    assert abs(sb[key] - synth.TARGETS["b"][key]) <= tol_b, (key, sb[key])


def test_b_differs_from_a_like_sama(stats_002):
    sa, sb = stats_002
    assert sb["instances"] > 1.15 * sa["instances"]
    assert sb["crowd"] > 2.5 * sa["crowd"]
    assert sb["multi"] > 1.3 * sa["multi"]
    assert sb["vertices"] > 1.3 * sa["vertices"]
    assert sb["very_small"] < sa["very_small"] and sb["large"] < sa["large"]
    assert sb["small"] > sa["small"]


# ------------------------------------------------------------------ kernels -----------

def _raster_ellipses(h, w, ecx, ecy, ea, eb, eth):
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    want = np.zeros((h, w), bool)
    for e in range(len(ecx)):
        dx, dy = xx - ecx[e], yy - ecy[e]
        c, s = np.cos(eth[e]), np.sin(eth[e])
        want |= ((dx * c + dy * s) / ea[e]) ** 2 + ((-dx * s + dy * c) / eb[e]) ** 2 <= 1
    return want


def test_crowd_rle_matches_brute_force_raster():
    h, w = 37, 29
    rng = np.random.default_rng(3)
    # crowd 0: three overlapping rotated ellipses, one leaving the image; crowd 1: empty
    # (outside the image); crowd 2: twelve random ellipses (many intervals per column)
    ecx = np.concatenate([[10.0, 16.0, 27.0, -50.0], rng.uniform(0, w, 12)])
    ecy = np.concatenate([[12.0, 20.0, 35.0, -50.0], rng.uniform(0, h, 12)])
    ea = np.concatenate([[6.0, 8.5, 7.0, 3.0], rng.uniform(0.6, 4, 12)])
    eb = np.concatenate([[3.0, 4.0, 5.5, 3.0], rng.uniform(0.6, 4, 12)])
    eth = np.concatenate([[0.3, 1.2, 2.5, 0.0], rng.uniform(0, np.pi, 12)])
    lo = np.array([0, 3, 4], np.int64)
    hi = np.array([3, 4, 16], np.int64)
    H = np.array([h, h, h], np.int64)
    W = np.array([w, w, w], np.int64)
    co = np.zeros(4, np.int64)
    area = np.zeros(3, np.int64)
    bbox = np.zeros((3, 4), np.int64)
    ksynth.crowd_rle(lo, hi, ecx, ecy, ea, eb, eth, H, W, co, np.zeros(0, np.uint32), area,
                     bbox, False)
    co = np.cumsum(co)
    counts = np.zeros(co[-1], np.uint32)
    ksynth.crowd_rle(lo, hi, ecx, ecy, ea, eb, eth, H, W, co, counts, area, bbox, True)
    for c in (0, 2):
        want = _raster_ellipses(h, w, *(v[lo[c]:hi[c]] for v in (ecx, ecy, ea, eb, eth)))
        cnt = counts[co[c]:co[c + 1]].tolist()
        assert sum(cnt) == h * w and all(v > 0 for v in cnt[1:])
        rle = {"size": [h, w], "counts": cnt}
        got = mask_utils.decode(mask_utils.frPyObjects(rle, h, w)).astype(bool)
        assert np.array_equal(got, want)
        assert area[c] == want.sum()
        assert np.allclose(bbox[c], mask_utils.toBbox(mask_utils.encode(
            np.asfortranarray(want.astype(np.uint8)))))
    assert counts[co[1]:co[2]].tolist() == [h * w] and area[1] == 0


def test_json_number_formatting():
    # one polygon with coordinates needing 0, 1 and 2 decimals, and one crowd
    xy = np.array([[0, 0], [1005, 7], [64000, 48000]], np.int32)
    vo = np.array([0, 3], np.int64)
    out = ksynth.write_annotations(
        0, 2, np.array([0, 1], np.uint8), np.array([0, 1], np.int64),
        np.array([1, 1], np.int64), vo, xy, np.array([0, 0, 2], np.int64),
        np.array([3, 5], np.uint32), np.array([0, 2], np.int64), np.array([0, 4], np.int64),
        np.array([123450, 5], np.int64), np.array([[0, 7, 64000, 47993], [1, 0, 2, 2]],
                                                  np.int64),
        np.array([9, 9], np.int64), np.array([1, 90], np.int64), np.array([11, 12], np.int64))
    anns = json.loads(b"[" + out + b"]")
    assert anns[0]["segmentation"] == [[0.0, 0.0, 10.05, 0.07, 640.0, 480.0]]
    assert anns[0]["area"] == 1.2345 and anns[0]["bbox"] == [0.0, 0.07, 640.0, 479.93]
    assert anns[1]["segmentation"] == {"counts": [3, 5], "size": [2, 4]}
    assert anns[1]["area"] == 5 and anns[1]["iscrowd"] == 1 and anns[1]["id"] == 12


# ------------------------------------------------------------------ API / CLI ---------

def test_bad_scale_and_parts(tmp_path):
    for bad in ("huge", 0.0, 1.5, -0.1):
        with pytest.raises(ValueError):
            synth.generate(bad)
    with pytest.raises(ValueError):
        synth.write_pair(tmp_path, "tiny", b_parts=0)


def test_cli_writes_pair(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    from cocodiff.cli.synth import add_cli
    add_cli(parser.add_subparsers())
    args = parser.parse_args(["synth", "--scale", "0.0003", "--seed", "2", "--out",
                              str(tmp_path), "--b-parts", "2"])
    assert args.func(args) == 0
    assert (tmp_path / "a.json").exists() and (tmp_path / "b.zip").exists()
    truth = json.loads((tmp_path / "truth.json").read_bytes())
    a = json.loads((tmp_path / "a.json").read_bytes())
    assert len(a["images"]) == round(0.0003 * synth.FULL_IMAGES)
    assert sorted(truth["a"]["id"]) == sorted(x["id"] for x in a["annotations"])
    assert "instances" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parser.parse_args(["synth", "--scale", "big", "--out", "x"])
