"""Ctrl-C: an interrupted run leaves complete outputs or none, no temp files, and exits 130 in one line.

Every run here is a real subprocess sent a real SIGINT. The moment is chosen by watching the
output folder (the signal lands while the command writes), or by a ``READY`` line the runner
prints once imports are done (the signal lands during loading / computing).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"

# Runs cocodiff.cli.main(argv) after printing READY; with SLOW_WRITE=<seconds> pyarrow's
# write_table writes the first half of the file, sleeps, then the rest (a slow disk), so a
# signal sent when the temp file appears lands inside the write.
RUNNER = r"""
import importlib, io, os, pkgutil, sys, time
import cocodiff.cli
# import now what the commands import lazily: a SIGINT landing inside an import can be
# swallowed by CPython ("Exception ignored in ... _get_module_lock"), which is not ours to test
import cocodiff.engine
for _m in ["cocodiff.loader", "cocodiff.statistics", "cocodiff.matching", "cocodiff.rasterize",
           "cocodiff.synth", "pyarrow.parquet", "tqdm"] + [
           "cocodiff.engine." + m.name for m in pkgutil.iter_modules(cocodiff.engine.__path__)]:
    try:
        importlib.import_module(_m)
    except ImportError:
        pass
slow = float(os.environ.get("SLOW_WRITE", "0"))
if slow:
    import pyarrow.parquet as pq
    _real = pq.write_table
    def write_table(table, where, *a, **k):
        buf = io.BytesIO()
        _real(table, buf, *a, **k)
        data = buf.getvalue()
        with open(where, "wb") as f:
            f.write(data[: len(data) // 2]); f.flush()
            time.sleep(slow)
            f.write(data[len(data) // 2:])
    pq.write_table = write_table
sys.stderr.write("READY\n"); sys.stderr.flush()
sys.exit(cocodiff.cli.main(sys.argv[1:]))
"""


def _spawn(argv, env_extra=None):
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(env_extra or {}))
    return subprocess.Popen([sys.executable, "-c", RUNNER, *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=ROOT)


def _wait_ready(p, timeout=120):
    """Block until the runner printed READY (imports done); returns stderr lines read so far."""
    t0 = time.monotonic()
    line = p.stderr.readline().decode()
    assert line.strip() == "READY", (line, p.poll())
    assert time.monotonic() - t0 < timeout


def _size(q: Path) -> int:
    try:
        return q.stat().st_size
    except OSError:       # renamed or removed meanwhile
        return -1


def _interrupt_when(p, out_dir: Path, pattern: str, timeout=300.0) -> bool:
    """Send SIGINT as soon as a non-empty file matching ``pattern`` is in ``out_dir``
    (non-empty: the write has begun).

    Returns whether the signal was sent while the process ran (False: it finished first).
    """
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if p.poll() is not None:
            return False
        if out_dir.is_dir() and any(_size(q) > 0 for q in out_dir.glob(pattern)):
            p.send_signal(signal.SIGINT)
            return True
        time.sleep(0.001)
    p.kill()
    raise AssertionError(f"no {pattern} appeared in {out_dir} within {timeout}s")


def _finish(p, timeout=120):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        raise
    return p.returncode, out.decode(), err.decode()


def _assert_interrupted_cleanly(rc, err):
    assert rc == 130, (rc, err[-2000:])
    assert "Traceback" not in err, err[-2000:]
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert lines == ["cocodiff: interrupted"], lines


def _no_temp_files(d: Path):
    left = sorted(q.name for q in d.iterdir() if q.name.startswith(".") or ".tmp" in q.name or "tmp" in q.suffix)
    assert not left, f"temp files left behind in {d}: {left}"


def _check_compare_outputs(out: Path, n_rows=None):
    """matches.parquet / summary.json: each either absent or complete and consistent."""
    import pyarrow.parquet as pq

    mp, sp = out / "matches.parquet", out / "summary.json"
    t = pq.read_table(mp) if mp.exists() else None    # raises on a truncated file
    s = json.loads(sp.read_text()) if sp.exists() else None
    if t is not None and n_rows is not None:
        assert t.num_rows == n_rows
    if s is not None:  # summary is written second: the table is complete when it exists
        assert t is not None
        assert sum(s["relations"].values()) == t.num_rows
    return t, s


@pytest.fixture(scope="module")
def small_pair(tmp_path_factory):
    from cocodiff.synth import write_pair
    d = tmp_path_factory.mktemp("twin_tiny")
    return write_pair(d, "tiny", seed=3)


@pytest.fixture(scope="module")
def val_pair(tmp_path_factory):
    from cocodiff.synth import write_pair
    d = tmp_path_factory.mktemp("twin_val")
    return write_pair(d, "val", seed=0)


def test_compare_interrupted_inside_the_write(small_pair, tmp_path):
    """SIGINT while matches.parquet is half-written: no matches.parquet, no temp file, exit 130."""
    out = tmp_path / "out"
    out.mkdir()
    # an older complete result in the folder must survive the interrupted rewrite untouched
    (out / "summary.json").write_text('{"old": true}')
    p = _spawn(["-q", "compare", str(small_pair["a"]), str(small_pair["b"]), "-o", str(out)],
               {"SLOW_WRITE": "3"})
    _wait_ready(p)
    assert _interrupt_when(p, out, ".matches.*"), "compare finished before it was interrupted"
    rc, _, err = _finish(p)
    _assert_interrupted_cleanly(rc, err)
    assert not (out / "matches.parquet").exists()
    assert json.loads((out / "summary.json").read_text()) == {"old": True}
    _no_temp_files(out)


# SIGINT while a long Numba kernel runs (the loader's JSON scanner, engine/jsonscan.py) used to
# kill the process with SIGSEGV or surface as "CPUDispatcher(_scan) returned a result with an
# exception set" (numba/numba#2324); the loader now defers SIGINT around the kernel
# (cocodiff._io.sigint_deferred), so every delay must give 130 and one line.
@pytest.mark.parametrize("command", ["compare", "stats"])
def test_interrupted_while_loading(val_pair, tmp_path, command):
    """Ctrl-C at several moments of loading / computing: always 130 and one line, no output."""
    for k, delay in enumerate((0.1, 0.3, 0.6)):
        out = tmp_path / f"out{k}"
        if command == "compare":
            argv = ["-q", "compare", str(val_pair["a"]), str(val_pair["b"]), "-o", str(out)]
        else:
            argv = ["-q", "stats", str(val_pair["b"]), str(val_pair["a"]), "--json"]
        p = _spawn(argv)
        _wait_ready(p)
        time.sleep(delay)
        if p.poll() is not None:
            break         # finished already (a warm columnar cache makes loading fast)
        p.send_signal(signal.SIGINT)
        rc, stdout, err = _finish(p, timeout=30)   # a hang after SIGINT fails here
        if rc in (0, -signal.SIGINT) and err == "":
            # The signal landed after main() had returned (the run had just finished): Python's
            # shutdown ends by SIGINT's default action, or -- when it lands after the last
            # bytecode ran -- is never acted on (exit 0). Then the output must be complete.
            if command == "stats":
                json.loads(stdout)
            else:
                assert sorted(q.name for q in out.iterdir()) == ["matches.parquet", "summary.json"]
            continue
        _assert_interrupted_cleanly(rc, err)
        assert stdout == ""                        # no partial JSON / table
        assert not out.exists() or not any(out.iterdir())


def test_main_keyboardinterrupt_in_process(monkeypatch, capsys):
    """main() itself turns KeyboardInterrupt into status 130 and one line."""
    import cocodiff.cli.stats as st
    from cocodiff.cli import main

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(st, "load", boom)
    assert main(["stats", str(CORPUS / "ok_base.json")]) == 130
    assert capsys.readouterr().err.strip().splitlines() == ["cocodiff: interrupted"]


@pytest.mark.parametrize("stage", ["parquet", "summary"])
def test_write_cleans_up_on_interrupt(small_pair, tmp_path, monkeypatch, stage):
    """Comparison.write: an interrupt mid-file removes the temp file and keeps the old result."""
    import cocodiff
    import pyarrow.parquet as pq

    cmp = cocodiff.compare(small_pair["a"], small_pair["b"])
    out = tmp_path / "out"
    first = cmp.write(out)
    old_m = (out / "matches.parquet").read_bytes()
    old_s = (out / "summary.json").read_bytes()
    assert json.loads(old_s)["relations"] == first["relations"]

    def half_then_interrupt(obj, where, *a, **k):    # pq.write_table(table, path)
        with open(where, "wb") as f:
            f.write(b"PAR1 half")
        raise KeyboardInterrupt

    def half_bytes_then_interrupt(path, data):     # Path.write_bytes(summary json)
        with open(path, "wb") as f:
            f.write(data[:10])
        raise KeyboardInterrupt

    if stage == "parquet":
        monkeypatch.setattr(pq, "write_table", half_then_interrupt)
    else:
        from pathlib import Path
        monkeypatch.setattr(Path, "write_bytes", half_bytes_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        cmp.write(out)
    _no_temp_files(out)
    assert (out / "matches.parquet").read_bytes() == old_m   # all or nothing: neither file replaced
    assert (out / "summary.json").read_bytes() == old_s


def test_write_renames_both_or_neither(small_pair, tmp_path, monkeypatch):
    """A Ctrl-C arriving while write() renames its files is held until both are in place."""
    import cocodiff
    from cocodiff import _io

    cmp = cocodiff.compare(small_pair["a"], small_pair["b"])
    out = tmp_path / "out"
    real_replace = os.replace
    renamed = []

    def replace_then_sigint(src, dst):
        real_replace(src, dst)
        renamed.append(os.path.basename(dst))
        if len(renamed) == 1:
            os.kill(os.getpid(), signal.SIGINT)   # between the two renames

    monkeypatch.setattr(_io.os, "replace", replace_then_sigint)
    with pytest.raises(KeyboardInterrupt):   # delivered once both renames are done
        cmp.write(out)
    assert sorted(renamed) == ["matches.parquet", "summary.json"]
    assert sorted(p.name for p in out.iterdir()) == ["matches.parquet", "summary.json"]
    _no_temp_files(out)


@pytest.mark.slow
def test_compare_val_interrupted_while_writing(val_pair, tmp_path):
    """A real val-size compare, SIGINT the moment its temp output appears: all or nothing."""
    out = tmp_path / "out"
    p = _spawn(["-q", "compare", str(val_pair["a"]), str(val_pair["b"]), "-o", str(out)])
    _wait_ready(p)
    sent = _interrupt_when(p, out, ".*.tmp")
    rc, _, err = _finish(p)
    if sent and rc != 0:
        _assert_interrupted_cleanly(rc, err)
    else:   # the write won the race: it must then be complete
        assert rc == 0, err
    t, s = _check_compare_outputs(out)
    if rc == 0:
        assert t is not None and s is not None
    _no_temp_files(out)


def _check_synth_outputs(d: Path):
    """Every synth output present under its final name is complete."""
    import zipfile

    for name in ("a.json", "b.json", "truth.json"):
        if (d / name).exists():
            json.loads((d / name).read_bytes())          # raises on a truncated file
    if (d / "b.zip").exists():
        with zipfile.ZipFile(d / "b.zip") as z:
            assert z.testzip() is None


def test_synth_interrupted_while_writing(tmp_path):
    out = tmp_path / "twin"
    p = _spawn(["-q", "synth", "--scale", "val", "--out", str(out)])
    _wait_ready(p)
    sent = _interrupt_when(p, out, "*.json")
    rc, _, err = _finish(p)
    if sent and rc != 0:
        _assert_interrupted_cleanly(rc, err)
    else:
        assert rc == 0, err
    _check_synth_outputs(out)
    _no_temp_files(out)


def test_synth_parts_interrupted_leaves_no_temp(tmp_path):
    out = tmp_path / "twin"
    p = _spawn(["-q", "synth", "--scale", "val", "--b-parts", "4", "--out", str(out)])
    _wait_ready(p)
    # the temp file of b.zip (".b.zip.XXXX.tmp"; "b.zip.tmp" before bindings/_io.py)
    assert _interrupt_when(p, out, "*b.zip*tmp"), "synth finished before it was interrupted"
    rc, _, err = _finish(p)
    _assert_interrupted_cleanly(rc, err)
    _check_synth_outputs(out)
    _no_temp_files(out)


def test_sigint_inside_numba_is_sent_again(monkeypatch):
    """Ctrl-C landing in Numba / llvmlite Python code (where a KeyboardInterrupt raised in a
    ctypes callback would be dropped) is sent again shortly; anywhere else it interrupts."""
    import types
    import cocodiff.cli as cli
    sent = []
    monkeypatch.setattr(cli.os, "kill", lambda pid, sig: sent.append((pid, sig)))
    monkeypatch.setattr(cli, "SIGINT_RETRY_S", 0.0)
    outer = types.SimpleNamespace(f_globals={"__name__": "cocodiff.loader"}, f_back=None)
    inner = types.SimpleNamespace(f_globals={"__name__": "numba.core.codegen"}, f_back=outer)
    cli._on_sigint(signal.SIGINT, inner)          # no exception: deferred
    for _ in range(200):
        if sent:
            break
        time.sleep(0.01)
    assert sent == [(os.getpid(), signal.SIGINT)]
    with pytest.raises(KeyboardInterrupt):
        cli._on_sigint(signal.SIGINT, outer)


# ----------------------------------------------------------------------------- SIGTERM, kill -9, two runs

def test_compare_sigterm_inside_the_write(small_pair, tmp_path):
    """SIGTERM is handled like Ctrl-C: exit 143, one line, no temp file, the earlier output intact."""
    out = tmp_path / "out"
    assert main_ok(["-q", "compare", str(small_pair["a"]), str(small_pair["b"]), "-o", str(out)])
    before = {f: (out / f).read_bytes() for f in ("matches.parquet", "summary.json")}
    p = _spawn(["-q", "compare", str(small_pair["a"]), str(small_pair["b"]), "-o", str(out), "--iou-threshold",
                "0.6"], {"SLOW_WRITE": "3"})
    _wait_ready(p)
    t0 = time.monotonic()
    while not any(_size(q) > 0 for q in out.glob(".matches.*")):
        assert p.poll() is None and time.monotonic() - t0 < 300, "compare finished before the signal"
        time.sleep(0.001)
    p.send_signal(signal.SIGTERM)
    rc, _, err = _finish(p)
    assert rc == 143, (rc, err[-2000:])
    assert [ln for ln in err.strip().splitlines() if ln.strip()] == ["cocodiff: terminated"]
    assert {f: (out / f).read_bytes() for f in before} == before
    _no_temp_files(out)


def main_ok(argv) -> bool:
    from cocodiff.cli import main
    return main(argv) == 0


def test_kill_9_leftovers_are_removed_by_the_next_run(small_pair, tmp_path):
    """A run killed with SIGKILL leaves its temp files (named with its pid) and its lock; the next
    run into the folder removes them and takes the lock over."""
    out = tmp_path / "out"
    out.mkdir()
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    dead = p.pid   # a pid that no longer runs
    for name in (f".matches.parquet.{dead}.abc.tmp", f".summary.json.{dead}.def.tmp"):
        (out / name).write_bytes(b"half")
    (out / ".cocodiff-compare.lock").write_text(str(dead))
    assert main_ok(["-q", "compare", str(small_pair["a"]), str(small_pair["b"]), "-o", str(out)])
    _no_temp_files(out)
    _check_compare_outputs(out)


def test_a_second_run_into_a_busy_folder_is_refused(small_pair, tmp_path, capsys):
    from cocodiff._io import folder_lock
    from cocodiff.cli import main
    out = tmp_path / "out"
    with folder_lock(out, "compare"):   # another live writer (this process) holds the folder
        rc = main(["compare", str(small_pair["a"]), str(small_pair["b"]), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "another cocodiff compare" in err, err
    assert not (out / "matches.parquet").exists()


def test_readers_refuse_a_mixed_or_broken_pair(small_pair, tmp_path):
    """summary.json from one run beside matches.parquet from another (a kill between the two
    renames, or two runs into one folder), a truncated table, a missing file: one line naming the
    file, never the mix."""
    import shutil

    from cocodiff.errors import InputError
    from cocodiff.matching import read_output
    one, two = tmp_path / "one", tmp_path / "two"
    assert main_ok(["-q", "compare", str(small_pair["a"]), str(small_pair["b"]), "-o", str(one)])
    assert main_ok(["-q", "compare", str(small_pair["a"]), str(small_pair["b"]), "-o", str(two),
                    "--iou-threshold", "0.9"])
    table, summ = read_output(one)
    assert table.num_rows == sum(summ["relations"].values())
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(one / "summary.json", mixed)
    shutil.copy(two / "matches.parquet", mixed)
    with pytest.raises(InputError, match="not the table this summary.json was written with"):
        read_output(mixed)
    # a truncated table (and a summary without the checksum, as older versions wrote)
    s = json.loads((one / "summary.json").read_text())
    s.pop("matches_sha256")
    (mixed / "summary.json").write_text(json.dumps(s))
    data = (one / "matches.parquet").read_bytes()
    (mixed / "matches.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="unreadable table") as e:
        read_output(mixed)
    assert "matches.parquet" in str(e.value) and "\n" not in str(e.value)
    (mixed / "matches.parquet").unlink()
    with pytest.raises(InputError, match="no matches.parquet"):
        read_output(mixed)


def test_summary_records_absolute_inputs(small_pair, tmp_path, monkeypatch):
    """Inputs given relative to the working directory are recorded absolute, with size and
    mtime, so readers find them from anywhere and can tell when they changed."""
    monkeypatch.chdir(Path(small_pair["a"]).parent)
    out = tmp_path / "out"
    assert main_ok(["-q", "compare", "a.json", "b.json", "-o", str(out)])
    meta = json.loads((out / "summary.json").read_text())["meta"]
    assert meta["a_path"] == str(Path(small_pair["a"]).resolve())
    assert meta["inputs"]["a"]["size"] == Path(small_pair["a"]).stat().st_size
    assert meta["inputs"]["b"]["mtime_ns"] == Path(small_pair["b"]).stat().st_mtime_ns


def test_report_from_a_mixed_or_truncated_folder_is_one_line(small_pair, tmp_path, capsys):
    import shutil

    from cocodiff.cli import main
    one, two, mixed = tmp_path / "one", tmp_path / "two", tmp_path / "mixed"
    assert main_ok(["-q", "compare", str(small_pair["a"]), str(small_pair["b"]), "-o", str(one)])
    assert main_ok(["-q", "compare", str(small_pair["a"]), str(small_pair["b"]), "-o", str(two), "--mode", "greedy",
                    "--iou-threshold", "0.9"])
    mixed.mkdir()
    shutil.copy(one / "summary.json", mixed)
    shutil.copy(two / "matches.parquet", mixed)
    capsys.readouterr()
    assert main(["report", "--from", str(mixed), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "matches.parquet" in err[0] and "not the table" in err[0], err
    data = (one / "matches.parquet").read_bytes()
    shutil.copy(one / "summary.json", mixed)
    (mixed / "matches.parquet").write_bytes(data[: len(data) // 3])
    assert main(["report", "--from", str(mixed), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "matches.parquet" in err[0], err
    assert not (tmp_path / "r.html").exists()


def test_report_from_warns_when_an_input_changed(small_pair, tmp_path, caplog):
    import logging
    import shutil

    from cocodiff.cli import main
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    shutil.copy(small_pair["a"], a)
    shutil.copy(small_pair["b"], b)
    out = tmp_path / "out"
    assert main_ok(["-q", "compare", str(a), str(b), "-o", str(out)])
    with caplog.at_level(logging.WARNING, logger="cocodiff"):
        assert main(["report", "--from", str(out), "-o", str(tmp_path / "r1.html")]) == 0
        assert "changed since" not in caplog.text
        a.write_bytes(a.read_bytes() + b"\n")
        assert main(["report", "--from", str(out), "-o", str(tmp_path / "r2.html")]) == 0
    assert "changed since the comparison" in caplog.text and str(a) in caplog.text
