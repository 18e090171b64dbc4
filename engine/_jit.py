"""JIT policy for every cocodiff kernel, decided once.

* ``serial`` kernels: ``njit(cache=True, nogil=True)`` -- compiled once, cached on disk
  next to the source (``__pycache__``), safe to call from any thread.
* ``parallel`` kernels: ``njit(parallel=True, nogil=True)`` and **never cached**: a cached
  ``parallel=True`` kernel can crash when the thread count or threading layer changes
  (pynndescent removed theirs after segfaults).
* ``fastmath`` is off everywhere: masks and IoUs must equal pycocotools' to the last bit.
* ``NUMBA_BOUNDSCHECK=1`` in the environment turns Numba's bounds checking on for every
  kernel (used by the reliability tests); nothing here overrides it. Numba's disk cache does
  not key on it, in either direction: run bounds-checked code with a fresh
  ``NUMBA_CACHE_DIR`` (tests/test_boundscheck.py does), or it reuses unchecked kernels and
  leaves checked ones behind for normal runs.

Thread count: :func:`set_threads` wraps ``numba.set_num_threads`` and clamps to the
configured maximum (``NUMBA_NUM_THREADS``).
"""
from __future__ import annotations

from contextlib import contextmanager

import numba

__all__ = ["serial", "parallel", "prange", "set_threads", "get_threads", "using_threads"]

prange = numba.prange

_SERIAL_OPTS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")
_PARALLEL_OPTS = dict(cache=False, nogil=True, fastmath=False, error_model="numpy", parallel=True)


def serial(fn=None, **overrides):
    """Decorator for a serial kernel (disk-cached). Usable bare or with overrides."""
    opts = {**_SERIAL_OPTS, **overrides}
    if fn is None:
        return lambda f: numba.njit(**opts)(f)
    return numba.njit(**opts)(fn)


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
