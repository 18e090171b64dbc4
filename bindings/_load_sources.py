"""The loader's inputs as bytes: plain files, ``.gz`` files, zip members, directories, streams.

:func:`read_one` turns one input path into ``(name, bytes)`` pairs, one per JSON file it holds
(a zip member is named ``archive.zip:member.json``). Zips and gzip streams are read under the
one safety policy of :mod:`cocodiff.archive` (its bounds are read from that module at each
call, so there is one set of them to change); pipes and devices are read as streams under the
same per-member bound. See :mod:`cocodiff.loader` for the policy as the user sees it.
"""
from __future__ import annotations

import gzip
import os
import re
import stat
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import archive as _archive
from .errors import InputError

#: a stream (a pipe, a device) whose first this-many bytes hold no JSON value is refused
_STREAM_WS_MAX = 64 << 20
_NOT_JSON = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")   # control bytes: never in JSON text


def _stream_stop(out: bytearray, n0: int) -> bool:
    """For a stream of unknown size: stop at a byte no JSON text holds (the decoder then
    names it), or when the first :data:`_STREAM_WS_MAX` bytes are all whitespace."""
    if _NOT_JSON.search(out, n0):
        return True
    return len(out) >= _STREAM_WS_MAX and not bytes(out[:_STREAM_WS_MAX]).strip()


