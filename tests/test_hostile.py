"""Hostile inputs (issue 18, items 3-5): duplicate JSON keys, deep nesting, memory bombs.

Every case ends in exit status 2 with one line naming the file (and the annotation / image /
category id and the field or key where there is one): never a traceback, a hang, an unbounded
allocation or a silently dropped instance. The memory cases run in a child process under a 3 GiB
address-space limit and report the child's peak RSS (``VmHWM``); their files are small on disk.
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import cocodiff
from cocodiff import archive, loader
from cocodiff.cli import main
from cocodiff.engine import jsonscan, scanparts
from cocodiff.errors import InputError

CORPUS = Path(__file__).resolve().parent / "corpus"

IMAGES = [{"id": 1, "width": 100, "height": 100, "file_name": "a.jpg"},
          {"id": 2, "width": 50, "height": 40, "file_name": "b.jpg"}]
CATS = [{"id": 1, "name": "cat", "supercategory": "animal"}]


def _ann(aid, head=None, seg="[[10, 10, 20, 10, 20, 20]]"):
    """One annotation object as text; ``head``: raw text put first (e.g. duplicate keys)."""
    body = (f'"image_id": 1, "category_id": 1, "iscrowd": 0, "area": 50.0, "bbox": [10, 10, 10, 10], '
            f'"segmentation": {seg}')
    return "{" + (head if head is not None else f'"id": {aid}') + ", " + body + "}"


def _doc(anns, images=None, cats=None, extra=""):
    images = json.dumps(IMAGES) if images is None else images
    cats = json.dumps(CATS) if cats is None else cats
    return '{"images": ' + images + ', "categories": ' + cats + ', "annotations": [' + ", ".join(anns) + "]" \
        + extra + "}"


def _cli(capsys, *args):
    """``cocodiff stats ARGS`` in process: (exit status, the one stderr line or None)."""
    rc = main(["-q", "stats", *map(str, args)])
    err = capsys.readouterr().err.strip().splitlines()
    if rc == 2:
        assert len(err) == 1, err
        assert err[0].startswith("cocodiff: error: "), err
        return rc, err[0]
    return rc, None


def _both_paths(monkeypatch, path, **kw):
    """The error text of the scanner path and of the msgspec path (asserted equal)."""
    out = []
    for fast in (True, False):
        monkeypatch.setattr(loader, "_use_scanner", fast)
        with pytest.raises(InputError) as e:
            cocodiff.load(path, cache=False, **kw)
        out.append(str(e.value))
    assert out[0] == out[1]
    return out[0]


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# ------------------------------------------------------------------------- item 3: duplicate keys
DUP_CASES = {
    # name: (document, fragments of the one line)
    "top_annotations": (_doc([_ann(1), _ann(2)], extra=', "annotations": [' + _ann(3) + "]"),
                        ["duplicate key 'annotations'", "top-level"]),
    "top_info": ('{"info": 1, ' + _doc([_ann(1)])[1:-1] + ', "info": 2}', ["duplicate key 'info'", "top-level"]),
    "ann_id": (_doc([_ann(0, head='"id": 1, "id": 7')]), ["annotation 1", "field 'id'", "duplicate key 'id'"]),
    "ann_id_escaped": (_doc([_ann(0, head='"id": 1, "\\u0069d": 7')]), ["annotation 1", "duplicate key 'id'"]),
    "ann_image_id": (_doc([_ann(5, head='"id": 5, "image_id": 2')]), ["annotation 5", "duplicate key 'image_id'"]),
    "ann_unknown": (_doc([_ann(5, head='"id": 5, "note": 1, "note": 2')]),
                    ["annotation 5", "field 'note'", "duplicate key 'note'"]),
    "ann_nested": (_doc([_ann(5, head='"id": 5, "attributes": {"a": 1, "b": {"c": 1, "c": 2}}')]),
                   ["annotation 5", "field 'attributes.b.c'", "duplicate key 'c'"]),
    "rle_counts": (_doc([_ann(6, seg='{"size": [100, 100], "counts": [10000], "counts": [0, 10000]}')]),
                   ["annotation 6", "field 'segmentation.counts'", "duplicate key 'counts'"]),
    "rle_unknown": (_doc([_ann(6, seg='{"size": [100, 100], "x": 1, "counts": [10000], "x": 2}')]),
                    ["annotation 6", "field 'segmentation.x'", "duplicate key 'x'"]),
    "image": (_doc([_ann(1)], images='[{"id": 1, "width": 100, "height": 100, "height": 50}]'),
              ["image 1", "field 'height'", "duplicate key 'height'"]),
    "image_second": (_doc([_ann(1)], images='[{"id": 1, "width": 100, "height": 100}, '
                                            '{"id": 2, "file_name": "a", "width": 1, "file_name": "b", "height": 1}]'),
                     ["image 2", "duplicate key 'file_name'"]),
    "category": (_doc([_ann(1)], cats='[{"id": 1, "name": "cat", "name": "dog"}]'),
                 ["category 1", "field 'name'", "duplicate key 'name'"]),
    "info_nested": ('{"info": {"v": [1, {"a": 1, "a": 2}]}, ' + _doc([_ann(1)])[1:],
                    ["field 'info.v[1].a'", "duplicate key 'a'"]),
    "big_object": ('{"info": {' + ", ".join(f'"k{i}": {i}' for i in range(300)) + ', "k17": 0}, '
                   + _doc([_ann(1)])[1:], ["field 'info.k17'", "duplicate key 'k17'"]),
}


@pytest.mark.parametrize("case", sorted(DUP_CASES))
def test_duplicate_key_rejected(tmp_path, monkeypatch, capsys, case):
    text, frags = DUP_CASES[case]
    p = _write(tmp_path, f"{case}.json", text)
    json.loads(text)   # valid JSON: only the repeated key is wrong
    msg = _both_paths(monkeypatch, p)
    monkeypatch.setattr(loader, "_use_scanner", True)
    rc, line = _cli(capsys, p)
    assert rc == 2 and line == "cocodiff: error: " + msg
    for frag in [str(p)] + frags:
        assert frag in line, (frag, line)
    # the fast scanner never accepts a file with a repeated key
    st, _, _ = jsonscan.scan_coco(np.frombuffer(text.encode(), np.uint8))
    assert st != 0


def test_duplicate_key_in_results_file(tmp_path, monkeypatch, capsys):
    gt = _write(tmp_path, "gt.json", _doc([_ann(1)]))
    res = _write(tmp_path, "res.json", '[{"image_id": 1, "category_id": 1, "score": 0.5, "score": 0.9, '
                                       '"bbox": [1, 2, 3, 4]}]')
    msg = _both_paths(monkeypatch, res, like=cocodiff.load(gt, cache=False))
    assert "annotation #1" in msg and "duplicate key 'score'" in msg and str(res) in msg
    rc, line = _cli(capsys, gt, res)
    assert rc == 2 and "duplicate key 'score'" in line


def test_same_keys_in_different_objects_are_fine(tmp_path, monkeypatch):
    """Repeats across objects (every annotation has an 'id') and keys that only look alike."""
    anns = [_ann(1, head='"id": 1, "a": {"id": 1, "x": {"id": 2}}, "id ": 3, "Id": 4'), _ann(2)]
    p = _write(tmp_path, "ok.json", '{"info": {"id": 1}, ' + _doc(anns)[1:])
    for fast in (True, False):
        monkeypatch.setattr(loader, "_use_scanner", fast)
        ds = cocodiff.load(p, cache=False)
        assert sorted(ds.ann_id.tolist()) == [1, 2]


def test_duplicate_key_when_scanned_in_parts(tmp_path, monkeypatch):
    """The top-level keys before the annotations list (part 0) and after it (the tail) are one
    object: a key in both is a duplicate."""
    from cocodiff.engine import _jit
    anns = [_ann(i) for i in range(1, 400)]
    text = '{"info": 1, ' + _doc(anns)[1:-1] + ', "info": 2}'
    p = _write(tmp_path, "parts.json", text)
    monkeypatch.setattr(loader, "SCAN_PART_MIN_BYTES", 2048)
    monkeypatch.setattr(_jit, "get_threads", lambda: 3)
    buf = np.frombuffer(text.encode(), np.uint8)
    assert len(scanparts.split_points(buf, 6)) >= 2
    st, _, _ = loader._scan(buf, False, 3)
    assert st != 0
    msg = _both_paths(monkeypatch, p)
    assert "duplicate key 'info'" in msg


# ------------------------------------------------------------------------- item 4: deep nesting
def test_deep_segmentation(tmp_path, monkeypatch, capsys):
    n = 10 ** 6
    p = _write(tmp_path, "deep_seg.json", _doc([_ann(3, seg="[" * n + "]" * n)]))
    msg = _both_paths(monkeypatch, p)
    rc, line = _cli(capsys, p)
    assert rc == 2 and line == "cocodiff: error: " + msg
    for frag in (str(p), "annotation 3", "field 'segmentation", "nested too deeply", str(loader.MAX_NESTING)):
        assert frag in line, (frag, line)


def test_deep_image_field(tmp_path, monkeypatch, capsys):
    n = 10 ** 5
    images = '[{"id": 1, "width": 100, "height": 100, "x": ' + "[" * n + "]" * n + "}]"
    p = _write(tmp_path, "deep_img.json", _doc([_ann(1)], images=images))
    msg = _both_paths(monkeypatch, p)
    rc, line = _cli(capsys, p)
    assert rc == 2 and line == "cocodiff: error: " + msg
    for frag in (str(p), "image 1", "field 'x", "nested too deeply"):
        assert frag in line, (frag, line)


@pytest.mark.parametrize("where", ["info", "annotation", "results"])
def test_nesting_limit_is_exact(tmp_path, monkeypatch, where):
    """A document nested exactly MAX_NESTING deep loads (both paths); one level more is refused."""
    lim = loader.MAX_NESTING
    gt = _write(tmp_path, "gt.json", _doc([_ann(1)]))
    like = cocodiff.load(gt, cache=False) if where == "results" else None
    for extra in (0, 1):
        if where == "info":    # {"info": [[...]]}: the top object is level 1
            k = lim - 1 + extra
            text = '{"info": ' + "[" * k + "]" * k + ", " + _doc([_ann(1)])[1:]
        elif where == "annotation":   # {"annotations": [{"x": [[...]]}]}: the annotation is level 3
            k = lim - 3 + extra
            text = _doc([_ann(1, head='"id": 1, "x": ' + "[" * k + "]" * k)])
        else:   # [{"x": [[...]]}]: the result is level 2
            k = lim - 2 + extra
            text = '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "x": ' + "[" * k + "]" * k + "}]"
        p = _write(tmp_path, f"{where}{extra}.json", text)
        if not extra:
            for fast in (True, False):
                monkeypatch.setattr(loader, "_use_scanner", fast)
                assert cocodiff.load(p, cache=False, like=like).n_instances == 1
        else:
            msg = _both_paths(monkeypatch, p, like=like)
            assert "nested too deeply" in msg and str(p) in msg
            if where != "info":
                assert "annotation 1" in msg or "annotation #1" in msg


# ------------------------------------------------------------------------- item 5: memory
_CHILD = r"""
import os, resource, sys
lim = int(os.environ["HOSTILE_AS_LIMIT"])
resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
from cocodiff.cli import main
rc = main(sys.argv[1:])
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        open(os.environ["HOSTILE_HWM_FILE"], "w").write(line.split()[1])
sys.exit(rc)
"""


def _child(tmp_path, *args, limit=3 << 30, timeout=300):
    """``cocodiff ARGS`` in a child under an address-space limit: (exit status, stderr lines,
    peak RSS in MiB)."""
    hwm = tmp_path / "hwm.txt"
    env = dict(os.environ, HOSTILE_AS_LIMIT=str(limit), HOSTILE_HWM_FILE=str(hwm),
               COCODIFF_COMPILE_NOTICE="0")
    r = subprocess.run([sys.executable, "-c", _CHILD, "-q", *map(str, args)], capture_output=True,
                       text=True, env=env, timeout=timeout)
    peak = int(hwm.read_text()) / 1024 if hwm.exists() else float("nan")
    return r.returncode, r.stderr.strip().splitlines(), peak


def _one_line(lines, *frags):
    assert len(lines) == 1, lines
    assert lines[0].startswith("cocodiff: error: "), lines
    for f in frags:
        assert f in lines[0], (f, lines[0])


def _raw_zip(path, members):
    """A zip of ``(name, raw deflate bytes, crc, size)`` members, written by hand so that one
    compressed stream is reused for many members (no compressing of gigabytes in a test)."""
    out = bytearray()
    central = bytearray()
    for name, comp, crc, size in members:
        nm = name.encode()
        off = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(comp), size, len(nm), 0) + nm
        out += comp
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(comp), size,
                               len(nm), 0, 0, 0, 0, 0, off) + nm
    cd_off = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), cd_off, 0)
    Path(path).write_bytes(bytes(out))


def _deflated_zeros(nbytes, byte=b"\0"):
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = byte * (1 << 20)
    parts = []
    crc = 0
    for _ in range(nbytes >> 20):
        parts.append(co.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    parts.append(co.flush())
    return b"".join(parts), crc


def test_zigzag_ring_is_refused(tmp_path):
    """200k points zigzagging across a 1000 x 1000 image: 2e8 column crossings (the rasteriser's
    scratch alone would be ~5 GB); refused at load with the annotation and ring named."""
    n = 200_000
    xs = np.where(np.arange(n) % 2 == 0, 0.5, 999.5)
    ys = np.arange(n) * (999.0 / n)
    ring = np.stack([xs, ys], 1).ravel()
    seg = "[[" + ",".join(f"{v:.3f}" for v in ring) + "]]"
    images = '[{"id": 1, "width": 1000, "height": 1000}]'
    p = _write(tmp_path, "zigzag.json", _doc([_ann(4, seg=seg)], images=images))
    assert p.stat().st_size < 4 << 20
    rc, lines, peak = _child(tmp_path, "stats", "--raster-area", p)
    assert rc == 2, lines
    _one_line(lines, str(p), "annotation 4", "field 'segmentation[0]'")
    assert peak < 1024, peak


def test_zigzag_within_bounds_loads(tmp_path):
    """A many-vertex ring that wiggles over a few columns only is fine (its crossings are few)."""
    n = 20_000
    xs = np.where(np.arange(n) % 2 == 0, 10.0, 12.0)
    ys = np.arange(n) * (90.0 / n)
    seg = "[[" + ",".join(f"{v:.4f}" for v in np.stack([xs, ys], 1).ravel()) + "]]"
    p = _write(tmp_path, "wiggle.json", _doc([_ann(4, seg=seg)]))
    ds = cocodiff.load(p, cache=False)
    from cocodiff.rasterize import raster_areas
    assert raster_areas(ds, threads=1)[0] > 0


def _zigzag(n, w, h, x0=0.3, x1=None, seed=0):
    rng = np.random.default_rng(seed)
    x1 = w - 0.3 if x1 is None else x1
    xs = np.where(np.arange(n) % 2 == 0, x0, x1) + rng.uniform(-0.2, 0.2, n)
    ys = rng.uniform(0, h, n)
    return np.stack([xs, ys], 1)


def test_run_length_bound_capped_at_image_size():
    """A polygon mask has at most h*w + 1 runs: the bound given to the kernels is capped there,
    and the kernels fill a capped bound without writing past it (output = the ring's own RLE)."""
    from cocodiff.engine import raster
    from cocodiff.engine.merge import rle_merge
    h, w = 7, 9
    rings = [_zigzag(3001, w, h, seed=1), _zigzag(2000, w, h, seed=2), _zigzag(6, w, h, seed=3)]
    xy = np.concatenate(rings)
    ring_offsets = np.r_[0, np.cumsum([len(r) for r in rings])].astype(np.int64)
    inst_ring_offsets = np.array([0, 1, 3], np.int64)    # instance 0: ring 0; instance 1: rings 1 and 2
    hh = np.array([h, h], np.int64)
    ww = np.array([w, w], np.int64)
    rows = np.array([0, 1], np.int64)
    co = np.zeros(3, np.int64)
    kind = np.zeros(2, np.int8)
    bnd, mpts, mrb = raster.instance_bounds(xy, ring_offsets, inst_ring_offsets, co, kind, ww, rows, hh)
    assert (bnd <= h * w + 1).all() and (mrb > h * w + 1).all()   # the uncapped bound is far larger
    want0 = raster.poly_to_rle(rings[0].ravel(), h, w)
    r1 = [raster.poly_to_rle(r.ravel(), h, w) for r in rings[1:]]
    want1 = rle_merge(np.concatenate(r1), np.r_[0, np.cumsum([len(r) for r in r1])].astype(np.int64), False)
    counts = np.zeros(0, np.uint32)
    for fn in (raster.rasterize_batch, raster.rasterize_batch_parallel):
        c, o = fn(xy, ring_offsets, inst_ring_offsets, counts, co, kind, hh, ww, rows)
        assert c[o[0]:o[1]].tolist() == want0.tolist()
        assert c[o[1]:o[2]].tolist() == want1.tolist()
    # the range kernel given the capped bounds: each row stays inside its slot
    out = np.full(int(bnd.sum()) + 8, 0xDEADBEEF, np.uint32)
    lens = np.zeros(2, np.int64)
    end = raster.rasterize_range(xy, ring_offsets, inst_ring_offsets, counts, co, kind, hh, ww, rows, 0, 2,
                                  bnd, 0, out, lens)
    assert (lens <= bnd).all() and end == lens.sum()
    assert (out[int(bnd.sum()):] == 0xDEADBEEF).all()
    assert out[:lens[0]].tolist() == want0.tolist()
    assert out[lens[0]:end].tolist() == want1.tolist()


def test_zip_of_large_zero_members(tmp_path):
    """The issue's zip: 30 members of 255 MiB of zeros in a ~7.8 MB file. Each member is under
    the old per-member limits; the policy refuses it before decompressing anything."""
    comp, crc = _deflated_zeros(255 << 20)
    zp = tmp_path / "bomb.zip"
    _raw_zip(zp, [(f"m{i:02d}.json", comp, crc, 255 << 20) for i in range(30)])
    assert zp.stat().st_size < 10 << 20
    rc, lines, peak = _child(tmp_path, "stats", zp)
    assert rc == 2, lines
    _one_line(lines, f"{zp}:m00.json", "ratio")
    assert peak < 512, peak
    with pytest.raises(archive.UnsafeArchiveError, match="ratio"):   # the same policy when extracting
        archive.safe_extract(zp, tmp_path / "dest")


def test_zip_total_over_many_small_members(tmp_path):
    """600 members of 1 MiB of zeros: none over the ratio's size threshold, but the archive as a
    whole inflates ~1000x: refused on the total, before any member is read."""
    comp, crc = _deflated_zeros(1 << 20)
    zp = tmp_path / "many.zip"
    _raw_zip(zp, [(f"m{i:03d}.json", comp, crc, 1 << 20) for i in range(600)])
    rc, lines, peak = _child(tmp_path, "stats", zp)
    assert rc == 2, lines
    _one_line(lines, str(zp), "ratio")
    assert peak < 300, peak
    with pytest.raises(archive.UnsafeArchiveError, match="ratio"):
        archive.safe_extract(zp, tmp_path / "dest")


def test_zip_total_size_bound(tmp_path, monkeypatch):
    """The total of the members' declared sizes is bounded (not only each member's)."""
    a = json.loads((CORPUS / "ok_base.json").read_text())
    b = json.loads(json.dumps(a))
    for ann in b["annotations"]:
        ann["id"] += 100
    zp = tmp_path / "two.zip"
    with zipfile.ZipFile(zp, "w") as z:
        z.writestr("a.json", json.dumps(a))
        z.writestr("b.json", json.dumps(b))
    assert cocodiff.load(zp, cache=False).n_instances == 6
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", len(json.dumps(a)) + 10)   # the loader reads the policy there
    with pytest.raises(InputError, match="in all") as e:
        cocodiff.load(zp, cache=False)
    assert str(zp) in str(e.value)


def test_one_policy_for_loader_and_extraction():
    assert loader.MAX_RATIO == archive.MAX_RATIO == archive.DEFAULT_MAX_RATIO
    assert loader.RATIO_MIN_BYTES == archive.RATIO_MIN_BYTES
    assert loader.MAX_TOTAL_BYTES == archive.MAX_TOTAL_BYTES == archive.DEFAULT_MAX_BYTES
    assert loader.MAX_MEMBER_BYTES == archive.MAX_MEMBER_BYTES


def test_gzip_of_spaces_refused_while_streaming(tmp_path):
    """5 GiB of spaces in a ~5 MB gzip (one 16 MiB member repeated): refused on its ratio after
    a few MiB, not after reading gigabytes."""
    import gzip
    member = gzip.compress(b" " * (16 << 20), compresslevel=9)
    gz = tmp_path / "spaces.json.gz"
    with open(gz, "wb") as f:
        for _ in range(320):
            f.write(member)
    assert gz.stat().st_size < 8 << 20
    rc, lines, peak = _child(tmp_path, "stats", gz)
    assert rc == 2, lines
    _one_line(lines, str(gz), "ratio")
    assert peak < 512, peak


def test_gzip_within_policy_loads(tmp_path):
    import gzip
    text = (CORPUS / "ok_base.json").read_text()
    gz = tmp_path / "ok.json.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    assert cocodiff.load(gz, cache=False).n_instances == 3


def test_dev_zero_refused(tmp_path):
    rc, lines, peak = _child(tmp_path, "stats", "/dev/zero", timeout=60)
    assert rc == 2, lines
    _one_line(lines, "/dev/zero")
    assert peak < 512, peak


def test_fifo_input_is_read(tmp_path, capsys):
    """A pipe (e.g. ``<(zcat x.json.gz)``) is still an input: streamed under the same cap."""
    fifo = tmp_path / "in.json"
    os.mkfifo(fifo)
    text = (CORPUS / "ok_base.json").read_bytes()

    def writer():
        with open(fifo, "wb") as f:
            f.write(text)
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    rc = main(["-q", "stats", str(fifo), "--json"])
    out = capsys.readouterr().out
    t.join(10)
    assert rc == 0 and json.loads(out)["datasets"][0]["instances"] == 3


def test_fifo_of_garbage_stops_early(tmp_path, capsys):
    """A stream whose bytes cannot be JSON is refused at once (not read to its end or the cap)."""
    fifo = tmp_path / "junk.json"
    os.mkfifo(fifo)
    stop = threading.Event()

    def writer():
        try:
            with open(fifo, "wb") as f:
                while not stop.is_set():
                    f.write(b"\x00" * (1 << 20))
        except (BrokenPipeError, OSError):
            pass
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        rc, line = _cli(capsys, fifo)
    finally:
        stop.set()
    assert rc == 2 and str(fifo) in line


@pytest.mark.parametrize("where", ["annotation", "rle"])
def test_scanner_unknown_keys_many_and_repeated(tmp_path, monkeypatch, where):
    """Unknown keys are filtered by a few bits and compared exactly only when a bit repeats:
    60 distinct keys (bits must collide) are accepted by the scanner; any one of them repeated,
    first, middle or last, is a bail and the slow path's error."""
    keys = [f"k{i}" for i in range(60)]
    for dup in (None, 0, 31, 59):
        ks = keys + ([keys[dup]] if dup is not None else [])
        body = ", ".join(f'"{k}": [{i}, {{"v": "{k}"}}]' for i, k in enumerate(ks))
        if where == "annotation":
            text = _doc([_ann(9, head='"id": 9, ' + body)])
        else:
            text = _doc([_ann(9, seg='{"size": [100, 100], ' + body + ', "counts": [10000]}')])
        st, _, _ = jsonscan.scan_coco(np.frombuffer(text.encode(), np.uint8))
        p = _write(tmp_path, f"u{dup}.json", text)
        if dup is None:
            assert st == 0
            assert cocodiff.load(p, cache=False).n_instances == 1
        else:
            assert st != 0
            msg = _both_paths(monkeypatch, p)
            assert f"duplicate key '{keys[dup]}'" in msg and "annotation 9" in msg
