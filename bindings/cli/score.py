"""``cocodiff score``: a compare output against a generator's truth."""
from __future__ import annotations

import argparse
import sys

import orjson

from ..errors import InputError
from ..score import format_score, score


def _run(args) -> int:
    try:
        s = score(args.output_dir, args.truth)
    except (KeyError, ValueError, TypeError, orjson.JSONDecodeError) as e:
        raise InputError(f"{args.truth}: not a truth file of cocodiff synth ({e})") from None
    if args.json:
        sys.stdout.write(orjson.dumps(s, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(format_score(s) + "\n")
    worst = min(s["a"]["agreement"], s["b"]["agreement"])
    if args.min_agreement is not None and worst < args.min_agreement:
        print(f"cocodiff: agreement {worst:.4f} below --min-agreement {args.min_agreement}", file=sys.stderr)
        return 1
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``cocodiff score OUT truth.json``."""
    p = subparsers.add_parser(
        "score", help="score a compare output against known truth (truth.json of cocodiff synth)",
        description="Per-relation precision / recall and the confusion of a compare output against the "
                    "truth a generator wrote (cocodiff synth's truth.json), for A's and B's instances.",
        epilog="examples:\n"
               "  cocodiff synth --scale val -o twin/ && cocodiff compare twin/a.json twin/b.json -o out/\n"
               "  cocodiff score out/ twin/truth.json\n"
               "  cocodiff score out/ twin/truth.json --json --min-agreement 0.99",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("output_dir", metavar="OUT", help="compare output folder (or its matches.parquet)")
    p.add_argument("truth", metavar="TRUTH", help="truth.json written by cocodiff synth")
    p.add_argument("--json", action="store_true", help="print the score as JSON (default: a table)")
    p.add_argument("--min-agreement", type=float, default=None, metavar="F",
                   help="exit 1 when either side agrees on less than this share (default: no check)")
    p.set_defaults(func=_run)
    return p
