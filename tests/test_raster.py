"""The polygon rasteriser against pycocotools (the truth), a slow reference, and skimage."""
from __future__ import annotations

import json
import math

import numpy as np
import pycocotools.mask as maskUtils
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocodiff.engine import _jit
from cocodiff.engine.raster import poly_to_rle, rasterize_batch, rasterize_batch_parallel

from conftest import REAL_INSTANCE_FILES
from ref_raster import counts_to_mask, ref_poly_to_rle, rle_string_to_counts, row_cell

HSET = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def coco_ring(ring, h, w):
    """pycocotools' counts of one ring (passed after a dummy first ring, so that rings of
    any length reach rleFrPoly: frPyObjects dispatches on the first ring's length)."""
    ring = [float(v) for v in ring]
    if len(ring) > 4:
        rle = maskUtils.frPyObjects([ring], h, w)[0]
    else:
        rle = maskUtils.frPyObjects([[0.0, 0.0, 1.0, 0.0, 1.0, 1.0], ring], h, w)[1]
    return rle_string_to_counts(rle["counts"])


def coco_string(counts, h, w):
    """pycocotools' compressed string of uncompressed counts."""
    return maskUtils.frPyObjects({"size": [h, w], "counts": [int(c) for c in counts]}, h, w)["counts"]


# ---------------------------------------------------------------------------------------
# a tiny columnar builder (plain json; independent of the project's loader)
# ---------------------------------------------------------------------------------------

def build_batch(items):
    """items: list of (segmentation, h, w). Returns the rasterize_batch argument tuple."""
    xy, ring_off, inst_ring, counts, cnt_off, kind, hs, ws = [], [0], [0], [], [0], [], [], []
    for seg, h, w in items:
        if isinstance(seg, list):
            for ring in seg:
                k = len(ring) // 2
                xy.extend(zip(ring[0:2 * k:2], ring[1:2 * k:2]))
                ring_off.append(ring_off[-1] + k)
            kind.append(0)
        elif isinstance(seg["counts"], list):
            counts.extend(seg["counts"])
            kind.append(1)
        else:
            counts.extend(rle_string_to_counts(seg["counts"]))
            kind.append(2)
        inst_ring.append(len(ring_off) - 1)
        cnt_off.append(len(counts))
        hs.append(h)
        ws.append(w)
    n = len(items)
    return (np.asarray(xy, np.float64).reshape(-1, 2), np.asarray(ring_off, np.int64),
            np.asarray(inst_ring, np.int64), np.asarray(counts, np.uint32),
            np.asarray(cnt_off, np.int64), np.asarray(kind, np.int8),
            np.asarray(hs, np.int64), np.asarray(ws, np.int64), np.arange(n, dtype=np.int64))


def read_items(path):
    d = json.loads(path.read_text())
    size = {im["id"]: (im["height"], im["width"]) for im in d["images"]}
    return [(a["segmentation"], *size[a["image_id"]]) for a in d["annotations"]]


def ann_to_rle(seg, h, w):
    """pycocotools COCO.annToRLE."""
    if isinstance(seg, list):
        return maskUtils.merge(maskUtils.frPyObjects(seg, h, w))
    if isinstance(seg["counts"], list):
        return maskUtils.frPyObjects(seg, h, w)
    return seg


# ---------------------------------------------------------------------------------------
# every polygon of every real file
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", REAL_INSTANCE_FILES, ids=lambda p: p.name)
def test_real_files_identical_to_pycocotools(path):
    items = read_items(path)
    n_poly = n_rings = 0
    # per ring
    for seg, h, w in items:
        if isinstance(seg, list):
            n_poly += 1
            for ring in seg:
                n_rings += 1
                assert poly_to_rle(np.asarray(ring, np.float64), h, w).tolist() == coco_ring(ring, h, w)
    # per object (annToRLE), in a batch
    args = build_batch(items)
    out, off = rasterize_batch(*args)
    assert off.shape[0] == len(items) + 1 and off[-1] == out.shape[0]
    for r, (seg, h, w) in enumerate(items):
        got = out[off[r]:off[r + 1]]
        ref = ann_to_rle(seg, h, w)
        ref_counts = ref["counts"] if isinstance(ref["counts"], list) else rle_string_to_counts(ref["counts"])
        assert got.tolist() == list(ref_counts), (path.name, r)
        ref_str = ref["counts"] if not isinstance(ref["counts"], list) else coco_string(ref["counts"], h, w)
        if isinstance(ref_str, str):
            ref_str = ref_str.encode()
        assert coco_string(got, h, w) == ref_str
        assert int(got.sum(dtype=np.int64)) == h * w
    # the file really exercised the polygon path (two samples are all RLE)
    if path.name not in ("panoptic_coco_detection_format.json", "val2014_100_fakesegm_as_annotations.json"):
        assert n_poly > 0 and n_rings >= n_poly
    else:
        assert n_poly == 0 and len(items) > 0


