"""Load throughput: cocodiff.load vs json.load vs pycocotools.coco.COCO.

Files
-----
* ``big_file``: ~40 MB, built once per session in a temp dir by replicating the real
  annotations of data/ (COCO-2017 subsets, COCO-2014 val100 -- polygons, crowds, list-RLE) with
  fresh image and annotation ids.
* the full-size synthetic twin (``a.json`` ~440 MB, ``b.json`` ~750 MB; benchmarks/conftest.py
  ``twin_full``): only with ``COCODIFF_BENCH_FULL=1`` (marked ``slow``; ~40 s to write the
  first time, then reused).

Cases: the Numba scanner path on one core (``test_load_cocodiff``: the per-core figure) and
with every Numba thread (``..._threads``: a big file is scanned in parts on the thread pool),
the msgspec path it falls back to, a cached re-load (:mod:`cocodiff.cache`, memory-mapped
arrays), ``json.load`` and pycocotools ``COCO``.

Run: ``pytest benchmarks/bench_load.py --benchmark-enable`` (add ``COCODIFF_BENCH_FULL=1`` for
the full-size files). ``extra_info`` holds ``file_MB``, ``MB_per_s`` (wall, median round) and
``MB_per_s_best_cpu`` (process time of the best round: steadier on a shared machine).
"""
from __future__ import annotations

import contextlib
import copy
import gc
import io
import json
import os
import time
from pathlib import Path

import pytest

import cocodiff
from cocodiff import cache as ccache
from cocodiff import loader

DATA = Path(__file__).resolve().parent.parent / "data"
SOURCES = [DATA / "coco2017_subsets" / "cocomini_instances_val2017.json",
           DATA / "coco2017_subsets" / "cocomini_instances_train2017.json",
           DATA / "coco2014_val100" / "instances_val2014_100.json"]
TARGET_MB = 40
FULL = os.environ.get("COCODIFF_BENCH_FULL") == "1"


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


def _run(benchmark, path, fn, rounds=3):
    """Wall-clock stats from pytest-benchmark; extra_info adds MB/s on the median (wall) and on
    the best round's CPU time (process_time)."""
    size_mb = path.stat().st_size / 1e6
    cocodiff.load(SOURCES[0], cache=False)  # warm the JIT cache
    gc.collect()
    cpu = []

    def timed(p):
        t = time.process_time()
        r = fn(p)
        cpu.append(time.process_time() - t)
        return r

    benchmark.pedantic(timed, args=(path,), rounds=rounds, iterations=1, warmup_rounds=0)
    med = benchmark.stats.stats.median
    benchmark.extra_info["file_MB"] = round(size_mb, 1)
    benchmark.extra_info["MB_per_s"] = round(size_mb / med, 1)
    benchmark.extra_info["MB_per_s_best_cpu"] = round(size_mb / min(cpu), 1)


def _load_scanner(p):
    """One core: the per-core throughput (no scanning in parts)."""
    from cocodiff.engine._jit import using_threads
    with using_threads(1):
        return cocodiff.load(p, cache=False)


def _load_scanner_threads(p):
    """Every Numba thread (a big file is scanned in parts on the thread pool)."""
    import numba
    from cocodiff.engine._jit import using_threads
    with using_threads(numba.config.NUMBA_NUM_THREADS):
        return cocodiff.load(p, cache=False)


def _load_msgspec(p):
    loader._use_scanner = False
    try:
        return cocodiff.load(p, cache=False)
    finally:
        loader._use_scanner = True


def _json(p):
    with open(p, "rb") as fh:
        return json.load(fh)


def _coco(p):
    from pycocotools.coco import COCO
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(p))


def _cached(benchmark, path, tmp_path, rounds):
    cdir = tmp_path / "cache"
    cocodiff.load(path, cache=cdir)          # build it (not timed)
    _run(benchmark, path, lambda p: cocodiff.load(p, cache=cdir), rounds=rounds)
    ccache.clear(path, cdir)


# ---------------------------------------------------------------- ~40 MB replicated real data
def test_load_cocodiff(benchmark, big_file):
    _run(benchmark, big_file, _load_scanner, rounds=7)


def test_load_cocodiff_threads(benchmark, big_file):
    import numba
    _run(benchmark, big_file, _load_scanner_threads, rounds=7)
    benchmark.extra_info["threads"] = numba.config.NUMBA_NUM_THREADS


def test_load_cocodiff_msgspec_path(benchmark, big_file):
    _run(benchmark, big_file, _load_msgspec, rounds=3)


def test_load_cocodiff_cached(benchmark, big_file, tmp_path):
    _cached(benchmark, big_file, tmp_path, rounds=7)


def test_load_json(benchmark, big_file):
    _run(benchmark, big_file, _json)


def test_load_pycocotools(benchmark, big_file):
    _run(benchmark, big_file, _coco)


# ---------------------------------------------------------------- full-size synthetic twin
full = pytest.mark.skipif(not FULL, reason="set COCODIFF_BENCH_FULL=1 for the full-size files")


@pytest.fixture(scope="session", params=["a", "b"])
def full_file(request, twin_factory):
    return Path(twin_factory("full")[request.param])


@pytest.mark.slow
@full
def test_full_load_cocodiff(benchmark, full_file):
    _run(benchmark, full_file, _load_scanner, rounds=2)


@pytest.mark.slow
@full
def test_full_load_cocodiff_threads(benchmark, full_file):
    import numba
    _run(benchmark, full_file, _load_scanner_threads, rounds=2)
    benchmark.extra_info["threads"] = numba.config.NUMBA_NUM_THREADS


@pytest.mark.slow
@full
def test_full_load_cocodiff_msgspec_path(benchmark, full_file):
    _run(benchmark, full_file, _load_msgspec, rounds=1)


@pytest.mark.slow
@full
def test_full_load_cocodiff_cached(benchmark, full_file, tmp_path):
    _cached(benchmark, full_file, tmp_path, rounds=5)


@pytest.mark.slow
@full
def test_full_load_json(benchmark, full_file):
    _run(benchmark, full_file, _json, rounds=1)


@pytest.mark.slow
@full
def test_full_load_pycocotools(benchmark, full_file):
    _run(benchmark, full_file, _coco, rounds=1)
