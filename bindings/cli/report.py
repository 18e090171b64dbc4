"""``cocodiff report``: the command-line face of :mod:`cocodiff.report`."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from ..errors import InputError
from ._args import count, positive_int


def _warn_if_changed(meta, side, given):
    """A warning when the input ``compare`` recorded has changed since (size or mtime): the report
    would pair the table with other annotations than it was computed from."""
    info = (meta.get("inputs") or {}).get(side)
    path = meta.get(f"{side}_path")
    if given is not None or not info or not path:
        return
    try:
        st = os.stat(path)
    except OSError:
        return   # missing: loading it says so in one line
    if st.st_size != info.get("size") or st.st_mtime_ns != info.get("mtime_ns"):
        logging.getLogger("cocodiff").warning("%s has changed since the comparison was made (size or time "
                                              "differs): run cocodiff compare again for a report that matches it",
                                              path)


def _cli_run(args) -> int:
    # imported when the command runs: building the parser of every command stays cheap
    from ..loader import load
    from ..report import ReportDependencyError, _mpl, load_comparison, write_report

    try:
        _mpl()
    except ReportDependencyError as e:
        print(f"cocodiff: error: {e}", file=sys.stderr)
        return 2
    a_path, b_path = args.a, args.b
    if args.from_dir is not None:
        for name in ("matches.parquet", "summary.json"):
            p = Path(args.from_dir) / name
            if not p.is_file():
                raise InputError("not found (expected the output folder of `cocodiff compare`)", path=str(p))
    if args.from_dir is not None and (a_path is None or b_path is None):
        # fall back on the inputs recorded by `cocodiff compare`
        js = Path(args.from_dir) / "summary.json"
        try:
            meta = json.loads(js.read_text(encoding="utf-8")).get("meta", {})
        except (OSError, ValueError) as e:
            raise InputError(f"cannot read the compare summary ({e})", path=str(js)) from None
        for side, given in (("a", a_path), ("b", b_path)):
            _warn_if_changed(meta, side, given)
        a_path = a_path or meta.get("a_path")
        b_path = b_path or meta.get("b_path")
    if a_path is None or b_path is None:
        print("cocodiff: error: report needs A and B (or --from OUT/ of `cocodiff compare`)", file=sys.stderr)
        return 2
    if args.images is not None and not Path(args.images).is_dir():
        raise InputError("not a directory (--images)", path=str(args.images))
    if Path(args.output).is_dir():
        raise InputError("is a directory (-o/--output names the .html file to write)", path=str(args.output))
    a = load(a_path)
    b = load(b_path, like=a)
    cmp = load_comparison(args.from_dir, a, b) if args.from_dir is not None else None
    out = write_report(a, b, args.output, comparison=cmp, images_dir=args.images, top=args.top,
                       examples=args.examples)
    if not getattr(args, "quiet", False):
        print(f"wrote {out}")
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``cocodiff report A B -o report.html [--images DIR] [--top N] [--examples N] [--from OUT/]``.

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers()
    >>> _ = add_cli(sub)
    >>> p.parse_args(["report", "a.json", "b.json", "-o", "r.html"]).top
    12
    """
    p = subparsers.add_parser(
        "report", help="self-contained HTML report of two annotation sets",
        description="Write one self-contained HTML file (inline CSS, embedded PNG plots; no network needed):\n"
                    "the statistics table, per-class counts, size buckets, vertices per instance, relations\n"
                    "per class and the class changes (\"dog \u2192 cat\"), IoU / Boundary IoU histograms and per\n"
                    "class,\n"
                    "examples per relation (cropped splits with their parts, merges, class changes, removed,\n"
                    "added, matched) and a gallery of the most changed images (numbered markers + legend).\n"
                    "Uses matplotlib, a dependency (if it went missing: pip install cocodiff[report]).",
        epilog="examples:\n  cocodiff report instances_val2017.json sama_val.zip -o report.html --images val2017/\n"
               "  cocodiff compare a.json b.json -o out/ && cocodiff report --from out/ -o report.html",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a", nargs="?", help="reference annotation file (A); with --from, defaults to the one compared")
    p.add_argument("b", nargs="?", help="other annotation file (B); with --from, defaults to the one compared")
    p.add_argument("-o", "--output", required=True, help="the .html file to write")
    p.add_argument("--images", metavar="DIR", default=None,
                   help="folder of the image files (file_name, or its base name); default: none, outlines on "
                        "blank canvases (the report says so when DIR holds none of the files)")
    p.add_argument("--top", metavar="N", type=positive_int, default=12,
                   help="most changed images in the gallery (default 12)")
    p.add_argument("--examples", metavar="N", type=count, default=6,
                   help="examples per relation, cropped around the instances (default 6; 0: none)")
    p.add_argument("--from", dest="from_dir", metavar="OUT", default=None,
                   help="reuse a `cocodiff compare` output folder (matches.parquet + summary.json)")
    p.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS, help="print nothing on success")
    p.set_defaults(func=_cli_run)
    return p
