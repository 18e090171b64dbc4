"""Columnar cache (cocodiff.cache): hits equal fresh loads, edits invalidate, damage is rebuilt; the
cache goes under the user cache folder (here ``$COCODIFF_CACHE_DIR``), never beside the input."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import fields

import numpy as np
import pytest

import cocodiff
from cocodiff import cache, loader
from cocodiff.errors import InputError
from conftest import DATA, ROOT

SRC = DATA / "coco2014_val100" / "instances_val2014_100.json"   # polygons + list-RLE crowds
DEGEN = ROOT / "tests" / "corpus" / "two_degenerate_rings.json"


def _same(a, b):
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, f.name
            if x.dtype.kind == "f":
                assert np.array_equal(x.view(np.int64), y.view(np.int64)), f.name
            else:
                assert np.array_equal(x, y), f.name
        elif f.name == "warnings":
            assert (x.counts, x.examples, x.max_examples) == (y.counts, y.examples, y.max_examples)
        else:
            assert x == y, f.name


@pytest.fixture
def counted(monkeypatch):
    """Count the real (uncached) loads."""
    calls = []
    real = loader._load_uncached

    def spy(*a, **k):
        calls.append(a[0])
        return real(*a, **k)
    monkeypatch.setattr(loader, "_load_uncached", spy)
    return calls


@pytest.fixture(autouse=True)
def user_cache(tmp_path, monkeypatch):
    """The user cache folder of these tests (``$COCODIFF_CACHE_DIR``)."""
    d = tmp_path / "usercache"
    monkeypatch.setenv("COCODIFF_CACHE_DIR", str(d))
    return d


@pytest.fixture
def src(tmp_path):
    p = tmp_path / "in" / "instances.json"
    p.parent.mkdir()
    shutil.copy(SRC, p)
    return p


def _nothing_beside(p):
    """Nothing but the input itself in its folder (no cache written beside it)."""
    return sorted(x.name for x in p.parent.iterdir()) == [p.name]


def test_hit_equals_fresh_load(src, counted, user_cache):
    fresh = cocodiff.load(src, cache=False)
    a = cocodiff.load(src, cache=True)
    assert len(counted) == 2 and cache.cache_location(src).is_dir()
    assert cache.cache_location(src).parent == user_cache
    assert cache.cache_location(src).name.startswith("instances.json-")
    assert _nothing_beside(src)
    b = cocodiff.load(src, cache=True)
    assert len(counted) == 2          # served from the cache
    _same(fresh, a)
    _same(fresh, b)
    base, mapped = b.xy, False        # memory-mapped, not parsed
    while base is not None:
        mapped |= isinstance(base, np.memmap) or type(base).__name__ == "mmap"
        base = getattr(base, "base", None)
    assert mapped
    # copy-on-write: writable, and a write does not reach the cache
    b.xy[0, 0] = -123.0
    c = cocodiff.load(src, cache=True)
    assert c.xy[0, 0] == fresh.xy[0, 0] and len(counted) == 2


def test_mtime_and_size_invalidate(src, counted):
    cocodiff.load(src, cache=True)
    st = os.stat(src)
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    cocodiff.load(src, cache=True)
    assert len(counted) == 2          # touched: re-parsed
    cocodiff.load(src, cache=True)
    assert len(counted) == 2          # and re-cached
    d = json.loads(src.read_text())
    d["annotations"] = d["annotations"][:10]
    src.write_text(json.dumps(d))
    ds = cocodiff.load(src, cache=True)
    assert len(counted) == 3 and ds.n_instances == 10


def test_same_size_same_mtime_edit_invalidated_by_digest(src, counted):
    cocodiff.load(src, cache=True)
    st = os.stat(src)
    b = bytearray(src.read_bytes())
    i = b.index(b'"area": ') + 8 if b'"area": ' in b else b.index(b'"area":') + 7
    b[i] = ord("9") if b[i] != ord("9") else ord("8")   # same size, one digit changed
    src.write_bytes(bytes(b))
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    ds = cocodiff.load(src, cache=True)
    assert len(counted) == 2
    _same(ds, cocodiff.load(src, cache=False))


@pytest.mark.parametrize("damage", ["truncate_npy", "delete_npy", "garbage_meta", "shape_lie"])
def test_damaged_cache_is_rebuilt(src, counted, damage):
    fresh = cocodiff.load(src, cache=True)
    loc = cache.cache_location(src)
    if damage == "truncate_npy":
        f = loc / "xy.npy"
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    elif damage == "delete_npy":
        (loc / "counts.npy").unlink()
    elif damage == "garbage_meta":
        (loc / "meta.json").write_text("{not json")
    else:
        meta = json.loads((loc / "meta.json").read_text())
        meta["arrays"]["ann_id"]["shape"] = [1]
        (loc / "meta.json").write_text(json.dumps(meta))
    ds = cocodiff.load(src, cache=True)
    assert len(counted) == 2
    _same(fresh, ds)
    cocodiff.load(src, cache=True)
    assert len(counted) == 2          # the rebuilt cache is good


def test_goes_under_the_user_cache_never_beside_the_input(src, counted, user_cache):
    fresh = cocodiff.load(src, cache=True)
    assert _nothing_beside(src)
    made = list(user_cache.glob("instances.json-*.cocodiff-cache"))
    assert len(made) == 1 and (made[0] / "meta.json").exists()
    _same(fresh, cocodiff.load(src, cache=True))
    assert len(counted) == 1


@pytest.mark.parametrize("env", ["COCODIFF_CACHE_DIR", "XDG_CACHE_HOME", "HOME"])
def test_user_cache_root(src, tmp_path, monkeypatch, env):
    for name in ("COCODIFF_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(env, str(tmp_path / "root"))
    want = {"COCODIFF_CACHE_DIR": tmp_path / "root", "XDG_CACHE_HOME": tmp_path / "root" / "cocodiff",
            "HOME": tmp_path / "root" / ".cache" / "cocodiff"}[env]
    assert cache.cache_location(src).parent == want
    cocodiff.load(src, cache=True)
    assert len(list(want.glob("instances.json-*.cocodiff-cache"))) == 1 and _nothing_beside(src)


def test_same_name_in_two_folders_two_caches(tmp_path, counted, user_cache):
    a, b = tmp_path / "a" / "x.json", tmp_path / "b" / "x.json"
    for p in (a, b):
        p.parent.mkdir()
        shutil.copy(SRC, p)
    cocodiff.load(a, cache=True)
    cocodiff.load(b, cache=True)
    assert cache.cache_location(a) != cache.cache_location(b)
    assert len(list(user_cache.glob("x.json-*.cocodiff-cache"))) == 2 and len(counted) == 2


def test_unwritable_user_cache_still_loads(src, counted, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COCODIFF_CACHE_DIR", str(blocker / "cache"))   # cannot be created, even as root
    a = cocodiff.load(src, cache=True)
    b = cocodiff.load(src, cache=True)
    assert len(counted) == 2 and _nothing_beside(src)
    _same(a, b)


def test_unwritable_everywhere_still_loads(src, counted, monkeypatch):
    def refuse(*a, **k):
        raise PermissionError("read-only")
    monkeypatch.setattr(cache, "_write", refuse)
    a = cocodiff.load(src, cache=True)
    b = cocodiff.load(src, cache=True)
    assert len(counted) == 2
    _same(a, b)


def test_explicit_cache_dir(src, counted, tmp_path, user_cache):
    d = tmp_path / "elsewhere"
    cocodiff.load(src, cache=d)
    assert _nothing_beside(src) and not user_cache.exists()
    assert len(list(d.glob("*.cocodiff-cache"))) == 1
    cocodiff.load(src, cache=d)
    assert len(counted) == 1


def test_warnings_survive_and_strict_still_raises(tmp_path, counted):
    p = tmp_path / "degen.json"
    shutil.copy(DEGEN, p)
    fresh = cocodiff.load(p, cache=True)
    assert fresh.warnings.counts["degenerate_ring"] == 2
    hit = cocodiff.load(p, cache=True)
    assert len(counted) == 1
    _same(fresh, hit)
    with pytest.raises(InputError, match="need >= 3"):
        cocodiff.load(p, cache=True, strict=True)


def test_relabelled_when_reached_by_another_path(src, monkeypatch):
    cocodiff.load(src, cache=True)
    monkeypatch.chdir(src.parent)
    ds = cocodiff.load("instances.json", cache=True)
    assert ds.path == "instances.json" and ds.sources == ["instances.json"]


def test_policy_defaults(src, counted, monkeypatch):
    cocodiff.load(src)                       # small file, default: not cached
    cocodiff.load(src, cache=False)
    assert not cache.cache_location(src).exists()
    monkeypatch.setattr(cache, "AUTO_MIN_BYTES", 1)
    cocodiff.load(src)                       # large enough now: cached by default
    assert cache.cache_location(src).exists()
    cocodiff.load(src)
    assert len(counted) == 3
    cocodiff.load(src, cache="refresh")      # rebuilt on request
    assert len(counted) == 4
    # results files (like=) and lists are never cached
    gt = cocodiff.load(src, cache=False)
    res = DATA / "coco2014_val100" / "instances_val2014_fakesegm100_results.json"
    cocodiff.load(res, like=gt, cache=True)
    assert not cache.cache_location(res).exists()
    cocodiff.load([src], cache=True)
    assert len(counted) == 7


def test_clear(src):
    cocodiff.load(src, cache=True)
    assert cache.clear(src) == 1 and not cache.cache_location(src).exists()
    legacy = src.parent / "instances.json.cocodiff-cache"     # where cocodiff < 0.2 kept it
    legacy.mkdir()
    assert cache.clear(src) == 1 and _nothing_beside(src)


def test_cli_no_cache_flag(src, monkeypatch, capsys):
    from cocodiff.cli import main
    monkeypatch.setattr(cache, "AUTO_MIN_BYTES", 1)   # make the small file "large"
    assert main(["-q", "stats", "--no-cache", str(src)]) == 0
    assert not cache.cache_location(src).exists()
    assert main(["-q", "stats", str(src)]) == 0
    assert cache.cache_location(src).exists() and _nothing_beside(src)
    capsys.readouterr()
