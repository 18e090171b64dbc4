"""A fresh machine: kernels cached under the user cache folder (never in the package), a read-only
setup still runs, one compile notice on an empty cache from the CLI, and ``--version``."""
from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cocodiff
import cocodiff.engine
from cocodiff.cli import main
from cocodiff.engine import _jit
from conftest import DATA

TINY = DATA / "coco2017_subsets" / "tinycoco_instances_val2017.json"
PACKAGE_DIRS = [Path(cocodiff.__file__).parent, Path(cocodiff.engine.__file__).parent]

# One small kernel call (RLE encode of a 4x4 mask) and where its kernel is cached.
KERNEL_CALL = """
import json, numpy as np
import cocodiff
from cocodiff.engine import _jit, rle
cocodiff.mask.encode(np.asfortranarray(np.ones((4, 4), np.uint8)))
print(json.dumps({"root": None if _jit._cache_root is None else str(_jit._cache_root),
                  "path": getattr(rle.rle_encode._cache, "cache_path", None),
                  "hits": sum(rle.rle_encode.stats.cache_hits.values()),
                  "misses": sum(rle.rle_encode.stats.cache_misses.values())}))
"""


def _numba_files_in_package() -> dict:
    """Every Numba cache file inside the package folders, with its mtime (a source checkout may hold
    old ones from before the cache moved: the tests look for new or rewritten ones)."""
    out = {}
    for d in PACKAGE_DIRS:
        for pat in ("*.nbi", "*.nbc"):
            for f in d.rglob(pat):
                out[str(f)] = f.stat().st_mtime_ns
    return out


def _env(**kw):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "COCODIFF_CACHE_DIR", "XDG_CACHE_HOME", "COCODIFF_COMPILE_NOTICE")}
    env.update({k: str(v) for k, v in kw.items()})
    return env


def _py(code, env):
    import json
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600,
                       check=False)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1]), r.stderr


def test_kernels_cached_under_the_user_cache_dir_not_in_the_package(tmp_path):
    before = _numba_files_in_package()
    cc = tmp_path / "cc"
    rep, _ = _py(KERNEL_CALL, _env(COCODIFF_CACHE_DIR=cc))
    assert rep["root"] == str((cc / "numba").resolve())
    assert rep["path"].startswith(rep["root"] + os.sep) and rep["misses"] == 1
    made = sorted(p.name for p in (cc / "numba").rglob("*") if p.suffix in (".nbi", ".nbc"))
    assert any(n.startswith("rle.rle_encode-") and n.endswith(".nbi") for n in made), made
    assert any(n.startswith("rle.rle_encode-") and n.endswith(".nbc") for n in made), made
    assert _numba_files_in_package() == before
    rep2, _ = _py(KERNEL_CALL, _env(COCODIFF_CACHE_DIR=cc))      # a second process loads it
    assert rep2["hits"] == 1 and rep2["misses"] == 0


def test_xdg_cache_home_and_numba_cache_dir(tmp_path):
    rep, _ = _py(KERNEL_CALL, _env(XDG_CACHE_HOME=tmp_path / "xdg"))
    assert rep["root"] == str((tmp_path / "xdg" / "cocodiff" / "numba").resolve())
    rep, _ = _py(KERNEL_CALL, _env(COCODIFF_CACHE_DIR=tmp_path / "cc", NUMBA_CACHE_DIR=tmp_path / "nb"))
    assert rep["root"] == str((tmp_path / "nb").resolve())      # Numba's own setting wins
    assert not (tmp_path / "cc").exists()


