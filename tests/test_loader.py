"""Loader arrays against the JSON, read independently with the json module and pycocotools."""
from __future__ import annotations

import gzip
import os
import json
import zipfile

import numpy as np
import pytest
import shapely
from pycocotools import mask as mask_utils

import cocodiff
from cocodiff.dataset import KIND_POLYGON, KIND_RLE_LIST, KIND_RLE_STRING
from cocodiff.engine.ragged import decode_strings, gather_ragged
from cocodiff.errors import InputError
from conftest import DATA, REAL_INSTANCE_FILES


def _mask_from_counts(counts, h, w):
    vals = np.zeros(len(counts), np.uint8)
    vals[1::2] = 1
    flat = np.repeat(vals, np.asarray(counts, np.int64))
    return flat.reshape(w, h).T  # column-major, as COCO RLE


def _check_against_json(ds, d):
    anns = d["annotations"]
    assert ds.n_instances == len(anns)
    row = {int(a): i for i, a in enumerate(ds.ann_id)}
    assert len(row) == len(anns)
    # instances sorted by (image_id, category_id, ann_id)
    keys = list(zip(ds.inst_image_id.tolist(), ds.category_id.tolist(), ds.ann_id.tolist()))
    assert keys == sorted(keys)
    assert ds.inst_ring_offsets[0] == 0 and ds.inst_ring_offsets[-1] == len(ds.ring_offsets) - 1
    assert ds.ring_offsets[-1] == len(ds.xy) and ds.counts_offsets[-1] == len(ds.counts)
    imgs = {im["id"]: im for im in d["images"]}
    assert sorted(imgs) == ds.image_id.tolist()
    for a in anns:
        i = row[a["id"]]
        assert ds.inst_image_id[i] == a["image_id"] and ds.category_id[i] == a["category_id"]
        assert ds.image_id[ds.img_row[i]] == a["image_id"]
        assert ds.iscrowd[i] == a.get("iscrowd", 0)
        assert ds.area[i] == a["area"]
        assert ds.bbox[i].tolist() == [float(v) for v in a["bbox"]]
        if "score" in a:
            assert ds.score[i] == a["score"]
        else:
            assert np.isnan(ds.score[i])
        seg = a["segmentation"]
        r0, r1 = ds.inst_ring_offsets[i], ds.inst_ring_offsets[i + 1]
        c0, c1 = ds.counts_offsets[i], ds.counts_offsets[i + 1]
        if isinstance(seg, list):
            assert ds.kind[i] == KIND_POLYGON and c0 == c1
            assert r1 - r0 == len(seg)
            for k, ring in enumerate(seg):
                p0, p1 = ds.ring_offsets[r0 + k], ds.ring_offsets[r0 + k + 1]
                assert (p1 - p0) * 2 == len(ring)
                assert ds.xy[p0:p1].ravel().tolist() == [float(v) for v in ring]
        else:
            assert r0 == r1
            h, w = seg["size"]
            assert (ds.rle_h[i], ds.rle_w[i]) == (h, w)
            assert (h, w) == (imgs[a["image_id"]]["height"], imgs[a["image_id"]]["width"])
            ours = ds.counts[c0:c1]
            if isinstance(seg["counts"], list):
                assert ds.kind[i] == KIND_RLE_LIST
                assert ours.tolist() == seg["counts"]
                rle = mask_utils.frPyObjects(seg, h, w)
            else:
                assert ds.kind[i] == KIND_RLE_STRING
                rle = {"size": [h, w], "counts": seg["counts"].encode()}
            ref = mask_utils.decode(rle)
            assert np.array_equal(_mask_from_counts(ours, h, w), ref)


def test_loader_matches_json(real_file):
    d = json.loads(real_file.read_text())
    ds = cocodiff.load(real_file)
    _check_against_json(ds, d)
    assert ds.sources == [str(real_file)] and (ds.source == 0).all()
    assert not ds.warnings


def test_dtypes_and_layout():
    ds = cocodiff.load(REAL_INSTANCE_FILES[0])
    assert ds.xy.dtype == np.float64 and ds.xy.ndim == 2 and ds.xy.shape[1] == 2
    for a in (ds.ring_offsets, ds.inst_ring_offsets, ds.counts_offsets, ds.img_row):
        assert a.dtype == np.int64
        assert (np.diff(a) >= 0).all() if a is not ds.img_row else True
    assert ds.counts.dtype == np.uint32 and ds.iscrowd.dtype == np.uint8
    assert ds.width.dtype == np.int32 and ds.rle_h.dtype == np.int32


def test_lvis_without_iscrowd_reads_zero():
    ds = cocodiff.load(DATA / "lvis_v0.5_val100" / "lvis_val_100.json")
    assert (ds.iscrowd == 0).all() and ds.n_instances == 977


def test_results_like_loadres():
    from pycocotools.coco import COCO
    gt_path = DATA / "coco2014_val100" / "instances_val2014_100.json"
    res_path = DATA / "coco2014_val100" / "instances_val2014_fakesegm100_results.json"
    gt = cocodiff.load(gt_path)
    with pytest.raises(InputError, match="second input"):
        cocodiff.load(res_path)
    r = cocodiff.load(res_path, like=gt)
    coco = COCO(str(gt_path))
    ref = coco.loadRes(str(res_path))
    ids = sorted(ref.anns)
    row = {int(a): i for i, a in enumerate(r.ann_id)}
    assert sorted(row) == ids
    for aid in ids:
        a = ref.anns[aid]
        i = row[aid]
        assert r.inst_image_id[i] == a["image_id"] and r.category_id[i] == a["category_id"]
        assert r.score[i] == a["score"] and r.area[i] == a["area"] and r.iscrowd[i] == 0
    assert r.file_name is gt.file_name


def test_results_bbox_like_loadres():
    from pycocotools.coco import COCO
    gt_path = DATA / "coco2014_val100" / "instances_val2014_100.json"
    res_path = DATA / "coco2014_val100" / "instances_val2014_fakebbox100_results.json"
    r = cocodiff.load(res_path, like=cocodiff.load(gt_path))
    ref = COCO(str(gt_path)).loadRes(str(res_path))
    row = {int(a): i for i, a in enumerate(r.ann_id)}
    for aid, a in ref.anns.items():
        i = row[aid]
        assert r.area[i] == a["area"]
        p0 = r.ring_offsets[r.inst_ring_offsets[i]]
        assert r.xy[p0:p0 + 4].ravel().tolist() == a["segmentation"][0]


