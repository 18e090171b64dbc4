"""Run :func:`cocodiff.compare` across the workers of a Dask cluster.

``cocodiff.compare(a, b, ..., client=dask.distributed.Client(...))`` (and ``cocodiff compare A B
-o OUT --scheduler ADDRESS`` / ``--workers N``) comes here. Dask is an optional extra::

    pip install 'cocodiff[dask]'

Without it, asking for a cluster raises :class:`DaskMissingError` (one line saying so).

How the work is split
---------------------
* The client loads both inputs once (paths are loaded with :func:`cocodiff.load`; a
  :class:`~cocodiff.dataset.Dataset` is used as given).
* The images present in either input (sorted by ``image_id``) are cut into the same
  batches of ``batch_images`` images a single-process :func:`~cocodiff.matching.compare`
  would rasterise one after the other. Shards are **contiguous runs of whole batches**:
  :func:`~cocodiff.matching.compare` numbers the ``group`` ids of split / merged rows
  batch by batch, so a shard boundary inside a batch would renumber them. The runs are
  balanced by cost (:func:`plan_shards`: instances + stored polygon points + RLE runs of
  both sides), the largest shard made as small as contiguity allows.
* Data movement: **neither broadcast nor path loading**. Each shard's sub-Datasets (the
  images, instances and geometry of its image range, categories whole; :func:`subset`)
  are cut on the client and scattered to the cluster, one shard per task, so every byte of
  the inputs crosses the network once, workers need no access to the input files, and
  no worker holds more than its shards. (``client.scatter(..., broadcast=True)`` of the
  whole Datasets would move them ``n_workers`` times and keep a full copy per worker.)
* Every task runs the ordinary single-process :func:`~cocodiff.matching.compare` on its
  shard. The client gathers the per-shard tables, shifts each shard's ``group`` ids by
  the number of groups in the shards before it and concatenates them in image order; the
  image report and the totals in ``meta`` are summed, examples concatenated. The result
  equals the single-process run with the same parameters row for row, and its
  ``matches.parquet`` is byte-identical. ``Comparison.timings`` holds the per-stage
  seconds summed over the shards (worker seconds) plus ``dask_scatter_compute_gather`` and
  ``dask_assemble`` (client wall seconds) and ``dask_workers`` (all shard tasks, wall / CPU).

Threads (no oversubscription)
-----------------------------
There is one shard per worker thread (``sum(client.nthreads().values())``, at most one
per batch). A worker runs up to its ``nthreads`` tasks at once, so each task sets its Numba
thread count -- a worker-side call of :func:`cocodiff.engine._jit.set_threads` in the
task's own thread (Numba's setting is per thread) -- to the worker's ``nthreads`` divided
by the tasks it runs at once, i.e. **1**: the worker's threads, not Numba's, fill its
cores, and the multi-threaded kernels (compiled per process, never cached) are never
compiled on the workers. ``threads=k`` overrides this with ``k`` Numba threads per task:
meant for workers started with one thread each (``dask worker --nthreads 1``) on machines
with ``k`` cores per worker. The previous setting is restored when the task ends.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import fields
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from ._alignment import N_EXAMPLES
from .comparison import Comparison, renumber_groups
from .dataset import Dataset
from .engine._jit import get_threads, set_threads
from .errors import Warnings
from .loader import load_pair
from .matching import BATCH_IMAGES, compare

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["compare_distributed", "plan_shards", "subset", "dask_client", "require_dask", "DaskMissingError",
           "INSTALL_HINT"]

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'cocodiff[dask]'"


class DaskMissingError(ImportError):
    """Dask (``distributed``) is needed for ``client=`` / ``--scheduler`` / ``--workers`` but is not installed."""


def require_dask() -> ModuleType:
    """Import and return the ``distributed`` module, or raise :class:`DaskMissingError`.

    Examples
    --------
    >>> from cocodiff.distributed import require_dask
    >>> require_dask().__name__          # doctest: +SKIP
    'distributed'
    """
    try:
        import distributed   # the optional extra: only when a cluster is asked for
    except ImportError as e:
        raise DaskMissingError(f"Dask distributed is not installed ({e}); install it with: {INSTALL_HINT}") from None
    return distributed


# ----------------------------------------------------------------------------- sharding

def _inst_cost(ds) -> np.ndarray:
    """Per-instance cost: 1 + stored polygon points + RLE runs (int64)."""
    return 1 + ds.n_points().astype(np.int64) + np.diff(ds.counts_offsets).astype(np.int64)


def _batch_image_rows(ds, ids, starts):
    """Image rows of ``ds`` at each batch start (union-image index), plus ``n_images`` at the end."""
    rows = np.searchsorted(ds.image_id, ids[starts], side="left") if starts.size else np.zeros(0, np.int64)
    return np.r_[rows, ds.n_images].astype(np.int64)


def plan_shards(A: Dataset, B: Dataset, n_shards: int, batch_images: int = BATCH_IMAGES) -> list[dict]:
    """Cut the images of ``A`` and ``B`` into at most ``n_shards`` contiguous, cost-balanced shards.

    The union of both image id lists, sorted, is cut into batches of ``batch_images``
    (as :func:`cocodiff.compare` does); a shard is a run of whole batches. The cost of a
    batch is the instances + stored polygon points + RLE runs of both sides in it; the
    runs are chosen so that the costliest shard is as cheap as possible (binary search on
    the cap, then greedy packing).

    Parameters
    ----------
    A, B : Dataset
    n_shards : int -- at most this many shards (fewer if there are fewer batches).
    batch_images : int -- batch size in images, as in :func:`cocodiff.compare`.

    Returns
    -------
    list of dict
        One per shard in image order: ``a_rows`` / ``b_rows`` (image-row ranges ``(r0, r1)``
        of A and B), ``images`` (union images in it) and ``cost``.

    Examples
    --------
    >>> from cocodiff.distributed import plan_shards
    >>> shards = plan_shards(A, B, n_shards=4)      # doctest: +SKIP
    >>> [s["images"] for s in shards]               # doctest: +SKIP
    [2000, 2000, 1000]
    """
    if n_shards < 1:
        raise ValueError(f"n_shards must be >= 1, got {n_shards}")
    if batch_images < 1:
        raise ValueError("batch_images must be >= 1")
    ids = np.union1d(A.image_id, B.image_id).astype(np.int64)
    n = ids.size
    if n == 0:
        return []
    starts = np.arange(0, n, batch_images, dtype=np.int64)
    bounds = np.r_[starts, n]
    ra = _batch_image_rows(A, ids, starts)
    rb = _batch_image_rows(B, ids, starts)
    ca = np.r_[0, np.cumsum(_inst_cost(A))]
    cb = np.r_[0, np.cumsum(_inst_cost(B))]
    cum = ca[A.image_slices()[ra]] + cb[B.image_slices()[rb]]   # cumulative cost at batch bounds
    cost = np.diff(cum)
    nb = cost.size

    def pack(cap):
        cuts = [0]
        while cuts[-1] < nb:
            s = cuts[-1]
            e = int(np.searchsorted(cum, cum[s] + cap, side="right")) - 1
            cuts.append(max(e, s + 1))
        return cuts

    lo, hi = int(cost.max()), int(cum[-1] - cum[0])
    while lo < hi:              # smallest cap that packs into <= n_shards runs
        mid = (lo + hi) // 2
        if len(pack(mid)) - 1 <= n_shards:
            hi = mid
        else:
            lo = mid + 1
    cuts = pack(lo)
    return [dict(a_rows=(int(ra[s]), int(ra[e])), b_rows=(int(rb[s]), int(rb[e])),
                 images=int(bounds[e] - bounds[s]), cost=int(cum[e] - cum[s]))
            for s, e in zip(cuts[:-1], cuts[1:])]


def subset(ds: Dataset, r0: int, r1: int) -> Dataset:
    """The sub-Dataset of image rows ``r0:r1`` of ``ds``: those images, their instances and geometry.

    Categories, ``path`` and ``sources`` are kept whole; offsets are re-based to 0;
    ``warnings`` is a fresh, empty counter. Arrays are views where slicing allows.

    Examples
    --------
    >>> from cocodiff.distributed import subset
    >>> sub = subset(ds, 0, 10)            # doctest: +SKIP
    >>> sub.n_images                       # doctest: +SKIP
    10
    """
    r0, r1 = int(r0), int(r1)
    if not 0 <= r0 <= r1 <= ds.n_images:
        raise ValueError(f"image rows {r0}:{r1} out of 0:{ds.n_images}")
    sl = ds.image_slices()
    i0, i1 = int(sl[r0]), int(sl[r1])
    iro = ds.inst_ring_offsets
    g0, g1 = int(iro[i0]), int(iro[i1])
    ro = ds.ring_offsets
    p0, p1 = int(ro[g0]), int(ro[g1])
    co = ds.counts_offsets
    c0, c1 = int(co[i0]), int(co[i1])
    img = slice(r0, r1)
    inst = slice(i0, i1)
    out = dict(
        path=ds.path, sources=ds.sources,
        image_id=ds.image_id[img], width=ds.width[img], height=ds.height[img], file_name=ds.file_name[img],
        cat_id=ds.cat_id, cat_name=ds.cat_name, cat_supercategory=ds.cat_supercategory,
        ann_id=ds.ann_id[inst], inst_image_id=ds.inst_image_id[inst], category_id=ds.category_id[inst],
        iscrowd=ds.iscrowd[inst], area=ds.area[inst], bbox=ds.bbox[inst], score=ds.score[inst],
        kind=ds.kind[inst], source=ds.source[inst], img_row=(ds.img_row[inst] - r0).astype(ds.img_row.dtype),
        xy=ds.xy[p0:p1], ring_offsets=(ro[g0:g1 + 1] - p0).astype(ro.dtype),
        inst_ring_offsets=(iro[i0:i1 + 1] - g0).astype(iro.dtype),
        counts=ds.counts[c0:c1], counts_offsets=(co[i0:i1 + 1] - c0).astype(co.dtype),
        rle_h=ds.rle_h[inst], rle_w=ds.rle_w[inst], warnings=Warnings())
    unknown = [f.name for f in fields(Dataset) if f.name not in out]
    if unknown:  # a field added to Dataset after this was written: kept whole
        log.warning("subset: Dataset fields %s not sliced (kept whole)", unknown)
        out.update({k: getattr(ds, k) for k in unknown})
    return Dataset(**out)


# ----------------------------------------------------------------------------- worker side

def _task_threads(threads):
    """Numba threads for one task: ``threads`` if given, else 1.

    A worker runs up to ``nthreads`` tasks at once, so each task's share of the worker's
    ``nthreads`` cores is ``nthreads / nthreads = 1`` Numba thread.
    """
    return 1 if threads is None else int(threads)


def _run_shard(pair, kwargs, threads):
    """Worker task: single-process compare of one shard with this task's Numba thread count."""
    sub_a, sub_b = pair
    prev = get_threads()
    set_threads(_task_threads(threads))
    t0 = time.perf_counter()
    c0 = time.process_time()
    try:
        used = get_threads()
        cmp = compare(sub_a, sub_b, threads=None, progress=False, **kwargs)
    finally:
        set_threads(prev)
    return dict(table=cmp.table, images=cmp.images, meta=cmp.meta, params=cmp.params, threads=used,
                timings=dict(cmp.timings),
                wall=time.perf_counter() - t0, cpu=time.process_time() - c0)


