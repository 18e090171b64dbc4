"""Reliability: bad input never crashes, nothing is lost, results do not depend on how they are computed.

* every corpus case (tests/corpus/) through ``cocodiff compare`` (either side, the other valid)
  and two-sided ``cocodiff stats``: exit 2 with one line naming the file (and annotation /
  field), or exit 0 under a counted warning -- never a traceback;
* every corpus file has an expectation (expected.json) or is a known loader gap still open
  (pending.json, empty today);
* hypothesis: mutated valid files raise nothing but ``InputError`` and, when they load, keep
  every annotation; ``compare`` accounts for every A and B instance exactly once per role;
  RLE area equals the decoded mask's sum; IoU is symmetric (no crowd) and within [0, 1];
* determinism: byte-identical ``matches.parquet`` / ``summary.json`` whatever the thread
  count (serial vs multi-threaded kernels) and batch size.
"""
from __future__ import annotations

import copy
import json
import math
import os
import tempfile
from pathlib import Path

import cocodiff
import numpy as np
import pytest
from cocodiff import mask as cmask
from cocodiff.cli import main
from cocodiff.errors import InputError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
PENDING = json.loads((CORPUS / "pending.json").read_text())
OK = str(CORPUS / "ok_base.json")
DATA = Path(__file__).resolve().parent.parent / "data"
RELATIONS = ("matched", "split", "merged", "class_changed", "removed", "added")

HSET = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ============================================================================ corpus via the CLI
def _one_error_line(err: str, fragments):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err                 # one line, no traceback
    assert lines[0].startswith("cocodiff: error: "), lines[0]
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])


def _corpus_cases():
    return sorted(k for k in EXPECTED if k != "missing_file.json") + ["missing_file.json"]


@pytest.mark.parametrize("side", ["a", "b"])
@pytest.mark.parametrize("name", _corpus_cases())
def test_corpus_compare(name, side, tmp_path, capsys):
    exp = EXPECTED[name]
    bad = str(CORPUS / name)
    a, b = (bad, OK) if side == "a" else (OK, bad)
    out = tmp_path / "out"
    rc = main(["-q", "compare", a, b, "-o", str(out)])
    _, err = capsys.readouterr()
    if name == "results_without_like.json" and side == "b":   # as B it has its A: a valid results file
        assert rc == 0, err
        assert json.loads((out / "summary.json").read_text())["meta"]["b_instances"] == 1
        return
    assert rc == exp["exit"], err
    if rc == 2:
        _one_error_line(err, exp["fragments"])
        assert not (out / "matches.parquet").exists()
        return
    # accepted input (possibly under a counted warning): nothing dropped, all accounted for
    summ = json.loads((out / "summary.json").read_text())
    assert summ["meta"]["a_instances"] == 3 and summ["meta"]["b_instances"] == 3
    import pyarrow.parquet as pq
    t = pq.read_table(out / "matches.parquet").to_pydict()
    assert sorted({x for x in t["a_id"] if x is not None}) == [10, 11, 12]
    assert sorted({x for x in t["b_id"] if x is not None}) == [10, 11, 12]


@pytest.mark.parametrize("name", _corpus_cases())
def test_corpus_stats_as_b(name, capsys):
    """Two-sided stats with the bad file as B (loaded ``like=A``)."""
    exp = EXPECTED[name]
    rc = main(["-q", "stats", OK, str(CORPUS / name), "--json"])
    out, err = capsys.readouterr()
    if name == "results_without_like.json":   # as B it has its A: a valid results file
        assert rc == 0, err
        assert json.loads(out)["datasets"][1]["instances"] == 1
        return
    assert rc == exp["exit"], err
    if rc == 2:
        _one_error_line(err, exp["fragments"])
    else:
        ds = json.loads(out)["datasets"]
        assert ds[0]["instances"] == 3 and ds[1]["instances"] == 3


def _corpus_files():
    """Every input file of the corpus (top level, and ``pending/`` for known crashes)."""
    skip = {"expected.json", "pending.json", "make_corpus.py"}
    out = {f.name for f in CORPUS.iterdir() if f.is_file() and f.name not in skip}
    if (CORPUS / "pending").is_dir():
        out |= {f"pending/{f.name}" for f in (CORPUS / "pending").iterdir() if f.is_file()}
    return out


