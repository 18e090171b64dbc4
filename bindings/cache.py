"""Columnar cache of loaded datasets: a re-run maps the arrays from disk instead of parsing JSON.

Layout
------
A cache is a directory of ``.npy`` files (one per :class:`~cocodiff.dataset.Dataset` array,
loaded memory-mapped copy-on-write, so a hit costs milliseconds and the arrays stay writable
without touching the files) plus ``meta.json`` (the key, the string columns ``file_name`` /
``cat_name`` / ``cat_supercategory``, ``sources``, the counted warnings, and every array's
dtype and shape).

Where
-----
Under the user's cache directory, never beside the input (nothing is written where the user did
not ask): ``<root>/<file name>-<hash of the absolute path>.cocodiff-cache/`` with ``<root>`` =
``cache_dir`` when given (``load(..., cache=<folder>)``), else ``$COCODIFF_CACHE_DIR``, else
``$XDG_CACHE_HOME/cocodiff``, else ``~/.cache/cocodiff`` (:func:`cocodiff.engine._jit.user_cache_dir`,
shared with the kernel cache). When it cannot be written, the input is loaded uncached.

Validity
--------
A cache is used only when its key matches the input: :data:`CACHE_VERSION` (bumped whenever
the loader's output changes), the file's size and ``st_mtime_ns``, and a blake2b digest of the
size and the file's first and last MiB. A cache that is missing files, truncated or otherwise
unreadable is ignored (logged at debug level) and rebuilt. Writes go to a temporary sibling
directory that is renamed into place, so a reader never sees a half-written cache.

Policy (see :func:`cocodiff.load`): by default (``cache=None``) the Python API and the CLI
(``cocodiff stats`` / ``compare``) cache single-file inputs of at least :data:`AUTO_MIN_BYTES`
(50 MB) -- below that, parsing takes well under a second and a cache of every small file would
be clutter. ``cache=True`` caches any single file, ``False`` never (CLI:
``--no-cache``), ``"refresh"`` rebuilds, and a path keeps the cache in that folder. Results files
(loaded with ``like=``) and multi-file inputs (directories, lists) are never cached.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
from collections import Counter
from dataclasses import fields
from pathlib import Path

import numpy as np

from .dataset import Dataset
from .engine._jit import user_cache_dir
from .errors import Warnings

__all__ = ["CACHE_VERSION", "AUTO_MIN_BYTES", "cache_location", "fingerprint", "save", "load_cached", "clear"]

log = logging.getLogger(__name__)

CACHE_VERSION = 1
AUTO_MIN_BYTES = 50_000_000
_SUFFIX = ".cocodiff-cache"
_STR_FIELDS = ("file_name", "cat_name", "cat_supercategory")
_ARRAY_FIELDS = tuple(f.name for f in fields(Dataset)
                      if f.name not in _STR_FIELDS + ("path", "sources", "warnings"))
_EDGE = 1 << 20


def cache_location(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where the cache of ``path`` lives (it may not exist yet): under ``cache_dir``, else under the
    user cache folder (see the module docstring), never beside the input.

    Parameters
    ----------
    path : str or os.PathLike
        The input file.
    cache_dir : str or os.PathLike, optional
        Keep caches under this folder instead of the user cache folder.

    Examples
    --------
    >>> loc = cache_location("/data/train.json", cache_dir="/tmp/cc")
    >>> loc.parent, loc.name.startswith("train.json-"), loc.name.endswith(".cocodiff-cache")
    (PosixPath('/tmp/cc'), True, True)
    """
    p = Path(os.path.abspath(os.fspath(path)))
    root = Path(cache_dir) if cache_dir is not None else user_cache_dir()
    h = hashlib.blake2b(str(p).encode(), digest_size=8).hexdigest()
    return root / f"{p.name}-{h}{_SUFFIX}"


def fingerprint(path: str | os.PathLike) -> dict:
    """The key a cache must match: version, size, mtime_ns and a digest of the file's ends.

    Examples
    --------
    >>> sorted(fingerprint("data/coco2014_val100/instances_val2014_100.json"))
    ['digest', 'mtime_ns', 'size', 'version']
    """
    st = os.stat(path)
    h = hashlib.blake2b(digest_size=16)
    h.update(str(st.st_size).encode())
    with open(path, "rb") as f:
        h.update(f.read(_EDGE))
        if st.st_size > _EDGE:
            f.seek(max(_EDGE, st.st_size - _EDGE))
            h.update(f.read(_EDGE))
    return {"version": CACHE_VERSION, "size": int(st.st_size), "mtime_ns": int(st.st_mtime_ns),
            "digest": h.hexdigest()}


