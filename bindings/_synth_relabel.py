"""Set B of the synthetic twin (:mod:`cocodiff.synth`): the Sama-COCO-like relabel of A.

Each B instance comes from one relabel operation of its unit: a copy of A's rings
(matched: densified, jittered, sometimes with a small extra ring; class-changed: exact;
merged into a multi-polygon), a new star (added instance, an individual out of a split or
decomposed crowd, a part of a group split), a crowd (matched: A's ellipses perturbed; the
balance of a decomposed crowd: shrunk; merged members: one ellipse per member; added), a
pie slice of A's outline (dominant split) or a copy of an adjacent-merge whole. The
operations draw from the one ``numpy`` generator in a fixed order (:func:`build_b`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._synth_draw import Cols, realise
from ._synth_original import SetA
from ._synth_place import declutter
from ._synth_plan import (ADD, ADD_CROWD, BINS_ADD, BINS_CROWD, C_VERT_B, CLS, CROWD_DECOMP,
                          CROWD_MATCH, CROWD_SPLIT, DOMINANT_SPLIT, GROUP_SPLIT, MATCH,
                          MERGE_ADJ, MERGE_CROWD, MERGE_POLY, MIN_PART, P_DENSIFY,
                          P_EXTRA_RING, P_MULTI_ADD, USED_CAT_IDS, Plan, draw_areas)
from ._synth_shapes import (ell_box, n_spoke, offsets, plan_crowd, plan_slices, plan_stars,
                            positions, ranges, seeds, star_box, star_mbox)


@dataclass
class _Rows:
    """Per B instance (in unit order): its unit, kind, image, rank in the unit and what
    it derives from in A (the unit's A instances ``a_lo:a_hi``)."""
    unit: np.ndarray
    t: np.ndarray
    img: np.ndarray
    W: np.ndarray
    H: np.ndarray
    rank: np.ndarray
    rest: np.ndarray        # the crowd a decomposition leaves for the balance
    crowd: np.ndarray
    a_lo: np.ndarray
    a_hi: np.ndarray
    a0: np.ndarray          # a_lo, clipped to a valid row
    copy: np.ndarray        # copies A's rings (matched, class changed, merged polygons)
    a_rlo: np.ndarray       # ... from A ring a_rlo, n_copy of them
    n_copy: np.ndarray
    a_area: np.ndarray      # the area of the A instance copied or split
    a_crow_idx: np.ndarray  # per A instance, its index among A's crowds (-1: none)
    a_prow: np.ndarray      # per A instance, its index among A's stars (-1: none)


@dataclass
class _Parts:
    """The B instances drawn as new stars (rows ``si``): target area, centre (NaN: free),
    multi-ring, and the cap a child of a split keeps below."""
    si: np.ndarray
    area: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    multi: np.ndarray
    cap: np.ndarray

    def of(self, r, kind):
        """Mask (over ``si``) of the parts of units of ``kind``."""
        return r.t[self.si] == kind


def build_b(rng, plan: Plan, a: SetA) -> tuple[Cols, np.ndarray]:
    """Relabel A into set B; re-categorises units of ``plan`` (``u_catb``). Returns B and
    per B instance its unit."""
    r = _rows(plan, a)
    # the B instances drawn as new stars: a matched outline's extra ring, the children of
    # split crowds and groups, the individuals of decomposed crowds, the added instances
    extra = r.copy & (r.t == MATCH) & (r.n_copy == 1) & (r.a_area >= 100) & (
        rng.random(len(r.t)) < P_EXTRA_RING)
    child = np.isin(r.t, (CROWD_SPLIT, GROUP_SPLIT)) | ((r.t == CROWD_DECOMP) & ~r.rest)
    si = np.flatnonzero(extra | child | (r.t == ADD))
    ns = len(si)
    p = _Parts(si, np.zeros(ns), np.zeros(ns), np.zeros(ns), np.zeros(ns, bool), np.zeros(ns))
    _extra_rings(rng, r, a, p, extra[si])
    ad = _added(rng, r, p)
    _crowd_split_children(rng, r, a, p)
    shrink = rng.uniform(0.35, 0.55, plan.U)       # per unit: a decomposed crowd's balance
    phi0 = 2 * np.pi * rng.random(plan.U)          # per unit: where its parts start
    _decomposed_individuals(rng, plan, r, a, p, shrink, phi0)
    _group_split_children(rng, plan, r, a, p, phi0)
    st = _plan_parts(rng, r, p)
    crow, n_ell, new = _crowds(rng, r, a)
    new = _place_added(rng, plan, a, r, p, st, ad, crow, new)
    ell = _crowd_ellipses(rng, r, a, crow, n_ell, new, shrink)
    copies = _copies(r, a)
    slices = _dominant_slices(rng, plan, r, a)
    B = realise(rng, plan, r.img, USED_CAT_IDS[plan.u_catb[r.unit]], r.crowd, si, st,
                seeds(rng, ns), crow, ell, copies=copies, slices=slices)
    return B, r.unit


def _rows(plan, a) -> _Rows:
    """What each B instance is and derives from (see :class:`_Rows`)."""
    A = a.cols
    k = plan.u_k
    unit = np.repeat(np.arange(plan.U), plan.n_b)
    t = plan.u_type[unit]
    img = plan.u_img[unit]
    rank = np.arange(len(unit)) - plan.b_off[unit]
    rest = (t == CROWD_DECOMP) & (rank == k[unit])     # the crowd left for the balance
    a_lo = plan.a_off[unit]
    a_hi = plan.a_off[unit + 1]
    a0 = np.minimum(a_lo, A.n - 1)
    copy = np.isin(t, (MATCH, CLS, MERGE_POLY))
    a_rlo = np.where(copy, A.ring_lo[a0], 0)
    a_rhi = np.where(copy, A.ring_hi[np.maximum(a_hi - 1, 0)], 0)
    return _Rows(
        unit=unit, t=t, img=img, W=plan.img_w[img].astype(np.float64),
        H=plan.img_h[img].astype(np.float64), rank=rank, rest=rest,
        crowd=np.isin(t, (ADD_CROWD, CROWD_MATCH, MERGE_CROWD)) | rest, a_lo=a_lo, a_hi=a_hi,
        a0=a0, copy=copy, a_rlo=a_rlo, n_copy=np.where(copy, a_rhi - a_rlo, 0),
        a_area=np.where(copy | np.isin(t, (GROUP_SPLIT, DOMINANT_SPLIT)), A.area()[a0], 0),
        a_crow_idx=positions(a.crowd_rows, A.n), a_prow=positions(a.poly_rows, A.n))


# ---------------------------------------------------------------- new stars ---------------

def _frame_point(cx, cy, a, b, th, rr, ph):
    """The point at polar ``(rr, ph)`` (``rr`` in half axes) of the ellipse frame centred
    at ``(cx, cy)`` with half axes ``a, b`` turned by ``th``."""
    lx = rr * a * np.cos(ph)
    ly = rr * b * np.sin(ph)
    return cx + lx * np.cos(th) - ly * np.sin(th), cy + lx * np.sin(th) + ly * np.cos(th)


def _extra_rings(rng, r, a, p, ex):
    """A matched outline's extra ring: a small blob at the edge of the A bbox."""
    e_rows = p.si[ex]
    ab = a.cols.bbox[r.a_lo[e_rows]] / 100.0
    phi = 2 * np.pi * rng.random(len(e_rows))
    p.cx[ex] = ab[:, 0] + ab[:, 2] * (0.5 + 0.55 * np.cos(phi))
    p.cy[ex] = ab[:, 1] + ab[:, 3] * (0.5 + 0.55 * np.sin(phi))
    p.area[ex] = r.a_area[e_rows] * rng.uniform(0.02, 0.07, len(e_rows))


def _added(rng, r, p):
    """Added instances: B's size mix, some multi-ring, placed freely (placed apart from
    A later, :func:`_place_added`). Returns their mask over the parts."""
    ad = p.of(r, ADD)
    p.area[ad] = draw_areas(rng, BINS_ADD, int(ad.sum()))
    p.multi[ad] = (p.area[ad] >= 150) & (rng.random(int(ad.sum())) < P_MULTI_ADD)
    p.cx[ad] = np.nan
    return ad


def _crowd_split_children(rng, r, a, p):
    """Individuals out of a split crowd: each inside one of its ellipses, at most a fifth
    of it."""
    m_a, ecx, ecy, ea, eb, eth = a.crowd_ell
    a_eo = offsets(m_a)
    cs = p.of(r, CROWD_SPLIT)
    rows = p.si[cs]
    ci = r.a_crow_idx[r.a_lo[rows]]
    e = a_eo[ci] + (rng.random(len(rows)) * m_a[ci]).astype(np.int64)
    e = np.minimum(e, a_eo[ci + 1] - 1)
    pc, pa, pb, pt = ecx[e], ecy[e], ea[e], eb[e]
    pth = eth[e]
    rr = 0.5 * np.sqrt(rng.random(len(rows)))
    ph = 2 * np.pi * rng.random(len(rows))
    p.cx[cs], p.cy[cs] = _frame_point(pc, pa, pb, pt, pth, rr, ph)
    cr = np.minimum(pb, pt) * rng.uniform(0.2, 0.4, len(rows))
    p.area[cs] = np.pi * cr * cr
    p.cap[cs] = 0.2 * np.pi * pb * pt


def _decomposed_individuals(rng, plan, r, a, p, shrink, phi0):
    """Crowd decomposition: individuals spread around the main ellipse, clear of the
    remaining (shrunk) crowd where there is one, each >= MIN_PART and well inside."""
    k = plan.u_k
    m_a, ecx, ecy, ea, eb, eth = a.crowd_ell
    cd = p.of(r, CROWD_DECOMP)
    rows = p.si[cd]
    ru = r.unit[rows]
    e = offsets(m_a)[r.a_crow_idx[r.a_lo[rows]]]
    mn = np.minimum(ea[e], eb[e])
    crd = np.maximum(mn * rng.uniform(0.18, 0.3, len(rows)),
                     np.sqrt(1.1 * MIN_PART / np.pi))
    ph = phi0[ru] + 2 * np.pi * r.rank[rows] / k[ru] + rng.uniform(-0.35, 0.35, len(rows))
    rr = np.where(plan.u_rest[ru], rng.uniform(shrink[ru], 0.8),
                  0.75 * np.sqrt(rng.random(len(rows))))
    rr = np.maximum(np.minimum(rr, 0.92 - 1.4 * crd / mn), 0.0)
    p.cx[cd], p.cy[cd] = _frame_point(ecx[e], ecy[e], ea[e], eb[e], eth[e], rr, ph)
    p.area[cd] = np.pi * crd * crd


def _group_split_children(rng, plan, r, a, p, phi0):
    """Individuals out of a group polygon: spread inside the parent's star frame (ring 0),
    at most 15 % of it."""
    k = plan.u_k
    gs = p.of(r, GROUP_SPLIT)
    rows = p.si[gs]
    ru = r.unit[rows]
    pr = r.a_prow[r.a_lo[rows]]
    S = a.stars
    mn = np.minimum(S.rx[pr], S.ry[pr])
    crg = mn * rng.uniform(0.15, 0.28, len(rows))
    rr = np.minimum(rng.uniform(0.25, 0.5, len(rows)), 0.9 - 1.4 * crg / mn)
    ph = phi0[ru] + 2 * np.pi * r.rank[rows] / k[ru] + rng.uniform(-0.3, 0.3, len(rows))
    p.cx[gs], p.cy[gs] = _frame_point(S.cx[pr], S.cy[pr], S.rx[pr], S.ry[pr], S.th[pr], rr, ph)
    p.area[gs] = np.pi * crg * crg
    p.cap[gs] = 0.15 * np.pi * S.rx[pr] * S.ry[pr]


def _plan_parts(rng, r, p):
    """Plan the new stars: Sama skips tiny parts; a child of a split crowd or group stays
    well inside its parent; children are rounder than added instances."""
    cs, gs, cd = p.of(r, CROWD_SPLIT), p.of(r, GROUP_SPLIT), p.of(r, CROWD_DECOMP)
    area = np.maximum(p.area, 3.0)
    area[cs | gs] = np.minimum(np.maximum(area[cs | gs], MIN_PART), p.cap[cs | gs])
    cy = p.cy.copy()
    cy[np.isnan(p.cx)] = np.nan
    return plan_stars(rng, area, r.W[p.si], r.H[p.si], p.multi, C_VERT_B, p.cx, cy,
                      asp_sigma=np.where(cs | gs | cd, 0.2, 0.4))


# ---------------------------------------------------------------- crowds ------------------

def _crowds(rng, r, a):
    """B's crowds: rows, ellipse counts, and the added crowds, planned now."""
    m_a = a.crowd_ell[0]
    crow = np.flatnonzero(r.crowd)
    ct = r.t[crow]
    n_ell = np.zeros(len(crow), np.int64)
    n_ell[ct == MERGE_CROWD] = (r.a_hi - r.a_lo)[crow[ct == MERGE_CROWD]]
    cm = (ct == CROWD_MATCH) | (ct == CROWD_DECOMP)      # A's ellipses, changed
    n_ell[cm] = m_a[r.a_crow_idx[r.a_lo[crow[cm]]]]
    ac = ct == ADD_CROWD
    new = plan_crowd(rng, draw_areas(rng, BINS_CROWD, int(ac.sum())), r.W[crow[ac]],
                     r.H[crow[ac]])
    n_ell[ac] = new[0]
    return crow, n_ell, new


def _place_added(rng, plan, a, r, p, st, ad, crow, new):
    """Placement of the added instances and crowds: not inside nor over a same-category A
    unit (moved, else re-categorised); class-changed units, fixed, only re-categorised.
    Moves ``st`` and returns the added crowds, moved."""
    ad_rows = p.si[ad]
    ac_rows = crow[r.t[crow] == ADD_CROWD]
    cls_u = np.flatnonzero(plan.u_type == CLS)
    items = np.concatenate([r.unit[ad_rows], r.unit[ac_rows], cls_u])
    box = np.concatenate([star_box(st)[ad], ell_box(*new), a.box[plan.a_off[cls_u]]])
    mbox = np.concatenate([star_mbox(st)[ad], ell_box(*new), a.box[plan.a_off[cls_u]]])
    movable = np.arange(len(items)) < len(ad_rows) + len(ac_rows)
    cat = plan.u_catb[items]
    fkey = plan.u_img[a.unit] * 128 + plan.u_cat[a.unit]
    dxi, dyi = declutter(rng, plan, items, np.arange(len(items)), cat, box, mbox, movable,
                         fixed=(fkey, a.box))
    plan.u_catb[items] = cat
    na = len(ad_rows)
    st.cx[ad] += dxi[:na]
    st.cy[ad] += dyi[:na]
    nac = len(ac_rows)
    return (new[0], new[1] + np.repeat(dxi[na:na + nac], new[0]),
            new[2] + np.repeat(dyi[na:na + nac], new[0]), *new[3:])


def _crowd_ellipses(rng, r, a, crow, n_ell, new, shrink):
    """B's crowds' ellipses (n_ell, cx, cy, a, b, th): matched crowds A's ellipses,
    perturbed; remaining crowds A's ellipses, shrunk; merged into a crowd one ellipse
    around each member's bbox; added crowds as planned."""
    m_a, ecx, ecy, ea, eb, eth = a.crowd_ell
    a_eo = offsets(m_a)
    ct = r.t[crow]
    eo = offsets(n_ell)
    E = np.zeros((5, int(eo[-1])))
    cm = (ct == CROWD_MATCH) | (ct == CROWD_DECOMP)
    dst = ranges(eo[:-1][cm], n_ell[cm])
    src = ranges(a_eo[r.a_crow_idx[r.a_lo[crow[cm]]]], n_ell[cm])
    f = np.where(np.repeat(ct[cm] == CROWD_DECOMP, n_ell[cm]),
                 np.repeat(shrink[r.unit[crow[cm]]], n_ell[cm]), 1.0)
    E[0, dst] = ecx[src] + rng.uniform(-1.5, 1.5, len(src))
    E[1, dst] = ecy[src] + rng.uniform(-1.5, 1.5, len(src))
    E[2, dst] = f * ea[src] * rng.uniform(0.96, 1.04, len(src))
    E[3, dst] = f * eb[src] * rng.uniform(0.96, 1.04, len(src))
    E[4, dst] = eth[src]
    mc = ct == MERGE_CROWD
    dst = ranges(eo[:-1][mc], n_ell[mc])
    src = ranges(r.a_lo[crow[mc]], n_ell[mc])
    bb = a.cols.bbox[src] / 100.0
    E[0, dst] = bb[:, 0] + bb[:, 2] / 2
    E[1, dst] = bb[:, 1] + bb[:, 3] / 2
    E[2, dst] = bb[:, 2] / 2 * 1.42 + 1.0     # covers the bbox
    E[3, dst] = bb[:, 3] / 2 * 1.42 + 1.0
    E[4, dst] = 0.0
    ac = ct == ADD_CROWD
    dst = ranges(eo[:-1][ac], n_ell[ac])
    for j in range(5):
        E[j, dst] = new[1 + j]
    return n_ell, E[0], E[1], E[2], E[3], E[4]


# ---------------------------------------------------------------- copies and slices -------

def _jitter(area):
    """The jitter (px) of a copied or sliced outline's vertices: grows with its size."""
    return np.clip(0.015 * np.sqrt(np.maximum(area, 0)), 0.05, 0.8)


def _copies(r, a):
    """Copy specs of :func:`cocodiff._synth_draw.realise`: of A's rings (densified and
    jittered, exact for a class change) and of the adjacent-merge wholes."""
    A = a.cols
    crow_c = np.flatnonzero(r.copy)
    cls = r.t[crow_c] == CLS
    sig_a = _jitter(r.a_area)
    copies = [dict(rows=crow_c, n_copy=r.n_copy[crow_c], src_lo=r.a_rlo[crow_c],
                   dens=np.where(cls, 0.0, P_DENSIFY), sigma=np.where(cls, 0.0, sig_a[crow_c]),
                   src_xy=A.xy, src_vo=A.vo)]
    adj = a.adj
    ma = np.flatnonzero(r.t == MERGE_ADJ)
    sidx = adj["u2adj"][r.unit[ma]]
    copies.append(dict(rows=ma, n_copy=np.ones(len(ma), np.int64), src_lo=sidx,
                       dens=np.full(len(ma), P_DENSIFY),
                       sigma=_jitter(adj["area"][sidx]),
                       src_xy=adj["xy"], src_vo=adj["vo"]))
    return copies


def _dominant_slices(rng, plan, r, a):
    """Dominant splits: pie slices of the A ring, densified and jittered (a slice spec of
    :func:`cocodiff._synth_draw.realise`)."""
    A, S = a.cols, a.stars
    dom_u = np.flatnonzero(plan.u_type == DOMINANT_SPLIT)
    aw = plan.a_off[dom_u]
    pr = r.a_prow[aw]
    pw, j0, mm = plan_slices(rng, A.xy, A.vo, A.ring_lo[aw], S.cx[pr] * 100.0,
                             S.cy[pr] * 100.0, plan.u_k[dom_u])
    n_src = np.diff(A.vo)[A.ring_lo[aw]][pw]
    return dict(rows=np.flatnonzero(r.t == DOMINANT_SPLIT), src_xy=A.xy, src_vo=A.vo,
                src_ring=A.ring_lo[aw][pw], j0=j0, m=mm,
                cx=np.round(S.cx[pr] * 100.0)[pw], cy=np.round(S.cy[pr] * 100.0)[pw],
                n_spoke=n_spoke(1.5 * n_src), dens=np.full(len(pw), P_DENSIFY),
                sigma=_jitter(A.area()[aw])[pw])