def _split(d, k):
    """Split a COCO dict into k files: annotations partitioned, images repeated in every part."""
    parts = []
    for j in range(k):
        parts.append(dict(d, annotations=d["annotations"][j::k]))
    return parts


def test_zip_merge(tmp_path):
    src = DATA / "coco2014_val100" / "instances_val2014_100.json"
    d = json.loads(src.read_text())
    zp = tmp_path / "split.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as z:
        for j, part in enumerate(_split(d, 3)):
            z.writestr(f"sama/part{j}.json", json.dumps(part))
        z.writestr("sama/readme.txt", "not json")
    ds = cocodiff.load(zp)
    _check_against_json(ds, d)
    assert ds.sources == [f"{zp}:sama/part{j}.json" for j in range(3)]
    row = {int(a): i for i, a in enumerate(ds.ann_id)}
    for j in range(3):
        for a in d["annotations"][j::3]:
            assert ds.source[row[a["id"]]] == j


def test_directory_and_list_merge(tmp_path):
    src = DATA / "coco2017_subsets" / "cocomini_instances_val2017.json"
    d = json.loads(src.read_text())
    for j, part in enumerate(_split(d, 2)):
        (tmp_path / f"p{j}.json").write_text(json.dumps(part))
    _check_against_json(cocodiff.load(tmp_path), d)
    ds = cocodiff.load([tmp_path / "p1.json", tmp_path / "p0.json"])
    _check_against_json(ds, d)
    assert ds.sources == [str(tmp_path / "p1.json"), str(tmp_path / "p0.json")]


def test_json_gz(tmp_path):
    src = DATA / "panoptic_sample" / "panoptic_coco_detection_format.json"
    gz = tmp_path / "x.json.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    _check_against_json(cocodiff.load(gz), json.loads(src.read_text()))


def test_zip_duplicate_names_member(tmp_path):
    d = json.loads((DATA / "coco2017_subsets" / "tinycoco_instances_val2017.json").read_text())
    zp = tmp_path / "dup.zip"
    with zipfile.ZipFile(zp, "w") as z:
        z.writestr("one.json", json.dumps(d))
        z.writestr("two.json", json.dumps(dict(d, annotations=d["annotations"][5:6])))
    with pytest.raises(InputError) as ei:
        cocodiff.load(zp)
    msg = str(ei.value)
    assert f"{zp}:two.json" in msg and "one.json" in msg and str(d["annotations"][5]["id"]) in msg


def test_shapely_interop(real_file):
    d = json.loads(real_file.read_text())
    ds = cocodiff.load(real_file)
    poly = np.flatnonzero(ds.kind == KIND_POLYGON)
    if not poly.size:
        pytest.skip("no polygons")
    # every ring is a polygon (the COCO ring list is a union of simple rings)
    n_rings = len(ds.ring_offsets) - 1
    geoms = shapely.from_ragged_array(shapely.GeometryType.POLYGON, ds.xy,
                                      (ds.ring_offsets, np.arange(n_rings + 1)))
    mp = shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, ds.xy,
                                   (ds.ring_offsets, np.arange(n_rings + 1), ds.inst_ring_offsets))
    assert len(geoms) == n_rings and len(mp) == ds.n_instances
    by_id = {a["id"]: a for a in d["annotations"]}
    for i in poly:
        seg = by_id[int(ds.ann_id[i])]["segmentation"]
        parts = shapely.get_parts(mp[i])
        assert len(parts) == len(seg)
        for g, ring in zip(parts, seg):
            ext = np.asarray(g.exterior.coords)
            pts = np.asarray(ring, np.float64).reshape(-1, 2)
            assert np.array_equal(ext[:len(pts)], pts)


COMPRESSED = [DATA / "derived" / "val2014_100_fakesegm_as_annotations.json",
              DATA / "panoptic_sample" / "panoptic_coco_detection_format.json",
              DATA / "coco2014_val100" / "instances_val2014_fakesegm100_results.json"]


@pytest.mark.parametrize("path", COMPRESSED, ids=lambda p: p.name)
def test_decode_strings_vs_pycocotools(path):
    d = json.loads(path.read_text())
    anns = d if isinstance(d, list) else d["annotations"]
    segs = [a["segmentation"] for a in anns]
    enc = [s["counts"].encode() for s in segs]
    off = np.concatenate([[0], np.cumsum([len(e) for e in enc])]).astype(np.int64)
    counts, coff, err = decode_strings(np.frombuffer(b"".join(enc), np.uint8), off)
    assert not err.any()
    for k, s in enumerate(segs):
        h, w = s["size"]
        ours = counts[coff[k]:coff[k + 1]]
        assert int(ours.sum()) == h * w
        ref = mask_utils.decode({"size": [h, w], "counts": enc[k]})
        assert np.array_equal(_mask_from_counts(ours, h, w), ref)
        # and back: pycocotools re-encodes our mask to the same string
        assert mask_utils.encode(np.asfortranarray(_mask_from_counts(ours, h, w)))["counts"] == enc[k]


def test_decode_strings_errors():
    def one(s):
        return decode_strings(np.frombuffer(s, np.uint8), np.array([0, len(s)]))
    assert one(b"0 1")[2][0] == 1          # bad char
    assert one(b"0P")[2][0] == 2           # continuation bit on the last char
    assert one(b"0" + b"o" * 7 + b"1")[2][0] == 4   # too long a value
    c, o, e = one(b"")
    assert e[0] == 0 and o.tolist() == [0, 0]


def test_gather_ragged_matches_python():
    rng = np.random.default_rng(0)
    lens = rng.integers(0, 5, 50)
    off = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    vals = rng.random(off[-1])
    idx = rng.permutation(50)
    out, ooff = gather_ragged(vals, off, idx)
    ref = [vals[off[i]:off[i + 1]] for i in idx]
    assert np.array_equal(out, np.concatenate(ref))
    assert np.array_equal(np.diff(ooff), lens[idx])
    out2, _ = gather_ragged(np.stack([vals, -vals], 1), off, idx)
    assert np.array_equal(out2[:, 1], -np.concatenate(ref))


def test_nothing_dropped_with_degenerate(tmp_path):
    d = json.loads((DATA / "coco2017_subsets" / "airo_instances_val2017_small.json").read_text())
    d["annotations"][0]["segmentation"].append([1.0, 2.0, 3.0, 4.0])
    p = tmp_path / "degen.json"
    p.write_text(json.dumps(d))
    ds = cocodiff.load(p)
    assert ds.n_instances == len(d["annotations"])
    assert ds.warnings.counts["degenerate_ring"] == 1
    _check_against_json(ds, d)


