"""Shapely interop and outline diagnostics over the columnar polygons.

COCO stores an object as a list of rings; each ring is one polygon *part* (COCO has no holes).
So an instance is a ``MultiPolygon`` whose parts each have one exterior ring, and the
dataset's ``(xy, ring_offsets, inst_ring_offsets)`` is exactly shapely's ragged layout with
one ring per part (``shapely.to_ragged_array`` / ``from_ragged_array``), except that COCO
rings are open (the first point is not repeated) and shapely's are closed.

* :func:`to_shapely` -- instances as shapely MultiPolygons (None for RLE instances);
* :func:`from_shapely` -- shapely (Multi)Polygons back to the ragged arrays, via
  ``shapely.to_ragged_array``;
* :func:`outline_diagnostics` -- per dataset: degenerate rings (< 3 points), rings that
  cross themselves (not simple), instances whose polygon is invalid;
* :func:`geometric_iou` -- IoU of two instances' polygons by exact geometry: a cross-check of the
  rasterised IoU (they differ by the pixel grid, most for small objects).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import shapely

from .dataset import Dataset

__all__ = ["to_shapely", "from_shapely", "outline_diagnostics", "geometric_iou"]


def _ring_ids(ds: Dataset):
    """Per stored point, the index of its ring; and per ring, its point count."""
    n_pts = np.diff(ds.ring_offsets)
    return np.repeat(np.arange(n_pts.shape[0]), n_pts), n_pts


def to_shapely(ds: Dataset, rows: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """Instances as shapely ``MultiPolygon`` objects (one part per COCO ring).

    RLE instances (crowds) have no outline: their entry is None. Rings of fewer than 3 points
    cannot form a polygon; they are left out of the geometry (an instance with only such rings
    gives an empty MultiPolygon) -- :func:`outline_diagnostics` counts them.

    Examples
    --------
    >>> import cocodiff
    >>> from cocodiff.geometry import to_shapely
    >>> ds = cocodiff.load("data/derived/lvis_overlap_coco_gt.json")
    >>> geoms = to_shapely(ds)
    >>> geoms[0].geom_type, len(geoms) == ds.n_instances
    ('MultiPolygon', True)
    """
    rows = np.arange(ds.n_instances) if rows is None else np.asarray(rows, np.int64)
    ring_of_point, n_pts = _ring_ids(ds)
    ok = n_pts >= 3
    keep_pt = ok[ring_of_point]
    # renumber kept rings 0..k-1 so shapely sees consecutive indices
    new_id = np.cumsum(ok) - 1
    rings = shapely.linearrings(ds.xy[keep_pt], indices=new_id[ring_of_point[keep_pt]])
    polys = shapely.polygons(rings)
    inst_of_ring = np.repeat(np.arange(ds.n_instances), ds.n_rings())
    out = np.full(ds.n_instances, None, dtype=object)
    has_poly = ds.n_rings() > 0
    inst_with_parts, compact = np.unique(inst_of_ring[ok], return_inverse=True)
    if polys.size:
        out[inst_with_parts] = shapely.multipolygons(polys, indices=compact)
    empty = has_poly.copy()
    empty[inst_with_parts] = False
    for i in np.flatnonzero(empty):
        out[i] = shapely.MultiPolygon()
    return out[rows]


def from_shapely(geoms: Iterable[shapely.Polygon | shapely.MultiPolygon]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shapely (Multi)Polygons -> ``(xy, ring_offsets, inst_ring_offsets)``, COCO style.

    Holes are not representable in COCO and raise ``ValueError``; the closing point shapely
    stores is dropped (so a ring a file stored closed comes back open). Uses
    ``shapely.to_ragged_array``.

    Examples
    --------
    >>> import shapely
    >>> xy, ro, iro = from_shapely([shapely.box(0, 0, 2, 1)])
    >>> xy.shape, ro.tolist(), iro.tolist()
    ((4, 2), [0, 4], [0, 1])
    """
    geoms = np.asarray([shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in geoms], object)
    if geoms.size == 0:
        return np.zeros((0, 2)), np.zeros(1, np.int64), np.zeros(1, np.int64)
    if any(shapely.get_num_interior_rings(p) for g in geoms for p in g.geoms):
        raise ValueError("polygons with holes have no COCO polygon form (use RLE)")
    _, coords, (ring_off, part_off, geom_off) = shapely.to_ragged_array(geoms)
    # one ring per part: part_off is the identity; drop each ring's closing point
    n_closed = np.diff(ring_off)
    keep = np.ones(coords.shape[0], bool)
    keep[ring_off[1:] - 1] = False
    ring_offsets = np.concatenate([[0], np.cumsum(n_closed - 1)]).astype(np.int64)
    return coords[keep].astype(np.float64), ring_offsets, np.asarray(part_off, np.int64)[geom_off].astype(np.int64)


def outline_diagnostics(ds: Dataset) -> dict:
    """Outline validity counts of a dataset's polygons.

    Returns ``{"rings": int, "degenerate_rings": int (fewer than 3 points),
    "self_intersecting_rings": int (the ring crosses or touches itself: not simple),
    "invalid_instances": int (the instance's MultiPolygon is not valid: a ring crosses
    itself, or parts overlap), "examples": [annotation ids of the first invalid ones]}``.

    Examples
    --------
    >>> import cocodiff
    >>> from cocodiff.geometry import outline_diagnostics
    >>> d = outline_diagnostics(cocodiff.load("data/coco2017_subsets/cocomini_instances_val2017.json"))
    >>> d["rings"] > 0 and d["self_intersecting_rings"] <= d["rings"]
    True
    """
    ring_of_point, n_pts = _ring_ids(ds)
    ok = n_pts >= 3
    keep_pt = ok[ring_of_point]
    new_id = np.cumsum(ok) - 1
    rings = shapely.linearrings(ds.xy[keep_pt], indices=new_id[ring_of_point[keep_pt]]) if ok.any() \
        else np.empty(0, object)
    simple = shapely.is_simple(rings) if rings.size else np.zeros(0, bool)
    geoms = to_shapely(ds)
    has = np.array([g is not None for g in geoms], bool)
    valid = np.ones(ds.n_instances, bool)
    if has.any():
        valid[has] = shapely.is_valid(np.asarray(list(geoms[has]), object))
    bad = np.flatnonzero(~valid)
    return {"rings": int(n_pts.shape[0]), "degenerate_rings": int((~ok).sum()),
            "self_intersecting_rings": int((~simple).sum()), "invalid_instances": int(bad.shape[0]),
            "examples": ds.ann_id[bad[:5]].tolist()}


def geometric_iou(ds_a: Dataset, row_a: int, ds_b: Dataset, row_b: int) -> float:
    """IoU of two polygon instances by exact geometry (shapely; invalid outlines repaired with
    ``make_valid``). A cross-check of the rasterised IoU, not a replacement: pycocotools'
    masks follow the pixel grid.

    Examples
    --------
    >>> import cocodiff
    >>> from cocodiff.geometry import geometric_iou
    >>> ds = cocodiff.load("data/derived/lvis_overlap_coco_gt.json")
    >>> geometric_iou(ds, 0, ds, 0)
    1.0
    """
    ga = shapely.make_valid(to_shapely(ds_a, [row_a])[0])
    gb = shapely.make_valid(to_shapely(ds_b, [row_b])[0])
    if ga is None or gb is None:
        raise ValueError("geometric_iou needs two polygon instances (RLE crowds have no outline)")
    union = shapely.area(shapely.union(ga, gb))
    return float(shapely.area(shapely.intersection(ga, gb)) / union) if union > 0 else 0.0
