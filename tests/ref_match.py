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


def _union_measures(rle_w, rles_parts):
    """(|u parts|, |W n u parts|) with pycocotools' merge."""
    u = mu.merge(rles_parts) if len(rles_parts) > 1 else rles_parts[0]
    return int(mu.area(u)), int(mu.area(mu.merge([rle_w, u], intersect=True)))


def ref_relations(ca, cb, thr=0.5, cover=0.5, margin=0.05, measures=None):
    """Set of (relation, a_id, b_id) rows (None for a missing side) and the RefPairs.

    The rules of ``cocodiff.relations`` (its docstring), written again from the documentation:
    owners by containment and IoU, split / merged groups judged on pycocotools' union of the
    parts, crowd wholes decomposed, conflicts by priority, then one-to-one matching, class
    changes, removed / added. ``measures``: a dict filled with ``(a_id, b_id) -> (group_iou,
    part_share)`` for the group rows.
    """
    R = RefPairs(ca, cb)
    cat_a = {i: a["category_id"] for i, a in ca.anns.items()}
    cat_b = {i: b["category_id"] for i, b in cb.anns.items()}
    img_a = {i: a["image_id"] for i, a in ca.anns.items()}
    img_b = {i: b["image_id"] for i, b in cb.anns.items()}
    crowd_a = {i: bool(a.get("iscrowd", 0)) for i, a in ca.anns.items()}
    crowd_b = {i: bool(b.get("iscrowd", 0)) for i, b in cb.anns.items()}
    # local order: (image, category, id) -- the tie-break "lower index"
    key_a = {i: (img_a[i], cat_a[i], i) for i in ca.anns}
    key_b = {i: (img_b[i], cat_b[i], i) for i in cb.anns}
    same = {(a, b): v for (a, b), v in R.pairs.items() if cat_a[a] == cat_b[b]}

    def best(cands, key):   # highest IoU, then larger intersection, then lower index
        return min(cands, key=lambda t: (-t[1]["iou_plain"], -t[1]["inter"], key[t[0]]))[0]

    # 1. owners (containment) and each instance's best counterpart
    owner_b, owner_a, top_b, top_a = {}, {}, {}, {}
    by_b, by_a = defaultdict(list), defaultdict(list)
    for (a, b), v in same.items():
        by_b[b].append((a, v))
        by_a[a].append((b, v))
    for b, lst in by_b.items():
        top_b[b] = best(lst, key_a)
        ins = [(a, v) for a, v in lst if v["inter"] / R.area_b[b] >= cover]
        if ins:
            owner_b[b] = best(ins, key_a)
    for a, lst in by_a.items():
        top_a[a] = best(lst, key_b)
        ins = [(b, v) for b, v in lst if v["inter"] / R.area_a[a] >= cover]
        if ins:
            owner_a[a] = best(ins, key_b)
    S_a, S_b = defaultdict(float), defaultdict(float)
    for b, a in top_b.items():
        S_a[a] = max(S_a[a], same[a, b]["iou_plain"])
    for a, b in top_a.items():
        S_b[b] = max(S_b[b], same[a, b]["iou_plain"])

    # 2./3. candidate groups: (side, whole, parts, crowd whole, gain, measures)
    cands = []
    for side, owner, crowd_w, crowd_p, S, rle_w_of, rle_p_of, area_w, key_w, key_p in (
            ("split", owner_b, crowd_a, crowd_b, S_a, R.rle_a, R.rle_b, R.area_a, key_a, key_b),
            ("merged", owner_a, crowd_b, crowd_a, S_b, R.rle_b, R.rle_a, R.area_b, key_b, key_a)):
        parts_of = defaultdict(list)
        for p, w in owner.items():
            parts_of[w].append(p)

        def pair(w, p, side=side):
            return same[w, p] if side == "split" else same[p, w]
        for w, parts in parts_of.items():
            parts.sort(key=lambda p: key_p[p])
            if len(parts) == 1 and not (crowd_w[w] and not crowd_p[parts[0]]
                                        and pair(w, parts[0])["iou_plain"] < thr):
                continue
            dom = min(parts, key=lambda p: (-pair(w, p)["iou_plain"], key_p[p]))
            ua, ui = _union_measures(rle_w_of[w], [rle_p_of[p] for p in parts])
            rest = [p for p in parts if p != dom]
            ra = _union_measures(rle_w_of[w], [rle_p_of[p] for p in rest])[0] if rest else 0
            den = area_w[w] + ua - ui
            u_iou = ui / den if den > 0 else 0.0
            gain = u_iou - S[w]
            fresh = ui - pair(w, dom)["inter"]
            tiles = fresh > 0 and fresh >= cover * ra and gain > 0
            ok = crowd_w[w] or S[w] < thr or gain >= margin - 1e-12 or tiles
            if not ok:
                continue
            # group measures: pycocotools' iou, A as gt, with the crowd rule
            if side == "split":
                giou = ui / ua if crowd_w[w] else ui / den
            else:
                gt_crowd = all(crowd_a[p] for p in parts)
                giou = ui / area_w[w] if gt_crowd else ui / den
            cands.append((side, w, parts, crowd_w[w], gain, giou, area_w[w]))
    # 4. conflicts: crowd wholes first, then larger gain, splits first, lower whole index
    cands.sort(key=lambda c: (not c[3], -c[4], 0 if c[0] == "split" else 1,
                              key_a[c[1]] if c[0] == "split" else key_b[c[1]]))
    rows = set()
    used_a, used_b = set(), set()
    for side, w, parts, _, _, giou, aw in cands:
        wa = {w} if side == "split" else set(parts)
        wb = set(parts) if side == "split" else {w}
        if wa & used_a or wb & used_b:
            continue
        used_a |= wa
        used_b |= wb
        for p in parts:
            a, b = (w, p) if side == "split" else (p, w)
            rows.add((side, a, b))
            if measures is not None:
                measures[a, b] = (giou, same[a, b]["inter"] / aw)
    # 5. matched: per (image, category) among the instances left
    groups = defaultdict(dict)
    for (a, b), v in same.items():
        if a not in used_a and b not in used_b and v["iou_plain"] >= thr:
            groups[img_a[a], cat_a[a]][a, b] = v["iou_plain"]
    for g in groups.values():
        for a, b in _max_weight(g):
            rows.add(("matched", a, b)); used_a.add(a); used_b.add(b)
    # 6. class_changed: per image
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
