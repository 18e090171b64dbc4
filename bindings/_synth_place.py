"""Placement of the synthetic twin's units (:mod:`cocodiff.synth`): the truth must not be
ambiguous.

No instance may lie mostly inside (or cover) a same-category instance of another unit of
its image when either unit is not a plain matched / class-changed one; such a unit is moved
elsewhere in its image, and after :data:`_MOVE_ROUNDS` tries given a category absent from
the image. Bounding boxes are used for the test (:func:`cocodiff.engine.synth.box_conflicts`).
"""
from __future__ import annotations

import numpy as np

from ._synth_plan import CLS, MATCH, Plan
from ._synth_shapes import ranges
from .engine import synth as _k

# instances of two units of one image and category whose boxes overlap by this share of
# the smaller box are moved apart (then re-categorised); anything touching a crowd from 10 % on
OVERLAP = 0.25
OVERLAP_CROWD = 0.1
_MOVE_ROUNDS = 8
_DECLUTTER_ROUNDS = 11


def _box_iou_reaches(b1, b2, iou):
    """Whether the IoU of boxes (x0, y0, x1, y1) reaches ``iou``."""
    iw = np.minimum(b1[:, 2], b2[:, 2]) - np.maximum(b1[:, 0], b2[:, 0])
    ih = np.minimum(b1[:, 3], b2[:, 3]) - np.maximum(b1[:, 1], b2[:, 1])
    inter = np.maximum(iw, 0.0) * np.maximum(ih, 0.0)
    a1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
    a2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
    return (inter > 0) & (inter >= iou * (a1 + a2 - inter))


def _pairs_within(key, size):
    """All pairs ``(i, j)`` of items with equal ``key``, ``i`` larger than ``j`` (``size``;
    ties: ``i`` first)."""
    n = len(key)
    order = np.lexsort((-size, key))
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ks = key[order]
    new = np.ones(n, bool)
    new[1:] = ks[1:] != ks[:-1]
    gstart = np.flatnonzero(new)
    gend = np.append(gstart[1:], n)
    cnt = gend[np.cumsum(new) - 1] - np.arange(n) - 1
    p = np.repeat(np.arange(n), cnt)
    q = ranges(np.arange(n) + 1, cnt)
    return order[p], order[q]


def _shift(rng, mbox, W, H):
    """Random translations putting ``mbox`` anywhere inside the image (or straddling it,
    when larger)."""
    out = []
    for lo_c, hi_c, S in ((0, 2, W), (1, 3, H)):
        a = -mbox[:, lo_c]
        b = S - mbox[:, hi_c]
        out.append(np.minimum(a, b) + np.abs(b - a) * rng.random(len(mbox)))
    return out


class _Conflicts:
    """The candidate pairs of instances (same image and category, different units) and the
    box test. ``cat`` and ``box`` are the caller's arrays, read as they change."""

    def __init__(self, img, cat, owner, box, thr, fixed):
        self.img, self.cat, self.owner, self.box, self.thr = img, cat, owner, box, thr
        self.within = fixed is None
        if self.within:
            self.f_box, self.f_thr = box, thr
        else:
            self.f_order = np.argsort(fixed[0], kind="stable")
            self.f_key = fixed[0][self.f_order]
            self.f_box = fixed[1]
            self.f_thr = np.full(len(self.f_box), OVERLAP)

    def pairs(self, items):
        """Pairs (i, j, unit of i, unit of j or -1) of ``items`` with the others."""
        owner, box = self.owner, self.box
        key = (self.img * 128 + self.cat)[owner[items]]
        if self.within:       # the smaller instance's unit moves
            i, j = _pairs_within(key, (box[items, 2] - box[items, 0]) *
                                 (box[items, 3] - box[items, 1]))
            i, j = items[i], items[j]
            keep = owner[i] != owner[j]
            i, j = i[keep], j[keep]
            return i, j, owner[i], owner[j]
        lo = np.searchsorted(self.f_key, key, "left")
        cnt = np.searchsorted(self.f_key, key, "right") - lo
        i = np.repeat(items, cnt)
        return i, self.f_order[ranges(lo, cnt)], owner[i], np.full(len(i), -1, np.int64)

    def test(self, p, conf=None, changed=None):
        """(Re-)test the pairs ``p`` (all, or those of ``changed`` units)."""
        if conf is None:
            conf = np.zeros(len(p[0]), bool)
        _k.box_conflicts(*p, np.zeros(1, bool) if changed is None else changed,
                         changed is None, self.box, self.f_box, self.thr, self.f_thr, conf)
        return conf


