"""A self-contained HTML report of two annotation sets: :func:`write_report`.

The report is ONE ``.html`` file with inline CSS and every plot embedded as a base64
``data:image/png`` URI -- no network access (nor any other file) is needed to view it.

Sections (element ids): ``overview``; ``stats`` (the Sama-COCO table of
:func:`cocodiff.stats` for A and B with B - A and B / A); ``classes`` (instances per class,
A vs B); ``sizes`` (size-bucket shares); ``vertices`` (vertices per polygon instance);
``relations`` (rows per relation and class, from :func:`cocodiff.compare`, and the class
changes "dog → cat" with their counts); ``iou`` (IoU and Boundary IoU histograms of matched
pairs, and their means per class); ``examples`` (per relation -- ``ex-split``, ``ex-merged``,
``ex-class_changed``, ``ex-removed``, ``ex-added``, ``ex-matched`` -- up to ``examples`` crops
around the instances, deterministic: the largest wholes / instances, one per image and class
first, the matched pairs of lowest IoU; a split shows its whole and all its parts, a merge
likewise; each with its class names and IoU / group IoU); ``gallery`` (the ``top`` most
changed images of the comparison summary's ranking, A and B outlines in two colours, a
numbered marker per pair, instance or split / merge group coloured by relation, and a legend
table of the numbers: relation, class names, IoU / group IoU, annotation ids). Images are
drawn over the image file when ``images_dir`` has it, else over a blank canvas of the image's
size; when ``images_dir`` holds none of the files looked for, a notice at the top of the page
(and a logged warning) says so and names the files.

Charts are drawn with matplotlib (a dependency) on its Agg canvas, without pyplot: no
global backend is set and nothing is shown on screen; their margins are measured, not
laid out by matplotlib's constrained layout (which costs as much as the drawing). The gallery
and the crops are drawn with Pillow (two-times supersampled, then reduced): far faster than
a matplotlib figure per image, and no text on the pictures but the markers' numbers. The
page is filled into the ``templates/report.html`` package file with :class:`string.Template`.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import logging
import os
from importlib import resources
from pathlib import Path
from string import Template

import numpy as np

from ._io import write_bytes_atomic
from .conventions import LARGE_AREA, SMALL_AREA, VERY_SMALL_AREA
from .dataset import KIND_POLYGON, Dataset

__all__ = ["write_report", "render_report", "load_comparison", "ReportDependencyError", "COLOR_A", "COLOR_B"]

log = logging.getLogger(__name__)

#: outline / bar colour of side A (reference) and side B
COLOR_A = "#1f6fd1"
COLOR_B = "#e8590c"
_REL_COLORS = {"matched": "#2f9e44", "split": "#7048e8", "merged": "#d6336c", "class_changed": "#f59f00",
               "removed": "#495057", "added": "#1098ad"}
_INSTALL_HINT = "matplotlib is needed for reports: pip install cocodiff[report]"
_SIZE_BUCKETS = [("very small (area <= 100)", None, VERY_SMALL_AREA, True),
                 ("small (100 < area < 32^2)", VERY_SMALL_AREA, SMALL_AREA, False),
                 ("medium (32^2 <= area < 96^2)", SMALL_AREA, LARGE_AREA, False),
                 ("large (area >= 96^2)", LARGE_AREA, None, False)]


class ReportDependencyError(ImportError):
    """matplotlib (a dependency, also behind the ``[report]`` extra) is not installed."""


def _mpl():
    """Import matplotlib's Figure (Agg canvas, no pyplot) or raise :class:`ReportDependencyError`."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ReportDependencyError(_INSTALL_HINT) from e
    return Figure, FigureCanvasAgg


# ------------------------------------------------------------------------------ helpers

def _esc(x) -> str:
    return html.escape(str(x), quote=True)


