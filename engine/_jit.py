"""JIT policy for every cocodiff kernel, decided once.

* ``serial`` kernels: ``njit(cache=True, nogil=True)`` -- compiled once, cached on disk
  under the user's cache directory (see *Where the cache goes*), safe to call from any thread.
* ``parallel`` kernels: ``njit(parallel=True, nogil=True)`` and **never cached**: a cached
  ``parallel=True`` kernel can crash when the thread count or threading layer changes
  (pynndescent removed theirs after segfaults).
* ``fastmath`` is off everywhere: masks and IoUs must equal pycocotools' to the last bit.
* ``NUMBA_BOUNDSCHECK=1`` in the environment turns Numba's bounds checking on for every
  kernel (used by the reliability tests); nothing here overrides it. Numba's disk cache does
  not key on it, in either direction: run bounds-checked code with a fresh
  ``NUMBA_CACHE_DIR`` (tests/test_boundscheck.py does), or it reuses unchecked kernels and
  leaves checked ones behind for normal runs.

Where the cache goes
--------------------
Nothing is written inside the installed package (a ``pip install .`` followed by
``pip uninstall`` would leave a ``cocodiff/engine/__pycache__`` of Numba files behind, and
that empty folder then shadows an editable install as a namespace package). Kernels are
cached in :func:`numba_cache_dir`: ``$NUMBA_CACHE_DIR`` when set, else
``<user cache dir>/numba`` with :func:`user_cache_dir` = ``$COCODIFF_CACHE_DIR``, else
``$XDG_CACHE_HOME/cocodiff``, else ``~/.cache/cocodiff``. ``numba.config.CACHE_DIR`` is set to
it only while a cocodiff kernel is decorated (Numba fixes a function's cache folder then), so
other code's ``cache=True`` functions in the same process keep Numba's own default. Numba files
each source file's entries under a folder named after that file's full path, so an editable
tree and an installed copy never read each other's entries. When the folder cannot be
created or written (a read-only home, say), kernels are simply not cached: every process
compiles them again, nothing fails.

Compile notice
--------------
On an empty cache the first run compiles for about 15 s on 2 cores. :func:`install_compile_notice`
(called by the CLI unless ``-q``, which prints the line on stderr) hands one line to a callback the
first time in the process a cacheable kernel is really compiled (a kernel loaded from the cache
fires nothing); library code here never prints.
``COCODIFF_COMPILE_NOTICE=1`` installs it for library users too (at import of this module),
``COCODIFF_COMPILE_NOTICE=0`` turns it off, the CLI's included.

Thread count: :func:`set_threads` wraps ``numba.set_num_threads`` and clamps to the
configured maximum (``NUMBA_NUM_THREADS``).
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import numba
from numba.core import event as _event
from numba.core.caching import NullCache

__all__ = ["serial", "parallel", "prange", "set_threads", "get_threads", "using_threads",
           "user_cache_dir", "numba_cache_dir", "install_compile_notice", "COMPILE_NOTICE"]

prange = numba.prange

_SERIAL_OPTS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")
_PARALLEL_OPTS = dict(cache=False, nogil=True, fastmath=False, error_model="numpy", parallel=True)

#: the line :func:`install_compile_notice` hands on (the CLI prints it on stderr) before the first real compile
COMPILE_NOTICE = "cocodiff: compiling kernels once (~15 s); later runs start in about a second"
_NO_CACHE_NOTICE = ("cocodiff: compiling kernels (~15 s); no writable cache directory, so every run "
                    "compiles them: set COCODIFF_CACHE_DIR to a writable folder")


def user_cache_dir() -> Path:
    """cocodiff's cache root: ``$COCODIFF_CACHE_DIR``, else ``$XDG_CACHE_HOME/cocodiff``, else
    ``~/.cache/cocodiff`` (it may not exist yet). The columnar dataset cache
    (:mod:`cocodiff.cache`) and the kernel cache (``numba/``) live under it.

    Examples
    --------
    >>> user_cache_dir()  # doctest: +SKIP
    PosixPath('/home/me/.cache/cocodiff')
    """
    env = os.environ.get("COCODIFF_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg if xdg else Path.home() / ".cache") / "cocodiff"


def numba_cache_dir() -> Path | None:
    """Where kernels are cached: ``$NUMBA_CACHE_DIR`` when set (Numba's own setting wins), else
    ``user_cache_dir() / "numba"``; None when that folder cannot be created and written, and
    kernels then are not cached at all.

    Examples
    --------
    >>> d = numba_cache_dir()
    >>> d is None or d.is_dir()
    True
    """
    try:
        env = os.environ.get("NUMBA_CACHE_DIR")
        d = Path(env) if env else user_cache_dir() / "numba"
        d.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=d).close()
        return d.resolve()
    except (OSError, RuntimeError):   # RuntimeError: Path.home() without a home
        return None


_cache_root: Path | None = None
_cache_root_known = False
_decorate_lock = threading.Lock()


def _cached_njit(fn, opts):
    """``numba.njit(**opts)(fn)`` with Numba's cache folder pointed at :func:`numba_cache_dir`
    while the dispatcher is made; uncached when there is no usable folder, or when Numba would
    put the cache anywhere else (it falls back to the source's ``__pycache__``)."""
    global _cache_root, _cache_root_known
    with _decorate_lock:
        if not _cache_root_known:
            _cache_root, _cache_root_known = numba_cache_dir(), True
        if _cache_root is None:
            return numba.njit(**{**opts, "cache": False})(fn)
        saved = numba.config.CACHE_DIR
        numba.config.CACHE_DIR = str(_cache_root)
        try:
            disp = numba.njit(**opts)(fn)
        finally:
            numba.config.CACHE_DIR = saved
    where = getattr(disp._cache, "cache_path", None)
    if where is None or not os.path.abspath(where).startswith(str(_cache_root) + os.sep):
        disp._cache = NullCache()
    return disp


def serial(fn=None, **overrides):
    """Decorator for a serial kernel (disk-cached). Usable bare or with overrides."""
    opts = {**_SERIAL_OPTS, **overrides}
    wrap = (lambda f: _cached_njit(f, opts)) if opts.get("cache") else numba.njit(**opts)
    if fn is None:
        return wrap
    return wrap(fn)


def parallel(fn=None, **overrides):
    """Decorator for a ``prange`` kernel (not cached, see module docstring)."""
    opts = {**_PARALLEL_OPTS, **overrides}
    if opts.get("cache"):
        raise ValueError("parallel kernels must not be cached")
    if fn is None:
        return lambda f: numba.njit(**opts)(f)
    return numba.njit(**opts)(fn)


def set_threads(n: int | None) -> int:
    """Set the Numba thread count for parallel kernels (None: leave as is). Returns it."""
    if n is not None:
        n = int(n)
        if n < 1:
            raise ValueError(f"threads must be >= 1, got {n}")
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    return numba.get_num_threads()


def get_threads() -> int:
    return numba.get_num_threads()


@contextmanager
def using_threads(n: int | None):
    """``set_threads(n)`` for the block, the caller's thread count restored after it (Numba's
    thread count is per calling thread). Yields the count in force.

    Examples
    --------
    >>> before = get_threads()
    >>> with using_threads(1) as n:
    ...     n, get_threads()
    (1, 1)
    >>> get_threads() == before
    True
    """
    prev = get_threads()
    try:
        yield set_threads(n)
    finally:
        numba.set_num_threads(prev)


class _CompileNotice(_event.Listener):
    """Hands one line to ``emit`` before the first real compilation of a cocodiff kernel in the
    process."""

    def __init__(self, emit):
        self.emit = emit
        self.fired = False

    def on_start(self, ev):
        if self.fired:
            return
        disp = (ev.data or {}).get("dispatcher")
        py_func = getattr(disp, "py_func", None)
        if not getattr(py_func, "__module__", "").startswith("cocodiff."):
            return
        if not isinstance(getattr(disp, "_cache", None), NullCache):
            line = COMPILE_NOTICE
        elif _cache_root_known and _cache_root is None and not disp.targetoptions.get("parallel"):
            line = _NO_CACHE_NOTICE
        else:          # parallel kernels are never cached: compiled every run, no notice
            return
        self.fired = True
        try:
            self.emit(line)
        except (OSError, ValueError):   # closed or broken stderr: never fail a compile for a notice
            pass

    def on_end(self, ev):
        pass


_notice: _CompileNotice | None = None


def install_compile_notice(emit=None) -> bool:
    """Hand :data:`COMPILE_NOTICE` to ``emit(line)`` before the first real compilation of a
    cacheable cocodiff kernel in this process -- once per process, however often it is called
    (a later call's ``emit`` replaces the earlier one). Default ``emit``: a warning on the
    ``cocodiff`` logger (the CLI passes one that prints the bare line on stderr). Nothing when
    ``COCODIFF_COMPILE_NOTICE=0``. Returns whether the notice is installed.

    Examples
    --------
    >>> install_compile_notice()  # doctest: +SKIP
    True
    """
    global _notice
    if os.environ.get("COCODIFF_COMPILE_NOTICE", "").strip() == "0":
        return False
    emit = emit if emit is not None else logging.getLogger("cocodiff").warning
    with _decorate_lock:
        if _notice is None:
            _notice = _CompileNotice(emit)
            _event.register("numba:compile", _notice)
        else:
            _notice.emit = emit
    return True


if os.environ.get("COCODIFF_COMPILE_NOTICE", "").strip() == "1":
    install_compile_notice()
