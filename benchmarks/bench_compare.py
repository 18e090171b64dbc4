"""End-to-end speed of ``cocodiff compare`` on the synthetic COCO-2017 / Sama-COCO twins,
against the pipelines one would write with the peers, in the same run.

Val-size twin (``twin_val``: 5,000 images, ~36k vs ~45k instances), each measured end to end
from the two JSON files:

``test_val_pycocotools``
    ``COCO()`` both files, ``annToRLE`` every instance, ``maskUtils.iou`` per
    (image, category) with A as gt (crowd flags) and B as dt, pycocotools-style greedy match
    at IoU 0.5.
``test_val_hotcoco``
    ``hotcoco.COCO`` for A, B's annotations as results with ``score = 1``
    (``load_res``), ``COCOeval(A, B, "segm").evaluate()`` (per-image IoU + greedy matching
    at every COCO threshold and area range).
``test_val_cocodiff``
    ``cocodiff.compare`` of the two paths (both files loaded at once, :func:`cocodiff.loader.load_pair`;
    rasterise, candidate pairs, IoU, optimal assignment, relations, Boundary IoU) and
    ``Comparison.write`` (parquet + summary).
    Runs last and puts ``speedup_vs_pycocotools`` / ``speedup_vs_hotcoco`` (targets >= 10x /
    >= 4x; wall-clock medians of this run) into ``extra_info``, with ``agreement_a`` /
    ``agreement_b``: the share of A / B instances whose relation is the twin's true one
    (``truth.json``, :func:`cocodiff.score.score`).

Full-size twin (``twin_full``: 118,287 images, ~0.86M vs ~1.08M instances, 22M vs 40M
vertices): ``test_full_cocodiff`` (marked ``slow``; runs only with ``--run-slow`` when that
option is registered, or ``COCODIFF_BENCH_FULL=1``) -- the same end-to-end pipeline, with the
per-stage wall / CPU seconds of :attr:`cocodiff.matching.Comparison.timings` (summed over the
threads when batches run at once) and the peak RSS (``ru_maxrss``) in ``extra_info``.
``test_full_cli_first_run`` / ``test_full_cli_rerun`` (same gate): ``cocodiff compare`` as a
user runs it, a fresh process per round (interpreter start, imports, load, compare, write),
without the columnar caches (removed before each round) and with them; wall time per round and
the child's own CPU time and peak RSS in ``extra_info``. ``test_full_pycocotools`` (also needs
``COCODIFF_BENCH_FULL_PEERS=1``; minutes, ~8 GB): the pycocotools pipeline on the full twin,
one round in a child process, run before the CLI tests so they report
``speedup_vs_pycocotools``.

Every test also records CPU-time medians (``cpu_median_s``; all threads of the process)
next to wall time: on a loaded machine CPU time is the steadier figure.

Warm-up: every pipeline runs once untimed before its timed rounds (cocodiff three times, as
its rounds are short). On a virtual machine whose host backs guest memory lazily -- the
2-vCPU Firecracker VM the README's figures come from -- memory a process frees is handed
back to the host after a few seconds, and the first touch of a page costs ~2 s per GB; a
pipeline's first rounds after another pipeline has run are then slower by up to 40 % (for
cocodiff, whose rounds are short), an artefact of the VM rather than of either pipeline.

Run: ``pytest benchmarks/bench_compare.py --benchmark-enable -p no:randomly``
(add ``COCODIFF_BENCH_FULL=1`` for the full twin; the twins are written once to
``.benchmarks/twins``). ``python benchmarks/bench_compare.py [val|full]`` does one timed run.
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from conftest import measure, record_speedups

FULL_ENV = os.environ.get("COCODIFF_BENCH_FULL") == "1"
IOU_THRESHOLD = 0.5

#: wall / CPU seconds of every pipeline measured in this session (ratios for extra_info)
_TIMES: dict = {}


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6   # KiB on Linux


def _measure(benchmark, name, fn, rounds, warmup=1):
    """:func:`conftest.measure` into this module's ``_TIMES``."""
    return measure(benchmark, _TIMES, name, fn, rounds, warmup)


