"""Tests of cocodiff.compare: hand-built fixtures per relation, real pairs vs pycocotools,
conservation (incl. a hypothesis property test), output files."""
from __future__ import annotations

import json
from collections import Counter
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from pycocotools import mask as mu

import cocodiff
from cocodiff.matching import RELATIONS
from cocodiff.cli.compare import add_cli

from ref_match import coco_from, max_weight_total, ref_relations

DATA = Path(__file__).resolve().parent.parent / "data"


# ----------------------------------------------------------------------------- helpers

def box(x0, y0, x1, y1):
    return [[x0, y0, x1, y0, x1, y1, x0, y1]]


def rle_box(h, w, x0, y0, x1, y1):
    """Uncompressed RLE (list counts) of the pixel rectangle [x0, x1) x [y0, y1)."""
    m = np.zeros((h, w), np.uint8)
    m[y0:y1, x0:x1] = 1
    f = m.flatten(order="F")
    runs, cur, n = [], 0, 0
    for v in f:
        if v == cur:
            n += 1
        else:
            runs.append(n); cur = v; n = 1
    runs.append(n)
    return {"size": [h, w], "counts": runs}


def ann(i, img, cat, seg, crowd=0):
    return {"id": i, "image_id": img, "category_id": cat, "segmentation": seg, "iscrowd": crowd,
            "area": 1.0, "bbox": [0, 0, 1, 1]}


CATS = [{"id": c, "name": f"c{c}", "supercategory": "s"} for c in (1, 2, 3, 4)]


def write(tmp_path, name, images, anns):
    p = tmp_path / name
    p.write_text(json.dumps({"images": images, "annotations": anns, "categories": CATS}))
    return p


def img(i, h, w):
    return {"id": i, "height": h, "width": w, "file_name": f"{i}.jpg"}


def row_set(cmp):
    df = cmp.to_pandas()
    out = set()
    for r in df.itertuples():
        a = None if pd.isna(r.a_id) else int(r.a_id)
        b = None if pd.isna(r.b_id) else int(r.b_id)
        out.add((r.relation, a, b))
    return out


def check_conservation(cmp, A, B):
    """Every A and B id appears as documented: once, except split wholes / merged wholes."""
    df = cmp.to_pandas()
    a_ids = Counter(int(x) for x in df.a_id.dropna())
    b_ids = Counter(int(x) for x in df.b_id.dropna())
    assert set(a_ids) == {int(x) for x in A.ann_id}
    assert set(b_ids) == {int(x) for x in B.ann_id}
    split_whole = Counter(int(x) for x in df[df.relation == "split"].a_id)
    merged_whole = Counter(int(x) for x in df[df.relation == "merged"].b_id)
    for a, n in a_ids.items():
        assert n == split_whole.get(a, 1), a
    for b, n in b_ids.items():
        assert n == merged_whole.get(b, 1), b
    # a group of one part only where the whole is a crowd and the part an individual
    for rel, whole, crowd, part_crowd in (("split", "a_id", "a_iscrowd", "b_iscrowd"),
                                          ("merged", "b_id", "b_iscrowd", "a_iscrowd")):
        sub = df[df.relation == rel]
        one = sub[sub.groupby(whole)[whole].transform("size") == 1]
        assert one[crowd].all() and not one[part_crowd].any()
    # a split part / merged part / matched side never appears in another relation
    assert set(df.relation.unique()) <= set(RELATIONS)
    assert df[df.relation == "removed"].b_id.isna().all()
    assert df[df.relation == "added"].a_id.isna().all()
    both = df[~df.relation.isin(["removed", "added"])]
    assert both.a_id.notna().all() and both.b_id.notna().all()
    # groups: split rows share one group per whole, merged likewise; -1 elsewhere
    for rel, whole in (("split", "a_id"), ("merged", "b_id")):
        sub = df[df.relation == rel]
        assert (sub.groupby(whole).group.nunique() == 1).all()
        assert (sub.groupby("group")[whole].nunique() == 1).all()
    assert (df[~df.relation.isin(["split", "merged"])].group == -1).all()


# ----------------------------------------------------------------------------- fixture

@pytest.fixture
def fixture_pair(tmp_path):
    H, W = 100, 100
    images = [img(1, H, W), img(2, 50, 60), img(3, 40, 40), img(5, 100, 100)]
    A = [
        ann(1, 1, 1, box(10, 10, 40, 40)),                       # refined below -> matched
        ann(2, 1, 1, rle_box(H, W, 50, 10, 90, 40), crowd=1),    # crowd -> split into 102, 103
        ann(3, 1, 1, box(10, 60, 25, 90)),                       # two people ...
        ann(4, 1, 1, box(27, 60, 42, 90)),                       # ... merged into 104
        ann(5, 1, 2, box(60, 60, 80, 80)),                       # class 2 -> class 3
        ann(6, 1, 1, box(85, 85, 93, 93)),                       # 8x8: removed, very small
        ann(7, 2, 4, box(5, 5, 30, 30)),                         # polygon -> crowd RLE
        ann(8, 3, 1, box(5, 5, 30, 30)),                         # image only in A
        ann(9, 5, 1, box(5, 5, 30, 30)),                         # image size differs
    ]
    B = [
        ann(101, 1, 1, box(11, 10, 40, 41)),
        ann(102, 1, 1, box(52, 12, 68, 38)),
        ann(103, 1, 1, box(72, 12, 88, 38)),
        ann(104, 1, 1, box(10, 60, 42, 90)),
        ann(105, 1, 3, box(61, 60, 80, 80)),
        ann(106, 1, 2, box(0, 94, 50, 99)),                      # added
        ann(107, 2, 4, rle_box(50, 60, 5, 5, 30, 30), crowd=1),
        ann(108, 4, 1, box(5, 5, 30, 30)),                       # image only in B
        ann(109, 5, 1, box(5, 5, 30, 30)),
    ]
    images_b = [img(1, H, W), img(2, 50, 60), img(4, 40, 40), img(5, 100, 120)]
    pa = write(tmp_path, "a.json", images, A)
    pb = write(tmp_path, "b.json", images_b, B)
    return pa, pb


