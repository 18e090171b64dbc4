"""``cocodiff synth``: the command-line face of :mod:`cocodiff.synth`."""
from __future__ import annotations

import argparse

from ..synth import SCALES, write_pair
from ._args import positive_int

# ------------------------------------------------------------------------- CLI --------

def _scale_arg(s):
    if s in SCALES:
        return s
    try:
        f = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected one of {', '.join(SCALES)} or a fraction, got {s!r}") from None
    if not 0 < f <= 1:
        raise argparse.ArgumentTypeError(f"fraction must be in (0, 1], got {f}")
    return f


_ROWS = [("images", "images", "{:,.0f}"), ("instances", "instances", "{:,.0f}"),
         ("per_image", "instances per image", "{:.2f}"), ("crowd", "crowds", "{:.2%}"),
         ("multi", "multi-polygon", "{:.2%}"), ("vertices", "vertices per polygon", "{:.1f}"),
         ("very_small", "very small (<= 10x10)", "{:.2%}"), ("small", "small (< 32^2)", "{:.2%}"),
         ("medium", "medium", "{:.2%}"), ("large", "large (>= 96^2)", "{:.2%}")]


def _cli(args) -> int:
    paths = write_pair(args.out, scale=args.scale, seed=args.seed, b_parts=args.b_parts)
    st = paths["stats"]
    lines = [f"wrote {paths['a']}, {paths['b']}, {paths['truth']} in {paths['seconds']:.1f} s",
             f"{'':<24}{'A':>12}{'B':>12}"]
    for key, label, fmt in _ROWS:
        lines.append(f"{label:<24}{fmt.format(st['a'][key]):>12}{fmt.format(st['b'][key]):>12}")
    if not getattr(args, "quiet", False):
        print("\n".join(lines))
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``cocodiff synth`` on an ``argparse`` subparsers object.

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser(); _ = add_cli(p.add_subparsers())
    >>> p.parse_args(["synth", "--out", "x", "--scale", "0.01"]).scale
    0.01
    """
    p = subparsers.add_parser(
        "synth", help="write a synthetic COCO twin + Sama-like relabel, with its truth",
        description="Write a deterministic synthetic COCO-2017-like set A (a.json), a Sama-COCO-like relabel "
                    "of it B (b.json, or b.zip of several files) and truth.json: which instance became "
                    "which (matched, crowds decomposed into people with or without a smaller crowd, splits "
                    "with a dominant part, merges, class changes, removals, additions). Score a comparison "
                    "of the two with `cocodiff score`.",
        epilog="examples:\n"
               "  cocodiff synth -o twin/                          # tiny: 50 images\n"
               "  cocodiff synth --scale val -o twin/              # 5,000 images\n"
               "  cocodiff synth --scale full --b-parts 3 -o twin/ # the train split, B as a zip of 3 files\n"
               "  cocodiff compare twin/a.json twin/b.json -o out/ && cocodiff score out/ twin/truth.json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=_scale_arg, default="tiny",
                   help="tiny (50 images), val (5,000), full (118,287) or a fraction of full (default: tiny)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed writes the same files (default: 0)")
    p.add_argument("-o", "--output", "--out", dest="out", required=True,
                   help="output directory for a.json, b.json (or b.zip) and truth.json")
    p.add_argument("--b-parts", type=positive_int, default=1, dest="b_parts",
                   help="split B into this many JSON files inside b.zip, as Sama-COCO ships a split (default: 1)")
    p.set_defaults(func=_cli)
    return p
