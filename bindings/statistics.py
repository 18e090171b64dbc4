"""Dataset statistics: the Sama-COCO comparison table, counted over the columnar arrays.

Rows (all ints), per dataset:

``images``            images defined
``categories``        categories defined
``classes``           categories used by at least one annotation
``instances``         annotations (crowds included)
``crowds``            ``iscrowd == 1``
``multi_polygon``     polygon instances with more than one ring
``vertices``          polygon points as stored
``vertices_closed``   stored points + 1 per ring (each ring closed)
``very_small``        ``area <= 100``
``small``             ``area < 32**2``
``medium``            ``32**2 <= area < 96**2``
``large``             ``area >= 96**2``

Size rows use the file's ``area`` field, crowds included (an instance without ``area`` -- NaN --
is in no size row). ``very_small`` is a subset of ``small``. With two datasets,
``classes_with_more_instances`` is ``[classes where A has more instances, classes where B has
more]`` over the union of category ids.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from .conventions import size_masks

from .dataset import Dataset

__all__ = ["stats", "ROWS", "format_table", "table_rows"]

ROWS = ["images", "categories", "classes", "instances", "crowds", "multi_polygon", "vertices",
        "vertices_closed", "very_small", "small", "medium", "large"]
_SIZE = ["very_small", "small", "medium", "large"]


def _size_counts(area: np.ndarray, prefix: str = "") -> dict:
    return {prefix + k: int(np.count_nonzero(m)) for k, m in size_masks(area).items()}


def _one(ds: Dataset) -> dict:
    nr = ds.n_rings()
    npts = ds.n_points()
    row = {
        "images": ds.n_images,
        "categories": int(len(ds.cat_id)),
        "classes": int(np.unique(ds.category_id).shape[0]),
        "instances": ds.n_instances,
        "crowds": int(np.count_nonzero(ds.iscrowd)),
        "multi_polygon": int(np.count_nonzero(nr > 1)),
        "vertices": int(npts.sum()),
        "vertices_closed": int(npts.sum() + nr.sum()),
    }
    row.update(_size_counts(ds.area))
    return row


def _per_class_counts(ds: Dataset, ids: np.ndarray) -> dict:
    """Per-category counts (aligned with sorted ``ids``) via bincount over category rows."""
    k = ids.shape[0]
    r = np.searchsorted(ids, ds.category_id)
    a = ds.area

    def bc(w=None):
        return np.bincount(r, weights=w, minlength=k).astype(np.int64)

    return {
        "instances": bc(),
        "crowds": bc(ds.iscrowd.astype(np.float64)),
        "vertices": bc(ds.n_points().astype(np.float64)),
        **{k: bc(m.astype(np.float64)) for k, m in size_masks(a).items()},
    }


def stats(*datasets: Dataset, per_class: bool = False, raster_areas: Sequence[np.ndarray] | None = None,
          validity: bool = False) -> dict:
    """Count the comparison table over one or more datasets.

    Parameters
    ----------
    *datasets : Dataset
        One or more loaded datasets (A, B, ...).
    per_class : bool
        Add ``"per_class"``: one row per category id (union over datasets), each
        ``{"id", "name", "datasets": [{"instances", "crowds", "vertices", "very_small",
        "small", "medium", "large"}, ...]}``.
    raster_areas : list of ndarray, optional
        One array of pixel areas per dataset (any order); adds ``raster_very_small``,
        ``raster_small``, ``raster_medium``, ``raster_large`` with the same thresholds.
    validity : bool
        Add the outline diagnostics of :func:`cocodiff.geometry.outline_diagnostics` (shapely):
        ``degenerate_rings``, ``self_intersecting_rings``, ``invalid_instances``.

    Returns
    -------
    dict
        ``{"datasets": [row, ...]}`` (see the module docstring for the keys) and, with exactly
        two datasets, ``"classes_with_more_instances": [n_A_more, n_B_more]``.

    Examples
    --------
    >>> import cocodiff
    >>> a = cocodiff.load("data/coco2017_subsets/tinycoco_instances_val2017.json")
    >>> cocodiff.stats(a)["datasets"][0]["instances"]
    136
    """
    if not datasets:
        raise ValueError("stats() needs at least one dataset")
    rows = [_one(d) for d in datasets]
    if raster_areas is not None:
        if len(raster_areas) != len(datasets):
            raise ValueError("raster_areas needs one array per dataset")
        for row, ra in zip(rows, raster_areas):
            row.update(_size_counts(ra, "raster_"))
    if validity:
        from .geometry import outline_diagnostics   # lazy: shapely, only for validity=True
        for row, d in zip(rows, datasets):
            diag = outline_diagnostics(d)
            row.update({k: diag[k] for k in ("degenerate_rings", "self_intersecting_rings", "invalid_instances")})
    out = {"datasets": rows}
    ids = np.unique(np.concatenate([d.cat_id for d in datasets]
                                   + [d.category_id for d in datasets]).astype(np.int64))
    if len(datasets) == 2 or per_class:
        per = [_per_class_counts(d, ids) for d in datasets]
    if len(datasets) == 2:
        ia, ib = per[0]["instances"], per[1]["instances"]
        out["classes_with_more_instances"] = [int(np.count_nonzero(ia > ib)), int(np.count_nonzero(ib > ia))]
    if per_class:
        names = {}
        for d in reversed(datasets):
            names.update(zip(d.cat_id.tolist(), d.cat_name.tolist()))
        out["per_class"] = [
            {"id": int(cid), "name": names.get(int(cid), ""),
             "datasets": [{key: int(p[key][j]) for key in p} for p in per]}
            for j, cid in enumerate(ids.tolist())
        ]
    return out


# --------------------------------------------------------------------------------------------
# CLI
_LABELS = [
    ("images", "images"),
    ("classes", "classes"),
    ("classes_with_more_instances", "classes with more objects"),
    ("instances", "instances"),
    ("crowds", "crowds"),
    ("multi_polygon", "multi-polygon objects"),
    ("vertices", "vertices"),
    ("vertices_closed", "vertices (closed rings)"),
    ("very_small", "very small (area <= 100)"),
    ("small", "small (area < 32^2)"),
    ("medium", "medium (32^2 <= area < 96^2)"),
    ("large", "large (area >= 96^2)"),
    ("raster_very_small", "very small, mask pixels (<= 100)"),
    ("raster_small", "small, mask pixels (< 32^2)"),
    ("raster_medium", "medium, mask pixels"),
    ("raster_large", "large, mask pixels (>= 96^2)"),
    ("degenerate_rings", "rings with < 3 points"),
    ("self_intersecting_rings", "self-intersecting rings"),
    ("invalid_instances", "invalid outlines (instances)"),
]


def table_rows(result: dict) -> Iterator[tuple[str, list[int], bool]]:
    """The rows of the comparison table present in a :func:`stats` result, in display order.

    Yields ``(label, values, comparable)``: one value per dataset; ``comparable`` is False for
    "classes with more objects" (its two values are "A has more" and "B has more", so a
    difference or ratio means nothing). ``raster_*`` rows appear only when ``stats`` was given
    ``raster_areas``.
    """
    rows = result["datasets"]
    for key, label in _LABELS:
        if key == "classes_with_more_instances":
            if len(rows) == 2:
                yield label, list(result[key]), False
        elif key in rows[0]:
            yield label, [r[key] for r in rows], True


def format_table(result: dict, names: list[str]) -> str:
    """Render :func:`stats` output as an aligned text table (A [B, difference B-A, ratio B/A])."""
    two = len(result["datasets"]) == 2
    header = ["", *names] + (["B - A", "B / A"] if two else [])
    lines = []
    for label, vals, comparable in table_rows(result):
        cells = [label, *[f"{v:,}" for v in vals]]
        if two and comparable:
            a, b = vals
            cells += [f"{b - a:+,}", f"{b / a:.3f}" if a else ("-" if b == 0 else "inf")]
        elif two:
            cells += ["", ""]
        lines.append(cells)
    table = [header] + lines
    widths = [max(len(r[c]) for r in table) for c in range(len(header))]
    out = []
    for i, r in enumerate(table):
        cells = [r[0].ljust(widths[0])] + [r[c].rjust(widths[c]) for c in range(1, len(r))]
        out.append("  ".join(cells).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