EXPECTED = {
    ("matched", 1, 101), ("split", 2, 102), ("split", 2, 103), ("merged", 3, 104), ("merged", 4, 104),
    ("class_changed", 5, 105), ("removed", 6, None), ("added", None, 106), ("matched", 7, 107),
    ("removed", 8, None), ("added", None, 108), ("removed", 9, None), ("added", None, 109),
}


def test_fixture_relations(fixture_pair):
    pa, pb = fixture_pair
    cmp = cocodiff.compare(pa, pb)
    assert row_set(cmp) == EXPECTED
    t = cmp.to_pandas()
    # very small only for the 8x8 removal
    vs = t[t.very_small]
    assert [int(x) for x in vs.a_id] == [6] and vs.a_area.iloc[0] <= 100
    # crowd flag change recorded on the matched polygon -> crowd pair only
    cc = t[t.crowd_changed & (t.relation == "matched")]
    assert [(int(a), int(b)) for a, b in zip(cc.a_id, cc.b_id)] == [(7, 107)]
    # on every two-sided row the flag is "iscrowd differs" (the crowd's split parts too)
    two = t[t.a_id.notna() & t.b_id.notna()]
    assert (two.crowd_changed == (two.a_iscrowd != two.b_iscrowd)).all()
    assert set(two[two.crowd_changed].a_id) == {2, 7}
    # split / merged parts share their group
    assert t[t.relation == "split"].group.nunique() == 1
    assert t[t.relation == "merged"].group.nunique() == 1
    assert t[t.relation == "split"].group.iloc[0] != t[t.relation == "merged"].group.iloc[0]
    # vertices: polygons 4 points, RLE crowds 0
    m = t[(t.relation == "matched") & (t.a_id == 7)].iloc[0]
    assert m.a_vertices == 4 and m.b_vertices == 0 and m.a_iscrowd == False and m.b_iscrowd == True  # noqa: E712
    # image report
    im = cmp.images
    assert (im["only_a"], im["only_b"], im["size_mismatch"]) == (1, 1, 1)
    assert im["only_a_examples"] == [3] and im["only_b_examples"] == [4]
    assert im["size_mismatch_examples"][0]["image_id"] == 5
    # values vs pycocotools
    ca, cb = coco_from(pa), coco_from(pb)
    for r in t[t.b_id.notna() & t.a_id.notna()].itertuples():
        ra, rb = ca.annToRLE(ca.anns[int(r.a_id)]), cb.annToRLE(cb.anns[int(r.b_id)])
        crowd = ca.anns[int(r.a_id)]["iscrowd"]
        assert r.iou == mu.iou([rb], [ra], [crowd])[0, 0]
        assert r.intersection == mu.area(mu.merge([ra, rb], intersect=True))
        assert r.a_area == mu.area(ra) and r.b_area == mu.area(rb)
        assert 0 < r.boundary_iou <= 1
        assert r.area_ratio == pytest.approx(r.b_area / r.a_area)
    # refined box moved by 1 px right / 1 px down on one corner: bbox shift > 0, small
    m1 = t[t.a_id == 1].iloc[0]
    assert 0 < m1.bbox_shift < 2
    # summary
    s = cmp.summary()
    assert s["relations"] == {"matched": 2, "split": 2, "merged": 2, "class_changed": 1, "removed": 3, "added": 3}
    assert s["vertices"]["a_total"] == 4 * 8 and s["vertices"]["b_total"] == 4 * 8
    assert s["matched"]["crowd_changed"] == 1
    assert s["most_changed"][0]["image_id"] == 1
    check_conservation(cmp, cocodiff.load(pa), cocodiff.load(pb))
    # the reference implementation agrees
    rows, _ = ref_relations(ca, cb)
    assert rows == EXPECTED


def test_crowd_rule_side_a(fixture_pair):
    pa, pb = fixture_pair
    t = cocodiff.compare(pa, pb, boundary=False).to_pandas()
    sp = t[t.relation == "split"]
    # A is the crowd: union = B area, so every part lying wholly inside has iou 1
    assert (sp.iou == sp.intersection / sp.b_area).all()
    assert (sp.iou_plain < 0.5).all()
    assert t.boundary_iou.isna().all()
    # swapping sides: the crowd is in B now -> plain IoU rule; relation mirrors to merged
    t2 = cocodiff.compare(pb, pa, boundary=False).to_pandas()
    mg = t2[t2.relation == "merged"]
    assert sorted(int(x) for x in mg.a_id) == [102, 103] and set(mg.b_id) == {2}
    assert (mg.iou == mg.iou_plain).all()


