"""Speed of ``cocodiff.evaluate`` (COCO AP, segm) against pycocotools' and hotcoco's ``COCOeval``,
in one run, on the val-size twin (``twin_val``: 5,000 images, ~36k ground truths in ``a.json``).

Detections (written once next to the twin, ``eval_segm_results_s0_v1.json``): per ground truth
instance one to three jittered copies of its first ring (scaled, shifted), false positives,
scores on a coarse grid (ties), at most 100 per image; compressed-RLE segmentations as a
detector writes them, no ``bbox`` (``loadRes``' segm branch).

``test_eval_val_pycocotools``
    ``COCO(a)``, ``loadRes(results)``, ``COCOeval(..., "segm")`` ``evaluate()`` +
    ``accumulate()`` + ``summarize()`` (prints silenced). One round: minutes.
``test_eval_val_hotcoco``
    the same with ``hotcoco`` (``COCO``, ``load_res`` of the path, ``COCOeval``).
``test_eval_val_cocodiff``
    ``cocodiff.evaluation.evaluate(results_path, a_path, "segm")`` -- loading both files included.
    Runs after the peers and puts ``speedup_vs_pycocotools`` / ``speedup_vs_hotcoco`` (wall-clock
    medians of this run; targets >= 10x and > 1x) into ``extra_info``, with
    ``max_abs_stats_diff_vs_pycocotools`` (the twelve numbers; must be <= 1e-12).
``test_eval_val_cocodiff_two_gt``
    ``evaluate_many(results, [a, b])`` (detections rasterised once): ``ratio_vs_one_gt`` in
    ``extra_info`` (target < 2; B has ~25% more instances than A).

Run: ``pytest benchmarks/bench_eval.py --benchmark-enable -p no:randomly``;
``python benchmarks/bench_eval.py`` does one timed run of each.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cocodiff import mask as mu
from cocodiff.evaluation import evaluate, evaluate_many
from conftest import measure, record_speedups

RESULTS_NAME = "eval_segm_results_s0_v1.json"
MAX_PER_IMAGE = 100

_TIMES: dict = {}
_STATS: dict = {}


def make_results(gt_path, out_path, seed=0):
    """Write segm detections made from the ground truth ``gt_path`` (see the module docstring)."""
    with open(gt_path, "rb") as f:
        gt = json.load(f)
    rng = np.random.default_rng(seed)
    imgs = {im["id"]: im for im in gt["images"]}
    cat_ids = [c["id"] for c in gt["categories"]]
    by_img: dict = {}
    for an in gt["annotations"]:
        by_img.setdefault(an["image_id"], []).append(an)
    out = []
    for image_id in sorted(imgs):
        im = imgs[image_id]
        H, W = im["height"], im["width"]
        rings, cats = [], []
        for an in by_img.get(image_id, []):
            seg = an["segmentation"]
            x, y, w, h = an["bbox"]
            if isinstance(seg, list):
                base = np.asarray(max(seg, key=len), float)
            else:
                base = np.asarray([x, y, x, y + h, x + w, y + h, x + w, y], float)
            s = max(w, h, 1.0)
            for _ in range(int(rng.integers(1, 5))):
                r = base.copy()
                k = 1 + rng.normal(0, 0.08)
                cx, cy = x + w / 2, y + h / 2
                r[0::2] = cx + (r[0::2] - cx) * k + rng.normal(0, 0.05 * s)
                r[1::2] = cy + (r[1::2] - cy) * k + rng.normal(0, 0.05 * s)
                rings.append(np.round(r, 2).tolist())
                cats.append(an["category_id"] if rng.random() > 0.03 else int(rng.choice(cat_ids)))
        for _ in range(int(rng.poisson(8))):
            w, h = rng.uniform(4, W / 2), rng.uniform(4, H / 2)
            x, y = rng.uniform(0, W - w), rng.uniform(0, H - h)
            rings.append(np.round([x, y, x, y + h, x + w, y + h, x + w, y], 2).tolist())
            cats.append(int(rng.choice(cat_ids)))
        if not rings:
            continue
        keep = np.sort(rng.permutation(len(rings))[:MAX_PER_IMAGE])
        rles = mu.frPyObjects([rings[i] for i in keep], H, W)
        for i, rle in zip(keep, rles):
            out.append({"image_id": image_id, "category_id": cats[i],
                        "segmentation": {"size": [H, W], "counts": rle["counts"].decode("ascii")},
                        "score": float(rng.integers(0, 1001)) / 1000})
    tmp = Path(str(out_path) + ".tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(out_path)
    return out_path


def _measure(benchmark, name, fn, rounds, warmup=1):
    """:func:`conftest.measure` into this module's ``_TIMES``."""
    return measure(benchmark, _TIMES, name, fn, rounds, warmup)


