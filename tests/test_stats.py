"""The statistics table against an independent count (plain json + Python loops)."""
from __future__ import annotations

import json

import numpy as np
import pytest

import cocodiff
from cocodiff.cli import main
from conftest import DATA, REAL_INSTANCE_FILES


def ref_stats(d):
    anns = d["annotations"]
    r = dict(images=len(d["images"]), categories=len(d["categories"]),
             classes=len({a["category_id"] for a in anns}), instances=len(anns),
             crowds=sum(1 for a in anns if a.get("iscrowd", 0) == 1),
             multi_polygon=0, vertices=0, vertices_closed=0, very_small=0, small=0, medium=0, large=0)
    for a in anns:
        s = a["segmentation"]
        if isinstance(s, list):
            if len(s) > 1:
                r["multi_polygon"] += 1
            for ring in s:
                r["vertices"] += len(ring) // 2
                r["vertices_closed"] += len(ring) // 2 + 1
        area = a["area"]
        if area <= 100:
            r["very_small"] += 1
        if area < 32 * 32:
            r["small"] += 1
        elif area < 96 * 96:
            r["medium"] += 1
        else:
            r["large"] += 1
    return r


def test_stats_vs_independent_count(real_file):
    d = json.loads(real_file.read_text())
    got = cocodiff.stats(cocodiff.load(real_file))
    assert set(got) == {"datasets"}
    assert got["datasets"][0] == ref_stats(d)
    assert all(type(v) is int for v in got["datasets"][0].values())


def test_two_datasets_and_per_class():
    pa, pb = DATA / "derived" / "lvis_overlap_coco_gt.json", DATA / "derived" / "lvis_overlap_lvis_cocofied.json"
    da, db = json.loads(pa.read_text()), json.loads(pb.read_text())
    got = cocodiff.stats(cocodiff.load(pa), cocodiff.load(pb), per_class=True)
    assert got["datasets"] == [ref_stats(da), ref_stats(db)]
    ids = sorted({c["id"] for c in da["categories"]} | {c["id"] for c in db["categories"]})
    na = {i: sum(a["category_id"] == i for a in da["annotations"]) for i in ids}
    nb = {i: sum(a["category_id"] == i for a in db["annotations"]) for i in ids}
    assert got["classes_with_more_instances"] == [sum(na[i] > nb[i] for i in ids), sum(nb[i] > na[i] for i in ids)]
    rows = got["per_class"]
    assert [r["id"] for r in rows] == ids
    names = {c["id"]: c["name"] for c in da["categories"]}
    for r in rows:
        assert r["name"] == names[r["id"]]
        for k, dd in enumerate((da, db)):
            mine = [a for a in dd["annotations"] if a["category_id"] == r["id"]]
            row = r["datasets"][k]
            assert row["instances"] == len(mine)
            assert row["crowds"] == sum(a.get("iscrowd", 0) for a in mine)
            assert row["vertices"] == sum(len(g) // 2 for a in mine if isinstance(a["segmentation"], list)
                                          for g in a["segmentation"])
            assert row["large"] == sum(a["area"] >= 96 ** 2 for a in mine)
            assert row["very_small"] == sum(a["area"] <= 100 for a in mine)


def test_raster_areas_hook():
    ds = cocodiff.load(REAL_INSTANCE_FILES[2])
    ra = np.array([100, 101, 1023, 1024, 9215, 9216, 0])
    got = cocodiff.stats(ds, raster_areas=[ra])["datasets"][0]
    assert (got["raster_very_small"], got["raster_small"], got["raster_medium"], got["raster_large"]) == (2, 4, 2, 1)


def test_cli_table_and_json(capsys):
    pa, pb = REAL_INSTANCE_FILES[0], REAL_INSTANCE_FILES[1]
    assert main(["stats", str(pa), str(pb), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    ra, rb = ref_stats(json.loads(pa.read_text())), ref_stats(json.loads(pb.read_text()))
    assert res["datasets"] == [ra, rb]
    assert main(["stats", str(pa), str(pb)]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("instances"))
    cells = line.split()
    assert cells[1:4] == [f"{ra['instances']:,}", f"{rb['instances']:,}", f"{rb['instances'] - ra['instances']:+,}"]
    assert float(cells[4]) == pytest.approx(rb["instances"] / ra["instances"], abs=1e-3)
    for label in ("images", "classes with more objects", "multi-polygon objects", "vertices (closed rings)",
                  "very small", "medium", "large", "crowds"):
        assert label in out


def test_cli_results_as_b(capsys):
    gt = DATA / "coco2014_val100" / "instances_val2014_100.json"
    res = DATA / "coco2014_val100" / "instances_val2014_fakesegm100_results.json"
    assert main(["stats", str(gt), str(res), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["datasets"][1]["instances"] == len(json.loads(res.read_text()))


def test_cli_help(capsys):
    assert main(["stats", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--per-class" in out and "example" in out
    assert main([]) == 2


def test_python_dash_m_entry_point(tmp_path):
    import subprocess
    import sys
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [], "annotations": [], "categories": [}')
    r = subprocess.run([sys.executable, "-m", "cocodiff", "stats", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and "malformed JSON" in r.stderr
    assert "Traceback" not in r.stderr