def _png(fig, dpi=100) -> str:
    """Render a Figure to an ``<img>`` tag with a base64 PNG data URI."""
    _, Canvas = _mpl()
    Canvas(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(fig, alt, dpi=100) -> str:
    return f'<img class="plot" alt="{_esc(alt)}" src="{_png(fig, dpi)}">'


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return "-"
        return f"{v:.3f}"
    return f"{int(v):,}"


def _text_w(fig, labels, size=10.0) -> float:
    """Width in inches of the widest of ``labels`` at font ``size`` (points), measured by Agg."""
    from matplotlib.font_manager import FontProperties

    labels = sorted((str(x) for x in labels), key=len, reverse=True)[:6]
    if not labels:
        return 0.0
    _, Canvas = _mpl()
    r = Canvas(fig).get_renderer()
    prop = FontProperties(size=size)
    return 1.06 * max(r.get_text_width_height_descent(x, prop, ismath=False)[0] for x in labels) / r.dpi


def _margins(fig, left, bottom, right=0.2, top=0.15, wspace=None):
    """Fixed margins in inches -- measured labels instead of constrained layout, which costs about as
    much as drawing the figure (it lays every tick label out twice)."""
    w, h = fig.get_size_inches()
    fig.subplots_adjust(left=min(left / w, 0.6), right=1 - right / w, bottom=min(bottom / h, 0.6), top=1 - top / h,
                        wspace=wspace)


def _y_tick_w(fig, vmax, log=False) -> float:
    """Width of the y tick labels of an axis reaching ``vmax`` (linear: the longest integer; log: 10^k)."""
    if log:
        return _text_w(fig, ["10000"], 9.0)
    return _text_w(fig, [f"{vmax * 1.05:.0f}", "0.0"], 10.0)


def _table(header, rows, num_from=1, cls=None) -> str:
    """HTML table; columns from ``num_from`` on are right-aligned. Cells are pre-escaped strings
    or numbers; a cell may be a ``(text, css_class)`` pair."""
    out = ['<table>' if cls is None else f'<table class="{cls}">', "<thead><tr>"]
    for j, h in enumerate(header):
        out.append(f'<th class="num">{_esc(h)}</th>' if j >= num_from else f"<th>{_esc(h)}</th>")
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>")
        for j, c in enumerate(r):
            css = "num" if j >= num_from else ""
            if isinstance(c, tuple):
                c, extra = c
                css = (css + " " + extra).strip()
            text = c if isinstance(c, str) else _fmt(c)
            out.append(f'<td class="{css}">{text}</td>' if css else f"<td>{text}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _diff_cell(a, b):
    d = b - a
    return (f"{d:+,}", "pos" if d > 0 else ("neg" if d < 0 else ""))


def _ratio(a, b) -> str:
    return f"{b / a:.3f}" if a else ("-" if b == 0 else "inf")


def _as_dataset(x, like=None) -> Dataset:
    if isinstance(x, Dataset):
        return x
    from .loader import load
    return load(x, like=like)


# ------------------------------------------------------------------------------ sections

def _overview(A, B, summ) -> str:
    rel = summ["relations"]
    m = summ["matched"]
    im = summ["images"]
    kpis = [(f"{A.n_instances:,}", "instances in A"), (f"{B.n_instances:,}", "instances in B")]
    kpis += [(f"{rel[r]:,}", r.replace("_", " ")) for r in rel]
    if m.get("mean_iou") is not None:
        kpis.append((f"{m['mean_iou']:.3f}", "mean IoU (matched)"))
    if m.get("mean_boundary_iou") is not None:
        kpis.append((f"{m['mean_boundary_iou']:.3f}", "mean Boundary IoU (matched)"))
    parts = ['<div class="kpis">']
    parts += [f'<div class="kpi"><b>{_esc(v)}</b><span>{_esc(k)}</span></div>' for v, k in kpis]
    parts.append("</div>")
    p = summ.get("params", {})
    parts.append(f'<p class="note">Images: {im["a_images"]:,} in A, {im["b_images"]:,} in B, {im["common"]:,} compared; '
                 f'{im["only_a"]:,} only in A, {im["only_b"]:,} only in B, {im["size_mismatch"]:,} with different sizes. '
                 f'Matching: IoU threshold {_esc(p.get("iou_threshold", "-"))}, cover threshold '
                 f'{_esc(p.get("cover_threshold", "-"))}, mode {_esc(p.get("mode", "-"))}.</p>')
    return "\n".join(parts)


def _stats_section(st) -> str:
    from .statistics import table_rows

    rows = []
    for label, (a, b), comparable in table_rows(st):
        rows.append([_esc(label), a, b, _diff_cell(a, b) if comparable else "",
                     _ratio(a, b) if comparable else ""])
    return _table(["", "A", "B", "B - A", "B / A"], rows) + (
        '<p class="note">Sizes use the files\' <code>area</code> field (crowds included); '
        '"very small" is part of "small". "classes with more objects": classes where A (B) has more instances.</p>')


def _short(names, n=14):
    return [s if len(s) <= n else s[: n - 1] + "\u2026" for s in names]


def _classes_section(st) -> str:
    Figure, _ = _mpl()
    pc = st["per_class"]
    pc = [r for r in pc if r["datasets"][0]["instances"] or r["datasets"][1]["instances"]]
    if not pc:
        return '<p class="note">No instances.</p>'
    names = [r["name"] or str(r["id"]) for r in pc]
    a = np.array([r["datasets"][0]["instances"] for r in pc], float)
    b = np.array([r["datasets"][1]["instances"] for r in pc], float)
    k = len(pc)
    fig = Figure(figsize=(max(8.0, min(13.0, 0.16 * k + 2)), 4.4))
    ax = fig.add_subplot()
    x = np.arange(k)
    ax.bar(x - 0.2, a, 0.4, color=COLOR_A, label="A")
    ax.bar(x + 0.2, b, 0.4, color=COLOR_B, label="B")
    top = max(a.max(), b.max())
    pos = np.concatenate([a[a > 0], b[b > 0]])
    logy = pos.size and top / max(np.median(pos), 1) > 30
    if logy:
        ax.set_yscale("log")
    fs, short = (7 if k > 40 else 8), _short(names)
    ax.set_xticks(x, short, rotation=90, fontsize=fs)
    ax.set_xlim(-0.7, k - 0.3)
    _margins(fig, left=_y_tick_w(fig, top, logy) + 0.5, bottom=_text_w(fig, short, fs) + 0.3, right=0.15, top=0.12)
    ax.set_ylabel("instances" + (" (log scale)" if logy else ""))
    ax.legend(loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    rows = [[_esc(r["id"]), _esc(nm), int(ai), int(bi), _diff_cell(int(ai), int(bi)), _ratio(ai, bi)]
            for r, nm, ai, bi in zip(pc, names, a, b)]
    tab = _table(["id", "class", "A", "B", "B - A", "B / A"], rows, num_from=2)
    return (_img(fig, "instances per class, A vs B") +
            f'<details><summary>table of {k} classes</summary><div class="scroll">{tab}</div></details>')


def _bucket_shares(area) -> np.ndarray:
    a = np.asarray(area, float)
    a = a[~np.isnan(a)]
    out = []
    for _, lo, hi, incl in _SIZE_BUCKETS:
        sel = np.ones(a.shape, bool)
        if lo is not None:
            sel &= (a > lo) if lo == 100.0 else (a >= lo)
        if hi is not None:
            sel &= (a <= hi) if incl else (a < hi)
        out.append(np.count_nonzero(sel))
    out = np.array(out, float)
    return out / max(a.size, 1), out.astype(int)


def _sizes_section(A, B) -> str:
    Figure, _ = _mpl()
    sa, ca = _bucket_shares(A.area)
    sb, cb = _bucket_shares(B.area)
    fig = Figure(figsize=(8.5, 3.2))
    ax = fig.add_subplot()
    y = np.arange(len(_SIZE_BUCKETS))
    ax.barh(y - 0.2, sa * 100, 0.4, color=COLOR_A, label="A")
    ax.barh(y + 0.2, sb * 100, 0.4, color=COLOR_B, label="B")
    for yy, v in zip(y, sa):
        ax.text(v * 100 + 0.5, yy - 0.2, f"{v * 100:.1f}%", va="center", fontsize=8)
    for yy, v in zip(y, sb):
        ax.text(v * 100 + 0.5, yy + 0.2, f"{v * 100:.1f}%", va="center", fontsize=8)
    ax.set_yticks(y, [b[0] for b in _SIZE_BUCKETS])
    _margins(fig, left=_text_w(fig, [b[0] for b in _SIZE_BUCKETS]) + 0.3, bottom=0.6, top=0.12)
    ax.invert_yaxis()
    ax.set_xlabel("share of instances (%)")
    ax.set_xlim(0, max(sa.max(), sb.max(), 0.01) * 100 * 1.18)
    ax.legend(loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    rows = [[_esc(b[0]), int(x), f"{s * 100:.1f}%", int(z), f"{t * 100:.1f}%"]
            for b, x, s, z, t in zip(_SIZE_BUCKETS, ca, sa, cb, sb)]
    return (_img(fig, "size bucket shares") + _table(["bucket", "A", "A share", "B", "B share"], rows) +
            '<p class="note">Disjoint buckets of the files\' <code>area</code> field (crowds included).</p>')


def _vertices_section(A, B) -> str:
    Figure, _ = _mpl()
    va = A.n_points()[A.kind == KIND_POLYGON]
    vb = B.n_points()[B.kind == KIND_POLYGON]
    notes = []
    for name, ds, v in (("A", A, va), ("B", B, vb)):
        n_rle = int(np.count_nonzero(ds.kind != KIND_POLYGON))
        if v.size:
            notes.append(f"{name}: {v.size:,} polygon instances, mean {v.mean():.1f}, median {np.median(v):.0f} "
                         f"vertices (max {int(v.max()):,}); {n_rle:,} RLE instances (no vertices).")
        else:
            notes.append(f"{name}: no polygon instances ({n_rle:,} RLE instances have no vertices).")
    note = "<p class=\"note\">" + "<br>".join(_esc(s) for s in notes) + "</p>"
    if not (va.size or vb.size):
        return note
    allv = np.concatenate([va, vb])
    hi = max(int(allv.max()), 4)
    lo = max(int(allv.min()), 1)
    bins = np.unique(np.round(np.geomspace(lo, hi + 1, 40))) if hi + 1 > lo + 1 else np.array([lo - 0.5, lo + 0.5])
    fig = Figure(figsize=(8.5, 3.4))
    ax = fig.add_subplot()
    for v, c, lab in ((va, COLOR_A, "A"), (vb, COLOR_B, "B")):
        if v.size:
            w = np.full(v.size, 100.0 / v.size)
            ax.hist(np.maximum(v, 1), bins=bins, weights=w, histtype="stepfilled", alpha=0.35, color=c)
            ax.hist(np.maximum(v, 1), bins=bins, weights=w, histtype="step", lw=1.6, color=c, label=f"{lab} (n={v.size:,})")
    ax.set_xscale("log")
    ax.set_xlabel("stored vertices per polygon instance (log scale)")
    _margins(fig, left=_y_tick_w(fig, 100.0) + 0.5, bottom=0.65, top=0.12)
    ax.set_ylabel("% of polygon instances")
    ax.legend()
    ax.grid(alpha=0.3)
    return _img(fig, "vertices per instance") + note


def _relations_section(summ) -> str:
    from .matching import RELATIONS

    Figure, _ = _mpl()
    pc = [r for r in summ["per_class"] if sum(r[k] for k in RELATIONS)]
    if not pc:
        return '<p class="note">No rows.</p>'
    tot = np.array([sum(r[k] for k in RELATIONS) for r in pc])
    order = np.argsort(-tot, kind="stable")
    shown = [pc[i] for i in order[:30]]
    k = len(shown)
    fig = Figure(figsize=(9.5, 0.26 * k + 1.3))
    ax = fig.add_subplot()
    y = np.arange(k)
    left = np.zeros(k)
    for rname in RELATIONS:
        v = np.array([r[rname] for r in shown], float)
        ax.barh(y, v, left=left, color=_REL_COLORS[rname], label=rname.replace("_", " "), height=0.75)
        left += v
    labels = _short([r["name"] or str(r["category_id"]) for r in shown], 18)
    ax.set_yticks(y, labels, fontsize=8)
    _margins(fig, left=_text_w(fig, labels, 8) + 0.3, bottom=0.6, top=0.12)
    ax.invert_yaxis()
    ax.set_xlabel("rows (A's class; B's for added)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    title = f"the {k} classes with most rows" if len(pc) > k else "all classes"
    rows = []
    for r in pc:
        rows.append([_esc(r["category_id"]), _esc(r["name"])] + [r[x] for x in RELATIONS] + [
            "-" if r.get("mean_iou") is None else f"{r['mean_iou']:.3f}"])
    tab = _table(["id", "class", *RELATIONS, "mean IoU"], rows, num_from=2)
    totals = summ["relations"]
    tot_tab = _table(["relation", "rows"], [[_esc(x), totals[x]] for x in RELATIONS])
    return (f"<h3>Totals</h3>{tot_tab}<h3>Per class ({_esc(title)})</h3>" + _img(fig, "relations per class") +
            f'<details><summary>table of {len(pc)} classes</summary><div class="scroll">{tab}</div></details>')


def _class_changes(R, A, B, k_max=15) -> str:
    """Table of the most frequent class changes ``A class → B class`` with their mean IoU."""
    sel = np.flatnonzero(R.rel == "class_changed")
    if not sel.size:
        return '<h3 id="class-changes">Class changes</h3><p class="note">No class changes.</p>'
    pairs, inv, cnt = np.unique(np.stack([R.a_cat[sel], R.b_cat[sel]], axis=1), axis=0, return_inverse=True,
                                return_counts=True)
    inv = inv.ravel()
    iou = np.nan_to_num(R.iou[sel])
    m_iou = np.bincount(inv, weights=iou) / cnt
    order = np.lexsort((pairs[:, 1], pairs[:, 0], -cnt))
    rows = [[_esc(f"{A.name(pairs[i, 0])} \u2192 {B.name(pairs[i, 1])}"), int(cnt[i]), float(m_iou[i])]
            for i in order]
    head = ["class change (A \u2192 B)", "rows", "mean IoU"]
    out = (f'<h3 id="class-changes">Class changes (A \u2192 B): {sel.size:,} rows, {len(pairs):,} different changes'
           f'</h3>' + _table(head, rows[:k_max]))
    if len(rows) > k_max:
        out += (f'<details><summary>all {len(rows)} class changes</summary><div class="scroll">'
                f'{_table(head, rows)}</div></details>')
    return out


def _col(table, name, dtype=np.float64, fill=np.nan):
    """A numeric column of the comparison table as numpy (nulls -> NaN, or ``fill`` for ints)."""
    if name == "relation":
        return np.asarray(table.column(name).to_pylist(), dtype=object)
    arr = np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)
    if dtype is not np.float64:
        arr = np.where(np.isnan(arr), fill, arr).astype(dtype)
    return arr


def _iou_section(cmp, names) -> str:
    Figure, _ = _mpl()
    t = cmp.table
    rel = _col(t, "relation")
    m = rel == "matched"
    iou = _col(t, "iou")[m]
    biou = _col(t, "boundary_iou")[m]
    iou = iou[~np.isnan(iou)]
    biou = biou[~np.isnan(biou)]
    if not iou.size:
        return '<p class="note">No matched pairs.</p>'
    fig = Figure(figsize=(10, 3.3))
    bins = np.linspace(0, 1, 41)
    yw = _y_tick_w(fig, max(np.histogram(iou, bins)[0].max(), np.histogram(biou, bins)[0].max() if biou.size else 0))
    gap = yw + 0.5 + 0.3
    _margins(fig, left=yw + 0.5, bottom=0.6, top=0.35, right=0.25, wspace=gap / ((10 - yw - 0.75 - gap) / 2))
    for j, (v, lab) in enumerate(((iou, "IoU"), (biou, "Boundary IoU"))):
        ax = fig.add_subplot(1, 2, j + 1)
        if v.size:
            ax.hist(v, bins=bins, color=_REL_COLORS["matched"], alpha=0.85)
            ax.axvline(float(np.mean(v)), color="#222", lw=1, ls="--")
            ax.set_title(f"{lab}: n={v.size:,}, mean {np.mean(v):.3f}, median {np.median(v):.3f}", fontsize=10)
        else:
            ax.set_title(f"{lab}: not computed", fontsize=10)
        ax.set_xlim(0, 1)
        ax.set_xlabel(lab)
        ax.set_ylabel("matched pairs")
        ax.grid(alpha=0.3)
    return _img(fig, "IoU and Boundary IoU histograms") + (
        '<p class="note">IoU: pycocotools\' value with A as ground truth (crowd rule). '
        'Dashed line: mean.</p>') + _per_class_iou(cmp, names)


def _per_class_iou(cmp, names, k_max=25) -> str:
    """Mean IoU and mean Boundary IoU of the matched pairs per class (the ``k_max`` classes with most pairs)."""
    Figure, _ = _mpl()
    t = cmp.table
    m = _col(t, "relation") == "matched"
    cat = _col(t, "a_category_id", np.int64, -1)[m]
    iou = _col(t, "iou")[m]
    biou = _col(t, "boundary_iou")[m]
    ok = ~np.isnan(iou)
    cat, iou, biou = cat[ok], iou[ok], biou[ok]
    if not cat.size:
        return ""
    ids, inv, cnt = np.unique(cat, return_inverse=True, return_counts=True)
    s_iou = np.bincount(inv, weights=iou)
    has_b = ~np.isnan(biou)
    s_b = np.bincount(inv, weights=np.where(has_b, biou, 0.0), minlength=ids.size)
    n_b = np.bincount(inv, weights=has_b.astype(float), minlength=ids.size)
    m_iou = s_iou / cnt
    with np.errstate(invalid="ignore", divide="ignore"):
        m_b = np.where(n_b > 0, s_b / np.maximum(n_b, 1), np.nan)
    nm = [names.get(int(c)) or str(int(c)) for c in ids]
    order = np.lexsort((ids, -cnt))
    shown = order[:k_max]
    k = shown.size
    fig = Figure(figsize=(9.5, 0.24 * k + 1.2))
    ax = fig.add_subplot()
    y = np.arange(k)
    vi, vb = m_iou[shown], m_b[shown]
    ax.hlines(y, np.fmin(vi, np.nan_to_num(vb, nan=1.0)), np.fmax(vi, np.nan_to_num(vb, nan=0.0)), color="#ced4da",
              lw=2, zorder=1)
    ax.scatter(vi, y, s=36, color=_REL_COLORS["matched"], label="mean IoU", zorder=3)
    if np.any(n_b[shown] > 0):
        ax.scatter(vb, y, s=36, color="#343a40", marker="D", label="mean Boundary IoU", zorder=3)
    lo = float(np.nanmin(np.concatenate([vi, vb]))) if k else 0.0
    ax.set_xlim(max(0.0, np.floor((lo - 0.02) * 20) / 20), 1.0)
    ax.set_ylim(k - 0.5, -0.5)
    labels = [f"{lab} (n={int(c):,})" for lab, c in zip(_short([nm[i] for i in shown], 18), cnt[shown])]
    ax.set_yticks(y, labels, fontsize=8)
    _margins(fig, left=_text_w(fig, labels, 8) + 0.3, bottom=0.6, top=0.4)
    ax.set_xlabel("mean over the class's matched pairs (A's class)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    title = f"the {k} classes with most matched pairs" if ids.size > k else "all classes"
    rows = [[_esc(int(ids[i])), _esc(nm[i]), int(cnt[i]), float(m_iou[i]), float(m_b[i])] for i in order]
    tab = _table(["id", "class", "matched pairs", "mean IoU", "mean Boundary IoU"], rows, num_from=2)
    return (f'<h3 id="iou-per-class">Per class: mean IoU and Boundary IoU ({_esc(title)})</h3>'
            + _img(fig, "mean IoU and Boundary IoU per class") +
            f'<details><summary>table of {ids.size} classes</summary><div class="scroll">{tab}</div></details>')


# ------------------------------------------------------------------------------ instances, names, units

#: relations in the order the examples and legends show them
_REL_ORDER = ("split", "merged", "class_changed", "removed", "added", "matched")
_REL_TITLE = {"matched": "matched", "split": "split", "merged": "merged", "class_changed": "class changed",
              "removed": "removed", "added": "added"}
_REL_HELP = {
    "split": "one A instance (the whole, solid blue) drawn as several B instances (its parts, orange) -- "
             "the largest wholes",
    "merged": "several A instances (the parts, solid blue) drawn as one B instance (the whole, orange) -- "
              "the largest wholes",
    "class_changed": "the same object (IoU at or above the threshold) with another class in B -- the largest, "
                     "one per class change first",
    "removed": "A instances with no counterpart in B -- the largest",
    "added": "B instances with no counterpart in A -- the largest",
    "matched": "matched pairs with the lowest IoU (instances of at least 32x32 pixels first)",
}
_SS = 2                 # supersampling of the drawn views (lines and markers antialiased by the reduction)
_GALLERY_SIDE = 640     # longer side of a gallery image, px
_CROP_SIDE = 200        # longer side of an example crop, px
_BLANK = "#f1f3f5"
_BLANK_EDGE = "#adb5bd"


def _outlines(ds: Dataset, i: int):
    """Closed outlines of instance row ``i`` as a list of (k, 2) x/y arrays (image pixels)."""
    if ds.kind[i] == KIND_POLYGON:
        r0, r1 = int(ds.inst_ring_offsets[i]), int(ds.inst_ring_offsets[i + 1])
        ro = ds.ring_offsets
        return [ds.xy[int(ro[r]):int(ro[r + 1])] for r in range(r0, r1) if ro[r + 1] - ro[r] >= 2]
    import contourpy  # a matplotlib dependency (lighter than skimage + scipy)

    from .engine.rle import rle_decode

    h, w = int(ds.rle_h[i]), int(ds.rle_w[i])
    if h <= 0 or w <= 0:
        h, w = int(ds.height[ds.img_row[i]]), int(ds.width[ds.img_row[i]])
    c = np.ascontiguousarray(ds.counts[int(ds.counts_offsets[i]):int(ds.counts_offsets[i + 1])], dtype=np.uint32)
    mask = np.asarray(rle_decode(c, h, w))
    if not mask.any():
        return []
    # contours of the mask's bounding crop only (fast on large images), padded by one pixel
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    y0, x0 = int(rows[0]), int(cols[0])
    sub = mask[y0:int(rows[-1]) + 1, x0:int(cols[-1]) + 1]
    padded = np.pad(sub, 1).astype(np.float32)
    # contour (x, y) of the padded crop -> pixel-centre coordinates (x + 0.5, y + 0.5)
    lines = contourpy.contour_generator(z=padded, line_type="Separate").lines(0.5)
    return [np.asarray(cc, np.float64) + (x0 - 0.5, y0 - 0.5) for cc in lines if len(cc) >= 2]


def _rows_of_image(ds: Dataset, image_id: int):
    r = int(np.searchsorted(ds.image_id, image_id))
    if r >= ds.n_images or ds.image_id[r] != image_id:
        return None, np.zeros(0, np.int64)
    lo, hi = np.searchsorted(ds.img_row, [r, r + 1])
    return r, np.arange(lo, hi, dtype=np.int64)


class _Side:
    """One dataset of the report: category names, instance rows by (image, annotation id), outlines (cached)."""

    def __init__(self, ds: Dataset, names: dict):
        self.ds = ds
        self.names = names
        self._rows = {}
        self._outl = {}

    def name(self, cat) -> str:
        if cat is None or cat < 0:
            return "?"
        return self.names.get(int(cat)) or str(int(cat))

    def rows(self, image_id):
        m = self._rows.get(image_id)
        if m is None:
            _, rows = _rows_of_image(self.ds, image_id)
            m = {int(self.ds.ann_id[i]): int(i) for i in rows}
            self._rows[image_id] = m
        return m

    def outlines(self, image_id, ann_id):
        i = self.rows(image_id).get(int(ann_id))
        if i is None:
            return []
        o = self._outl.get(i)
        if o is None:
            o = self._outl[i] = _outlines(self.ds, i)
        return o


def _names(ds, meta_cats) -> dict:
    names = {int(k): str(v) for k, v in (meta_cats or {}).items()}
    if ds is not None:
        names.update({int(c): str(n) for c, n in zip(ds.cat_id, ds.cat_name) if n is not None and str(n)})
    return names


class _Rows:
    """The comparison table as numpy columns (null ids -> -1, null measures -> NaN)."""

    def __init__(self, table):
        # numpy only: pyarrow.compute.fill_null imports pandas (~0.2 s)
        def ints(name):
            return _col(table, name, np.int64, -1)

        def valid(name):
            return ~np.isnan(_col(table, name))

        self.n = table.num_rows
        self.image = ints("image_id")
        self.a_id, self.b_id = ints("a_id"), ints("b_id")
        self.has_a, self.has_b = valid("a_id"), valid("b_id")
        self.a_cat, self.b_cat = ints("a_category_id"), ints("b_category_id")
        self.group = ints("group")
        for name in ("a_iscrowd", "b_iscrowd"):
            v = table.column(name).to_numpy(zero_copy_only=False)
            setattr(self, name, np.asarray(np.equal(v, True) if v.dtype == object else v, bool))  # nulls: False
        self.rel = np.asarray(table.column("relation").to_pylist(), dtype=object)
        for name in ("group_iou", "part_share", "iou", "boundary_iou", "a_area", "b_area"):
            setattr(self, name, _col(table, name))
        self.order = np.argsort(self.image, kind="stable")
        self._simg = self.image[self.order]

    def of_image(self, image_id):
        lo, hi = np.searchsorted(self._simg, [image_id, image_id + 1])
        return self.order[lo:hi]


def _ordered_unique(values):
    out, seen = [], set()
    for v in values:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def _count_names(names):
    """``["person", "person", "bike"]`` -> ``"2 × person, bike"``."""
    cnt = {}
    for n in names:
        cnt[n] = cnt.get(n, 0) + 1
    return ", ".join(f"{c} \u00d7 {n}" if c > 1 else n for n, c in cnt.items())


class _Unit:
    """One relation "event": a matched / class-changed pair, a removed / added instance, or a whole
    split / merge group (one whole and all its parts)."""

    def __init__(self, R: _Rows, rows, A: _Side, B: _Side):
        j0 = int(rows[0])
        self.rel = str(R.rel[j0])
        self.image_id = int(R.image[j0])
        self.rows = [int(j) for j in rows]
        self.a_ids = _ordered_unique(int(R.a_id[j]) for j in rows if R.has_a[j])
        self.b_ids = _ordered_unique(int(R.b_id[j]) for j in rows if R.has_b[j])
        a_cat = {int(R.a_id[j]): int(R.a_cat[j]) for j in rows if R.has_a[j]}
        b_cat = {int(R.b_id[j]): int(R.b_cat[j]) for j in rows if R.has_b[j]}
        a_crowd = {int(R.a_id[j]): bool(R.a_iscrowd[j]) for j in rows if R.has_a[j]}
        b_crowd = {int(R.b_id[j]): bool(R.b_iscrowd[j]) for j in rows if R.has_b[j]}
        self.a_names = [A.name(a_cat[i]) + (" (crowd)" if a_crowd[i] else "") for i in self.a_ids]
        self.b_names = [B.name(b_cat[i]) + (" (crowd)" if b_crowd[i] else "") for i in self.b_ids]
        self.iou = float(R.iou[j0])
        self.biou = float(R.boundary_iou[j0])
        self.giou = float(R.group_iou[j0])
        self.shares = [float(R.part_share[j]) for j in rows]
        self.a_area = float(R.a_area[j0]) if R.has_a[j0] else np.nan
        self.b_area = float(R.b_area[j0]) if R.has_b[j0] else np.nan

    # -- text
    def classes(self) -> str:
        """Class names: ``"dog → cat"`` for a class change, ``"person → 3 × person"`` for a split."""
        a, b = self.a_names, self.b_names
        if self.rel == "class_changed":
            return f"{a[0]} \u2192 {b[0]}"
        if self.rel == "split":
            return f"{a[0]} \u2192 {_count_names(b)}"
        if self.rel == "merged":
            return f"{_count_names(a)} \u2192 {b[0]}"
        return (a or b or ["?"])[0]

    def label(self) -> str:
        """``"class changed: dog → cat"``."""
        return f"{_REL_TITLE.get(self.rel, self.rel)}: {self.classes()}"

    def measure(self) -> str:
        if self.rel in ("split", "merged"):
            return "-" if np.isnan(self.giou) else f"group IoU {self.giou:.3f}"
        if self.rel in ("matched", "class_changed"):
            s = "-" if np.isnan(self.iou) else f"IoU {self.iou:.3f}"
            if not np.isnan(self.biou):
                s += f", Boundary IoU {self.biou:.3f}"
            return s
        area = self.a_area if self.rel == "removed" else self.b_area
        return "-" if np.isnan(area) else f"area {int(area):,} px"

    def ids(self, k=4) -> str:
        def some(ids):
            return (", ".join(str(i) for i in ids[:k]) + (f" \u2026 (+{len(ids) - k})" if len(ids) > k else "")) or "-"
        return f"A {some(self.a_ids)} \u2192 B {some(self.b_ids)}"

    # -- drawing
    def layers(self, A: _Side, B: _Side):
        """[(rings, colour, width)] of the unit's instances: A under B."""
        ra = [r for i in self.a_ids for r in A.outlines(self.image_id, i)]
        rb = [r for i in self.b_ids for r in B.outlines(self.image_id, i)]
        return [(ra, COLOR_A, 3.5), (rb, COLOR_B, 1.75)]

    def anchor_rings(self, A: _Side, B: _Side):
        """The rings a marker points at: the whole of a group, else the A instance (B for added)."""
        if self.rel == "merged" or not self.a_ids:
            return B.outlines(self.image_id, self.b_ids[0]) if self.b_ids else []
        return A.outlines(self.image_id, self.a_ids[0])


def _units_of_image(R: _Rows, image_id, A, B):
    """The units of one image (a split / merge group is one unit), in table order."""
    groups, units = {}, []
    for j in R.of_image(image_id):
        rel = R.rel[j]
        if rel in ("split", "merged") and R.group[j] >= 0:
            key = (rel, int(R.group[j]))
            if key in groups:
                groups[key].append(j)
                continue
            groups[key] = lst = [j]
            units.append(lst)
        else:
            units.append([j])
    return [_Unit(R, rows, A, B) for rows in units]


# ------------------------------------------------------------------------------ image files

class _ImageFiles:
    """Looks image files up in ``images_dir`` (``file_name``, then its base name), once per name."""

    def __init__(self, images_dir):
        self.dir = None if images_dir is None else Path(images_dir)
        self._path = {}
        self._pix = {}

    def path(self, file_name):
        if self.dir is None or not file_name:
            return None
        if file_name not in self._path:
            found = None
            for cand in (self.dir / file_name, self.dir / Path(file_name).name):
                if cand.is_file():
                    found = cand
                    break
            self._path[file_name] = found
        return self._path[file_name]

    @property
    def looked(self):
        return list(self._path)

    @property
    def n_found(self):
        return sum(p is not None for p in self._path.values())

    def pixels(self, file_name):
        """(RGB array or None, note HTML or "")."""
        if self.dir is None:
            return None, ""
        p = self.path(file_name)
        if p is None:
            log.info("report: image %s not found in %s", file_name, self.dir)
            return None, (f'<span class="missing">image file {_esc(file_name or "(no file_name)")} not found in '
                          f'{_esc(self.dir)}: blank canvas.</span> ')
        if p not in self._pix:
            try:
                self._pix[p] = (_load_pixels(p), "")
            except Exception as e:  # unreadable image: degrade to the blank canvas
                log.warning("report: cannot read %s: %s", p, e)
                self._pix[p] = (None, (f'<span class="missing">image file {_esc(p)} unreadable '
                                       f'({_esc(type(e).__name__)}): blank canvas.</span> '))
        return self._pix[p]

    def notice(self):
        """(HTML, plain text) when a folder was given and none of the files looked for is in it."""
        if self.dir is None or not self._path or self.n_found:
            return "", ""
        names = self.looked
        shown = ", ".join(names[:5]) + (f" \u2026 ({len(names)} in all)" if len(names) > 5 else "")
        try:
            held = sorted(e.name for e in os.scandir(self.dir))
        except OSError:
            held = []
        has = ("it holds " + ", ".join(held[:3]) + (" \u2026" if len(held) > 3 else "")) if held else "it is empty"
        text = (f"no image file was found in {self.dir} (--images): looked for {shown} "
                f"(as DIR/file_name and DIR/base name); {has}. Outlines are drawn on blank canvases.")
        return f'<p class="notice" id="images-notice">&#9888; {_esc(text[0].upper() + text[1:])}</p>', text


def _load_pixels(path):
    try:
        from PIL import Image
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        import matplotlib.image as mpimg
        return mpimg.imread(path)


# ------------------------------------------------------------------------------ drawing (Pillow)

_FONT = {}


def _font(px):
    """DejaVu Sans Bold (shipped with matplotlib) at ``px`` pixels, else Pillow's default font."""
    if px not in _FONT:
        from PIL import ImageFont
        try:
            import matplotlib
            _FONT[px] = ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" /
                                               "DejaVuSans-Bold.ttf"), px)
        except (OSError, ImportError):  # pragma: no cover - no FreeType / font file
            _FONT[px] = ImageFont.load_default()
    return _FONT[px]


def _draw_view(w, h, box, side, pix, layers, markers=()):
    """Draw a view of an image: the box ``(x0, y0, x1, y1)`` (image pixels) scaled to ``side`` px on its
    longer side, over the image pixels ``pix`` or a blank canvas; ``layers`` are ``(rings, colour, width)``
    outlines; ``markers`` ``(text, colour, rings)`` numbered markers placed next to their rings without
    overlapping each other. Returns ``(PIL image, placed marker boxes)``."""
    from PIL import Image, ImageDraw

    x0, y0, x1, y1 = box
    bw, bh = max(x1 - x0, 1e-3), max(y1 - y0, 1e-3)
    # an extreme aspect ratio (an image 1200 x 1) still gets a view at least 16 px across: the box
    # grows around its centre on its short side
    least = max(bw, bh) * 16.0 / side
    if bh < least:
        y0, y1, bh = y0 - (least - bh) / 2, y1 + (least - bh) / 2, least
    if bw < least:
        x0, x1, bw = x0 - (least - bw) / 2, x1 + (least - bw) / 2, least
    s = side / max(bw, bh)
    W, H = max(round(bw * s), 1), max(round(bh * s), 1)
    S = s * _SS
    if pix is not None:
        ph, pw = pix.shape[:2]
        fx, fy = pw / max(w, 1), ph / max(h, 1)
        im = Image.fromarray(np.ascontiguousarray(pix[..., :3]).astype(np.uint8, copy=False))
        im = im.resize((W * _SS, H * _SS), Image.BILINEAR, box=(x0 * fx, y0 * fy, x1 * fx, y1 * fy))
    else:
        im = Image.new("RGB", (W * _SS, H * _SS), _BLANK)
    d = ImageDraw.Draw(im)
    if pix is None:
        rx0, ry0 = (0 - x0) * S, (0 - y0) * S
        d.rectangle((rx0, ry0, max((w - x0) * S - 1, rx0), max((h - y0) * S - 1, ry0)), outline=_BLANK_EDGE,
                    width=_SS)
    off = np.array([x0, y0])
    for rings, color, width in layers:
        lw = max(round(width * _SS), 1)
        for r in rings:
            if len(r) < 2:
                continue
            p = (np.asarray(r, np.float64) - off) * S
            d.line(np.vstack([p, p[:1]]).ravel().tolist(), fill=color, width=lw)
    placed = []
    if markers:
        font = _font(10 * _SS)
        mh = 15 * _SS
        for text, color, rings in markers:
            tw = d.textlength(text, font=font)
            mw = max(tw + 7 * _SS, mh)
            cands = []
            if rings:
                p = (np.vstack(rings) - off) * S
                top, bot = p[np.argmin(p[:, 1])], p[np.argmax(p[:, 1])]
                lef, rig = p[np.argmin(p[:, 0])], p[np.argmax(p[:, 0])]
                cands = [(top[0], top[1] - mh / 2), (lef[0] - mw / 2, lef[1]), (rig[0] + mw / 2, rig[1]),
                         (bot[0], bot[1] + mh / 2), tuple(p.mean(axis=0))]
            else:
                cands = [(mw / 2, mh / 2)]
            best, best_ov = None, None
            for cx, cy in cands:
                cx = min(max(cx, mw / 2), W * _SS - mw / 2)
                cy = min(max(cy, mh / 2), H * _SS - mh / 2)
                rect = (cx - mw / 2, cy - mh / 2, cx + mw / 2, cy + mh / 2)
                ov = sum(max(0.0, min(rect[2], q[2]) - max(rect[0], q[0])) *
                         max(0.0, min(rect[3], q[3]) - max(rect[1], q[1])) for q in placed)
                if best is None or ov < best_ov:
                    best, best_ov = rect, ov
                if ov == 0:
                    break
            placed.append(best)
            d.rounded_rectangle(best, radius=mh / 2, fill=color, outline="white", width=_SS)
            # centred by the text's box (no anchor=: Pillow's bitmap fallback font has none)
            bx0, by0, bx1, by1 = d.textbbox((0, 0), text, font=font)
            d.text(((best[0] + best[2] - bx1 - bx0) / 2, (best[1] + best[3] - by1 - by0) / 2), text, font=font,
                   fill="white")
    return im.reduce(_SS), placed


def _png_pil(im) -> str:
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _marker_html(num, rel):
    return f'<span class="mk" style="background:{_REL_COLORS.get(rel, "#495057")}">{num}</span>'


# ------------------------------------------------------------------------------ gallery

def _image_info(A, B, image_id):
    ra, _ = _rows_of_image(A, image_id)
    rb, _ = _rows_of_image(B, image_id)
    ds, r = (A, ra) if ra is not None else (B, rb)
    if r is None:
        return 1, 1, ""
    return int(ds.width[r]), int(ds.height[r]), str(ds.file_name[r] or "")


def _gallery_item(ctx, image_id, rank, entry):
    """One ``<figure>`` of the gallery: A and B outlines on the image (or a blank canvas), a numbered
    marker per unit (pair, instance or group) and the legend table of the numbers."""
    A, B = ctx["A"], ctx["B"]
    w, h, file_name = _image_info(A.ds, B.ds, image_id)
    pix, note = ctx["files"].pixels(file_name)
    units = _units_of_image(ctx["R"], image_id, A, B)
    rank_of = {r: k for k, r in enumerate(_REL_ORDER)}
    rings = [u.anchor_rings(A, B) for u in units]

    def pos(k):
        if not rings[k]:
            return (0.0, 0.0)
        p = np.vstack(rings[k])
        return (float(p[:, 1].min()), float(p[:, 0].min()))

    order = sorted(range(len(units)), key=lambda k: (rank_of.get(units[k].rel, 9), pos(k)))
    a_ids = {i for u in units for i in u.a_ids}
    b_ids = {i for u in units for i in u.b_ids}
    # every instance of the image (also those without a row, e.g. an image only in one file)
    for side, ids in ((A, a_ids), (B, b_ids)):
        ids.update(side.rows(image_id))
    ra = [r for i in sorted(a_ids) for r in A.outlines(image_id, i)]
    rb = [r for i in sorted(b_ids) for r in B.outlines(image_id, i)]
    n_drawn = (sum(1 for i in a_ids if A.outlines(image_id, i)), sum(1 for i in b_ids if B.outlines(image_id, i)))
    markers = [(str(n), _REL_COLORS.get(units[k].rel, "#495057"), rings[k]) for n, k in enumerate(order, 1)]
    im, _ = _draw_view(w, h, (0, 0, w, h), _GALLERY_SIDE, pix, [(ra, COLOR_A, 3.5), (rb, COLOR_B, 1.5)], markers)
    leg = []
    for n, k in enumerate(order, 1):
        u = units[k]
        leg.append([_marker_html(n, u.rel), _esc(_REL_TITLE.get(u.rel, u.rel)), _esc(u.classes()), _esc(u.measure()),
                    _esc(u.ids())])
    legend = _table(["#", "relation", "classes", "IoU / group IoU", "annotation ids"], leg, num_from=9, cls="legend")
    counts = ", ".join(f"{k}={v}" for k, v in entry.items() if k in ("non_matched", "matched"))
    miou = entry.get("mean_iou")
    cap = (f"<b>#{rank} image {_esc(image_id)}</b> {_esc(file_name)} ({w}x{h}) &middot; {_esc(counts)}"
           + (f", mean IoU {miou:.3f}" if miou is not None else "")
           + f" &middot; score {entry.get('score', 0):.2f} &middot; outlines: A {n_drawn[0]}, B {n_drawn[1]}<br>{note}")
    return (f'<figure id="img-{_esc(image_id)}" data-image-id="{_esc(image_id)}">'
            f'<img alt="image {_esc(image_id)}: A and B outlines, numbered markers" src="{_png_pil(im)}">'
            f'<figcaption>{cap}</figcaption><div class="legend-wrap">{legend}</div></figure>')


def _gallery_section(ctx, summ, top) -> str:
    most = summ["most_changed"][:top]
    if not most:
        return '<p class="note">No images to show.</p>'
    items = [_gallery_item(ctx, int(entry["image_id"]), rank, entry) for rank, entry in enumerate(most, 1)]
    n_missing = sum('class="missing"' in it for it in items)
    images_dir = ctx["files"].dir
    head = (f'<p class="note">The {len(most)} images ranked highest by non-matched rows + (1 - mean IoU of '
            f'matched rows). <span style="color:{COLOR_A}">&#9632; A outlines (thick)</span>, '
            f'<span style="color:{COLOR_B}">&#9632; B outlines (thin, on top)</span>; a numbered marker per pair, '
            f'instance or split / merge group, coloured by relation and explained in the table under the image. ')
    if images_dir is None:
        head += "No image folder given (--images): outlines on blank canvases of the images' sizes."
    elif n_missing:
        head += f"{n_missing} of {len(most)} image files missing or unreadable in {_esc(images_dir)}: blank canvases."
    head += "</p>"
    return head + _rel_key() + '<div class="gallery">' + "".join(items) + "</div>"


def _rel_key() -> str:
    return ('<p class="relkey">' + " ".join(f'<span class="mk" style="background:{_REL_COLORS[r]}">&nbsp;</span>'
                                            f'{_esc(_REL_TITLE[r])}' for r in _REL_ORDER) + "</p>")


# ------------------------------------------------------------------------------ examples per relation

def _pick(cands, keys, images, n):
    """Up to ``n`` of ``cands`` (already in preference order): first one per image and per key
    (class / class change), then one per image, then any."""
    picked, seen_img, seen_key = [], set(), set()
    for rule in (2, 1, 0):
        for c, k, im in zip(cands, keys, images):
            if len(picked) >= n:
                return picked
            if c in picked or (rule >= 1 and im in seen_img) or (rule == 2 and k in seen_key):
                continue
            picked.append(c)
            seen_img.add(im)
            seen_key.add(k)
    return picked


def _example_candidates(R: _Rows, rel, n):
    """Row lists (one per unit) of up to ``n`` examples of relation ``rel``, deterministic."""
    sel = np.flatnonzero(R.rel == rel)
    if not sel.size:
        return [], 0
    if rel in ("split", "merged"):
        key = np.stack([R.image[sel], R.group[sel]], axis=1)
        _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
        inv = inv.ravel()
        heads = sel[first]
        area = -np.nan_to_num(R.a_area[heads] if rel == "split" else R.b_area[heads], nan=-1)
        crowd = R.a_iscrowd[heads] if rel == "split" else R.b_iscrowd[heads]
        # the largest wholes, crowd and non-crowd wholes alternating (the k-th largest of each kind)
        rank = np.empty(heads.size, np.int64)
        for c in (False, True):
            idx = np.flatnonzero(crowd == c)
            rank[idx[np.lexsort((R.image[heads][idx], area[idx]))]] = np.arange(idx.size)
        pref = np.lexsort((R.image[heads], area, crowd, rank))
        cands = [int(x) for x in heads[pref]]
        keys = [int(R.a_cat[x]) if rel == "split" else int(R.b_cat[x]) for x in cands]
        imgs = [int(R.image[x]) for x in cands]
        chosen = _pick(cands, keys, imgs, n)
        members = {int(h): sel[inv == g] for g, h in enumerate(heads) if int(h) in chosen}
        return [members[c] for c in chosen], len(heads)
    if rel == "matched":
        area = np.fmin(R.a_area[sel], R.b_area[sel])
        big = (np.nan_to_num(area) >= 32 * 32).astype(int)
        pref = np.lexsort((sel, -np.nan_to_num(area), np.nan_to_num(R.iou[sel], nan=2.0), -big))
    else:
        area = R.b_area[sel] if rel == "added" else R.a_area[sel]
        pref = np.lexsort((sel, -np.nan_to_num(area, nan=-1)))
    cands = [int(x) for x in sel[pref]]
    if rel == "class_changed":
        keys = [(int(R.a_cat[x]), int(R.b_cat[x])) for x in cands]
    else:
        keys = [int(R.b_cat[x]) if rel == "added" else int(R.a_cat[x]) for x in cands]
    imgs = [int(R.image[x]) for x in cands]
    return [np.array([c]) for c in _pick(cands[:20 * n + 200], keys[:20 * n + 200], imgs[:20 * n + 200], n)], sel.size


def _crop_box(rings, w, h):
    p = np.vstack(rings) if rings else np.array([[0.0, 0.0], [w, h]])
    x0, y0 = p.min(axis=0)
    x1, y1 = p.max(axis=0)
    bw, bh = x1 - x0, y1 - y0
    pad = max(0.18 * max(bw, bh), 8.0)
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    # no thinner than 2:1, at least 40 px of the image
    bw, bh = x1 - x0, y1 - y0
    tw, th = max(bw, bh / 2, 40.0), max(bh, bw / 2, 40.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    tw, th = min(tw, max(w, 1)), min(th, max(h, 1))
    x0 = min(max(cx - tw / 2, 0.0), max(w - tw, 0.0))
    y0 = min(max(cy - th / 2, 0.0), max(h - th, 0.0))
    return x0, y0, x0 + tw, y0 + th


def _example_card(ctx, unit: _Unit, k):
    A, B = ctx["A"], ctx["B"]
    w, h, file_name = _image_info(A.ds, B.ds, unit.image_id)
    pix, _ = ctx["files"].pixels(file_name)
    layers = unit.layers(A, B)
    box = _crop_box([r for rings, _, _ in layers for r in rings], w, h)
    im, _ = _draw_view(w, h, box, _CROP_SIDE, pix, layers)
    detail = unit.measure()
    if unit.rel in ("split", "merged") and len(unit.shares) > 1:
        sh = [s for s in unit.shares if not np.isnan(s)]
        if sh:
            detail += " &middot; parts' shares " + ", ".join(f"{s:.2f}" for s in sh[:6]) + (" \u2026" if len(sh) > 6 else "")
    rel = unit.rel
    ids = (f'data-a-ids="{",".join(map(str, unit.a_ids))}" data-b-ids="{",".join(map(str, unit.b_ids))}"')
    return (f'<figure class="ex" id="ex-{rel}-{k}" data-relation="{rel}" data-image-id="{unit.image_id}" {ids}>'
            f'<img alt="{_esc(unit.label())}" src="{_png_pil(im)}">'
            f'<figcaption><b>{_esc(unit.label())}</b><br>{detail}<br>'
            f'image {unit.image_id} {_esc(file_name)} &middot; {_esc(unit.ids())}</figcaption></figure>')


def _examples_section(ctx, picks, counts) -> str:
    R = ctx["R"]
    tabs, blocks = [], []
    for rel in _REL_ORDER:
        rows_list = picks.get(rel, [])
        n_rows = int(np.count_nonzero(R.rel == rel))
        what = (f"{counts.get(rel, 0):,} groups, {n_rows:,} rows" if rel in ("split", "merged") else f"{n_rows:,} rows")
        tabs.append(f'<a href="#ex-{rel}"><span class="mk" style="background:{_REL_COLORS[rel]}">&nbsp;</span>'
                    f'{_esc(_REL_TITLE[rel])} ({what})</a>')
        units = [_Unit(R, rows, ctx["A"], ctx["B"]) for rows in rows_list]
        if units:
            cards = "".join(_example_card(ctx, u, k) for k, u in enumerate(units, 1))
            body = f'<div class="examples">{cards}</div>'
        else:
            body = f'<p class="note">No {_esc(_REL_TITLE[rel])} rows.</p>'
        blocks.append(f'<div class="relblock" id="ex-{rel}"><h3><span class="mk" style="background:'
                      f'{_REL_COLORS[rel]}">&nbsp;</span>{_esc(_REL_TITLE[rel])} &middot; {what}</h3>'
                      f'<p class="note">{_esc(_REL_HELP[rel])}; up to {ctx["n_examples"]} shown.</p>{body}</div>')
    head = (f'<p class="note">Cropped around the instances: <span style="color:{COLOR_A}">&#9632; A (thick)</span>, '
            f'<span style="color:{COLOR_B}">&#9632; B (thin, on top)</span>. A split shows its whole and all its '
            f'parts, a merge all its parts and its whole. Deterministic choice.</p>')
    return head + '<p class="tabs">' + " ".join(tabs) + "</p>" + "".join(blocks)


# ------------------------------------------------------------------------------ public API

def load_comparison(out_dir, a=None, b=None):
    """Read a ``cocodiff compare`` output folder (``matches.parquet`` + ``summary.json``).

    Parameters
    ----------
    out_dir : str or Path
        Folder written by :meth:`cocodiff.matching.Comparison.write`.
    a, b : Dataset, optional
        Loaded inputs; their category names fill ``meta["categories"]``.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from cocodiff.report import load_comparison
    >>> c = load_comparison("out/")           # doctest: +SKIP
    >>> c.summary()["relations"]["matched"]   # doctest: +SKIP
    565
    """
    from .matching import Comparison, read_output

    # checked to be one unit: a table from another run, or a truncated one, is one line, not a mix
    table, summ = read_output(out_dir)
    meta = dict(summ.get("meta", {}))
    cats = {}
    for ds in (a, b):
        if ds is not None:
            cats.update({int(c): str(n) for c, n in zip(ds.cat_id, ds.cat_name)})
    if not cats:  # names from the summary's per-class list
        cats = {int(r["category_id"]): r.get("name", "") for r in summ.get("per_class", [])}
    meta["categories"] = cats
    meta.setdefault("a_vertices", int(a.n_points().sum()) if a is not None else 0)
    meta.setdefault("b_vertices", int(b.n_points().sum()) if b is not None else 0)
    return Comparison(table=table, params=summ.get("params", {}), images=summ.get("images", {}), meta=meta)


def render_report(a, b, comparison=None, images_dir=None, top=12, title=None, examples=6) -> str:
    """Build the report HTML text (see the module docstring); :func:`write_report` writes it.

    Parameters are those of :func:`write_report`.

    Returns
    -------
    str
        A complete, self-contained HTML document.

    Examples
    --------
    >>> from cocodiff.report import render_report
    >>> text = render_report("a.json", "b.json", top=4)     # doctest: +SKIP
    >>> text.startswith("<!DOCTYPE html>")                   # doctest: +SKIP
    True
    """
    _mpl()  # fail early, before any loading, when matplotlib is missing
    from . import __version__
    from .matching import compare
    from .statistics import stats

    A = _as_dataset(a)
    B = _as_dataset(b, like=A)
    if comparison is None:
        comparison = compare(A, B, progress=False)
    top = max(int(top), 0)
    summ = comparison.summary(top=max(top, 1))
    st = stats(A, B, per_class=True)
    tpl = Template(resources.files("cocodiff").joinpath("templates/report.html").read_text(encoding="utf-8"))
    if title is None:
        title = f"cocodiff report: {Path(str(A.path)).name} vs {Path(str(B.path)).name}"
    cats = dict(getattr(comparison, "meta", None) or {}).get("categories") or {}
    A_side, B_side = _Side(A, _names(A, cats)), _Side(B, _names(B, cats))
    R = _Rows(comparison.table)
    n_examples = max(int(examples), 0)
    picks, group_counts = {}, {}
    for rel in _REL_ORDER:
        picks[rel], group_counts[rel] = _example_candidates(R, rel, n_examples) if n_examples else ([], 0)
    files = _ImageFiles(images_dir)
    if images_dir is not None:  # look every file up first: the notices then know whether any exists
        for e in summ["most_changed"][:top]:
            files.path(_image_info(A, B, int(e["image_id"]))[2])
        for rows_list in picks.values():
            for rows in rows_list:
                files.path(_image_info(A, B, int(R.image[rows[0]]))[2])
    notice_html, notice_text = files.notice()
    if notice_text:
        log.warning("report: %s", notice_text)
    ctx = dict(A=A_side, B=B_side, R=R, files=files, n_examples=n_examples)
    fields = dict(
        title=_esc(title), version=_esc(__version__), color_a=COLOR_A, color_b=COLOR_B,
        notices=notice_html,
        a_path=_esc(A.path), b_path=_esc(B.path),
        generated=_esc(_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        overview=_overview(A, B, summ),
        stats_table=_stats_section(st),
        classes=_classes_section(st),
        sizes=_sizes_section(A, B),
        vertices=_vertices_section(A, B),
        relations=_relations_section(summ) + _class_changes(R, A_side, B_side),
        iou=_iou_section(comparison, A_side.names),
        examples=_examples_section(ctx, picks, group_counts) if n_examples else
        '<p class="note">No examples asked for (--examples 0).</p>',
        gallery=_gallery_section(ctx, summ, top),
    )
    return tpl.substitute(fields)


def write_report(a, b, out_path, comparison=None, images_dir=None, top=12, examples=6) -> Path:
    """Write the self-contained HTML report comparing ``a`` (reference) and ``b``.

    Parameters
    ----------
    a, b : Dataset or path
        The two annotation sets (paths are loaded with :func:`cocodiff.load`; B with ``like=A``
        so a results file works too).
    out_path : str or Path
        The ``.html`` file to write (atomically: a temporary file in the same folder, then
        renamed). Its folder is created if missing.
    comparison : Comparison, optional
        A :func:`cocodiff.compare` result of ``a`` vs ``b`` (computed when omitted), e.g. from
        :func:`load_comparison`.
    images_dir : str or Path, optional
        Folder with the image files (``file_name`` of the dataset, or its base name). Images
        not found are drawn as blank canvases, with a note; when none is found, a notice at the
        top of the report and a logged warning name the folder and the files looked for.
    top : int
        Number of most changed images in the gallery.
    examples : int
        Examples per relation in the ``examples`` section (0: none).

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    ReportDependencyError
        matplotlib is not installed (``pip install cocodiff[report]``).

    Examples
    --------
    >>> import cocodiff.report
    >>> cocodiff.report.write_report("instances_val2017.json", "sama_val.json",
    ...                              "report.html", images_dir="val2017/")   # doctest: +SKIP
    PosixPath('report.html')
    """
    text = render_report(a, b, comparison=comparison, images_dir=images_dir, top=top, examples=examples)
    out = Path(out_path)
    write_bytes_atomic(out, text.encode("utf-8"))
    log.info("report: wrote %s (%d bytes)", out, len(text.encode("utf-8")))
    return out
