"""``cocodiff eval``: COCO AP / AR of a results file against one ground truth or two, identical to
pycocotools' ``COCOeval`` (:mod:`cocodiff.evaluation`)."""
from __future__ import annotations

import argparse
import json

from ..errors import InputError
from ._args import positive_int


def _run_cli(args) -> int:
    # imported when the command runs: building the parser of every command stays cheap
    from ..evaluation import (
        evaluate_many,
        explain,
        format_explanation,
        format_per_class,
        format_stats,
    )

    gts = args.gt
    ex = None
    if args.explain:
        if len(gts) != 2:
            raise InputError("--explain needs two ground truths (--gt A --gt B)")
        ex = explain(args.results, gts[0], gts[1], args.iou_type, threads=args.threads)
        evs = [ex.a, ex.b]
    else:
        evs = evaluate_many(args.results, gts, args.iou_type, threads=args.threads)
    if args.json:
        out = {"iou_type": args.iou_type, "results": args.results,
               "gt": [dict(e.to_dict(per_class=args.per_class), path=g) for e, g in zip(evs, gts)]}
        if ex is not None:
            out["explain"] = ex.to_dict()
        print(json.dumps(out, indent=2))
        return 0
    names = [chr(ord("A") + i) for i in range(len(evs))]
    e0 = evs[0]
    print(f"results = {args.results} ({e0.n_results:,} detections, {e0.n_evaluated:,} evaluated: "
          f"at most {e0.params['maxDets'][-1]} per image and category)")
    for n, g in zip(names, gts):
        print(f"{n} = {g}")
    print(f"iou_type = {args.iou_type}")
    print()
    print(format_stats(evs, names))
    if args.per_class:
        print()
        print("per class: AP @[IoU=0.50:0.95 | area=all | maxDets=100]; n_gt: ground truths that count "
              "(crowds excluded)")
        print(format_per_class(evs, names))
    if ex is not None:
        print()
        print(format_explanation(ex))
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register ``cocodiff eval``."""
    p = subparsers.add_parser(
        "eval", help="COCO AP / AR of detections against one ground truth or two (pycocotools-identical)",
        description="Evaluate a results file (a JSON list of detections with image_id, category_id, "
                    "segmentation and/or bbox, score) as pycocotools' COCOeval does -- evaluate, "
                    "accumulate, summarize -- and print its twelve numbers (AP, AP50, AP75, AP "
                    "small/medium/large, AR 1/10/100, AR small/medium/large). With two --gt (e.g. "
                    "COCO-2017 and Sama-COCO) both columns and the difference B - A; the detections' "
                    "masks are rasterised once for both.",
        epilog="example:\n  cocodiff eval detections.json --gt instances_val2017.json\n"
               "  cocodiff eval detections.json --gt instances_val2017.json --gt sama_coco_val.zip "
               "--per-class\n  cocodiff eval boxes.json --gt instances_val2017.json --iou-type bbox --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", metavar="RESULTS", help="results file (JSON list of detections, as COCO.loadRes reads)")
    p.add_argument("--gt", action="append", required=True, metavar="GT",
                   help="ground truth (.json, .json.gz, .zip, directory); give it twice to compare two")
    p.add_argument("--iou-type", choices=["segm", "bbox"], default="segm",
                   help="masks (segm, the default) or boxes (bbox)")
    p.add_argument("--json", action="store_true",
                   help='print {"iou_type", "results", "gt": [{"path", "stats": [12 numbers], ...}]}')
    p.add_argument("--per-class", action="store_true", help="add the AP of every category")
    p.add_argument("--explain", action="store_true",
                   help="with two --gt: why the numbers moved -- each detection's status (TP / FP / ignored on a "
                        "crowd) at IoU 0.50 under A and B, the changes of status counted by the kind of change "
                        "(cocodiff compare) of the instance hit, and the AP on A with one kind of change applied")
    p.add_argument("--threads", type=positive_int, default=None, metavar="N",
                   help="Numba threads (default: all cores)")
    p.set_defaults(func=_run_cli)