def test_thresholds(fixture_pair):
    pa, pb = fixture_pair
    # thresholds outside (0, 1] and margins outside [0, 1] are refused
    for kw in (dict(cover_threshold=1.01), dict(iou_threshold=0.0), dict(iou_threshold=1.5),
               dict(group_margin=-0.1)):
        with pytest.raises(ValueError):
            cocodiff.compare(pa, pb, **kw)
    # IoU threshold 0.99: the refined box and the class change fall apart
    rows = row_set(cocodiff.compare(pa, pb, iou_threshold=0.99, boundary=False))
    assert ("removed", 1, None) in rows and ("added", None, 101) in rows
    assert ("removed", 5, None) in rows and ("added", None, 105) in rows


def test_batches_and_greedy_and_threads_same_table(fixture_pair):
    pa, pb = fixture_pair
    import pandas as pd
    t0 = cocodiff.compare(pa, pb).to_pandas()
    t1 = cocodiff.compare(pa, pb, batch_images=1).to_pandas()
    pd.testing.assert_frame_equal(t0, t1, check_exact=True)
    t2 = cocodiff.compare(pa, pb, mode="greedy", threads=1).to_pandas()
    pd.testing.assert_frame_equal(t0, t2, check_exact=True)   # no contested matches in the fixture
    with pytest.raises(ValueError):
        cocodiff.compare(pa, pb, mode="best")


def test_optimal_vs_greedy_differ(tmp_path):
    # A0 overlaps B0 most, but A1 can only use B0: optimal pairs (A0,B1), (A1,B0)
    images = [img(1, 100, 100)]
    A = [ann(1, 1, 1, box(10, 10, 50, 50)), ann(2, 1, 1, box(10, 18, 50, 58))]
    B = [ann(11, 1, 1, box(10, 12, 50, 52)), ann(12, 1, 1, box(10, 4, 50, 44))]
    pa = write(tmp_path, "a.json", images, A)
    pb = write(tmp_path, "b.json", images, B)
    ca, cb = coco_from(pa), coco_from(pb)
    rows_opt = row_set(cocodiff.compare(pa, pb))
    rows_gr = row_set(cocodiff.compare(pa, pb, mode="greedy"))
    ref, R = ref_relations(ca, cb)
    assert rows_opt == ref
    assert ("matched", 1, 12) in rows_opt and ("matched", 2, 11) in rows_opt
    # greedy takes the best pair (1, 11) first, then (2, 12) falls below the threshold
    assert ("matched", 1, 11) in rows_gr and ("removed", 2, None) in rows_gr


# ----------------------------------------------------------------------------- real pairs

def _check_against_pycocotools(pa, pb, thr=0.5):
    cmp = cocodiff.compare(pa, pb, iou_threshold=thr)
    A, B = cocodiff.load(pa), cocodiff.load(pb)
    check_conservation(cmp, A, B)
    ca, cb = coco_from(pa), coco_from(pb)
    rows, R = ref_relations(ca, cb, thr)
    t = cmp.to_pandas()
    two = t[t.a_id.notna() & t.b_id.notna()]
    got_iou = two.iou.to_numpy()
    exp_iou = np.array([R.pairs[int(a), int(b)]["iou"] for a, b in zip(two.a_id, two.b_id)])
    assert np.array_equal(got_iou, exp_iou)
    exp_inter = np.array([R.pairs[int(a), int(b)]["inter"] for a, b in zip(two.a_id, two.b_id)])
    assert np.array_equal(two.intersection.to_numpy(), exp_inter)
    # matched: total per (image, category) equals the reference optimum
    got_tot, exp_tot = Counter(), Counter()
    m = t[t.relation == "matched"]
    for r in m.itertuples():
        got_tot[int(r.image_id), int(r.a_category_id)] += r.iou_plain
    groups = {}
    for (a, b), v in R.pairs.items():
        aa, bb = ca.anns[a], cb.anns[b]
        if aa["category_id"] == bb["category_id"] and v["iou_plain"] >= thr:
            groups.setdefault((aa["image_id"], aa["category_id"]), {})[a, b] = v["iou_plain"]
    for k, g in groups.items():
        exp_tot[k] = max_weight_total(g)
    assert set(got_tot) == set(exp_tot)
    for k in exp_tot:
        assert got_tot[k] == pytest.approx(exp_tot[k], abs=1e-9)
    # relation counts agree with the reference
    ref_counts = Counter(r[0] for r in rows)
    assert {r: ref_counts.get(r, 0) for r in RELATIONS} == cmp.summary()["relations"]
    return cmp, rows


def test_real_lvis_vs_coco():
    cmp, rows = _check_against_pycocotools(DATA / "derived" / "lvis_overlap_coco_gt.json",
                                           DATA / "derived" / "lvis_overlap_lvis_cocofied.json")
    t = cmp.to_pandas()
    m = t[t.relation == "matched"]
    assert len(m) == 7
    assert m.iou.min() == pytest.approx(0.61, abs=0.005) and m.iou.max() == pytest.approx(0.985, abs=0.0005)
    assert (m.a_category_id == m.b_category_id).all()
    assert row_set(cmp) == rows