def test_corpus_registry_covers_every_file(capsys):
    """No corpus file goes unchecked, and a known gap still open stays listed as one.

    Every input in tests/corpus/ is either in expected.json (run by the tests above, and by
    tests/test_badinput.py) or in pending.json (known loader gaps, written by make_corpus.py's
    ``pending_case``), never in both. A pending case is run here: once it gives the expected
    one-line error it is fixed and must move to expected.json; until then, unless it crashes,
    it is at least refused cleanly (InputError, exit 2, one line, no traceback).
    """
    files = _corpus_files()
    pending_files = {v["file"] for v in PENDING.values()}
    assert len(files) >= 30
    assert files - set(EXPECTED) - pending_files == set(), "corpus files without an expectation"
    assert set(EXPECTED) - files == {"missing_file.json"}, "expectations without a corpus file"
    assert not set(EXPECTED) & set(PENDING), "a case both expected and pending"
    assert pending_files <= files
    for name, exp in sorted(PENDING.items()):
        path = str(CORPUS / exp["file"])
        rc = main(["-q", "stats", path])
        lines = capsys.readouterr().err.strip().splitlines()
        fixed = (rc == 2 and len(lines) == 1 and lines[0].startswith("cocodiff: error: ")
                 and all(f in lines[0] for f in exp["fragments"]))
        assert not fixed, f"{name}: fixed ({lines}); move it from pending.json to expected.json"
        if exp.get("crash"):
            continue
        with pytest.raises(InputError):
            cocodiff.load(path)
        for argv in (["-q", "stats", path], ["-q", "stats", OK, path]):
            assert main(argv) == 2
            _one_error_line(capsys.readouterr().err, [name])


# ============================================================================ generated datasets
def _ring(w, h):
    x = st.integers(-8, 4 * w + 8).map(lambda v: v / 4)
    y = st.integers(-8, 4 * h + 8).map(lambda v: v / 4)
    return st.lists(st.tuples(x, y), min_size=3, max_size=6).map(lambda pts: [c for p in pts for c in p])


@st.composite
def _counts(draw, n):
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=6)))
    b = [0] + cuts + [n]
    return [b[i + 1] - b[i] for i in range(len(b) - 1)]


@st.composite
def _canonical_counts(draw, n):
    """Counts with no empty run except possibly the first (what encode() produces)."""
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, n - 1)), max_size=6)))) if n > 1 else []
    b = [0] + cuts + [n]
    runs = [b[i + 1] - b[i] for i in range(len(b) - 1)]
    return [0] + runs if draw(st.booleans()) else runs


def _compress(counts, h, w) -> str:
    from pycocotools import mask as pm  # oracle, only to write the input file
    return pm.frPyObjects({"size": [h, w], "counts": counts}, h, w)["counts"].decode()


@st.composite
def _annotation(draw, images, ann_id, cats=(1, 2, 3)):
    im = draw(st.sampled_from(images))
    h, w = im["height"], im["width"]
    kind = draw(st.sampled_from(["poly", "poly", "rle", "rlestr"]))
    if kind == "poly":
        seg = draw(st.lists(_ring(w, h), min_size=1, max_size=2))
    else:
        c = draw(_counts(h * w))
        seg = {"size": [h, w], "counts": c if kind == "rle" else _compress(c, h, w)}
    return {"id": ann_id, "image_id": im["id"], "category_id": draw(st.sampled_from(cats)),
            "iscrowd": int(kind != "poly" and draw(st.booleans())), "area": 1.0, "bbox": [0, 0, 1, 1],
            "segmentation": seg}


def _images(draw, ids):
    return [{"id": i, "width": draw(st.integers(1, 16)), "height": draw(st.integers(1, 16)),
             "file_name": f"{i}.jpg"} for i in ids]


_CATS = [{"id": c, "name": f"c{c}", "supercategory": "s"} for c in (1, 2, 3)]


