"""The report's data: the comparison table as numpy columns, each side's category names and
instance outlines, relation "units" (a pair, an instance, or a split / merge group) and the
deterministic choice of examples; and the sections that are tables only (overview, statistics,
class changes). No drawing here (:mod:`cocodiff._report_charts`, :mod:`cocodiff._report_views`)."""
from __future__ import annotations

import numpy as np

from ._report_html import _REL_TITLE, COLOR_A, COLOR_B, _diff_cell, _esc, _ratio, _table
from .dataset import KIND_POLYGON, Dataset
from .engine.rle import rle_decode
from .statistics import table_rows

# ------------------------------------------------------------------------------ table sections

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
    parts.append(f'<p class="note">Images: {im["a_images"]:,} in A, {im["b_images"]:,} in B, '
                 f'{im["common"]:,} compared; {im["only_a"]:,} only in A, {im["only_b"]:,} only in B, '
                 f'{im["size_mismatch"]:,} with different sizes. '
                 f'Matching: IoU threshold {_esc(p.get("iou_threshold", "-"))}, cover threshold '
                 f'{_esc(p.get("cover_threshold", "-"))}, mode {_esc(p.get("mode", "-"))}.</p>')
    return "\n".join(parts)


def _stats_section(st) -> str:
    rows = []
    for label, (a, b), comparable in table_rows(st):
        rows.append([_esc(label), a, b, _diff_cell(a, b) if comparable else "",
                     _ratio(a, b) if comparable else ""])
    return _table(["", "A", "B", "B - A", "B / A"], rows) + (
        '<p class="note">Sizes use the files\' <code>area</code> field (crowds included); '
        '"very small" is part of "small". "classes with more objects": classes where A (B) has more instances.</p>')


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


# ------------------------------------------------------------------------------ rows, instances, units

def _col(table, name, dtype=np.float64, fill=np.nan):
    """A numeric column of the comparison table as numpy (nulls -> NaN, or ``fill`` for ints)."""
    if name == "relation":
        return np.asarray(table.column(name).to_pylist(), dtype=object)
    arr = np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)
    if dtype is not np.float64:
        arr = np.where(np.isnan(arr), fill, arr).astype(dtype)
    return arr


def _outlines(ds: Dataset, i: int):
    """Closed outlines of instance row ``i`` as a list of (k, 2) x/y arrays (image pixels)."""
    if ds.kind[i] == KIND_POLYGON:
        r0, r1 = int(ds.inst_ring_offsets[i]), int(ds.inst_ring_offsets[i + 1])
        ro = ds.ring_offsets
        return [ds.xy[int(ro[r]):int(ro[r + 1])] for r in range(r0, r1) if ro[r + 1] - ro[r] >= 2]
    # lazy: contourpy comes with matplotlib, which the report imports only when it draws (lighter
    # than skimage + scipy)
    import contourpy

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


def _image_info(A, B, image_id):
    ra, _ = _rows_of_image(A, image_id)
    rb, _ = _rows_of_image(B, image_id)
    ds, r = (A, ra) if ra is not None else (B, rb)
    if r is None:
        return 1, 1, ""
    return int(ds.width[r]), int(ds.height[r]), str(ds.file_name[r] or "")


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