# ----------------------------------------------------------------------------- client side

def _merge_counts(parts, limit):
    """Sum int entries, concatenate list entries (first ``limit`` kept); others from the first part."""
    out = {}
    for k, v in parts[0].items():
        vals = [p.get(k) for p in parts]
        if isinstance(v, bool) or not isinstance(v, (int, list)):
            out[k] = v
        elif isinstance(v, int):
            out[k] = int(sum(vals))
        else:
            out[k] = [x for p in vals for x in p][:limit]
    return out


def _assemble(results):
    """One Comparison from the per-shard results (in image order)."""
    import pyarrow as pa   # pyarrow (and _arrow, which imports it) once there are results: import cost

    from . import _arrow

    tables = [r["table"] for r in results]
    # group ids: shard k's ids come after every group of the shards before it (a shard's ids
    # are already numbered by first appearance: shard 0's stay as they are)
    shifted = []
    base = 0
    for t in tables:
        g = _arrow.to_numpy(t.column("group")).astype(np.int64)
        g, n_groups = renumber_groups(g, base)
        if base and n_groups:
            t = t.set_column(t.schema.get_field_index("group"), t.schema.field("group"), _arrow.array(g))
        base += n_groups
        shifted.append(t)
    nonempty = [t for t in shifted if t.num_rows] or shifted[:1]
    table = pa.concat_tables(nonempty).combine_chunks()
    images = _merge_counts([r["images"] for r in results], N_EXAMPLES)
    meta = _merge_counts([r["meta"] for r in results], N_EXAMPLES)
    timings = {}   # stage seconds summed over the shards (worker seconds)
    for r in results:
        for stage, d in r["timings"].items():
            acc = timings.setdefault(stage, {})
            for k, v in d.items():
                acc[k] = round(acc.get(k, 0.0) + float(v), 4)
    return Comparison(table=table, params=dict(results[0]["params"]), images=images, meta=meta, timings=timings)


