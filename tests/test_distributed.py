"""cocodiff.compare on a Dask cluster (cocodiff.distributed): identical results, shard planning,
thread control, the CLI's --scheduler / --workers, and the error without Dask.

One LocalCluster of 2 single-threaded worker *processes* serves the module (it starts in about
2-3 s here). Tables are compared with a NaN-aware exact check (``tables_identical``):
``pyarrow.Table.equals`` treats NaN as unequal to NaN, so it is False even for two runs of the
same single-process compare whenever a float column holds a NaN (every table here does).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

distributed = pytest.importorskip("distributed")

import cocodiff  # noqa: E402
from cocodiff import synth  # noqa: E402
from cocodiff.cli import main  # noqa: E402
from cocodiff.distributed import (INSTALL_HINT, DaskMissingError, _run_shard, compare_distributed,  # noqa: E402
                                  plan_shards, subset)

DATA = Path(__file__).resolve().parent.parent / "data"
REAL_A = DATA / "coco2014_val100" / "instances_val2014_100.json"
REAL_B = DATA / "derived" / "val2014_100_fakesegm_as_annotations.json"


# ----------------------------------------------------------------------------- fixtures, helpers

@pytest.fixture(scope="module")
def client(tiny):
    # compile (or load) the kernels here first: with a cold Numba cache the worker processes
    # then load them from the on-disk cache instead of compiling them again, all at once
    A, B, _ = tiny
    cocodiff.compare(A, B, batch_images=5, progress=False)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    paths = synth.write_pair(tmp_path_factory.mktemp("twin"), "tiny", seed=3)
    return cocodiff.load(paths["a"]), cocodiff.load(paths["b"]), paths


@pytest.fixture(scope="module")
def real():
    return cocodiff.load(REAL_A), cocodiff.load(REAL_B)


def tables_identical(t1, t2):
    """Same schema, same rows; floats bit for bit (NaN equal to NaN), same nulls."""
    assert t1.schema.equals(t2.schema), (t1.schema, t2.schema)
    assert t1.num_rows == t2.num_rows
    for name in t1.column_names:
        x, y = t1.column(name), t2.column(name)
        assert x.null_count == y.null_count, name
        assert x.is_null().equals(y.is_null()), name
        if pa.types.is_floating(x.type):
            xa = x.to_numpy(zero_copy_only=False)
            ya = y.to_numpy(zero_copy_only=False)
            assert np.array_equal(xa.view(np.int64), ya.view(np.int64)), name
        else:
            assert x.equals(y), name
    return True


def assert_same_comparison(c1, c2, tmp_path):
    tables_identical(c1.table, c2.table)
    assert c1.summary() == c2.summary()
    c1.write(tmp_path / "one")
    c2.write(tmp_path / "dist")
    for f in ("matches.parquet", "summary.json"):
        assert (tmp_path / "one" / f).read_bytes() == (tmp_path / "dist" / f).read_bytes(), f


def n_groups(cmp):
    g = cmp.table.column("group").to_numpy()
    return np.unique(g[g >= 0]).size


# ----------------------------------------------------------------------------- identical results

@pytest.mark.parametrize("batch_images", [5, 2000])
def test_tiny_twin_identical(client, tiny, tmp_path, batch_images):
    A, B, _ = tiny
    one = cocodiff.compare(A, B, batch_images=batch_images, progress=False)
    dist = cocodiff.compare(A, B, batch_images=batch_images, client=client)
    if batch_images == 5:  # really sharded, with split / merged groups on both sides of the cut
        plan = plan_shards(A, B, 2, batch_images)
        assert len(plan) == 2
        last_img_first_shard = A.image_id[plan[0]["a_rows"][1] - 1]
        grp = one.table.column("group").to_numpy()
        img = one.table.column("image_id").to_numpy()
        assert (grp[img <= last_img_first_shard] >= 0).any() and (grp[img > last_img_first_shard] >= 0).any()
    assert n_groups(one) > 0
    assert_same_comparison(one, dist, tmp_path)


def test_real_pair_identical(client, real, tmp_path):
    A, B = real
    one = cocodiff.compare(REAL_A, REAL_B, batch_images=10, progress=False)
    dist = cocodiff.compare(REAL_A, REAL_B, batch_images=10, client=client)
    assert len(plan_shards(A, B, 2, 10)) == 2
    assert one.table.num_rows > 0
    assert_same_comparison(one, dist, tmp_path)
    # more shards than workers (queued on the 2 workers), greedy mode, no Boundary IoU
    one = cocodiff.compare(A, B, batch_images=7, mode="greedy", boundary=False, progress=False)
    dist = compare_distributed(A, B, client, batch_images=7, mode="greedy", boundary=False, n_shards=5)
    tables_identical(one.table, dist.table)
    assert one.summary() == dist.summary()


def test_threads_control(client, tiny, tmp_path):
    import numba

    A, B, _ = tiny
    one = cocodiff.compare(A, B, batch_images=10, threads=1, progress=False)
    t1 = cocodiff.compare(A, B, batch_images=10, threads=1, client=client)
    t2 = cocodiff.compare(A, B, batch_images=10, threads=2, client=client)
    tables_identical(t1.table, t2.table)
    assert_same_comparison(one, t2, tmp_path)
    # the task really sets its Numba thread count on the worker, and restores it after
    pair = (subset(A, 0, 3), subset(B, 0, 3))
    kw = dict(batch_images=10)
    want = min(2, numba.config.NUMBA_NUM_THREADS)
    r_none, r_two = client.gather([client.submit(_run_shard, pair, kw, None, pure=False),
                                   client.submit(_run_shard, pair, kw, 2, pure=False)])
    assert r_none["threads"] == 1
    assert r_two["threads"] == want
    after = client.gather([client.submit(numba.get_num_threads, pure=False, workers=[w])
                           for w in client.nthreads()])
    assert all(n == numba.config.NUMBA_NUM_THREADS for n in after)
    with pytest.raises(ValueError):
        cocodiff.compare(A, B, threads=0, client=client)
    with pytest.raises(ValueError):
        cocodiff.compare(A, B, mode="best", client=client)


# ----------------------------------------------------------------------------- shards

def test_subset_round_trip(real):
    A, _ = real
    whole = subset(A, 0, A.n_images)
    for f in ("image_id", "ann_id", "img_row", "xy", "ring_offsets", "inst_ring_offsets", "counts",
              "counts_offsets", "bbox", "kind"):
        assert np.array_equal(getattr(whole, f), getattr(A, f), equal_nan=getattr(A, f).dtype.kind == "f"), f
    cuts = [0, 1, 37, 38, 64, A.n_images]
    parts = [subset(A, r0, r1) for r0, r1 in zip(cuts[:-1], cuts[1:])]
    assert np.array_equal(np.concatenate([p.ann_id for p in parts]), A.ann_id)
    assert np.array_equal(np.concatenate([p.xy for p in parts]), A.xy)
    assert np.array_equal(np.concatenate([p.counts for p in parts]), A.counts)
    assert sum(int(p.n_points().sum()) for p in parts) == int(A.n_points().sum())
    for p in parts:  # valid layout: offsets from 0 to the length they index; rows point into the images
        assert p.ring_offsets[0] == 0 and p.ring_offsets[-1] == len(p.xy)
        assert p.inst_ring_offsets[-1] == len(p.ring_offsets) - 1
        assert p.counts_offsets[0] == 0 and p.counts_offsets[-1] == len(p.counts)
        assert np.array_equal(p.image_id[p.img_row], p.inst_image_id)
    with pytest.raises(ValueError):
        subset(A, 5, A.n_images + 1)


def _best_max(cost, k):
    """Brute force: smallest possible largest part of a split of ``cost`` into <= k contiguous runs."""
    n = len(cost)
    pre = np.r_[0, np.cumsum(cost)]
    INF = float("inf")
    dp = [[INF] * (n + 1) for _ in range(k + 1)]
    dp[0][0] = 0
    for j in range(1, k + 1):
        for e in range(1, n + 1):
            dp[j][e] = min(max(dp[j - 1][s], pre[e] - pre[s]) for s in range(e))
    return min(dp[j][n] for j in range(1, k + 1))


def test_plan_shards_balanced(real):
    A, B = real
    for batch, k in [(1, 2), (1, 3), (3, 4), (10, 2), (10, 3), (7, 5), (40, 8), (1000, 2)]:
        plan = plan_shards(A, B, k, batch)
        ids = np.union1d(A.image_id, B.image_id)
        n_batches = -(-ids.size // batch)
        assert 1 <= len(plan) <= min(k, n_batches)
        # contiguous, covering, whole batches
        assert plan[0]["a_rows"][0] == 0 and plan[-1]["a_rows"][1] == A.n_images
        assert plan[0]["b_rows"][0] == 0 and plan[-1]["b_rows"][1] == B.n_images
        for p, q in zip(plan[:-1], plan[1:]):
            assert p["a_rows"][1] == q["a_rows"][0] and p["b_rows"][1] == q["b_rows"][0]
        assert sum(p["images"] for p in plan) == ids.size
        assert all(p["images"] % batch == 0 for p in plan[:-1])
        # cost: instances + points + RLE runs of both sides, the largest shard as small as possible
        per_img = {}
        for ds in (A, B):
            c = 1 + ds.n_points() + np.diff(ds.counts_offsets)
            for i, v in zip(ds.inst_image_id, c):
                per_img[int(i)] = per_img.get(int(i), 0) + int(v)
        img_cost = np.array([per_img.get(int(i), 0) for i in ids])
        batch_cost = np.add.reduceat(img_cost, np.arange(0, ids.size, batch))
        assert sum(p["cost"] for p in plan) == batch_cost.sum()
        if n_batches <= 40:
            assert max(p["cost"] for p in plan) == _best_max(list(batch_cost), k)
    with pytest.raises(ValueError):
        plan_shards(A, B, 0)


def test_empty_inputs(client, tmp_path):
    p = tmp_path / "empty.json"
    p.write_text(json.dumps({"images": [], "annotations": [], "categories": []}))
    one = cocodiff.compare(p, p, progress=False)
    dist = cocodiff.compare(p, p, client=client)
    assert dist.table.num_rows == 0
    tables_identical(one.table, dist.table)


# ----------------------------------------------------------------------------- CLI

def test_cli_scheduler(client, tiny, tmp_path, capsys):
    _, _, paths = tiny
    a, b = str(paths["a"]), str(paths["b"])
    assert main(["-q", "compare", a, b, "-o", str(tmp_path / "one")]) == 0
    assert main(["-q", "compare", a, b, "-o", str(tmp_path / "dist"), "--scheduler", client.scheduler_info()["address"]]) == 0
    for f in ("matches.parquet", "summary.json"):
        assert (tmp_path / "one" / f).read_bytes() == (tmp_path / "dist" / f).read_bytes()
    # the cluster is still there for others after the CLI closed its client
    assert len(client.nthreads()) == 2


def test_cli_workers_local_cluster(tiny, tmp_path, capsys):
    _, _, paths = tiny
    a, b = str(paths["a"]), str(paths["b"])
    assert main(["-q", "compare", a, b, "-o", str(tmp_path / "one")]) == 0
    assert main(["compare", a, b, "-o", str(tmp_path / "dist"), "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "matched" in out and "wrote" in out
    assert (tmp_path / "one" / "matches.parquet").read_bytes() == (tmp_path / "dist" / "matches.parquet").read_bytes()


# ----------------------------------------------------------------------------- without Dask

def test_missing_dask(monkeypatch, tiny, tmp_path, capsys):
    A, B, paths = tiny
    monkeypatch.setitem(sys.modules, "distributed", None)   # "import distributed" now fails
    with pytest.raises(DaskMissingError) as ei:
        cocodiff.compare(A, B, client=object())
    msg = str(ei.value)
    assert INSTALL_HINT in msg and "\n" not in msg
    assert isinstance(ei.value, ImportError)
    for extra in (["--scheduler", "tcp://127.0.0.1:1"], ["--workers", "2"]):
        rc = main(["compare", str(paths["a"]), str(paths["b"]), "-o", str(tmp_path / "o"), *extra])
        err = capsys.readouterr().err.strip()
        assert rc == 2
        assert err.startswith("cocodiff: error:") and INSTALL_HINT in err and "\n" not in err
        assert not (tmp_path / "o" / "matches.parquet").exists()
    # the plain single-process compare does not need Dask
    assert cocodiff.compare(A, B, progress=False).table.num_rows > 0
