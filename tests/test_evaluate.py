"""cocodiff.evaluate against pycocotools' COCOeval (run here, its prints silenced): the twelve
summary numbers within 1e-12 and the precision / recall / scores arrays equal (np.array_equal:
every float is computed by the same operations in the same order), on the cocoapi demo results
and on synthetic detections made from the synthetic twin (jittered, dropped, false positives,
tied scores, > 100 detections per image, an image without ground truth, categories without
ground truth, crowds), for segm and bbox; bad input exits 2 with one line."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pycocotools")
from cocodiff.evaluation import evaluate, evaluate_many
from pycocotools import mask as pmask
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

DEMO = Path(__file__).resolve().parent.parent / "data" / "coco2014_val100"
DEMO_GT = DEMO / "instances_val2014_100.json"
DEMO_RES = {"segm": DEMO / "instances_val2014_fakesegm100_results.json",
            "bbox": DEMO / "instances_val2014_fakebbox100_results.json"}


def pycoco_eval(gt_path, res, iou_type):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        dt = gt.loadRes(str(res) if isinstance(res, Path) else res)
        E = COCOeval(gt, dt, iou_type)
        E.evaluate()
        E.accumulate()
        E.summarize()
    return E


def assert_same(ev, E):
    assert np.abs(ev.stats - np.asarray(E.stats)).max() <= 1e-12, (ev.stats, E.stats)
    assert np.array_equal(ev.precision, E.eval["precision"])
    assert np.array_equal(ev.recall, E.eval["recall"])
    assert np.array_equal(ev.scores, E.eval["scores"])


# ----------------------------------------------------------------------------- cocoapi demo
@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_demo_results(iou_type):
    ev = evaluate(DEMO_RES[iou_type], DEMO_GT, iou_type)
    assert_same(ev, pycoco_eval(DEMO_GT, DEMO_RES[iou_type], iou_type))
    # the printout cocoapi ships with the demo (val2014_fake_eval_res.txt)
    text = (DEMO / "val2014_fake_eval_res.txt").read_text()
    block = text.split(f"type={iou_type}")[1].split("-----")[0]
    want = [float(line.rsplit("=", 1)[1]) for line in block.splitlines() if line.strip().startswith("Average")]
    assert [round(float(x), 3) for x in ev.stats] == want
    assert ev.summary_lines()[0].endswith(f"= {want[0]:0.3f}")


def test_demo_bbox_of_segm_results():
    """bbox evaluation of results that have masks but no boxes: boxes from the masks (toBbox)."""
    ev = evaluate(DEMO_RES["segm"], DEMO_GT, "bbox")
    assert_same(ev, pycoco_eval(DEMO_GT, DEMO_RES["segm"], "bbox"))


# ----------------------------------------------------------------------------- synthetic
def make_results(gt: dict, seed: int, form: str) -> list:
    """Detections made from a ground truth: most instances jittered (some with another class), some
    dropped, false positives (also of categories without ground truth), scores on a coarse grid
    (ties), > 100 detections on two images, detections on images without ground truth.

    form: "poly" -- polygon segmentation and bbox (loadRes' bbox branch: area = w * h);
    "rle" -- compressed RLE, no bbox (its segm branch: area = mask pixels, box from the mask)."""
    rng = np.random.default_rng(seed)
    imgs = {im["id"]: im for im in gt["images"]}
    cat_ids = [c["id"] for c in gt["categories"]]
    out = []

    def add(image_id, cat, poly):
        xs, ys = poly[0::2], poly[1::2]
        x0, y0 = float(min(xs)), float(min(ys))
        d = {"image_id": image_id, "category_id": cat, "score": float(rng.integers(0, 21)) / 20}
        if form == "poly":
            d["segmentation"] = [[float(v) for v in poly]]
            d["bbox"] = [x0, y0, float(max(xs)) - x0, float(max(ys)) - y0]
        else:
            im = imgs[image_id]
            rle = pmask.merge(pmask.frPyObjects([[float(v) for v in poly]], im["height"], im["width"]))
            d["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
        out.append(d)

    def box_poly(x, y, w, h):
        return [x, y, x, y + h, x + w, y + h, x + w, y]

    for an in gt["annotations"]:
        if rng.random() < 0.15:
            continue
        x, y, w, h = an["bbox"]
        s = max(w, h, 1.0)
        if isinstance(an["segmentation"], list) and rng.random() < 0.8:
            poly = np.asarray(an["segmentation"][0], float).copy()
        else:
            poly = np.asarray(box_poly(x, y, w, h), float)
        k = 1 + rng.normal(0, 0.1)
        cx, cy = x + w / 2, y + h / 2
        poly[0::2] = cx + (poly[0::2] - cx) * k + rng.normal(0, 0.06 * s)
        poly[1::2] = cy + (poly[1::2] - cy) * k + rng.normal(0, 0.06 * s)
        poly = np.round(poly, 2)
        cat = an["category_id"] if rng.random() > 0.05 else int(rng.choice(cat_ids))
        add(an["image_id"], cat, poly.tolist())
        if rng.random() < 0.1:     # a duplicate detection
            add(an["image_id"], cat, (poly + 1.5).tolist())
    ids = sorted(imgs)
    for image_id in ids:           # false positives, on every image (those without gt too)
        im = imgs[image_id]
        for _ in range(int(rng.poisson(2))):
            w, h = rng.uniform(4, im["width"] / 2), rng.uniform(4, im["height"] / 2)
            x, y = rng.uniform(0, im["width"] - w), rng.uniform(0, im["height"] - h)
            add(image_id, int(rng.choice(cat_ids)), np.round(box_poly(x, y, w, h), 2).tolist())
    # > 100 detections in one (image, category) and > 100 in one image over many categories
    an0 = gt["annotations"][0]
    x, y, w, h = an0["bbox"]
    for _ in range(150):
        dx, dy = rng.normal(0, 0.2 * max(w, 1), 2)
        add(an0["image_id"], an0["category_id"], np.round(box_poly(x + dx, y + dy, w, h), 2).tolist())
    other = ids[len(ids) // 2]
    im = imgs[other]
    for _ in range(130):
        w, h = rng.uniform(2, im["width"] / 3), rng.uniform(2, im["height"] / 3)
        add(other, int(rng.choice(cat_ids[:5])),
            np.round(box_poly(rng.uniform(0, im["width"] - w), rng.uniform(0, im["height"] - h), w, h), 2).tolist())
    order = rng.permutation(len(out))
    return [out[i] for i in order]


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    from cocodiff import synth
    a, b, _ = synth.generate("tiny", seed=0)
    d = tmp_path_factory.mktemp("twin")
    assert any(im["id"] not in {x["image_id"] for x in a["annotations"]} for im in a["images"])
    pa, pb = d / "a.json", d / "b.json"
    pa.write_text(json.dumps(a))
    pb.write_text(json.dumps(b))
    return {"dir": d, "a": a, "b": b, "pa": pa, "pb": pb}


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
@pytest.mark.parametrize("form", ["poly", "rle"])
@pytest.mark.parametrize("seed", [0, 1])
def test_synthetic(twin, iou_type, form, seed):
    res = make_results(twin["a"], seed, form)
    rp = twin["dir"] / f"res_{form}_{seed}.json"
    rp.write_text(json.dumps(res))
    ev = evaluate(rp, twin["pa"], iou_type)
    E = pycoco_eval(twin["pa"], rp, iou_type)
    assert_same(ev, E)
    assert ev.n_results == len(res) and ev.n_evaluated < len(res)   # the > 100 were cut
    assert 0 < ev.stats[0] < 1
    # categories without ground truth stay -1
    assert (ev.precision[:, :, ev.n_gt[:, 0] == 0] == -1).all()


def test_two_ground_truths(twin):
    """evaluate_many: each ground truth's numbers as if evaluated alone (and as pycocotools')."""
    res = make_results(twin["a"], 3, "rle")
    rp = twin["dir"] / "res_two.json"
    rp.write_text(json.dumps(res))
    ea, eb = evaluate_many(rp, [twin["pa"], twin["pb"]], "segm")
    assert_same(ea, pycoco_eval(twin["pa"], rp, "segm"))
    assert_same(eb, pycoco_eval(twin["pb"], rp, "segm"))
    assert not np.array_equal(ea.stats, eb.stats)


def test_api_name_and_dataset_inputs():
    import cocodiff
    import cocodiff.evaluation
    gt = cocodiff.load(DEMO_GT)
    dt = cocodiff.load(DEMO_RES["segm"], like=gt)
    ev = cocodiff.evaluate(dt, gt, iou_type="segm")
    assert round(float(ev.stats[0]), 3) == 0.320
    rows = ev.per_class()
    assert len(rows) == len(gt.cat_id) and all(r["AP"] is None or 0 <= r["AP"] <= 1 for r in rows)


def test_empty_results(tmp_path):
    rp = tmp_path / "empty.json"
    rp.write_text("[]")
    ev = evaluate(rp, DEMO_GT, "segm")
    assert ev.n_evaluated == 0
    assert ev.stats.tolist() == [0.0] * 12


# ----------------------------------------------------------------------------- CLI
def run_cli(capsys, *argv):
    from cocodiff.cli import main
    rc = main(["eval", *map(str, argv)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_table_json_per_class(capsys, twin):
    rc, out, err = run_cli(capsys, DEMO_RES["segm"], "--gt", DEMO_GT)
    assert rc == 0, err
    assert "0.320" in out and "AP @[IoU=0.50:0.95 | area=all | maxDets=100]" in out
    res = make_results(twin["a"], 4, "poly")
    rp = twin["dir"] / "res_cli.json"
    rp.write_text(json.dumps(res))
    rc, out, err = run_cli(capsys, rp, "--gt", twin["pa"], "--gt", twin["pb"], "--json", "--per-class")
    assert rc == 0, err
    d = json.loads(out)
    assert d["iou_type"] == "segm" and len(d["gt"]) == 2
    assert [g["path"] for g in d["gt"]] == [str(twin["pa"]), str(twin["pb"])]
    for g, p in zip(d["gt"], (twin["pa"], twin["pb"])):
        assert np.abs(np.array(g["stats"]) - pycoco_eval(p, rp, "segm").stats).max() <= 1e-12
        assert len(g["per_class"]) == len(twin["a"]["categories"])
    rc, out, err = run_cli(capsys, rp, "--gt", twin["pa"], "--gt", twin["pb"], "--per-class", "--iou-type", "bbox")
    assert rc == 0, err
    assert "B - A" in out and "AP B - A" in out


def _write(tmp_path, name, obj):
    p = tmp_path / name
    p.write_text(json.dumps(obj))
    return p


@pytest.mark.parametrize("case", ["image", "category", "score", "segm", "not_results", "gt_is_results"])
def test_cli_bad_input(capsys, tmp_path, case):
    res = json.loads(DEMO_RES["segm"].read_text())[:5]
    iou = "segm"
    gt = DEMO_GT
    if case == "image":
        res[2]["image_id"] = 987654321
    elif case == "category":
        res[3]["category_id"] = 9999
    elif case == "score":
        del res[1]["score"]
    elif case == "segm":
        res = json.loads(DEMO_RES["bbox"].read_text())[:5]
    elif case == "not_results":
        res = json.loads(DEMO_GT.read_text())
    rp = _write(tmp_path, "res.json", res)
    if case == "gt_is_results":
        gt = rp
    rc, out, err = run_cli(capsys, rp, "--gt", gt, "--iou-type", iou)
    assert rc == 2, (out, err)
    assert err.startswith("cocodiff: error: ") and err.count("\n") == 1, err
    want = {"image": "987654321", "category": "9999", "score": "score", "segm": "segmentation",
            "not_results": "not a results file", "gt_is_results": "results file"}[case]
    assert want in err


# ----------------------------------------------------------------------------- why the numbers moved
def test_explain_adds_up_and_what_if_matches_pycocotools(twin):
    """explain(): every detection counted once in the flip table and per class; statuses as the two
    evaluations have them; each "A with one kind of change applied" ground truth evaluates as
    pycocotools does on that ground truth written out as a file; all kinds applied is B."""
    from cocodiff import compare, load
    from cocodiff.engine.evaluate import TP
    from cocodiff._eval_explain import _kinds_of, _take, _union
    from cocodiff.evaluation import CHANGE_KINDS, explain, format_explanation

    res = make_results(twin["a"], 6, "rle")
    rp = twin["dir"] / "res_explain.json"
    rp.write_text(json.dumps(res))
    A, B = load(twin["pa"]), load(twin["pb"])
    c = compare(A, B, progress=False, boundary=False)
    ex = explain(rp, A, B, "segm", comparison=c)
    n = ex.result_id.shape[0]
    assert sum(r["detections"] for r in ex.flips) == n == ex.a.n_evaluated
    assert sum(r["detections"] for r in ex.per_class) == n
    assert sum(r["flips"] for r in ex.per_class) == int((ex.status_a != ex.status_b).sum())
    assert {r["kind"] for r in ex.flips} - {None} <= set(CHANGE_KINDS) | {"unrelated"}
    assert any(r["kind"] == "crowd_decomposed" for r in ex.flips) or not any(
        w["kind"] == "crowd_decomposed" for w in ex.what_if)
    assert np.array_equal(ex.tp_share_a, (ex.a.det_code[:, 0, :] == TP).mean(1))
    assert_same(ex.a, pycoco_eval(twin["pa"], rp, "segm"))
    assert_same(ex.b, pycoco_eval(twin["pb"], rp, "segm"))
    # each what-if ground truth, written as a COCO file, through pycocotools
    kind_a, kind_b = _kinds_of(c.table, A.ann_id, B.ann_id)
    a_kind = dict(zip(A.ann_id.tolist(), kind_a.tolist()))
    b_kind = dict(zip(B.ann_id.tolist(), kind_b.tolist()))
    assert ex.what_if and all(w["kind"] in CHANGE_KINDS for w in ex.what_if)
    for w in ex.what_if:
        k = CHANGE_KINDS.index(w["kind"])
        # B's instances after A's, with ids of their own (the what-if ground truth's order)
        anns = [x for x in twin["a"]["annotations"] if a_kind[x["id"]] != k]
        anns += [{**x, "id": x["id"] + 10 ** 7} for x in twin["b"]["annotations"] if b_kind[x["id"]] == k]
        gp = twin["dir"] / f"what_if_{w['kind']}.json"
        gp.write_text(json.dumps({**twin["a"], "annotations": anns}))
        E = pycoco_eval(gp, rp, "segm")
        assert np.abs(w["stats"] - np.asarray(E.stats)).max() <= 1e-12, w["kind"]
    # every kind applied: B itself
    U, nA, ok = _union(A, B)
    rows = nA + np.flatnonzero(ok)
    rows = rows[np.lexsort((U.ann_id[rows], U.category_id[rows], U.inst_image_id[rows]))]
    e_all = evaluate(rp, _take(U, rows, "all"), "segm")
    assert np.array_equal(e_all.precision, ex.b.precision) and np.array_equal(e_all.recall, ex.b.recall)
    text = format_explanation(ex)
    assert "(status unchanged)" in text and f"{n:,}" in text


def test_cli_explain(capsys, twin):
    res = make_results(twin["a"], 7, "poly")
    rp = twin["dir"] / "res_cli_explain.json"
    rp.write_text(json.dumps(res))
    rc, out, err = run_cli(capsys, rp, "--gt", twin["pa"], "--gt", twin["pb"], "--explain", "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert sum(r["detections"] for r in d["explain"]["flips"]) == d["explain"]["n_detections"] \
        == d["gt"][0]["n_evaluated"]
    rc, out, err = run_cli(capsys, rp, "--gt", twin["pa"], "--explain")
    assert rc == 2 and "two ground truths" in err


REAL_GTS = [DEMO.parent / "coco2017_subsets" / "cocomini_instances_val2017.json",
            DEMO.parent / "coco2017_subsets" / "tinycoco_instances_val2017.json",
            DEMO.parent / "derived" / "lvis_overlap_coco_gt.json"]


@pytest.mark.parametrize("gt_path", REAL_GTS, ids=lambda p: p.name)
@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_real_ground_truths(tmp_path, gt_path, iou_type):
    """Detections made from other real annotation files (crowds as list RLE, multi-polygons)."""
    gt = json.loads(gt_path.read_text())
    res = make_results(gt, 11, "rle" if iou_type == "segm" else "poly")
    rp = tmp_path / "res.json"
    rp.write_text(json.dumps(res))
    assert_same(evaluate(rp, gt_path, iou_type), pycoco_eval(gt_path, rp, iou_type))