# ---------------------------------------------------------------- the JSON number parser
from hypothesis import given, settings, strategies as st  # noqa: E402

from cocodiff.engine.jsonseg import parse_polygons  # noqa: E402


def _parse(texts):
    off = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    return parse_polygons(np.frombuffer(b"".join(texts), np.uint8), off)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), max_size=12), max_size=4))
def test_parse_polygons_equals_python_float(rings):
    text = json.dumps(rings).encode()
    kind, nr, rv, coords = _parse([text])
    assert kind.tolist() == [0] and nr.tolist() == [len(rings)]
    assert rv.tolist() == [len(r) for r in rings]
    ref = [v for r in rings for v in r]
    assert coords.tolist() == ref
    assert np.array_equal(np.signbit(coords), np.signbit(np.array(ref, np.float64)))


@pytest.mark.parametrize("text", [b"1.7976931348623157e308", b"5e-324", b"0.1", b"123456789012345678", b"1e22",
                                  b"1e23", b"9007199254740993", b"-0", b"2.5E+3", b"301.39999999999998",
                                  b"0.30000000000000004", b"4.35", b"100000000000000000000000.5"])
def test_parse_number_edge_cases(text):
    kind, _, _, coords = _parse([b"[[" + text + b"]]"])
    assert kind[0] == 0 and coords[0] == float(text) and np.signbit(coords[0]) == np.signbit(float(text))


def test_parse_polygons_kinds():
    kind, nr, rv, c = _parse([b'{"size": [1, 1], "counts": [1]}', b"null", b" [ [ 1 , 2 ] , [ ] ] ", b"[]"])
    assert kind.tolist() == [1, 2, 0, 0] and nr.tolist() == [0, 0, 2, 0] and rv.tolist() == [2, 0]
    for bad in (b"[[1, true]]", b"[[[1]]]", b"[1, 2]", b'"x"', b"[[NaN]]", b"[[1,,2]]", b"[[1 2]]", b"[[-]]"):
        assert _parse([b"[[1]]", bad])[0].tolist() == [0, -1], bad


def test_decode_strings_small():
    c, o, err = decode_strings(np.frombuffer(b"37n5", np.uint8), np.array([0, 4]))
    assert c.tolist() == [3, 7, 190] and o.tolist() == [0, 3] and err.tolist() == [0]
    assert decode_strings(np.frombuffer(b"3 n5", np.uint8), np.array([0, 4]))[2].tolist() != [0]


# ---------------------------------------------------------------- the fast scanner vs the msgspec path
import random  # noqa: E402
from dataclasses import fields as _dc_fields  # noqa: E402
from pathlib import Path as _Path  # noqa: E402

from cocodiff import loader as _loader  # noqa: E402
from cocodiff.engine import jsonscan, scanparts  # noqa: E402
from ref_numparse import parse_float  # noqa: E402

_CORPUS = _Path(__file__).resolve().parent / "corpus"


def _same_dataset(a, b):
    for f in _dc_fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, f.name
            if x.dtype.kind == "f":   # bit for bit (NaN, -0.0 included)
                assert np.array_equal(x.view(np.int64), y.view(np.int64)), f.name
            else:
                assert np.array_equal(x, y), f.name
        elif f.name == "warnings":
            assert (x.counts, x.examples) == (y.counts, y.examples)
        else:
            assert x == y, f.name


def _both_paths(monkeypatch, path, **kw):
    """Load with the scanner and with the msgspec path: (dataset or error text) for each."""
    out = []
    for fast in (True, False):
        monkeypatch.setattr(_loader, "_use_scanner", fast)
        try:
            out.append(cocodiff.load(path, cache=False, **kw))
        except InputError as e:
            out.append(str(e))
    return out


def _assert_paths_agree(monkeypatch, path, **kw):
    a, b = _both_paths(monkeypatch, path, **kw)
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
    else:
        _same_dataset(a, b)
    return a


@pytest.mark.parametrize("path", REAL_INSTANCE_FILES, ids=lambda p: p.name)
def test_scanner_equals_msgspec_path_real(monkeypatch, path):
    ds = _assert_paths_agree(monkeypatch, path)
    assert not isinstance(ds, str)
    # and the scanner really took these files (no silent fallback)
    st, _, r = jsonscan.scan_coco(np.frombuffer(path.read_bytes(), np.uint8))
    assert st == 0 and r.n == ds.n_instances


@pytest.mark.parametrize("res", ["instances_val2014_fakesegm100_results.json",
                                 "instances_val2014_fakebbox100_results.json"])
def test_scanner_equals_msgspec_path_results(monkeypatch, res):
    gt = cocodiff.load(DATA / "coco2014_val100" / "instances_val2014_100.json")
    _assert_paths_agree(monkeypatch, DATA / "coco2014_val100" / res, like=gt)


@pytest.mark.parametrize("name", sorted(p.name for p in _CORPUS.glob("*.json")))
def test_scanner_equals_msgspec_path_corpus(monkeypatch, name):
    _assert_paths_agree(monkeypatch, _CORPUS / name)


