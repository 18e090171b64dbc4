"""`cocodiff report`: the self-contained HTML report (cocodiff.report, cocodiff.cli.report)."""
from __future__ import annotations

import base64
import html
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from PIL import Image  # Pillow comes with matplotlib

import cocodiff
from cocodiff import report as rep
from cocodiff._report_html import _REL_COLORS
from cocodiff.cli import main

DATA = Path(__file__).resolve().parent.parent / "data"
REAL_A = DATA / "coco2014_val100" / "instances_val2014_100.json"
REAL_B = DATA / "derived" / "val2014_100_fakesegm_as_annotations.json"
SECTIONS = ["overview", "stats", "classes", "sizes", "vertices", "relations", "iou", "examples", "gallery"]
HEADINGS = ["Dataset statistics", "Instances per class", "Size buckets", "Vertices per instance",
            "Relations per class", "IoU of matched pairs", "Examples per relation", "Most changed images"]
EXAMPLE_RELATIONS = ["split", "merged", "class_changed", "removed", "added", "matched"]
MAGENTA = (255, 0, 255)


def _rgb(hexcol):
    return tuple(int(hexcol[i:i + 2], 16) for i in (1, 3, 5))


def _section(text, sid):
    m = re.search(rf'<section id="{sid}">(.*?)</section>', text, re.S)
    assert m, f"section {sid} missing"
    return m.group(1)


def _table_rows(fragment):
    """Rows of the first <table> in fragment as lists of cell texts (tags stripped)."""
    tab = re.search(r"<table.*?</table>", fragment, re.S).group(0)
    out = []
    for tr in re.findall(r"<tr>(.*?)</tr>", tab, re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)
        out.append([re.sub(r"<[^>]+>", "", c).strip() for c in cells])
    return out


def _num(s):
    return int(s.replace(",", "").replace("+", ""))


def _gallery(text):
    """[(image_id, PIL image)] of the gallery figures, in page order."""
    figs = re.findall(r'<figure id="img-(\d+)" data-image-id="\d+"><img alt="[^"]*" '
                      r'src="data:image/png;base64,([^"]+)"', text)
    return [(int(i), Image.open(io.BytesIO(base64.b64decode(b))).convert("RGB")) for i, b in figs]


def _near(arr, rgb, tol=30):
    return np.abs(arr.astype(int) - np.array(rgb)).sum(axis=2) <= tol


def _names(ds):
    return {int(c): str(n) for c, n in zip(ds.cat_id, ds.cat_name)}


def _name(names, cat, crowd):
    return names[int(cat)] + (" (crowd)" if crowd else "")


def _examples(text):
    """[dict(rel, image_id, a_ids, b_ids, label, caption, im)] of the per-relation example figures."""
    out = []
    for m in re.finditer(r'<figure class="ex" id="ex-(\w+)-(\d+)" data-relation="(\w+)" data-image-id="(\d+)" '
                         r'data-a-ids="([\d,]*)" data-b-ids="([\d,]*)"><img alt="([^"]*)" '
                         r'src="data:image/png;base64,([^"]+)"><figcaption>(.*?)</figcaption></figure>', text, re.S):
        assert m.group(1) == m.group(3)
        out.append(dict(rel=m.group(3), image_id=int(m.group(4)),
                        a_ids=[int(x) for x in m.group(5).split(",") if x],
                        b_ids=[int(x) for x in m.group(6).split(",") if x],
                        label=html.unescape(m.group(7)), caption=html.unescape(re.sub(r"<[^>]+>", " ", m.group(9))),
                        im=Image.open(io.BytesIO(base64.b64decode(m.group(8)))).convert("RGB")))
    return out


def _units(rows, iid):
    """Relation units of image iid from the raw table rows: one per split / merge group, else one per row."""
    keys = []
    for k, r in enumerate(rows):
        if r["image_id"] != iid:
            continue
        key = (r["relation"], r["group"]) if r["relation"] in ("split", "merged") and r["group"] >= 0 else k
        if key not in keys:
            keys.append(key)
    return keys


