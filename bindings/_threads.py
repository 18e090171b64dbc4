"""The process-wide thread pools the bindings run kernels on.

The Numba kernels are compiled ``nogil``: plain Python threads run them in parallel. One pool
per size is kept for the life of the process (threads are started once, not per call).
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["pool", "submit", "run_jobs", "in_pool"]

_POOLS: dict = {}
_LOCAL = threading.local()


def pool(n):
    """A process-wide thread pool of ``n`` workers (the kernels release the GIL)."""
    if n not in _POOLS:
        _POOLS[n] = ThreadPoolExecutor(n, thread_name_prefix=f"cocodiff{n}")
    return _POOLS[n]


def submit(n, fn, job):
    """``pool(n).submit(fn, job)``, the job marked as running on a pool worker (:func:`in_pool`)."""
    def run():
        _LOCAL.in_pool = True
        return fn(job)
    return pool(n).submit(run)


def in_pool() -> bool:
    """Whether the calling thread is one of the pools' workers (work it queued on a pool and
    waited for could deadlock it)."""
    return getattr(_LOCAL, "in_pool", False)


def run_jobs(n, fn, jobs):
    """``[fn(job) for job in jobs]``, on ``n`` threads (in order on the caller's thread when
    ``n <= 1`` or there is one job). A job's exception is raised once all have finished.

    A job that calls ``run_jobs`` itself runs its jobs inline (no deadlock on a full pool).

    Examples
    --------
    >>> run_jobs(2, lambda x: x * x, [1, 2, 3])
    [1, 4, 9]
    >>> run_jobs(2, lambda x: sum(run_jobs(2, lambda y: x * y, [1, 2, 3])), [1, 10, 100])
    [6, 60, 600]
    """
    if n <= 1 or len(jobs) <= 1 or in_pool():
        # inline also inside a pool thread: jobs queued behind a worker that waits for them
        # would never run once every worker waits
        return [fn(j) for j in jobs]

    futures = [submit(n, fn, j) for j in jobs]
    for f in futures:   # let every job finish before raising (none keeps running behind us)
        f.exception()
    return [f.result() for f in futures]
