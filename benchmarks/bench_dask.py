"""cocodiff.compare on a Dask LocalCluster: 1 vs 2 worker processes on the val-size twin.

The twin (``twin_val`` from ``benchmarks/conftest.py``: 5,000 images, ~36k A / ~45k B
instances, ~2.6 M polygon points) is loaded once on the client; every round then runs
``cocodiff.compare(A, B, client=client, batch_images=...)``: shard planning, cutting and
scattering the sub-Datasets, the per-shard compares on the workers (1 Numba thread per
task), gathering and assembling. The single-process compare (``threads=1`` and default
threads) of the same Datasets is the baseline.

Timer: wall clock (``time.perf_counter``, pytest-benchmark's default) -- the work happens in
the worker processes, so the client's CPU time says little; each distributed row also
records the median CPU seconds spent by the workers (``extra_info["worker_cpu_s"]``,
``time.process_time`` read on every worker before and after each round) and by the client.

``batch_images=500`` gives 10 batches, so 2 workers get 5 each (with the default 2000 the
5,000 images make 3 batches and 2 workers can at best split them 2 : 1; see
:func:`cocodiff.distributed.plan_shards`).

Run: ``pytest benchmarks/bench_dask.py --benchmark-enable`` (medians in the table), or
``python benchmarks/bench_dask.py`` for one quick printout.
"""
from __future__ import annotations

import statistics
import time

import pytest

distributed = pytest.importorskip("distributed")

BATCH = 500
ROUNDS = 5


def _worker_cpu(client):
    return sum(client.run(time.process_time).values())


@pytest.fixture(scope="module")
def val_pair(twin_val):
    import cocodiff
    return cocodiff.load(twin_val["a"]), cocodiff.load(twin_val["b"])


@pytest.fixture(scope="module", params=[1, 2], ids=lambda n: f"{n}workers")
def client(request):
    cluster = distributed.LocalCluster(n_workers=request.param, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_compare_dask(benchmark, client, val_pair):
    import cocodiff
    A, B = val_pair
    ref = cocodiff.compare(A, B, client=client, batch_images=BATCH)   # warm-up: kernels loaded on the workers
    cpu_w, cpu_c = [], []

    def run():
        w0, c0 = _worker_cpu(client), time.process_time()
        out = cocodiff.compare(A, B, client=client, batch_images=BATCH)
        cpu_c.append(time.process_time() - c0)
        cpu_w.append(_worker_cpu(client) - w0)
        return out

    res = benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
    assert res.table.num_rows == ref.table.num_rows
    benchmark.extra_info.update(workers=len(client.nthreads()), batch_images=BATCH,
                                worker_cpu_s=statistics.median(cpu_w), client_cpu_s=statistics.median(cpu_c),
                                rows=res.table.num_rows, instances=A.n_instances + B.n_instances)


@pytest.mark.parametrize("threads", [1, None], ids=["threads1", "threadsdefault"])
def test_compare_single_process(benchmark, val_pair, threads):
    import cocodiff
    A, B = val_pair
    cocodiff.compare(A, B, batch_images=BATCH, threads=threads, progress=False)   # warm-up / compile
    cpu = []

    def run():
        c0 = time.process_time()
        out = cocodiff.compare(A, B, batch_images=BATCH, threads=threads, progress=False)
        cpu.append(time.process_time() - c0)
        return out

    res = benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
    benchmark.extra_info.update(batch_images=BATCH, cpu_s=statistics.median(cpu), rows=res.table.num_rows)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    import cocodiff
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from conftest import _get_twin, _twin_root

    tw = _get_twin(_twin_root(), "val")
    A, B = cocodiff.load(tw["a"]), cocodiff.load(tw["b"])
    cocodiff.compare(A, B, batch_images=BATCH, threads=1, progress=False)
    walls = []
    for _ in range(3):
        t = time.perf_counter()
        cocodiff.compare(A, B, batch_images=BATCH, threads=1, progress=False)
        walls.append(time.perf_counter() - t)
    print(f"single process, threads=1: median wall {statistics.median(walls):.2f} s")
    for n in (1, 2):
        with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                      dashboard_address=":0") as cl, distributed.Client(cl) as c:
            cocodiff.compare(A, B, client=c, batch_images=BATCH)
            walls, cpus = [], []
            for _ in range(3):
                w0 = _worker_cpu(c)
                t = time.perf_counter()
                cocodiff.compare(A, B, client=c, batch_images=BATCH)
                walls.append(time.perf_counter() - t)
                cpus.append(_worker_cpu(c) - w0)
            print(f"{n} worker(s): median wall {statistics.median(walls):.2f} s, "
                  f"worker CPU {statistics.median(cpus):.2f} s")
