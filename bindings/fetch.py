"""``cocodiff fetch``: download the official COCO-2017 and Sama-COCO annotation archives safely.

Sources (:data:`SOURCES`):

* ``coco2017`` -- ``annotations_trainval2017.zip`` from ``images.cocodataset.org``
  (instances, captions and keypoints for train2017 and val2017);
* ``sama-coco`` (``--split val`` / ``--split train``) -- ``sama-coco-val.zip`` /
  ``sama-coco-train.zip`` from Sama's public documentation bucket (the URLs FiftyOne uses in
  ``fiftyone/utils/sama.py``); these hold several COCO JSON shards, extracted into
  ``DEST/sama-coco-<split>/``.

A download goes to ``<file>.part`` (resumed with an HTTP ``Range`` request, guarded by
``If-Range`` so a changed remote file restarts cleanly; a server that answers 200 instead of
206 restarts cleanly too), is checked against Content-Length / Content-Range, hashed
(sha256 and md5), compared with any known checksum -- the table below for the official URL,
an explicit ``sha256=``, or the record of an earlier download in ``DEST/cocodiff-fetch.json`` --
checked to be a readable zip archive (a 200 answer carrying an HTML sign-in or error page is
refused and moved to ``<file>.corrupt``), fsynced, and only then renamed to its final name.
Extraction goes through :func:`cocodiff.archive.safe_extract`. A checksum is recorded in the
manifest only for a download that passed every check, extraction included.

A body without a Content-Length is capped: at the archive's size when the source table knows
it, else at ``max_download_bytes`` (``--max-download-bytes``, default 4 GiB); the same cap
refuses an announced length above it. A write error (a full disk) names the file.

The base URL can be overridden with ``--url`` / ``url=`` or the environment variable
``COCODIFF_FETCH_BASE_URL`` (the archive's file name is appended to a base URL).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import http.client
import json
import logging
import os
import re
import socket
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from ._io import write_json_atomic
from .archive import DEFAULT_MAX_BYTES, DEFAULT_MAX_RATIO, safe_extract

if TYPE_CHECKING:
    from tqdm import tqdm

__all__ = ["SOURCES", "FetchError", "fetch", "resolve_source", "MANIFEST_NAME",
           "BASE_URL_ENV", "DEFAULT_MAX_DOWNLOAD_BYTES"]

logger = logging.getLogger(__name__)

MANIFEST_NAME = "cocodiff-fetch.json"
BASE_URL_ENV = "COCODIFF_FETCH_BASE_URL"
_CHUNK = 1 << 20
#: Default cap on a download whose size is not known in advance (no Content-Length, and no
#: size in :data:`SOURCES`), and on an announced size: 4 GiB, ~16x the largest archive here.
DEFAULT_MAX_DOWNLOAD_BYTES = 4 << 30
_USER_AGENT = "cocodiff-fetch/0.1 (+python urllib)"

#: Source table: key -> url, filename, expected size / sha256 / md5 (None where not known),
#: the regex selecting the instance JSON files among the extracted members, and the
#: sub-directory of DEST the archive is extracted into ("" = DEST itself).
#: The COCO size and md5 are the published values (cocodataset.org; widely pinned downstream);
#: no sha256 is published, so the first download's sha256 is recorded in the manifest.
SOURCES: dict[str, dict] = {
    "coco2017": {
        "url": "http://images.cocodataset.org/annotations/annotations_trainval2017.zip",
        "filename": "annotations_trainval2017.zip",
        "size": 252907541,
        "sha256": None,
        "md5": "f4bbac642086de4f52a3fdda2de5fa2c",
        "instances": r"(^|/)instances_(train|val)2017\.json$",
        "subdir": "",
    },
    "sama-coco-val": {
        "url": "https://sama-documentation-assets.s3.amazonaws.com/sama-coco/sama-coco-val.zip",
        "filename": "sama-coco-val.zip",
        "size": None,
        "sha256": None,
        "md5": None,
        "instances": r"\.json$",
        "subdir": "sama-coco-val",
    },
    "sama-coco-train": {
        "url": "https://sama-documentation-assets.s3.amazonaws.com/sama-coco/sama-coco-train.zip",
        "filename": "sama-coco-train.zip",
        "size": None,
        "sha256": None,
        "md5": None,
        "instances": r"\.json$",
        "subdir": "sama-coco-train",
    },
}

_NAMES = ("coco2017", "sama-coco")
_SPLITS = {"val": "val", "validation": "val", "train": "train"}


class FetchError(RuntimeError):
    """A download that failed: unreachable host, HTTP error, truncated transfer, bad checksum.

    ``str(err)`` is a one-line message; the CLI prints ``cocodiff: error: <message>`` and
    exits with status 2.
    """


def resolve_source(name: str, split: str | None = None) -> tuple[str, dict]:
    """Return the :data:`SOURCES` key and entry for a dataset name and split.

    Parameters
    ----------
    name : {"coco2017", "sama-coco"}
        Dataset name. ``"sama-coco-val"`` / ``"sama-coco-train"`` are accepted too.
    split : {"val", "train"} or None
        Required for ``sama-coco``; for ``coco2017`` (one archive holding both splits) it only
        selects which instance files :func:`fetch` returns.

    Examples
    --------
    >>> resolve_source("sama-coco", "val")[1]["filename"]
    'sama-coco-val.zip'
    """
    if split is not None:
        if split not in _SPLITS:
            raise ValueError(f"unknown split {split!r} (choose from val, train)")
        split = _SPLITS[split]
    if name in SOURCES:
        return name, SOURCES[name]
    if name == "sama-coco":
        if split is None:
            raise ValueError("sama-coco needs a split: --split val or --split train")
        key = f"sama-coco-{split}"
        return key, SOURCES[key]
    raise ValueError(f"unknown dataset {name!r} (choose from {', '.join(_NAMES)})")


def _resolve_url(entry: dict, url: str | None) -> tuple[str, bool]:
    """(url, official?) -- an explicit url wins, then the env base URL, then the table."""
    if url:
        if url.endswith("/"):
            return url + entry["filename"], False
        return url, url == entry["url"]
    base = os.environ.get(BASE_URL_ENV)
    if base:
        return base.rstrip("/") + "/" + entry["filename"], False
    return entry["url"], True


# ----------------------------------------------------------------------------- manifest

def _read_manifest(dest: Path) -> dict:
    p = dest / MANIFEST_NAME
    if not p.exists():
        return {"files": {}}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
            raise ValueError("no 'files' object")
        return data
    except (ValueError, OSError) as e:
        raise FetchError(f"{p}: unreadable fetch manifest ({e}); delete it to start afresh") from None


def _write_error(path: Path, err: OSError) -> FetchError:
    """A one-line error naming the file a write failed on (ENOSPC, EDQUOT, EROFS, EIO...)."""
    return FetchError(f"cannot write {path}: {err.strerror or err}")


def _write_json_atomic(path: Path, data: dict) -> None:
    try:
        write_json_atomic(path, data, indent=2, sort_keys=True)
    except OSError as e:
        raise _write_error(path, e) from None


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_Hashes = tuple[int, str, str]  # (size, sha256, md5)
_Expectation = tuple[int | None, str | None, str | None, str]  # (size, sha256, md5, source)


def _hash_file(path: Path) -> _Hashes:
    sha, md5, n = hashlib.sha256(), hashlib.md5(), 0
    with open(path, "rb") as f:
        while True:
            b = f.read(_CHUNK)
            if not b:
                break
            n += len(b)
            sha.update(b)
            md5.update(b)
    return n, sha.hexdigest(), md5.hexdigest()


# ----------------------------------------------------------------------------- download

def _network_error(url: str, err: BaseException) -> FetchError:
    host = urllib.parse.urlsplit(url).netloc or url
    reason = getattr(err, "reason", err)
    if isinstance(reason, OSError) and reason.strerror:
        text = reason.strerror
    elif isinstance(reason, socket.timeout) or isinstance(err, TimeoutError):
        text = "timed out"
    else:
        text = str(reason) or type(reason).__name__
    return FetchError(f"cannot reach {host}: {text} (no network?)")


_Response = http.client.HTTPResponse | urllib.error.HTTPError  # HTTPError: a 416 answer


def _open(url: str, headers: dict[str, str], timeout: float) -> _Response:
    req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT, **headers})
    try:
        return urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416:
            return e  # Range not satisfiable: handled by the caller
        e.close()
        raise FetchError(f"HTTP {e.code} {e.reason} for {url}") from None
    except urllib.error.URLError as e:
        raise _network_error(url, e) from None
    except (OSError, http.client.HTTPException) as e:
        raise _network_error(url, e) from None


_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class _Download:
    """One download of ``url`` into ``part``, resuming ``part`` if present; :meth:`run` returns
    the total size and the answer's Content-Type. Capped at ``expected_size`` when known, else at
    ``max_download_bytes``: a larger announced length is refused before anything is written, a
    body of unknown length is stopped (its partial file removed) as soon as it passes the cap."""

    def __init__(self, url: str, part: Path, meta_path: Path, progress: bool, timeout: float,
                 expected_size: int | None, max_download_bytes: int) -> None:
        self.url = url
        self.part = part
        self.meta_path = meta_path
        self.progress = progress
        self.timeout = timeout
        self.expected_size = expected_size
        if expected_size is not None:
            self.cap = expected_size
            self.cap_why = f"the size of {part.name[:-len('.part')]} in the source catalogue"
        else:
            self.cap = max_download_bytes
            self.cap_why = "--max-download-bytes"

    def run(self) -> tuple[int, str | None]:
        """Up to three tries: a refused or mismatched resume restarts from byte 0."""
        for _ in range(3):
            offset, headers = self._resume_headers()
            resp = _open(self.url, headers, self.timeout)
            with resp:
                status = resp.status if hasattr(resp, "status") else resp.code
                if status == 416:
                    if self._already_complete(resp, offset):
                        return offset, None
                    continue
                answer = self._read_answer(resp, status, offset)
                if answer is None:
                    continue
                mode, offset, total = answer
                self._check_announced(offset, total)
                _write_json_atomic(self.meta_path, {
                    "url": self.url, "etag": resp.headers.get("ETag"),
                    "last_modified": resp.headers.get("Last-Modified"), "size": total})
                received, err, over = self._stream(resp, mode, offset, total)
                self._check_end(received, total, err, over)
                return received, resp.headers.get("Content-Type")
        raise FetchError(f"could not download {self.url}: the server kept refusing to resume; "
                         f"delete {self.part} and retry")

    def _over_cap(self, what: str) -> FetchError:
        """The error for a download over the cap; the partial file and its metadata go."""
        self.part.unlink(missing_ok=True)
        self.meta_path.unlink(missing_ok=True)
        hint = ("not the archive?" if self.expected_size is not None
                else "raise --max-download-bytes if the file really is larger")
        return FetchError(f"{self.url}: {what}, more than the cap of {self.cap} bytes "
                          f"({self.cap_why}); refusing ({hint})")

    def _resume_headers(self) -> tuple[int, dict[str, str]]:
        """(offset, request headers): Range / If-Range from the partial file and its metadata."""
        part, meta_path, url = self.part, self.meta_path, self.url
        offset = part.stat().st_size if part.exists() else 0
        meta = {}
        if offset and meta_path.exists():
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (ValueError, OSError):
                meta = {}
        if offset and meta.get("url") not in (None, url):
            logger.info("partial %s came from %s, not %s; restarting", part.name, meta.get("url"), url)
            offset = 0
        headers = {}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            validator = meta.get("etag") or meta.get("last_modified")
            if validator:
                headers["If-Range"] = validator
        return offset, headers

    def _already_complete(self, resp: _Response, offset: int) -> bool:
        """416 to a Range request: True if the partial file is the whole file, else drop it."""
        m = re.search(r"/(\d+)", resp.headers.get("Content-Range", "") or "")
        if m and int(m.group(1)) == offset:
            logger.info("%s is already complete (%d bytes)", self.part.name, offset)
            return True
        logger.warning("server refused resuming %s at byte %d; restarting", self.part.name, offset)
        self.part.unlink(missing_ok=True)
        return False

    def _read_answer(self, resp: _Response, status: int,
                     offset: int) -> tuple[str, int, int | None] | None:
        """(file mode, offset, total or None) from a 206 or 200 answer; None to restart."""
        part = self.part
        total = None
        if status == 206:
            m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", "") or "")
            if not m or int(m.group(1)) != offset:
                logger.warning("unexpected Content-Range %r for %s; restarting",
                               resp.headers.get("Content-Range"), part.name)
                part.unlink(missing_ok=True)
                return None
            if m.group(3) != "*":
                total = int(m.group(3))
            mode = "ab"
            logger.info("resuming %s at byte %d", part.name, offset)
        elif status == 200:
            if offset:
                logger.info("server ignored the Range request for %s; restarting from byte 0",
                            part.name)
            offset = 0
            cl = resp.headers.get("Content-Length")
            total = int(cl) if cl and cl.isdigit() else None
            mode = "wb"
        else:
            raise FetchError(f"HTTP {status} for {self.url}")
        return mode, offset, total

    def _check_announced(self, offset: int, total: int | None) -> None:
        """Refuse, before anything is written, a size off the catalogue or over the cap."""
        expected_size = self.expected_size
        if expected_size is not None and total is not None and total != expected_size:
            raise FetchError(f"{self.url}: server announces {total} bytes, expected {expected_size}")
        if total is not None and total > self.cap:
            raise self._over_cap(f"the server announces {total} bytes")
        if offset > self.cap:
            raise self._over_cap(f"the partial file {self.part} already holds {offset} bytes")

    def _stream(self, resp: _Response, mode: str, offset: int,
                total: int | None) -> tuple[int, BaseException | None, bool]:
        """Copy the body into the partial file, fsynced: (bytes held, read error or None, over
        the cap?). A write error (a full disk) is raised."""
        part = self.part
        received, err, over = offset, None, False
        bar = _progress_bar(self.progress, total, offset, part.name[:-len(".part")])
        try:
            try:
                f = open(part, mode)
            except OSError as e:
                raise _write_error(part, e) from None
            try:
                while True:
                    try:
                        chunk = resp.read(_CHUNK)
                    except (OSError, http.client.HTTPException) as e:
                        err = e
                        break
                    if not chunk:
                        break
                    if received + len(chunk) > self.cap:
                        over = True
                        break
                    f.write(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                f.flush()
                os.fsync(f.fileno())
                f.close()
            except OSError as e:  # a write, flush or fsync error: ENOSPC and the like
                try:
                    f.close()
                except OSError:
                    pass
                raise FetchError(
                    f"cannot write {part}: {e.strerror or e}; the partial file is kept, "
                    f"free some space and run again to resume") from None
        finally:
            if bar is not None:
                bar.close()
        return received, err, over

    def _check_end(self, received: int, total: int | None, err: BaseException | None,
                   over: bool) -> None:
        """Refuse a body over the cap, a truncated one (kept to resume) or one over its length."""
        if over:
            raise self._over_cap("the server sent no Content-Length" if total is None
                                 else f"the server sent more than the announced {total} bytes")
        if err is not None or (total is not None and received < total):
            why = f" ({type(err).__name__}: {err})" if err is not None else ""
            of = f" of {total}" if total is not None else ""
            raise FetchError(
                f"truncated transfer of {self.url}: received {received}{of} bytes{why}; "
                f"the partial file {self.part} is kept, run again to resume")
        if total is not None and received > total:
            self.part.unlink(missing_ok=True)
            raise FetchError(f"{self.url}: received {received} bytes, more than the announced {total}")


def _progress_bar(enabled: bool, total: int | None, initial: int, desc: str) -> tqdm | None:
    if not enabled:
        return None
    from tqdm import tqdm  # lazy: only for a progress bar
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                desc=desc, file=sys.stderr, leave=False)


def _verify(name: str, size: int, sha256: str, md5: str, exp_size: int | None,
            exp_sha: str | None, exp_md5: str | None, where: str) -> str | None:
    """One-line description of the first mismatch against one expectation, or None."""
    size_note = (f" (size {size} bytes, expected {exp_size})"
                 if exp_size is not None and size != exp_size else "")
    if exp_sha is not None and sha256.lower() != exp_sha.lower():
        return f"{name}: sha256 mismatch: expected {exp_sha.lower()} ({where}), got {sha256}{size_note}"
    if exp_md5 is not None and md5.lower() != exp_md5.lower():
        return f"{name}: md5 mismatch: expected {exp_md5.lower()} ({where}), got {md5}{size_note}"
    if size_note:
        return f"{name}: size {size} bytes, expected {exp_size} ({where})"
    return None


def _zip_problem(path: Path, content_type: str | None = None) -> str | None:
    """One-line description of why ``path`` is not a readable zip archive, or None.

    Reads the central directory only (cheap); member CRCs are checked during extraction.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            zf.infolist()
        return None
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, OSError) as e:
        reason = str(e) or type(e).__name__
    try:
        with open(path, "rb") as f:
            head = f.read(48)
    except OSError:
        head = b""
    text = "".join(c if c.isprintable() else " " for c in head.decode("latin-1"))
    text = " ".join(text.split())
    hints = []
    if content_type:
        hints.append(f"Content-Type {' '.join(content_type.split())}")
    if text:
        hints.append(f"starts with {text!r}")
    looks_html = (b"<html" in head.lower() or b"<!doctype" in head.lower()
                  or "html" in (content_type or "").lower())
    guess = " -- an error or sign-in page answered with status 200?" if looks_html else ""
    extra = f"; {', '.join(hints)}" if hints else ""
    return f"{path.name.removesuffix('.part')} is not a zip archive ({reason}{extra}){guess}"