# ----------------------------------------------------------------------------- pipelines

def cocodiff_pipeline(a_path, b_path, out_dir, threads=None):
    import cocodiff
    c = cocodiff.compare(a_path, b_path, progress=False, threads=threads)   # loads both (at once)
    c.write(out_dir)
    return c


def pycocotools_pipeline(a_path, b_path, thr=IOU_THRESHOLD):
    """The straightforward pycocotools way: IoU per (image, category), greedy match."""
    from pycocotools import mask as mu
    from pycocotools.coco import COCO
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        ca = COCO(str(a_path))
        cb = COCO(str(b_path))
    ga = defaultdict(list)
    for an in ca.dataset["annotations"]:
        ga[an["image_id"], an["category_id"]].append(an)
    gb = defaultdict(list)
    for an in cb.dataset["annotations"]:
        gb[an["image_id"], an["category_id"]].append(an)
    n_matched = 0
    for key, a_list in ga.items():
        b_list = gb.get(key)
        if not b_list:
            continue
        gt = [ca.annToRLE(x) for x in a_list]
        dt = [cb.annToRLE(x) for x in b_list]
        ious = np.asarray(mu.iou(dt, gt, [int(x.get("iscrowd", 0)) for x in a_list]))
        if ious.size == 0:
            continue
        order = np.argsort(-ious, axis=None, kind="stable")
        used_d, used_g = set(), set()
        for flat in order:
            d, g = divmod(int(flat), len(gt))
            if ious[d, g] < thr:
                break
            if d in used_d or g in used_g:
                continue
            used_d.add(d)
            used_g.add(g)
            n_matched += 1
    # B-only (image, category) groups still need their masks, as a full comparison would
    for key, b_list in gb.items():
        if key not in ga:
            for x in b_list:
                cb.annToRLE(x)
    return n_matched


def hotcoco_pipeline(a_path, b_path):
    """hotcoco's COCOeval segm evaluation with A as ground truth and B (score 1) as detections."""
    import hotcoco

    gt = hotcoco.COCO(str(a_path))
    with open(b_path, "rb") as f:
        anns = json.load(f)["annotations"]
    dets = [dict(image_id=x["image_id"], category_id=x["category_id"], segmentation=x["segmentation"],
                 score=1.0) for x in anns]
    dt = gt.load_res(dets)
    ev = hotcoco.COCOeval(gt, dt, "segm")
    ev.evaluate()
    return ev


# ----------------------------------------------------------------------------- val-size twin

@pytest.fixture(scope="module")
def val_paths(twin_val):
    return Path(twin_val["a"]), Path(twin_val["b"])


def test_val_pycocotools(benchmark, val_paths):
    n = _measure(benchmark, "pycocotools", lambda: pycocotools_pipeline(*val_paths), rounds=3)
    benchmark.extra_info["matched"] = int(n)


def test_val_hotcoco(benchmark, val_paths):
    pytest.importorskip("hotcoco")
    _measure(benchmark, "hotcoco", lambda: hotcoco_pipeline(*val_paths), rounds=3)


def test_val_cocodiff(benchmark, val_paths, tmp_path):
    cocodiff_pipeline(*val_paths, tmp_path / "warm")        # compile / warm the caches
    c = _measure(benchmark, "cocodiff", lambda: cocodiff_pipeline(*val_paths, tmp_path / "out"), rounds=9,
                 warmup=3)
    record_speedups(benchmark, _TIMES, "cocodiff")
    benchmark.extra_info["relations"] = c.summary()["relations"]
    benchmark.extra_info["stages"] = c.timings
    _record_agreement(benchmark, c, Path(val_paths[0]).parent / "truth.json")
    assert c.table.num_rows > 0


def _record_agreement(benchmark, c, truth):
    """The output's agreement with the twin's truth (share of A / B instances with their true
    relation, :func:`cocodiff.score.score`) beside the time: speed is worth nothing if the answer
    is wrong."""
    from cocodiff.score import score
    s = score(c, truth)
    for side in ("a", "b"):
        benchmark.extra_info[f"agreement_{side}"] = round(s[side]["agreement"], 5)