def test_real_val2014_vs_fakesegm():
    cmp, rows = _check_against_pycocotools(DATA / "coco2014_val100" / "instances_val2014_100.json",
                                           DATA / "derived" / "val2014_100_fakesegm_as_annotations.json")
    s = cmp.summary()
    assert s["relations"]["matched"] > 100
    assert s["images"]["common"] > 0


def test_same_file_all_matched():
    p = DATA / "coco2017_subsets" / "tinycoco_instances_val2017.json"
    cmp = cocodiff.compare(p, p)
    t = cmp.to_pandas()
    # an annotation set against itself: every instance matched to itself (or, for
    # degenerate / duplicate masks, nothing worse than removed+added), IoU 1
    m = t[t.relation == "matched"]
    assert (m.a_id == m.b_id).all()
    assert (m.iou == 1.0).all() and (m.boundary_iou[m.a_area > 0] == 1.0).all()
    assert (m.bbox_shift == 0).all()
    assert len(m) >= 0.95 * cocodiff.load(p).n_instances


# ----------------------------------------------------------------------------- property test

@st.composite
def datasets(draw):
    n_img = draw(st.integers(1, 3))
    images = [img(i + 1, 24, 32) for i in range(n_img)]
    sides = []
    next_id = 1
    for _ in range(2):
        anns = []
        for _ in range(draw(st.integers(0, 7))):
            i = draw(st.integers(1, n_img))
            x0 = draw(st.integers(0, 28)); y0 = draw(st.integers(0, 20))
            x1 = draw(st.integers(x0 + 1, 32)); y1 = draw(st.integers(y0 + 1, 24))
            cat = draw(st.integers(1, 2))
            if draw(st.integers(0, 5)) == 0:
                seg, crowd = rle_box(24, 32, x0, y0, x1, y1), 1
            else:
                seg, crowd = box(x0 + 0.3, y0, x1, y1 - 0.2), 0
            anns.append(ann(next_id, i, cat, seg, crowd))
            next_id += 1
        sides.append(anns)
    return images, sides


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(datasets())
def test_property_conservation(tmp_path, data):
    images, (A, B) = data
    pa = write(tmp_path, "a.json", images, A)
    pb = write(tmp_path, "b.json", images, B)
    cmp = cocodiff.compare(pa, pb, batch_images=2)
    check_conservation(cmp, cocodiff.load(pa), cocodiff.load(pb))
    ca, cb = coco_from(pa), coco_from(pb)
    measures = {}
    rows, R = ref_relations(ca, cb, measures=measures)
    t = cmp.to_pandas()
    for r in t[t.a_id.notna() & t.b_id.notna()].itertuples():
        assert r.iou == R.pairs[int(r.a_id), int(r.b_id)]["iou"]
    got = row_set(cmp)
    assert Counter(r[0] for r in got) == Counter(r[0] for r in rows)
    # the assignment may pick another of several equal optima; everything else is fixed
    if len({round(v["iou_plain"], 12) for v in R.pairs.values()}) == len(R.pairs):
        assert got == rows
    # group measures: pycocotools' union of the parts, the same doubles
    for r in t[t.relation.isin(["split", "merged"])].itertuples():
        key = (int(r.a_id), int(r.b_id))
        if key in measures:
            assert (r.group_iou, r.part_share) == measures[key]


# ----------------------------------------------------------------------------- outputs

def test_write_and_readers(tmp_path, fixture_pair):
    pa, pb = fixture_pair
    cmp = cocodiff.compare(pa, pb)
    out = tmp_path / "out"
    cmp.write(out)
    files = sorted(p.name for p in out.iterdir())
    assert files == ["matches.parquet", "summary.json"]   # no temp files left
    summ = json.loads((out / "summary.json").read_text())
    assert summ["relations"]["split"] == 2
    import duckdb
    import pandas as pd
    import polars as pl
    dp = pd.read_parquet(out / "matches.parquet")
    dl = pl.read_parquet(out / "matches.parquet")
    con = duckdb.connect()
    n = con.execute(f"select count(*) from read_parquet('{out / 'matches.parquet'}')").fetchall()[0][0]
    assert len(dp) == dl.height == n == cmp.table.num_rows == len(EXPECTED)
    rel = con.execute(f"select relation, count(*) from read_parquet('{out / 'matches.parquet'}') "
                     "group by relation").fetchall()
    assert dict(rel) == {"matched": 2, "split": 2, "merged": 2, "class_changed": 1, "removed": 3, "added": 3}
    assert dl.filter(pl.col("relation") == "added")["a_id"].null_count() == 3
    for c in ["image_id", "a_id", "b_id", "a_category_id", "b_category_id", "relation", "group", "iou",
              "boundary_iou", "a_vertices", "b_vertices", "a_area", "b_area", "crowd_changed"]:
        assert c in dp.columns


