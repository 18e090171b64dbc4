"""``cocodiff warmup``: compile and cache the kernels ahead of the work."""
from __future__ import annotations

import argparse
import sys

from ..warmup import PARTS, start_background, warmup


def _part(text):
    """argparse type: one of :data:`~cocodiff.warmup.PARTS`."""
    if text not in PARTS:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(PARTS)}")
    return text


def _run(args) -> int:
    parts = tuple(dict.fromkeys(args.parts)) if args.parts else PARTS
    rest = tuple(x for x in parts if x != "load")
    # on an empty cache, a second process compiles the rest while this one compiles the loader
    proc = start_background(rest) if "load" in parts and rest else None
    secs = warmup(("load",) if proc is not None else parts)
    if proc is not None:
        proc.wait()
        secs.update(warmup(rest))   # loads what the other process cached (or compiles what it could not)
    if not getattr(args, "quiet", False):
        from ..engine._jit import numba_cache_dir   # lazy: the parser imports every subcommand module
        where = numba_cache_dir()
        sys.stdout.write(", ".join(f"{k} {v:.1f} s" for k, v in secs.items())
                         + (f"; kernels cached in {where}\n" if where
                            else "; no writable cache folder: nothing kept\n"))
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``cocodiff warmup [PART ...]``."""
    p = subparsers.add_parser(
        "warmup", help="compile and cache the kernels now (cluster images, Dask workers, CI)",
        description="Compile the kernels the commands use and cache them under the user's cache folder "
                    "(COCODIFF_CACHE_DIR, else $XDG_CACHE_HOME/cocodiff, else ~/.cache/cocodiff), so that the "
                    "first real run starts in about a second. Takes about 20 s on 2 cores; a no-op when "
                    "the kernels are cached already.",
        epilog="examples:\n"
               "  cocodiff warmup                    # everything (load, compare, relations, stats, report)\n"
               "  cocodiff warmup load compare       # what `cocodiff compare` needs\n"
               "  RUN cocodiff warmup                # in a Dockerfile, after pip install cocodiff",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("parts", nargs="*", type=_part, metavar="PART",
                   help=f"what to compile, any of: {', '.join(PARTS)} (default: all)")
    p.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS, help="print nothing")
    p.set_defaults(func=_run)
    return p
