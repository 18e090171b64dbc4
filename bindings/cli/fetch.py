"""``cocodiff fetch``: the command-line face of :mod:`cocodiff.fetch`."""
from __future__ import annotations

import argparse
import sys
import zipfile

from ..archive import DEFAULT_MAX_BYTES, DEFAULT_MAX_RATIO, parse_size
from ..errors import InputError
from ..fetch import _NAMES, BASE_URL_ENV, DEFAULT_MAX_DOWNLOAD_BYTES, FetchError, fetch

# ----------------------------------------------------------------------------- CLI

_EPILOG = """\
examples:
  cocodiff fetch coco2017 --dest data/coco
      downloads annotations_trainval2017.zip (~241 MiB) from images.cocodataset.org and
      extracts it into data/coco/annotations/ (instances_val2017.json, instances_train2017.json, ...)
  cocodiff fetch sama-coco --split val --dest data/sama
      downloads sama-coco-val.zip from Sama's documentation bucket and extracts its JSON
      shards into data/sama/sama-coco-val/
  COCODIFF_FETCH_BASE_URL=http://mirror.local/coco/ cocodiff fetch coco2017 --no-extract

safety: downloads go to FILE.part and are renamed only once complete and verified
(Content-Length, published size/md5 for the official COCO archive, and the sha256 recorded in
DEST/cocodiff-fetch.json by an earlier download), and must be a readable zip archive (an HTML
page answered with status 200 is refused and moved to FILE.corrupt); a checksum is recorded only
for a download that passed every check. A body without a Content-Length stops at the archive's
known size, else at --max-download-bytes. An interrupted download is resumed on the
next run. Extraction refuses members that would escape DEST ('..', absolute paths, drive
letters, symlinks), archives over --max-extract-bytes uncompressed, and members compressed more
than --max-ratio:1 (zip bombs); files appear under their final names only once fully written.
Prints the extracted instance JSON paths (or the archive with --no-extract). Exit status 0 on
success, 2 on an error (one line: cocodiff: error: ...).
"""


def _cli(args: argparse.Namespace) -> int:
    try:  # fetch's resolve_source refuses sama-coco without --split
        paths = fetch(args.name, args.dest, split=args.split, url=args.url, extract=args.extract,
                      progress=False if getattr(args, "quiet", False) else None,
                      max_bytes=args.max_extract_bytes, max_ratio=args.max_ratio,
                      timeout=args.timeout, max_download_bytes=args.max_download_bytes)
    except (FetchError, InputError, ValueError, OSError, zipfile.BadZipFile) as e:
        if isinstance(e, zipfile.BadZipFile):
            msg = f"not a valid zip archive: {e}"
        elif isinstance(e, OSError) and e.filename:
            msg = f"{e.filename}: {e.strerror or e}"
        else:
            msg = str(e)
        print(f"cocodiff: error: {msg}", file=sys.stderr)
        return 2
    if not getattr(args, "quiet", False):
        for p in paths:
            print(p)
    return 0


def _size_arg(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``fetch`` subcommand on an ``argparse`` subparsers object.

    The subcommand's ``func`` default is a callable ``func(args) -> int`` (exit status).

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="cocodiff")
    >>> sub = parser.add_subparsers(dest="command")
    >>> _ = add_cli(sub)
    >>> args = parser.parse_args(["fetch", "sama-coco", "--split", "val", "--dest", "d"])
    >>> args.name, args.split, args.extract
    ('sama-coco', 'val', True)
    """
    p = subparsers.add_parser(
        "fetch",
        help="download the official COCO-2017 / Sama-COCO annotation archives",
        description="Download an official annotation archive (resumable, verified, atomic) "
                    "and extract it safely.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", choices=_NAMES,
                   help="coco2017: annotations_trainval2017.zip; sama-coco: Sama's re-annotation "
                        "(needs --split)")
    p.add_argument("--split", choices=("val", "train"),
                   help="sama-coco: which archive (required); coco2017: which instances file to "
                        "print (the archive holds both)")
    p.add_argument("-o", "--output", "--dest", dest="dest", default=".", metavar="DIR",
                   help="destination directory (default: current directory)")
    p.add_argument("--url", metavar="URL",
                   help=f"download from URL instead of the official source; a URL ending in '/' "
                        f"is a base the archive name is appended to (default: ${BASE_URL_ENV} "
                        f"as a base, if set)")
    p.add_argument("--no-extract", dest="extract", action="store_false",
                   help="only download and verify the archive")
    # SUPPRESS: when absent, a top-level ``cocodiff -q`` (same dest) is not overridden
    p.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS,
                   help="no progress bar (also off when stderr is not a terminal) and no "
                        "listing of the resulting files")
    p.add_argument("--max-extract-bytes", type=_size_arg, default=DEFAULT_MAX_BYTES, metavar="SIZE",
                   help="refuse archives over SIZE uncompressed, e.g. 8G, 512M (default: 8G)")
    p.add_argument("--max-ratio", type=float, default=DEFAULT_MAX_RATIO, metavar="R",
                   help=f"refuse members (over 1 MiB) compressed more than R:1 "
                        f"(default: {DEFAULT_MAX_RATIO:g})")
    p.add_argument("--max-download-bytes", type=_size_arg, default=DEFAULT_MAX_DOWNLOAD_BYTES,
                   metavar="SIZE",
                   help="refuse a download larger than SIZE when the archive's size is not known "
                        "in advance (no Content-Length), e.g. 2G, 800M (default: 4G)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S",
                   help="network timeout in seconds (default: 60)")
    p.set_defaults(func=_cli)
    return p