# ----------------------------------------------------------------------------- pipelines
def pycocotools_pipeline(gt_path, res_path):
    # the peers are imported where they are used: optional (hotcoco), and not part of cocodiff's timings
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        dt = gt.loadRes(str(res_path))
        E = COCOeval(gt, dt, "segm")
        E.evaluate()
        E.accumulate()
        E.summarize()
    return np.asarray(E.stats)


def hotcoco_pipeline(gt_path, res_path):
    import hotcoco

    with contextlib.redirect_stdout(io.StringIO()):
        gt = hotcoco.COCO(str(gt_path))
        dt = gt.load_res(str(res_path))
        E = hotcoco.COCOeval(gt, dt, "segm")
        E.evaluate()
        E.accumulate()
        E.summarize()
    return np.asarray(E.stats)


def cocodiff_pipeline(gt_path, res_path, threads=None):
    return evaluate(res_path, gt_path, "segm", threads=threads).stats


def cocodiff_two_gt(a_path, b_path, res_path, threads=None):
    return [e.stats for e in evaluate_many(res_path, [a_path, b_path], "segm", threads=threads)]


# ----------------------------------------------------------------------------- val-size twin
@pytest.fixture(scope="module")
def val_eval(twin_val):
    d = Path(twin_val["dir"])
    res = d / RESULTS_NAME
    if not res.exists():
        make_results(twin_val["a"], res)
    return Path(twin_val["a"]), Path(twin_val["b"]), res


def test_eval_val_pycocotools(benchmark, val_eval):
    a, _, res = val_eval
    _STATS["pycocotools"] = _measure(benchmark, "pycocotools", lambda: pycocotools_pipeline(a, res), rounds=1,
                                     warmup=0)
    benchmark.extra_info["stats"] = [round(float(x), 6) for x in _STATS["pycocotools"]]


def test_eval_val_hotcoco(benchmark, val_eval):
    pytest.importorskip("hotcoco")
    a, _, res = val_eval
    _STATS["hotcoco"] = _measure(benchmark, "hotcoco", lambda: hotcoco_pipeline(a, res), rounds=3)


def test_eval_val_cocodiff(benchmark, val_eval):
    a, _, res = val_eval
    stats = _measure(benchmark, "cocodiff", lambda: cocodiff_pipeline(a, res), rounds=5, warmup=2)
    record_speedups(benchmark, _TIMES, "cocodiff")
    for peer in ("pycocotools", "hotcoco"):
        if peer in _STATS:
            benchmark.extra_info[f"max_abs_stats_diff_vs_{peer}"] = float(np.abs(stats - _STATS[peer]).max())
    if "pycocotools" in _STATS:
        assert np.abs(stats - _STATS["pycocotools"]).max() <= 1e-12


def test_eval_val_cocodiff_two_gt(benchmark, val_eval):
    a, b, res = val_eval
    _measure(benchmark, "cocodiff_two", lambda: cocodiff_two_gt(a, b, res), rounds=3, warmup=1)
    if "cocodiff" in _TIMES:
        benchmark.extra_info["ratio_vs_one_gt"] = round(_TIMES["cocodiff_two"]["wall"] / _TIMES["cocodiff"]["wall"], 3)


if __name__ == "__main__":   # one timed run of each: python benchmarks/bench_eval.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from conftest import _get_twin, _twin_root

    t = _get_twin(_twin_root(), "val")
    res = Path(t["dir"]) / RESULTS_NAME
    if not res.exists():
        make_results(t["a"], res)
    cocodiff_pipeline(t["a"], res)
    for name, fn in (("cocodiff", lambda: cocodiff_pipeline(t["a"], res)),
                     ("cocodiff two gt", lambda: cocodiff_two_gt(t["a"], t["b"], res)),
                     ("hotcoco", lambda: hotcoco_pipeline(t["a"], res)),
                     ("pycocotools", lambda: pycocotools_pipeline(t["a"], res))):
        w = time.perf_counter()
        fn()
        print(f"{name}: {time.perf_counter() - w:.2f} s")
