"""RLE kernels vs pycocotools and the slow references: codec, area, bbox, encode, decode."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from pycocotools import mask as P

from cocodiff import mask as C
from cocodiff.engine.rle import (rle_area_batch, rle_bbox_batch, rle_decode, rle_decode_batch,
                                 rle_encode, rle_from_string, rle_from_string_batch,
                                 rle_intersection, rle_to_string, rle_to_string_batch)
from ref_rle import (load_real_rles, ref_area, ref_bbox, ref_decode, ref_encode,
                     ref_from_string, ref_intersection, ref_to_string)
from conftest import REAL_INSTANCE_FILES

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
HYP = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _b(s):
    return np.frombuffer(s, np.uint8)


# --------------------------------------------------------------------------- real files
@pytest.mark.parametrize("path", REAL_INSTANCE_FILES, ids=lambda p: p.name)
def test_real_file_rles(path):
    groups = load_real_rles(path)
    assert groups
    all_rles = [r for rl, _ in groups.values() for r in rl]
    strings = [r["counts"] for r in all_rles]
    # batch string codec: decode all, re-encode all, identical bytes
    boff = np.zeros(len(strings) + 1, np.int64)
    np.cumsum([len(s) for s in strings], out=boff[1:])
    counts, offsets = rle_from_string_batch(_b(b"".join(strings)), boff)
    flat, boff2 = rle_to_string_batch(counts, offsets)
    assert np.array_equal(boff, boff2)
    assert flat.tobytes() == b"".join(strings)
    hs = np.array([r["size"][0] for r in all_rles], np.int64)
    # area and bbox of the whole store, identical to pycocotools
    # (pycocotools' area() overflows on lists of >= 256 RLEs under numpy 2: ask it in chunks)
    p_area = np.concatenate([P.area(all_rles[k:k + 200]) for k in range(0, len(all_rles), 200)])
    assert np.array_equal(rle_area_batch(counts, offsets), p_area.astype(np.int64))
    assert np.array_equal(rle_bbox_batch(counts, offsets, hs), P.toBbox(all_rles))
    assert np.array_equal(C.area(all_rles), p_area)
    for k in range(0, len(all_rles), 97):  # spot checks against the pure-Python references
        c = counts[offsets[k]:offsets[k + 1]]
        assert ref_from_string(strings[k]) == c.tolist()
        assert ref_to_string(c) == strings[k]
    # per-image: the drop-in API
    for rl, _ in groups.values():
        a = C.area(rl)
        assert a.dtype == np.uint32 and np.array_equal(a, P.area(rl))
        assert np.array_equal(C.toBbox(rl), P.toBbox(rl))
        sizes = {tuple(r["size"]) for r in rl}
        if len(sizes) != 1:
            continue
        md, mp = C.decode(rl), P.decode(rl)
        assert md.dtype == np.uint8 and md.flags.f_contiguous and md.shape == mp.shape
        assert np.array_equal(md, mp)
        enc = C.encode(md)
        assert [e["counts"] for e in enc] == strings_of(rl)
        assert [e["size"] for e in enc] == [list(r["size"]) for r in rl]


def strings_of(rl):
    return [r["counts"] for r in rl]


# --------------------------------------------------------------------------- random masks
@st.composite
def masks(draw):
    shape = draw(st.sampled_from(["small", "tall", "wide", "one"]))
    if shape == "small":
        h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    elif shape == "tall":
        h, w = draw(st.integers(10, 60)), draw(st.integers(1, 2))
    elif shape == "wide":
        h, w = draw(st.integers(1, 2)), draw(st.integers(10, 60))
    else:
        h, w = 1, 1
    kind = draw(st.sampled_from(["random", "empty", "full", "blobs"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "empty":
        m = np.zeros((h, w), np.uint8)
    elif kind == "full":
        m = np.ones((h, w), np.uint8)
    elif kind == "random":
        m = (rng.random((h, w)) < rng.random()).astype(np.uint8)
    else:
        m = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(1, 4))):
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            m[y0:y0 + int(rng.integers(1, h + 1)), x0:x0 + int(rng.integers(1, w + 1))] = 1
    if draw(st.booleans()):
        m = np.asfortranarray(m)
    return m


@HYP
@given(masks())
def test_random_mask_vs_pycocotools_and_ref(m):
    h, w = m.shape
    counts = rle_encode(m)
    assert counts.tolist() == ref_encode(m)
    r_p = P.encode(np.asfortranarray(m))
    r_c = C.encode(m)
    assert r_c == r_p
    s = rle_to_string(counts).tobytes()
    assert s == r_p["counts"] == ref_to_string(counts.tolist())
    assert rle_from_string(_b(s)).tolist() == counts.tolist()
    dec = rle_decode(counts, h, w)
    assert dec.flags.f_contiguous and np.array_equal(dec, m)
    assert np.array_equal(dec, ref_decode(counts, h, w))
    assert np.array_equal(C.decode(r_p), P.decode(r_p))
    off = np.array([0, len(counts)], np.int64)
    assert rle_area_batch(counts, off)[0] == ref_area(counts) == int(P.area(r_p)) == int(m.sum())
    assert rle_bbox_batch(counts, off, np.array([h], np.int64))[0].tolist() == ref_bbox(counts, h, w)
    assert np.array_equal(C.toBbox(r_p), P.toBbox(r_p))
    assert C.area(r_p) == P.area(r_p)


@HYP
@given(st.lists(st.integers(0, 6), min_size=1, max_size=12), st.integers(1, 5))
def test_uncompressed_with_zero_runs(cnts, h):
    # zero-length runs (possible in uncompressed RLE): string codec, area and the bbox quirks
    total = sum(cnts)
    pad = (-total) % h
    cnts = cnts[:-1] + [cnts[-1] + pad]
    total += pad
    if total == 0:
        return
    w = total // h
    r_p = P.frPyObjects({"size": [h, w], "counts": cnts}, h, w)
    r_c = C.frPyObjects({"size": [h, w], "counts": cnts}, h, w)
    assert r_c == r_p
    c = np.array(cnts, np.uint32)
    assert rle_to_string(c).tobytes() == r_p["counts"] == ref_to_string(cnts)
    off = np.array([0, len(c)], np.int64)
    assert rle_bbox_batch(c, off, np.array([h], np.int64))[0].tolist() == ref_bbox(cnts, h, w)
    assert np.array_equal(C.toBbox(r_p), P.toBbox(r_p))
    assert np.array_equal(C.area(r_p), P.area(r_p))
    assert np.array_equal(C.decode(r_p), P.decode(r_p))


@HYP
@given(st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=8))
def test_codec_large_values(vals):
    c = np.array(vals, np.uint32)
    s = rle_to_string(c).tobytes()
    assert s == ref_to_string(vals)
    assert rle_from_string(_b(s)).tolist() == vals
    # pycocotools agrees on the bytes (size does not matter to the codec). Only for deltas
    # that fit 5 characters: rleToString mallocs 6 bytes per count plus no room for the NUL,
    # so 6- or 7-character values overflow its buffer (intermittent heap-corruption abort).
    small = [v % (1 << 23) for v in vals]
    if small:
        vals, s = small, rle_to_string(np.array(small, np.uint32)).tobytes()
        assert P.frPyObjects({"size": [1, max(sum(vals), 1)], "counts": vals}, 1, 1)["counts"] == s


@HYP
@given(st.one_of(st.binary(max_size=40),
                 st.text(alphabet=[chr(c) for c in range(44, 116)], max_size=40).map(str.encode)))
def test_garbage_strings_raise_or_agree(s):
    try:
        got = rle_from_string(_b(s)).tolist()
    except ValueError:
        got = None
    try:
        ref = ref_from_string(s)
    except ValueError:
        ref = None
    if got is not None:
        assert got == ref
        assert rle_to_string(np.array(got, np.uint32)).tobytes() == ref_to_string(got)
    elif ref is not None:
        # the kernel only refuses values of more than 12 characters
        assert len(s) > 12
    # the drop-in: a clean error or a valid mask, never a crash
    try:
        m = C.decode({"size": [3, 4], "counts": s})
    except ValueError:
        return
    assert m.shape == (3, 4) and set(np.unique(m).tolist()) <= {0, 1}
    assert np.array_equal(m, P.decode({"size": [3, 4], "counts": s}))


def test_string_errors():
    with pytest.raises(ValueError):
        rle_from_string(_b(b"6230\x00"))       # invalid character
    with pytest.raises(ValueError):
        rle_from_string(_b(b"62p"))            # 'p' = 112, above 'o'
    with pytest.raises(ValueError):
        rle_from_string(_b(b"6P"))             # continuation bit on the last char: truncated
    with pytest.raises(ValueError):
        rle_from_string(_b(b"123M"))           # 4th value = cnts[1] + (-3) = -1: negative
    with pytest.raises(ValueError):
        rle_from_string(_b(b"M"))              # first value -3
    assert rle_from_string(_b(b"")).tolist() == []
    with pytest.raises(ValueError):
        rle_from_string_batch(_b(b"12P3"), np.array([0, 3, 4], np.int64))


def test_decode_batch_and_sum_check():
    c = np.array([1, 2, 3, 6, 0, 6], np.uint32)
    off = np.array([0, 3, 4, 6], np.int64)
    out = rle_decode_batch(c, off, 3, 2)
    assert out.shape == (3, 2, 3) and out.flags.f_contiguous
    for i in range(3):
        assert np.array_equal(out[:, :, i], ref_decode(c[off[i]:off[i + 1]], 3, 2))
    with pytest.raises(ValueError):
        rle_decode(np.array([1, 2], np.uint32), 3, 2)
    with pytest.raises(ValueError):
        rle_decode_batch(np.array([1, 2, 3, 5], np.uint32), np.array([0, 3, 4]), 3, 2)


def test_encode_non_binary_bytes_like_c():
    m = np.array([[0, 2], [1, 2], [1, 0]], np.uint8)
    assert rle_encode(m).tolist() == ref_encode(m)
    assert C.encode(m) == P.encode(np.asfortranarray(m))


@HYP
@given(masks(), st.integers(0, 2**32 - 1))
def test_intersection_vs_ref(m, seed):
    rng = np.random.default_rng(seed)
    m2 = (rng.random(m.shape) < 0.5).astype(np.uint8)
    h, w = m.shape
    ca, cb = rle_encode(m), rle_encode(m2)
    assert rle_intersection(ca, cb) == ref_intersection(ca, cb, h, w) == int((m & m2).sum())
