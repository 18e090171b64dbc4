"""Shared benchmark fixtures: synthetic COCO-2017 / Sama-COCO-like twins, cached on disk.

The twins are written by :func:`cocodiff.synth.write_pair` once and reused by every
benchmark (and every later session) from ``$COCODIFF_TWIN_DIR`` (default
``<repo>/.benchmarks/twins``), one folder per (scale, seed, b_parts, generator version).

Fixtures
--------
``twin_factory(scale="val", seed=0, b_parts=1) -> dict``
    paths ``a``, ``b`` (``b.json`` or ``b.zip``), ``truth`` and ``dir`` of a cached twin.
``twin``
    the twin of scale ``$COCODIFF_TWIN_SCALE`` (default ``val``: 5,000 images; ``full`` is
    the 118,287-image train split, about 1.3 GB on disk, ~35 s to write the first time).
``twin_val``, ``twin_full``
    fixed scales.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _twin_root() -> Path:
    return Path(os.environ.get("COCODIFF_TWIN_DIR") or ROOT / ".benchmarks" / "twins")


def _get_twin(root: Path, scale="val", seed=0, b_parts=1) -> dict:
    from cocodiff import synth

    key = f"{scale}_s{int(seed)}_p{int(b_parts)}_v{synth.GENERATOR_VERSION}"
    final = root / key
    done = final / "done.json"
    if not done.exists():
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / f"{key}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        paths = synth.write_pair(tmp, scale=scale, seed=seed, b_parts=b_parts)
        (tmp / "done.json").write_text(json.dumps(
            {"scale": str(scale), "seed": int(seed), "b_parts": int(b_parts),
             "seconds": paths["seconds"], "stats": paths["stats"]}, indent=1))
        try:
            if final.exists():           # an unfinished folder from an interrupted run
                shutil.rmtree(final)
            os.replace(tmp, final)
        except OSError:                  # another process finished first: use theirs
            shutil.rmtree(tmp, ignore_errors=True)
    b = final / ("b.json" if int(b_parts) == 1 else "b.zip")
    return {"a": final / "a.json", "b": b, "truth": final / "truth.json", "dir": final,
            "meta": json.loads(done.read_text())}


@pytest.fixture(scope="session")
def twin_factory():
    root = _twin_root()
    memo: dict = {}

    def get(scale="val", seed=0, b_parts=1):
        k = (str(scale), int(seed), int(b_parts))
        if k not in memo:
            memo[k] = _get_twin(root, scale, seed, b_parts)
        return memo[k]

    return get


@pytest.fixture(scope="session")
def twin(twin_factory):
    scale = os.environ.get("COCODIFF_TWIN_SCALE", "val")
    if scale not in ("tiny", "val", "full"):
        scale = float(scale)
    return twin_factory(scale)


@pytest.fixture(scope="session")
def twin_val(twin_factory):
    return twin_factory("val")


@pytest.fixture(scope="session")
def twin_full(twin_factory):
    return twin_factory("full")


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the full-size twin benchmarks (same as COCODIFF_BENCH_FULL=1)")


def measure(benchmark, times: dict, name: str, fn, rounds: int, warmup: int = 1):
    """Run ``fn`` ``warmup`` times untimed, then ``rounds`` times under pytest-benchmark; record
    wall and CPU medians in ``times[name]`` and ``extra_info``; return the last result. The suites
    keep ``times`` per module to put ratios between pipelines of one session into ``extra_info``."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []

    def timed():
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
        return out

    out = benchmark.pedantic(timed, rounds=rounds, iterations=1)
    times[name] = dict(wall=statistics.median(wall), cpu=statistics.median(cpu))
    benchmark.extra_info["wall_median_s"] = round(times[name]["wall"], 4)
    benchmark.extra_info["cpu_median_s"] = round(times[name]["cpu"], 4)
    benchmark.extra_info["rounds"] = len(wall)
    return out


def record_speedups(benchmark, times: dict, mine: str, peers=("pycocotools", "hotcoco")) -> None:
    """Put the ratios of the peers' medians to ``times[mine]`` (wall and CPU), with the peers'
    wall medians, into ``extra_info`` -- for the peers measured in this session."""
    m = times[mine]
    for peer in peers:
        if peer in times:
            benchmark.extra_info[f"speedup_vs_{peer}"] = round(times[peer]["wall"] / m["wall"], 2)
            benchmark.extra_info[f"cpu_speedup_vs_{peer}"] = round(times[peer]["cpu"] / m["cpu"], 2)
            benchmark.extra_info[f"{peer}_wall_s"] = round(times[peer]["wall"], 3)
