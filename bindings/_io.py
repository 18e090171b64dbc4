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
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "write_bytes_atomic", "write_json_atomic", "sigint_deferred"]


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
    tmp = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=str(final.parent))
        tmp = Path(name)
        os.close(fd)
        yield tmp
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    except BaseException:
        if tmp is not None:
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


@contextmanager
def sigint_deferred():
    """Hold Ctrl-C (SIGINT) while a long compiled kernel runs; raise it when the block ends.

    A ``KeyboardInterrupt`` raised while a Numba kernel is calling back into Python can crash
    the process (numba/numba#2324). Inside this block SIGINT only sets a flag; on leaving it the
    usual ``KeyboardInterrupt`` is raised if Ctrl-C was pressed. Signal handlers belong to the
    main thread, so elsewhere this does nothing.

    Examples
    --------
    >>> with sigint_deferred():
    ...     pass
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
    if pressed:
        raise KeyboardInterrupt
