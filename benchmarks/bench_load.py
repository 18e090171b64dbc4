"""Load throughput: cocodiff.load vs json.load vs pycocotools.coco.COCO on a ~40 MB COCO file.

The file is built once per session in a temp dir by replicating the real annotations of
data/ (COCO-2017 subsets, COCO-2014 val100 -- polygons, crowds, list-RLE) with fresh image and
annotation ids. Run: ``pytest benchmarks/bench_load.py --benchmark-enable``; MB/s lands in
``extra_info``.
"""
from __future__ import annotations

import copy
import gc
import json
from pathlib import Path

import pytest

import cocodiff

DATA = Path(__file__).resolve().parent.parent / "data"
SOURCES = [DATA / "coco2017_subsets" / "cocomini_instances_val2017.json",
           DATA / "coco2017_subsets" / "cocomini_instances_train2017.json",
           DATA / "coco2014_val100" / "instances_val2014_100.json"]
TARGET_MB = 40


@pytest.fixture(scope="session")
def big_file(tmp_path_factory):
    docs = [json.loads(p.read_text()) for p in SOURCES]
    cats = docs[0]["categories"]
    one = sum(len(json.dumps(d["annotations"])) + len(json.dumps(d["images"])) for d in docs)
    reps = max(1, int(TARGET_MB * 1e6 / one) + 1)
    images, anns = [], []
    img_base = ann_base = 0
    for _ in range(reps):
        for d in docs:
            remap = {}
            for im in d["images"]:
                img_base += 1
                remap[im["id"]] = img_base
                images.append(dict(im, id=img_base))
            for a in d["annotations"]:
                ann_base += 1
                b = copy.copy(a)
                b["id"] = ann_base
                b["image_id"] = remap[a["image_id"]]
                anns.append(b)
    path = tmp_path_factory.mktemp("bench") / "big_instances.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    return path


def _run(benchmark, big_file, fn, rounds=3):
    """Wall-clock stats from pytest-benchmark; extra_info adds MB/s on the median and on the
    best round's CPU time (process_time, steadier on a shared machine)."""
    import time

    size_mb = big_file.stat().st_size / 1e6
    cocodiff.load(SOURCES[0])  # warm the JIT cache
    gc.collect()
    cpu = []

    def timed(p):
        t = time.process_time()
        r = fn(p)
        cpu.append(time.process_time() - t)
        return r

    benchmark.pedantic(timed, args=(big_file,), rounds=rounds, iterations=1, warmup_rounds=0)
    med = benchmark.stats.stats.median
    benchmark.extra_info["file_MB"] = round(size_mb, 1)
    benchmark.extra_info["MB_per_s"] = round(size_mb / med, 1)
    benchmark.extra_info["MB_per_s_best_cpu"] = round(size_mb / min(cpu), 1)


def test_load_cocodiff(benchmark, big_file):
    _run(benchmark, big_file, cocodiff.load, rounds=7)


def test_load_json(benchmark, big_file):
    def f(p):
        with open(p, "rb") as fh:
            return json.load(fh)
    _run(benchmark, big_file, f)


def test_load_pycocotools(benchmark, big_file):
    from pycocotools.coco import COCO
    import contextlib
    import io

    def f(p):
        with contextlib.redirect_stdout(io.StringIO()):
            return COCO(str(p))
    _run(benchmark, big_file, f)