def test_real_multi_ring_objects_exist_and_match():
    """Multi-ring objects are where merge order/layout matters: make sure we cover them."""
    items = [it for p in REAL_INSTANCE_FILES for it in read_items(p)
             if isinstance(it[0], list) and len(it[0]) > 1]
    assert len(items) > 50
    out, off = rasterize_batch(*build_batch(items))
    for r, (seg, h, w) in enumerate(items):
        ref = rle_string_to_counts(maskUtils.merge(maskUtils.frPyObjects(seg, h, w))["counts"])
        assert out[off[r]:off[r + 1]].tolist() == ref


# ---------------------------------------------------------------------------------------
# hypothesis polygons
# ---------------------------------------------------------------------------------------

GRID = st.sampled_from([1, 2, 5, 10])  # coordinates on multiples of 1, 1/2, 1/5, 1/10


@st.composite
def ring_case(draw, max_side=60, max_k=12):
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    k = draw(st.integers(1, max_k))
    style = draw(st.sampled_from(["grid", "float", "subpixel", "repeat", "collinear"]))
    lo_x, hi_x = -0.3 * w - 2, 1.3 * w + 2
    lo_y, hi_y = -0.3 * h - 2, 1.3 * h + 2
    if style == "grid":
        q = draw(GRID)
        xs = [draw(st.integers(math.floor(lo_x * q), math.ceil(hi_x * q))) / q for _ in range(k)]
        ys = [draw(st.integers(math.floor(lo_y * q), math.ceil(hi_y * q))) / q for _ in range(k)]
    elif style == "float":
        xs = [draw(st.floats(lo_x, hi_x)) for _ in range(k)]
        ys = [draw(st.floats(lo_y, hi_y)) for _ in range(k)]
    elif style == "subpixel":
        cx = draw(st.floats(0, w))
        cy = draw(st.floats(0, h))
        xs = [cx + draw(st.floats(-0.7, 0.7)) for _ in range(k)]
        ys = [cy + draw(st.floats(-0.7, 0.7)) for _ in range(k)]
    elif style == "repeat":
        q = draw(GRID)
        base_x = [draw(st.integers(0, w * q)) / q for _ in range(k)]
        base_y = [draw(st.integers(0, h * q)) / q for _ in range(k)]
        xs, ys = [], []
        for x, y in zip(base_x, base_y):
            for _ in range(draw(st.integers(1, 3))):
                xs.append(x)
                ys.append(y)
    else:  # collinear points (plus maybe one off the line)
        x0, y0 = draw(st.floats(lo_x, hi_x)), draw(st.floats(lo_y, hi_y))
        dx, dy = draw(st.floats(-3, 3)), draw(st.floats(-3, 3))
        xs = [x0 + dx * i for i in range(k)]
        ys = [y0 + dy * i for i in range(k)]
    flat = [v for p in zip(xs, ys) for v in p]
    return flat, h, w


@HSET
@given(ring_case())
def test_hypothesis_rings_vs_pycocotools(case):
    flat, h, w = case
    got = poly_to_rle(np.asarray(flat, np.float64), h, w).tolist()
    assert got == coco_ring(flat, h, w)
    assert sum(got) == h * w


@HSET
@given(ring_case(max_side=25, max_k=8))
def test_hypothesis_kernel_vs_slow_reference(case):
    flat, h, w = case
    assert poly_to_rle(np.asarray(flat, np.float64), h, w).tolist() == ref_poly_to_rle(flat, h, w)


def test_slow_reference_vs_pycocotools():
    rng = np.random.default_rng(7)
    for it in range(300):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        k = int(rng.integers(3, 9))
        flat = (rng.integers(-20, 170, 2 * k) / 5.0 if it % 2 else rng.uniform(-3, 33, 2 * k)).tolist()
        assert ref_poly_to_rle(flat, h, w) == coco_ring(flat, h, w)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_hypothesis_extreme_sizes(data):
    """1x1 images and 4000x4000 images, with many-vertex rings."""
    if data.draw(st.booleans()):
        h = w = 1
        k = data.draw(st.integers(3, 30))
        pts = [data.draw(st.integers(-10, 15)) / 5.0 for _ in range(2 * k)]
    else:
        h = data.draw(st.integers(3500, 4000))
        w = data.draw(st.integers(3500, 4000))
        k = data.draw(st.integers(3, 400))
        cx, cy = data.draw(st.floats(0, w)), data.draw(st.floats(0, h))
        rad = data.draw(st.floats(0.5, 3000))
        ang = np.sort(np.asarray(data.draw(st.lists(st.floats(0, 2 * np.pi), min_size=k, max_size=k))))
        jit = data.draw(st.floats(0.3, 1.0))
        r = rad * (jit + (1 - jit) * np.cos(7 * ang) ** 2)
        pts = np.column_stack([cx + r * np.cos(ang), cy + r * np.sin(ang)]).ravel().tolist()
    got = poly_to_rle(np.asarray(pts, np.float64), h, w).tolist()
    assert got == coco_ring(pts, h, w)