def _quarantine(path: Path) -> Path:
    bad = path.with_name(path.name.removesuffix(".part") + ".corrupt")
    os.replace(path, bad)
    return bad


class _Archive:
    """One archive of :data:`SOURCES` in ``dest``: its paths, expectations and manifest record."""

    def __init__(self, key: str, entry: dict, dest: Path, src_url: str, official: bool,
                 sha256: str | None) -> None:
        self.key = key
        self.entry = entry
        self.dest = dest
        self.src_url = src_url
        self.official = official
        self.sha256 = sha256
        self.final = dest / entry["filename"]
        self.part = dest / (entry["filename"] + ".part")
        self.meta_path = dest / (entry["filename"] + ".part.json")

    def expectations(self, record: dict | None) -> list[_Expectation]:
        """Every known (size, sha256, md5, where): source table, given sha256, manifest record."""
        entry = self.entry
        checks = []
        if self.official and (entry["size"] or entry["sha256"] or entry["md5"]):
            checks.append((entry["size"], entry["sha256"], entry["md5"], "published checksum"))
        if self.sha256:
            checks.append((None, self.sha256, None, "given sha256"))
        if record:
            checks.append((record.get("size"), record.get("sha256"), None,
                           f"{MANIFEST_NAME} record"))
        return checks

    def check(self, path: Path, record: dict | None) -> _Hashes:
        """Hash ``path`` against every expectation; a mismatch moves it to ``<file>.corrupt``."""
        size, sha, md5 = _hash_file(path)
        for c_size, c_sha, c_md5, where in self.expectations(record):
            problem = _verify(self.entry["filename"], size, sha, md5, c_size, c_sha, c_md5, where)
            if problem:
                bad = _quarantine(path)
                self.meta_path.unlink(missing_ok=True)
                hint = (f" (if that record is wrong, remove it from {MANIFEST_NAME})"
                        if where.endswith("record") else "")
                raise FetchError(f"corrupted download: {problem}; moved to {bad.name}{hint}")
        return size, sha, md5

    def verify_present(self, record: dict | None) -> tuple[_Hashes | None, dict | None]:
        """Check the archive already at its final name: (its hashes, the record). Hashes None:
        not a zip archive (e.g. an HTML page placed and recorded by an earlier version), moved
        aside and its record, which vouches for nothing, dropped, to be downloaded afresh."""
        logger.info("%s already present; verifying", self.final)
        hashes = self.check(self.final, record)
        problem = _zip_problem(self.final)
        if problem is None:
            return hashes, record
        bad = _quarantine(self.final)
        logger.warning("%s; moved to %s, downloading again", problem, bad.name)
        if record is not None and (record.get("sha256") or "").lower() == hashes[1]:
            manifest = _read_manifest(self.dest)
            manifest["files"].pop(self.entry["filename"], None)
            _write_json_atomic(self.dest / MANIFEST_NAME, manifest)
            record = None
        return None, record

    def download(self, record: dict | None, progress: bool, timeout: float,
                 max_download_bytes: int) -> _Hashes:
        """Download to ``<file>.part``, check it, and only then rename it to its final name."""
        part, meta_path = self.part, self.meta_path
        logger.info("downloading %s -> %s", self.src_url, self.final)
        exp_size = self.entry["size"] if self.official else None
        _, content_type = _Download(self.src_url, part, meta_path, progress, timeout, exp_size,
                                    max_download_bytes).run()
        size, sha, md5 = self.check(part, record)
        problem = _zip_problem(part, content_type)
        if problem is not None:
            bad = _quarantine(part)
            meta_path.unlink(missing_ok=True)
            raise FetchError(f"bad download from {self.src_url}: {problem}; moved to {bad.name}")
        os.replace(part, self.final)
        meta_path.unlink(missing_ok=True)
        _fsync_dir(self.dest)
        logger.info("downloaded %s (%d bytes, sha256 %s)", self.final.name, size, sha)
        return size, sha, md5

    def record_checksum(self, hashes: _Hashes, downloaded: bool, record: dict | None) -> None:
        """Record the archive in the manifest; called only once every check passed."""
        now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
        if downloaded or record is None:
            rec_url, rec_date = self.src_url, now
        else:  # verified an archive already present: keep its provenance
            rec_url, rec_date = record.get("url", self.src_url), record.get("date", now)
        size, sha, md5 = hashes
        manifest = _read_manifest(self.dest)
        manifest["files"][self.entry["filename"]] = {
            "name": self.key, "url": rec_url, "size": size, "sha256": sha, "md5": md5,
            "date": rec_date,
        }
        _write_json_atomic(self.dest / MANIFEST_NAME, manifest)

    def instance_files(self, files: list[Path], out_dir: Path, split: str | None) -> list[Path]:
        """The instance JSON files among the extracted ``files`` (for coco2017: of ``split``)."""
        pat = re.compile(self.entry["instances"])
        chosen = []
        for p in files:
            rel = p.relative_to(out_dir).as_posix()
            if not pat.search(rel):
                continue
            if self.key == "coco2017" and split and f"instances_{split}2017.json" != p.name:
                continue
            chosen.append(p)
        if not chosen:
            logger.warning("no instance JSON files found in %s", self.final.name)
        return chosen