def _read_plain(p: Path) -> np.ndarray:
    """A plain file's bytes in a numpy buffer: large numpy arrays get huge pages where the OS
    offers them, so reading a big file costs a fraction of the page faults of a ``bytes``."""
    with open(p, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        try:
            buf = np.empty(size, np.uint8)
        except MemoryError:
            raise InputError(f"file of {size} bytes does not fit in memory", str(p)) from None
        got = f.readinto(buf)
        if got != size or f.read(1):   # the file changed while we read it: take what is there now
            f.seek(0)
            data = _archive.read_limited(f, str(p), max(size, _archive.MAX_MEMBER_BYTES))
            return np.frombuffer(data, np.uint8)
    return buf


def _read_stream(p: Path) -> np.ndarray:
    """A file that is not a regular file (a pipe, a device): read as a stream under the
    :data:`~cocodiff.archive.MAX_MEMBER_BYTES` cap, stopping at the first byte that cannot be JSON."""
    with open(p, "rb") as f:
        data = _archive.read_limited(f, str(p), _archive.MAX_MEMBER_BYTES, stop=_stream_stop)
    return np.frombuffer(data, np.uint8)


def _read_gzip(p: Path) -> bytearray:
    """A ``.gz`` file's bytes, streamed under the shared policy: at most
    :data:`~cocodiff.archive.MAX_MEMBER_BYTES`, and at most :data:`~cocodiff.archive.MAX_RATIO`
    times the compressed bytes read."""
    with open(p, "rb") as raw:
        counted = _archive._Counting(raw)
        with gzip.GzipFile(fileobj=counted, mode="rb") as f:
            try:
                st = os.fstat(raw.fileno())
                regular = stat.S_ISREG(st.st_mode)
            except OSError:
                regular = True
            return _archive.read_limited(f, str(p), _archive.MAX_MEMBER_BYTES, packed=lambda: counted.n,
                                         max_ratio=_archive.MAX_RATIO, ratio_min=_archive.RATIO_MIN_BYTES,
                                         stop=None if regular else _stream_stop)


def _json_members(zf: zipfile.ZipFile, path: str) -> list[zipfile.ZipInfo]:
    """The zip's ``*.json`` members by name (``__MACOSX/`` and ``._*`` skipped), once every
    member name is known to be safe and the count is within the bound."""
    infos = zf.infolist()
    if len(infos) > _archive.MAX_MEMBERS:
        raise InputError(f"{len(infos)} members, over the bound of {_archive.MAX_MEMBERS}; zip refused", path)
    for info in infos:
        try:
            _archive.check_member_name(info.filename)
        except ValueError as e:
            raise InputError(f"unsafe member path {info.filename!r} ({e}); zip refused", path) from None
    members = sorted(
        (i for i in infos if not i.is_dir() and i.filename.lower().endswith(".json")
         and not i.filename.startswith("__MACOSX/") and not os.path.basename(i.filename).startswith("._")),
        key=lambda i: i.filename)
    if not members:
        raise InputError("zip holds no *.json member", path)
    return members


def _read_zip(path: str) -> list[tuple[str, bytes]]:
    """Every ``*.json`` member's bytes, checked on the declared sizes before a byte is
    decompressed and then streamed under the same bounds (:mod:`cocodiff.archive`)."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise InputError(f"not a valid zip file ({e})", path) from None
    out = []
    with zf:
        members = _json_members(zf, path)

        def refuse(reason, info):   # a bound crossed by the members in all names the zip
            reason = reason.replace(" (zip bomb?)", "; refused as a likely zip bomb")
            raise InputError(reason + ("" if "refused" in reason else "; refused"),
                             path if "in all" in reason else f"{path}:{info.filename}")

        max_total = _archive.MAX_TOTAL_BYTES
        _archive.check_declared(members, refuse, max_total=max_total, max_ratio=_archive.MAX_RATIO,
                                ratio_min=_archive.RATIO_MIN_BYTES, max_member=_archive.MAX_MEMBER_BYTES)
        total = 0
        for info in members:
            name = f"{path}:{info.filename}"
            try:
                with zf.open(info) as f:   # at most what it declares (checked above), and in all
                    data = _archive.read_limited(f, name, min(info.file_size, max_total - total))
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
                raise InputError(f"cannot read zip member ({e})", name) from None
            total += len(data)
            out.append((name, data))
    return out


def read_one(path: str) -> list[tuple[str, bytes]]:
    """The ``(name, bytes)`` of every JSON file input ``path`` holds: the file itself (plain,
    ``.gz``, a pipe or a device), a zip's ``*.json`` members, or a directory's ``*.json`` files
    (sorted by name). Raises :class:`InputError` for anything unreadable or refused."""
    p = Path(path)
    try:
        if p.is_dir():
            files = sorted(q for q in p.iterdir() if q.suffix.lower() == ".json" and q.is_file())
            if not files:
                raise InputError("directory holds no *.json file", path)
            out = []
            for q in files:
                out.extend(read_one(str(q)))
            return out
        if not p.exists():
            raise InputError("no such file", path)
        mode = os.stat(p).st_mode
        if stat.S_ISBLK(mode):
            raise InputError("a block device, not a file; refused", path)
        low = p.name.lower()
        if low.endswith(".zip"):
            if not stat.S_ISREG(mode):
                raise InputError("a zip input must be a regular file (not a pipe or a device)", path)
            return _read_zip(str(p))
        if low.endswith(".gz"):
            try:
                return [(str(p), _read_gzip(p))]
            except (gzip.BadGzipFile, EOFError, zlib.error) as e:
                raise InputError(f"not a valid gzip file ({e})", path) from None
        if not stat.S_ISREG(mode):
            return [(str(p), _read_stream(p))]
        return [(str(p), _read_plain(p))]
    except InputError:
        raise
    except OSError as e:
        raise InputError(f"cannot read ({e.strerror or e})", path) from None


def first_byte(mv: memoryview) -> bytes:
    """The first byte that is not JSON whitespace (b"" when there is none)."""
    for a in range(0, len(mv), 1 << 16):
        head = bytes(mv[a:a + (1 << 16)]).lstrip(b" \t\r\n")
        if head:
            return head[:1]
    return b""


def file_size(p) -> int:
    """The size of ``p`` when it is a single plain file, else -1."""
    try:
        p = os.fspath(p)
        return os.path.getsize(p) if os.path.isfile(p) else -1
    except (TypeError, OSError):
        return -1


def is_results_file(path) -> bool:
    """Whether ``path`` is a single plain or gzipped JSON file whose first value is a list (a
    results file); False for anything else, or when it cannot be read (loading then says why)."""
    try:
        p = os.fspath(path)
        if not os.path.isfile(p):
            return False
        opener = gzip.open if p.endswith(".gz") else open
        with opener(p, "rb") as f:
            for _ in range(64):   # skip up to 4 MiB of leading whitespace
                head = f.read(1 << 16)
                if not head:
                    return False
                if head.startswith(b"\xef\xbb\xbf"):
                    head = head[3:]
                head = head.lstrip(b" \t\r\n")
                if head:
                    return head[:1] == b"["
    except (OSError, TypeError, EOFError, zlib.error):
        return False
    return False
