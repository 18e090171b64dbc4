"""The relation rules (cocodiff.relations) on hand-made masks, without Datasets, and the group
kernels (cocodiff.engine.groups) against dense references."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from cocodiff.engine.groups import claim_groups, group_union
from cocodiff.relations import AMBIGUITY, RELATIONS, MERGE, SPLIT, Rules, relate

H, W = 40, 60


def rect(x0, y0, x1, y1):
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def rle(m):
    """Column-major runs, first one background (pycocotools' layout)."""
    flat = m.T.ravel()
    out, cur, n = [], False, 0
    for v in flat:
        if v != cur:
            out.append(n)
            cur, n = v, 0
        n += 1
    out.append(n)
    return out


def run(A, B, rules=Rules()):
    """A, B: lists of (mask, category, iscrowd), one image. Returns {(relation, a, b): row}."""
    ma = [m for m, _, _ in A]
    mb = [m for m, _, _ in B]
    pa, pb, inter, iou = [], [], [], []
    for i, x in enumerate(ma):
        for j, y in enumerate(mb):
            k = int((x & y).sum())
            if k:
                pa.append(i)
                pb.append(j)
                inter.append(k)
                iou.append(k / int((x | y).sum()))
    area_a = np.array([int(m.sum()) for m in ma], np.int64)
    area_b = np.array([int(m.sum()) for m in mb], np.int64)

    def union(side, wholes, off, parts, skip):
        wm, pm = (ma, mb) if side == SPLIT else (mb, ma)
        out = [[], [], [], []]
        for g, w in enumerate(wholes):
            ps = parts[off[g]:off[g + 1]]
            u = np.logical_or.reduce([pm[p] for p in ps])
            rest = [pm[p] for p in ps if p != skip[g]]
            r = np.logical_or.reduce(rest) if rest else np.zeros((H, W), bool)
            for k, v in enumerate((u.sum(), (u & wm[w]).sum(), r.sum(), (r & wm[w]).sum())):
                out[k].append(int(v))
        return tuple(np.array(x, np.int64) for x in out)

    rel = relate(np.array(pa, np.int64), np.array(pb, np.int64), np.array(inter, np.int64),
                 np.array(iou, np.float64), area_a, area_b,
                 np.array([c for _, c, _ in A], np.int64), np.array([c for _, c, _ in B], np.int64),
                 np.array([z for _, _, z in A], bool), np.array([z for _, _, z in B], bool),
                 np.zeros(len(A), np.int64), np.zeros(len(B), np.int64), union, rules)
    rows = {}
    pa, pb = np.array(pa, np.int64), np.array(pb, np.int64)
    for i, k in enumerate(rel.pair):
        rows[RELATIONS[rel.relation[i]], int(pa[k]), int(pb[k])] = dict(
            group=int(rel.group[i]), group_iou=float(rel.group_iou[i]), part_share=float(rel.part_share[i]),
            ambiguity=AMBIGUITY[rel.ambiguity[i]])
    for a, amb in zip(rel.removed, rel.removed_ambiguity):
        rows["removed", int(a), None] = dict(ambiguity=AMBIGUITY[amb])
    for b, amb in zip(rel.added, rel.added_ambiguity):
        rows["added", None, int(b)] = dict(ambiguity=AMBIGUITY[amb])
    return rows


def keys(rows):
    return set(rows)


def test_dominant_part_split():
    # a 30x20 instance redrawn as two parts, one holding 70 %: the big part alone has IoU 0.7
    A = [(rect(10, 10, 40, 30), 1, 0)]
    B = [(rect(10, 10, 31, 30), 1, 0), (rect(31, 10, 40, 30), 1, 0)]
    rows = run(A, B)
    assert keys(rows) == {("split", 0, 0), ("split", 0, 1)}
    r = rows["split", 0, 0]
    assert r["group_iou"] == 1.0 and r["part_share"] == pytest.approx(0.7)
    assert r["ambiguity"] == "dominant_part"
    assert rows["split", 0, 1]["group"] == r["group"]


def test_matched_with_a_new_object_inside_is_not_a_split():
    # B keeps the instance (finer outline covering the same region) and adds a small object of its
    # class inside it: the union explains A no better -> matched + added (flagged inside_other)
    A = [(rect(10, 10, 40, 30), 1, 0)]
    B = [(rect(10, 10, 40, 30), 1, 0), (rect(20, 15, 24, 19), 1, 0)]
    rows = run(A, B)
    assert keys(rows) == {("matched", 0, 0), ("added", None, 1)}
    assert rows["added", None, 1]["ambiguity"] == "inside_other"


def test_crowd_decomposed_with_and_without_remaining_crowd():
    crowd = rect(0, 0, 60, 20)
    people = [(rect(2, 2, 8, 18), 1, 0), (rect(10, 2, 16, 18), 1, 0)]
    rest = (rect(20, 0, 60, 20), 1, 1)
    rows = run([(crowd, 1, 1)], people + [rest])
    assert keys(rows) == {("split", 0, 0), ("split", 0, 1), ("split", 0, 2)}
    assert rows["split", 0, 0]["group_iou"] == 1.0        # crowd rule: |W n U| / |U|
    rows = run([(crowd, 1, 1)], people)
    assert keys(rows) == {("split", 0, 0), ("split", 0, 1)}
    # one person left of a crowd: still a decomposition
    rows = run([(crowd, 1, 1)], people[:1])
    assert keys(rows) == {("split", 0, 0)}
    # the crowd redrawn about the same: matched (crowd to crowd)
    rows = run([(crowd, 1, 1)], [(rect(0, 0, 58, 20), 1, 1)])
    assert keys(rows) == {("matched", 0, 0)}


def test_person_inside_old_crowd_goes_to_its_own_match():
    # A: a crowd and a person labelled inside it; B: the same person again plus a new one.
    crowd = rect(0, 0, 60, 20)
    A = [(crowd, 1, 1), (rect(2, 2, 8, 18), 1, 0)]
    B = [(rect(2, 2, 8, 18), 1, 0), (rect(30, 2, 36, 18), 1, 0), (rect(40, 0, 60, 20), 1, 1)]
    rows = run(A, B)
    assert ("matched", 1, 0) in rows
    assert ("split", 0, 1) in rows and ("split", 0, 2) in rows


def test_merge_of_far_apart_instances_with_a_small_part():
    # two instances of one class redrawn as one multi-polygon; the small one holds 4 %
    big, small = rect(0, 0, 24, 40), rect(50, 0, 52, 20)
    rows = run([(big, 1, 0), (small, 1, 0)], [(big | small, 1, 0)])
    assert keys(rows) == {("merged", 0, 0), ("merged", 1, 0)}
    assert rows["merged", 1, 0]["part_share"] == pytest.approx(40 / 1000)


def test_small_instance_inside_a_merged_neighbour_is_removed():
    # the small A instance lies inside the big one's region: B's outline adds nothing for it
    big, small = rect(0, 0, 24, 40), rect(5, 5, 8, 8)
    rows = run([(big, 1, 0), (small, 1, 0)], [(rect(0, 0, 24, 40), 1, 0)])
    assert keys(rows) == {("matched", 0, 0), ("removed", 1, None)}
    assert rows["removed", 1, None]["ambiguity"] == "inside_other"


def test_near_group_is_flagged():
    # the second part overlaps the first and sticks out of the whole: the union beats the best
    # single part only a little and the part does not tile what is left -> matched + added
    A = [(rect(10, 10, 40, 30), 1, 0)]
    B = [(rect(10, 10, 38, 30), 1, 0), (rect(36, 10, 41, 30), 1, 0)]
    rows = run(A, B)
    assert ("matched", 0, 0) in rows and ("added", None, 1) in rows
    assert rows["matched", 0, 0]["ambiguity"] == "near_group"
    assert rows["added", None, 1]["ambiguity"] == "near_group"
    # with no margin the union's gain suffices
    rows = run(A, B, Rules(group_margin=0.0))
    assert keys(rows) == {("split", 0, 0), ("split", 0, 1)}


def test_class_change_and_removed_added_after_groups():
    A = [(rect(0, 0, 10, 10), 1, 0), (rect(20, 0, 30, 10), 2, 0), (rect(40, 0, 50, 10), 1, 0)]
    B = [(rect(0, 0, 10, 10), 3, 0), (rect(20, 20, 30, 30), 2, 0)]
    rows = run(A, B)
    assert keys(rows) == {("class_changed", 0, 0), ("removed", 1, None), ("removed", 2, None),
                          ("added", None, 1)}


def test_split_beside_a_match_of_the_same_class():
    # A0 split into two tiling parts (60 % / 40 %); A1 next to it redrawn the same
    A = [(rect(0, 0, 20, 20), 1, 0), (rect(30, 0, 40, 20), 1, 0)]
    B = [(rect(0, 0, 12, 20), 1, 0), (rect(12, 0, 20, 20), 1, 0), (rect(30, 0, 40, 20), 1, 0)]
    rows = run(A, B)
    assert keys(rows) == {("split", 0, 0), ("split", 0, 1), ("matched", 1, 2)}


def test_every_instance_once():
    rng = np.random.default_rng(3)
    for _ in range(30):
        A, B = [], []
        for side in (A, B):
            for _ in range(rng.integers(0, 6)):
                x0, y0 = rng.integers(0, 50), rng.integers(0, 30)
                side.append((rect(x0, y0, x0 + rng.integers(1, 20), y0 + rng.integers(1, 15)),
                             int(rng.integers(1, 3)), int(rng.random() < 0.2)))
        rows = run(A, B)
        a_seen = {}
        b_seen = {}
        for rel, a, b in rows:
            if a is not None:
                a_seen.setdefault(a, set()).add(rel)
            if b is not None:
                b_seen.setdefault(b, set()).add(rel)
        assert set(a_seen) == set(range(len(A))) and set(b_seen) == set(range(len(B)))
        assert all(len(v) == 1 for v in a_seen.values()) and all(len(v) == 1 for v in b_seen.values())


# ----------------------------------------------------------------------------- kernels

@settings(max_examples=60, deadline=None)
@given(st.data())
def test_group_union_vs_dense(data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    n = data.draw(st.integers(1, 7))
    masks = [rng.random((6, 5)) < rng.random() for _ in range(n)]
    counts, offsets = [], [0]
    for m in masks:
        c = rle(m)
        counts += c
        offsets.append(len(counts))
    counts = np.array(counts, np.uint32)
    offsets = np.array(offsets, np.int64)
    ng = data.draw(st.integers(1, 4))
    whole, off, parts, skip = [], [0], [], []
    for _ in range(ng):
        whole.append(int(rng.integers(n)))
        ps = list(rng.choice(n, int(rng.integers(1, n + 1)), replace=False))
        parts += ps
        off.append(len(parts))
        skip.append(int(ps[0]) if rng.random() < 0.7 else -1)
    ua, ui, ra, ri = group_union(counts, offsets, np.array(whole, np.int64), np.array(off, np.int64),
                                 np.array(parts, np.int64), np.array(skip, np.int64))
    for g in range(ng):
        ps = parts[off[g]:off[g + 1]]
        u = np.logical_or.reduce([masks[p] for p in ps])
        rest = [masks[p] for p in ps if p != skip[g]]
        r = np.logical_or.reduce(rest) if rest else np.zeros((6, 5), bool)
        assert (ua[g], ui[g]) == (u.sum(), (u & masks[whole[g]]).sum())
        assert (ra[g], ri[g]) == (r.sum(), (r & masks[whole[g]]).sum())


def test_claim_groups_drops_a_group_whose_instance_is_taken():
    a_used = np.zeros(3, np.bool_)
    b_used = np.zeros(3, np.bool_)
    # g0: split of A0 into B0, B1; g1: merge of A0, A1 into B2 (A0 taken by g0); g2: split A2 -> B2
    side = np.array([SPLIT, MERGE, SPLIT], np.int64)
    whole = np.array([0, 2, 2], np.int64)
    off = np.array([0, 2, 4, 5], np.int64)
    parts = np.array([0, 1, 0, 1, 2], np.int64)
    acc = claim_groups(np.array([0, 1, 2], np.int64), side, whole, off, parts, a_used, b_used)
    assert acc.tolist() == [True, False, True]
    assert a_used.tolist() == [True, False, True] and b_used.tolist() == [True, True, True]