@st.composite
def coco_doc(draw, max_anns=6):
    images = _images(draw, range(1, draw(st.integers(1, 3)) + 1))
    n = draw(st.integers(0, max_anns))
    anns = [draw(_annotation(images, 100 + k)) for k in range(n)]
    return {"images": images, "categories": copy.deepcopy(_CATS), "annotations": anns}


@st.composite
def coco_pair(draw):
    """A and B over overlapping images; B mostly near-copies of A, some resized, some new."""
    ids = list(range(1, draw(st.integers(1, 3)) + 1))
    ia = _images(draw, ids)
    ib = []
    for im in ia:
        r = draw(st.sampled_from(["same", "same", "same", "resized", "absent"]))
        if r == "same":
            ib.append(dict(im))
        elif r == "resized":
            ib.append(dict(im, width=im["width"] + 1))
    if draw(st.booleans()):
        ib.append({"id": 99, "width": 8, "height": 8, "file_name": "99.jpg"})
    if not ib:
        ib.append(dict(ia[0]))
    anns_a = [draw(_annotation(ia, 100 + k)) for k in range(draw(st.integers(0, 6)))]
    anns_b = []
    for k, a in enumerate(anns_a):   # B: copies (maybe re-classed), or fresh ones
        im_b = [im for im in ib if im["id"] == a["image_id"] and im in ia]
        if im_b and draw(st.booleans()):
            anns_b.append(dict(copy.deepcopy(a), id=500 + k, category_id=draw(st.sampled_from((1, 2, 3)))))
    anns_b += [draw(_annotation(ib, 700 + k)) for k in range(draw(st.integers(0, 4)))]
    A = {"images": ia, "categories": copy.deepcopy(_CATS), "annotations": anns_a}
    B = {"images": ib, "categories": copy.deepcopy(_CATS), "annotations": anns_b}
    return A, B


def _table_bytes(t) -> bytes:
    """Arrow IPC bytes of a table's content (Table.equals treats NaN != NaN); chunks are joined
    first (``compare`` returns a chunk per batch)."""
    import pyarrow as pa
    t = t.combine_chunks()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    return sink.getvalue().to_pybytes()


def _relabel_groups(t):
    """The table with split / merged group ids renumbered by order of first appearance."""
    import pyarrow as pa
    g = t.column("group").to_pylist()
    new, out = {}, []
    for x in g:
        out.append(-1 if x is None or x < 0 else new.setdefault(x, len(new)))
    return t.set_column(t.schema.get_field_index("group"), "group", pa.array(out, pa.int64()))


def _write(d, name, doc):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        json.dump(doc, f, allow_nan=True)
    return p


# ---------------------------------------------------------------------------- mutation fuzzing
_WEIRD = [None, True, False, 0, -1, 1, 2 ** 31, 2 ** 63, 2 ** 70, 1.5, -0.0, 1e308, float("nan"),
          float("inf"), "", "x", "37n5", [], [[]], [[1, 2]], {}, {"size": [1, 1], "counts": [1]},
          [1, 2, 3, 4], {"a": 1}]


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _mutate(doc, data):
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 3), label="n_mutations")):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        op = data.draw(st.sampled_from(["delete", "replace", "replace", "duplicate"]), label="op")
        if op == "delete":
            del parent[key]
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        else:
            parent[key] = copy.deepcopy(data.draw(st.sampled_from(_WEIRD), label="value"))
    return doc


def _check_dataset(ds, n_expected=None):
    """Structural invariants of a loaded Dataset (see cocodiff.dataset)."""
    n = ds.n_instances
    ro, iro, co = ds.ring_offsets, ds.inst_ring_offsets, ds.counts_offsets
    assert ro[0] == 0 and ro[-1] == len(ds.xy) and np.all(np.diff(ro) >= 0)
    assert len(iro) == n + 1 and iro[0] == 0 and iro[-1] == len(ro) - 1 and np.all(np.diff(iro) >= 0)
    assert len(co) == n + 1 and co[0] == 0 and co[-1] == len(ds.counts) and np.all(np.diff(co) >= 0)
    assert np.all(np.isfinite(ds.xy))
    assert np.all(ds.width >= 1) and np.all(ds.height >= 1)
    assert np.array_equal(ds.image_id[ds.img_row], ds.inst_image_id)
    rle = ds.kind != 0
    csum = np.concatenate([[0], np.cumsum(ds.counts.astype(np.int64))])
    sums = csum[co[1:]] - csum[co[:-1]]
    assert np.array_equal(sums[rle], (ds.inst_h() * ds.inst_w())[rle])
    assert np.all(sums[~rle] == 0)            # polygons own no counts
    if n_expected is not None:
        assert n == n_expected, "an annotation was dropped or invented"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=coco_doc(), data=st.data())
