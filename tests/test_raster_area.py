"""Rasterised areas (stats --raster-area) against pycocotools' masks of the same annotations."""
from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools import mask as maskUtils

import cocodiff
from cocodiff.cli import main
from cocodiff.rasterize import raster_areas

from conftest import DATA


def _pycoco_areas(path):
    coco = COCO(str(path))
    return {aid: int(maskUtils.area(coco.annToRLE(ann))) for aid, ann in coco.anns.items()}


@pytest.mark.parametrize("name", ["coco2014_val100/instances_val2014_100.json",
                                  "coco2017_subsets/cocomini_instances_val2017.json",
                                  "panoptic_sample/panoptic_coco_detection_format.json"])
def test_raster_areas_equal_pycocotools(name):
    path = DATA / name
    ds = cocodiff.load(path)
    expected = _pycoco_areas(path)
    # small batches so the batching itself is exercised
    got = raster_areas(ds, threads=1, batch_rows=97)
    assert len(got) == len(expected)
    assert dict(zip(ds.ann_id.tolist(), got.tolist())) == expected


def test_stats_cli_raster_area_buckets(capsys):
    a = DATA / "coco2014_val100" / "instances_val2014_100.json"
    b = DATA / "derived" / "val2014_100_fakesegm_as_annotations.json"
    assert main(["stats", str(a), str(b), "--json", "--raster-area", "--no-cache"]) == 0
    res = json.loads(capsys.readouterr().out)
    for row, path in zip(res["datasets"], (a, b)):
        areas = np.array(list(_pycoco_areas(path).values()))
        assert row["raster_very_small"] == int((areas <= 100).sum())
        assert row["raster_small"] == int((areas < 32 ** 2).sum())
        assert row["raster_medium"] == int(((areas >= 32 ** 2) & (areas < 96 ** 2)).sum())
        assert row["raster_large"] == int((areas >= 96 ** 2).sum())
    # the file's area field and the pixel count really do differ near a bound on this file
    assert res["datasets"][0]["raster_very_small"] != res["datasets"][0]["very_small"]


def test_stats_table_shows_raster_rows_only_when_asked(capsys):
    a = str(DATA / "coco2017_subsets" / "tinycoco_instances_val2017.json")
    assert main(["stats", a, "--no-cache"]) == 0
    assert "mask pixels" not in capsys.readouterr().out
    assert main(["stats", a, "--raster-area", "--no-cache"]) == 0
    assert "mask pixels" in capsys.readouterr().out
