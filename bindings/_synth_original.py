"""Set A of the synthetic twin (:mod:`cocodiff.synth`): the COCO-2017-like original.

Built in stages, each drawing from the one ``numpy`` generator in a fixed order: sizes,
polygon outlines (merge members clustered, multi-polygon members side by side), crowds,
the adjacent-merge wholes, placement (units moved apart, see :mod:`cocodiff._synth_place`),
then the drawing. B's relabel (:mod:`cocodiff._synth_relabel`) reads what A keeps in
:class:`SetA`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._synth_draw import Cols, fill_stars, realise
from ._synth_place import OVERLAP, OVERLAP_CROWD, declutter
from ._synth_plan import (BINS_A, BINS_ADJ, BINS_CROWD, BINS_DECOMP, BINS_DOM, BINS_GROUP,
                          BINS_MEMBER, BINS_REMOVE, C_VERT_A, CROWD_DECOMP, CROWD_MATCH,
                          CROWD_SPLIT, DOMINANT_SPLIT, GROUP_SPLIT, MATCH, MERGE_ADJ,
                          MERGE_CROWD, MERGE_POLY, MIN_ADJ, MIN_DECOMP, MIN_DOM, P_MULTI_A,
                          REMOVE, USED_CAT_IDS, Plan, draw_areas)
from ._synth_shapes import (Stars, ell_box, n_spoke, offsets, plan_crowd, plan_slices,
                            plan_stars, positions, seeds, star_box, star_mbox)


@dataclass
class SetA:
    """Set A, drawn, with what B's relabel derives from it."""
    cols: Cols              # the annotations
    unit: np.ndarray        # per instance, its unit
    box: np.ndarray         # per instance, its placement box (as B will draw it)
    stars: Stars            # the polygon instances' frames (rows ``poly_rows``)
    poly_rows: np.ndarray
    crowd_ell: tuple        # the crowds' ellipses (rows ``crowd_rows``)
    crowd_rows: np.ndarray
    adj: dict               # the adjacent-merge wholes: units, u2adj, xy, vo, area


@dataclass
class _Rows:
    """Per A instance (in unit order): its unit, kind, image and shape class."""
    unit: np.ndarray
    t: np.ndarray
    img: np.ndarray
    W: np.ndarray
    H: np.ndarray
    crowd: np.ndarray       # a crowd (matched, split or decomposed in B)
    member: np.ndarray      # merged in B (into a crowd or a multi-polygon)
    adj: np.ndarray         # a pie slice of an adjacent-merge whole
    pi: np.ndarray          # the star (polygon) instances
    ci: np.ndarray          # the crowds


def build_a(rng, plan: Plan) -> SetA:
    """Plan, place and draw set A; re-categorises units of ``plan`` (``u_cat``)."""
    r = _rows(plan)
    area, base = _areas(rng, plan, r)
    st = _outlines(rng, plan, r, area, base)
    ell = plan_crowd(rng, area[r.ci], r.W[r.ci], r.H[r.ci])
    adj_u, u2adj, s_area, sst = _plan_adjacent(rng, plan)
    box, dx, dy = _place(rng, plan, r, st, ell, u2adj, sst)
    st.cx += dx[r.unit[r.pi]]
    st.cy += dy[r.unit[r.pi]]
    m, ecx, ecy = ell[:3]          # crowds move with their units (in place: ``ell`` too)
    ecx += np.repeat(dx[r.unit[r.ci]], m)
    ecy += np.repeat(dy[r.unit[r.ci]], m)
    sst.cx += dx[adj_u]
    sst.cy += dy[adj_u]
    adj, slices = _draw_adjacent(rng, plan, r, adj_u, u2adj, s_area, sst)
    cols = realise(rng, plan, r.img, USED_CAT_IDS[plan.u_cat[r.unit]], r.crowd, r.pi, st,
                   seeds(rng, len(r.pi)), r.ci, ell, slices=slices)
    return SetA(cols=cols, unit=r.unit, box=box, stars=st, poly_rows=r.pi, crowd_ell=ell,
                crowd_rows=r.ci, adj=adj)


def _rows(plan) -> _Rows:
    """What each A instance is (see :class:`_Rows`)."""
    unit = np.repeat(np.arange(plan.U), plan.n_a)
    t = plan.u_type[unit]
    img = plan.u_img[unit]
    crowd = np.isin(t, (CROWD_MATCH, CROWD_SPLIT, CROWD_DECOMP))
    adj = t == MERGE_ADJ            # pie slices of a star (planned per unit)
    return _Rows(unit=unit, t=t, img=img, W=plan.img_w[img].astype(np.float64),
                 H=plan.img_h[img].astype(np.float64), crowd=crowd,
                 member=np.isin(t, (MERGE_CROWD, MERGE_POLY)), adj=adj,
                 pi=np.flatnonzero(~crowd & ~adj), ci=np.flatnonzero(crowd))