def test_self_intersecting_and_star():
    rng = np.random.default_rng(3)
    for _ in range(200):
        h, w = (int(v) for v in rng.integers(5, 120, 2))
        k = int(rng.integers(4, 40))
        pts = np.column_stack([rng.uniform(-5, w + 5, k), rng.uniform(-5, h + 5, k)]).ravel()
        assert poly_to_rle(pts, h, w).tolist() == coco_ring(pts.tolist(), h, w)


def test_fewer_than_three_points():
    # one point, two points (a zero-area back-and-forth ring), zero-length edges
    for flat, h, w in [([3.2, 4.4], 10, 10), ([1.0, 1.0, 8.0, 6.0], 10, 10),
                       ([0.4, 0.4, 0.4, 0.4, 0.4, 0.4], 4, 4), ([2.2, 0.0, 2.2, 9.0], 10, 10)]:
        got = poly_to_rle(np.asarray(flat, np.float64), h, w).tolist()
        assert got == coco_ring(flat, h, w) == ref_poly_to_rle(flat, h, w)
        assert got == [h * w]
    assert poly_to_rle(np.zeros(0, np.float64), 3, 4).tolist() == [12]


def test_bbox_shaped_first_ring_follows_frpyobjects():
    """A first ring of exactly 4 numbers is read by pycocotools' frPyObjects as a bbox.

    (pycocotools 2.0.11 then raises on a *list* of boxes -- its frBbox wants an ndarray --
    so the oracle is frPyObjects on the same boxes as an array, which is what it meant;
    hotcoco does the same.)"""
    items = [([[2.0, 3.0, 5.5, 4.2]], 20, 30), ([[1.0, 1.0, 3.0, 2.0], [10.0, 5.0, 4.0, 6.0]], 20, 30),
             ([[-1.3, 2.2, 40.0, 0.4]], 20, 30), ([[0.1, 0.2, 0.0, 3.0], [5.2, 5.4, 2.2, 2.2]], 7, 9)]
    out, off = rasterize_batch(*build_batch(items))
    for r, (seg, h, w) in enumerate(items):
        ref = rle_string_to_counts(maskUtils.merge(maskUtils.frPyObjects(np.array(seg), h, w))["counts"])
        assert out[off[r]:off[r + 1]].tolist() == ref
    assert counts_to_mask(out[off[0]:off[1]], 20, 30).sum() > 0


# ---------------------------------------------------------------------------------------
# geometry sanity oracle: skimage.draw.polygon2mask
# ---------------------------------------------------------------------------------------

def test_geometry_vs_skimage_polygon2mask():
    from scipy.ndimage import binary_dilation, binary_erosion
    from skimage.draw import polygon2mask

    rng = np.random.default_rng(11)
    for _ in range(50):
        h, w = (int(v) for v in rng.integers(40, 200, 2))
        k = int(rng.integers(3, 25))
        cx, cy = rng.uniform(0.3 * w, 0.7 * w), rng.uniform(0.3 * h, 0.7 * h)
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = rng.uniform(0.5, 1.0, k) * min(h, w) * 0.35
        xs, ys = cx + rad * np.cos(ang), cy + rad * np.sin(ang)
        ours = counts_to_mask(poly_to_rle(np.column_stack([xs, ys]).ravel(), h, w), h, w).astype(bool)
        sk = polygon2mask((h, w), np.column_stack([ys, xs]))  # (row, col) order
        inter = np.logical_and(ours, sk).sum()
        union = np.logical_or(ours, sk).sum()
        if sk.sum() >= 400:
            assert inter / union > 0.85
        # the rules differ only near the outline: pixels 2+ px inside / outside agree
        inner = binary_erosion(sk, iterations=2)
        outer = ~binary_dilation(sk, iterations=2)
        assert ours[inner].all()
        assert not ours[outer].any()


