"""``cocodiff stats``: the command-line face of :mod:`cocodiff.statistics`."""
from __future__ import annotations

import argparse
import json

from ..loader import load
from ..statistics import format_table, stats
from ._args import positive_int

def _run_cli(args) -> int:
    cache = False if args.no_cache else None
    a = load(args.a, strict=args.strict, cache=cache)
    datasets = [a]
    if args.b is not None:
        datasets.append(load(args.b, like=a, strict=args.strict, cache=cache))
    raster = None
    if args.raster_area:
        from ..rasterize import raster_areas   # lazy: only for --raster-area
        raster = [raster_areas(d, threads=args.threads) for d in datasets]
    res = stats(*datasets, per_class=args.per_class, raster_areas=raster, validity=args.validity)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    names = ["A"] if args.b is None else ["A", "B"]
    print(f"A = {args.a}")
    if args.b is not None:
        print(f"B = {args.b}")
    print()
    print(format_table(res, names))
    if args.per_class:
        print()
        hdr = ["id", "name"] + [f"{k} {n}" for k in ("instances", "crowds", "vertices") for n in names]
        body = [[str(r["id"]), r["name"]] + [f"{d[k]:,}" for k in ("instances", "crowds", "vertices")
                                            for d in r["datasets"]] for r in res["per_class"]]
        widths = [max(len(x[c]) for x in [hdr] + body) for c in range(len(hdr))]
        for r in [hdr] + body:
            print("  ".join([r[0].rjust(widths[0]), r[1].ljust(widths[1])]
                            + [r[c].rjust(widths[c]) for c in range(2, len(r))]).rstrip())
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register ``cocodiff stats``."""
    p = subparsers.add_parser(
        "stats", help="count images, instances, vertices, sizes (A, or A vs B)",
        description="Count the Sama-COCO comparison table for one dataset or two (A vs B, with the "
                    "difference B - A and the ratio B / A). A and B are .json, .json.gz, .zip (several "
                    "JSON files merged), a directory of *.json, or, for B, a results list (its images "
                    "and categories come from A).",
        epilog="example:\n  cocodiff stats instances_val2017.json sama_coco_val.zip\n"
               "  cocodiff stats instances_val2017.json --json --per-class\n"
               "  cocodiff stats instances_val2017.json sama_coco_val.zip --raster-area",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a", metavar="A", help="first dataset")
    p.add_argument("b", metavar="B", nargs="?", default=None, help="second dataset (optional)")
    p.add_argument("--json", action="store_true", help="print the stats() dict as JSON instead of a table")
    p.add_argument("--per-class", action="store_true", help="add one row per category")
    p.add_argument("--strict", action="store_true",
                   help="treat counted warnings (e.g. polygon rings with < 3 points) as errors")
    p.add_argument("--raster-area", action="store_true",
                   help="also count the size buckets on rasterised mask pixels (pycocotools' masks), "
                        "beside the ones on the files' area field; they differ near the bounds")
    p.add_argument("--validity", action="store_true",
                   help="also count outline problems with shapely: rings with < 3 points, "
                        "self-intersecting rings, invalid instance outlines")
    p.add_argument("--threads", type=positive_int, default=None, metavar="N",
                   help="Numba threads for --raster-area (default: all cores)")
    p.add_argument("--no-cache", action="store_true",
                   help="do not read or write the columnar cache (kept under the user cache folder) of inputs "
                        "of 50 MB or more")
    p.set_defaults(func=_run_cli)