def fetch(name: str, dest: str | os.PathLike, split: str | None = None, url: str | None = None,
          extract: bool = True, progress: bool | None = None, *, sha256: str | None = None,
          max_bytes: int = DEFAULT_MAX_BYTES, max_ratio: float = DEFAULT_MAX_RATIO,
          timeout: float = 60.0,
          max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES) -> list[Path]:
    """Download (and by default extract) an official annotation archive into ``dest``.

    The archive is downloaded to ``<file>.part`` (a partial file from an earlier, interrupted
    run is resumed with an HTTP Range request), checked against the announced length,
    hashed, compared with every known checksum (the :data:`SOURCES` table when fetching from
    the official URL, ``sha256=``, and the record of an earlier download of the same file in
    ``dest/cocodiff-fetch.json``), checked to be a readable zip archive, fsynced and only then
    renamed to its final name. The manifest records name, url, size, sha256, md5 and date,
    and only for an archive that passed every check (extraction too, when extracting). An
    archive already present is verified against the manifest instead of downloaded again; one
    that is not a zip archive (an HTML page recorded by an earlier version) is moved aside,
    its record dropped, and downloaded afresh.

    Parameters
    ----------
    name : {"coco2017", "sama-coco"}
        Which archive (see :data:`SOURCES`).
    dest : str or os.PathLike
        Destination directory (created if missing).
    split : {"val", "train"} or None
        Required for ``sama-coco``. For ``coco2017`` it selects which instance files are
        returned (the archive holds both).
    url : str, optional
        Download from this URL instead of the official one; a URL ending in ``/`` is a base
        to which the archive's file name is appended. Default: ``$COCODIFF_FETCH_BASE_URL``
        (a base URL) if set, else the official URL.
    extract : bool, default True
        Extract the archive with :func:`cocodiff.archive.safe_extract` (into ``dest``, or
        ``dest/sama-coco-<split>/`` for Sama-COCO).
    progress : bool or None
        Show a tqdm progress bar; None = only when stderr is a terminal.
    sha256 : str, optional
        Expected sha256 of the archive (in addition to any known one).
    max_bytes, max_ratio : int, float
        Extraction bounds (total uncompressed size; per-member compression ratio).
    timeout : float, default 60
        Socket timeout in seconds.
    max_download_bytes : int, default 4 GiB
        Cap on a download whose size the source table does not know: a server announcing
        more is refused at once, a body without a Content-Length is stopped (and its partial
        file removed) as soon as it passes the cap.

    Returns
    -------
    list of Path
        With ``extract=True`` the extracted instance JSON files; otherwise ``[archive path]``.

    Raises
    ------
    FetchError
        Unreachable host, HTTP error, truncated transfer (the ``.part`` is kept for resuming),
        a download over the size cap, a write error (names the file), size or checksum
        mismatch or not a zip archive (the message names the file and both hashes; the bad
        file is moved to ``<file>.corrupt``, never left under its final name).
    cocodiff.archive.UnsafeArchiveError
        The archive failed a safety check during extraction.
    ValueError
        Unknown name or split.

    Examples
    --------
    >>> from cocodiff.fetch import fetch
    >>> fetch("sama-coco", "data/sama", split="val")        # doctest: +SKIP
    [PosixPath('data/sama/sama-coco-val/...json'), ...]
    >>> fetch("coco2017", "data/coco", split="val")          # doctest: +SKIP
    [PosixPath('data/coco/annotations/instances_val2017.json')]
    """
    key, entry = resolve_source(name, split)
    split = _SPLITS.get(split) if split else None
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    src_url, official = _resolve_url(entry, url)
    if progress is None:
        progress = sys.stderr.isatty()

    archive = _Archive(key, entry, dest, src_url, official, sha256)
    record = _read_manifest(dest)["files"].get(entry["filename"])
    hashes = None
    if archive.final.exists():
        hashes, record = archive.verify_present(record)
    downloaded = hashes is None
    if downloaded:
        hashes = archive.download(record, progress, timeout, max_download_bytes)

    if not extract:
        archive.record_checksum(hashes, downloaded, record)
        return [archive.final]
    out_dir = dest / entry["subdir"] if entry["subdir"] else dest
    files = safe_extract(archive.final, out_dir, max_bytes=max_bytes, max_ratio=max_ratio)
    archive.record_checksum(hashes, downloaded, record)
    return archive.instance_files(files, out_dir, split)
