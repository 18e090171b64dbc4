"""Malformed inputs (tests/corpus/, table in expected.json) driven through the CLI."""
from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest

import cocodiff
from cocodiff import archive
from cocodiff.cli import main
from cocodiff.errors import InputError

CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())


def test_corpus_is_big_enough():
    bad = [k for k, v in EXPECTED.items() if v["exit"] == 2]
    assert len(bad) >= 30
    for name in EXPECTED:
        assert (CORPUS / name).exists() or name == "missing_file.json"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_cli(name, capsys):
    exp = EXPECTED[name]
    rc = main(["-q", "stats", str(CORPUS / name), "--json"])
    out, err = capsys.readouterr()
    assert rc == exp["exit"], err
    if rc == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1, err            # one line, no traceback
        assert lines[0].startswith("cocodiff: error: ")
        for frag in exp["fragments"]:
            assert frag in lines[0], (frag, lines[0])
        with pytest.raises(InputError):
            cocodiff.load(CORPUS / name)
    else:
        res = json.loads(out)
        assert res["datasets"][0]["instances"] == 3   # nothing dropped


@pytest.mark.parametrize("name", sorted(k for k, v in EXPECTED.items() if "warning" in v))
def test_corpus_warnings(name, capsys):
    exp = EXPECTED[name]
    ds = cocodiff.load(CORPUS / name)
    assert ds.warnings.counts[exp["warning"]] == exp["count"]
    assert ds.n_instances == 3
    with pytest.raises(InputError, match="need >= 3"):
        cocodiff.load(CORPUS / name, strict=True)
    assert main(["-q", "stats", "--strict", str(CORPUS / name)]) == 2


def test_error_attributes():
    with pytest.raises(InputError) as ei:
        cocodiff.load(CORPUS / "odd_coords.json")
    e = ei.value
    assert e.ann_id == 10 and e.field == "segmentation[0]" and e.path.endswith("odd_coords.json")


def test_os_error_is_one_line(tmp_path, capsys):
    d = tmp_path / "unreadable.json"
    d.mkdir()  # a directory named .json with nothing inside
    assert main(["stats", str(d)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cocodiff: error:")


def test_zip_bomb_bounds(tmp_path, monkeypatch):
    base = json.loads((CORPUS / "ok_base.json").read_text())
    big = json.dumps(dict(base, pad=" " * 200_000))
    zp = tmp_path / "bomb.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.json", big)
    assert cocodiff.load(zp).n_instances == 3
    monkeypatch.setattr(archive, "RATIO_MIN_BYTES", 1000)   # the loader reads the policy there
    monkeypatch.setattr(archive, "MAX_RATIO", 20)
    with pytest.raises(InputError, match="ratio"):
        cocodiff.load(zp)
    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(InputError, match="limit"):
        cocodiff.load(zp)
    gz = tmp_path / "big.json.gz"
    gz.write_bytes(gzip.compress(big.encode()))
    with pytest.raises(InputError, match="limit"):
        cocodiff.load(gz)


def test_zip_absolute_member(tmp_path):
    zp = tmp_path / "abs.zip"
    with zipfile.ZipFile(zp, "w") as z:
        z.writestr("/etc/x.json", "{}")
    with pytest.raises(InputError, match="unsafe"):
        cocodiff.load(zp)


def test_results_list_requires_like(capsys):
    p = CORPUS / "results_without_like.json"
    gt = cocodiff.load(CORPUS / "ok_base.json")
    r = cocodiff.load(p, like=gt)
    assert r.n_instances == 1 and r.ann_id.tolist() == [1]
    # loadRes: a bbox-only result becomes its box polygon with area w*h
    assert r.xy.tolist() == [[0, 0], [0, 1], [1, 1], [1, 0]] and r.area[0] == 1.0
