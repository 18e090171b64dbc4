"""Every kernel run with Numba's bounds checking on, over the bad-input corpus and the real data.

``NUMBA_BOUNDSCHECK`` must be set before Numba compiles, and Numba's on-disk cache does NOT
key on it (checked: a kernel cached without bounds checks is reused, unchecked, by a process
with ``NUMBA_BOUNDSCHECK=1``, and the other way round). So one subprocess does it all, with
``NUMBA_BOUNDSCHECK=1`` and ``NUMBA_CACHE_DIR`` pointing at a fresh empty folder: everything is
compiled anew with checks, and the checked code never lands in the shared cache. A canary
kernel built with the project's ``@serial`` decorator, reading past its array's end, proves
the checks are live in that process. Raw-pointer reads and writes (the kernels' per-item
helpers take ``engine._intrinsics.ptr`` pointers) are checked too: under
``NUMBA_BOUNDSCHECK=1`` ``ptr`` gives a bounds-checked pointer (tests/test_checked_ptr.py);
a second canary reads past the end through one, and at the end every kernel that takes a
pointer must have been compiled in the child (so every pointer call site ran checked). An
out-of-bounds access anywhere -- array index or pointer -- raises ``IndexError`` there,
which fails the test with the child's traceback.

Covered: loading (polygon parsing, compressed-RLE decoding) of every corpus case and every
real file; stats; rasterisation (serial, and the parallel kernel with its threshold lowered);
the ``cocodiff.mask`` drop-in (encode, decode, area, toBbox, iou, merge, frPyObjects, string
round trips) on real masks; ``compare`` on two real pairs and the synthetic tiny twin (serial
and, with ``PARALLEL_MIN_INSTANCES`` lowered, the multi-threaded path); the twin generator.

Cost: one subprocess, about 80 s of CPU (almost all of it compiling), marked ``slow``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# compiling every kernel afresh with checks on takes ~60-80 s of CPU (about 2 min wall on a
# loaded 2-core machine); .ci/run runs the whole suite, slow tests included
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent(r"""
    import json, os, sys, tempfile, time, traceback
    from pathlib import Path
    import numpy as np
    import numba
    assert numba.config.BOUNDSCHECK, "NUMBA_BOUNDSCHECK not seen by numba"
    assert os.environ["NUMBA_CACHE_DIR"] == sys.argv[1]
    t0 = time.process_time()
    done = []
    def step(name):   # (step, cumulative CPU seconds of this process)
        done.append((name, round(time.process_time() - t0, 1)))

    # canary: the project's serial decorator, an index one past the end
    from cocodiff.engine._jit import serial
    @serial
    def _past_end(a):
        return a[a.shape[0]]
    try:
        _past_end(np.zeros(3))
        raise SystemExit("bounds checking is not active: the canary read past the end")
    except IndexError:
        step("canary")
    from cocodiff.engine._intrinsics import CHECKED_POINTERS, ptr
    assert CHECKED_POINTERS
    @serial
    def _ptr_past_end(a):
        return ptr(a)[a.shape[0]]
    try:
        _ptr_past_end(np.zeros(3))
        raise SystemExit("pointer reads are not checked: the pointer canary read past the end")
    except IndexError:
        step("pointer canary")

    import cocodiff
    from cocodiff import loader, mask, matching, rasterize as rz
    loader.SCANNER_MIN_BYTES = 0   # the compiled scanner reads the small files too
    from cocodiff.errors import InputError
    from cocodiff.rasterize import rasterize
    sys.path.insert(0, str(Path("tests").resolve()))
    from conftest import REAL_INSTANCE_FILES, DATA

    corpus = Path("tests/corpus")
    ok = cocodiff.load(corpus / "ok_base.json")
    n_err = n_ok = 0
    for f in sorted(corpus.iterdir()):
        if f.name in ("expected.json", "pending.json") or f.suffix == ".py" or f.is_dir():
            continue
        try:
            ds = cocodiff.load(f)
        except InputError:
            n_err += 1
            continue
        n_ok += 1
        cocodiff.stats(ds, ok)
        rasterize(ds, threads=1)
        cocodiff.compare(ds, ok)
        cocodiff.compare(ok, ds)
    step(f"corpus {n_ok} loaded, {n_err} refused")

    real = {}
    for p in REAL_INSTANCE_FILES:
        ds = cocodiff.load(p)
        real[p.name] = ds
        cocodiff.stats(ds, per_class=True)
        counts, offs = rasterize(ds, threads=1)
        # the mask drop-in on the first 40 instances' masks (as pycocotools dicts)
        h, w = ds.inst_h()[:40], ds.inst_w()[:40]
        rles = mask.store_to_rles(counts, offs[:41], h, w)
        same = [r for r in rles if r["size"] == rles[0]["size"]]
        m = mask.decode(same)
        enc = mask.encode(np.asfortranarray(m))
        assert [e["counts"] for e in enc] == [r["counts"] for r in same]
        a = mask.area(rles)
        assert int(a.sum()) == int(m.sum()) or len(same) < len(rles)
        mask.toBbox(rles)
        mask.iou(same, same, [0] * len(same))
        mask.iou(same, same[::-1], [1] * len(same))
        mask.merge(same)
        mask.merge(same, intersect=True)
        mask.frPyObjects([[1.5, 2.0, 30.0, 4.0, 12.0, 40.0]], int(h[0]), int(w[0]))
        mask.frPyObjects([[0, 0, 5, 5]], int(h[0]), int(w[0]))
    step(f"real files {len(real)}")

    # the loader's multi-part scan (split points; threshold lowered): same dataset
    loader.SCAN_PART_MIN_BYTES = 1 << 14
    for p in REAL_INSTANCE_FILES:
        parted = cocodiff.load(p, cache=False)
        assert np.array_equal(parted.ann_id, real[p.name].ann_id)
        assert np.array_equal(parted.xy, real[p.name].xy)
    from ref_numparse import parse_float
    assert parse_float(b"-1.5e3") == -1500.0
    step("multi-part scan")

    # rasterise with the parallel kernel too (threshold lowered)
    rz.PARALLEL_MIN_ROWS = 0
    big = real["instances_val2014_100.json"]
    c1, o1 = rasterize(big, threads=1)
    c2, o2 = rasterize(big, threads=2)
    assert np.array_equal(o1, o2) and np.array_equal(c1, c2)
    step("parallel rasterize")

    pairs = [(DATA / "coco2014_val100" / "instances_val2014_100.json",
              DATA / "derived" / "val2014_100_fakesegm_as_annotations.json"),
             (DATA / "derived" / "lvis_overlap_coco_gt.json", DATA / "derived" / "lvis_overlap_lvis_gt.json")]
    from cocodiff.synth import write_pair
    tw = write_pair(tempfile.mkdtemp(), "tiny", seed=5, b_parts=2)
    pairs.append((tw["a"], tw["b"]))
    for a, b in pairs:
        s1 = cocodiff.compare(a, b, threads=1).summary()
        s2 = cocodiff.compare(a, b, mode="greedy", batch_images=7).summary()
        assert sum(s1["relations"].values()) > 0
    step(f"compare {len(pairs)} pairs")
    matching.PARALLEL_MIN_INSTANCES = 0       # the multi-threaded compare kernels
    s3 = cocodiff.compare(tw["a"], tw["b"], threads=2).summary()
    assert s3["relations"] == cocodiff.compare(tw["a"], tw["b"], threads=1).summary()["relations"]
    step("parallel compare")

    # every kernel that takes a pointer (engine._intrinsics.ptr / ptr_add / load8) ran above
    import importlib, inspect, pkgutil
    import cocodiff.engine as E
    from numba.core.dispatcher import Dispatcher
    users, idle = [], []
    for info in pkgutil.iter_modules(E.__path__):
        mod = importlib.import_module(f"cocodiff.engine.{info.name}")
        for name, obj in vars(mod).items():
            if (isinstance(obj, Dispatcher) and obj.py_func.__module__ == mod.__name__
                    and obj.targetoptions.get("inline") != "always"):   # (inlined: compiled in its callers)
                src = inspect.getsource(obj.py_func)
                if any(k in src for k in ("_ptr(", "_ptr_add(", "_load8(")):
                    users.append(f"{info.name}.{name}")
                    if not obj.signatures:
                        idle.append(f"{info.name}.{name}")
    assert users and not idle, f"pointer-taking kernels not run under the check: {idle}"
    step(f"pointer kernels {len(users)}")
    print(json.dumps({"done": done, "cpu_s": time.process_time() - t0}))
""")


def test_kernels_with_boundscheck(tmp_path):
    cache = tmp_path / "numba_cache"
    cache.mkdir()
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(cache), NUMBA_NUM_THREADS="2")
    script = tmp_path / "boundscheck_child.py"   # a file, not -c: cached kernels need a source file
    script.write_text(CHILD)
    p = subprocess.run([sys.executable, str(script), str(cache)], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=900, check=False)
    assert p.returncode == 0, p.stderr[-6000:]
    res = json.loads(p.stdout.strip().splitlines()[-1])
    steps = [name for name, _ in res["done"]]
    assert steps[:2] == ["canary", "pointer canary"]
    assert steps[-2] == "parallel compare", res
    assert steps[-1].startswith("pointer kernels"), res
