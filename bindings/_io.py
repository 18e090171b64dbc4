"""Atomic file writes: a file appears under its final name complete, or not at all.

Every output cocodiff writes (``matches.parquet``, ``summary.json``, ``report.html``, the
synthetic twin, fetch manifests) goes through :func:`atomic_path`: the data is written to a
temporary file in the destination folder, flushed to disk, given the permissions a plain
``open()`` would (the umask is honoured), then renamed over the final name with
:func:`os.replace`. An exception or Ctrl-C removes the temporary file.
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "write_bytes_atomic", "write_json_atomic"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(final, fsync: bool = True):
    """Yield a temporary path beside ``final``; rename it to ``final`` when the block succeeds.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "out.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "out.txt").read_text(), sorted(p.name for p in d.iterdir())
    ('done', ['out.txt'])
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=str(final.parent))
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(final, data: bytes) -> Path:
    """Write ``data`` to ``final`` atomically (see :func:`atomic_path`). Returns the path."""
    with atomic_path(final) as tmp:
        tmp.write_bytes(data)
    return Path(final)


def write_json_atomic(final, obj, **dump_kwargs) -> Path:
    """``json.dump(obj)`` to ``final`` atomically (see :func:`atomic_path`). Returns the path."""
    with atomic_path(final) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, **dump_kwargs)
            f.write("\n")
    return Path(final)