# ------------------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """Report of the bundled real pair; an images folder holding only the top image's file."""
    a = cocodiff.load(REAL_A)
    b = cocodiff.load(REAL_B, like=a)
    cmp = cocodiff.compare(a, b, progress=False)
    top = 5
    most = cmp.summary(top=top)["most_changed"]
    first = most[0]["image_id"]
    r = int(np.searchsorted(a.image_id, first))
    img_dir = tmp_path_factory.mktemp("images")
    w, h = int(a.width[r]), int(a.height[r])
    Image.new("RGB", (w, h), MAGENTA).save(img_dir / str(a.file_name[r]))
    out = tmp_path_factory.mktemp("real") / "sub" / "report.html"
    path = rep.write_report(a, b, out, comparison=cmp, images_dir=img_dir, top=top)
    return dict(a=a, b=b, cmp=cmp, most=most, path=path, text=path.read_text(encoding="utf-8"),
                img_dir=img_dir, top=top)


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    from cocodiff.synth import write_pair

    d = tmp_path_factory.mktemp("twin")
    paths = write_pair(d, "tiny", seed=3)
    out = d / "report.html"
    path = rep.write_report(paths["a"], paths["b"], out, top=4)
    a = cocodiff.load(paths["a"])
    b = cocodiff.load(paths["b"])
    cmp = cocodiff.compare(a, b, progress=False)
    return dict(a=a, b=b, cmp=cmp, paths=paths, path=path, text=path.read_text(encoding="utf-8"), top=4, dir=d)


@pytest.fixture(params=["real", "twin"])
def report(request):
    return request.getfixturevalue(request.param)


# ------------------------------------------------------------------------------ structure

def test_sections_and_headings(report):
    text = report["text"]
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    for sid in SECTIONS:
        assert text.count(f'<section id="{sid}">') == 1
        assert f'href="#{sid}"' in text
    for h in HEADINGS:
        assert f"<h2>{h}" in text
    assert "$" not in re.sub(r"<img[^>]*>", "", text)  # every template placeholder filled
    assert "<style>" in text and "<link" not in text and "<script" not in text


def test_self_contained(report):
    text = report["text"]
    imgs = re.findall(r"<img\b[^>]*>", text)
    assert len(imgs) >= 5 + report["top"]
    for tag in imgs:
        src = re.search(r'src="([^"]*)"', tag).group(1)
        assert src.startswith("data:image/png;base64,"), tag[:80]
        im = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        im.verify()
    for attr, val in re.findall(r'\b(src|href)\s*=\s*["\']([^"\']*)', text):
        assert val.startswith(("data:", "#")), (attr, val)
    assert not re.search(r"https?://", text)
    assert "url(" not in text and "@import" not in text


# ------------------------------------------------------------------------------ content

def test_stats_table_counts_raw_json(real):
    rows = {r[0]: r[1:] for r in _table_rows(_section(real["text"], "stats"))[1:]}
    na = len(json.loads(REAL_A.read_text())["annotations"])
    nb = len(json.loads(REAL_B.read_text())["annotations"])
    assert _num(rows["instances"][0]) == na and _num(rows["instances"][1]) == nb
    assert _num(rows["instances"][2]) == nb - na
    assert rows["instances"][3] == f"{nb / na:.3f}"
    crowds = sum(x["iscrowd"] for x in json.loads(REAL_A.read_text())["annotations"])
    assert _num(rows["crowds"][0]) == crowds


def test_size_buckets_from_raw_areas(report):
    a_json = json.loads((REAL_A if report.get("img_dir") else report["paths"]["a"]).read_text())
    area = np.array([x["area"] for x in a_json["annotations"]], float)
    expect = [np.sum(area <= 100), np.sum((area > 100) & (area < 1024)),
              np.sum((area >= 1024) & (area < 9216)), np.sum(area >= 9216)]
    rows = _table_rows(_section(report["text"], "sizes"))[1:]
    assert [_num(r[1]) for r in rows] == [int(x) for x in expect]
    assert [r[2] for r in rows] == [f"{100 * x / area.size:.1f}%" for x in expect]


