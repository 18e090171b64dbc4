"""The report's charts, drawn with matplotlib on its Agg canvas (no pyplot: no global backend is
set, nothing is shown on screen), each embedded as a PNG: instances per class, size-bucket shares,
vertices per instance, relations per class, IoU / Boundary IoU histograms and means per class.

matplotlib is imported only here and only when a chart is drawn (:func:`_mpl`): importing
cocodiff stays fast, and a missing matplotlib is one clear error. Margins are measured from the
labels, not laid out by matplotlib's constrained layout (which costs as much as the drawing)."""
from __future__ import annotations

import io

import numpy as np

from ._report_data import _col
from ._report_html import (
    _REL_COLORS,
    COLOR_A,
    COLOR_B,
    _diff_cell,
    _esc,
    _png_uri,
    _ratio,
    _short,
    _table,
)
from .conventions import size_masks
from .dataset import KIND_POLYGON
from .relations import RELATIONS

_INSTALL_HINT = "matplotlib is needed for reports: pip install cocodiff[report]"
#: the disjoint size buckets of the sizes chart: label, key of :func:`cocodiff.conventions.size_masks`
#: (whose "small" includes "very small": here only the rest of it)
_SIZE_BUCKETS = [("very small (area <= 100)", "very_small"), ("small (100 < area < 32^2)", "small"),
                 ("medium (32^2 <= area < 96^2)", "medium"), ("large (area >= 96^2)", "large")]


class ReportDependencyError(ImportError):
    """matplotlib (a dependency, also behind the ``[report]`` extra) is not installed."""


def _mpl():
    """Import matplotlib's Figure (Agg canvas, no pyplot) or raise :class:`ReportDependencyError`."""
    # lazy: matplotlib is slow to import, and only a report that draws needs it
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ReportDependencyError(_INSTALL_HINT) from e
    return Figure, FigureCanvasAgg


def _png(fig, dpi=100) -> str:
    """Render a Figure to an ``<img>`` tag with a base64 PNG data URI."""
    _, Canvas = _mpl()
    Canvas(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return _png_uri(buf.getvalue())


def _img(fig, alt, dpi=100) -> str:
    return f'<img class="plot" alt="{_esc(alt)}" src="{_png(fig, dpi)}">'


def _text_w(fig, labels, size=10.0) -> float:
    """Width in inches of the widest of ``labels`` at font ``size`` (points), measured by Agg."""
    from matplotlib.font_manager import FontProperties  # lazy, as in _mpl

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


def _bucket_shares(area) -> tuple:
    """(share, count) of the instances with an ``area`` in each of :data:`_SIZE_BUCKETS`."""
    a = np.asarray(area, float)
    a = a[~np.isnan(a)]
    m = size_masks(a)
    m["small"] = m["small"] & ~m["very_small"]
    out = np.array([np.count_nonzero(m[key]) for _, key in _SIZE_BUCKETS], float)
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
            ax.hist(np.maximum(v, 1), bins=bins, weights=w, histtype="step", lw=1.6, color=c,
                    label=f"{lab} (n={v.size:,})")
    ax.set_xscale("log")
    ax.set_xlabel("stored vertices per polygon instance (log scale)")
    _margins(fig, left=_y_tick_w(fig, 100.0) + 0.5, bottom=0.65, top=0.12)
    ax.set_ylabel("% of polygon instances")
    ax.legend()
    ax.grid(alpha=0.3)
    return _img(fig, "vertices per instance") + note


def _relations_section(summ) -> str:
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