def _variant_doc(rng, full=True):
    """A small COCO document exercising what the scanner must read exactly like json.load."""
    def num(big=False):
        k = rng.randrange(7)
        if k == 0:
            return repr(rng.uniform(-1000, 1000))              # 15-17 significant digits
        if k == 1:
            return f"{rng.uniform(0, 640):.2f}"
        if k == 2:
            return str(rng.randrange(-5, 700))
        if k == 3:
            return f"{rng.uniform(0, 9):.6e}".replace("e+0", "E")   # exponents
        if k == 4:
            return rng.choice(["-0", "0.0", "-0.0", "1e-7", "5E+2", "0.30000000000000004", "9999999.999999999"]
                              + big * ["1e22", "1e23", "9007199254740993", "123456789012345678901",
                                       "1.7976931348623157e308"])
        if k == 5:
            return f"{rng.randrange(1, 10**17)}e{-rng.randrange(10 - 40 * big, 40)}"
        return f"{rng.uniform(0, 1):.19f}"
    imgs = [{"id": i, "width": 640, "height": 480, "file_name": f"é{i}.jpg"} for i in (1, 2, 3)]
    cats = [{"id": 1, "name": "a\\\"b", "supercategory": "s"}, {"id": 7, "name": "x"}]
    anns = []
    for aid in rng.sample(range(1, 100), 8):
        a = {"id": aid, "image_id": rng.choice((1, 2, 3)), "category_id": rng.choice((1, 7))}
        kind = rng.randrange(4)
        if kind < 2:
            rings = [[num() for _ in range(2 * rng.randrange(3, 7))] for _ in range(rng.randrange(1, 3))]
            seg = "[" + ",".join("[" + (", " if rng.random() < .5 else ",").join(r) + "]" for r in rings) + "]"
        elif kind == 2:   # compressed RLE, backslash escaped as JSON requires
            from pycocotools import mask as mu
            m = np.zeros((480, 640), np.uint8, order="F")
            y0, x0 = rng.randrange(400), rng.randrange(600)
            m[y0:y0 + rng.randrange(5, 70), x0:x0 + rng.randrange(5, 30)] = 1
            s = mu.encode(m)["counts"].decode()
            seg = json.dumps({"size": [480, 640], "counts": s})
            a["iscrowd"] = 1
        else:
            seg = json.dumps({"counts": [480 * 640 - 10, 10], "size": [480, 640], "extra": [1, {"k": None}]})
            a["iscrowd"] = 1
        a["segmentation"] = seg
        if full or rng.random() < .7:
            a["area"] = num(True)
        if full or rng.random() < .7:
            a["bbox"] = "[" + ",".join(num(True) for _ in range(4)) + "]" if full or rng.random() < .9 else "null"
        if rng.random() < .3:
            a["score"] = num(True)
        if rng.random() < .3:
            a["attributes"] = json.dumps({"occluded": True, "note": "a \\ \" b", "n": [1.5, -2e3, None]})
        anns.append(a)

    def obj(d):
        items = list(d.items())
        rng.shuffle(items)
        sep = rng.choice([",", ", ", " ,\n  "])
        return "{" + sep.join(f'"{k}":{rng.choice(["", " "])}{v}' for k, v in items) + "}"
    return ('{"info": {"v": [1, 2.5, true, false, null, "s"]}, "images": ' + json.dumps(imgs)
            + ', "annotations": [' + ", ".join(obj(a) for a in anns) + '], "categories": ' + json.dumps(cats)
            + "}\n")


def test_scanner_differential_fuzz(monkeypatch, tmp_path):
    """Random well-formed documents, then random single-byte edits of them: the scanner's result
    (dataset or error message) is always the msgspec path's."""
    rng = random.Random(1234)
    p = tmp_path / "f.json"
    n_fast = 0
    for it in range(60):
        text = _variant_doc(rng, full=it < 40).encode()
        p.write_bytes(text)
        ds = _assert_paths_agree(monkeypatch, p)
        assert not isinstance(ds, str), ds
        if it < 40:
            _check_against_json(ds, json.loads(text))
        st, _, _ = jsonscan.scan_coco(np.frombuffer(text, np.uint8))
        n_fast += st == 0
        for _ in range(6):   # mutations: delete / insert / replace one byte
            b = bytearray(text)
            i = rng.randrange(len(b))
            op = rng.randrange(3)
            ch = rng.choice(b'{}[],:"\\0123456789.-eE ntfx\x00\xff')
            if op == 0:
                del b[i]
            elif op == 1:
                b.insert(i, ch)
            else:
                b[i] = ch
            p.write_bytes(bytes(b))
            _assert_paths_agree(monkeypatch, p)
    assert n_fast >= 50   # the scanner took (nearly) all well-formed documents


def test_scanner_bails_on_escaped_key(monkeypatch, tmp_path):
    d = json.loads((DATA / "coco2017_subsets" / "airo_instances_val2017_small.json").read_text())
    text = json.dumps(d).replace('"image_id"', '"image\\u005fid"', 1).encode()
    st, _, _ = jsonscan.scan_coco(np.frombuffer(text, np.uint8))
    assert st != 0
    p = tmp_path / "esc.json"
    p.write_bytes(text)
    ds = _assert_paths_agree(monkeypatch, p)
    _check_against_json(ds, d)


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_scanner_float_roundtrip(x):
    for text in (repr(x), f"{x:.17e}", f"{x:.15g}", f"{x:.3f}" if abs(x) < 1e15 else repr(x)):
        v = parse_float(text.encode())
        if v is not None:   # None: deferred to Python's float, never a wrong double
            assert v == float(text) and np.signbit(v) == np.signbit(float(text)), text


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10**19 - 1), st.integers(-340, 310))
def test_scanner_eisel_lemire_decimal(m, e):
    text = f"{m}e{e}".encode()
    v = parse_float(text)
    ref = float(text)
    if v is not None:
        assert v == ref
    else:   # deferred only outside the exact paths: subnormal/overflow range or a true tie
        assert ref == 0 or ref == float("inf") or abs(ref) < 2.3e-308 or m > 2**53


def test_scanner_float_bulk_random():
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2**63 - 1, 20000, dtype=np.int64)
    xs = bits.view(np.float64)
    xs = xs[np.isfinite(xs)]
    texts = [repr(float(x)).encode() for x in xs] + [f"{v:.{d}f}".encode() for v, d in
                                                     zip(rng.uniform(0, 1e4, 20000), rng.integers(0, 19, 20000))]
    n_exact = 0
    for t in texts:
        v = parse_float(t)
        if v is not None:
            n_exact += 1
            assert v == float(t), t
    assert n_exact > 0.85 * len(texts)   # the rest: > 19 digits or subnormal, deferred


@pytest.mark.parametrize("size", [[2**32 + 1, 1], [1, 2**63], [-(2**32) + 1, 1]])
def test_rle_size_out_of_range_is_an_error(monkeypatch, tmp_path, size):
    """A size that wraps to the image's in int32 (2**32 + 1 -> 1) must not pass as equal."""
    d = {"images": [{"id": 1, "width": 1, "height": 1}], "categories": [{"id": 1}],
         "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": {"size": size, "counts": [1]}}]}
    p = tmp_path / "s.json"
    p.write_text(json.dumps(d))
    a, b = _both_paths(monkeypatch, p)
    for r in (a, b):
        assert isinstance(r, str) and "segmentation.size" in r


