"""``cocodiff compare``: the command-line face of :func:`cocodiff.compare`."""
from __future__ import annotations

import argparse
import logging
import os
import sys

from ..api import compare
from ..distributed import DaskMissingError, dask_client, require_dask
from ..relations import RELATIONS
from ._args import margin_value, positive_int, unit_interval

# ---------------------------------------------------------------------------- CLI

def _compare(args, quiet, client=None):
    a, b = args.a, args.b
    if client is None:   # load here so that --no-cache reaches the loader (cocodiff.cache)
        from ..loader import load_pair   # lazy, as every subcommand's work (the parser imports them all)
        cache = False if getattr(args, "no_cache", False) else None
        a, b = load_pair(a, b, cache=cache, threads=args.threads)
    return compare(a, b, iou_threshold=args.iou_threshold, cover_threshold=args.cover_threshold,
                   group_margin=args.group_margin, mode=args.mode, boundary=not args.no_boundary,
                   threads=args.threads, progress=False if quiet else None, client=client)


def _cli_run(args) -> int:
    quiet = bool(getattr(args, "quiet", False))
    scheduler = getattr(args, "scheduler", None)
    workers = getattr(args, "workers", None)
    if scheduler is not None or workers is not None:
        try:
            require_dask()   # importing distributed sets its loggers up; then quiet them:
            # Dask's own INFO chatter (scheduler / nanny start and stop) only with -vv
            level = logging.getLogger("cocodiff").getEffectiveLevel()
            logging.getLogger("distributed").setLevel(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)
            with dask_client(scheduler=scheduler, workers=workers) as client:
                cmp = _compare(args, quiet, client)
        except DaskMissingError as e:
            print(f"cocodiff: error: {e}", file=sys.stderr)
            return 2
    else:
        cmp = _compare(args, quiet)
    summ = cmp.write(args.output)
    if not quiet:
        out = sys.stdout
        out.write(f"{'relation':<15}{'rows':>10}\n")
        for r in RELATIONS:
            out.write(f"{r:<15}{summ['relations'][r]:>10}\n")
        g = summ["groups"]
        out.write(f"split: {g['split']['groups']:,} wholes into {g['split']['parts']:,} parts "
                  f"({g['crowds_decomposed']['groups']:,} crowds decomposed: "
                  f"{g['crowds_decomposed']['individuals']:,} individuals, "
                  f"{g['crowds_decomposed']['remaining_crowds']:,} remaining crowds); "
                  f"merged: {g['merged']['parts']:,} parts into {g['merged']['groups']:,}\n")
        amb = summ["ambiguous"]
        if any(amb.values()):
            out.write("ambiguous rows (column 'ambiguity'): " + ", ".join(f"{k} {v:,}" for k, v in amb.items())
                      + "\n")
        m = summ["matched"]
        if m["mean_iou"] is not None:
            out.write(f"matched mean IoU {m['mean_iou']:.4f}")
            if m["mean_boundary_iou"] is not None:
                out.write(f", mean Boundary IoU {m['mean_boundary_iou']:.4f}")
            out.write("\n")
        im = summ["images"]
        if im["only_a"] or im["only_b"] or im["size_mismatch"]:
            out.write(f"images only in A: {im['only_a']}, only in B: {im['only_b']}, "
                      f"size mismatch: {im['size_mismatch']}\n")
        if getattr(args, "per_class", False):
            out.write(_per_class_text(summ))
        out.write(f"wrote {os.path.join(args.output, 'matches.parquet')} and summary.json\n")
    return 0


def _per_class_text(summ, top=15) -> str:
    """The classes that changed most (rows not matched, then class name), one line each."""
    rows = []
    for c in summ["per_class"]:
        changed = sum(c[r] for r in RELATIONS if r != "matched")
        rows.append((changed, c))
    rows.sort(key=lambda t: (-t[0], t[1]["name"], t[1]["category_id"]))
    head = f"{'class':<20}" + "".join(f"{r:>14}" for r in RELATIONS) + f"{'mean IoU':>10}\n"
    lines = [f"classes that changed most (of {len(rows)}):\n", head]
    for _, c in rows[:top]:
        iou = "-" if c["mean_iou"] is None else f"{c['mean_iou']:.3f}"
        name = (c["name"] or str(c["category_id"]))[:19]
        lines.append(f"{name:<20}" + "".join(f"{c[r]:>14,}" for r in RELATIONS) + f"{iou:>10}\n")
    return "".join(lines)