# ----------------------------------------------------------------------------- full-size twin

def _full_enabled(config) -> bool:
    try:
        flag = bool(config.getoption("--run-slow", default=False))
    except ValueError:
        flag = False
    return FULL_ENV or flag


@pytest.mark.slow
def test_full_cocodiff(benchmark, request, twin_factory, tmp_path):
    if not _full_enabled(request.config):
        pytest.skip("full-size twin: pass --run-slow or set COCODIFF_BENCH_FULL=1")
    t = twin_factory("full")
    a, b = Path(t["a"]), Path(t["b"])
    small = twin_factory("val")
    cocodiff_pipeline(small["a"], small["b"], tmp_path / "warm")   # compile the parallel kernels
    rss0 = _peak_rss_gb()
    # warm-up: the columnar caches' pages into the OS page cache (a re-run), not a compile
    c = _measure(benchmark, "cocodiff_full", lambda: cocodiff_pipeline(a, b, tmp_path / "out"), rounds=2,
                 warmup=1)
    benchmark.extra_info["peak_rss_gb"] = round(_peak_rss_gb(), 3)
    benchmark.extra_info["peak_rss_gb_before"] = round(rss0, 3)
    benchmark.extra_info["instances"] = [c.meta["a_instances"], c.meta["b_instances"]]
    benchmark.extra_info["vertices"] = [c.meta["a_vertices"], c.meta["b_vertices"]]
    benchmark.extra_info["stages"] = c.timings
    _record_agreement(benchmark, c, t["truth"])
    from cocodiff.engine._jit import get_threads
    benchmark.extra_info["threads"] = get_threads()
    assert c.table.num_rows >= c.meta["a_instances"] * 0.5


#: appended to a child's code, which sets ``rc`` and ``extra`` (a dict): its last line of output,
#: with its CPU time and its peak RSS since its ``exec`` (``VmHWM``; a child's ``ru_maxrss``
#: starts at its parent's at the fork, so it cannot tell the child's own)
_CHILD_REPORT = (";import json, resource; r = resource.getrusage(resource.RUSAGE_SELF);"
                 "hwm = [int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM:')][0];"
                 "print(json.dumps(dict(rc=rc, cpu=r.ru_utime + r.ru_stime, rss=hwm / 1e6, **extra)))")


def _child(code):
    """Run ``python -c code`` (+ :data:`_CHILD_REPORT`) as a child process; returns (wall s, its
    report dict)."""
    w = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code + _CHILD_REPORT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.perf_counter() - w
    if proc.returncode != 0:
        raise AssertionError(f"child exited {proc.returncode}: {err.decode()[-2000:]}")
    return wall, json.loads(out.decode().strip().splitlines()[-1])


def _cli_round(a, b, out_dir):
    """One ``cocodiff compare`` process, as a user runs it: interpreter start, imports, load,
    compare, write. The child reports its own exit status, CPU time and peak RSS."""
    wall, rep = _child("from cocodiff.cli import main; extra = {};"
                       "rc = main(['compare', %r, %r, '-o', %r, '--quiet'])" % (str(a), str(b), str(out_dir)))
    assert rep["rc"] == 0, rep
    assert (Path(out_dir) / "matches.parquet").is_file()
    return wall, rep


def _cli_measure(benchmark, name, a, b, out_dir, first, rounds):
    """``rounds`` timed :func:`_cli_round`; ``first``: both columnar caches are removed before
    each (untimed), so every round parses both files."""
    import cocodiff.cache
    reps = []

    def clear():
        for p in (a, b):
            cocodiff.cache.clear(p)

    def one():
        reps.append(_cli_round(a, b, out_dir))

    benchmark.pedantic(one, setup=clear if first else None, rounds=rounds, iterations=1)
    walls = [w for w, _ in reps]
    _TIMES[name] = {"wall": statistics.median(walls), "cpu": statistics.median(r["cpu"] for _, r in reps)}
    benchmark.extra_info["wall_s"] = [round(w, 2) for w in walls]
    benchmark.extra_info["cpu_s"] = [round(r["cpu"], 2) for _, r in reps]
    benchmark.extra_info["peak_rss_gb"] = [round(r["rss"], 3) for _, r in reps]
    if "pycocotools_full" in _TIMES:
        benchmark.extra_info["speedup_vs_pycocotools"] = round(_TIMES["pycocotools_full"]["wall"]
                                                               / _TIMES[name]["wall"], 2)