def test_per_class_counts(real):
    names = {c["id"]: c["name"] for c in json.loads(REAL_A.read_text())["categories"]}
    rows = _table_rows(re.search(r"<details>.*?</details>", _section(real["text"], "classes"), re.S).group(0))[1:]
    got = {r[1]: (_num(r[2]), _num(r[3])) for r in rows}
    for side, path in enumerate((REAL_A, REAL_B)):
        anns = json.loads(path.read_text())["annotations"]
        cnt = {}
        for x in anns:
            cnt[names[x["category_id"]]] = cnt.get(names[x["category_id"]], 0) + 1
        for nm, c in cnt.items():
            assert got[nm][side] == c, (nm, side)


def test_relation_totals(report):
    summ = report["cmp"].summary()
    sec = _section(report["text"], "relations")
    tot = {r[0]: _num(r[1]) for r in _table_rows(sec)[1:]}
    assert tot == summ["relations"]
    assert sum(tot.values()) == report["cmp"].table.num_rows
    per = _table_rows(re.search(r"<details>.*?</details>", sec, re.S).group(0))
    hdr = per[0]
    col = {h: j for j, h in enumerate(hdr)}
    sums = {r: sum(_num(row[col[r]]) for row in per[1:]) for r in tot}
    assert sums == tot


def test_vertices_note(real, twin):
    # the real B is all RLE: said so, and A's polygon counts are right
    sec = _section(real["text"], "vertices")
    assert "B: no polygon instances" in sec
    anns = json.loads(REAL_A.read_text())["annotations"]
    npoly = sum(1 for x in anns if isinstance(x["segmentation"], list))
    assert f"A: {npoly:,} polygon instances" in sec
    assert "<img" in sec
    assert "polygon instances, mean" in _section(twin["text"], "vertices")


# ------------------------------------------------------------------------------ gallery

def test_gallery_order_and_captions(report):
    gal = _gallery(report["text"])
    most = report["cmp"].summary(top=report["top"])["most_changed"]
    assert [i for i, _ in gal] == [m["image_id"] for m in most]
    for rank, (iid, im) in enumerate(gal, 1):
        ds = report["a"]
        r = int(np.searchsorted(ds.image_id, iid))
        w, h = int(ds.width[r]), int(ds.height[r])
        assert abs(im.width / im.height - w / h) < 0.02          # canvas has the image's shape
        assert f"#{rank} image {iid}</b>" in report["text"]


def _bbox_mask(ds, iid, shape, scale, margin=4):
    """Pixels of the PNG inside (dilated) bboxes of image iid's instances of ds."""
    r = int(np.searchsorted(ds.image_id, iid))
    sel = ds.img_row == r
    m = np.zeros(shape, bool)
    for x, y, w, h in ds.bbox[sel]:
        x0 = int(max((x - margin) * scale, 0))
        y0 = int(max((y - margin) * scale, 0))
        x1 = int((x + w + margin) * scale) + 1
        y1 = int((y + h + margin) * scale) + 1
        m[y0:y1, x0:x1] = True
    return m, int(sel.sum())


def test_gallery_outlines_lie_on_instances(report):
    """A-coloured / B-coloured pixels exist and sit inside the instances' boxes (right place, not flipped)."""
    for iid, im in _gallery(report["text"]):
        arr = np.asarray(im)
        for ds, col in ((report["a"], rep.COLOR_A), (report["b"], rep.COLOR_B)):
            r = int(np.searchsorted(ds.image_id, iid))
            scale = im.width / int(ds.width[r])
            inside, n = _bbox_mask(ds, iid, arr.shape[:2], scale)
            hit = _near(arr, _rgb(col))
            if n == 0:
                continue
            assert hit.sum() > 20, (iid, col)
            assert hit[inside].sum() >= 0.9 * hit.sum(), (iid, col, hit[inside].sum(), hit.sum())