def test_mutated_inputs_raise_only_inputerror(doc, data):
    from cocodiff.rasterize import rasterize
    with tempfile.TemporaryDirectory() as d:
        mutated = _mutate(doc, data)
        if data.draw(st.booleans(), label="byte-level"):
            raw = json.dumps(mutated, allow_nan=True).encode()
            i = data.draw(st.integers(0, len(raw)), label="cut")
            raw = raw[:i] + data.draw(st.binary(max_size=3), label="junk")
            p = os.path.join(d, "m.json")
            Path(p).write_bytes(raw)
            mutated = None
        else:
            p = _write(d, "m.json", mutated)
        try:
            ds = cocodiff.load(p)
        except InputError as e:
            assert str(e).startswith(p), str(e)      # names the file
            assert "\n" not in str(e)
            return
        anns = mutated.get("annotations") if isinstance(mutated, dict) else None
        _check_dataset(ds, len(anns) if isinstance(anns, list) else None)
        cocodiff.stats(ds)
        counts, offs = rasterize(ds, threads=1)
        assert len(offs) == ds.n_instances + 1
        hw = ds.inst_h() * ds.inst_w()
        for i in range(ds.n_instances):
            assert int(counts[offs[i]:offs[i + 1]].astype(np.int64).sum()) == hw[i]


# ---------------------------------------------------------------------------- conservation
def _check_conservation(t, A, B, iou_threshold=0.5):
    a_ids = {a["id"] for a in A["annotations"]}
    b_ids = {b["id"] for b in B["annotations"]}
    n = len(t["relation"])
    rows_a, rows_b = {}, {}
    for r in range(n):
        rel = t["relation"][r]
        assert rel in RELATIONS
        a, b = t["a_id"][r], t["b_id"][r]
        assert (a is None) == (rel == "added") and (b is None) == (rel == "removed")
        if a is not None:
            rows_a.setdefault(a, []).append(r)
        if b is not None:
            rows_b.setdefault(b, []).append(r)
        for col in ("iou", "iou_plain", "boundary_iou"):
            v = t[col][r]
            assert v is None or math.isnan(v) or 0.0 <= v <= 1.0, (col, v)
        if a is not None and b is not None:
            inter, aa, ba = t["intersection"][r], t["a_area"][r], t["b_area"][r]
            assert 0 <= inter <= min(aa, ba)
            union = aa + ba - inter
            if union > 0:
                assert t["iou_plain"][r] == pytest.approx(inter / union, abs=1e-12)
        if rel == "matched":
            assert t["a_category_id"][r] == t["b_category_id"][r] and t["iou_plain"][r] >= iou_threshold
        if rel == "class_changed":
            assert t["a_category_id"][r] != t["b_category_id"][r] and t["iou_plain"][r] >= iou_threshold
    assert set(rows_a) == a_ids, "A instances lost or invented"
    assert set(rows_b) == b_ids, "B instances lost or invented"
    # exactly once per role: more than one row only as the whole of a split (A) / merge (B)
    for ids, rows, whole in ((a_ids, rows_a, "split"), (b_ids, rows_b, "merged")):
        for i in ids:
            rs = rows[i]
            if len(rs) > 1:
                assert {t["relation"][r] for r in rs} == {whole}, (i, [t["relation"][r] for r in rs])
                assert len({t["group"][r] for r in rs}) == 1
    for part_rel, part_col in (("split", "b_id"), ("merged", "a_id")):
        groups = {}
        for r in range(n):
            if t["relation"][r] == part_rel:
                groups.setdefault(t["group"][r], []).append(t[part_col][r])
        whole_col, crowd_col = ("a_iscrowd", "b_iscrowd") if part_rel == "split" else ("b_iscrowd", "a_iscrowd")
        for g, parts in groups.items():
            assert g >= 0 and len(set(parts)) == len(parts)
            if len(parts) == 1:   # one part only: a crowd whole and an individual part
                r = next(r for r in range(n) if t["relation"][r] == part_rel and t["group"][r] == g)
                assert t[whole_col][r] and not t[crowd_col][r]


