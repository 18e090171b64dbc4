"""Cold and warm start: import cocodiff + the first real call, in a fresh process.

* cold: an empty Numba cache (``NUMBA_CACHE_DIR`` pointed at a new folder), so every kernel the
  call needs is compiled;
* warm: the same cache folder again, so the kernels load from disk.

Run: ``pytest benchmarks/bench_startup.py --benchmark-enable -s``. The figures go to
``benchmark.extra_info`` (seconds, wall clock of the whole subprocess incl. interpreter start).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "coco2014_val100" / "instances_val2014_100.json"

FIRST_CALLS = {
    # the drop-in: one polygon to RLE, merged, area and IoU -- what a pycocotools user calls first
    "mask": ("from cocodiff import mask as m\n"
             "r = m.merge(m.frPyObjects([[10, 10, 50, 12, 30, 40]], 64, 64))\n"
             "m.area(r); m.iou([r], [r], [0])\n"),
    # load a real file and count the statistics table
    "stats": f"import cocodiff\ncocodiff.stats(cocodiff.load({str(SAMPLE)!r}, cache=False))\n",
}


def _run(code: str, cache_dir: Path) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import cocodiff\n" + code], check=True, env=env, cwd=str(ROOT))
    return time.perf_counter() - t0


@pytest.mark.parametrize("name", sorted(FIRST_CALLS))
def test_cold_and_warm_start(benchmark, name, tmp_path):
    code = FIRST_CALLS[name]
    cold = _run(code, tmp_path / "numba-cache")
    warm = benchmark.pedantic(_run, args=(code, tmp_path / "numba-cache"), rounds=3, iterations=1)
    base = _run("pass", tmp_path / "numba-cache")  # interpreter + numpy/numba import alone
    benchmark.extra_info.update(cold_s=round(cold, 3), warm_s=round(warm, 3), bare_import_s=round(base, 3))
    print(f"\n{name}: cold {cold:.2f} s, warm {warm:.2f} s (python + import cocodiff alone {base:.2f} s)")
