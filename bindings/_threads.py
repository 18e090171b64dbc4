"""The process-wide thread pools the bindings run kernels on.

The Numba kernels are compiled ``nogil``: plain Python threads run them in parallel. One pool
per size is kept for the life of the process (threads are started once, not per call).
"""
from __future__ import annotations

__all__ = ["pool", "run_jobs"]

_POOLS: dict = {}


def pool(n):
    """A process-wide thread pool of ``n`` workers (the kernels release the GIL)."""
    from concurrent.futures import ThreadPoolExecutor
    if n not in _POOLS:
        _POOLS[n] = ThreadPoolExecutor(n, thread_name_prefix=f"cocodiff{n}")
    return _POOLS[n]


def run_jobs(n, fn, jobs):
    """``[fn(job) for job in jobs]``, on ``n`` threads (in order on the caller's thread when
    ``n <= 1`` or there is one job). A job's exception is raised once all have finished.

    Examples
    --------
    >>> run_jobs(2, lambda x: x * x, [1, 2, 3])
    [1, 4, 9]
    """
    if n <= 1 or len(jobs) <= 1:
        return [fn(j) for j in jobs]
    futures = [pool(n).submit(fn, j) for j in jobs]
    for f in futures:   # let every job finish before raising (none keeps running behind us)
        f.exception()
    return [f.result() for f in futures]