@HSET
@given(pair=coco_pair())
def test_compare_conserves_instances(pair):
    A, B = pair
    with tempfile.TemporaryDirectory() as d:
        pa, pb = _write(d, "a.json", A), _write(d, "b.json", B)
        c = cocodiff.compare(pa, pb)
        t = c.table.to_pydict()
        _check_conservation(t, A, B)
        # images only in A / resized: their A instances are removed, never matched
        size_b = {im["id"]: (im["width"], im["height"]) for im in B["images"]}
        size_a = {im["id"]: (im["width"], im["height"]) for im in A["images"]}
        for a in A["annotations"]:
            if size_b.get(a["image_id"]) != size_a[a["image_id"]]:
                rels = [t["relation"][r] for r in range(len(t["relation"])) if t["a_id"][r] == a["id"]]
                assert rels == ["removed"]
        # batch size does not change anything
        c1 = cocodiff.compare(pa, pb, batch_images=1)
        assert _table_bytes(_relabel_groups(c1.table)) == _table_bytes(_relabel_groups(c.table))
        # the optimal matching's total IoU is symmetric in A and B (iou_plain has no crowd rule)
        r = cocodiff.compare(pb, pa).table.to_pydict()
        tot = sum(v for v, rel in zip(t["iou_plain"], t["relation"]) if rel == "matched")
        tot_r = sum(v for v, rel in zip(r["iou_plain"], r["relation"]) if rel == "matched")
        assert tot == pytest.approx(tot_r, abs=1e-9)


# ---------------------------------------------------------------------------- RLE area / IoU
@st.composite
def _rles(draw, min_size=1, max_size=5):
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    cs = draw(st.lists(_counts(h * w), min_size=min_size, max_size=max_size))
    return h, w, cs


def _np_decode(counts, h, w):
    vals = np.arange(len(counts)) % 2
    return np.repeat(vals, counts).astype(np.uint8).reshape(w, h).T


@settings(max_examples=150, deadline=None)
@given(_rles())
def test_rle_area_equals_decoded_sum(x):
    h, w, cs = x
    rles = [{"size": [h, w], "counts": c} for c in cs]
    comp = [{"size": [h, w], "counts": _compress(c, h, w).encode()} for c in cs]
    m = cmask.decode(comp)
    assert m.shape == (h, w, len(cs))
    for k, c in enumerate(cs):
        ref = _np_decode(c, h, w)
        assert np.array_equal(m[:, :, k], ref)
        assert int(ref.sum()) == sum(c[1::2])
    assert cmask.area(comp).tolist() == m.reshape(-1, len(cs)).sum(axis=0).tolist()
    assert cmask.area(rles).tolist() == cmask.area(comp).tolist()
    # encode(decode(x)) gives back the canonical string
    enc = cmask.encode(m)
    assert cmask.area(enc).tolist() == cmask.area(comp).tolist()
    assert np.array_equal(cmask.decode(enc), m)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_iou_symmetric_and_bounded(data):
    h, w = data.draw(st.integers(1, 12), label="h"), data.draw(st.integers(1, 12), label="w")
    # canonical RLEs: with an empty run inside, pycocotools' IoU (and so ours, bit-identical)
    # disagrees with the decoded masks -- e.g. counts [0, 0, 0, 1] has self-IoU 0
    cd = data.draw(st.lists(_canonical_counts(h * w), min_size=1, max_size=4), label="dt")
    cg = data.draw(st.lists(_canonical_counts(h * w), min_size=1, max_size=4), label="gt")
    dt = [{"size": [h, w], "counts": _compress(c, h, w).encode()} for c in cd]
    gt = [{"size": [h, w], "counts": _compress(c, h, w).encode()} for c in cg]
    crowd0 = [0] * len(gt)
    m = cmask.iou(dt, gt, crowd0)
    mt = cmask.iou(gt, dt, [0] * len(dt))
    assert np.array_equal(m, mt.T)                      # exactly symmetric without crowds
    assert np.all((m >= 0) & (m <= 1))
    md, mg = cmask.decode(dt).astype(bool), cmask.decode(gt).astype(bool)
    crowd = data.draw(st.lists(st.integers(0, 1), min_size=len(gt), max_size=len(gt)), label="crowd")
    mc = cmask.iou(dt, gt, crowd)
    assert np.all((mc >= 0) & (mc <= 1))
    for i in range(len(dt)):
        for j in range(len(gt)):
            inter = int(np.sum(md[:, :, i] & mg[:, :, j]))
            union = int(md[:, :, i].sum()) if crowd[j] else int(np.sum(md[:, :, i] | mg[:, :, j]))
            exp = inter / union if union else 0.0
            assert mc[i, j] == pytest.approx(exp, abs=1e-12)
    self_iou = cmask.iou(dt, dt, [0] * len(dt))
    nonempty = md.reshape(-1, len(dt)).any(axis=0)
    assert np.all(np.diag(self_iou)[nonempty] == 1.0)


