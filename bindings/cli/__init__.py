"""The ``cocodiff`` command line.

Subcommands come from the modules listed in :data:`_COMMAND_MODULES`: each exposes
``add_cli(subparsers)``, which adds its parser and calls ``set_defaults(func=f)`` with
``f(args) -> int``. The command modules live in this package: they are the only code of
cocodiff that prints; the library modules they call log.

Bad input (:class:`~cocodiff.errors.InputError`, or an ``OSError`` reading an input) prints one
line ``cocodiff: error: <message>`` on stderr and exits with status 2, without a traceback.
Any other exception is a bug: one line ``cocodiff: internal error: ...`` and status 1 (``-vv``
re-raises it with its traceback).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

import cocodiff

from .._io import Terminated
from ..errors import InputError
from ._args import add_common

__all__ = ["main", "build_parser"]

log = logging.getLogger("cocodiff")

_COMMAND_MODULES = ["cocodiff.cli.stats", "cocodiff.cli.compare", "cocodiff.cli.fetch", "cocodiff.cli.synth",
                    "cocodiff.cli.report", "cocodiff.cli.score", "cocodiff.cli.warmup", "cocodiff.cli.export",
                    "cocodiff.cli.eval"]


class _Parser(argparse.ArgumentParser):
    """A usage error is one line -- ``cocodiff compare: error: argument --threads: must be at least
    1, got 0 (see cocodiff compare --help)`` -- and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = _Parser(
        prog="cocodiff",
        description="Compare COCO-format instance annotation sets (e.g. COCO-2017 vs Sama-COCO).",
        epilog="example:\n  cocodiff stats instances_val2017.json sama_coco_val.zip",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(name).add_cli(sub)
    for p in sub.choices.values():
        add_common(p)
    return parser


def _version() -> str:
    return cocodiff.__version__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 internal error, 2 bad input or usage,
    130 interrupted, 143 terminated).

    Ctrl-C (``KeyboardInterrupt``) prints one line ``cocodiff: interrupted`` on stderr and
    returns 130, SIGTERM ``cocodiff: terminated`` and 143, without a traceback (``compare`` writes
    its outputs to a temporary file renamed into place, so none is left half-written under its
    final name).

    Examples
    --------
    >>> from cocodiff.cli import main
    >>> main(["stats", "data/coco2017_subsets/tinycoco_instances_val2017.json", "--json"])  # doctest: +SKIP
    0
    """
    main_thread = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGINT, _on_sigint) if main_thread else None
    old_term = signal.signal(signal.SIGTERM, _on_sigint) if main_thread else None
    try:
        return _main(argv)
    except Terminated:
        print("cocodiff: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("cocodiff: interrupted", file=sys.stderr)
        return 130
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, old)
            signal.signal(signal.SIGTERM, old_term)


#: seconds before SIGINT is sent again when it arrived inside Numba / llvmlite (see _on_sigint)
SIGINT_RETRY_S = 0.1


def _on_sigint(signum, frame):
    """Ctrl-C during :func:`main`: ``KeyboardInterrupt``, except while Numba / llvmlite Python
    code is on the stack. There Python may be running a ctypes callback (the JIT's object cache
    calls back into Python while a kernel is loaded), and an exception raised in a callback is
    printed and dropped -- the run would go on as if Ctrl-C had not been pressed. The signal is
    then sent again a moment later instead, until it lands outside (tests/test_interrupt.py).
    """
    f = frame
    while f is not None:
        if f.f_globals.get("__name__", "").startswith(("numba", "llvmlite")):
            t = threading.Timer(SIGINT_RETRY_S, os.kill, (os.getpid(), signum))
            t.daemon = True
            t.start()
            return
        f = f.f_back
    raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


def _main(argv=None) -> int:
    """The CLI proper (see :func:`main`), Ctrl-C not handled.

    Examples
    --------
    >>> from cocodiff.cli import main
    >>> main(["stats", "data/coco2017_subsets/tinycoco_instances_val2017.json", "--json"])  # doctest: +SKIP
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0) or a usage error (2)
        return int(e.code or 0)
    level = logging.ERROR if args.quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, format="cocodiff: %(levelname)s: %(message)s")
    logging.getLogger("cocodiff").setLevel(level)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    if not getattr(args, "quiet", False) and args.command != "fetch":
        from ..engine._jit import install_compile_notice   # lazy: imports Numba, which fetch and --help skip
        # one stderr line if kernels compile (an empty cache); COCODIFF_COMPILE_NOTICE=0: none
        install_compile_notice(lambda line: print(line, file=sys.stderr, flush=True))
    if argv is None and args.command == "compare" and getattr(args, "scheduler", None) is None \
            and getattr(args, "workers", None) is None:
        # a first run: a second process compiles the comparison's last stages and the next
        # commands' kernels while this one compiles what it meets first (cocodiff.warmup); not
        # when called from Python (tests)
        from ..warmup import start_background   # lazy: only compare needs it
        start_background()
    try:
        return int(args.func(args) or 0)
    except InputError as e:
        print(f"cocodiff: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        fn = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"cocodiff: error: {fn}{e.strerror or e}", file=sys.stderr)
        return 2
    except Exception as e:  # a bug in cocodiff, not bad input: one line unless -vv asks for the traceback
        if args.verbose >= 2:
            raise
        print(f"cocodiff: internal error: {type(e).__name__}: {e} "
              "(this is a bug in cocodiff; rerun with -vv for the traceback and report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
