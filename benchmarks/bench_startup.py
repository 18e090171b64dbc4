"""Cold and warm start: the README's main job as a user runs it, and the first library calls.

``test_main_job``
    the README's first command without the install: ``cocodiff compare`` of the bundled sample,
    ``cocodiff report --from``, ``cocodiff stats``, three commands in fresh processes, as a user
    types them. Cold: an empty cache folder (``COCODIFF_CACHE_DIR``), so every kernel is compiled
    (the comparison's kernels in a second process while the first compiles the JSON scanner, see
    :mod:`cocodiff.warmup`); warm: the same folder again. ``extra_info``: seconds per command and
    in all. With ``COCODIFF_BENCH_BASELINE=<commit>`` (a commit of this repository, e.g.
    ``e3dfde1``) the same job of that commit runs cold in the same session -- its source taken
    with ``git archive``, its package laid out as ``pip install`` would, its own empty Numba cache
    -- and ``speedup_vs_baseline`` compares the two cold runs (the commands that commit had).
``test_cold_and_warm_start``
    ``import cocodiff`` + the first ``mask`` calls / the first ``load`` + ``stats``, in a fresh
    process, cold and warm.

Run: ``pytest benchmarks/bench_startup.py --benchmark-enable -s -p no:randomly``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "coco2014_val100" / "instances_val2014_100.json"
SAMPLE_B = ROOT / "data" / "derived" / "val2014_100_fakesegm_as_annotations.json"

FIRST_CALLS = {
    # the drop-in: one polygon to RLE, merged, area and IoU -- what a pycocotools user calls first
    "mask": ("from cocodiff import mask as m\n"
             "r = m.merge(m.frPyObjects([[10, 10, 50, 12, 30, 40]], 64, 64))\n"
             "m.area(r); m.iou([r], [r], [0])\n"),
    # load a real file and count the statistics table
    "stats": f"import cocodiff\ncocodiff.stats(cocodiff.load({str(SAMPLE)!r}, cache=False))\n",
}


def _env(cache_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env.update(COCODIFF_CACHE_DIR=str(cache_dir), **extra)
    return env


def _run(code: str, cache_dir: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import cocodiff\n" + code], check=True, env=_env(cache_dir),
                   cwd=str(ROOT))
    return time.perf_counter() - t0


@pytest.mark.parametrize("name", sorted(FIRST_CALLS))
def test_cold_and_warm_start(benchmark, name, tmp_path):
    code = FIRST_CALLS[name]
    cold = _run(code, tmp_path / "cache")
    warm = benchmark.pedantic(_run, args=(code, tmp_path / "cache"), rounds=3, iterations=1)
    base = _run("pass", tmp_path / "cache")  # interpreter + numpy/numba import alone
    benchmark.extra_info.update(cold_s=round(cold, 3), warm_s=round(warm, 3), bare_import_s=round(base, 3))
    print(f"\n{name}: cold {cold:.2f} s, warm {warm:.2f} s (python + import cocodiff alone {base:.2f} s)")


def _main_job(out: Path, env: dict, with_report=True) -> dict:
    """The README's main job, one fresh process per command; seconds per command."""
    cli = [sys.executable, "-m", "cocodiff"]
    steps = [("compare", ["compare", str(SAMPLE), str(SAMPLE_B), "-o", str(out)])]
    if with_report:
        steps.append(("report", ["report", "--from", str(out), "-o", str(out / "report.html")]))
    steps.append(("stats", ["stats", str(SAMPLE), str(SAMPLE_B)]))
    secs = {}
    for name, args in steps:
        t0 = time.perf_counter()
        subprocess.run(cli + args, check=True, env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        secs[name] = time.perf_counter() - t0
    secs["total"] = sum(secs.values())
    return secs


def _baseline_tree(commit: str, dest: Path) -> Path:
    """``commit``'s package as ``pip install`` lays it out (``cocodiff`` = bindings/, its ``engine``
    = engine/), for PYTHONPATH."""
    src = dest / "src"
    src.mkdir(parents=True)
    tar = dest / "src.tar"
    with open(tar, "wb") as f:
        subprocess.run(["git", "archive", commit], check=True, cwd=str(ROOT), stdout=f)
    with tarfile.open(tar) as t:
        t.extractall(src, filter="data")
    pkg = dest / "pkg"
    shutil.copytree(src / "bindings", pkg / "cocodiff")
    shutil.copytree(src / "engine", pkg / "cocodiff" / "engine")
    return pkg


def test_main_job(benchmark, tmp_path):
    cold = _main_job(tmp_path / "out-cold", _env(tmp_path / "cache"))
    warm_runs = []

    def warm():
        warm_runs.append(_main_job(tmp_path / "out-warm", _env(tmp_path / "cache")))

    benchmark.pedantic(warm, rounds=3, iterations=1)
    w = sorted(warm_runs, key=lambda d: d["total"])[len(warm_runs) // 2]
    benchmark.extra_info.update({f"cold_{k}_s": round(v, 2) for k, v in cold.items()})
    benchmark.extra_info.update({f"warm_{k}_s": round(v, 2) for k, v in w.items()})
    msg = f"\nmain job cold {cold['total']:.1f} s ({cold}), warm {w['total']:.1f} s"
    commit = os.environ.get("COCODIFF_BENCH_BASELINE")
    if commit:
        pkg = _baseline_tree(commit, tmp_path / "baseline")
        has_report = (pkg / "cocodiff" / "cli" / "report.py").exists()
        # that commit cached its kernels beside its source (its own fresh copy here: empty)
        base = _main_job(tmp_path / "out-base", dict(_env(tmp_path / "cache-base"), PYTHONPATH=str(pkg)),
                         with_report=False)
        mine = cold["compare"] + cold["stats"]
        benchmark.extra_info.update(baseline=commit, baseline_cold_total_s=round(base["total"], 2),
                                    speedup_vs_baseline=round(base["total"] / mine, 2),
                                    baseline_had_report=has_report)
        msg += f"; {commit} cold compare + stats {base['total']:.1f} s vs {mine:.1f} s"
    print(msg)