# ============================================================================ determinism
def _write_outputs(cmp, d):
    cmp.write(d)
    return (Path(d) / "matches.parquet").read_bytes(), (Path(d) / "summary.json").read_bytes()


@pytest.fixture(scope="module")
def tiny_twin(tmp_path_factory):
    from cocodiff.synth import write_pair
    return write_pair(tmp_path_factory.mktemp("twin"), "tiny", seed=11, b_parts=2)


def test_outputs_identical_across_threads(tiny_twin, tmp_path, monkeypatch):
    """Serial kernels (1 thread) vs multi-threaded ones (2 threads, thresholds lowered so the
    parallel paths run on a small input), at two batch sizes: byte-identical files."""
    from cocodiff import matching
    from cocodiff import rasterize as rz
    from cocodiff.engine._jit import get_threads, set_threads

    before = get_threads()
    a, b = tiny_twin["a"], tiny_twin["b"]
    try:
        ref = _write_outputs(cocodiff.compare(a, b, threads=1), tmp_path / "t1")
        assert len(ref[0]) > 0 and json.loads(ref[1])["relations"]["matched"] > 0
        ref7 = _write_outputs(cocodiff.compare(a, b, threads=1, batch_images=7), tmp_path / "t1b7")
        monkeypatch.setattr(matching, "PARALLEL_MIN_INSTANCES", 0)
        monkeypatch.setattr(rz, "PARALLEL_MIN_ROWS", 0)
        if set_threads(2) < 2:
            pytest.skip("Numba allows only one thread here")
        assert _write_outputs(cocodiff.compare(a, b, threads=2), tmp_path / "t2") == ref
        assert _write_outputs(cocodiff.compare(a, b, threads=2, batch_images=7), tmp_path / "t2b7") == ref7
    finally:
        set_threads(before)


def test_batch_size_changes_at_most_group_labels(tiny_twin, tmp_path):
    """Batch sizes 1 / 7 / 2000: identical summary.json, identical table up to group labels."""
    import pyarrow.parquet as pq
    a, b = tiny_twin["a"], tiny_twin["b"]
    ref = _write_outputs(cocodiff.compare(a, b, threads=1), tmp_path / "b2000")
    t_ref = pq.read_table(tmp_path / "b2000" / "matches.parquet")
    rels = json.loads(ref[1])["relations"]
    assert rels["split"] > 0 and rels["merged"] > 0      # the twin has both kinds of group
    for bs in (1, 7):
        out = _write_outputs(cocodiff.compare(a, b, threads=1, batch_images=bs), tmp_path / f"b{bs}")
        assert out[1] == ref[1]
        t = pq.read_table(tmp_path / f"b{bs}" / "matches.parquet")
        assert _table_bytes(_relabel_groups(t)) == _table_bytes(_relabel_groups(t_ref))


