"""Throughput of cocodiff.compare on a synthetic COCO-like twin.

A: ``n_images`` 480x640 images with ``per_image`` star-shaped 16-point polygons each
(categories cycling over 80); B: the same polygons jittered by up to 1.5 px, with ~5 %
dropped (-> removed) and ~5 % shifted far (-> removed + added) and ~3 % relabelled
(-> class_changed). Datasets are built directly as :class:`cocodiff.dataset.Dataset`
arrays (no JSON), so the figure is the comparison alone: rasterisation of both sides,
candidate pairs, intersections, assignment, relations, Boundary IoU, table building.

Run: ``pytest benchmarks/bench_compare.py --benchmark-enable`` or
``python benchmarks/bench_compare.py N_IMAGES [PER_IMAGE]`` for one timed run at scale.
"""
from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from cocodiff.dataset import Dataset

H, W, NPTS = 480, 640, 16


def synthetic_pair(n_images=2000, per_image=8, seed=0):
    rng = np.random.default_rng(seed)
    n = n_images * per_image
    img = np.repeat(np.arange(1, n_images + 1, dtype=np.int64), per_image)
    cat = (np.arange(n) % 80 + 1).astype(np.int64)
    cx = rng.uniform(40, W - 40, n)
    cy = rng.uniform(40, H - 40, n)
    r = rng.uniform(6, 38, n)
    ang = np.linspace(0, 2 * np.pi, NPTS, endpoint=False)
    rad = r[:, None] * rng.uniform(0.6, 1.0, (n, NPTS))
    xy = np.stack([cx[:, None] + rad * np.cos(ang), cy[:, None] + rad * np.sin(ang)], -1)

    def make(xy, img, cat, ids):
        order = np.lexsort((ids, cat, img))
        img, cat, ids, xy = img[order], cat[order], ids[order], xy[order]
        m = ids.size
        image_id = np.arange(1, n_images + 1, dtype=np.int64)
        return Dataset(
            path="synthetic", sources=["synthetic"], image_id=image_id,
            width=np.full(n_images, W, np.int32), height=np.full(n_images, H, np.int32),
            file_name=np.array([f"{i}.jpg" for i in image_id], dtype=object),
            cat_id=np.arange(1, 81, dtype=np.int64), cat_name=np.array([f"c{i}" for i in range(1, 81)], dtype=object),
            cat_supercategory=np.array(["s"] * 80, dtype=object),
            ann_id=ids, inst_image_id=img, category_id=cat, iscrowd=np.zeros(m, np.uint8),
            area=np.full(m, np.nan), bbox=np.full((m, 4), np.nan), score=np.full(m, np.nan),
            kind=np.zeros(m, np.int8), source=np.zeros(m, np.int16), img_row=img - 1,
            xy=np.ascontiguousarray(xy.reshape(-1, 2)), ring_offsets=np.arange(m + 1, dtype=np.int64) * NPTS,
            inst_ring_offsets=np.arange(m + 1, dtype=np.int64), counts=np.zeros(0, np.uint32),
            counts_offsets=np.zeros(m + 1, np.int64), rle_h=np.zeros(m, np.int32), rle_w=np.zeros(m, np.int32))

    A = make(xy, img, cat, np.arange(1, n + 1, dtype=np.int64))
    u = rng.random(n)
    keep = u >= 0.05
    xyb = xy + rng.uniform(-1.5, 1.5, xy.shape)
    far = (u >= 0.05) & (u < 0.10)
    xyb[far] += np.array([25.0, 0.0])
    catb = cat.copy()
    relabel = (u >= 0.10) & (u < 0.13)
    catb[relabel] = catb[relabel] % 80 + 1
    B = make(np.clip(xyb[keep], 0, [W, H]), img[keep], catb[keep], np.arange(1, n + 1, dtype=np.int64)[keep] + 10**7)
    return A, B


@pytest.fixture(scope="module")
def pair():
    return synthetic_pair(2000, 8)


def test_compare_16k(benchmark, pair):
    import cocodiff
    A, B = pair
    cocodiff.compare(A, B, progress=False)  # warm-up / compile
    res = benchmark.pedantic(lambda: cocodiff.compare(A, B, progress=False), rounds=3, iterations=1)
    benchmark.extra_info["instances_per_side"] = A.n_instances
    benchmark.extra_info["relations"] = res.summary()["relations"]


if __name__ == "__main__":
    import cocodiff
    n_img = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    per = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    t = time.perf_counter()
    A, B = synthetic_pair(n_img, per)
    print(f"built {A.n_instances} + {B.n_instances} instances in {time.perf_counter() - t:.1f}s")
    small = synthetic_pair(400, per, seed=1)   # >= PARALLEL_MIN_ROWS: compiles the parallel kernels too
    t = time.perf_counter()
    cocodiff.compare(*small, progress=False)
    print(f"warm-up (compile) {time.perf_counter() - t:.1f}s")
    for boundary in (False, True):
        t = time.perf_counter()
        c = cocodiff.compare(A, B, progress=False, boundary=boundary)
        dt = time.perf_counter() - t
        print(f"boundary={boundary}: {dt:.2f}s  rows={c.table.num_rows}  {c.summary()['relations']}")
