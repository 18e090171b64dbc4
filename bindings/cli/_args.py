"""Option types and options every subcommand shares: values are checked when the command line is
parsed (exit status 2 and one line), not deep inside the work."""
from __future__ import annotations

import argparse

__all__ = ["positive_int", "count", "unit_interval", "margin_value", "add_common"]


def _number(text, kind):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {'an integer' if kind is int else 'a number'}: {text!r}") from None


def positive_int(text):
    """argparse type: an integer >= 1 (threads, workers, counts)."""
    v = _number(text, int)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return v


def count(text):
    """argparse type: an integer >= 0 (how many to show; 0: none)."""
    v = _number(text, int)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {text}")
    return v


def unit_interval(text):
    """argparse type: a number in (0, 1] (thresholds)."""
    v = _number(text, float)
    if not 0.0 < v <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return v


def margin_value(text):
    """argparse type: a number in [0, 1]."""
    v = _number(text, float)
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return v


def add_common(p: argparse.ArgumentParser) -> None:
    """``-v`` / ``-q`` on a subcommand too (``cocodiff compare ... -q`` as well as ``cocodiff -q
    compare ...``), where the subcommand does not define them itself. SUPPRESS: when absent, the
    top-level value stands."""
    have = p._option_string_actions
    if "-v" not in have and "--verbose" not in have:
        p.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                       help="more log output (-vv: debug)")
    if "-q" not in have and "--quiet" not in have:
        p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="only errors")
    elif "-q" not in have:
        p._option_string_actions["-q"] = have["--quiet"]
        have["--quiet"].option_strings.append("-q")
