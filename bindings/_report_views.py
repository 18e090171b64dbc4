"""The report's pictures of instances, drawn with Pillow (two-times supersampled, then reduced): far
faster than a matplotlib figure per image, with no text on the pictures but the markers' numbers.
The gallery of the most changed images (A and B outlines, a numbered marker per relation unit and
its legend table) and the cropped examples per relation; the image files they are drawn over.

Pillow (it comes with matplotlib) and matplotlib's font file are imported lazily, where they are
used, as matplotlib is (:func:`cocodiff._report_charts._mpl`): only a report that draws needs them."""
from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import numpy as np

from ._report_data import _image_info, _Unit, _units_of_image
from ._report_html import (
    _REL_ORDER,
    _REL_TITLE,
    COLOR_A,
    COLOR_B,
    _esc,
    _marker_html,
    _png_uri,
    _rel_color,
    _rel_key,
    _table,
)

# the report's one logger (its records name cocodiff.report, whichever module writes them)
log = logging.getLogger("cocodiff.report")

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
        from PIL import Image  # lazy (module docstring)
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        import matplotlib.image as mpimg   # lazy (module docstring)
        return mpimg.imread(path)


_FONT = {}


def _font(px):
    """DejaVu Sans Bold (shipped with matplotlib) at ``px`` pixels, else Pillow's default font."""
    if px not in _FONT:
        from PIL import ImageFont  # lazy (module docstring)
        try:
            import matplotlib   # lazy (module docstring)
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
    from PIL import ImageDraw  # lazy (module docstring)

    box, s, W, H = _fit_box(box, side)
    x0, y0 = box[:2]
    S = s * _SS
    im = _canvas(pix, w, h, box, W, H)
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
    placed = _draw_markers(d, markers, off, S, W * _SS, H * _SS) if markers else []
    return im.reduce(_SS), placed


def _fit_box(box, side):
    """``(box, scale, width, height)`` of a view of ``box`` with ``side`` px on its longer side. An
    extreme aspect ratio (an image 1200 x 1) still gets a view at least 16 px across: the box grows
    around its centre on its short side."""
    x0, y0, x1, y1 = box
    bw, bh = max(x1 - x0, 1e-3), max(y1 - y0, 1e-3)
    least = max(bw, bh) * 16.0 / side
    if bh < least:
        y0, y1, bh = y0 - (least - bh) / 2, y1 + (least - bh) / 2, least
    if bw < least:
        x0, x1, bw = x0 - (least - bw) / 2, x1 + (least - bw) / 2, least
    s = side / max(bw, bh)
    return (x0, y0, x1, y1), s, max(round(bw * s), 1), max(round(bh * s), 1)


def _canvas(pix, w, h, box, W, H):
    """The supersampled canvas of a ``W`` x ``H`` view of ``box``: the image pixels ``pix`` (of an
    image of ``w`` x ``h``, whatever the file's own size) resampled, or a blank canvas."""
    from PIL import Image  # lazy (module docstring)

    if pix is None:
        return Image.new("RGB", (W * _SS, H * _SS), _BLANK)
    x0, y0, x1, y1 = box
    ph, pw = pix.shape[:2]
    fx, fy = pw / max(w, 1), ph / max(h, 1)
    im = Image.fromarray(np.ascontiguousarray(pix[..., :3]).astype(np.uint8, copy=False))
    return im.resize((W * _SS, H * _SS), Image.BILINEAR, box=(x0 * fx, y0 * fy, x1 * fx, y1 * fy))


def _draw_markers(d, markers, off, S, cw, ch) -> list:
    """Draw ``(text, colour, rings)`` markers on a ``cw`` x ``ch`` canvas (``d``), each at the first of
    its candidate places (above, left of, right of, under its rings, their centre) that overlaps no
    marker drawn before, else at the least overlapping one. Returns the placed boxes."""
    font = _font(10 * _SS)
    mh = 15 * _SS
    placed = []
    for text, color, rings in markers:
        tw = d.textlength(text, font=font)
        mw = max(tw + 7 * _SS, mh)
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
            cx = min(max(cx, mw / 2), cw - mw / 2)
            cy = min(max(cy, mh / 2), ch - mh / 2)
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
    return placed


def _png_pil(im) -> str:
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=6)
    return _png_uri(buf.getvalue())


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
    markers = [(str(n), _rel_color(units[k].rel), rings[k]) for n, k in enumerate(order, 1)]
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
            detail += (" &middot; parts' shares " + ", ".join(f"{s:.2f}" for s in sh[:6])
                       + (" \u2026" if len(sh) > 6 else ""))
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
        tabs.append(f'<a href="#ex-{rel}">{_marker_html("&nbsp;", rel)}{_esc(_REL_TITLE[rel])} ({what})</a>')
        units = [_Unit(R, rows, ctx["A"], ctx["B"]) for rows in rows_list]
        if units:
            cards = "".join(_example_card(ctx, u, k) for k, u in enumerate(units, 1))
            body = f'<div class="examples">{cards}</div>'
        else:
            body = f'<p class="note">No {_esc(_REL_TITLE[rel])} rows.</p>'
        blocks.append(f'<div class="relblock" id="ex-{rel}"><h3>{_marker_html("&nbsp;", rel)}'
                      f'{_esc(_REL_TITLE[rel])} &middot; {what}</h3>'
                      f'<p class="note">{_esc(_REL_HELP[rel])}; up to {ctx["n_examples"]} shown.</p>{body}</div>')
    head = (f'<p class="note">Cropped around the instances: <span style="color:{COLOR_A}">&#9632; A (thick)</span>, '
            f'<span style="color:{COLOR_B}">&#9632; B (thin, on top)</span>. A split shows its whole and all its '
            f'parts, a merge all its parts and its whole. Deterministic choice.</p>')
    return head + '<p class="tabs">' + " ".join(tabs) + "</p>" + "".join(blocks)