def _areas(rng, plan, r):
    """Target areas per instance by kind; ``base`` per unit: the size the outlines merged
    into one multi-polygon share."""
    t = r.t
    area = draw_areas(rng, BINS_A, len(t))
    for tt, bins, lo in ((REMOVE, BINS_REMOVE, 0.0), (GROUP_SPLIT, BINS_GROUP, 0.0),
                         (DOMINANT_SPLIT, BINS_DOM, MIN_DOM),
                         (CROWD_DECOMP, BINS_DECOMP, MIN_DECOMP)):
        sel = t == tt
        area[sel] = np.maximum(draw_areas(rng, bins, int(sel.sum())), lo)
    area[r.member] = draw_areas(rng, BINS_MEMBER, int(r.member.sum()))
    # the outlines merged into one multi-polygon are of alike sizes (none negligible:
    # their union must explain the whole clearly better than the largest alone)
    mp = np.flatnonzero(t == MERGE_POLY)
    base = draw_areas(rng, BINS_MEMBER, plan.U)
    area[mp] = base[r.unit[mp]] * np.exp(rng.uniform(-0.45, 0.45, len(mp)))
    cr = r.crowd & (t != CROWD_DECOMP)
    area[cr] = draw_areas(rng, BINS_CROWD, int(cr.sum()))
    return area, base


def _outlines(rng, plan, r, area, base) -> Stars:
    """Plan the polygon instances: some multi-polygon; merge members cluster around their
    unit's centre; the outlines merged into a multi-polygon lie side by side (on a circle
    around the unit's centre, clear of the image border), none inside another."""
    pi, t, unit, k = r.pi, r.t, r.unit, plan.u_k
    u_img, U = plan.u_img, plan.U
    dom = t[pi] == DOMINANT_SPLIT
    multi = (~r.member[pi]) & (~dom) & (area[pi] >= 150) & (
        rng.random(len(pi)) < P_MULTI_A)
    ucx = plan.img_w[u_img] * rng.random(U)
    ucy = plan.img_h[u_img] * rng.random(U)
    spread = np.sqrt(area[pi]) * np.sqrt(k[unit[pi]]) * 0.9
    ang = 2 * np.pi * rng.random(len(pi))
    rad = np.sqrt(rng.random(len(pi))) * spread
    ccx = np.where(r.member[pi], ucx[unit[pi]] + rad * np.cos(ang), np.nan)
    ccy = np.where(r.member[pi], ucy[unit[pi]] + rad * np.sin(ang), np.nan)
    mpr = np.flatnonzero(t[pi] == MERGE_POLY)
    uu = unit[pi[mpr]]
    rb = np.sqrt(base / np.pi)
    rc = rb * rng.uniform(1.1, 1.4, U) / np.sin(np.pi / np.maximum(k, 2))
    marg = np.minimum(rc + 2.0 * rb, 0.5 * np.minimum(plan.img_w, plan.img_h)[u_img])
    ux = marg + (plan.img_w[u_img] - 2 * marg) * rng.random(U)
    uy = marg + (plan.img_h[u_img] - 2 * marg) * rng.random(U)
    ph = (2 * np.pi * rng.random(U))[uu] + 2 * np.pi * (pi[mpr] - plan.a_off[uu]) / k[
        uu] + rng.uniform(-0.3, 0.3, len(mpr))
    ccx[mpr] = ux[uu] + rc[uu] * np.cos(ph)
    ccy[mpr] = uy[uu] + rc[uu] * np.sin(ph)
    return plan_stars(rng, area[pi], r.W[pi], r.H[pi], multi, C_VERT_A, ccx, ccy,
                      n_min=np.where(dom, 8 * k[unit[pi]], 4))


def _plan_adjacent(rng, plan):
    """Adjacent merges: one star per unit, the B whole; A holds its pie slices. Returns
    the units, their index per unit (-1: none), the wholes' areas and stars."""
    adj_u = np.flatnonzero(plan.u_type == MERGE_ADJ)
    u2adj = positions(adj_u, plan.U)
    Wu = plan.img_w[plan.u_img[adj_u]].astype(np.float64)
    Hu = plan.img_h[plan.u_img[adj_u]].astype(np.float64)
    s_area = np.maximum(draw_areas(rng, BINS_ADJ, len(adj_u)), MIN_ADJ)
    nan = np.full(len(adj_u), np.nan)
    sst = plan_stars(rng, s_area, Wu, Hu, np.zeros(len(adj_u), bool), C_VERT_A, nan,
                     nan, n_min=6 * plan.u_k[adj_u])
    return adj_u, u2adj, s_area, sst


