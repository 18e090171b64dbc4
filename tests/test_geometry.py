"""Shapely interop, outline diagnostics and the geometric IoU cross-check."""
from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

import cocodiff
from cocodiff.geometry import from_shapely, geometric_iou, outline_diagnostics, to_shapely

from conftest import DATA, REAL_INSTANCE_FILES


def _write(tmp_path, segs):
    d = {"images": [{"id": 1, "width": 50, "height": 40, "file_name": "x.jpg"}],
         "categories": [{"id": 1, "name": "thing"}],
         "annotations": [{"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 1.0,
                          "bbox": [0, 0, 1, 1], "segmentation": s} for i, s in enumerate(segs)]}
    p = tmp_path / "g.json"
    p.write_text(json.dumps(d))
    return cocodiff.load(p)


@pytest.mark.parametrize("path", [p for p in REAL_INSTANCE_FILES if "fakesegm" not in p.name
                                  and "panoptic" not in p.name], ids=lambda p: p.name)
def test_round_trip_through_shapely_ragged_arrays(path):
    ds = cocodiff.load(path)
    geoms = to_shapely(ds)
    assert len(geoms) == ds.n_instances
    assert [g is None for g in geoms] == (ds.kind != 0).tolist()      # RLE crowds have no outline
    xy, ro, iro = from_shapely([g for g in geoms if g is not None])
    # shapely closes open rings; a ring the file already stored closed comes back open
    first, last = ds.xy[ds.ring_offsets[:-1]], ds.xy[ds.ring_offsets[1:] - 1]
    closed = (first == last).all(axis=1) & (np.diff(ds.ring_offsets) > 3)
    keep = np.ones(len(ds.xy), bool)
    keep[ds.ring_offsets[1:][closed] - 1] = False
    want_ro = np.concatenate([[0], np.cumsum(np.diff(ds.ring_offsets) - closed)])
    assert np.array_equal(xy, ds.xy[keep]) and np.array_equal(ro, want_ro)
    poly = np.flatnonzero(ds.kind == 0)
    assert np.array_equal(np.diff(iro), ds.n_rings()[poly])


def test_part_areas_are_the_shoelace_areas_of_the_file():
    raw = json.loads((DATA / "derived" / "lvis_overlap_coco_gt.json").read_text())
    ds = cocodiff.load(DATA / "derived" / "lvis_overlap_coco_gt.json")
    geoms = dict(zip(ds.ann_id.tolist(), to_shapely(ds)))
    for ann in raw["annotations"]:
        parts = []
        for ring in ann["segmentation"]:
            x, y = np.array(ring[0::2]), np.array(ring[1::2])
            parts.append(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
        got = sorted(shapely.area(p) for p in geoms[ann["id"]].geoms)
        assert np.allclose(got, sorted(parts), rtol=1e-12)


def test_diagnostics_count_what_is_wrong(tmp_path):
    square = [0, 0, 10, 0, 10, 10, 0, 10]
    bowtie = [0, 0, 10, 10, 10, 0, 0, 10]                      # crosses itself
    ds = _write(tmp_path, [[square], [bowtie], [square, [20, 20, 30, 20]],   # 2-point ring
                           [square, [5, 5, 15, 5, 15, 15, 5, 15]]])          # overlapping parts
    d = outline_diagnostics(ds)
    assert d["rings"] == 6 and d["degenerate_rings"] == 1 and d["self_intersecting_rings"] == 1
    assert sorted(d["examples"]) == [2, 4] and d["invalid_instances"] == 2
    assert ds.warnings.counts["degenerate_ring"] == 1          # the loader counted it too
    res = cocodiff.stats(ds, validity=True)["datasets"][0]
    assert (res["degenerate_rings"], res["self_intersecting_rings"], res["invalid_instances"]) == (1, 1, 2)


def test_geometric_iou_cross_checks_the_raster_iou():
    """Large real objects: exact-geometry IoU and pycocotools' mask IoU agree to the pixel grid."""
    a = cocodiff.load(DATA / "derived" / "lvis_overlap_coco_gt.json")
    b = cocodiff.load(DATA / "derived" / "lvis_overlap_lvis_cocofied.json")
    res = cocodiff.compare(a, b).to_pandas()
    m = res[res.relation == "matched"]
    assert len(m) == 7
    ra = {v: i for i, v in enumerate(a.ann_id.tolist())}
    rb = {v: i for i, v in enumerate(b.ann_id.tolist())}
    for _, row in m.iterrows():
        g = geometric_iou(a, ra[row.a_id], b, rb[row.b_id])
        assert abs(g - row.iou) < 0.03, (row.a_id, row.b_id, g, row.iou)
    assert geometric_iou(a, 0, a, 0) == 1.0


def test_geometric_iou_refuses_rle(tmp_path):
    ds = cocodiff.load(DATA / "coco2017_subsets" / "tinycoco_instances_val2017.json")
    crowd = int(np.flatnonzero(ds.kind != 0)[0])
    with pytest.raises(ValueError, match="RLE"):
        geometric_iou(ds, crowd, ds, 0)


def test_from_shapely_refuses_holes():
    with pytest.raises(ValueError, match="holes"):
        from_shapely([shapely.box(0, 0, 10, 10).difference(shapely.box(2, 2, 4, 4))])