# ---------------------------------------------------------------------------------------
# batch: serial == parallel, rows order, RLE pass-through
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("threads", [1, 2])
def test_parallel_equals_serial(threads):
    items = [it for p in REAL_INSTANCE_FILES for it in read_items(p)]
    args = build_batch(items)
    rng = np.random.default_rng(0)
    rows = rng.permutation(len(items))[: len(items) - 7].astype(np.int64)
    rows = np.concatenate([rows, rows[:25]])  # repeats allowed
    old = _jit.get_threads()
    try:
        _jit.set_threads(threads)
        for rr in (args[-1], rows, rows[:0], rows[:1]):
            a = rasterize_batch(*args[:-1], rr)
            b = rasterize_batch_parallel(*args[:-1], rr)
            assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    finally:
        _jit.set_threads(old)
    # rows order honoured
    full, foff = rasterize_batch(*args)
    sub, soff = rasterize_batch(*args[:-1], rows)
    for r, i in enumerate(rows[:200]):
        assert np.array_equal(sub[soff[r]:soff[r + 1]], full[foff[i]:foff[i + 1]])


def test_binding_rasterize_matches_kernel():
    from cocodiff.rasterize import rasterize

    class DS:  # minimal duck-typed Dataset (the loader is tested elsewhere)
        pass

    items = read_items(REAL_INSTANCE_FILES[2])
    a = build_batch(items)
    ds = DS()
    ds.xy, ds.ring_offsets, ds.inst_ring_offsets, ds.counts, ds.counts_offsets, ds.kind = a[:6]
    ds.n_instances = len(items)
    ds.inst_h = lambda: a[6]
    ds.inst_w = lambda: a[7]
    ref = rasterize_batch(*a)
    for threads in (1, 2):
        got = rasterize(ds, threads=threads)
        assert np.array_equal(got[0], ref[0]) and np.array_equal(got[1], ref[1])
    got = rasterize(ds, rows=[3, 1])
    assert got[1].tolist() == [0, ref[1][4] - ref[1][3], ref[1][4] - ref[1][3] + ref[1][2] - ref[1][1]]
    with pytest.raises(IndexError):
        rasterize(ds, rows=[len(items)])


def test_row_cell_integer_form_equals_c_double_expression():
    from cocodiff.engine.ring_rle import _row_cell

    for h in (1, 7, 480, 4000):
        for vm in list(range(-60, 5 * h + 60)) + [-(2 ** 31), 2 ** 31 - 1, 10 ** 9 + 2, -10 ** 9 + 3]:
            assert _row_cell(vm, h) == row_cell(vm, h), (vm, h)


def test_unscattered_fallback_path_agrees():
    """The fallback (emit + counting sort) used if a walk ever skips a column value."""
    from cocodiff.engine.ring_rle import _ring_to_rle, make_scratch

    rng = np.random.default_rng(5)
    for it in range(300):
        h, w = (int(v) for v in rng.integers(1, 80, 2))
        k = int(rng.integers(3, 30))
        pts = (rng.integers(-50, 5 * 90, 2 * k) / 5.0) if it % 2 else rng.uniform(-5, 85, 2 * k)
        xy = pts.reshape(-1, 2)
        size = 100 * (k + 1)
        scr = make_scratch(k, size, w)
        out = np.empty(size, np.uint32)
        m = _ring_to_rle(xy, 0, k, h, w, scr, out, 0, True)
        assert out[:m].tolist() == poly_to_rle(pts, h, w).tolist() == coco_ring(pts.tolist(), h, w)


def test_binding_on_loaded_dataset_equals_anntorle():
    """End to end through the project's loader: a loader that fails fails this test."""
    import cocodiff
    from cocodiff.rasterize import rasterize

    path = REAL_INSTANCE_FILES[5]  # coco2014 val100: polygons, multi-polygons, crowds
    ds = cocodiff.load(str(path))
    counts, offsets = rasterize(ds, threads=1)
    d = json.loads(path.read_text())
    size = {im["id"]: (im["height"], im["width"]) for im in d["images"]}
    by_id = {a["id"]: a for a in d["annotations"]}
    assert ds.n_instances == len(by_id)
    for r in range(ds.n_instances):
        a = by_id[int(ds.ann_id[r])]
        ref = ann_to_rle(a["segmentation"], *size[a["image_id"]])
        ref_counts = rle_string_to_counts(ref["counts"]) if not isinstance(ref["counts"], list) else ref["counts"]
        assert counts[offsets[r]:offsets[r + 1]].tolist() == list(ref_counts)


def test_broken_loader_fails_instead_of_skipping(monkeypatch):
    """(issue 18, item 9) the end-to-end test above once turned any loader error into a skip."""
    import cocodiff

    def broken(*args, **kwargs):
        raise RuntimeError("loader broken")

    monkeypatch.setattr(cocodiff, "load", broken)
    try:
        test_binding_on_loaded_dataset_equals_anntorle()
    except RuntimeError as e:
        assert "loader broken" in str(e)
    except pytest.skip.Exception:
        pytest.fail("a loader error was turned into a skip")
    else:
        pytest.fail("a broken loader went unnoticed")