def declutter(rng, plan: Plan, units, owner, cat, box, mbox, movable, fixed=None, thr=None):
    """Re-draw the positions of units with an instance whose box overlaps the box of an
    instance of another unit of the same image and category by :data:`OVERLAP` of the
    smaller one (an instance lying mostly inside another, or covering it, could make the
    truth ambiguous); the unit of the smaller instance moves.

    ``units``: the units; ``owner``: per instance box (``box``) its index into
    ``units`` (sorted); ``cat``, ``mbox`` (the box the unit must keep inside the image),
    ``movable`` per unit. Without ``fixed`` (the A units among themselves): after
    :data:`_MOVE_ROUNDS` tries a unit still in a *hard* conflict -- one of the two units
    is not a plain matched or class-changed one (a crowd, a split or merged whole, a
    removed instance), or the boxes are alike (IoU >= 0.4) -- gets a category absent from
    the image; plain instances one inside the other stay (unambiguous: the outer one's
    own B match explains it best). ``thr`` (per instance, default :data:`OVERLAP`):
    a pair conflicts from the smaller threshold of its two instances on (crowds use
    :data:`OVERLAP_CROWD`: whatever of the same category lies inside a crowd is read as
    one of its parts). With ``fixed`` = (key, box) of instances that stay,
    only conflicts with them count, all hard (added B instances must not lie inside,
    nor cover, an A instance); units not ``movable`` are re-categorised at once.
    ``cat``, ``box``, ``mbox`` are updated in place; returns the translations (dx, dy)
    per unit.
    """
    n = len(units)
    img = plan.u_img[units]
    W = plan.img_w[img].astype(np.float64)
    H = plan.img_h[img].astype(np.float64)
    plain = np.isin(plan.u_type[units], (MATCH, CLS))
    if thr is None:
        thr = np.full(len(box), OVERLAP)
    cf = _Conflicts(img, cat, owner, box, thr, fixed)
    u_all = np.arange(n)
    i_lo = np.searchsorted(owner, u_all)              # a unit's instances: i_lo:i_lo+i_n
    i_n = np.searchsorted(owner, u_all, "right") - i_lo
    P = cf.pairs(np.arange(len(box)))
    conf = cf.test(P)
    ever_rec = np.zeros(n, bool)
    dx = np.zeros(n)
    dy = np.zeros(n)
    for rnd in range(_DECLUTTER_ROUNDS):
        c = np.flatnonzero(conf)
        if cf.within and rnd >= _MOVE_ROUNDS:
            hard = ~(plain[P[2][c]] & plain[P[3][c]]) | _box_iou_reaches(
                box[P[0][c]], box[P[1][c]], 0.4)
            c = c[hard]
        if not len(c):
            break
        flag = np.zeros(n, bool)
        flag[(P[3] if cf.within else P[2])[c]] = True
        if rnd < _MOVE_ROUNDS:
            move = np.flatnonzero(flag & movable)
            rec = np.flatnonzero(flag & ~movable)
        else:
            move = np.zeros(0, np.int64)
            rec = np.flatnonzero(flag)
        if len(move):
            sx, sy = _shift(rng, mbox[move], W[move], H[move])
            dx[move] += sx
            dy[move] += sy
            d = np.stack([sx, sy, sx, sy], 1)
            mbox[move] += d
            box[ranges(i_lo[move], i_n[move])] += np.repeat(d, i_n[move], axis=0)
            changed = np.zeros(n, bool)
            changed[move] = True
            cf.test(P, conf, changed)
        if len(rec):
            P, conf = _recategorise(rng, plan, cf, rec, ever_rec, P, conf, i_lo, i_n)
    return dx, dy


def _recategorise(rng, plan, cf, rec, ever_rec, P, conf, i_lo, i_n):
    """Give units ``rec`` a category absent from their image; new categories are absent
    from the image, so only units re-categorised (now or before) can pair up again: their
    pairs are made anew. Returns the pairs and their conflict flags."""
    img, cat = cf.img, cf.cat
    taken = np.sort(img * 128 + cat) if cf.within else cf.f_key
    cat[rec] = plan.other_cats(rng, img[rec], cat[rec], taken)
    ever_rec[rec] = True
    keep = ~ever_rec[P[2]]
    if cf.within:
        keep &= ~ever_rec[P[3]]
    Q = cf.pairs(ranges(i_lo[ever_rec], i_n[ever_rec]))
    P = tuple(np.concatenate([x[keep], y]) for x, y in zip(P, Q))
    conf = np.concatenate([conf[keep], cf.test(Q)])
    return P, conf
