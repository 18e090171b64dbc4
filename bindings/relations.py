"""The relation rules: which A instance became which B instance(s), from pair measures alone.

:func:`relate` is a pure function over arrays -- candidate pairs with their intersections and
IoUs, per-instance areas, categories, crowd flags and images, plus a callable that measures the
union of a group's masks -- and returns the relation rows. :mod:`cocodiff.matching` orchestrates
(rasterise, measure, relate, build the table); ``tests/ref_match.py`` follows the same rules on
pycocotools' masks.

Rules, in order (``T`` = ``iou_threshold``, ``C`` = ``cover_threshold``, ``M`` = ``group_margin``;
"IoU" is the plain, symmetric IoU; only same-category pairs take part in groups):

1. **Parts and owners.** B instance ``b`` lies inside A instance ``a`` when
   ``|a n b| / |b| >= C``. Each B instance is a candidate part of the one A instance it lies
   inside with the highest IoU (then the larger intersection, then the lower index) -- its
   *owner*; so a person redrawn inside an old crowd belongs to the person it matches, not to the
   crowd around it. Mirror for A instances inside B instances.
2. **Split** (one A whole, its B parts). An A whole with two or more parts is a split when no
   single same-category B instance matches it (best IoU ``S < T``), or when the union of its
   parts explains it clearly better than the best single B: ``IoU(a, u parts) >= S + M``
   (``M = 0.05`` by default). ``S`` counts only the B instances whose own best same-category
   counterpart is ``a`` (one that matches another A instance better is that one's). So a dominant
   part -- one holding half or more of the whole, which alone would pass ``T`` -- does not hide
   the split. **A crowd whole** is decomposed whenever
   it owns two or more parts (people labelled one by one, with or without a smaller crowd for the
   balance), however much of it they cover; with a single part, when that part is an individual
   (not a crowd) whose IoU with the crowd is below ``T`` (a crowd that became one person).
3. **Merged**: the mirror (one B whole, two or more A parts; a B crowd whole likewise).
4. **Conflicts.** An instance may qualify as the whole of one group and a part of another: crowd
   wholes go first, then groups by how much their union beats the best single counterpart
   (``IoU(u) - S``), then splits before merges, then the lower whole index; a group that finds
   one of its instances already taken is dropped whole (its instances go on to the next rules).
5. **Matched**: the remaining same-category pairs with IoU ``>= T``, one-to-one by the optimal
   assignment per (image, category) (``mode="greedy"``: pycocotools' greedy order).
6. **Class changed**: the remaining different-category pairs with IoU ``>= T``, one-to-one per
   image.
7. **Removed / added**: every A / B instance left.

Group measures: ``group_iou`` is pycocotools' IoU of the whole against the union of its parts,
with side A as ground truth and the crowd rule (split of a crowd: ``|W n U| / |U|``; merge: the
union of A parts is a crowd only if every part is); ``part_share`` is ``|W n part| / |W|``.

Where the truth is genuinely ambiguous the rows say so (``ambiguity``) rather than hide it:

``dominant_part``
    a split / merge accepted although one part alone would have matched the whole (``S >= T``).
``near_group``
    a whole with two or more parts whose union beat the best single counterpart, but by less
    than ``M``: read as ``matched`` plus ``added`` / ``removed`` parts (every row of it flagged).
``inside_other``
    an ``added`` (``removed``) instance lying mostly inside a same-category instance of the other
    side it was not grouped with (a new small object inside a larger one of its class, or a part
    of a group that did not qualify).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .engine.assign import assign
from .engine.groups import best_counterpart_iou, claim_groups, owners
from .engine.relate import run_starts

__all__ = ["RELATIONS", "REL_CODE", "AMBIGUITY", "Rules", "Relations", "relate"]

RELATIONS = ("matched", "split", "merged", "class_changed", "removed", "added")
REL_CODE = {r: i for i, r in enumerate(RELATIONS)}
#: ``ambiguity`` codes (index 0: none)
AMBIGUITY = (None, "dominant_part", "near_group", "inside_other")
_DOMINANT, _NEAR, _INSIDE = 1, 2, 3
SPLIT, MERGE = 0, 1


@dataclass(frozen=True)
class Rules:
    """Thresholds of :func:`relate` (see the module docstring)."""

    iou_threshold: float = 0.5
    cover_threshold: float = 0.5
    group_margin: float = 0.05
    mode: str = "optimal"

    def __post_init__(self):
        for name in ("iou_threshold", "cover_threshold"):
            v = getattr(self, name)
            if not 0.0 < v <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {v}")
        if not 0.0 <= self.group_margin <= 1.0:
            raise ValueError(f"group_margin must be in [0, 1], got {self.group_margin}")
        if self.mode not in ("optimal", "greedy"):
            raise ValueError(f"mode must be 'optimal' or 'greedy', got {self.mode!r}")


@dataclass
class Relations:
    """Output of :func:`relate`.

    Two-sided rows (matched, split, merged, class_changed) are candidate pairs: ``pair[i]``
    indexes the ``pa`` / ``pb`` arrays given to :func:`relate`. One-sided rows are A indices
    (``removed``) and B indices (``added``). ``group`` is numbered from 0 (-1: no group).
    """

    pair: np.ndarray          # int64: candidate pair of every two-sided row
    relation: np.ndarray      # int8: REL_CODE of every two-sided row
    group: np.ndarray         # int64
    group_iou: np.ndarray     # float64, NaN outside groups
    part_share: np.ndarray    # float64, NaN outside groups
    ambiguity: np.ndarray     # int8 codes into AMBIGUITY
    removed: np.ndarray       # int64 A indices
    removed_ambiguity: np.ndarray
    added: np.ndarray         # int64 B indices
    added_ambiguity: np.ndarray


def _groups(own, whole_of_pair, n_part):
    """Parts grouped by owner: (wholes, offsets, parts, owner pair per part) in whole order."""
    parts = np.flatnonzero(own >= 0)
    pairs = own[parts]
    wholes = whole_of_pair[pairs]
    o = np.lexsort((parts, wholes))
    parts, pairs, wholes = parts[o], pairs[o], wholes[o]
    first = np.r_[True, wholes[1:] != wholes[:-1]] if wholes.size else np.zeros(0, bool)
    starts = np.flatnonzero(first)
    off = np.r_[starts, wholes.size].astype(np.int64)
    return wholes[starts], off, parts, pairs


def _group_iou_plain(area_w, ua, ui):
    den = area_w + ua - ui
    return np.where(den > 0, ui / np.maximum(den, 1), 0.0)


def relate(pa: np.ndarray, pb: np.ndarray, inter: np.ndarray, iou_plain: np.ndarray, area_a: np.ndarray,
           area_b: np.ndarray, cat_a: np.ndarray, cat_b: np.ndarray, crowd_a: np.ndarray, crowd_b: np.ndarray,
           img_a: np.ndarray, img_b: np.ndarray,
           union: Callable[[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                           tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
           rules: Rules | None = None) -> Relations:
    """Relation rows of one set of images (see the module docstring for the rules).

    Parameters
    ----------
    pa, pb : int64 (k) -- candidate pairs (A index, B index), sorted by ``pa`` then ``pb``; every
        pair of overlapping masks of one image must be present.
    inter : int64 (k) -- shared pixels; iou_plain : float64 (k) -- symmetric IoU.
    area_a, area_b : int64 -- mask areas; cat_a, cat_b : int64 -- categories;
    crowd_a, crowd_b : bool -- iscrowd; img_a, img_b : int64 -- image ids. Instances of each side
        sorted by (image, category) (contiguous groups).
    union : callable ``(side, wholes, offsets, parts, skip) -> (union_area, union_inter, rest_area,
        rest_inter)`` -- for every group the area of the union of its parts' masks and its
        intersection with the whole, and the same for the union without part ``skip[g]``
        (:func:`cocodiff.engine.groups.group_union`; ``side`` :data:`SPLIT`: wholes are A indices,
        parts B; :data:`MERGE`: the mirror).
    rules : Rules or None (the defaults)

    Returns
    -------
    Relations
    """
    rules = rules if rules is not None else Rules()
    na, nb = area_a.shape[0], area_b.shape[0]
    thr, cover = rules.iou_threshold, rules.cover_threshold
    a_used = np.zeros(na, np.bool_)
    b_used = np.zeros(nb, np.bool_)
    amb_a = np.zeros(na, np.int8)
    amb_b = np.zeros(nb, np.int8)

    # ---- 1. same-category overlapping pairs, containment, owners
    same_cat = cat_a[pa] == cat_b[pb]
    pos = inter > 0
    sc = np.flatnonzero(same_cat & pos)
    spa, spb, sint, siou = pa[sc], pb[sc], inter[sc], iou_plain[sc]
    b_in_a = sint / area_b[spb] >= cover       # inter > 0: both areas > 0
    a_in_b = sint / area_a[spa] >= cover
    # best single counterpart of every instance: the highest IoU among the instances of the other
    # side whose own best same-category counterpart it is (a B instance that matches another A
    # better does not count against a's split)
    every = np.ones(sc.size, np.bool_)
    best_a = best_counterpart_iou(owners(spb, spa, sint, siou, every, nb), spa, siou, na)
    best_b = best_counterpart_iou(owners(spa, spb, sint, siou, every, na), spb, siou, nb)
    own_b = owners(spb, spa, sint, siou, b_in_a, nb)   # B part -> pair with its A owner
    own_a = owners(spa, spb, sint, siou, a_in_b, na)

    # ---- 2./3. candidate groups of both sides
    cand = [_candidate_groups(SPLIT, own_b, spa, crowd_a, crowd_b, best_a, area_a, nb, sint, siou, union, rules),
            _candidate_groups(MERGE, own_a, spb, crowd_b, crowd_a, best_b, area_b, na, sint, siou, union, rules)]

    # ---- 4. conflicts: accept groups in priority order while their instances are free
    accepted = _accept_groups(cand, a_used, b_used)
    rows_pair, rows_rel, rows_grp, rows_giou, rows_share, rows_amb = _group_rows(
        cand, accepted, sc, sint, area_a, area_b, crowd_a, amb_a, amb_b)

    # ---- 5. matched: optimal assignment within (image, category) groups
    free = ~a_used[pa] & ~b_used[pb]
    m_idx = _assign_within(np.flatnonzero(same_cat & pos & free & (iou_plain >= thr)), pa, pb, iou_plain,
                           run_starts(img_a, cat_a), run_starts(img_b, cat_b), thr, rules.mode)
    a_used[pa[m_idx]] = True
    b_used[pb[m_idx]] = True
    # ---- 6. class_changed: different categories, assignment per image
    e = np.flatnonzero(~same_cat & pos & (iou_plain >= thr))
    e = e[~a_used[pa[e]] & ~b_used[pb[e]]]
    zeros_a, zeros_b = np.zeros(na, np.int64), np.zeros(nb, np.int64)
    cc_idx = _assign_within(e, pa, pb, iou_plain, run_starts(img_a, zeros_a), run_starts(img_b, zeros_b),
                            thr, rules.mode)
    a_used[pa[cc_idx]] = True
    b_used[pb[cc_idx]] = True

    # ---- 7. removed / added; instances left inside a same-class instance of the other side
    rem = np.flatnonzero(~a_used)
    add = np.flatnonzero(~b_used)
    inside_a = np.zeros(na, bool)
    inside_a[spa[a_in_b]] = True
    inside_b = np.zeros(nb, bool)
    inside_b[spb[b_in_a]] = True
    rem_amb = np.where(amb_a[rem] != 0, amb_a[rem], np.where(inside_a[rem], _INSIDE, 0)).astype(np.int8)
    add_amb = np.where(amb_b[add] != 0, amb_b[add], np.where(inside_b[add], _INSIDE, 0)).astype(np.int8)

    n_m, n_c = m_idx.size, cc_idx.size
    m_amb = np.maximum(amb_a[pa[m_idx]], amb_b[pb[m_idx]]).astype(np.int8)
    nan_m = np.full(n_m, np.nan)
    nan_c = np.full(n_c, np.nan)
    return Relations(
        pair=np.concatenate([m_idx, *rows_pair, cc_idx]).astype(np.int64),
        relation=np.concatenate([np.full(n_m, REL_CODE["matched"], np.int8), *rows_rel,
                                 np.full(n_c, REL_CODE["class_changed"], np.int8)]),
        group=np.concatenate([np.full(n_m, -1, np.int64), *rows_grp, np.full(n_c, -1, np.int64)]),
        group_iou=np.concatenate([nan_m, *rows_giou, nan_c]),
        part_share=np.concatenate([nan_m, *rows_share, nan_c]),
        ambiguity=np.concatenate([m_amb, *rows_amb, np.zeros(n_c, np.int8)]),
        removed=rem, removed_ambiguity=rem_amb, added=add, added_ambiguity=add_amb)


class _Candidates(NamedTuple):
    """One side's candidate groups (:func:`_candidate_groups`): wholes, parts per whole
    (``parts[off[g]:off[g + 1]]``, with their pairs), crowd wholes, union area / intersection with
    the whole, acceptable / near / dominant-part flags, gain over the best single counterpart."""

    side: int
    wholes: np.ndarray
    off: np.ndarray
    parts: np.ndarray
    pairs: np.ndarray
    crowd: np.ndarray
    ua: np.ndarray
    ui: np.ndarray
    ok: np.ndarray
    near: np.ndarray
    dominant: np.ndarray
    gain: np.ndarray


def _candidate_groups(side, own, whole_of, crowd_w, crowd_p, best_w, area_w, n_part, sint, siou, union, rules):
    """Rules 1.-3. for the wholes of one side (``side`` :data:`SPLIT`: A wholes, B parts;
    :data:`MERGE`: the mirror): every whole with its parts (owners ``own``, from same-category
    pairs ``sint`` / ``siou``), the union measures, and whether the group may be accepted
    (``ok``), is a near group, or is accepted despite a dominant part."""
    thr, cover, margin = rules.iou_threshold, rules.cover_threshold, rules.group_margin
    wholes, off, parts, ppairs = _groups(own, whole_of, n_part)
    npart = np.diff(off)
    cw = crowd_w[wholes]
    single_person = (npart == 1) & ~crowd_p[parts[off[:-1]]] & (siou[ppairs[off[:-1]]] < thr) \
        if wholes.size else np.zeros(0, bool)
    keep = (npart >= 2) | (cw & single_person)
    wholes, cw = wholes[keep], cw[keep]
    sel = np.repeat(keep, npart)
    parts, ppairs = parts[sel], ppairs[sel]
    off = np.r_[0, np.cumsum(npart[keep])].astype(np.int64)
    # the dominant part: the one with the highest IoU with the whole
    ng = wholes.size
    o = np.lexsort((parts, -siou[ppairs], np.repeat(np.arange(ng), np.diff(off))))
    top = o[off[:-1]]
    s = best_w[wholes]
    # the union without the dominant part matters only where one instance alone would match
    skip = np.where(cw | (s < thr), -1, parts[top])
    ua, ui, ra, _ = union(side, wholes, off, parts, skip)
    u_iou = _group_iou_plain(area_w[wholes], ua, ui)
    gain = u_iou - s
    # the other parts lie mostly in what the dominant part leaves of the whole
    fresh = ui - sint[ppairs[top]]
    tiles = (fresh > 0) & (fresh >= cover * ra) & (gain > 0)
    ok = cw | (s < thr) | (gain >= margin - 1e-12) | tiles
    near = ~ok & (gain > 0)
    return _Candidates(side=side, wholes=wholes, off=off, parts=parts, pairs=ppairs, crowd=cw, ua=ua, ui=ui, ok=ok,
                       near=near, dominant=ok & ~cw & (s >= thr), gain=gain)


def _accept_groups(cand, a_used, b_used):
    """Rule 4: the candidate groups of both sides (split first) accepted in priority order while
    their instances are free (marked used in ``a_used`` / ``b_used``); one flag per group."""
    allw = np.concatenate([c.wholes for c in cand])
    alls = np.concatenate([np.full(c.wholes.size, c.side, np.int64) for c in cand])
    allc = np.concatenate([c.crowd for c in cand])
    allg = np.concatenate([c.gain for c in cand])
    allok = np.concatenate([c.ok for c in cand])
    alloff = np.r_[0, np.cumsum(np.concatenate([np.diff(c.off) for c in cand]))].astype(np.int64)
    allp = np.concatenate([c.parts for c in cand])
    order = np.flatnonzero(allok)
    order = order[np.lexsort((allw[order], alls[order], -allg[order], ~allc[order]))]
    return claim_groups(order.astype(np.int64), alls, allw, alloff, allp, a_used, b_used)


def _group_rows(cand, accepted, sc, sint, area_a, area_b, crowd_a, amb_a, amb_b):
    """The rows of the accepted groups (split / merged: pair, relation code, group id from 0,
    group IoU, part share, ambiguity -- a list per side of each), flagging near groups in
    ``amb_a`` / ``amb_b``."""
    rows_pair, rows_rel, rows_grp, rows_giou, rows_share, rows_amb = [], [], [], [], [], []
    n_groups = 0
    n_s = cand[0].wholes.size
    for j, c in enumerate(cand):
        acc = accepted[:n_s] if j == 0 else accepted[n_s:]
        npart = np.diff(c.off)
        sel = np.repeat(acc, npart)
        w, split = c.wholes, c.side == SPLIT
        w_amb, p_amb = (amb_a, amb_b) if split else (amb_b, amb_a)
        w_amb[w[c.near]] = _NEAR
        p_amb[c.parts[np.repeat(c.near, npart)]] = _NEAR
        ua, ui = c.ua, c.ui
        if split:   # gt = the A whole, dt = the union of B parts (pycocotools' crowd rule: |U|)
            area_w = area_a[w]
            den = np.where(c.crowd, ua, area_w + ua - ui)
        else:       # gt = the union of A parts (a crowd only if every part is), dt = the B whole
            area_w = area_b[w]
            gt_crowd = np.logical_and.reduceat(crowd_a[c.parts], c.off[:-1]) if w.size else np.zeros(0, bool)
            den = np.where(gt_crowd, area_w, area_w + ua - ui)
        giou = np.where(den > 0, ui / np.maximum(den, 1), 0.0)
        gid = np.cumsum(acc) - 1 + n_groups
        n_groups += int(acc.sum())
        pr = c.pairs[sel]
        rows_pair.append(sc[pr])
        rows_rel.append(np.full(pr.size, REL_CODE["split" if c.side == SPLIT else "merged"], np.int8))
        rows_grp.append(np.repeat(gid, npart)[sel])
        rows_giou.append(np.repeat(giou, npart)[sel])
        rows_share.append(sint[pr] / np.repeat(area_w, npart)[sel])
        rows_amb.append(np.where(np.repeat(c.dominant, npart)[sel], _DOMINANT, 0).astype(np.int8))
    return rows_pair, rows_rel, rows_grp, rows_giou, rows_share, rows_amb


def _assign_within(e, pa, pb, score, first_a, first_b, thr, mode):
    """Pair indices of ``e`` chosen one-to-one within the groups given by ``first_a`` (the first
    A index of every A instance's group; ``e`` sorted by ``pa``)."""
    if e.size == 0:
        return np.zeros(0, np.int64)
    ga = first_a[pa[e]]
    starts = np.flatnonzero(np.r_[True, ga[1:] != ga[:-1]])
    go = np.r_[starts, e.size].astype(np.int64)
    m = assign(go, pa[e] - ga, pb[e] - first_b[pb[e]], score[e], thr, mode)
    return e[m]