def test_cli(tmp_path, fixture_pair, capsys):
    import argparse
    pa, pb = fixture_pair
    parser = argparse.ArgumentParser(prog="cocodiff")
    sub = parser.add_subparsers()
    add_cli(sub)
    args = parser.parse_args(["compare", str(pa), str(pb), "-o", str(tmp_path / "o"), "--no-boundary",
                              "--greedy", "--threads", "1", "--iou-threshold", "0.5"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "split" in out and "class_changed" in out
    assert (tmp_path / "o" / "matches.parquet").exists()
    args = parser.parse_args(["compare", str(pa), str(pb), "-o", str(tmp_path / "q"), "--quiet"])
    assert args.func(args) == 0
    assert capsys.readouterr().out == ""


def test_cli_top_level_quiet_not_overridden(tmp_path, fixture_pair, capsys):
    import argparse
    pa, pb = fixture_pair
    parser = argparse.ArgumentParser(prog="cocodiff")
    parser.add_argument("-q", "--quiet", action="store_true")
    add_cli(parser.add_subparsers())
    args = parser.parse_args(["-q", "compare", str(pa), str(pb), "-o", str(tmp_path / "o")])
    assert args.quiet is True
    assert args.func(args) == 0
    assert capsys.readouterr().out == ""
    args = parser.parse_args(["compare", str(pa), str(pb), "-o", str(tmp_path / "o")])
    assert args.quiet is False


def test_parallel_kernels_same_table(fixture_pair, monkeypatch):
    import pandas as pd
    import cocodiff.matching as cm
    from cocodiff.engine._jit import get_threads, set_threads
    pa, pb = fixture_pair
    t0 = cocodiff.compare(pa, pb).to_pandas()
    old = get_threads()
    monkeypatch.setattr(cm, "PARALLEL_MIN_INSTANCES", 0)
    try:
        set_threads(2)
        t1 = cocodiff.compare(pa, pb).to_pandas()
    finally:
        set_threads(old)
    pd.testing.assert_frame_equal(t0, t1, check_exact=True)


def test_threads_argument_is_restored(fixture_pair):
    """``compare(threads=1)`` runs on one thread and leaves the caller's thread count alone."""
    import numba
    from cocodiff.engine._jit import get_threads, set_threads
    pa, pb = fixture_pair
    old = get_threads()
    seen = []
    real = cocodiff.matching._prepare

    def spy(*a):
        seen.append(get_threads())
        return real(*a)
    try:
        set_threads(numba.config.NUMBA_NUM_THREADS)
        before = get_threads()
        cocodiff.matching._prepare = spy
        cocodiff.compare(pa, pb, threads=1)
        assert seen == [1] and get_threads() == before
    finally:
        cocodiff.matching._prepare = real
        set_threads(old)


def test_real_boundary_iou_vs_skimage_oracle():
    """Boundary IoU of real matched pairs == official recipe on pycocotools-decoded masks
    (zero-pad, erode d times with 3x3 == erode once with a (2d+1) square; skimage)."""
    from skimage.morphology import erosion
    pa = DATA / "derived" / "lvis_overlap_coco_gt.json"
    pb = DATA / "derived" / "lvis_overlap_lvis_cocofied.json"
    t = cocodiff.compare(pa, pb).to_pandas()
    ca, cb = coco_from(pa), coco_from(pb)

    def boundary(m, d):
        p = np.pad(m, d)
        e = erosion(p, np.ones((2 * d + 1, 2 * d + 1), np.uint8))[d:-d, d:-d]
        return m.astype(bool) & ~e.astype(bool)

    two = t[t.a_id.notna() & t.b_id.notna()]
    assert len(two) >= 7
    for r in two.itertuples():
        ma = mu.decode(ca.annToRLE(ca.anns[int(r.a_id)]))
        mb = mu.decode(cb.annToRLE(cb.anns[int(r.b_id)]))
        h, w = ma.shape
        d = max(1, int(round(0.02 * np.sqrt(h ** 2 + w ** 2))))
        ba, bb = boundary(ma, d), boundary(mb, d)
        assert r.boundary_iou == np.sum(ba & bb) / np.sum(ba | bb)


# ----------------------------------------------------------------------------- speed-path kernels

def _rle_runs(m):
    """pycocotools-layout counts of a dense (h, w) mask (column-major, background first)."""
    f = np.asarray(m, np.uint8).flatten(order="F")
    change = np.flatnonzero(np.diff(f)) + 1
    runs = np.diff(np.r_[0, change, f.size])
    if f.size and f[0] == 1:
        runs = np.r_[0, runs]
    return runs.astype(np.uint32)


def _with_zero_runs(runs, rng):
    """Same mask, with empty runs pairs (``0, 0``) or a run split ``k -> a, 0, k - a`` inserted."""
    out = [int(runs[0])]
    for c in runs[1:]:
        c = int(c)
        r = rng.random()
        if r < 0.25 and c >= 2:
            a = int(rng.integers(1, c))
            out += [a, 0, c - a]
        elif r < 0.4:
            out += [c, 0, 0]
        else:
            out.append(c)
    return np.array(out, np.uint32)


def _random_store(rng, n_pairs, zero_runs):
    counts, offs, hs, dense = [], [0], [], []
    for _ in range(n_pairs):
        h, w = (int(x) for x in rng.integers(1, 14, 2))
        for _side in range(2):
            m = np.zeros((h, w), np.uint8)
            for _ in range(int(rng.integers(0, 4))):
                y0, x0 = rng.integers(0, h), rng.integers(0, w)
                m[y0:y0 + rng.integers(1, h + 1), x0:x0 + rng.integers(1, w + 1)] = 1
            c = _rle_runs(m)
            if zero_runs:
                c = _with_zero_runs(c, rng)
            counts.append(c)
            offs.append(offs[-1] + c.size)
            hs.append(h)
            dense.append(m)
    return np.concatenate(counts), np.array(offs, np.int64), np.array(hs, np.int64), dense


@pytest.mark.parametrize("parallel", [False, True])
def test_mask_facts_vs_reference_kernels(parallel):
    from cocodiff.engine.relate import rle_extents
    from cocodiff.measures import mask_facts
    rng = np.random.default_rng(3)
    counts, offs, hs, dense = _random_store(rng, 150, zero_runs=True)
    area, ext, facts = mask_facts(counts, offs, hs, 2 if parallel else 1)
    assert area.tolist() == [int(m.sum()) for m in dense]
    assert np.array_equal(ext, rle_extents(counts, offs, hs))
    for i, m in enumerate(dense):       # extents straight from the dense masks
        ys, xs = np.nonzero(m)
        exp = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1] if xs.size else [0, 0, 0, 0]
        assert ext[i].tolist() == [int(v) for v in exp]
    first, last, inner_zero, ylo, yhi, pos = facts
    assert inner_zero.tolist() == [int((counts[a + 1:b] == 0).any()) for a, b in zip(offs[:-1], offs[1:])]
    big = np.iinfo(np.int64).max
    for i, m in enumerate(dense):       # positions and rows from the dense masks (column-major)
        on = np.flatnonzero(m.T.ravel())
        rows = np.flatnonzero(m.any(axis=1))
        assert (first[i], last[i]) == ((on[0], on[-1] + 1) if on.size else (m.size, 0))
        assert (ylo[i], yhi[i]) == ((rows[0], rows[-1]) if rows.size else (0, big))
        c = counts[offs[i]:offs[i + 1]].astype(np.int64)
        assert np.array_equal(pos[offs[i]:offs[i + 1]], np.cumsum(c) - c)


def test_mask_summary_heights_known_and_unknown():
    """The one per-mask facts kernel behind the IoU kernels, compare and Boundary IoU: sums and
    positions do not need the heights; extents and row ranges do (unknown: zeros / every row)."""
    from cocodiff.engine.facts import mask_summary
    rng = np.random.default_rng(5)
    counts, offs, hs, dense = _random_store(rng, 60, zero_runs=True)
    known = mask_summary(counts, offs, hs)
    unknown = mask_summary(counts, offs, np.zeros(0, np.int64))
    for k in (0, 1, 2, 3, 4, 7):       # area, total, first, last, inner_zero, pos
        assert np.array_equal(known[k], unknown[k]), k
    assert known[1].tolist() == [m.size for m in dense]
    assert known[0].tolist() == [int(m.sum()) for m in dense]
    assert not unknown[8].any() and (unknown[5] == 0).all() and (unknown[6] == np.iinfo(np.int64).max).all()
    assert (known[8][:, 2] > 0).any()


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("zero_runs", [False, True])
def test_pair_measures_vs_pycocotools(parallel, zero_runs):
    """inter / iou_plain from the decoded masks; iou == maskUtils.iou([b], [a], [crowd]) exactly,
    including pycocotools' early stop on RLEs with zero-length runs."""
    from cocodiff.measures import mask_facts, pair_measures
    rng = np.random.default_rng(11 + zero_runs)
    counts, offs, hs, dense = _random_store(rng, 200, zero_runs=zero_runs)
    n = len(dense) // 2
    pa = np.arange(0, 2 * n, 2, dtype=np.int64)
    pb = pa + 1
    crowd = rng.random(n) < 0.5
    threads = 2 if parallel else 1
    area, _, facts = mask_facts(counts, offs, hs, threads)
    inter, iou, plain = pair_measures(counts, offs, pa, pb, crowd, area, facts, threads)
    for k in range(n):
        ma, mb = dense[2 * k], dense[2 * k + 1]
        i = int((ma & mb).sum())
        u = int(ma.sum() + mb.sum()) - i
        assert inter[k] == i
        assert plain[k] == (i / u if i else 0.0)
        h, w = ma.shape
        ra = {"size": [h, w], "counts": [int(c) for c in counts[offs[2 * k]:offs[2 * k + 1]]]}
        rb = {"size": [h, w], "counts": [int(c) for c in counts[offs[2 * k + 1]:offs[2 * k + 2]]]}
        ra, rb = mu.frPyObjects([ra, rb], h, w)
        assert iou[k] == mu.iou([rb], [ra], [int(crowd[k])])[0, 0]


def test_zero_run_crowd_iou_matches_pycocotools(tmp_path):
    """A list-counts crowd whose RLE has a 0 run inside: pycocotools' intersection loop stops
    early there (i = 0 here although the masks share 5 pixels); ``iou`` must be its value,
    ``iou_plain`` / ``intersection`` the true ones."""
    h, w = 4, 5
    seg_a = {"size": [h, w], "counts": [2, 3, 0, 6, 9]}        # crowd A: pixels [2, 11)
    seg_b = {"size": [h, w], "counts": [5, 0, 1, 5, 9]}        # B: pixels [6, 11)
    pa = write(tmp_path, "a.json", [img(1, h, w)], [ann(1, 1, 1, seg_a, crowd=1)])
    pb = write(tmp_path, "b.json", [img(1, h, w)], [ann(7, 1, 1, seg_b, crowd=0)])
    t = cocodiff.compare(pa, pb).to_pandas()
    ca, cb = coco_from(pa), coco_from(pb)
    ra, rb = ca.annToRLE(ca.anns[1]), cb.annToRLE(cb.anns[7])
    expected = mu.iou([rb], [ra], [1])[0, 0]
    ma, mb = mu.decode(ra).astype(bool), mu.decode(rb).astype(bool)
    inter = int((ma & mb).sum())
    assert inter == 5 and expected != inter / mb.sum()   # the quirk bites in this fixture
    row = t[(t.a_id == 1) & (t.b_id == 7)]
    assert len(row) == 1
    assert row.iou.iloc[0] == expected
    assert row.intersection.iloc[0] == inter
    assert row.iou_plain.iloc[0] == inter / (ma.sum() + mb.sum() - inter)
    assert row.relation.iloc[0] == "matched"


@pytest.mark.parametrize("parallel", [False, True])
def test_boundary_with_extents_same_as_without(parallel):
    from cocodiff.engine.boundary import boundary_iou_pairs
    from cocodiff.engine.relate import rle_extents
    rng = np.random.default_rng(21)
    counts, offs, hs, dense = _random_store(rng, 150, zero_runs=True)
    ws = np.array([m.shape[1] for m in dense], np.int64)
    n = len(dense) // 2
    pa = np.arange(0, 2 * n, 2, dtype=np.int64)
    pb = pa + 1
    d = rng.integers(1, 4, n)
    ext = rle_extents(counts, offs, hs)
    r0 = boundary_iou_pairs(counts, offs, pa, pb, hs[pa], ws[pa], dilation=d, parallel=parallel)
    r1 = boundary_iou_pairs(counts, offs, pa, pb, hs[pa], ws[pa], dilation=d, parallel=parallel, ext=ext)
    assert np.array_equal(r0, r1)
    assert (r0 > 0).any() and (r0 < 1).any()


def test_compare_timings_and_batch_invariance(fixture_pair):
    pa, pb = fixture_pair
    c1 = cocodiff.compare(pa, pb, batch_images=1)
    c2 = cocodiff.compare(pa, pb, batch_images=1000)
    import pandas as pd
    pd.testing.assert_frame_equal(c1.to_pandas(), c2.to_pandas(), check_exact=True)
    for k in ("rasterise", "mask_facts", "candidates", "intersections", "relations", "boundary_iou", "rows",
              "table"):
        assert c1.timings[k]["cpu"] >= 0 and c1.timings[k]["wall"] >= 0
    assert "timings" not in c1.summary()


def test_boundary_iou_thin_and_thick_pairs_vs_oracle(tmp_path):
    """Pairs whose masks are too small to erode at d = 16 (Boundary IoU = mask IoU shortcut),
    one thin + one thick, and thick pairs: all equal the official recipe (skimage erosion)."""
    from skimage.morphology import erosion
    h, w = 480, 640
    pairs = [((10, 10, 30, 28), (12, 11, 31, 30)),      # both thin (< 33 px)
             ((100, 100, 132, 160), (101, 99, 131, 161)),  # 32 px wide: still thin
             ((200, 50, 250, 100), (201, 51, 232, 100)),  # thick A, thin B
             ((300, 200, 420, 330), (305, 195, 425, 320))]  # both thick
    a_anns, b_anns = [], []
    for k, (ra, rb) in enumerate(pairs):
        a_anns.append(ann(k + 1, 1, 1, box(*ra)))
        b_anns.append(ann(k + 101, 1, 1, box(*rb)))
    pa = write(tmp_path, "a.json", [img(1, h, w)], a_anns)
    pb = write(tmp_path, "b.json", [img(1, h, w)], b_anns)
    t = cocodiff.compare(pa, pb).to_pandas()
    ca, cb = coco_from(pa), coco_from(pb)
    d = 16

    def bnd(m):
        e = erosion(np.pad(m, d), np.ones((2 * d + 1, 2 * d + 1), np.uint8))[d:-d, d:-d]
        return m.astype(bool) & ~e.astype(bool)

    two = t[t.a_id.notna() & t.b_id.notna()]
    assert len(two) == len(pairs)
    for r in two.itertuples():
        ma = mu.decode(ca.annToRLE(ca.anns[int(r.a_id)]))
        mb = mu.decode(cb.annToRLE(cb.anns[int(r.b_id)]))
        ba, bb = bnd(ma), bnd(mb)
        assert r.boundary_iou == np.sum(ba & bb) / np.sum(ba | bb)
    thick = two[two.a_id == 4].iloc[0]
    assert thick.boundary_iou != thick.iou_plain      # the thick pair really went through erosion


def test_group_ids_do_not_depend_on_batching(tmp_path):
    """The tiny twin has split and merged groups in many images: group ids must be numbered by
    first appearance in the final table, whatever the batch size."""
    from cocodiff.synth import write_pair

    paths = write_pair(tmp_path, "tiny", seed=3)
    whole = cocodiff.compare(paths["a"], paths["b"], batch_images=10_000).to_pandas()
    parts = cocodiff.compare(paths["a"], paths["b"], batch_images=1).to_pandas()
    g = whole["group"].to_numpy()
    assert (g >= 0).sum() >= 4 and len(set(g[g >= 0])) >= 2   # the twin really has several groups
    first = [x for i, x in enumerate(g) if x >= 0 and x not in g[:i]]
    assert first == list(range(len(first)))                    # numbered by first appearance
    import pandas as pd
    pd.testing.assert_frame_equal(whole, parts, check_exact=True)


def test_undefined_measures_are_nulls_not_nan():
    """Rows without a counterpart carry SQL nulls (DuckDB/pandas see missing, not NaN)."""
    import pyarrow.compute as pc

    res = cocodiff.compare(str(DATA / "coco2014_val100" / "instances_val2014_100.json"),
                           str(DATA / "derived" / "val2014_100_fakesegm_as_annotations.json"))
    t = res.table
    one_sided = pc.is_in(t.column("relation"), value_set=pa.array(["removed", "added"]))
    n = pc.sum(one_sided).as_py()
    assert n > 0
    for name in ("iou", "iou_plain", "boundary_iou", "bbox_shift"):
        col = t.column(name)
        assert pc.sum(pc.and_(one_sided, pc.is_null(col))).as_py() == n
        assert not pc.any(pc.is_nan(pc.drop_null(col))).as_py()


def test_unique_inverse_matches_numpy():
    from cocodiff.comparison import _unique_inverse
    rng = np.random.default_rng(11)
    for x in (rng.integers(0, 600_000, 5000), rng.integers(-1, 91, 3000), np.array([7]), np.zeros(0, np.int64),
              np.array([-(2 ** 40), 0, 2 ** 40, 0]), rng.integers(-(2 ** 62), 2 ** 62, 100)):
        x = x.astype(np.int64)
        u, inv = _unique_inverse(x)
        ru, rinv = np.unique(x, return_inverse=True)
        assert np.array_equal(u, ru) and np.array_equal(inv, rinv.ravel())


def test_run_start_width_does_not_change_the_table(tmp_path, monkeypatch):
    """Run starts are kept in 32 bits when every image has < 2**32 pixels, else 64: same table."""
    from cocodiff import matching
    from cocodiff.synth import write_pair

    paths = write_pair(tmp_path, "tiny", seed=5)
    A, B = cocodiff.load(paths["a"]), cocodiff.load(paths["b"])
    assert matching._pos_dtype(A, B) == np.uint32
    t32 = cocodiff.compare(A, B).table
    monkeypatch.setattr(matching, "_pos_dtype", lambda A, B: np.int64)
    t64 = cocodiff.compare(A, B).table
    assert t32.num_rows > 0 and t32.equals(t64)
    big = types.SimpleNamespace(height=np.array([70_000], np.int32), width=np.array([70_000], np.int32))
    monkeypatch.undo()
    assert matching._pos_dtype(A, big) == np.int64


# ----------------------------------------------------------------------------- truth as an oracle

@pytest.mark.parametrize("seed", [0, 7])
def test_twin_relations_agree_with_truth(tmp_path, seed):
    """On the synthetic twin (every kind of change a relabel makes, its truth known), at least 99 %
    of A's and of B's instances get their true relation, crowd decompositions and dominant-part
    splits included; the score adds up."""
    from cocodiff import synth
    from cocodiff.score import score

    p = synth.write_pair(tmp_path, "val", seed=seed)
    s = score(cocodiff.compare(p["a"], p["b"]), p["truth"])
    for side in ("a", "b"):
        d = s[side]
        assert d["missing"] == 0 and d["unknown"] == 0
        assert sum(sum(row.values()) for row in d["confusion"].values()) == d["instances"]
        assert d["agreement"] >= 0.99, (side, d["per_relation"])
        for rel in ("split", "merged"):
            assert d["per_relation"][rel]["recall"] >= 0.95, (side, rel, d["per_relation"][rel])


def test_names_in_the_table_and_nullable_ids(tmp_path):
    """matches.parquet carries the image file name and both sides' class names; through pandas,
    absent ids are <NA> in an integer column, not float NaN."""
    import pyarrow.parquet as pq

    a = DATA / "coco2014_val100" / "instances_val2014_100.json"
    b = DATA / "derived" / "val2014_100_fakesegm_as_annotations.json"
    cmp = cocodiff.compare(a, b)
    cmp.write(tmp_path)
    t = pq.read_table(tmp_path / "matches.parquet").to_pandas()
    A, B = cocodiff.load(a), cocodiff.load(b)
    fname = dict(zip(A.image_id.tolist(), A.file_name.tolist()))
    assert (t.file_name == t.image_id.map(fname)).all()
    names_a = dict(zip(A.cat_id.tolist(), A.cat_name.tolist()))
    names_b = dict(zip(B.cat_id.tolist(), B.cat_name.tolist()))
    has_a, has_b = t.a_id.notna(), t.b_id.notna()
    assert (t.a_category[has_a] == t.a_category_id[has_a].map(names_a)).all() and t.a_category[~has_a].isna().all()
    assert (t.b_category[has_b] == t.b_category_id[has_b].map(names_b)).all() and t.b_category[~has_b].isna().all()
    cc = t[t.relation == "class_changed"]
    assert len(cc) and (cc.a_category != cc.b_category).all()
    meta = pq.read_metadata(tmp_path / "matches.parquet")
    col = {meta.schema.column(i).name: i for i in range(meta.num_columns)}
    enc = meta.row_group(0).column(col["file_name"]).encodings
    assert any("DICTIONARY" in e for e in enc)
    df = cmp.to_pandas()
    assert str(df.a_id.dtype) == "Int64" and str(df.b_id.dtype) == "Int64"
    assert df.b_id.isna().sum() == (df.relation == "removed").sum()
    assert str(df.a_iscrowd.dtype) == "boolean"