@pytest.mark.slow
def test_full_pycocotools(benchmark, request, twin_factory):
    """The pycocotools pipeline on the full twin, one round in a child process (its ~8 GB of
    Python objects must not count in the cocodiff tests' peak RSS). Minutes: runs only with
    ``COCODIFF_BENCH_FULL_PEERS=1`` as well."""
    if not _full_enabled(request.config) or os.environ.get("COCODIFF_BENCH_FULL_PEERS") != "1":
        pytest.skip("full-size peer: set COCODIFF_BENCH_FULL=1 and COCODIFF_BENCH_FULL_PEERS=1")
    t = twin_factory("full")
    code = ("import sys; sys.path.insert(0, %r); import bench_compare as bc;"
            "extra = dict(n=bc.pycocotools_pipeline(%r, %r)); rc = 0"
            % (str(Path(__file__).parent), str(t["a"]), str(t["b"])))
    reps = []
    benchmark.pedantic(lambda: reps.append(_child(code)), rounds=1, iterations=1)
    wall, rep = reps[0]
    _TIMES["pycocotools_full"] = {"wall": wall, "cpu": rep["cpu"]}
    benchmark.extra_info.update(wall_s=round(wall, 2), cpu_s=round(rep["cpu"], 2), peak_rss_gb=round(rep["rss"], 3),
                                matched=rep["n"])
    assert rep["n"] > 0


@pytest.mark.slow
def test_full_cli_first_run(benchmark, request, twin_factory, tmp_path):
    """``cocodiff compare`` of the full twin in a fresh process with no columnar cache: the first
    run a user sees (both files parsed and cached, compared, written). Two rounds."""
    if not _full_enabled(request.config):
        pytest.skip("full-size twin: pass --run-slow or set COCODIFF_BENCH_FULL=1")
    t = twin_factory("full")
    _cli_measure(benchmark, "cli_first", Path(t["a"]), Path(t["b"]), tmp_path / "out", True, rounds=2)


@pytest.mark.slow
def test_full_cli_rerun(benchmark, request, twin_factory, tmp_path):
    """``cocodiff compare`` of the full twin in a fresh process, columnar caches present (a
    re-run): one untimed run first so both caches exist and sit in the OS page cache."""
    if not _full_enabled(request.config):
        pytest.skip("full-size twin: pass --run-slow or set COCODIFF_BENCH_FULL=1")
    t = twin_factory("full")
    a, b = Path(t["a"]), Path(t["b"])
    _cli_round(a, b, tmp_path / "warm")
    _cli_measure(benchmark, "cli_rerun", a, b, tmp_path / "out", False, rounds=3)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from conftest import _get_twin, _twin_root

    scale = sys.argv[1] if len(sys.argv) > 1 else "val"
    t = _get_twin(_twin_root(), scale)
    v = _get_twin(_twin_root(), "val")
    with tempfile.TemporaryDirectory() as td:
        cocodiff_pipeline(v["a"], v["b"], Path(td) / "warm")
        w, cp = time.perf_counter(), time.process_time()
        c = cocodiff_pipeline(t["a"], t["b"], Path(td) / "out")
        print(f"{scale}: wall {time.perf_counter() - w:.2f} s, cpu {time.process_time() - cp:.2f} s, "
              f"peak RSS {_peak_rss_gb():.2f} GB, rows {c.table.num_rows}")
        for k, v in c.timings.items():
            print(f"  {k:14s} wall {v['wall']:7.3f}  cpu {v['cpu']:7.3f}")