def _relabel(s: str, old: str, new: str) -> str:
    return new + s[len(old):] if s.startswith(old) else s


def save(ds: Dataset, path: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
         key: dict | None = None) -> Path | None:
    """Write the cache of ``ds`` (loaded from the single file ``path``) atomically.

    Returns the cache folder (:func:`cache_location`), or None when it could not be written
    (logged at debug level, never raised).

    Examples
    --------
    >>> import cocodiff
    >>> f = "data/coco2014_val100/instances_val2014_100.json"
    >>> save(cocodiff.load(f, cache=False), f, cache_dir="/tmp/cc")  # doctest: +SKIP
    """
    key = key or fingerprint(path)
    try:
        target = cache_location(path, cache_dir)
        return _write(ds, target, key)
    except (OSError, RuntimeError) as e:   # RuntimeError: no home folder to put it in
        log.debug("cannot write the cache of %s (%s)", path, e)
    return None


def _write(ds: Dataset, target: Path, key: dict) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        arrays = {}
        for name in _ARRAY_FIELDS:
            a = np.ascontiguousarray(getattr(ds, name))
            np.save(tmp / f"{name}.npy", a, allow_pickle=False)
            arrays[name] = {"dtype": a.dtype.str, "shape": list(a.shape)}
        meta = {
            "key": key, "path": ds.path, "sources": list(ds.sources), "arrays": arrays,
            "strings": {name: [str(s) for s in getattr(ds, name).tolist()] for name in _STR_FIELDS},
            "warnings": {"counts": dict(ds.warnings.counts), "examples": ds.warnings.examples,
                         "max_examples": ds.warnings.max_examples},
        }
        (tmp / "meta.json").write_text(json.dumps(meta))
        if target.exists():
            trash = target.parent / f"{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
            os.replace(target, trash)
            shutil.rmtree(trash, ignore_errors=True)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("cached %s in %s", ds.path, target)
    return target


def load_cached(path: str | os.PathLike, label: str | None = None, cache_dir: str | os.PathLike | None = None,
                key: dict | None = None) -> Dataset | None:
    """The cached :class:`Dataset` of ``path`` if a valid cache exists, else None.

    Arrays are memory-mapped copy-on-write. ``label`` (default ``path``) becomes
    ``Dataset.path``; sources and warning messages are relabelled to it.

    Examples
    --------
    >>> load_cached("data/coco2014_val100/instances_val2014_100.json", cache_dir="/nonexistent") is None
    True
    """
    label = os.fspath(path) if label is None else label
    try:
        target = cache_location(path, cache_dir)
        if not (target / "meta.json").exists():
            return None
        key = key or fingerprint(path)
        ds = _read(target, key, label)
    except Exception as e:  # any damage: ignore and rebuild
        log.debug("ignoring the cache of %s (%s: %s)", path, type(e).__name__, e)
        return None
    if ds is not None:
        log.info("loaded %s from cache %s", label, target)
    return ds


def _read(target: Path, key: dict, label: str) -> Dataset | None:
    meta = json.loads((target / "meta.json").read_text())
    if meta.get("key") != key:
        log.debug("cache %s is stale (key %s != %s)", target, meta.get("key"), key)
        return None
    kw = {}
    for name in _ARRAY_FIELDS:
        spec = meta["arrays"][name]
        a = np.load(target / f"{name}.npy", mmap_mode="c", allow_pickle=False)
        if a.dtype.str != spec["dtype"] or list(a.shape) != spec["shape"]:
            raise ValueError(f"{name}: {a.dtype.str}{a.shape} != {spec}")
        kw[name] = a.view(np.ndarray) if a.size else np.array(a)
    for name in _STR_FIELDS:
        vals = meta["strings"][name]
        arr = np.empty(len(vals), object)
        arr[:] = vals
        kw[name] = arr
    old = meta["path"]
    w = meta["warnings"]
    warnings = Warnings(counts=Counter(w["counts"]),
                        examples={k: [_relabel(m, old, label) for m in v] for k, v in w["examples"].items()},
                        max_examples=int(w["max_examples"]))
    return Dataset(path=label, sources=[_relabel(s, old, label) for s in meta["sources"]], warnings=warnings,
                   **kw)


def clear(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> int:
    """Remove the caches of ``path``: under ``cache_dir`` (or the user cache folder), and one an
    older cocodiff left beside the input (``<file>.cocodiff-cache/``). Returns how many.

    Examples
    --------
    >>> clear("/nonexistent/file.json")
    0
    """
    n = 0
    p = Path(os.path.abspath(os.fspath(path)))
    for target in (cache_location(path, cache_dir), p.parent / (p.name + _SUFFIX)):
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
            n += 1
    return n
