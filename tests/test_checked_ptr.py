"""Raw-pointer reads are bounds-checked under ``NUMBA_BOUNDSCHECK=1`` (issue 18, item 9).

The kernels hand raw data pointers (:func:`cocodiff.engine._intrinsics.ptr`) to their
per-item helpers. Numba's bounds checking only covers array indexing, so under
``NUMBA_BOUNDSCHECK=1`` ``ptr`` / ``ptr_add`` / ``load8`` switch to a checked pointer (the
array, as a flat view, plus an offset) whose every read and write is checked against the
array -- before its start as well as past its end, as C pointer arithmetic allows. In a normal
process they stay raw pointers (the same code as before: no cost).

Like tests/test_boundscheck.py, the checked process runs with a fresh ``NUMBA_CACHE_DIR``
(Numba's cache does not key on ``NUMBA_BOUNDSCHECK``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent(r"""
    import json, sys
    import numpy as np
    import numba
    from cocodiff.engine import _intrinsics as I
    from cocodiff.engine._intrinsics import load8, ptr, ptr_add
    from cocodiff.engine._jit import serial

    @serial
    def read(a, i):
        return ptr(a)[i]

    @serial
    def read_after(a, k, i):
        return ptr_add(ptr(a), k)[i]

    @serial
    def write(a, i, v):
        p = ptr(a)
        p[i] = v

    @serial
    def word(a, i):
        return load8(ptr(a), i)

    @serial
    def helper_sum(p, n):          # a per-item helper taking a pointer and a length
        s = 0.0
        for i in range(n):
            s += p[i]
        return s

    @serial
    def call_helper(a, n):
        return helper_sum(ptr(a), n)

    @serial
    def read2d(a, i):
        return ptr(a)[i]

    a = np.arange(5, dtype=np.float64)
    b = np.arange(16, dtype=np.uint8)
    m = np.arange(6, dtype=np.int32).reshape(2, 3)
    res = {"checked": getattr(I, "CHECKED_POINTERS", None)}
    ok = [float(read(a, 4)), float(read_after(a, 2, 2)), float(read_after(a, 2, -2)),
          int(word(b, 8)), float(call_helper(a, 5)), int(read2d(m, 5))]
    write(a, 0, 7.0)
    ok.append(float(a[0]))
    res["ok"] = ok
    res["helper_arg"] = str(helper_sum.signatures[0][0])   # the pointer type a helper receives
    bad = {}
    cases = [("past end", lambda: read(a, 5)), ("before start", lambda: read(a, -1)),
             ("after ptr_add", lambda: read_after(a, 2, 3)),
             ("before ptr_add base", lambda: read_after(a, 2, -3)),
             ("load8 past end", lambda: word(b, 9)),
             ("helper past end", lambda: call_helper(a, 6)),
             ("2-d past end", lambda: read2d(m, 6)),
             ("write past end", lambda: write(a, 5, 1.0))]
    # only where the reads are meant to be checked: unchecked, they read (or write) memory
    # that is not the array's
    for name, f in (cases if numba.config.BOUNDSCHECK else []):
        try:
            f()
            bad[name] = "no error"
        except IndexError as e:
            bad[name] = "IndexError"
    res["bad"] = bad
    print(json.dumps(res))
""")


def _run(tmp_path, checked: bool):
    cache = tmp_path / ("cache_checked" if checked else "cache_plain")
    cache.mkdir()
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    env.pop("NUMBA_BOUNDSCHECK", None)
    if checked:
        env["NUMBA_BOUNDSCHECK"] = "1"
    script = tmp_path / "checked_ptr_child.py"
    script.write_text(CHILD)
    p = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=600, check=False)
    assert p.returncode == 0, p.stderr[-4000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_pointer_reads_are_checked_under_boundscheck(tmp_path):
    res = _run(tmp_path, checked=True)
    assert res["checked"] is True
    assert res["ok"] == [4.0, 4.0, 0.0, int.from_bytes(bytes(range(8, 16)), "little"), 10.0, 5, 7.0]
    assert res["helper_arg"] == "CheckedPtr(float64)"
    assert len(res["bad"]) == 8
    assert res["bad"] == {name: "IndexError" for name in res["bad"]}, res["bad"]


def test_plain_build_keeps_raw_pointers(tmp_path):
    # no NUMBA_BOUNDSCHECK: raw pointers as before (no check, no cost); the in-bounds
    # results are the same
    res = _run(tmp_path, checked=False)
    assert res["checked"] is False
    assert res["helper_arg"] == "float64*"     # a raw pointer: the intrinsic, as before
    assert res["ok"] == [4.0, 4.0, 0.0, int.from_bytes(bytes(range(8, 16)), "little"), 10.0, 5, 7.0]
