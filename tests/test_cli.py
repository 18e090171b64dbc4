"""One command-line convention across the subcommands: -o/--output on every command that writes,
-v/-q before or after the subcommand, option values checked at parse time (exit 2, one line), every
--help with defaults and examples, results lists as B."""
from __future__ import annotations

import json

import pytest

from cocodiff.cli import build_parser, main
from conftest import DATA

A = DATA / "coco2014_val100" / "instances_val2014_100.json"
RES = DATA / "coco2014_val100" / "instances_val2014_fakesegm100_results.json"
COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)


@pytest.mark.parametrize("argv, frag", [
    (["compare", "a", "b", "-o", "x", "--threads", "0"], "--threads: must be at least 1, got 0"),
    (["compare", "a", "b", "-o", "x", "--workers", "0"], "--workers: must be at least 1"),
    (["compare", "a", "b", "-o", "x", "--iou-threshold", "1.5"], "--iou-threshold: must be in (0, 1]"),
    (["compare", "a", "b", "-o", "x", "--iou-threshold", "-1"], "--iou-threshold: must be in (0, 1]"),
    (["compare", "a", "b", "-o", "x", "--cover-threshold", "7"], "--cover-threshold: must be in (0, 1]"),
    (["compare", "a", "b", "-o", "x", "--group-margin", "2"], "--group-margin: must be in [0, 1]"),
    (["compare", "a", "b", "-o", "x", "--mode", "best"], "--mode: invalid choice"),
    (["stats", "a", "--threads", "x"], "--threads: not an integer"),
    (["synth", "-o", "x", "--b-parts", "0"], "--b-parts: must be at least 1"),
    (["warmup", "all"], "not one of load, compare, relations, stats, report"),
])
def test_bad_option_values_one_line_exit_2(argv, frag, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"cocodiff {argv[0]}: error: "), err
    assert frag in lines[0], err


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_takes_v_and_q_after_it_and_has_examples(cmd, capsys):
    p = build_parser()
    sub = p._subparsers._group_actions[0].choices[cmd]
    opts = sub._option_string_actions
    assert "-q" in opts and "-v" in opts and "--quiet" in opts, cmd
    help_text = sub.format_help()
    assert "example" in help_text.lower(), cmd
    writes = {"compare", "report", "synth", "fetch", "export"}
    if cmd in writes:
        assert "-o" in opts and "--output" in opts, cmd
    for a in sub._actions:   # every option that takes a value says its default
        if a.option_strings and a.nargs != 0 and a.default not in (None, argparse_suppress()) \
                and not a.required and a.help:
            assert "default" in a.help.lower(), (cmd, a.option_strings)


def argparse_suppress():
    import argparse
    return argparse.SUPPRESS


def test_quiet_after_the_subcommand(tmp_path, capsys):
    assert main(["compare", str(A), str(A), "-o", str(tmp_path / "o"), "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["compare", str(A), str(A), "-o", str(tmp_path / "o2")]) == 0
    assert "matched" in capsys.readouterr().out


def test_compare_a_results_list_from_the_cli(tmp_path, capsys):
    assert main(["compare", str(A), str(RES), "-o", str(tmp_path / "o"), "--mode", "greedy", "--per-class"]) == 0
    out = capsys.readouterr().out
    assert "classes that changed most" in out
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert s["params"]["mode"] == "greedy" and s["meta"]["b_instances"] > 0
    # the other way round: one line, no Python keyword
    assert main(["compare", str(RES), str(A), "-o", str(tmp_path / "o3")]) == 2
    err = capsys.readouterr().err
    assert "second input (B)" in err and "like=" not in err and len(err.strip().splitlines()) == 1