def test_gallery_images_dir(real):
    """The top image's file is drawn under the outlines; the missing others get a note and a blank canvas."""
    gal = _gallery(real["text"])
    share = [float(_near(np.asarray(im), MAGENTA).mean()) for _, im in gal]
    assert share[0] > 0.3
    assert max(share[1:]) == 0.0
    text = real["text"]
    assert text.count('class="missing"') == real["top"] - 1
    a = real["a"]
    for m in real["most"][1:]:
        r = int(np.searchsorted(a.image_id, m["image_id"]))
        assert f"image file {a.file_name[r]} not found" in text
    assert f"{real['top'] - 1} of {real['top']} image files missing" in text
    assert 'id="images-notice"' not in text          # one file was found: no "none found" notice


def test_twin_blank_canvas_note(twin):
    assert "No image folder given" in twin["text"]
    assert 'class="missing"' not in twin["text"]
    assert 'id="images-notice"' not in twin["text"]


# ------------------------------------------------------------------------------ names, legends, examples

def test_gallery_legend(report):
    """One numbered marker / legend row per unit (pair, instance, whole split / merge group), with class names."""
    rows = report["cmp"].table.to_pylist()
    na, nb = _names(report["a"]), _names(report["b"])
    figs = re.findall(r'<figure id="img-(\d+)".*?</figure>', report["text"], re.S)
    assert len(figs) == report["top"]
    for iid, fig in zip(figs, re.findall(r'<figure id="img-\d+".*?</figure>', report["text"], re.S)):
        leg = _table_rows(re.search(r'<table class="legend">.*?</table>', fig, re.S).group(0))
        assert leg[0][:4] == ["#", "relation", "classes", "IoU / group IoU"]
        assert [r[0] for r in leg[1:]] == [str(k) for k in range(1, len(leg))]
        assert len(leg) - 1 == len(_units(rows, int(iid)))
        changes = {(r["a_id"], r["b_id"]): r for r in rows if r["image_id"] == int(iid) and r["relation"] == "class_changed"}
        got = [html.unescape(r[2]) for r in leg[1:] if r[1] == "class changed"]
        assert len(got) == len(changes)
        want = sorted(f"{_name(na, r['a_category_id'], r['a_iscrowd'])} \u2192 {_name(nb, r['b_category_id'], r['b_iscrowd'])}"
                      for r in changes.values())
        assert sorted(got) == want


