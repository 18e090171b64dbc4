"""`cocodiff export`: chosen instances of a compare output as COCO files, checked with pycocotools."""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import cocodiff
import numpy as np
import pandas as pd
import pytest
from cocodiff import export as ex
from cocodiff import synth
from cocodiff.cli import main
from pycocotools.coco import COCO  # the test oracle

DATA = Path(__file__).resolve().parent.parent / "data"
REAL_A = DATA / "coco2014_val100" / "instances_val2014_100.json"
REAL_B = DATA / "derived" / "val2014_100_fakesegm_as_annotations.json"
REAL_RES = DATA / "coco2014_val100" / "instances_val2014_fakesegm100_results.json"


def _coco(path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def _compare(a, b, out, res=False):
    A = cocodiff.load(a)
    B = cocodiff.load(b, like=A if res else None)
    cocodiff.compare(A, B, progress=False).write(out)
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    p = synth.write_pair(d, "tiny", seed=0)
    return {"a": p["a"], "b": p["b"], "out": _compare(p["a"], p["b"], d / "out")}


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    d = tmp_path_factory.mktemp("real")
    return {"a": REAL_A, "b": REAL_B, "out": _compare(REAL_A, REAL_B, d / "out")}


def _table(out):
    return pd.read_parquet(Path(out) / "matches.parquet")


def _ids(rows, side):
    return set(rows[f"{side}_id"].dropna().astype("int64").tolist())


def _check_export(dest, src_a, src_b, table, rows, results_b=False):
    """The export in ``dest`` holds exactly the instances of ``rows`` per side, each as the input
    has it (same mask, same fields) with the right attributes; images and categories kept."""
    for side, src in (("a", src_a), ("b", src_b)):
        other = "b" if side == "a" else "a"
        got = _coco(Path(dest) / f"{side}.json")
        if results_b and side == "b":
            orig = _coco(src_a).loadRes(str(src))
            with open(src) as f:
                raw = {i + 1: a for i, a in enumerate(json.load(f))}
        else:
            orig = _coco(src)
            raw = {a["id"]: a for a in json.loads(Path(src).read_text())["annotations"]}
        assert set(got.anns) == _ids(rows, side), side
        assert got.dataset["categories"] == orig.dataset["categories"]
        sel_imgs = set(rows.loc[rows[f"{side}_id"].notna(), "image_id"].tolist())
        assert set(got.imgs) == sel_imgs
        for i in sel_imgs:
            assert got.imgs[i] == orig.imgs[i]
        for aid, ann in got.anns.items():
            r1, r0 = got.annToRLE(ann), orig.annToRLE(orig.anns[aid])
            assert r1["counts"] == r0["counts"] and list(r1["size"]) == list(r0["size"]), (side, aid)
            plain = {k: v for k, v in ann.items() if k != "attributes"}
            want = dict(raw[aid])
            if results_b and side == "b":
                want.setdefault("id", aid)
                want.setdefault("iscrowd", 0)
            assert plain == want, (side, aid)
            mine = table[table[f"{side}_id"] == aid]
            at = ann["attributes"]
            assert at["relation"] == mine["relation"].iloc[0]
            assert at["group"] == int(mine["group"].iloc[0])
            assert set(at["counterpart"]) == _ids(mine, other)
            assert at["counterpart"] == sorted(at["counterpart"])
            if at["group"] >= 0:
                assert at["iou"] == pytest.approx(mine["group_iou"].iloc[0])
            elif at["relation"] in ("removed", "added"):
                assert at["iou"] is None and at["counterpart"] == []
            else:
                assert at["iou"] == pytest.approx(mine["iou"].iloc[0])


@pytest.mark.parametrize("relations", [["split", "class_changed"], ["merged"], ["removed", "added", "matched"]])
def test_tiny_relations_roundtrip(tiny, tmp_path, relations, capsys):
    dest = tmp_path / "exp"
    rc = main(["export", str(tiny["out"]), "-o", str(dest), "--relation", *relations])
    assert rc == 0
    line = capsys.readouterr().out
    assert line.count("\n") == 1 and str(dest / "a.json") in line and str(dest / "b.json") in line
    t = _table(tiny["out"])
    rows = t[t["relation"].isin(relations)]
    assert len(rows), "the twin has rows of these relations"
    _check_export(dest, tiny["a"], tiny["b"], t, rows)
    if "split" in relations:   # a split whole points at all of its parts
        b = _coco(dest / "a.json")
        wholes = [a for a in b.anns.values() if a["attributes"]["relation"] == "split"]
        assert wholes and all(len(a["attributes"]["counterpart"]) >= 2 for a in wholes)


@pytest.mark.parametrize("relations", [["class_changed"], ["removed", "added"]])
def test_real_relations_roundtrip(real, tmp_path, relations):
    dest = tmp_path / "exp"
    r = ex.export(real["out"], dest, relations=relations)
    t = _table(real["out"])
    rows = t[t["relation"].isin(relations)]
    assert r["rows"] == len(rows)
    assert r["a"]["instances"] == len(_ids(rows, "a")) and r["b"]["instances"] == len(_ids(rows, "b"))
    _check_export(dest, real["a"], real["b"], t, rows)


def test_class_filter_by_name(real, tmp_path):
    dest = tmp_path / "exp"
    assert main(["export", str(real["out"]), "-o", str(dest), "--class", "dog", "person", "-q"]) == 0
    t = _table(real["out"])
    rows = t[t["a_category_id"].isin([1, 18]) | t["b_category_id"].isin([1, 18])]
    assert len(rows) and len(rows) < len(t)
    _check_export(dest, real["a"], real["b"], t, rows)


def test_class_filter_takes_whole_groups(tiny, tmp_path):
    t = _table(tiny["out"])
    cats = {c["id"]: c["name"] for c in json.loads(Path(tiny["a"]).read_text())["categories"]}
    cid = int(t.loc[t["relation"] == "merged", "b_category_id"].iloc[0])
    dest = tmp_path / "exp"
    ex.export(tiny["out"], dest, classes=[cats[cid]], relations=["split", "merged"])
    hit = t["relation"].isin(["split", "merged"]) & ((t["a_category_id"] == cid) | (t["b_category_id"] == cid))
    groups = set(t.loc[hit, "group"])
    rows = t[t["group"].isin(groups) & (t["group"] >= 0)]
    _check_export(dest, tiny["a"], tiny["b"], t, rows)
    # by id as well as by name; filters combine with AND
    first = int(rows["image_id"].min())
    r = ex.export(tiny["out"], tmp_path / "byid", classes=[cid], relations=["split", "merged"], images=[first])
    assert r["rows"] == int((rows["image_id"] == first).sum())


def test_results_list_as_b(tmp_path):
    out = _compare(REAL_A, REAL_RES, tmp_path / "out", res=True)
    dest = tmp_path / "exp"
    ex.export(out, dest, relations=["class_changed", "matched"], images=[139, 285, 632, 724, 776])
    t = _table(out)
    rows = t[t["relation"].isin(["class_changed", "matched"]) & t["image_id"].isin([139, 285, 632, 724, 776])]
    assert len(rows)
    _check_export(dest, REAL_A, REAL_RES, t, rows, results_b=True)


def test_zip_input_and_overrides(tiny, tmp_path):
    """B given again as a .zip of its JSON (--b), A from the summary."""
    z = tmp_path / "b.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(tiny["b"], "part/b.json")
    dest = tmp_path / "exp"
    assert main(["export", str(tiny["out"]), "-o", str(dest), "--relation", "merged", "--b", str(z), "-q"]) == 0
    t = _table(tiny["out"])
    _check_export(dest, tiny["a"], tiny["b"], t, t[t["relation"] == "merged"])


def test_inputs_found_from_another_directory(tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(REAL_A, work / "a.json")
    shutil.copy(REAL_B, work / "b.json")
    monkeypatch.chdir(work)
    _compare("a.json", "b.json", "out")
    assert main(["export", "out", "-o", "exp", "--relation", "removed", "-q"]) == 0
    monkeypatch.chdir(tmp_path)   # compare recorded absolute paths: found from elsewhere too
    assert main(["export", "work/out", "-o", "exp", "-q"]) == 0
    (work / "a.json").rename(work / "a_moved.json")   # an input moved since: one line, exit 2
    assert main(["export", "work/out", "-o", "exp2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--a" in err[0] and "a.json" in err[0]
    assert main(["export", "work/out", "-o", "exp", "--a", "work/a_moved.json", "--b", "work/b.json", "-q"]) == 0


@pytest.mark.parametrize("argv, words", [
    (["--relation", "spilt"], ["unknown relation 'spilt'", "class_changed"]),
    (["--relation", "split,nope"], ["unknown relation 'nope'"]),
    (["--class", "unicorn"], ["unknown class 'unicorn'"]),
    (["--class", "4242"], ["unknown class '4242'"]),
    (["--image", "x1"], ["--image", "'x1'"]),
    (["--image", "123456789"], ["unknown image id 123456789"]),
    (["--a", "no/such/a.json"], ["no/such/a.json", "not found"]),
])
def test_bad_input_one_line_exit_2(real, tmp_path, capsys, argv, words):
    dest = tmp_path / "exp"
    assert main(["export", str(real["out"]), "-o", str(dest), *argv]) == 2
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cocodiff: error: "), cap.err
    for w in words:
        assert w in lines[0]
    assert not dest.exists() or not any(dest.iterdir())
    assert cap.out == ""


def test_missing_table_exit_2(tmp_path, capsys):
    assert main(["export", str(tmp_path), "-o", str(tmp_path / "exp")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "matches.parquet" in err[0] and "cocodiff compare" in err[0]


def test_refuses_to_overwrite_an_input(tiny, capsys):
    assert main(["export", str(tiny["out"]), "-o", str(Path(tiny["a"]).parent)]) == 2
    assert "overwrite input A" in capsys.readouterr().err


def test_help_has_defaults_and_examples(capsys):
    assert main(["export", "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "cocodiff export out/ -o" in out and "-o EXPORT_DIR, --output EXPORT_DIR" in out
    assert out.count("default") >= 4


def _failing_on(monkeypatch, name, when):
    real_fn = getattr(os, name)
    calls = []

    def fn(*args, **kw):
        calls.append(args)
        if when(len(calls), args):
            raise OSError(28, "No space left on device (injected)")
        return real_fn(*args, **kw)
    monkeypatch.setattr(os, name, fn)
    return calls


@pytest.mark.parametrize("where", ["second_write", "second_rename"])
def test_all_or_nothing(tiny, tmp_path, monkeypatch, where):
    dest = tmp_path / "exp"
    if where == "second_write":   # a.json's temporary file is written, b.json's fails
        _failing_on(monkeypatch, "fsync", lambda n, args: n == 2)
    else:                         # a.json already renamed into place when b.json's rename fails
        _failing_on(monkeypatch, "replace",
                    lambda n, args: os.path.basename(str(args[0])).startswith(".b.json."))
    with pytest.raises(OSError, match="injected"):
        ex.export(tiny["out"], dest, relations=["split"])
    assert sorted(p.name for p in dest.iterdir()) == []    # neither file, no temporary left
    monkeypatch.undo()
    # over a previous export: on failure both previous files stay as they were
    ex.export(tiny["out"], dest, relations=["merged"])
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    if where == "second_write":
        _failing_on(monkeypatch, "fsync", lambda n, args: n == 2)
    else:
        _failing_on(monkeypatch, "replace",
                    lambda n, args: os.path.basename(str(args[0])).startswith(".b.json.")
                    and str(args[0]).endswith(".tmp"))
    assert main(["export", str(tiny["out"]), "-o", str(dest), "--relation", "split"]) == 2
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before


def test_cli_failure_between_writes_exit_2_one_line(tiny, tmp_path, monkeypatch, capsys):
    dest = tmp_path / "exp"
    _failing_on(monkeypatch, "fsync", lambda n, args: n == 2)
    assert main(["export", str(tiny["out"]), "-o", str(dest)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "injected" in err[0] and ".tmp" not in err[0]
    assert not (dest / "a.json").exists() and not (dest / "b.json").exists()


def test_empty_selection_is_a_valid_coco_file(real, tmp_path):
    r = ex.export(real["out"], tmp_path / "exp", relations=["split"])   # the real pair has no split
    assert r["rows"] == 0 and r["a"]["instances"] == 0 and r["b"]["images"] == 0
    c = _coco(tmp_path / "exp" / "a.json")
    assert c.anns == {} and len(c.cats) == 80


def test_existing_attributes_are_kept(tmp_path):
    a = json.loads(REAL_A.read_text())
    for k, ann in enumerate(a["annotations"]):
        ann["attributes"] = {"occluded": bool(k % 2), "relation": "kept?"}
    pa = tmp_path / "a.json"
    pa.write_text(json.dumps(a))
    out = _compare(pa, REAL_B, tmp_path / "out")
    ex.export(out, tmp_path / "exp", relations=["removed"])
    got = json.loads((tmp_path / "exp" / "a.json").read_text())["annotations"]
    assert got and all(set(g["attributes"]) == {"occluded", "relation", "group", "iou", "counterpart"} for g in got)
    assert all(g["attributes"]["relation"] == "removed" for g in got)
    orig = {x["id"]: x["attributes"]["occluded"] for x in a["annotations"]}
    assert all(g["attributes"]["occluded"] == orig[g["id"]] for g in got)
    assert np.all([g["attributes"]["counterpart"] == [] for g in got])
