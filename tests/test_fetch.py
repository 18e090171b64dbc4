"""Tests for ``cocodiff fetch`` and safe zip extraction, against a local HTTP server only.

No test touches the internet: every download goes to an ``http.server`` on 127.0.0.1 in a
thread (ephemeral port) serving a generated archive.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import socket
import stat
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cocodiff import fetch as fetch_mod
from cocodiff.archive import UnsafeArchiveError, check_member_name, parse_size, safe_extract
from cocodiff.cli.fetch import add_cli
from cocodiff.fetch import MANIFEST_NAME, FetchError, fetch

COCO_NAME = "annotations_trainval2017.zip"


def _coco_json(split: str, n: int) -> dict:
    images = [{"id": i + 1, "file_name": f"{i + 1:012d}.jpg", "width": 640, "height": 480}
              for i in range(n)]
    anns = [{"id": 100 + i, "image_id": i + 1, "category_id": 1, "iscrowd": 0,
             "bbox": [10.0 + i, 20.0, 30.0, 40.0], "area": 1200.0,
             "segmentation": [[10.0 + i, 20.0, 40.0 + i, 20.0, 40.0 + i, 60.0]]}
            for i in range(n)]
    return {"info": {"description": f"tiny {split}"}, "images": images, "annotations": anns,
            "categories": [{"id": 1, "name": "person", "supercategory": "person"}]}


def _zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture(scope="module")
def members() -> dict[str, bytes]:
    # Random padding makes the archive big enough (~200 KB) for a meaningful partial download.
    pad = os.urandom(150_000).hex()
    val = _coco_json("val", 3)
    val["info"]["pad"] = pad
    return {
        "annotations/instances_val2017.json": json.dumps(val).encode(),
        "annotations/instances_train2017.json": json.dumps(_coco_json("train", 5)).encode(),
        "annotations/captions_val2017.json": b'{"annotations": []}',
    }


@pytest.fixture(scope="module")
def archive(members) -> bytes:
    return _zip_bytes(members)


_ENDLESS_BYTES = 32 << 20


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        cfg = self.server.cfg
        cfg["requests"].append({"path": self.path, "range": self.headers.get("Range"),
                                "if_range": self.headers.get("If-Range")})
        if not self.path.endswith("/" + cfg["filename"]):
            self.send_error(404)
            return
        data = cfg["data"]
        rng = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if cfg["range"] and rng and (if_range is None or if_range == cfg["etag"]):
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = data[start:]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            body = data
            self.send_response(200)
        if not cfg.get("no_length"):
            self.send_header("Content-Length", str(len(body)))
        if cfg.get("content_type"):
            self.send_header("Content-Type", cfg["content_type"])
        self.send_header("ETag", cfg["etag"])
        if cfg["range"]:
            self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if cfg.get("endless"):
            # no Content-Length and a body far longer than the archive (HTTP/1.0: it ends when
            # the connection closes): only a client-side bound stops it early. The server stops
            # at _ENDLESS_BYTES itself so that a client without a bound cannot fill the disk.
            try:
                for _ in range(_ENDLESS_BYTES // 65536):
                    self.wfile.write(b"\0" * 65536)
            except OSError:
                pass
            return
        if cfg["truncate"]:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(body)


@pytest.fixture
def server(archive):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.cfg = {"data": archive, "filename": COCO_NAME, "range": True, "truncate": False,
               "etag": '"v1"', "requests": []}
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    srv.base = f"http://127.0.0.1:{srv.server_address[1]}/files/"
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


# ------------------------------------------------------------------------------- downloads

def test_full_download_and_extract(server, archive, members, tmp_path):
    dest = tmp_path / "coco"
    paths = fetch("coco2017", dest, url=server.base, progress=False)
    names = sorted(p.relative_to(dest).as_posix() for p in paths)
    assert names == ["annotations/instances_train2017.json", "annotations/instances_val2017.json"]
    for p in paths:
        assert p.read_bytes() == members[p.relative_to(dest).as_posix()]
    # the non-instance member is extracted but not returned
    assert (dest / "annotations/captions_val2017.json").read_bytes() == b'{"annotations": []}'
    assert (dest / COCO_NAME).read_bytes() == archive
    assert not (dest / (COCO_NAME + ".part")).exists()
    assert not [p for p in dest.iterdir() if p.name.startswith(".cocodiff-extract")]
    man = json.loads((dest / MANIFEST_NAME).read_text())
    rec = man["files"][COCO_NAME]
    assert rec["sha256"] == _sha(archive)
    assert rec["md5"] == hashlib.md5(archive).hexdigest()
    assert rec["size"] == len(archive)
    assert rec["url"] == server.base + COCO_NAME
    assert rec["name"] == "coco2017" and rec["date"][:2] == "20"
    # no Range request on a fresh download
    assert server.cfg["requests"][0]["range"] is None

    # second call: archive verified against the manifest, not downloaded again; split filter
    n_req = len(server.cfg["requests"])
    again = fetch("coco2017", dest, split="val", url=server.base, progress=False)
    assert [p.name for p in again] == ["instances_val2017.json"]
    assert len(server.cfg["requests"]) == n_req


def test_env_base_url_and_no_extract(server, archive, tmp_path, monkeypatch):
    monkeypatch.setenv("COCODIFF_FETCH_BASE_URL", server.base.rstrip("/"))
    out = fetch("coco2017", tmp_path, extract=False, progress=True)
    assert out == [tmp_path / COCO_NAME]
    assert out[0].read_bytes() == archive
    assert not (tmp_path / "annotations").exists()


def test_resumed_download(server, archive, tmp_path):
    half = len(archive) // 2
    part = tmp_path / (COCO_NAME + ".part")
    part.write_bytes(archive[:half])
    paths = fetch("coco2017", tmp_path, url=server.base, extract=False, progress=False)
    assert paths[0].read_bytes() == archive
    assert server.cfg["requests"][0]["range"] == f"bytes={half}-"
    assert not part.exists()


def test_resume_uses_if_range_and_restarts_when_remote_changed(server, archive, tmp_path):
    # first attempt is truncated: a .part and its ETag are kept
    server.cfg["truncate"] = True
    with pytest.raises(FetchError):
        fetch("coco2017", tmp_path, url=server.base, extract=False, progress=False)
    # the remote file changes (new ETag, different bytes): resuming would splice two files
    new = _zip_bytes({"annotations/instances_val2017.json": b'{"images": [], "annotations": []}'})
    server.cfg.update(truncate=False, data=new, etag='"v2"')
    out = fetch("coco2017", tmp_path, url=server.base, extract=False, progress=False)
    assert out[0].read_bytes() == new
    assert server.cfg["requests"][-1]["if_range"] == '"v1"'


def test_server_ignoring_range_restarts_cleanly(server, archive, tmp_path):
    server.cfg["range"] = False
    half = len(archive) // 2
    # a .part whose bytes do NOT match: appending to it would corrupt the archive
    (tmp_path / (COCO_NAME + ".part")).write_bytes(b"\xff" * half)
    out = fetch("coco2017", tmp_path, url=server.base, extract=False, progress=False)
    assert out[0].read_bytes() == archive
    assert server.cfg["requests"][0]["range"] == f"bytes={half}-"


def test_part_already_complete_416(server, archive, tmp_path):
    (tmp_path / (COCO_NAME + ".part")).write_bytes(archive)
    out = fetch("coco2017", tmp_path, url=server.base, extract=False, progress=False)
    assert out[0].read_bytes() == archive


def test_truncated_transfer_is_reported_and_resumable(server, archive, tmp_path):
    server.cfg["truncate"] = True
    with pytest.raises(FetchError, match="truncated") as ei:
        fetch("coco2017", tmp_path, url=server.base, progress=False)
    assert f"of {len(archive)} bytes" in str(ei.value)
    assert not (tmp_path / COCO_NAME).exists()
    part = tmp_path / (COCO_NAME + ".part")
    assert part.exists() and part.stat().st_size == len(archive) // 2
    assert not (tmp_path / MANIFEST_NAME).exists()
    # the next run resumes from where it stopped and completes
    server.cfg["truncate"] = False
    paths = fetch("coco2017", tmp_path, url=server.base, progress=False)
    assert server.cfg["requests"][-1]["range"] == f"bytes={len(archive) // 2}-"
    assert (tmp_path / COCO_NAME).read_bytes() == archive
    assert len(paths) == 2


def test_truncated_resume_is_reported(server, archive, tmp_path):
    # a resumed (206) transfer that stops early: the total comes from Content-Range
    half = len(archive) // 2
    part = tmp_path / (COCO_NAME + ".part")
    part.write_bytes(archive[:half])
    server.cfg["truncate"] = True
    with pytest.raises(FetchError, match=f"of {len(archive)} bytes"):
        fetch("coco2017", tmp_path, url=server.base, extract=False, progress=False)
    assert not (tmp_path / COCO_NAME).exists()
    assert half < part.stat().st_size < len(archive)
    server.cfg["truncate"] = False
    out = fetch("coco2017", tmp_path, url=server.base, extract=False, progress=False)
    assert out[0].read_bytes() == archive


def test_wrong_sha256_is_an_error_and_not_placed(server, archive, tmp_path):
    wrong = "0" * 64
    with pytest.raises(FetchError) as ei:
        fetch("coco2017", tmp_path, url=server.base, sha256=wrong, progress=False)
    msg = str(ei.value)
    assert COCO_NAME in msg and wrong in msg and _sha(archive) in msg
    assert not (tmp_path / COCO_NAME).exists()
    assert not (tmp_path / "annotations").exists()
    assert not (tmp_path / MANIFEST_NAME).exists()


def test_manifest_mismatch_is_an_error(server, archive, tmp_path):
    fetch("coco2017", tmp_path, url=server.base, extract=False, progress=False)
    good_sha = _sha(archive)
    # the archive is removed, and the server now serves different bytes under the same name
    (tmp_path / COCO_NAME).unlink()
    evil = _zip_bytes({"annotations/instances_val2017.json": b"{}"})
    server.cfg["data"] = evil
    with pytest.raises(FetchError) as ei:
        fetch("coco2017", tmp_path, url=server.base, progress=False)
    msg = str(ei.value)
    assert good_sha in msg and _sha(evil) in msg and COCO_NAME in msg
    assert not (tmp_path / COCO_NAME).exists()
    assert not (tmp_path / "annotations").exists()
    # the manifest still holds the good record
    rec = json.loads((tmp_path / MANIFEST_NAME).read_text())["files"][COCO_NAME]
    assert rec["sha256"] == good_sha


def test_corrupted_existing_archive_is_detected(server, archive, tmp_path):
    fetch("coco2017", tmp_path, url=server.base, extract=False, progress=False)
    arc = tmp_path / COCO_NAME
    data = bytearray(arc.read_bytes())
    data[100] ^= 0xFF
    arc.write_bytes(bytes(data))
    with pytest.raises(FetchError, match="sha256 mismatch") as ei:
        fetch("coco2017", tmp_path, url=server.base, progress=False)
    assert _sha(bytes(data)) in str(ei.value) and _sha(archive) in str(ei.value)
    assert not arc.exists()
    assert not (tmp_path / "annotations").exists()


def test_http_404(server, tmp_path):
    server.cfg["filename"] = "other.zip"
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch("coco2017", tmp_path, url=server.base, progress=False)
    assert not (tmp_path / COCO_NAME).exists()


def test_sama_split_and_subdir(server, tmp_path):
    shards = {"sama_coco_val_0.json": json.dumps(_coco_json("val", 2)).encode(),
              "sama_coco_val_1.json": json.dumps(_coco_json("val", 1)).encode()}
    server.cfg.update(data=_zip_bytes(shards), filename="sama-coco-val.zip")
    paths = fetch("sama-coco", tmp_path, split="val", url=server.base, progress=False)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in paths) == [
        "sama-coco-val/sama_coco_val_0.json", "sama-coco-val/sama_coco_val_1.json"]
    with pytest.raises(ValueError, match="split"):
        fetch("sama-coco", tmp_path, url=server.base, progress=False)


def test_source_table():
    src = fetch_mod.SOURCES
    assert src["coco2017"]["url"] == \
        "http://images.cocodataset.org/annotations/annotations_trainval2017.zip"
    # the URLs FiftyOne uses in fiftyone/utils/sama.py
    assert src["sama-coco-val"]["url"] == \
        "https://sama-documentation-assets.s3.amazonaws.com/sama-coco/sama-coco-val.zip"
    assert src["sama-coco-train"]["url"] == \
        "https://sama-documentation-assets.s3.amazonaws.com/sama-coco/sama-coco-train.zip"
    for entry in src.values():
        assert set(entry) >= {"url", "filename", "size", "sha256"}
        assert entry["url"].endswith("/" + entry["filename"])


# ------------------------------------------------------------------------------- bad downloads
# (issue 18, item 8) a 200 answer that is not the archive, a body of unknown length, a full disk

_HTML = (b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>"
         b"<body>Please sign in to continue.</body></html>\n")


@pytest.mark.parametrize("extract", [True, False])
def test_html_answer_is_not_recorded_and_real_archive_then_accepted(server, archive, tmp_path,
                                                                   extract):
    # a captive portal / error page served with status 200 under the archive's URL
    server.cfg.update(data=_HTML, content_type="text/html; charset=utf-8")
    with pytest.raises(FetchError, match="not a zip archive") as ei:
        fetch("coco2017", tmp_path, url=server.base, extract=extract, progress=False)
    msg = str(ei.value)
    assert "\n" not in msg and COCO_NAME in msg and "text/html" in msg
    # no checksum recorded for it, nothing under the final name, nothing extracted
    man = tmp_path / MANIFEST_NAME
    assert not man.exists() or COCO_NAME not in json.loads(man.read_text())["files"]
    assert not (tmp_path / COCO_NAME).exists()
    assert not (tmp_path / "annotations").exists()
    assert (tmp_path / (COCO_NAME + ".corrupt")).read_bytes() == _HTML
    # the server is fixed: the real archive is accepted and recorded, not rejected
    server.cfg.update(data=archive, content_type=None)
    out = fetch("coco2017", tmp_path, url=server.base, extract=extract, progress=False)
    assert len(out) == (2 if extract else 1)
    assert (tmp_path / COCO_NAME).read_bytes() == archive
    rec = json.loads(man.read_text())["files"][COCO_NAME]
    assert rec["sha256"] == _sha(archive) and rec["size"] == len(archive)


def test_unsafe_archive_is_not_recorded(server, tmp_path):
    server.cfg["data"] = _zip_bytes({"../evil.json": b"{}"})
    with pytest.raises(UnsafeArchiveError):
        fetch("coco2017", tmp_path / "d", url=server.base, progress=False)
    man = tmp_path / "d" / MANIFEST_NAME
    assert not man.exists() or COCO_NAME not in json.loads(man.read_text())["files"]


def test_html_recorded_by_an_earlier_version_is_recovered(server, archive, tmp_path):
    # what the old code left behind: the HTML page under the final name, its sha256 recorded
    (tmp_path / COCO_NAME).write_bytes(_HTML)
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"files": {COCO_NAME: {
        "name": "coco2017", "url": server.base + COCO_NAME, "size": len(_HTML),
        "sha256": _sha(_HTML), "md5": hashlib.md5(_HTML).hexdigest(), "date": "2024-01-01"}}}))
    out = fetch("coco2017", tmp_path, url=server.base, progress=False)
    assert len(out) == 2
    assert (tmp_path / COCO_NAME).read_bytes() == archive
    assert json.loads((tmp_path / MANIFEST_NAME).read_text())["files"][COCO_NAME]["sha256"] \
        == _sha(archive)


def test_unknown_length_is_capped(server, tmp_path):
    server.cfg.update(no_length=True, endless=True, range=False)
    with pytest.raises(FetchError, match="max-download-bytes") as ei:
        fetch("coco2017", tmp_path, url=server.base, progress=False, max_download_bytes=300_000)
    msg = str(ei.value)
    assert "\n" not in msg and "300000" in msg and "Content-Length" in msg
    assert not (tmp_path / COCO_NAME).exists()
    assert not (tmp_path / (COCO_NAME + ".part")).exists()  # not left to fill the disk
    assert not (tmp_path / MANIFEST_NAME).exists()


def test_unknown_length_within_cap_is_fine(server, archive, tmp_path):
    server.cfg.update(no_length=True, range=False)
    out = fetch("coco2017", tmp_path, url=server.base, progress=False, extract=False,
                max_download_bytes=len(archive))
    assert out[0].read_bytes() == archive


def test_unknown_length_capped_at_catalogue_size(server, archive, tmp_path, monkeypatch):
    # the official source (here pointed at the local server) has a known size: that is the cap
    entry = dict(fetch_mod.SOURCES["coco2017"], url=server.base + COCO_NAME,
                 size=len(archive), md5=None)
    monkeypatch.setitem(fetch_mod.SOURCES, "coco2017", entry)
    server.cfg.update(no_length=True, endless=True, range=False)
    with pytest.raises(FetchError, match=f"{len(archive)} bytes") as ei:
        fetch("coco2017", tmp_path, url=entry["url"], progress=False)
    assert "catalogue" in str(ei.value)
    assert not (tmp_path / (COCO_NAME + ".part")).exists()
    server.cfg.update(endless=False, data=archive)
    out = fetch("coco2017", tmp_path, url=entry["url"], progress=False, extract=False)
    assert out[0].read_bytes() == archive


def test_cli_max_download_bytes(server, tmp_path, capsys):
    server.cfg.update(no_length=True, endless=True, range=False)
    args = _parser().parse_args(["fetch", "coco2017", "--dest", str(tmp_path), "--url",
                                 server.base, "--quiet", "--max-download-bytes", "256K"])
    assert args.max_download_bytes == 256 * 1024
    assert args.func(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cocodiff: error: ") and "262144" in err[0]
    assert _parser().parse_args(["fetch", "coco2017"]).max_download_bytes == \
        fetch_mod.DEFAULT_MAX_DOWNLOAD_BYTES


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_disk_full_names_the_file(server, tmp_path, capsys):
    # the partial file is /dev/full: every write fails with ENOSPC, as on a full disk
    part = tmp_path / (COCO_NAME + ".part")
    part.symlink_to("/dev/full")
    with pytest.raises(FetchError) as ei:
        fetch("coco2017", tmp_path, url=server.base, progress=False)
    msg = str(ei.value)
    assert str(part) in msg and "No space left on device" in msg and "\n" not in msg
    assert not (tmp_path / MANIFEST_NAME).exists()
    args = _parser().parse_args(["fetch", "coco2017", "--dest", str(tmp_path), "--url",
                                 server.base, "--quiet"])
    assert args.func(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(part) in err[0] and "No space left" in err[0]


# ------------------------------------------------------------------------------- CLI

def _parser():
    parser = argparse.ArgumentParser(prog="cocodiff")
    sub = parser.add_subparsers(dest="command")
    add_cli(sub)
    return parser


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_cli_no_network_one_line_exit_2(tmp_path, capsys):
    port = _closed_port()
    args = _parser().parse_args(["fetch", "coco2017", "--dest", str(tmp_path),
                                 "--url", f"http://127.0.0.1:{port}/", "--quiet"])
    rc = args.func(args)
    out, err = capsys.readouterr()
    assert rc == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"cocodiff: error: cannot reach 127.0.0.1:{port}: ")
    assert lines[0].endswith("(no network?)")
    assert "Traceback" not in err
    assert not (tmp_path / COCO_NAME).exists()


def test_cli_success_prints_paths(server, tmp_path, capsys):
    args = _parser().parse_args(["fetch", "coco2017", "--split", "val", "--dest", str(tmp_path),
                                 "--url", server.base])
    assert args.func(args) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [str(tmp_path / "annotations" / "instances_val2017.json")]


def test_cli_sama_without_split_and_help(tmp_path, capsys):
    args = _parser().parse_args(["fetch", "sama-coco", "--dest", str(tmp_path)])
    assert args.func(args) == 2
    assert "--split" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _parser().parse_args(["fetch", "--help"])
    help_text = capsys.readouterr().out
    for word in ("coco2017", "sama-coco", "--split", "--dest", "--url", "--no-extract", "--quiet",
                 "COCODIFF_FETCH_BASE_URL", "examples:"):
        assert word in help_text


def test_cli_unsafe_archive_exit_2(server, tmp_path, capsys):
    server.cfg["data"] = _zip_bytes({"../evil.json": b"{}"})
    args = _parser().parse_args(["fetch", "coco2017", "--dest", str(tmp_path / "d"),
                                 "--url", server.base, "--quiet"])
    assert args.func(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "../evil.json" in err[0] and err[0].startswith("cocodiff: error: ")
    assert not (tmp_path / "evil.json").exists()


# ------------------------------------------------------------------------------- archive safety

@pytest.mark.parametrize("bad", ["../evil.json", "a/../../evil.json", "/abs/evil.json",
                                 "C:/evil.json", "c:evil.json", "..\\evil.json",
                                 "a\\..\\..\\evil.json", "\\\\server\\share\\evil.json"])
def test_zip_slip_refused(tmp_path, bad):
    zpath = tmp_path / "slip.zip"
    zpath.write_bytes(_zip_bytes({"ok.json": b"{}", bad: b'{"evil": 1}'}))
    dest = tmp_path / "sub" / "dest"
    with pytest.raises(UnsafeArchiveError) as ei:
        safe_extract(zpath, dest)
    assert "slip.zip" in str(ei.value)
    # nothing written anywhere: not the good member, not the evil one
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["slip.zip"]


def test_symlink_member_refused(tmp_path):
    zpath = tmp_path / "link.zip"
    info = zipfile.ZipInfo("annotations/link.json")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr(info, "/etc/passwd")
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        safe_extract(zpath, dest)
    assert not any(p.is_file() or p.is_symlink() for p in dest.rglob("*"))


def test_zip_bomb_ratio_refused(tmp_path):
    zpath = tmp_path / "bomb.zip"
    zpath.write_bytes(_zip_bytes({"bomb.json": b"\0" * (8 << 20)}))
    assert zpath.stat().st_size < 100_000  # ratio far above the default bound
    with pytest.raises(UnsafeArchiveError, match="compression ratio"):
        safe_extract(zpath, tmp_path / "dest")
    assert not any(p.is_file() for p in (tmp_path / "dest").rglob("*"))
    # the same archive is fine once the ratio bound allows it
    out = safe_extract(zpath, tmp_path / "dest2", max_ratio=1e6)
    assert out[0].stat().st_size == 8 << 20


def test_total_size_bound_refused(tmp_path, members):
    zpath = tmp_path / "a.zip"
    zpath.write_bytes(_zip_bytes(members))
    total = sum(len(v) for v in members.values())
    with pytest.raises(UnsafeArchiveError, match="bound"):
        safe_extract(zpath, tmp_path / "dest", max_bytes=total - 1)
    assert not any(p.is_file() for p in (tmp_path / "dest").rglob("*"))
    out = safe_extract(zpath, tmp_path / "dest", max_bytes=total)
    assert len(out) == 3


def test_fetch_passes_extraction_bounds(server, tmp_path):
    server.cfg["data"] = _zip_bytes({"annotations/instances_val2017.json": b" " * (4 << 20)})
    with pytest.raises(UnsafeArchiveError):
        fetch("coco2017", tmp_path, url=server.base, progress=False)
    assert not (tmp_path / "annotations").exists()
    with pytest.raises(UnsafeArchiveError):
        fetch("coco2017", tmp_path, url=server.base, progress=False, max_ratio=1e6,
              max_bytes=1 << 20)


def test_check_member_name_and_parse_size():
    assert check_member_name("./a//b.json").as_posix() == "a/b.json"
    assert check_member_name("a..b/c.json").as_posix() == "a..b/c.json"  # '..' inside a name is fine
    for bad in ["", "..", "a/..", "/x", "D:x", "a\x00b"]:
        with pytest.raises(ValueError):
            check_member_name(bad)
    assert parse_size("8G") == 8 * 1024 ** 3
    assert parse_size("512MiB") == 512 * 1024 ** 2
    assert parse_size("100") == 100
    with pytest.raises(ValueError):
        parse_size("lots")