def test_examples_per_relation(twin):
    text = twin["text"]
    sec = _section(text, "examples")
    rows = twin["cmp"].table.to_pylist()
    na, nb = _names(twin["a"]), _names(twin["b"])
    summ = twin["cmp"].summary()
    ex = _examples(sec)
    for rel in EXAMPLE_RELATIONS:
        assert f'<div class="relblock" id="ex-{rel}">' in sec and f'href="#ex-{rel}"' in sec
        n_units = len({(r["image_id"], r["group"]) for r in rows if r["relation"] == rel}) if rel in ("split", "merged") \
            else summ["relations"][rel]
        assert n_units > 0, rel                                     # the twin has every relation
        assert sum(e["rel"] == rel for e in ex) == min(6, n_units), rel
    for e in ex:
        rel, iid = e["rel"], e["image_id"]
        arr = np.asarray(e["im"])
        if e["a_ids"]:
            assert _near(arr, _rgb(rep.COLOR_A)).sum() > 10, e["label"]
        if e["b_ids"]:
            assert _near(arr, _rgb(rep.COLOR_B)).sum() > 5, e["label"]
        if rel == "split":
            grp = [r for r in rows if r["relation"] == rel and r["image_id"] == iid and r["a_id"] == e["a_ids"][0]]
            assert e["a_ids"] == [grp[0]["a_id"]] and sorted(e["b_ids"]) == sorted(r["b_id"] for r in grp)  # all parts
            assert len(e["b_ids"]) >= 2
            assert e["label"].startswith(f"split: {_name(na, grp[0]['a_category_id'], grp[0]['a_iscrowd'])} \u2192 ")
            assert f"group IoU {grp[0]['group_iou']:.3f}" in e["caption"]
        elif rel == "merged":
            grp = [r for r in rows if r["relation"] == rel and r["image_id"] == iid and r["b_id"] == e["b_ids"][0]]
            assert e["b_ids"] == [grp[0]["b_id"]] and sorted(e["a_ids"]) == sorted(r["a_id"] for r in grp)
            assert e["label"].endswith(f" \u2192 {_name(nb, grp[0]['b_category_id'], grp[0]['b_iscrowd'])}")
            assert f"group IoU {grp[0]['group_iou']:.3f}" in e["caption"]
        else:
            (r,) = [r for r in rows if r["relation"] == rel and r["image_id"] == iid
                    and r["a_id"] == (e["a_ids"] or [None])[0] and r["b_id"] == (e["b_ids"] or [None])[0]]
            a_nm = r["a_id"] is not None and _name(na, r["a_category_id"], r["a_iscrowd"])
            b_nm = r["b_id"] is not None and _name(nb, r["b_category_id"], r["b_iscrowd"])
            want = {"class_changed": f"class changed: {a_nm} \u2192 {b_nm}", "matched": f"matched: {a_nm}",
                    "removed": f"removed: {a_nm}", "added": f"added: {b_nm}"}[rel]
            assert e["label"] == want
            if rel in ("class_changed", "matched"):
                assert f"IoU {r['iou']:.3f}" in e["caption"]
                assert a_nm != b_nm or rel == "matched"
            else:
                area = r["a_area"] if rel == "removed" else r["b_area"]
                assert f"area {area:,} px" in e["caption"]
    # class changes read "X → Y" with the categories' names (never bare ids)
    for e in ex:
        if e["rel"] == "class_changed":
            x, y = e["label"].removeprefix("class changed: ").split(" \u2192 ")
            assert x.split(" (crowd)")[0] in na.values() and y.split(" (crowd)")[0] in nb.values()


def test_examples_deterministic(twin):
    again = rep.render_report(twin["a"], twin["b"], comparison=twin["cmp"], top=1)
    def strip(t):
        return [(e["rel"], e["image_id"], e["a_ids"], e["b_ids"]) for e in _examples(t)]

    assert strip(again) == strip(twin["text"])
    none = rep.render_report(twin["a"], twin["b"], comparison=twin["cmp"], top=1, examples=0)
    assert _examples(none) == [] and '<section id="examples">' in none


def test_class_changes_table(twin):
    sec = _section(twin["text"], "relations")
    rows = twin["cmp"].table.to_pylist()
    na, nb = _names(twin["a"]), _names(twin["b"])
    want = {}
    for r in rows:
        if r["relation"] == "class_changed":
            k = f"{na[r['a_category_id']]} \u2192 {nb[r['b_category_id']]}"
            want[k] = want.get(k, 0) + 1
    m = re.search(r'<h3 id="class-changes">.*', sec, re.S).group(0)
    tab = m[m.index("<details>"):] if "<details>" in m else m
    got = {html.unescape(r[0]): _num(r[1]) for r in _table_rows(tab)[1:]}
    assert got == want


