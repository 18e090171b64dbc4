"""Atomic file writes: a file appears under its final name complete, or not at all.

Every output cocodiff writes (``matches.parquet``, ``summary.json``, ``report.html``, the
synthetic twin, fetch manifests) goes through :func:`atomic_path`: the data is written to a
temporary file in the destination folder, flushed to disk, given the permissions a plain
``open()`` would (the umask is honoured), then renamed over the final name with
:func:`os.replace`. An exception, Ctrl-C or SIGTERM removes the temporary file; a kill -9 leaves
it, named with the writer's pid, and the next writer into that folder removes it
(:func:`remove_stale_temps`). :func:`folder_lock` keeps two writers out of one folder.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "write_bytes_atomic", "write_json_atomic", "sigint_deferred", "Terminated",
           "remove_stale_temps",
           "folder_lock", "FolderBusy", "file_sha256"]


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
        # the writer's pid in the name: a later run removes what a killed one left (remove_stale_temps)
        fd, name = tempfile.mkstemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp", dir=str(final.parent))
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


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C by the command line: it unwinds the same way (temporary files
    removed, nothing half-written) and exits with status 143."""


@contextmanager
def sigint_deferred():
    """Hold Ctrl-C (SIGINT) and SIGTERM while a long compiled kernel runs, or while files are
    renamed into place; raise them when the block ends.

    A ``KeyboardInterrupt`` raised while a Numba kernel is calling back into Python can crash
    the process (numba/numba#2324). Inside this block the signals only set a flag; on leaving it
    the usual ``KeyboardInterrupt`` (:class:`Terminated` for SIGTERM) is raised if one came.
    Signal handlers belong to the main thread, so elsewhere this does nothing.

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
    old_term = signal.signal(signal.SIGTERM, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        signal.signal(signal.SIGTERM, old_term)
    if signal.SIGTERM in pressed:
        raise Terminated
    if pressed:
        raise KeyboardInterrupt


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's live process
        return True
    return True


def remove_stale_temps(folder, names) -> int:
    """Remove the temporary files of :func:`atomic_path` for ``names`` in ``folder`` whose writer
    is no longer running (a process killed with SIGKILL cannot clean up). Returns how many.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".out.json.999999999.abc.tmp").write_text("x")
    >>> remove_stale_temps(d, ["out.json"]), sorted(p.name for p in d.iterdir())
    (1, [])
    """
    n = 0
    folder = Path(folder)
    for name in names:
        for f in folder.glob(f".{name}.*.tmp"):
            parts = f.name[len(name) + 2:].split(".")
            if not parts or not parts[0].isdigit():
                continue
            pid = int(parts[0])
            if pid != os.getpid() and not _pid_alive(pid):
                try:
                    f.unlink()
                    n += 1
                except OSError:
                    pass
    return n


class FolderBusy(OSError):
    """Another live process holds the folder's lock (:func:`folder_lock`)."""

    def __init__(self, message: str, folder: str):
        super().__init__(errno.EBUSY, message, folder)


@contextmanager
def folder_lock(folder, what: str):
    """Hold ``folder/.cocodiff-<what>.lock`` for the block: a second writer meanwhile gets
    :class:`FolderBusy` (one clear line) instead of mixing its files with this one's. A lock left
    by a dead process (kill -9) is taken over.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> with folder_lock(d, "compare"):
    ...     try:
    ...         with folder_lock(d, "compare"):
    ...             pass
    ...     except FolderBusy as e:
    ...         print("busy")
    busy
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / f".cocodiff-{what}.lock"
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and (pid == os.getpid() or _pid_alive(pid)):
                raise FolderBusy(f"another cocodiff {what} (pid {pid}) is writing into this folder; wait for it "
                                 f"or choose another output folder", str(folder)) from None
            lock.unlink(missing_ok=True)   # a dead process's lock
            continue
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        break
    else:
        raise FolderBusy(f"could not take the lock {lock.name}", str(folder))
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def file_sha256(path, chunk: int = 1 << 22) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()
