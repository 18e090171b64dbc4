"""A self-contained HTML report of two annotation sets: :func:`write_report`.

The report is ONE ``.html`` file with inline CSS and every plot embedded as a base64
``data:image/png`` URI -- no network access (nor any other file) is needed to view it.

Sections (element ids): ``overview``; ``stats`` (the Sama-COCO table of
:func:`cocodiff.stats` for A and B with B - A and B / A); ``classes`` (instances per class,
A vs B); ``sizes`` (size-bucket shares); ``vertices`` (vertices per polygon instance);
``relations`` (rows per relation and class, from :func:`cocodiff.compare`); ``iou`` (IoU and
Boundary IoU histograms of matched pairs); ``gallery`` (the ``top`` most changed images of
the comparison summary's ranking, A and B outlines in two colours, every instance labelled
with its relation, over the image file when ``images_dir`` has it, else over a blank canvas
of the image's size).

Plots are drawn with matplotlib (a dependency) on its Agg canvas, without pyplot:
no global backend is set and nothing is shown on screen. The page is filled into the
``templates/report.html`` package file with :class:`string.Template`.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import logging
from importlib import resources
from pathlib import Path
from string import Template

import numpy as np

from ._io import write_bytes_atomic
from .dataset import KIND_POLYGON, Dataset

__all__ = ["write_report", "render_report", "load_comparison", "ReportDependencyError", "COLOR_A", "COLOR_B"]

log = logging.getLogger(__name__)

#: outline / bar colour of side A (reference) and side B
COLOR_A = "#1f6fd1"
COLOR_B = "#e8590c"
_REL_COLORS = {"matched": "#2f9e44", "split": "#7048e8", "merged": "#d6336c", "class_changed": "#f59f00",
               "removed": "#495057", "added": "#1098ad"}
_INSTALL_HINT = "matplotlib is needed for reports: pip install cocodiff[report]"
_SIZE_BUCKETS = [("very small (area <= 100)", None, 100.0, True), ("small (100 < area < 32^2)", 100.0, 32.0 ** 2, False),
                 ("medium (32^2 <= area < 96^2)", 32.0 ** 2, 96.0 ** 2, False), ("large (area >= 96^2)", 96.0 ** 2, None, False)]


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
    fig = Figure(figsize=(max(8.0, min(13.0, 0.16 * k + 2)), 4.4), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(k)
    ax.bar(x - 0.2, a, 0.4, color=COLOR_A, label="A")
    ax.bar(x + 0.2, b, 0.4, color=COLOR_B, label="B")
    top = max(a.max(), b.max())
    pos = np.concatenate([a[a > 0], b[b > 0]])
    logy = pos.size and top / max(np.median(pos), 1) > 30
    if logy:
        ax.set_yscale("log")
    ax.set_xticks(x, _short(names), rotation=90, fontsize=7 if k > 40 else 8)
    ax.set_xlim(-0.7, k - 0.3)
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
    fig = Figure(figsize=(8.5, 3.2), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(_SIZE_BUCKETS))
    ax.barh(y - 0.2, sa * 100, 0.4, color=COLOR_A, label="A")
    ax.barh(y + 0.2, sb * 100, 0.4, color=COLOR_B, label="B")
    for yy, v in zip(y, sa):
        ax.text(v * 100 + 0.5, yy - 0.2, f"{v * 100:.1f}%", va="center", fontsize=8)
    for yy, v in zip(y, sb):
        ax.text(v * 100 + 0.5, yy + 0.2, f"{v * 100:.1f}%", va="center", fontsize=8)
    ax.set_yticks(y, [b[0] for b in _SIZE_BUCKETS])
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
    fig = Figure(figsize=(8.5, 3.4), layout="constrained")
    ax = fig.add_subplot()
    for v, c, lab in ((va, COLOR_A, "A"), (vb, COLOR_B, "B")):
        if v.size:
            w = np.full(v.size, 100.0 / v.size)
            ax.hist(np.maximum(v, 1), bins=bins, weights=w, histtype="stepfilled", alpha=0.35, color=c)
            ax.hist(np.maximum(v, 1), bins=bins, weights=w, histtype="step", lw=1.6, color=c, label=f"{lab} (n={v.size:,})")
    ax.set_xscale("log")
    ax.set_xlabel("stored vertices per polygon instance (log scale)")
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
    fig = Figure(figsize=(9.5, 0.26 * k + 1.3), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(k)
    left = np.zeros(k)
    for rname in RELATIONS:
        v = np.array([r[rname] for r in shown], float)
        ax.barh(y, v, left=left, color=_REL_COLORS[rname], label=rname.replace("_", " "), height=0.75)
        left += v
    ax.set_yticks(y, _short([r["name"] or str(r["category_id"]) for r in shown], 18), fontsize=8)
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


def _col(table, name, dtype=np.float64, fill=np.nan):
    """A numeric column of the comparison table as numpy (nulls -> NaN, or ``fill`` for ints)."""
    if name == "relation":
        return np.asarray(table.column(name).to_pylist(), dtype=object)
    arr = np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)
    if dtype is not np.float64:
        arr = np.where(np.isnan(arr), fill, arr).astype(dtype)
    return arr


def _iou_section(cmp) -> str:
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
    fig = Figure(figsize=(10, 3.3), layout="constrained")
    bins = np.linspace(0, 1, 41)
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
        'Dashed line: mean.</p>')


# ------------------------------------------------------------------------------ gallery

def _outlines(ds: Dataset, i: int):
    """Closed outlines of instance row ``i`` as a list of (k, 2) x/y arrays (image pixels)."""
    if ds.kind[i] == KIND_POLYGON:
        r0, r1 = int(ds.inst_ring_offsets[i]), int(ds.inst_ring_offsets[i + 1])
        ro = ds.ring_offsets
        return [ds.xy[int(ro[r]):int(ro[r + 1])] for r in range(r0, r1) if ro[r + 1] - ro[r] >= 2]
    from skimage.measure import find_contours

    from .engine.rle import rle_decode

    h, w = int(ds.rle_h[i]), int(ds.rle_w[i])
    if h <= 0 or w <= 0:
        h, w = int(ds.height[ds.img_row[i]]), int(ds.width[ds.img_row[i]])
    c = np.ascontiguousarray(ds.counts[int(ds.counts_offsets[i]):int(ds.counts_offsets[i + 1])], dtype=np.uint32)
    mask = np.asarray(rle_decode(c, h, w))
    if not mask.any():
        return []
    padded = np.pad(mask, 1).astype(np.float32)
    # contour (row, col) of the padded mask -> pixel-centre coordinates (x + 0.5, y + 0.5)
    return [np.column_stack([cc[:, 1] - 0.5, cc[:, 0] - 0.5]) for cc in find_contours(padded, 0.5)]


def _rows_of_image(ds: Dataset, image_id: int):
    r = int(np.searchsorted(ds.image_id, image_id))
    if r >= ds.n_images or ds.image_id[r] != image_id:
        return None, np.zeros(0, np.int64)
    lo, hi = np.searchsorted(ds.img_row, [r, r + 1])
    return r, np.arange(lo, hi, dtype=np.int64)


def _find_image(images_dir, file_name):
    if images_dir is None or not file_name:
        return None
    d = Path(images_dir)
    for cand in (d / file_name, d / Path(file_name).name):
        if cand.is_file():
            return cand
    return None


def _load_pixels(path):
    try:
        from PIL import Image
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        import matplotlib.image as mpimg
        return mpimg.imread(path)


def _label(rel, iou):
    txt = rel.replace("_", " ")
    if rel in ("matched", "class_changed") and iou is not None and not np.isnan(iou):
        txt += f" {iou:.2f}"
    return txt


def _gallery_item(A, B, cmp_rows, image_id, rank, entry, images_dir):
    """One ``<figure>`` of the gallery: outlines of A and B on the image or a blank canvas."""
    Figure, _ = _mpl()
    ra, rows_a = _rows_of_image(A, image_id)
    rb, rows_b = _rows_of_image(B, image_id)
    ds_img, r_img = (A, ra) if ra is not None else (B, rb)
    h, w = int(ds_img.height[r_img]), int(ds_img.width[r_img])
    file_name = str(ds_img.file_name[r_img] or "")
    note = ""
    pix = None
    if images_dir is not None:
        p = _find_image(images_dir, file_name)
        if p is None:
            note = f'<span class="missing">image file {_esc(file_name or "(no file_name)")} not found in ' \
                   f'{_esc(images_dir)}: blank canvas.</span> '
            log.info("report: image %s not found in %s", file_name, images_dir)
        else:
            try:
                pix = _load_pixels(p)
            except Exception as e:  # unreadable image: degrade to the blank canvas
                note = f'<span class="missing">image file {_esc(p)} unreadable ({_esc(type(e).__name__)}): ' \
                       f'blank canvas.</span> '
                log.warning("report: cannot read %s: %s", p, e)
    # relation (and IoU) of every instance from the comparison rows of this image
    rel_a, rel_b = {}, {}
    for a_id, b_id, rel, iou in cmp_rows:
        if a_id is not None:
            rel_a.setdefault(int(a_id), (rel, iou))
        if b_id is not None:
            rel_b.setdefault(int(b_id), (rel, iou))
    scale = 6.4 / max(w, h, 1)
    fig = Figure(figsize=(max(w, 1) * scale, max(h, 1) * scale), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    if pix is not None:
        ax.imshow(pix, extent=(0, w, h, 0), interpolation="bilinear")
    else:
        ax.add_patch(_rect((0, 0), w, h))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    fs = 6.5
    from matplotlib.collections import LineCollection
    n_drawn = [0, 0]
    for side, (ds, rows, rels, color) in enumerate(((A, rows_a, rel_a, COLOR_A), (B, rows_b, rel_b, COLOR_B))):
        segs = []
        for i in rows:
            rings = _outlines(ds, int(i))
            if not rings:
                continue
            closed = [np.vstack([r, r[:1]]) for r in rings]
            segs.extend(closed)
            n_drawn[side] += 1
            allp = np.vstack(rings)
            x0, y0 = allp.min(axis=0)
            x1, y1 = allp.max(axis=0)
            rel, iou = rels.get(int(ds.ann_id[i]), ("?", None))
            if side == 0:
                ax.text(max(x0, 0), max(y0, 0), _label(rel, iou), color="white", fontsize=fs, va="bottom", ha="left",
                        bbox=dict(boxstyle="square,pad=0.1", fc=color, ec="none", alpha=0.8), clip_on=True)
            else:
                ax.text(min(x1, w), min(y1, h), _label(rel, None), color="white", fontsize=fs, va="top", ha="right",
                        bbox=dict(boxstyle="square,pad=0.1", fc=color, ec="none", alpha=0.8), clip_on=True)
        if segs:
            ax.add_collection(LineCollection(segs, colors=color, linewidths=1.6 if side == 0 else 1.3,
                                             linestyles="solid" if side == 0 else (0, (4, 1.5))))
    src = _png(fig, dpi=100)
    counts = ", ".join(f"{k}={v}" for k, v in entry.items() if k in ("non_matched", "matched"))
    miou = entry.get("mean_iou")
    cap = (f"<b>#{rank} image {_esc(image_id)}</b> {_esc(file_name)} ({w}x{h}) &middot; {_esc(counts)}"
           + (f", mean IoU {miou:.3f}" if miou is not None else "")
           + f" &middot; score {entry.get('score', 0):.2f} &middot; outlines: A {n_drawn[0]}, B {n_drawn[1]}<br>{note}")
    return (f'<figure id="img-{_esc(image_id)}" data-image-id="{_esc(image_id)}">'
            f'<img alt="image {_esc(image_id)}: A and B outlines" src="{src}"><figcaption>{cap}</figcaption></figure>')


def _rect(xy, w, h):
    from matplotlib.patches import Rectangle
    return Rectangle(xy, w, h, facecolor="#f1f3f5", edgecolor="#adb5bd", lw=1)


def _gallery_section(A, B, cmp, summ, images_dir, top) -> str:
    most = summ["most_changed"][:top]
    if not most:
        return '<p class="note">No images to show.</p>'
    t = cmp.table
    img = _col(t, "image_id", np.int64, -1)
    a_id = t.column("a_id").to_pylist()
    b_id = t.column("b_id").to_pylist()
    rel = t.column("relation").to_pylist()
    iou = _col(t, "iou")
    order = np.argsort(img, kind="stable")
    simg = img[order]
    items = []
    n_missing = 0
    for rank, entry in enumerate(most, 1):
        iid = int(entry["image_id"])
        lo, hi = np.searchsorted(simg, [iid, iid + 1])
        idx = order[lo:hi]
        rows = [(a_id[j], b_id[j], rel[j], float(iou[j])) for j in idx]
        item = _gallery_item(A, B, rows, iid, rank, entry, images_dir)
        n_missing += 'class="missing"' in item
        items.append(item)
    head = (f'<p class="note">The {len(most)} images ranked highest by non-matched rows + (1 - mean IoU of '
            f'matched rows). <span style="color:{COLOR_A}">&#9632; A outlines (solid)</span>, '
            f'<span style="color:{COLOR_B}">&#9632; B outlines (dashed)</span>; labels give each instance\'s '
            f'relation (A: top-left, with the IoU of matched and class-changed pairs; B: bottom-right). ')
    if images_dir is None:
        head += "No image folder given (--images): outlines on blank canvases of the images' sizes."
    elif n_missing:
        head += f"{n_missing} of {len(most)} image files missing or unreadable in {_esc(images_dir)}: blank canvases."
    head += "</p>"
    return head + '<div class="gallery">' + "".join(items) + "</div>"


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
    import pyarrow.parquet as pq

    from .errors import InputError
    from .matching import Comparison

    d = Path(out_dir)
    pq_path, js_path = d / "matches.parquet", d / "summary.json"
    for p in (pq_path, js_path):
        if not p.is_file():
            raise InputError("not found (expected the output folder of `cocodiff compare`)", path=str(p))
    table = pq.read_table(pq_path)
    try:
        summ = json.loads(js_path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise InputError(f"not valid JSON ({e})", path=str(js_path)) from None
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


def render_report(a, b, comparison=None, images_dir=None, top=12, title=None) -> str:
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
    fields = dict(
        title=_esc(title), version=_esc(__version__), color_a=COLOR_A, color_b=COLOR_B,
        a_path=_esc(A.path), b_path=_esc(B.path),
        generated=_esc(_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        overview=_overview(A, B, summ),
        stats_table=_stats_section(st),
        classes=_classes_section(st),
        sizes=_sizes_section(A, B),
        vertices=_vertices_section(A, B),
        relations=_relations_section(summ),
        iou=_iou_section(comparison),
        gallery=_gallery_section(A, B, comparison, summ, images_dir, top),
    )
    return tpl.substitute(fields)


def write_report(a, b, out_path, comparison=None, images_dir=None, top=12) -> Path:
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
        not found are drawn as blank canvases, with a note.
    top : int
        Number of most changed images in the gallery.

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
    text = render_report(a, b, comparison=comparison, images_dir=images_dir, top=top)
    out = Path(out_path)
    write_bytes_atomic(out, text.encode("utf-8"))
    log.info("report: wrote %s (%d bytes)", out, len(text.encode("utf-8")))
    return out