def test_outputs_identical_across_batch_sizes(tiny_twin, tmp_path):
    a, b = tiny_twin["a"], tiny_twin["b"]
    ref = _write_outputs(cocodiff.compare(a, b, threads=1), tmp_path / "b2000")
    assert _write_outputs(cocodiff.compare(a, b, threads=1, batch_images=1), tmp_path / "b1") == ref


def test_real_pair_identical_across_batches(tmp_path):
    a = DATA / "coco2014_val100" / "instances_val2014_100.json"
    b = DATA / "derived" / "val2014_100_fakesegm_as_annotations.json"
    ref = _write_outputs(cocodiff.compare(a, b, threads=1), tmp_path / "x")
    assert _write_outputs(cocodiff.compare(a, b, threads=1, batch_images=3), tmp_path / "y") == ref
    assert _write_outputs(cocodiff.compare(a, b, threads=1, batch_images=1, mode="optimal"),
                          tmp_path / "z") == ref


@pytest.fixture
def two_threads(monkeypatch):
    """Two Numba threads and the parallel paths on for any input size; the thread count restored."""
    from cocodiff import matching
    from cocodiff.engine._jit import get_threads, set_threads
    before = get_threads()
    monkeypatch.setattr(matching, "PARALLEL_MIN_INSTANCES", 0)
    try:
        if set_threads(2) < 2:
            pytest.skip("Numba allows only one thread here")
        yield
    finally:
        set_threads(before)


def test_batches_on_threads_identical(tiny_twin, tmp_path, monkeypatch, two_threads):
    """Whole batches run at once on the pool's threads (serial kernels each, their own scratch):
    byte-identical to one batch at a time on one thread, and the stage times are kept."""
    import threading

    from cocodiff import matching

    a, b = tiny_twin["a"], tiny_twin["b"]
    ref = _write_outputs(cocodiff.compare(a, b, threads=1, batch_images=3), tmp_path / "t1")
    seen = []
    orig = matching._compare_batch

    def spy(inp, u0, u1, scratch):
        seen.append((threading.current_thread().name, scratch.nt))
        return orig(inp, u0, u1, scratch)

    monkeypatch.setattr(matching, "_compare_batch", spy)
    c = cocodiff.compare(a, b, threads=2, batch_images=3)
    assert len(seen) >= 2 * matching.BATCHES_PER_THREAD_MIN
    assert all(nt == 1 and name.startswith("cocodiff") for name, nt in seen)
    assert _write_outputs(c, tmp_path / "t2") == ref
    assert c.timings["rasterise"]["cpu"] > 0 and c.timings["boundary_iou"]["wall"] > 0
    # too few batches per thread: one at a time, on both threads
    seen.clear()
    c = cocodiff.compare(a, b, threads=2)
    assert [nt for _, nt in seen] == [2] and _write_outputs(c, tmp_path / "t3")[1] == ref[1]


def test_batches_on_threads_error_stops_the_rest(tiny_twin, monkeypatch, two_threads):
    """A batch that fails on a worker thread: its error reaches the caller, batches not yet
    started never run, and nothing is left running afterwards."""
    import time

    from cocodiff import matching

    a, b = tiny_twin["a"], tiny_twin["b"]
    started = []
    orig = matching._compare_batch

    def failing(inp, u0, u1, scratch):
        started.append(u0)
        if len(started) == 2:
            raise RuntimeError("batch failed")
        time.sleep(0.05)
        return orig(inp, u0, u1, scratch)

    monkeypatch.setattr(matching, "_compare_batch", failing)
    with pytest.raises(RuntimeError, match="batch failed"):
        cocodiff.compare(a, b, threads=2, batch_images=1)
    time.sleep(0.3)
    after = len(started)
    time.sleep(0.3)
    assert len(started) == after          # nothing still running or starting
    n_batches = len(json.loads(open(a).read())["images"])   # batch_images=1: a batch per image (at least)
    assert n_batches > 20 and after <= 8  # the rest were cancelled, not run