def test_per_class_iou(report):
    sec = _section(report["text"], "iou")
    assert 'id="iou-per-class"' in sec and sec.count("<img") == 2
    rows = [r for r in report["cmp"].table.to_pylist() if r["relation"] == "matched" and r["iou"] is not None]
    names = _names(report["a"])
    by = {}
    for r in rows:
        by.setdefault(r["a_category_id"], []).append(r)
    tab = _table_rows(re.search(r"<details>.*?</details>", sec, re.S).group(0))
    assert tab[0] == ["id", "class", "matched pairs", "mean IoU", "mean Boundary IoU"]
    assert len(tab) - 1 == len(by)
    for cid, nm, n, miou, mb in tab[1:]:
        rr = by[int(cid)]
        assert nm == html.escape(names[int(cid)]) and _num(n) == len(rr)
        assert miou == f"{np.mean([r['iou'] for r in rr]):.3f}"
        assert mb == f"{np.mean([r['boundary_iou'] for r in rr]):.3f}"
    counts = [_num(r[2]) for r in tab[1:]]
    assert counts == sorted(counts, reverse=True)


def test_images_notice(twin, tmp_path, caplog):
    """--images DIR holding none of the files: a visible notice naming DIR and the files looked for, and a warning."""
    d = tmp_path / "imgs"
    d.mkdir()
    (d / "unrelated.jpg").write_bytes(b"not an image")
    with caplog.at_level(logging.WARNING, logger="cocodiff.report"):
        text = rep.render_report(twin["a"], twin["b"], comparison=twin["cmp"], images_dir=d, top=2, examples=1)
    m = re.search(r'<p class="notice" id="images-notice">(.*?)</p>', text, re.S)
    assert m, "no --images notice"
    notice = html.unescape(m.group(1))
    first = twin["cmp"].summary(top=1)["most_changed"][0]["image_id"]
    fname = str(twin["a"].file_name[int(np.searchsorted(twin["a"].image_id, first))])
    assert "No image file was found in" in notice and str(d) in notice
    assert fname in notice and "unrelated.jpg" in notice
    assert text.index('id="images-notice"') < text.index('<section id="overview">')   # seen without scrolling
    assert any("no image file was found" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    # none when no folder is given, nor when some file was found
    assert 'id="images-notice"' not in twin["text"] and 'id="images-notice"' not in _section(twin["text"], "overview")


# ------------------------------------------------------------------------------ API / CLI

def test_atomic_write(twin, tmp_path, monkeypatch):
    out = tmp_path / "r.html"
    out.write_text("old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(rep, "render_report", lambda *a, **k: "<!DOCTYPE html><html>new</html>")
    import cocodiff._io as atomic_io
    monkeypatch.setattr(atomic_io.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        rep.write_report(twin["a"], twin["b"], out, comparison=twin["cmp"], top=1)
    assert out.read_text() == "old"                                   # old file untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]   # temp file removed
    monkeypatch.undo()
    p = rep.write_report(twin["a"], twin["b"], out, comparison=twin["cmp"], top=1)
    assert p == out and len(_gallery(out.read_text())) == 1
    assert sorted(x.name for x in tmp_path.iterdir()) == ["r.html"]


def test_cli_direct_and_from(twin, tmp_path, capsys):
    a, b = str(twin["paths"]["a"]), str(twin["paths"]["b"])
    out = tmp_path / "cmp"
    assert main(["-q", "compare", a, b, "-o", str(out)]) == 0
    summ = json.loads((out / "summary.json").read_text())
    # --from without A and B: the inputs recorded in summary.json
    h1 = tmp_path / "from.html"
    assert main(["report", "--from", str(out), "-o", str(h1), "--top", "3"]) == 0
    assert f"wrote {h1}" in capsys.readouterr().out
    t1 = h1.read_text()
    assert [i for i, _ in _gallery(t1)] == [m["image_id"] for m in summ["most_changed"][:3]]
    tot = {r[0]: _num(r[1]) for r in _table_rows(_section(t1, "relations"))[1:]}
    assert tot == summ["relations"]
    # direct A B
    h2 = tmp_path / "direct.html"
    assert main(["report", a, b, "-o", str(h2), "--top", "2", "--examples", "2", "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    t2 = h2.read_text()
    assert [i for i, _ in _gallery(t2)] == [m["image_id"] for m in summ["most_changed"][:2]]
    ex = _examples(t2)
    assert {e["rel"] for e in ex} == set(EXAMPLE_RELATIONS)
    assert all(sum(e["rel"] == r for e in ex) <= 2 for r in EXAMPLE_RELATIONS)
    assert len(_examples(t1)) > len(ex)
    assert _section(t2, "stats") == _section(t1, "stats")


def test_cli_errors(tmp_path, capsys):
    assert main(["report", "--from", str(tmp_path), "-o", str(tmp_path / "x.html"), str(REAL_A), str(REAL_A)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cocodiff: error:") and "matches.parquet" in err and "\n" not in err
    assert main(["report", "-o", str(tmp_path / "x.html")]) == 2
    assert "needs A and B" in capsys.readouterr().err
    assert main(["report", str(REAL_A), str(REAL_A), "-o", str(tmp_path / "x.html"),
                 "--images", str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()
    # bad counts: exit 2 and one line at parse time; -o naming a folder: one line naming it (no temp file)
    for bad in (["--top", "0"], ["--top", "-3"], ["--examples", "-1"], ["--examples", "x"]):
        assert main(["report", str(REAL_A), str(REAL_A), "-o", str(tmp_path / "x.html"), *bad]) == 2
        err = capsys.readouterr().err.strip()
        assert bad[0] in err and err.count("\n") <= 1, err
    assert main(["report", str(REAL_A), str(REAL_A), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "is a directory" in err and str(tmp_path) in err and ".tmp" not in err and "\n" not in err


def test_help(capsys):
    assert main(["report", "--help"]) == 0
    out = capsys.readouterr().out
    for opt in ("--images", "--top", "--from", "-o", "pip install cocodiff[report]"):
        assert opt in out
    r = subprocess.run([sys.executable, "-m", "cocodiff", "--help"], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0 and "report" in r.stdout


def test_without_matplotlib(monkeypatch, tmp_path, capsys):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(rep.ReportDependencyError, match=r"pip install cocodiff\[report\]"):
        rep.write_report("no-such-a.json", "no-such-b.json", tmp_path / "r.html")
    assert main(["report", str(REAL_A), str(REAL_A), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install cocodiff[report]" in err and err.startswith("cocodiff: error:")
    assert not (tmp_path / "r.html").exists()


# ------------------------------------------------------------------------------ browser

def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def _screenshot(page, tmp_path, size=(1280, 2000)):
    """Headless Chromium screenshot of an HTML file as an RGB array (skip without Chromium; fail on CI)."""
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium (or chromium-browser / google-chrome) is not on PATH on CI: "
                        "the report screenshot test must run there")
        pytest.skip("no chromium on PATH")
    shot = tmp_path / (Path(page).stem + ".png")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", f"--window-size={size[0]},{size[1]}",
           Path(page).resolve().as_uri()]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=tmp_path, check=False)
    assert shot.is_file(), (r.returncode, r.stderr[-2000:])
    arr = np.asarray(Image.open(shot).convert("RGB"))
    assert arr.shape[:2] == (size[1], size[0])
    return arr


def _n_colours(arr):
    a = arr.reshape(-1, 3).astype(np.uint32)
    return int(np.count_nonzero(np.bincount((a[:, 0] << 16) | (a[:, 1] << 8) | a[:, 2], minlength=1 << 24)))


def _assert_our_page(arr):
    """Not blank, not an error page: many colours, the dark header band."""
    assert arr.std() > 20
    assert _n_colours(arr) > 200
    assert _near(arr[5:40, 5:1200], _rgb("#22303c"), 10).mean() > 0.8


def test_headless_screenshot(real, tmp_path):
    arr = _screenshot(real["path"], tmp_path)
    _assert_our_page(arr)
    # the A / B bar colours are there
    assert _near(arr, _rgb(rep.COLOR_A), 20).sum() > 500
    assert _near(arr, _rgb(rep.COLOR_B), 20).sum() > 500


def test_headless_screenshot_twin_explains(twin, tmp_path):
    """The twin report in headless Chromium: the whole page's top, then the explaining parts (notice, overview,
    examples per relation, gallery with markers) on their own -- drawn outlines in both colours, markers of
    every relation, the --images notice band; and the HTML says what the pictures show."""
    arr = _screenshot(twin["path"], tmp_path, (1280, 4000))
    _assert_our_page(arr)
    assert _near(arr, _rgb(rep.COLOR_A), 20).sum() > 500 and _near(arr, _rgb(rep.COLOR_B), 20).sum() > 500
    # the same report with --images naming a folder that holds none of the files
    d = tmp_path / "imgs"
    d.mkdir()
    (d / "other.png").write_bytes(b"")
    text = rep.render_report(twin["a"], twin["b"], comparison=twin["cmp"], images_dir=d, top=2)
    assert re.search(r'<p class="notice" id="images-notice">[^<]*No image file was found in', text)
    ex = _examples(text)
    assert {e["rel"] for e in ex} == set(EXAMPLE_RELATIONS)
    cc = [e["label"] for e in ex if e["rel"] == "class_changed"]
    names = set(_names(twin["a"]).values())
    assert cc and all(x.split(" (crowd)")[0] in names and y.split(" (crowd)")[0] in names
                      for x, y in (lab.removeprefix("class changed: ").split(" \u2192 ") for lab in cc))
    assert all(re.search(r"(group )?IoU \d\.\d{3}|area [\d,]+ px", e["caption"]) for e in ex)
    # only the explaining sections, so that they fill the screenshot
    for sid in ("stats", "classes", "sizes", "vertices", "relations", "iou"):
        text = text.replace(f'<section id="{sid}">' + _section(text, sid) + "</section>", "")
    page = tmp_path / "explains.html"
    page.write_text(text, encoding="utf-8")
    arr = _screenshot(page, tmp_path, (1280, 4000))
    _assert_our_page(arr)
    # outlines (no bar charts left on this page): many pixels of both colours, spread over the page
    for col in (rep.COLOR_A, rep.COLOR_B):
        hit = _near(arr, _rgb(col), 30)
        assert hit.sum() > 3000, col
        bands = [hit[y:y + 500].sum() > 50 for y in range(300, 4000, 500)]
        assert sum(bands) >= 5, (col, bands)
    for rel, col in _REL_COLORS.items():                           # markers / swatches of every relation
        assert _near(arr, _rgb(col), 12).sum() > 100, rel
    assert _near(arr[:400], _rgb("#fff4e5"), 6).sum() > 20000      # the notice band, near the top
    # content all the way down (a broken page would end early)
    rows = [_n_colours(arr[y:y + 400]) for y in range(0, 4000, 400)]
    assert min(rows) > 30, rows


def test_report_on_images_of_extreme_aspect_ratio(tmp_path):
    """An image 1200 x 1 (and 1 x 1500): the report is written (it was an internal error)."""
    from cocodiff.cli import main
    d = {"images": [{"id": 1, "width": 1200, "height": 1, "file_name": "x.jpg"},
                    {"id": 2, "width": 1, "height": 1500, "file_name": "y.jpg"}],
         "categories": [{"id": 1, "name": "person", "supercategory": "p"}],
         "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 10, "bbox": [0, 0, 10, 1],
                          "segmentation": [[0, 0, 10, 0, 10, 1, 0, 1]]},
                         {"id": 2, "image_id": 2, "category_id": 1, "iscrowd": 0, "area": 10, "bbox": [0, 0, 1, 10],
                          "segmentation": [[0, 0, 1, 0, 1, 10, 0, 10]]}]}
    (tmp_path / "a.json").write_text(json.dumps(d))
    d["annotations"][0]["segmentation"] = [[0, 0, 12, 0, 12, 1, 0, 1]]
    (tmp_path / "b.json").write_text(json.dumps(d))
    assert main(["-q", "report", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "-o",
                 str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").stat().st_size > 0