# ---------------------------------------------------------------- scanner: 8-byte number path
_SHORT_TOKENS = ["0", "7", "12", "640", "1234567", "1234.5678", "9999999", "0.5", "1.25", "12.5", "239.97", "1.23456",
                 "12345.6", "123456.7", "1234.567", "-0", "-3", "-0.25", "-123.45", "-1234567", "00", "01",
                 "00.5", "1.", ".5", "-", "--1", "1e5", "1E5", "2.5e1", "1.5E-2", "1e", "1.2.3", "1-2", "0x1",
                 "+1", "1 ", " 1", "1\n", "9.99", "100.001", "0.000001", "5.0000001"]


@pytest.mark.parametrize("sep", [",", ", ", " , ", ",\n"])
def test_scanner_short_numbers_match_json(monkeypatch, tmp_path, sep):
    """Every short token, valid or not, in every position of a long ring (so the 8-byte loads run
    with and without a comma inside the word, and near the end of the buffer): the scanner's result
    is the msgspec path's, and valid rings hold exactly float(token)."""
    rng = random.Random(len(sep))
    p = tmp_path / "short.json"
    for tok in _SHORT_TOKENS:
        vals = [rng.choice(_SHORT_TOKENS[:19] + ["9.99", "100.001"]) for _ in range(11)] + [tok]
        vals = vals[-1:] + vals[:-1] if rng.random() < .5 else vals
        ring = sep.join(vals + ["1", "2", "3", "4"])   # 16 numbers
        text = ('{"images":[{"id":1,"width":640,"height":480,"file_name":"a"}],"categories":[{"id":1,"name":"c"}],'
                '"annotations":[{"id":1,"image_id":1,"category_id":1,"segmentation":[[' + ring + ']]}]}')
        p.write_text(text)
        ds = _assert_paths_agree(monkeypatch, p)
        try:
            want = [float(v) for v in json.loads(text)["annotations"][0]["segmentation"][0]]
        except (ValueError, TypeError):
            assert isinstance(ds, str), tok   # json rejects it: so must both paths
            continue
        assert not isinstance(ds, str), (tok, ds)
        got = ds.xy.ravel()   # "-0" is read as -0.0 by both paths (json.loads: integer 0)
        assert np.array_equal(got, want), tok
        nz = np.array(want) != 0
        assert np.array_equal(np.signbit(got[nz]), np.signbit(np.array(want)[nz])), tok


def test_scanner_grows_every_buffer(monkeypatch, tmp_path):
    """Annotations, coordinates, rings, RLE bytes and counts and deferred numbers all outgrow the
    scanner's buffers (forced down to one slot): every resumed annotation is read exactly."""
    from pycocotools import mask as mu
    anns = []
    for i in range(1, 400):
        a = {"id": i, "image_id": 1, "category_id": 1, "area": 1e-320, "bbox": [0, 1e-310, 2, 3]}  # deferred
        if i % 50 == 0:
            a["segmentation"] = {"size": [480, 640], "counts": [1] * 2001 + [480 * 640 - 2001]}
            a["iscrowd"] = 1
        elif i % 50 == 1:
            m = np.zeros((480, 640), np.uint8, order="F")
            m[::3, ::7] = 1   # a long compressed string
            a["segmentation"] = {"size": [480, 640], "counts": mu.encode(m)["counts"].decode()}
            a["iscrowd"] = 1
        else:
            a["segmentation"] = [[1, 2, 3, 4, 5, 6]] * 3 + [[float(f"1.{'7' * 19}e1")] * 8]   # slow numbers
        anns.append(a)
    d = {"images": [{"id": 1, "width": 640, "height": 480, "file_name": "a"}],
         "categories": [{"id": 1, "name": "c"}], "annotations": anns}
    text = json.dumps(d, separators=(",", ":")).encode()
    buf = np.frombuffer(text, np.uint8)
    whole = (-1, -1, jsonscan.PH_ANNS, 0, jsonscan.NO_SPANS)
    ref = jsonscan._scan(buf, False, 1 << 12, np.empty(1 << 20), *whole)   # big enough: no growth
    tiny = jsonscan._scan(buf, False, 1, np.empty(1), *whole)               # every buffer grows, many times
    counts = ("n", "nr", "nv", "nsb", "nlc", "ns")
    assert ref.status == tiny.status == 0 and ref.n == len(anns)
    assert [getattr(ref, c) for c in counts] == [getattr(tiny, c) for c in counts]
    n, nr, nv, nsb, nlc, ns = (getattr(ref, c) for c in counts)
    assert nsb > 1024 and nlc > 1024 and ns > 64   # beyond the fixed first sizes too
    sizes = {"bbox": 4 * n, "str_offsets": n + 1, "list_offsets": n + 1, "ring_vals": nr, "coords": nv,
             "str_bytes": nsb, "list_counts": nlc, "slow_t": ns, "slow_i": ns, "slow_a": ns, "slow_b": ns}
    for k in ("ann_id", "image_id", "category_id", "iscrowd", "area", "score", "has_bbox", "seg_kind", "n_rings",
              *sizes):
        a, b, m = getattr(ref, k), getattr(tiny, k), sizes.get(k, n)
        assert np.array_equal(a[:m], b[:m], equal_nan=a.dtype.kind == "f"), k
    p = tmp_path / "grow.json"
    p.write_bytes(text)
    ds = _assert_paths_agree(monkeypatch, p)
    _check_against_json(ds, json.loads(text))