def _place(rng, plan, r, st, ell, u2adj, sst):
    """Placement: the A instances' boxes (as B will draw them: a matched outline's extra
    ring, a merged crowd's ellipses), then units moved apart (see
    :func:`cocodiff._synth_place.declutter`). Returns the moved boxes and the translations
    per unit."""
    t, pi, ci = r.t, r.pi, r.ci
    nAi = len(t)
    box = np.zeros((nAi, 4))
    mbox = np.zeros((nAi, 4))
    box[pi] = star_box(st)
    mbox[pi] = star_mbox(st)
    # a matched outline may gain a small ring just off its box in B
    mt = pi[t[pi] == MATCH]
    grow = 0.06 * (box[mt, 2:] - box[mt, :2])
    box[mt] += np.concatenate([-grow, grow], 1)
    # a merged crowd covers its members' boxes with ellipses 1.42 x their half sides
    mcr = np.flatnonzero(t[pi] == MERGE_CROWD)
    c2 = box[pi[mcr], :2] + box[pi[mcr], 2:]
    half = 1.42 / 1.2 * (box[pi[mcr], 2:] - box[pi[mcr], :2]) / 2 + 1.0
    box[pi[mcr]] = np.concatenate([c2 / 2 - half, c2 / 2 + half], 1)
    box[ci] = mbox[ci] = ell_box(*ell)
    box[r.adj] = star_box(sst)[u2adj[r.unit[r.adj]]]
    mbox[r.adj] = star_mbox(sst)[u2adj[r.unit[r.adj]]]
    # per unit with A instances: the box its instances must keep inside the image
    ua = np.flatnonzero(plan.n_a > 0)
    owner = np.repeat(np.arange(len(ua)), plan.n_a[ua])      # == position of r.unit in ua
    st0 = plan.a_off[:-1][ua]
    umbox = np.stack([np.minimum.reduceat(mbox[:, 0], st0),
                      np.minimum.reduceat(mbox[:, 1], st0),
                      np.maximum.reduceat(mbox[:, 2], st0),
                      np.maximum.reduceat(mbox[:, 3], st0)], 1) if nAi else np.zeros((0, 4))
    cat = plan.u_cat[ua]
    thr = np.where(r.crowd | (t == MERGE_CROWD), OVERLAP_CROWD, OVERLAP)
    dxu, dyu = declutter(rng, plan, ua, owner, cat, box, umbox, np.ones(len(ua), bool),
                         thr=thr)
    plan.u_cat[ua] = cat
    dx = np.zeros(plan.U)
    dy = np.zeros(plan.U)
    dx[ua] = dxu
    dy[ua] = dyu
    return box, dx, dy


def _draw_adjacent(rng, plan, r, adj_u, u2adj, s_area, sst):
    """Draw the adjacent-merge wholes now (B copies them) and cut them into the pie slices
    A holds. Returns the wholes and the slice spec of :func:`cocodiff._synth_draw.realise`."""
    s_vo = offsets(sst.ring_n)
    s_xy = np.zeros((int(s_vo[-1]), 2), np.int32)
    fill_stars(s_xy, s_vo, np.arange(len(adj_u), dtype=np.int64), adj_u, sst,
               seeds(rng, len(adj_u)), plan.img_w[plan.u_img[adj_u]],
               plan.img_h[plan.u_img[adj_u]])
    adj = dict(units=adj_u, u2adj=u2adj, xy=s_xy, vo=s_vo, area=s_area)
    pw, j0, mm = plan_slices(rng, s_xy, s_vo, np.arange(len(adj_u), dtype=np.int64),
                             sst.cx * 100.0, sst.cy * 100.0, plan.u_k[adj_u])
    n_src = np.diff(s_vo)[pw]
    slices = dict(rows=np.flatnonzero(r.adj), src_xy=s_xy, src_vo=s_vo, src_ring=pw, j0=j0,
                  m=mm, cx=np.round(sst.cx * 100.0)[pw], cy=np.round(sst.cy * 100.0)[pw],
                  n_spoke=n_spoke(n_src), dens=np.zeros(len(pw)), sigma=np.zeros(len(pw)))
    return adj, slices
