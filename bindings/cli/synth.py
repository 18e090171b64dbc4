"""``cocodiff synth``: the command-line face of :mod:`cocodiff.synth`."""
from __future__ import annotations

import argparse

from ..synth import SCALES, write_pair

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


def _cli(args) -> int:
    paths = write_pair(args.out, scale=args.scale, seed=args.seed, b_parts=args.b_parts)
    st = paths["stats"]
    lines = [f"wrote {paths['a']}, {paths['b']}, {paths['truth']} in {paths['seconds']:.1f}s"]
    keys = ["images", "instances", "per_image", "crowd", "multi", "vertices", "very_small",
            "small", "medium", "large"]
    lines.append("{:>12} {:>12} {:>12}".format("", "A", "B"))
    for k in keys:
        lines.append("{:>12} {:>12.4g} {:>12.4g}".format(k, st["a"][k], st["b"][k]))
    print("\n".join(lines))
    return 0


def add_cli(subparsers):
    """Register ``cocodiff synth`` on an ``argparse`` subparsers object.

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser(); _ = add_cli(p.add_subparsers())
    >>> p.parse_args(["synth", "--out", "x", "--scale", "0.01"]).scale
    0.01
    """
    p = subparsers.add_parser("synth", help="write a synthetic COCO twin + Sama-like relabel")
    p.add_argument("--scale", type=_scale_arg, default="tiny",
                   help="tiny (50 images), val (5000), full (118287) or a fraction of full")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", "--out", dest="out", required=True, help="output directory (a, b, truth.json)")
    p.add_argument("--b-parts", type=int, default=1, dest="b_parts",
                   help="split B into this many JSON files inside b.zip")
    p.set_defaults(func=_cli)
    return p
