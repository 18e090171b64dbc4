"""Mask IoU throughput: cocodiff vs pycocotools.mask.iou vs hotcoco.mask.iou.

Workload: every annotation mask of the real files in data/ (tests/conftest.py
REAL_INSTANCE_FILES; polygons rasterised once with pycocotools), grouped by (file, image);
the IoU of every ordered pair of masks within an image, crowd flags from the file. The
groups are replicated to about 350k pairs.

Peers:
* ``pycocotools`` -- ``pycocotools.mask.iou(rles, rles, iscrowd)`` per image, as
  COCOeval and user code loop (compressed strings are parsed inside every call);
* ``hotcoco`` -- ``hotcoco.mask.iou`` per image, same loop;
* ``cocodiff_dropin`` -- ``cocodiff.mask.iou`` per image, same loop;
* ``cocodiff_pairs_serial`` / ``cocodiff_pairs_2threads`` -- the comparison's kernels over a
  decoded RLE store (with the mask heights), every same-image pair in one batch:
  :func:`cocodiff.measures.mask_facts` then :func:`cocodiff.measures.pair_measures`
  (intersection and both IoUs per pair), on one thread and on 2 -- what ``cocodiff.compare``
  runs on every batch; kernel only;
* ``cocodiff_pairs_from_rles`` -- like for like with the peers: from the same RLE dicts, the
  strings decoded and the pair lists built inside the timed call, then the serial kernels.

Every variant's output is checked against pycocotools (difference exactly 0). Compilation is
excluded by a warm-up call. Ratios (pycocotools median / variant median) land in
``extra_info``.

Run: ``pytest benchmarks/bench_iou.py --benchmark-enable``. On a shared / loaded machine
add ``--benchmark-timer=time.process_time`` for the serial ratios (CPU time of this process;
it sums over threads, so judge the 2-thread variants by wall time on an idle machine only).
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from ref_rle import load_real_rles  # noqa: E402


def _real_files():
    # tests/conftest.py under its own name (benchmarks/conftest.py owns "conftest")
    import importlib.util
    spec = importlib.util.spec_from_file_location("_cocodiff_tests_conftest", ROOT / "tests" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.REAL_INSTANCE_FILES


from cocodiff import mask as C  # noqa: E402
from cocodiff.measures import mask_facts, pair_measures  # noqa: E402

TARGET_PAIRS = 300_000
ROUNDS = 5
_RESULTS: dict[str, float] = {}

warnings.filterwarnings("ignore", message="__array__ implementation")


def _groups():
    groups = []
    for p in _real_files():
        for rl, cr in load_real_rles(p).values():
            if len({tuple(r["size"]) for r in rl}) == 1:
                groups.append((rl, cr))
    pairs = sum(len(rl) ** 2 for rl, _ in groups)
    reps = -(-TARGET_PAIRS // pairs)
    return groups * reps


@pytest.fixture(scope="module")
def workload():
    groups = _groups()
    rles, crowd, pa, pb = [], [], [], []
    for rl, cr in groups:
        base = len(rles)
        n = len(rl)
        rles += rl
        crowd += cr
        a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")  # dt-major like iou(rl, rl)
        pa.append(base + a.ravel())
        pb.append(base + b.ravel())
    counts, offsets, hs, _ = C.rles_to_store(rles)
    pa = np.concatenate(pa).astype(np.int64)
    pb = np.concatenate(pb).astype(np.int64)
    crowd_b = np.asarray(crowd, np.uint8)[pb]
    from pycocotools import mask as P
    expected = np.concatenate([np.asarray(P.iou(rl, rl, cr)).ravel() for rl, cr in groups])
    return dict(groups=groups, counts=counts, offsets=offsets, h=hs, pa=pa, pb=pb, crowd_b=crowd_b,
                expected=expected, n_pairs=len(pa), n_masks=len(rles))


def _record(benchmark, name, w):
    med = benchmark.stats.stats.median
    _RESULTS[name] = med
    benchmark.extra_info["pairs"] = int(w["n_pairs"])
    benchmark.extra_info["masks"] = int(w["n_masks"])
    benchmark.extra_info["pairs_per_s"] = float(w["n_pairs"] / med)
    if "pycocotools" in _RESULTS and name != "pycocotools":
        benchmark.extra_info["speedup_vs_pycocotools"] = float(_RESULTS["pycocotools"] / med)
    if "hotcoco" in _RESULTS and name != "hotcoco":
        benchmark.extra_info["speedup_vs_hotcoco"] = float(_RESULTS["hotcoco"] / med)


def _loop(mod, groups):
    return [mod.iou(rl, rl, cr) for rl, cr in groups]


def _flat(results):
    return np.concatenate([np.asarray(r).ravel() for r in results])


def test_pycocotools(benchmark, workload):
    from pycocotools import mask as P
    res = benchmark.pedantic(_loop, args=(P, workload["groups"]), rounds=ROUNDS, warmup_rounds=1)
    assert np.array_equal(_flat(res), workload["expected"])
    _record(benchmark, "pycocotools", workload)


def test_hotcoco(benchmark, workload):
    hotcoco = pytest.importorskip("hotcoco")
    if not hasattr(hotcoco, "mask") or not hasattr(hotcoco.mask, "iou"):
        pytest.skip("hotcoco has no mask.iou")
    res = benchmark.pedantic(_loop, args=(hotcoco.mask, workload["groups"]), rounds=ROUNDS,
                             warmup_rounds=1)
    # hotcoco is a peer, not an oracle: record how many entries differ instead of failing
    diff = _flat(res) != workload["expected"]
    benchmark.extra_info["entries_differing_from_pycocotools"] = int(diff.sum())
    _record(benchmark, "hotcoco", workload)


def test_cocodiff_dropin(benchmark, workload):
    res = benchmark.pedantic(_loop, args=(C, workload["groups"]), rounds=ROUNDS, warmup_rounds=1)
    assert np.array_equal(_flat(res), workload["expected"])
    _record(benchmark, "cocodiff_dropin", workload)


def _measures(counts, offsets, pa, pb, crowd_b, h, threads=1):
    """IoU of every pair as the comparison computes it: facts of the store (run starts as
    uint32, as it does for images under 2**32 pixels), then the pair kernel (A = ``pb``, the gt,
    so that ``iou == maskUtils.iou([pa], [pb], [crowd_b])``)."""
    pos = np.empty(counts.shape[0], np.uint32)
    area, _, facts = mask_facts(counts, offsets, h, threads, pos)
    return pair_measures(counts, offsets, pb, pa, crowd_b, area, facts, threads)[1]


def _pairs(w, threads=1):
    return _measures(w["counts"], w["offsets"], w["pa"], w["pb"], w["crowd_b"], w["h"], threads)


def test_cocodiff_pairs_serial(benchmark, workload):
    res = benchmark.pedantic(_pairs, args=(workload,), rounds=ROUNDS, warmup_rounds=1)
    assert np.array_equal(res, workload["expected"])
    _record(benchmark, "cocodiff_pairs_serial", workload)


def test_cocodiff_pairs_from_rles(benchmark, workload):
    """Like for like with the peers' rows: from the same RLE dicts (compressed strings decoded,
    the pair lists built, timed) to the same IoU values."""
    def run(groups):
        rles, crowd, pa, pb = [], [], [], []
        for rl, cr in groups:
            base, n = len(rles), len(rl)
            rles += rl
            crowd += cr
            pa.append(np.repeat(np.arange(base, base + n), n))
            pb.append(np.tile(np.arange(base, base + n), n))
        counts, offsets, hs, _ = C.rles_to_store(rles)
        pa, pb = np.concatenate(pa), np.concatenate(pb)
        return _measures(counts, offsets, pa, pb, np.asarray(crowd, np.uint8)[pb], hs)

    res = benchmark.pedantic(run, args=(workload["groups"],), rounds=ROUNDS, warmup_rounds=1)
    assert np.array_equal(res, workload["expected"])
    _record(benchmark, "cocodiff_pairs_from_rles", workload)


def test_cocodiff_pairs_2threads(benchmark, workload):
    benchmark.extra_info["threads"] = 2
    res = benchmark.pedantic(_pairs, args=(workload, 2), rounds=ROUNDS, warmup_rounds=1)
    assert np.array_equal(res, workload["expected"])
    _record(benchmark, "cocodiff_pairs_2threads", workload)
