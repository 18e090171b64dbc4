"""`cocodiff report`: the self-contained HTML report (cocodiff.report, cocodiff.cli.report)."""
from __future__ import annotations

import base64
import io
import json
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
from cocodiff.cli import main

DATA = Path(__file__).resolve().parent.parent / "data"
REAL_A = DATA / "coco2014_val100" / "instances_val2014_100.json"
REAL_B = DATA / "derived" / "val2014_100_fakesegm_as_annotations.json"
SECTIONS = ["overview", "stats", "classes", "sizes", "vertices", "relations", "iou", "gallery"]
HEADINGS = ["Dataset statistics", "Instances per class", "Size buckets", "Vertices per instance",
            "Relations per class", "IoU of matched pairs", "Most changed images"]
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


def test_twin_blank_canvas_note(twin):
    assert "No image folder given" in twin["text"]
    assert 'class="missing"' not in twin["text"]


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
    assert main(["report", a, b, "-o", str(h2), "--top", "2", "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    t2 = h2.read_text()
    assert [i for i, _ in _gallery(t2)] == [m["image_id"] for m in summ["most_changed"][:2]]
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


def test_headless_screenshot(real, tmp_path):
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium (or chromium-browser / google-chrome) is not on PATH on CI: "
                        "the report screenshot test must run there")
        pytest.skip("no chromium on PATH")
    shot = tmp_path / "shot.png"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1280,2000",
           real["path"].resolve().as_uri()]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=tmp_path, check=False)
    assert shot.is_file(), (r.returncode, r.stderr[-2000:])
    arr = np.asarray(Image.open(shot).convert("RGB"))
    assert arr.shape[:2] == (2000, 1280)
    assert arr.std() > 20
    assert len(np.unique(arr.reshape(-1, 3), axis=0)) > 200
    # our page, not an error page: the dark header band and the A / B bar colours are there
    assert _near(arr[5:40, 5:1200], _rgb("#22303c"), 10).mean() > 0.8
    assert _near(arr, _rgb(rep.COLOR_A), 20).sum() > 500
    assert _near(arr, _rgb(rep.COLOR_B), 20).sum() > 500