def _gather(client, futures, progress):
    if not progress:
        return client.gather(futures)
    from distributed import as_completed   # optional extras, and only for a bar
    try:
        from tqdm import tqdm   # lazy: only for a progress bar
    except ImportError:  # pragma: no cover
        return client.gather(futures)
    with tqdm(total=len(futures), unit="shard", desc="compare", file=sys.stderr) as bar:
        for _ in as_completed(futures):
            bar.update(1)
    return client.gather(futures)


def compare_distributed(a: Dataset | str | os.PathLike, b: Dataset | str | os.PathLike, client: Client,
                        iou_threshold: float = 0.5, cover_threshold: float = 0.5, group_margin: float = 0.05,
                        mode: str = "optimal", boundary: bool = True, threads: int | None = None,
                        batch_images: int = BATCH_IMAGES, progress: bool | None = None, dilation_ratio: float = 0.02,
                        n_shards: int | None = None) -> Comparison:
    """:func:`cocodiff.compare` across the workers of a Dask ``client`` (see the module docstring).

    Parameters
    ----------
    a, b : Dataset or path -- loaded on the client.
    client : distributed.Client
    threads : int or None -- Numba threads per task (None: the worker's nthreads divided by
        the tasks it runs at once, i.e. 1).
    n_shards : int or None -- number of shards (None: the cluster's total worker threads).
    Others : as :func:`cocodiff.compare`; the result equals the single-process one with
        the same parameters (``batch_images`` included: shards are runs of whole batches).

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from distributed import Client, LocalCluster              # doctest: +SKIP
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))   # doctest: +SKIP
    >>> c = cocodiff.compare("a.json", "b.json", client=client)   # doctest: +SKIP
    """
    require_dask()
    if mode not in ("optimal", "greedy"):
        raise ValueError(f"mode must be 'optimal' or 'greedy', got {mode!r}")
    if batch_images < 1:
        raise ValueError("batch_images must be >= 1")
    if threads is not None and int(threads) < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    kwargs = dict(iou_threshold=iou_threshold, cover_threshold=cover_threshold, group_margin=group_margin, mode=mode,
                  boundary=boundary, batch_images=batch_images, dilation_ratio=dilation_ratio)
    A, B = load_pair(a, b)
    if n_shards is None:
        nthreads = client.nthreads()
        if not nthreads:
            client.wait_for_workers(1, timeout=60)
            nthreads = client.nthreads()
        n_shards = max(1, sum(nthreads.values()))
        if threads is not None and threads > 1 and any(v > 1 for v in nthreads.values()):
            log.warning("compare: threads=%d Numba threads per task on workers running several tasks at once "
                        "may oversubscribe their cores", threads)
    plan = plan_shards(A, B, int(n_shards), batch_images)
    if not plan:  # no image at all: nothing to distribute
        return compare(A, B, threads=threads, progress=False, **kwargs)
    t0 = time.perf_counter()
    pairs = [(subset(A, *s["a_rows"]), subset(B, *s["b_rows"])) for s in plan]
    futs_data = client.scatter(pairs, hash=False)
    tag = uuid.uuid4().hex[:8]
    futs = [client.submit(_run_shard, f, kwargs, threads, key=f"cocodiff-compare-{tag}-{k:05d}", pure=False)
            for k, f in enumerate(futs_data)]
    if progress is None:
        progress = sys.stderr.isatty()
    try:
        results = _gather(client, futs, progress)
    except BaseException:
        client.cancel(futs + list(futs_data))
        raise
    del futs, futs_data   # released on the cluster
    t1 = time.perf_counter()
    out = _assemble(results)
    out.timings["dask_scatter_compute_gather"] = dict(wall=round(t1 - t0, 4))
    out.timings["dask_assemble"] = dict(wall=round(time.perf_counter() - t1, 4))
    out.timings["dask_workers"] = dict(wall=round(sum(r["wall"] for r in results), 4),
                                       cpu=round(sum(r["cpu"] for r in results), 4))
    log.info("compare on %d shard(s) (costs %s, Numba threads per task %s): %.2f s wall, worker CPU %.2f s, "
             "%d rows", len(plan), [s["cost"] for s in plan], sorted({r["threads"] for r in results}),
             time.perf_counter() - t0, sum(r["cpu"] for r in results), out.table.num_rows)
    return out


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A Dask client for ``scheduler`` (an address) or a new LocalCluster of ``workers`` processes.

    The LocalCluster runs one thread per worker process; both are closed on exit (a client
    of an existing scheduler is closed, the scheduler left running).

    Examples
    --------
    >>> from cocodiff.distributed import dask_client
    >>> with dask_client(workers=2) as client:            # doctest: +SKIP
    ...     cmp = cocodiff.compare("a.json", "b.json", client=client)
    """
    distributed = require_dask()
    if (scheduler is None) == (workers is None):
        raise ValueError("give exactly one of scheduler and workers")
    cluster = None
    if scheduler is not None:
        client = distributed.Client(scheduler)
    else:
        if int(workers) < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        cluster = distributed.LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
        client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
