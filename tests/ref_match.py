"""Slow, obviously-correct reference of cocodiff.compare, built on pycocotools (test oracle only).

Everything is Python loops over annotations; masks come from pycocotools' ``annToRLE``;
IoU / intersection from ``pycocotools.mask``. The relation rules are those documented in
``cocodiff.matching`` (written again here from the documentation, not from its code).
"""
from __future__ import annotations

import contextlib
import io
from collections import defaultdict

import numpy as np
from pycocotools import mask as mu
from pycocotools.coco import COCO


def coco_from(path):
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def hungarian_min(cost):
    """Minimum-cost assignment of every row (n <= m) -- textbook O(n^2 m) Hungarian with
    potentials, in plain Python (independent of scipy and of cocodiff's solver).
    Returns the column of each row."""
    n, m = len(cost), len(cost[0])
    assert n <= m
    inf = float("inf")
    u = [0.0] * (n + 1)
    v = [0.0] * (m + 1)
    p = [0] * (m + 1)
    way = [0] * (m + 1)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = [inf] * (m + 1)
        used = [False] * (m + 1)
        while True:
            used[j0] = True
            i0 = p[j0]
            delta = inf
            j1 = 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                    if minv[j] < delta:
                        delta = minv[j]
                        j1 = j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    ans = [-1] * n
    for j in range(1, m + 1):
        if p[j]:
            ans[p[j] - 1] = j - 1
    return ans


def max_weight_matrix(W):
    """(rows, cols) of a maximum-total-weight matching of the non-negative matrix W."""
    W = np.asarray(W, dtype=float)
    if W.shape[0] > W.shape[1]:
        c, r = max_weight_matrix(W.T)
        return r, c
    cols = hungarian_min((-W).tolist())
    return np.arange(W.shape[0]), np.array(cols, dtype=np.int64)


def _max_weight(pairs):
    """pairs: {(a, b): w}. Maximum-total-weight one-to-one matching -> set of pairs."""
    if not pairs:
        return set()
    As = sorted({a for a, _ in pairs})
    Bs = sorted({b for _, b in pairs})
    W = np.zeros((len(As), len(Bs)))
    for (a, b), w in pairs.items():
        W[As.index(a), Bs.index(b)] = w
    r, c = max_weight_matrix(W)
    return {(As[i], Bs[j]) for i, j in zip(r, c) if W[i, j] > 0}


def max_weight_total(pairs):
    return sum(pairs[p] for p in _max_weight(pairs))


class RefPairs:
    """All overlapping (A, B) pairs of two COCO objects, with pycocotools values."""

    def __init__(self, ca, cb):
        self.ca, self.cb = ca, cb
        self.rle_a = {i: ca.annToRLE(a) for i, a in ca.anns.items()}
        self.rle_b = {i: cb.annToRLE(b) for i, b in cb.anns.items()}
        self.area_a = {i: int(mu.area(r)) for i, r in self.rle_a.items()}
        self.area_b = {i: int(mu.area(r)) for i, r in self.rle_b.items()}
        self.pairs = {}   # (a, b) -> dict(iou, iou_plain, inter)
        for img in set(ca.imgs) & set(cb.imgs):
            ia, ib = ca.imgs[img], cb.imgs[img]
            if (ia["height"], ia["width"]) != (ib["height"], ib["width"]):
                continue
            for a in ca.getAnnIds(imgIds=[img]):
                for b in cb.getAnnIds(imgIds=[img]):
                    ra, rb = self.rle_a[a], self.rle_b[b]
                    inter = int(mu.area(mu.merge([ra, rb], intersect=True)))
                    if inter == 0:
                        continue
                    crowd = int(ca.anns[a].get("iscrowd", 0))
                    iou = float(mu.iou([rb], [ra], [crowd])[0, 0])
                    plain = inter / (self.area_a[a] + self.area_b[b] - inter)
                    self.pairs[a, b] = dict(iou=iou, iou_plain=plain, inter=inter)


def ref_relations(ca, cb, thr=0.5, cover=0.5):
    """Set of (relation, a_id, b_id) rows (None for a missing side) and the RefPairs."""
    R = RefPairs(ca, cb)
    cat_a = {i: a["category_id"] for i, a in ca.anns.items()}
    cat_b = {i: b["category_id"] for i, b in cb.anns.items()}
    img_a = {i: a["image_id"] for i, a in ca.anns.items()}
    rows = set()
    used_a, used_b = set(), set()
    # matched: per (image, category)
    groups = defaultdict(dict)
    for (a, b), v in R.pairs.items():
        if cat_a[a] == cat_b[b] and v["iou_plain"] >= thr:
            groups[img_a[a], cat_a[a]][a, b] = v["iou_plain"]
    for g in groups.values():
        for a, b in _max_weight(g):
            rows.add(("matched", a, b)); used_a.add(a); used_b.add(b)
    # split
    best = {}
    for (a, b), v in sorted(R.pairs.items()):
        if a in used_a or b in used_b or cat_a[a] != cat_b[b] or R.area_b[b] == 0:
            continue
        if v["inter"] / R.area_b[b] >= cover:
            if b not in best or v["inter"] > R.pairs[best[b], b]["inter"]:
                best[b] = a
    parts = defaultdict(list)
    for b, a in best.items():
        parts[a].append(b)
    for a, bs in parts.items():
        if len(bs) >= 2:
            for b in bs:
                rows.add(("split", a, b)); used_b.add(b)
            used_a.add(a)
    # merged
    best = {}
    for (a, b), v in sorted(R.pairs.items(), key=lambda t: (t[0][1], t[0][0])):
        if a in used_a or b in used_b or cat_a[a] != cat_b[b] or R.area_a[a] == 0:
            continue
        if v["inter"] / R.area_a[a] >= cover:
            if a not in best or v["inter"] > R.pairs[a, best[a]]["inter"]:
                best[a] = b
    parts = defaultdict(list)
    for a, b in best.items():
        parts[b].append(a)
    for b, As in parts.items():
        if len(As) >= 2:
            for a in As:
                rows.add(("merged", a, b)); used_a.add(a)
            used_b.add(b)
    # class_changed: per image
    groups = defaultdict(dict)
    for (a, b), v in R.pairs.items():
        if a in used_a or b in used_b or cat_a[a] == cat_b[b] or v["iou_plain"] < thr:
            continue
        groups[img_a[a]][a, b] = v["iou_plain"]
    for g in groups.values():
        for a, b in _max_weight(g):
            rows.add(("class_changed", a, b)); used_a.add(a); used_b.add(b)
    for a in ca.anns:
        if a not in used_a:
            rows.add(("removed", a, None))
    for b in cb.anns:
        if b not in used_b:
            rows.add(("added", None, b))
    return rows, R