def test_polygon_layout_against_numpy():
    from cocodiff.engine.ragged import polygon_layout
    rng = np.random.default_rng(3)
    ring_vals = 2 * rng.integers(0, 9, 300)
    coords = rng.uniform(-5, 5, int(ring_vals.sum()))
    n_rings = rng.integers(0, 4, 120)
    n_rings[-1] += 300 - n_rings.sum() if n_rings.sum() < 300 else 0
    n_rings = n_rings[np.cumsum(n_rings) <= 300]
    starts = np.concatenate([[0], np.cumsum(n_rings)[:-1]])
    perm = rng.permutation(len(n_rings))
    r0, nr = starts[perm], n_rings[perm]
    val_off = np.concatenate([[0], np.cumsum(ring_vals)])
    rings = [r for j in range(len(nr)) for r in range(r0[j], r0[j] + nr[j])]
    want = np.concatenate([coords[val_off[r]:val_off[r + 1]] for r in rings])
    out, rv, iro, ro, odd, bad = polygon_layout(coords, ring_vals, r0, nr, 10.0)
    assert np.array_equal(out, want) and np.array_equal(rv, ring_vals[rings])
    assert np.array_equal(iro, np.concatenate([[0], np.cumsum(nr)]))
    assert np.array_equal(ro, np.concatenate([[0], np.cumsum(ring_vals[rings] // 2)]))
    assert (odd, bad) == (-1, -1)
    # identity layout: the input comes back, checks still run
    same = polygon_layout(coords, ring_vals, starts, n_rings, 10.0)
    assert same[0] is coords or np.shares_memory(same[0], coords)
    # first odd ring / first bad value, in output order
    rv2 = ring_vals.copy()
    nz = [r for r in rings if ring_vals[r] > 0]
    rv2[nz[5]] -= 1
    c2 = coords[:int(rv2.sum())]
    assert polygon_layout(c2, rv2, r0, nr, 10.0)[4] == rings.index(nz[5])
    c3 = coords.copy()
    k = val_off[nz[7]] + 1
    c3[k] = np.nan
    out3 = polygon_layout(c3, ring_vals, r0, nr, 10.0)
    assert np.isnan(out3[0][out3[5]]) and out3[5] == int(np.flatnonzero(np.isnan(out3[0]))[0])
    assert polygon_layout(coords, ring_vals, r0, nr, 4.0)[5] == int(np.flatnonzero(np.abs(want) > 4.0)[0])
    # identity layout: output index = input index
    assert polygon_layout(c3, ring_vals, starts, n_rings, 10.0)[5] == k


def test_rle_layout_against_numpy():
    """Counts gathered in instance order from the string or the list store, sums, and the first
    (output-order) segment with a list count that does not fit uint32."""
    from cocodiff.engine.ragged import rle_layout
    rng = np.random.default_rng(5)
    n = 200
    is_str_src = rng.random(n) < 0.4
    s_len = np.where(is_str_src, rng.integers(1, 12, n), 0)
    l_len = np.where(~is_str_src & (rng.random(n) < 0.5), rng.integers(1, 12, n), 0)
    s_off = np.concatenate([[0], np.cumsum(s_len)])
    l_off = np.concatenate([[0], np.cumsum(l_len)])
    s_counts = rng.integers(0, 2 ** 32, int(s_off[-1]), dtype=np.uint64).astype(np.uint32)
    l_counts = rng.integers(0, 2 ** 32, int(l_off[-1]), dtype=np.int64)
    order = rng.permutation(n)
    counts, off, sums, bad = rle_layout(s_counts, s_off, l_counts, l_off, order, is_str_src[order])
    segs = [s_counts[s_off[i]:s_off[i + 1]] if is_str_src[i] else l_counts[l_off[i]:l_off[i + 1]] for i in order]
    assert np.array_equal(counts, np.concatenate(segs).astype(np.uint32)) and counts.dtype == np.uint32
    assert np.array_equal(off, np.concatenate([[0], np.cumsum([len(s) for s in segs])]))
    assert sums.tolist() == [int(np.sum(s, dtype=np.uint64)) for s in segs]
    assert bad == -1
    # bad list counts in two segments: the first in output order is reported, whatever the file order
    lists = [j for j in range(n) if not is_str_src[order[j]] and l_len[order[j]] > 0]
    j1, j2 = lists[3], lists[9]
    bad_counts = l_counts.copy()
    bad_counts[l_off[order[j2]]] = -1
    bad_counts[l_off[order[j1]] + l_len[order[j1]] - 1] = 2 ** 32
    assert rle_layout(s_counts, s_off, bad_counts, l_off, order, is_str_src[order])[3] == j1
    assert rle_layout(s_counts, s_off, bad_counts, l_off, order[::-1], is_str_src[order[::-1]])[3] == n - 1 - j2


@pytest.mark.parametrize("seed", range(4))
def test_instance_order_equals_lexsort(seed):
    """The combined-key sort (ids rising in file order) and the lexsort fallback give
    lexsort's permutation, ties (duplicate ids) in file order, extreme ids included."""
    from cocodiff._load_build import instance_order as _instance_order
    rng = np.random.default_rng(seed)
    for t in range(200):
        n = int(rng.integers(0, 60))
        img = rng.integers(-4, 4, n) * int(10 ** rng.integers(0, 18))
        cat = rng.integers(0, 5, n) * int(10 ** rng.integers(0, 12))
        ann = rng.integers(0, 25, n)
        if t % 2:
            ann = np.sort(ann)
        if t % 7 == 0 and n:
            img[0] = np.iinfo(np.int64).min   # span too wide for one key: lexsort
        got = _instance_order(img, cat, ann)
        assert np.array_equal(got, np.lexsort((ann, cat, img))), (seed, t)


# ---------------------------------------------------------------- load_pair
def test_load_pair_concurrent_equals_sequential(tmp_path, monkeypatch):
    from cocodiff.loader import load_pair
    a = DATA / "coco2014_val100" / "instances_val2014_100.json"
    b = DATA / "derived" / "val2014_100_fakesegm_as_annotations.json"
    seq = (cocodiff.load(a), cocodiff.load(b))
    started = []
    import threading
    real = _loader.load

    def spy(path, **kw):
        started.append((os.fspath(path), threading.current_thread() is threading.main_thread()))
        return real(path, **kw)

    monkeypatch.setattr(_loader, "load", spy)
    A, B = load_pair(a, b, threads=2)
    assert sorted(started) == sorted([(str(a), True), (str(b), False)])   # b really on the side thread
    _same_dataset(A, seq[0])
    _same_dataset(B, seq[1])
    started.clear()
    A1, B1 = load_pair(a, b, threads=1)            # one thread: one after the other, here
    assert [t for _, t in started] == [True, True]
    _same_dataset(B1, seq[1])
    A2, B2 = load_pair(seq[0], b, threads=2)       # a Dataset passes through
    assert A2 is seq[0]
    _same_dataset(B2, seq[1])


def test_load_pair_errors_in_order(tmp_path):
    from cocodiff.loader import load_pair
    good = DATA / "coco2014_val100" / "instances_val2014_100.json"
    bad_a = tmp_path / "bad_a.json"
    bad_a.write_text('{"images": [], "categories": [], "annotations": [')
    bad_b = tmp_path / "bad_b.json"
    bad_b.write_text("[1, 2")
    with pytest.raises(InputError) as e:
        load_pair(bad_a, bad_b, threads=2)   # both bad: A's error, as load(a) then load(b)
    assert "bad_a.json" in str(e.value)
    with pytest.raises(InputError) as e:
        load_pair(good, bad_b, threads=2)    # the side thread's error reaches the caller
    assert "bad_b.json" in str(e.value)
    with pytest.raises(InputError) as e:
        load_pair(good, tmp_path / "missing.json", threads=2)
    assert "no such file" in str(e.value)


def test_load_pair_sequential_loads_the_bigger_file_first(tmp_path, monkeypatch):
    """One after the other (too big together, or one thread), the bigger file loads first -- it
    keeps the smaller dataset held while the bigger one is built -- and the result and the error
    order are still those of load(a) then load(b)."""
    from cocodiff.loader import load_pair
    big = DATA / "coco2014_val100" / "instances_val2014_100.json"
    small = DATA / "derived" / "val2014_100_fakesegm_as_annotations.json"
    assert os.path.getsize(big) > os.path.getsize(small)
    order = []
    real = _loader.load

    def spy(path, **kw):
        order.append(os.path.basename(os.fspath(path)))
        return real(path, **kw)

    monkeypatch.setattr(_loader, "load", spy)
    for threads in (1, 2):
        monkeypatch.setattr(_loader, "PAIR_CONCURRENT_MAX_BYTES", 0 if threads == 2 else 1 << 40)
        order.clear()
        A, B = load_pair(small, big, threads=threads)
        assert order == [big.name, small.name]
        _same_dataset(A, real(small))
        _same_dataset(B, real(big))
        order.clear()
        A, B = load_pair(big, small, threads=threads)   # a is the bigger: plain order
        assert order == [big.name, small.name]
        assert A.n_instances == real(big).n_instances
    bad_a = tmp_path / "bad_a.json"
    bad_a.write_text('{"images": [], "categories": [], "annotations": [')
    bad_b = tmp_path / "bad_b.json"
    bad_b.write_text('{"images": [], "categories": [], "annotations": [{"id": 1}' + " " * 200)
    assert bad_b.stat().st_size > bad_a.stat().st_size
    with pytest.raises(InputError) as e:
        load_pair(bad_a, bad_b, threads=1)   # both bad, b loaded first: still A's error
    assert "bad_a.json" in str(e.value)
    with pytest.raises(InputError) as e:
        load_pair(small, bad_b, threads=1)   # only b bad: b's error
    assert "bad_b.json" in str(e.value)


# ---------------------------------------------------------------- scanning in parts
_SCAN_FIELDS = ("ann_id", "image_id", "category_id", "iscrowd", "area", "score", "bbox", "has_bbox", "seg_kind",
                "n_rings", "rle_h", "rle_w", "str_offsets", "str_bytes", "list_offsets", "list_counts",
                "ring_vals", "coords")


def _scan_in_parts_agrees(monkeypatch, text, results=False, threads=(2, 3, 8)):
    """``loader._scan`` cut into many small parts gives scan_coco's outcome: the same columns (bit
    for bit) and spans when it succeeds, a bail when it bails. Returns (one-pass status, parts used)."""
    buf = np.frombuffer(text, np.uint8)
    st, _, one = jsonscan.scan_coco(buf, results)
    monkeypatch.setattr(_loader, "SCAN_PART_MIN_BYTES", 48)
    used = 0
    for nt in threads:
        used = max(used, len(scanparts.split_points(buf, min(2 * nt, buf.shape[0] // 48))))
        st2, _, r = _loader._scan(buf, results, nt)
        assert (st2 == 0) == (st == 0), (nt, st, st2)
        if st:
            continue
        assert r.n == one.n
        assert (r.images_span, r.categories_span) == (one.images_span, one.categories_span)
        for f in _SCAN_FIELDS:
            x, y = getattr(one, f), getattr(r, f)
            assert x.dtype == y.dtype and x.shape == y.shape, f
            assert np.array_equal(x.view(np.uint8), y.view(np.uint8)), f
    return st, used


@pytest.mark.parametrize("path", REAL_INSTANCE_FILES[:3], ids=lambda p: p.name)
def test_scan_in_parts_real_files(monkeypatch, path):
    st, cuts = _scan_in_parts_agrees(monkeypatch, path.read_bytes())
    assert st == 0 and cuts >= 2


def test_scan_in_parts_results_file(monkeypatch):
    text = (DATA / "coco2014_val100" / "instances_val2014_fakesegm100_results.json").read_bytes()
    st, cuts = _scan_in_parts_agrees(monkeypatch, text, results=True)
    assert st == 0 and cuts >= 2


def test_scan_in_parts_fuzz(monkeypatch):
    """Random documents (nested objects inside annotations give false cut candidates, slow
    numbers and RLE text / lists land in later parts) and single-byte edits of them."""
    rng = random.Random(99)
    ok = 0
    joined = []
    real_concat = scanparts.concat_scans
    monkeypatch.setattr(scanparts, "concat_scans", lambda parts, *a: joined.append(len(parts)) or real_concat(parts, *a))
    for it in range(40):
        text = _variant_doc(rng, full=it < 25).encode()
        st, _ = _scan_in_parts_agrees(monkeypatch, text)
        ok += st == 0
        for _ in range(4):
            b = bytearray(text)
            i = rng.randrange(len(b))
            b[i:i + 1] = [rng.choice(b'{}[],:"0123456789.- \x00')] * rng.randrange(2)
            _scan_in_parts_agrees(monkeypatch, bytes(b), threads=(3,))
    assert ok >= 35
    assert len(joined) >= 40 and max(joined) >= 3   # the parts really were used (not only part 0)


def test_load_in_parts_equals_msgspec_path(monkeypatch):
    from cocodiff.engine import _jit
    monkeypatch.setattr(_loader, "SCAN_PART_MIN_BYTES", 4096)
    monkeypatch.setattr(_jit, "get_threads", lambda: 3)   # parts even on a one-core machine
    joined = []
    real_concat = scanparts.concat_scans
    monkeypatch.setattr(scanparts, "concat_scans", lambda parts, *a: joined.append(len(parts)) or real_concat(parts, *a))
    for path in REAL_INSTANCE_FILES[:2]:
        ds = _assert_paths_agree(monkeypatch, path)
        assert not isinstance(ds, str)
    assert len(joined) == 2 and min(joined) >= 3


@pytest.mark.parametrize("order", ["annotations_first", "annotations_last", "twice"])
def test_scan_in_parts_section_order(monkeypatch, order):
    """The document's rest after the annotations list is scanned from where the parts ended:
    sections after it are found, a second ``annotations`` key still bails."""
    d = json.loads((DATA / "coco2017_subsets" / "airo_instances_val2017_small.json").read_text())
    body = json.dumps(d["annotations"])
    head = f'"images": {json.dumps(d["images"])}, "categories": {json.dumps(d["categories"])}'
    text = {"annotations_first": '{"annotations": ' + body + ", " + head + "}",
            "annotations_last": "{" + head + ', "annotations": ' + body + "}",
            "twice": "{" + head + ', "annotations": ' + body + ', "annotations": []}'}[order]
    st, cuts = _scan_in_parts_agrees(monkeypatch, text.encode())
    assert cuts >= 2
    assert (st == 0) == (order != "twice")


def test_scanner_numbers_near_the_end_of_the_buffer():
    """A polygon whose numbers end within 18 bytes of the end of the file: the 8-byte number
    path does not apply there and the general one must skip the space after a comma (it bailed)."""
    for seg in (b"[[7, 8, 9, 10, 11, 12]]", b"[[1, 2, 3, 4, 5, 6]]", b"[[1, 2, 3.5, 4, 5, 6]]", b"[[7,8,9,10,11,12]]"):
        want = [float(x) for x in seg.strip(b"[]").split(b",")]
        for pad in range(30):
            text = (b'{"images": [], "categories": [], "annotations": [{"id": 7, "image_id": 1, '
                    b'"category_id": 2, "segmentation": ' + seg + b"}]}" + b" " * pad)
            st, where, r = jsonscan.scan_coco(np.frombuffer(text, np.uint8))
            assert st == 0, (seg, pad, where)
            assert r.coords.tolist() == want


def test_big_file_bytes_reread_for_error_messages(monkeypatch, tmp_path):
    """A file bigger than KEEP_BYTES_MAX is not held through the build; an error found there
    reads it again (a plain file and a zip member) and says exactly what it says otherwise."""
    d = json.loads((DATA / "coco2017_subsets" / "airo_instances_val2017_small.json").read_text())
    d["annotations"][3]["segmentation"] = "abc"
    plain = tmp_path / "bad.json"
    plain.write_text(json.dumps(d))
    zpath = tmp_path / "bad.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("x/bad.json", json.dumps(d))
    for path in (plain, zpath):
        msgs = []
        for keep in (1 << 40, 0):
            monkeypatch.setattr(_loader, "KEEP_BYTES_MAX", keep)
            with pytest.raises(InputError) as e:
                cocodiff.load(path, cache=False)
            msgs.append(str(e.value))
        assert msgs[0] == msgs[1]
        assert str(d["annotations"][3]["id"]) in msgs[0] and "segmentation" in msgs[0]
    calls = []
    real = _loader._Reread.__call__
    monkeypatch.setattr(_loader._Reread, "__call__", lambda self: calls.append(self.name) or real(self))
    with pytest.raises(InputError):
        cocodiff.load(plain, cache=False)
    assert calls == [str(plain)]


def test_scan_in_parts_shared_coordinate_buffer(monkeypatch):
    """Parts write their coordinates into windows of one buffer, compacted in place (the result
    is a view of that buffer, its size the one-pass capacity); a part that outgrows its window
    is copied instead. Both give the one-pass columns."""
    path = REAL_INSTANCE_FILES[0]
    text = path.read_bytes()
    buf = np.frombuffer(text, np.uint8)
    one = jsonscan.scan_coco(buf)[2]
    cap = jsonscan.coords_capacity(len(text))
    for part_bytes, in_place in ((len(text) // 6, True), (48, False)):
        monkeypatch.setattr(_loader, "SCAN_PART_MIN_BYTES", part_bytes)
        squeeze = None
        if not in_place:   # windows far too small for a part's coordinates
            squeeze = jsonscan.coords_capacity
            monkeypatch.setattr(jsonscan, "coords_capacity", lambda nb: max(64, nb // 200))
        st, _, r = _loader._scan(buf, False, 3)
        if squeeze:
            monkeypatch.setattr(jsonscan, "coords_capacity", squeeze)
        assert st == 0 and np.array_equal(r.coords, one.coords) and np.array_equal(r.ring_vals, one.ring_vals)
        base = r.coords.base if r.coords.base is not None else r.coords
        assert (base.shape[0] == cap) == in_place


def test_run_jobs_nested_does_not_deadlock():
    """Jobs that themselves run jobs (e.g. a file scanned in parts, loaded from a pool thread)
    run those inline: with more outer jobs than workers, waiting on the pool would hang."""
    import threading
    from cocodiff._threads import run_jobs
    out = []
    t = threading.Thread(target=lambda: out.append(
        run_jobs(2, lambda x: sum(run_jobs(2, lambda y: x * y, [1, 2, 3])), [1, 10, 100, 1000])), daemon=True)
    t.start()
    t.join(20)
    assert out == [[6, 60, 600, 6000]]


@pytest.mark.parametrize("scanner", [True, False])
@pytest.mark.parametrize("files, dup", [
    ([[1, 2, 2, 3]], 2),            # rising but not strictly: the adjacent duplicate is found
    ([[4, 1, 3, 1]], 1),
    ([[1, 3], [2, 5]], None),       # not rising across the files, no duplicate
    ([[1, 2], [3, 4]], None),       # strictly rising: unique without a sort
    ([[1, 2], [2, 5]], 2),          # rising within each file, the duplicate is across them
])
def test_duplicate_annotation_ids(tmp_path, monkeypatch, scanner, files, dup):
    from cocodiff import loader
    monkeypatch.setattr(loader, "_use_scanner", scanner)
    paths = []
    for f, ids in enumerate(files):
        d = {"images": [{"id": 1, "width": 10, "height": 10, "file_name": "a.jpg"}],
             "categories": [{"id": 1, "name": "c"}],
             "annotations": [{"id": i, "image_id": 1, "category_id": 1, "iscrowd": 0,
                              "segmentation": [[0, 0, 4, 0, 4, 4]]} for i in ids]}
        p = tmp_path / f"f{f}.json"
        p.write_text(json.dumps(d))
        paths.append(p)
    if dup is None:
        ds = cocodiff.load(paths if len(paths) > 1 else paths[0], cache=False)
        assert sorted(ds.ann_id.tolist()) == sorted(i for ids in files for i in ids)
    else:
        with pytest.raises(InputError, match=f"duplicate annotation id {dup}"):
            cocodiff.load(paths if len(paths) > 1 else paths[0], cache=False)