def add_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``cocodiff compare A B -o OUT/ ...`` on an argparse subparsers object.

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers()
    >>> _ = add_cli(sub)
    >>> p.parse_args(["compare", "a.json", "b.json", "-o", "out"]).iou_threshold
    0.5
    """
    p = subparsers.add_parser("compare", help="instance-by-instance correspondence of two annotation sets",
                              description="Relate every instance of A to B: matched, split, merged, "
                                          "class_changed, removed, added. Writes matches.parquet + summary.json.",
                              epilog="examples:\n"
                                     "  cocodiff compare instances_val2017.json sama-coco-val.zip -o out/\n"
                                     "  cocodiff compare A.json B.json -o out/ --iou-threshold 0.75 --mode greedy "
                                     "--per-class\n"
                                     "  cocodiff compare instances_val2017.json my_model_results.json -o out/\n"
                                     "  duckdb -c \"SELECT relation, count(*) FROM 'out/matches.parquet' GROUP BY 1\"",
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a", metavar="A",
                   help="reference annotation set A (e.g. COCO-2017): .json, .json.gz, .zip or folder")
    p.add_argument("b", metavar="B", help="the other annotation set B (e.g. Sama-COCO), same forms as A, or a results "
                                          "list (a model's detections; its images and categories are A's)")
    p.add_argument("-o", "--output", required=True, help="output folder for matches.parquet and summary.json")
    p.add_argument("--iou-threshold", type=unit_interval, default=0.5, metavar="T",
                   help="same-class pairs with IoU >= T can be matched one-to-one; different-class "
                        "pairs with IoU >= T are class_changed (default: 0.5)")
    p.add_argument("--cover-threshold", type=unit_interval, default=0.5, metavar="C",
                   help="a part counts inside a whole (split / merged) when intersection / part "
                        "area >= C (default: 0.5)")
    p.add_argument("--group-margin", type=margin_value, default=0.05, metavar="M",
                   help="two or more parts inside a whole that one instance alone would match make a "
                        "split / merge when their union's IoU with the whole beats that instance's by "
                        ">= M, or when they lie mostly in what it leaves uncovered (default: 0.05)")
    p.add_argument("--mode", choices=("optimal", "greedy"), default="optimal",
                   help="one-to-one matching: the maximum total IoU per image and class, or pycocotools' greedy "
                        "order (default: optimal; the API's mode=)")
    p.add_argument("--greedy", dest="mode", action="store_const", const="greedy", help="the same as --mode greedy")
    p.add_argument("--per-class", action="store_true",
                   help="also print the classes that changed most (rows per relation, mean IoU)")
    p.add_argument("--no-boundary", action="store_true", help="skip Boundary IoU")
    p.add_argument("--no-cache", action="store_true",
                   help="do not read or write the columnar cache of inputs of 50 MB or more (kept under the user "
                        "cache folder)")
    p.add_argument("--threads", type=positive_int, default=None, metavar="N",
                   help="threads for parsing and the kernels (default: all cores); with several, whole "
                        "batches of images run at once, one per thread. With --scheduler / --workers: "
                        "per Dask task, default 1")
    dist = p.add_mutually_exclusive_group()
    dist.add_argument("--scheduler", metavar="ADDRESS", default=None,
                      help="shard the images over the workers of this Dask scheduler (e.g. tcp://host:8786); "
                           "needs pip install 'cocodiff[dask]'")
    dist.add_argument("--workers", metavar="N", type=positive_int, default=None,
                      help="shard the images over a local Dask cluster of N single-threaded worker processes")
    # SUPPRESS: when absent, a top-level ``cocodiff -q`` (same dest) is not overridden
    p.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                   help="no progress bar, no summary table")
    p.set_defaults(func=_cli_run)
    return p
