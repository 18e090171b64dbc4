"""Polygon rasterisation throughput: cocodiff's batch kernels vs pycocotools vs hotcoco.

Workload: every polygon instance of the real files in data/ (tests/conftest.py
REAL_INSTANCE_FILES), replicated to ~50k instances. Each peer produces the annToRLE mask of
every instance: pycocotools / hotcoco call ``frPyObjects(rings, h, w)`` + ``merge`` per
instance (and return compressed strings); cocodiff runs one batch call returning counts
(kernel only: the rings already flat arrays). ``test_cocodiff_from_lists_with_strings`` is the
like-for-like row: from the same Python lists to compressed strings, the conversion to arrays and
the encoding timed as the peers' calls pay for theirs. Compilation is excluded by a warm-up call.
Ratios land in ``extra_info``.

Run: ``pytest benchmarks/bench_raster.py --benchmark-enable``.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _real_instance_files():
    """tests/conftest.py's REAL_INSTANCE_FILES (loaded by path: benchmarks/ has its own conftest)."""
    spec = importlib.util.spec_from_file_location("_cocodiff_tests_conftest", ROOT / "tests" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.REAL_INSTANCE_FILES


REAL_INSTANCE_FILES = _real_instance_files()

from cocodiff.engine import _jit  # noqa: E402
from cocodiff.engine.raster import rasterize_batch, rasterize_batch_parallel  # noqa: E402

TARGET = 50_000
_RESULTS: dict[str, float] = {}


def _polygon_items():
    items = []
    for p in REAL_INSTANCE_FILES:
        d = json.loads(p.read_text())
        size = {im["id"]: (im["height"], im["width"]) for im in d["images"]}
        for a in d["annotations"]:
            seg = a["segmentation"]
            if isinstance(seg, list) and seg and all(len(r) > 4 for r in seg):
                items.append((seg, *size[a["image_id"]]))
    reps = TARGET // len(items) + 1
    return (items * reps)[:TARGET]


def _batch_args(items):
    xy, ring_off, inst_ring, hs, ws = [], [0], [0], [], []
    for seg, h, w in items:
        for ring in seg:
            k = len(ring) // 2
            xy.extend(zip(ring[0:2 * k:2], ring[1:2 * k:2]))
            ring_off.append(ring_off[-1] + k)
        inst_ring.append(len(ring_off) - 1)
        hs.append(h)
        ws.append(w)
    n = len(items)
    return (np.asarray(xy, np.float64).reshape(-1, 2), np.asarray(ring_off, np.int64),
            np.asarray(inst_ring, np.int64), np.zeros(0, np.uint32), np.zeros(n + 1, np.int64),
            np.zeros(n, np.int8), np.asarray(hs, np.int64), np.asarray(ws, np.int64),
            np.arange(n, dtype=np.int64))


@pytest.fixture(scope="module")
def workload():
    items = _polygon_items()
    return items, _batch_args(items)


def _record(benchmark, name, n):
    med = benchmark.stats.stats.median
    _RESULTS[name] = med
    benchmark.extra_info["instances"] = n
    benchmark.extra_info["median_s"] = med
    benchmark.extra_info["instances_per_s"] = n / med
    base = _RESULTS.get("pycocotools")
    if base is not None and name != "pycocotools":
        benchmark.extra_info["speedup_vs_pycocotools"] = base / med
    hc = _RESULTS.get("hotcoco")
    if hc is not None and name.startswith("cocodiff"):
        benchmark.extra_info["speedup_vs_hotcoco"] = hc / med


# peers first, so the cocodiff rows can carry the ratios
def test_pycocotools(benchmark, workload):
    mask = pytest.importorskip("pycocotools.mask")
    items, _ = workload

    def run():
        return [mask.merge(mask.frPyObjects(seg, h, w)) for seg, h, w in items]

    out = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=0)
    assert len(out) == len(items)
    _record(benchmark, "pycocotools", len(items))


def test_hotcoco(benchmark, workload):
    hmask = pytest.importorskip("hotcoco.mask")
    items, _ = workload

    def run():
        return [hmask.merge(hmask.frPyObjects(seg, h, w)) for seg, h, w in items]

    out = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    assert len(out) == len(items)
    _record(benchmark, "hotcoco", len(items))


def test_cocodiff_serial(benchmark, workload):
    items, args = workload
    rasterize_batch(*args)  # compile / load cache
    c, o = benchmark.pedantic(rasterize_batch, args=args, rounds=7, iterations=1, warmup_rounds=1)
    assert o.shape[0] == len(items) + 1
    _record(benchmark, "cocodiff_serial", len(items))


def test_cocodiff_serial_with_strings(benchmark, workload):
    from cocodiff.engine.rle import rle_to_string_batch

    items, args = workload

    def run():
        c, o = rasterize_batch(*args)
        return rle_to_string_batch(c, o)

    run()
    b, bo = benchmark.pedantic(run, rounds=7, iterations=1, warmup_rounds=1)
    assert bo.shape[0] == len(items) + 1
    _record(benchmark, "cocodiff_serial+encode", len(items))


def test_cocodiff_from_lists_with_strings(benchmark, workload):
    """Like for like with the peers' rows: from the same Python lists of rings (the conversion to
    flat arrays timed) to compressed strings."""
    from cocodiff.engine.rle import rle_to_string_batch

    items, _ = workload

    def run():
        c, o = rasterize_batch(*_batch_args(items))
        return rle_to_string_batch(c, o)

    run()
    b, bo = benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    assert bo.shape[0] == len(items) + 1
    _record(benchmark, "cocodiff_from_lists+encode", len(items))


def test_cocodiff_parallel_2_threads(benchmark, workload):
    items, args = workload
    old = _jit.get_threads()
    _jit.set_threads(2)
    try:
        rasterize_batch_parallel(*args)  # compile
        c, o = benchmark.pedantic(rasterize_batch_parallel, args=args, rounds=7, iterations=1,
                                  warmup_rounds=1)
    finally:
        _jit.set_threads(old)
    ref = rasterize_batch(*args)
    assert np.array_equal(c, ref[0]) and np.array_equal(o, ref[1])
    _record(benchmark, "cocodiff_parallel_2t", len(items))
    serial = _RESULTS.get("cocodiff_serial")
    if serial is not None:
        benchmark.extra_info["speedup_vs_serial"] = serial / _RESULTS["cocodiff_parallel_2t"]