def test_unwritable_cache_dir_runs_uncached(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")     # a folder below a file cannot be made, even as root
    before = _numba_files_in_package()
    env = _env(COCODIFF_CACHE_DIR=blocker / "cache")
    for _ in range(2):
        rep, _ = _py(KERNEL_CALL, env)
        assert rep["root"] is None and rep["path"] is None and rep["misses"] == 1 and rep["hits"] == 0
    assert _numba_files_in_package() == before


def test_other_code_keeps_numbas_default_cache_dir():
    import numba
    assert numba.config.CACHE_DIR == os.environ.get("NUMBA_CACHE_DIR", "")


def _stats(env, *flags):
    r = subprocess.run([sys.executable, "-m", "cocodiff", *flags, "stats", str(TINY)], env=env,
                       capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stderr
    assert "instances" in r.stdout
    return r.stderr


def test_compile_notice_once_on_an_empty_cache(tmp_path):
    env = _env(COCODIFF_CACHE_DIR=tmp_path / "cc")
    err = _stats(env)
    assert err.count(_jit.COMPILE_NOTICE) == 1, err
    assert err.splitlines()[0] == _jit.COMPILE_NOTICE
    assert _jit.COMPILE_NOTICE not in _stats(env)      # warm: nothing compiles, no notice


def test_compile_notice_never_under_quiet(tmp_path):
    assert _stats(_env(COCODIFF_CACHE_DIR=tmp_path / "cc"), "-q") == ""     # cold, and silent


def test_compile_notice_turned_off(monkeypatch):
    monkeypatch.setenv("COCODIFF_COMPILE_NOTICE", "0")
    assert _jit.install_compile_notice() is False


def test_compile_notice_for_library_users_only_when_asked(tmp_path):
    code = KERNEL_CALL
    _, err = _py(code, _env(COCODIFF_CACHE_DIR=tmp_path / "a"))
    assert "compiling" not in err
    _, err = _py(code, _env(COCODIFF_CACHE_DIR=tmp_path / "b", COCODIFF_COMPILE_NOTICE=1))
    assert err.count(_jit.COMPILE_NOTICE) == 1


def test_version_agrees_with_the_distribution(capsys):
    want = importlib.metadata.version("cocodiff")
    assert cocodiff.__version__ == want
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"cocodiff {want}"
    r = subprocess.run([sys.executable, "-m", "cocodiff", "--version"], capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0 and r.stdout.strip() == f"cocodiff {want}"


def test_version_fallback_when_not_installed(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)
    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert cocodiff._version() == "0+unknown"


def test_no_test_tool_is_a_runtime_dependency():
    tomllib = pytest.importorskip("tomllib")   # Python >= 3.11
    meta = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    deps = " ".join(meta["project"]["dependencies"])
    for tool in ("pytest", "hypothesis", "pycocotools", "hotcoco"):
        assert tool not in deps
    assert "matplotlib" in deps                           # the report is part of the main job
    assert "pytest-benchmark>=4" in meta["project"]["optional-dependencies"]["test"]


# ----------------------------------------------------------------------------- warmup

def test_warmup_pair_is_what_the_loader_makes(tmp_path):
    """The hand-built tiny Datasets carry the loader's dtypes and values (so the kernels compiled
    for them are the ones a real run needs) and exercise every relation kernel."""
    import orjson
    import pandas as pd

    from cocodiff.warmup import _tiny_datasets, _tiny_pair
    paths = []
    for k, doc in enumerate(_tiny_pair()):
        p = tmp_path / f"{k}.json"
        p.write_bytes(orjson.dumps(doc))
        paths.append(p)
    for built, path in zip(_tiny_datasets(), paths):
        loaded = cocodiff.load(path, cache=False)
        for name in ("ann_id", "category_id", "iscrowd", "kind", "xy", "ring_offsets", "inst_ring_offsets",
                     "counts", "counts_offsets", "width", "height", "img_row", "rle_h", "rle_w"):
            a, b = getattr(built, name), getattr(loaded, name)
            assert a.dtype == b.dtype and a.tolist() == b.tolist(), name
    got = cocodiff.compare(*_tiny_datasets()).to_pandas()
    pd.testing.assert_frame_equal(got, cocodiff.compare(*paths).to_pandas())
    assert set(got.relation) >= {"split", "matched"}


def test_warmup_fills_an_empty_cache_and_the_compare_then_compiles_only_the_loader(tmp_path):
    env = _env(COCODIFF_CACHE_DIR=tmp_path / "c")
    code = ("import json\nfrom cocodiff import warmup\nbefore = warmup.cache_is_cold()\n"
            "warmup.warmup(('compare',))\nprint(json.dumps({'before': before, 'after': warmup.cache_is_cold()}))")
    out, _ = _py(code, env)
    assert out == {"before": True, "after": False}
    # a compare in a new process: only the loader's kernels compile, the comparison's load from disk
    code = ("import json, cocodiff\nfrom numba.core import event\nnames = []\n"
            "class L(event.Listener):\n"
            "    def on_start(self, ev): names.append(ev.data['dispatcher'].py_func.__module__)\n"
            "    def on_end(self, ev): pass\n"
            "event.register('numba:compile', L())\n"
            f"cocodiff.compare({str(TINY)!r}, {str(TINY)!r})\n"
            "print(json.dumps(sorted({n for n in names if n.startswith('cocodiff.')})))")
    out, _ = _py(code, env)
    loader_modules = {f"cocodiff.engine.{m}" for m in ("jsonscan", "jsonseg", "jsonskip", "numparse", "scanparts",
                                                       "ragged", "rle")}
    assert out and set(out) <= loader_modules, out


def test_warmup_relations_compiles_the_comparisons_last_stages_alone(tmp_path):
    """The second process's first part (hand-made masks, no rasteriser) compiles the kernels of the
    comparison's last stages for the very signatures a real comparison uses: a compare afterwards
    compiles none of them, and the part itself compiled none of the first stages'."""
    env = _env(COCODIFF_CACHE_DIR=tmp_path / "c")
    listen = ("import json, cocodiff\nfrom numba.core import event\nnames = []\n"
              "class L(event.Listener):\n"
              "    def on_start(self, ev): names.append(ev.data['dispatcher'].py_func.__module__)\n"
              "    def on_end(self, ev): pass\n"
              "event.register('numba:compile', L())\n")
    report = "print(json.dumps(sorted({n.rsplit('.', 1)[-1] for n in names if n.startswith('cocodiff.')})))"
    out, _ = _py(listen + "from cocodiff import warmup\nwarmup.warmup(('relations',))\n" + report, env)
    assert {"groups", "assign", "boundary"} <= set(out) and not {"raster", "ring_rle", "facts"} & set(out), out
    out, _ = _py(listen + f"cocodiff.compare({str(TINY)!r}, {str(TINY)!r})\n" + report, env)
    assert "raster" in out and not {"groups", "assign", "boundary"} & set(out), out


def test_background_compile_starts_once_on_a_cold_cache_only(tmp_path, monkeypatch):
    from cocodiff import warmup
    monkeypatch.setattr(warmup, "_cpus", lambda: 2)
    monkeypatch.setenv("COCODIFF_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(warmup, "cache_is_cold", lambda: True)
    started = []

    class FakeProc:
        def __init__(self, argv, **kw):
            started.append((argv, kw["env"]))

    monkeypatch.setattr(warmup.subprocess, "Popen", FakeProc)
    assert warmup.start_background(("compare",)) is not None
    argv, env = started[0]
    assert "warmup(('compare',))" in argv[2] and argv[3] == str(tmp_path / "warmup.lock")
    assert env["COCODIFF_BACKGROUND_COMPILE"] == "0" and env["COCODIFF_COMPILE_NOTICE"] == "0"
    # the lock: a second run meanwhile starts none; a stale lock (a dead process's) is taken over
    assert warmup.start_background(("compare",)) is None
    os.utime(tmp_path / "warmup.lock", (0, 0))
    assert warmup.start_background(("compare",)) is not None and len(started) == 2
    (tmp_path / "warmup.lock").unlink()
    monkeypatch.setenv("COCODIFF_BACKGROUND_COMPILE", "0")
    assert warmup.start_background(("compare",)) is None
    monkeypatch.delenv("COCODIFF_BACKGROUND_COMPILE")
    monkeypatch.setattr(warmup, "cache_is_cold", lambda: False)
    assert warmup.start_background(("compare",)) is None
    monkeypatch.setattr(warmup, "cache_is_cold", lambda: True)
    monkeypatch.setattr(warmup, "_cpus", lambda: 1)
    assert warmup.start_background(("compare",)) is None
    assert len(started) == 2


def test_first_run_with_the_background_compile_writes_the_same_output(tmp_path):
    """`cocodiff compare` as a command on an empty cache (the second process compiling beside it)
    and again warm: identical files; the second process removed its lock when done."""
    import time
    env = _env(COCODIFF_CACHE_DIR=tmp_path / "c")
    exe = [sys.executable, "-m", "cocodiff", "compare", str(TINY), str(TINY)]
    for out in ("cold", "warm"):
        r = subprocess.run(exe + ["-o", str(tmp_path / out)], env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
    for f in ("matches.parquet", "summary.json"):
        if f == "summary.json":
            import json
            a, b = (json.loads((tmp_path / o / f).read_text()) for o in ("cold", "warm"))
            assert a == b
        else:
            assert (tmp_path / "cold" / f).read_bytes() == (tmp_path / "warm" / f).read_bytes()
    deadline = time.time() + 300
    while (tmp_path / "c" / "warmup.lock").exists() and time.time() < deadline:
        time.sleep(0.5)
    assert not (tmp_path / "c" / "warmup.lock").exists()


def test_warmup_command(tmp_path, capsys):
    assert main(["warmup", "stats"]) == 0
    assert "stats" in capsys.readouterr().out
    assert main(["warmup", "everything"]) == 2
    assert "not one of load, compare, relations, stats, report" in capsys.readouterr().err


# ----------------------------------------------------------------------------- small files

def test_small_files_take_the_msgspec_path_big_ones_the_scanner(monkeypatch):
    """A file under ``SCANNER_MIN_BYTES`` is read without the compiled JSON scanner (whose
    one-time compile would cost a first run more than it saves), a bigger one with it: the same
    Dataset either way."""
    from cocodiff import loader
    calls = []
    fast = loader._decode_fast
    monkeypatch.setattr(loader, "_decode_fast", lambda *a: calls.append(a[1]) or fast(*a))
    path = DATA / "coco2014_val100" / "instances_val2014_100.json"
    monkeypatch.setattr(loader, "SCANNER_MIN_BYTES", 8 << 20)
    small = cocodiff.load(path, cache=False)
    assert calls == []
    monkeypatch.setattr(loader, "SCANNER_MIN_BYTES", path.stat().st_size)
    scanned = cocodiff.load(path, cache=False)
    assert len(calls) == 1
    for name in ("ann_id", "inst_image_id", "category_id", "iscrowd", "area", "bbox", "kind", "xy",
                 "ring_offsets", "inst_ring_offsets", "counts", "counts_offsets", "rle_h", "rle_w"):
        a, b = getattr(small, name), getattr(scanned, name)
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), name


def _depth_ref(x) -> int:
    if isinstance(x, dict):
        return 1 + max(map(_depth_ref, x.values()), default=0)
    if isinstance(x, list):
        return 1 + max(map(_depth_ref, x), default=0)
    return 0


STRUCTURE_DOCS = [
    b'{"a": 1, "b": [1, 2, {"c": "x"}]}',
    b'{"a": 1, "a": 2}',
    b'{"images": [], "annotations": [{"id": 1, "x": {"k": 1, "k": 2}}]}',
    b'{"a": 1, "\\u0061": 2}',                         # the same key, escaped
    b'{"a\\"[[[": "]]]{", "b": "\\\\", "c": "\\\\\\"{"}',   # brackets and escapes inside strings
    b'{"k": "\\\\\\\\"}',
    b'[' * 128 + b']' * 128,
    b'[' * 129 + b']' * 129,
    b'{"a": ' + b'[' * 127 + b']' * 127 + b'}',
    b'{"a": ' + b'[' * 128 + b']' * 128 + b'}',
    b'{"a": [1, 2}',                                    # malformed
    b'{"a": 1, "a": 2, "b": ',                           # a repeat, then malformed
    b'{"a": "\xff"}',                                    # not UTF-8
    b'{"a": NaN, "b": Infinity}',
    b'',
    b'   ',
    b'"just a string with { and ["',
]


@pytest.mark.parametrize("doc", STRUCTURE_DOCS, ids=range(len(STRUCTURE_DOCS)))
def test_quick_structure_check_never_passes_what_the_compiled_check_refuses(doc):
    from cocodiff import _load_schema as schema
    from cocodiff.engine.jsonstructure import check_structure
    exact = check_structure(np.frombuffer(doc, np.uint8), False, schema.MAX_NESTING).status
    if schema.plainly_well_formed(doc):
        assert exact == 0
    try:
        import json
        obj = json.loads(doc)
    except (ValueError, RecursionError):
        return
    assert schema.max_depth(np.frombuffer(doc, np.uint8)) == _depth_ref(obj)


@pytest.mark.parametrize("doc", STRUCTURE_DOCS[1:4] + STRUCTURE_DOCS[7:8] + STRUCTURE_DOCS[9:10])
def test_structure_errors_read_the_same_with_and_without_the_quick_check(doc, monkeypatch):
    from cocodiff import _load_schema as schema
    from cocodiff.errors import InputError
    messages = []
    for limit in (schema.QUICK_CHECK_MAX_BYTES, 0):
        monkeypatch.setattr(schema, "QUICK_CHECK_MAX_BYTES", limit)
        with pytest.raises(InputError) as e:
            schema.check_structure(memoryview(doc), "f.json", False)
        messages.append(str(e.value))
    assert messages[0] == messages[1]
