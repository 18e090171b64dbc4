"""Safe extraction of zip archives (annotation downloads and user-supplied zips).

:func:`safe_extract` refuses, before writing anything, an archive whose member names could
escape the destination (zip-slip: ``..`` components, absolute paths, drive letters, backslash
tricks, NUL bytes), that holds symbolic links or special files, that declares more uncompressed
bytes than a bound, or whose members are suspiciously compressible (zip bombs). It extracts into
a temporary directory inside the destination and moves each finished file into place with
:func:`os.replace`, so a refused or interrupted extraction leaves no half-written file under a
final name. Actual bytes written are counted too, so an archive that lies about its sizes is
stopped at the bound.

One safety policy for compressed input
--------------------------------------
The bounds below are shared by :func:`safe_extract` and the loader's reading of ``.zip`` and
``.json.gz`` inputs (:mod:`cocodiff.loader`, which reads them from this module at each call), so
both refuse the same archives:

* :data:`MAX_RATIO` (100): a member of more than :data:`RATIO_MIN_BYTES` (1 MiB) uncompressed
  may not inflate more than 100 times its compressed size -- and neither may the archive as a
  whole (the members' declared sizes added up against their compressed sizes), so that many
  small members cannot do what one large one may not. COCO JSON compresses 5-20x; deflate
  bombs reach ~1000x. A gzip stream, whose size is known only once read, is checked while it
  is decompressed: once past 1 MiB, the bytes out may not exceed 100 times the bytes in.
* :data:`MAX_TOTAL_BYTES` (8 GiB): all members together, declared and as actually read.
* :data:`MAX_MEMBER_BYTES` (4 GiB): one member (or gzip stream, or pipe) held in memory by
  the loader.
* :data:`MAX_MEMBERS` (100,000).

Everything is checked on the declared sizes before a byte is decompressed, and again on the
bytes as they stream out (a member may not yield more than it declares), never after they
are held. :func:`check_declared` and :func:`read_limited` are the shared checks.
"""
from __future__ import annotations

import io
import logging
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import IO

from .errors import InputError

__all__ = [
    "UnsafeArchiveError",
    "safe_extract",
    "check_member_name",
    "check_declared",
    "read_limited",
    "parse_size",
    "MAX_RATIO",
    "RATIO_MIN_BYTES",
    "MAX_TOTAL_BYTES",
    "MAX_MEMBER_BYTES",
    "MAX_MEMBERS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_RATIO",
    "DEFAULT_MAX_MEMBERS",
]

logger = logging.getLogger(__name__)

# ---- the one safety policy for compressed input (see the module docstring)
# What each bound protects: the ratio, against a small download or zip expanding into a bomb
# (disk for safe_extract, memory for the loader); the total, against one archive filling the disk
# or memory through many honest-looking members; the member bound, the memory of one held file.
# Extraction and loading take the same bounds because they see the same archives (a COCO
# annotations zip is extracted by ``fetch`` and may as well be given to ``load``): an archive one
# accepts the other must accept, and a bomb one refuses the other must refuse.
#: Bound on the compression ratio (uncompressed / compressed) of a member, of a whole archive
#: and of a gzip stream. COCO JSON compresses about 5-20x; deflate bombs reach ~1000x.
MAX_RATIO = 100
#: A member (or archive, or stream) of at most this many uncompressed bytes is exempt from the
#: ratio bound (a tiny file cannot be a bomb).
RATIO_MIN_BYTES = 1 << 20
#: Bound on the total uncompressed size of an archive (8 GiB), declared and as read.
MAX_TOTAL_BYTES = 8 << 30
#: Bound on one member, gzip stream or pipe the loader holds in memory (4 GiB).
MAX_MEMBER_BYTES = 4 << 30
#: Bound on the number of members.
MAX_MEMBERS = 100_000

#: :func:`safe_extract`'s defaults: the policy above.
DEFAULT_MAX_BYTES = MAX_TOTAL_BYTES
DEFAULT_MAX_RATIO = MAX_RATIO
DEFAULT_MAX_MEMBERS = MAX_MEMBERS

_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeArchiveError(InputError):
    """An archive refused by :func:`safe_extract` (names the archive, the member and why)."""

    def __init__(self, reason: str, path=None, member: str | None = None):
        self.member = member
        if member is not None:
            reason = f"member {member!r}: {reason}"
        super().__init__(reason, path=None if path is None else str(path), kind="")


def check_member_name(name: str) -> PurePosixPath:
    """Validate one zip member name and return it as a relative POSIX path.

    Parameters
    ----------
    name : str
        The member name as stored in the archive.

    Returns
    -------
    PurePosixPath
        The relative path the member would be written to (below the destination).

    Raises
    ------
    ValueError
        If the name is empty, absolute, carries a drive letter or a NUL byte, or has a ``..``
        component (with ``/`` or ``\\`` as separator).

    Examples
    --------
    >>> check_member_name("annotations/instances_val2017.json")
    PurePosixPath('annotations/instances_val2017.json')
    >>> check_member_name("../evil.json")
    Traceback (most recent call last):
    ...
    ValueError: path has a '..' component
    """
    if not name or "\x00" in name:
        raise ValueError("empty name or NUL byte in name")
    if name.startswith(("/", "\\")):
        raise ValueError("absolute path")
    if _DRIVE.match(name):
        raise ValueError("drive letter in path")
    parts = [p for p in re.split(r"[\\/]", name) if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ValueError("path has a '..' component")
    if not parts:
        raise ValueError("name has no path component")
    return PurePosixPath(*parts)


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return info.create_system == 3 and stat.S_ISLNK(mode)


def _is_special(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    if info.create_system != 3 or mode == 0:
        return False
    fmt = stat.S_IFMT(mode)
    return fmt not in (0, stat.S_IFREG, stat.S_IFDIR)


def parse_size(text: str | int) -> int:
    """Parse a byte count such as ``"8G"``, ``"512M"``, ``"100k"`` or ``"12345"``.

    Suffixes are binary (``k`` = 1024). Raises ``ValueError`` on a malformed or negative size.

    Examples
    --------
    >>> parse_size("8G") == 8 << 30
    True
    >>> parse_size("1.5k")
    1536
    """
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"negative size {text}")
        return text
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", str(text))
    if not m:
        raise ValueError(f"not a size: {text!r} (e.g. 8G, 512M, 100k, 12345)")
    mult = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2).lower()]
    return int(float(m.group(1)) * mult)


def check_declared(infos: Iterable[zipfile.ZipInfo], fail: Callable[[str, zipfile.ZipInfo], object], *,
                   max_total: int = MAX_TOTAL_BYTES, max_ratio: float = MAX_RATIO,
                   ratio_min: int = RATIO_MIN_BYTES, max_member: int | None = None) -> int:
    """The policy on the declared sizes of zip members, before anything is decompressed.

    Refuses a member larger than ``max_member`` (when given), a member over ``ratio_min``
    bytes inflating more than ``max_ratio`` times, members declaring more than ``max_total``
    bytes in all, or members that inflate more than ``max_ratio`` times in all (once over
    ``ratio_min``): calls ``fail(reason, info)`` (which must raise) with the member at which
    the bound is crossed. Returns the declared total.

    Examples
    --------
    >>> i = zipfile.ZipInfo("a.json"); i.file_size, i.compress_size = 300 << 20, 1 << 20
    >>> def fail(reason, info): raise ValueError(f"{info.filename}: {reason}")
    >>> check_declared([i], fail)
    Traceback (most recent call last):
    ...
    ValueError: a.json: compression ratio 300:1 exceeds the bound of 100:1 (zip bomb?)
    """
    total = 0
    packed = 0
    for info in infos:
        size = info.file_size
        if max_member is not None and size > max_member:
            fail(f"declares {size} bytes uncompressed, over the {max_member} byte limit", info)
        if size > ratio_min and size > max_ratio * max(info.compress_size, 1):
            fail(f"compression ratio {size / max(info.compress_size, 1):.0f}:1 exceeds the bound of "
                 f"{max_ratio:g}:1 (zip bomb?)", info)
        total += size
        packed += info.compress_size
        if total > max_total:
            fail(f"members declare {total} bytes uncompressed in all, over the bound of {max_total} bytes", info)
        if total > ratio_min and total > max_ratio * max(packed, 1):
            fail(f"compression ratio {total / max(packed, 1):.0f}:1 of the members in all exceeds the bound of "
                 f"{max_ratio:g}:1 (zip bomb?)", info)
    return total


class _Counting(io.RawIOBase):
    """A binary file's reads, counted (the compressed bytes a decompressor consumed)."""

    def __init__(self, f):
        self.f = f
        self.n = 0

    def readable(self):
        return True

    def readinto(self, b):
        k = self.f.readinto(b)
        self.n += k or 0
        return k


def read_limited(f: IO[bytes] | io.BufferedIOBase, name: str, limit: int, *, packed: Callable[[], int] | None = None,
                 max_ratio: float = MAX_RATIO, ratio_min: int = RATIO_MIN_BYTES,
                 stop: Callable[[bytearray, int], bool] | None = None, chunk: int = 1 << 20) -> bytearray:
    """Read the binary stream ``f`` to its end in chunks, refusing it (an :class:`InputError`
    naming ``name``) as soon as it yields more than ``limit`` bytes -- before they are held.

    ``packed``: a callable giving the compressed bytes consumed so far (a decompressing
    stream): once past ``ratio_min`` bytes out, more than ``max_ratio`` times that is refused.
    ``stop``: a callable given the bytes so far and the new chunk's offset, returning True to
    stop reading there (the bytes cannot be what the caller wants: it reports why).

    Examples
    --------
    >>> read_limited(io.BytesIO(b"12345"), "x", 5)
    bytearray(b'12345')
    >>> read_limited(io.BytesIO(b"123456"), "x", 5)
    Traceback (most recent call last):
    ...
    cocodiff.errors.InputError: x: uncompressed data exceeds the 5 byte limit; refused
    """
    out = bytearray()
    while True:
        b = f.read(chunk)
        if not b:
            return out
        n0 = len(out)
        if n0 + len(b) > limit:
            raise InputError(f"uncompressed data exceeds the {limit} byte limit; refused", name)
        out += b
        if packed is not None and len(out) > ratio_min:
            k = max(int(packed()), 1)
            if len(out) > max_ratio * k:
                raise InputError(f"compression ratio over {max_ratio:g}:1 ({len(out)} bytes from the first {k} "
                                 f"compressed ones); refused as a likely decompression bomb", name)
        if stop is not None and stop(out, n0):
            return out


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def _extraction_plan(zf: zipfile.ZipFile, zip_path: Path, root: Path,
                     max_members: int) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """The files to extract (directories left out) with their relative paths, once every member
    is known to be safe: a safe, unrepeated name landing inside ``root``, no link or special file,
    at most ``max_members`` members."""
    infos = zf.infolist()
    if len(infos) > max_members:
        raise UnsafeArchiveError(f"{len(infos)} members (bound {max_members})", zip_path)
    plan: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
    seen: set[str] = set()
    for info in infos:
        try:
            rel = check_member_name(info.filename)
        except ValueError as e:
            raise UnsafeArchiveError(f"unsafe name: {e}", zip_path, info.filename) from None
        if _is_symlink(info):
            raise UnsafeArchiveError("symbolic link", zip_path, info.filename)
        if _is_special(info):
            raise UnsafeArchiveError("special file (not a regular file or directory)",
                                     zip_path, info.filename)
        if info.is_dir():
            continue
        target = (root / rel).resolve()
        if not _inside(target, root):
            raise UnsafeArchiveError("resolves outside the destination", zip_path, info.filename)
        key = str(rel)
        if key in seen:
            raise UnsafeArchiveError("duplicate member name", zip_path, info.filename)
        seen.add(key)
        plan.append((info, rel))
    return plan


def safe_extract(zip_path: str | os.PathLike, dest: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_ratio: float = DEFAULT_MAX_RATIO,
                 max_members: int = DEFAULT_MAX_MEMBERS) -> list[Path]:
    """Extract a zip archive into ``dest``, refusing anything unsafe.

    All members are checked before anything is written: a member name with a ``..``
    component, an absolute path, a drive letter or a NUL byte; a symbolic link or special
    file; more than ``max_members`` members; a declared total uncompressed size above
    ``max_bytes``; or a member over 1 MiB, or the members in all, with a compression ratio
    above ``max_ratio`` (:func:`check_declared`: the policy the loader applies too) refuses
    the whole archive. While extracting, actual bytes are counted against the same
    bound. Files are written into a temporary directory inside ``dest``, fsynced, then moved
    to their final names with :func:`os.replace`; on any error the temporary directory is
    removed and no file appears under a final name. Existing files with the same names are
    replaced. Directory entries are created implicitly; permissions from the archive are
    ignored.

    Parameters
    ----------
    zip_path : str or os.PathLike
        The archive.
    dest : str or os.PathLike
        Destination directory (created if missing).
    max_bytes : int, default 8 GiB
        Bound on the total uncompressed size.
    max_ratio : float, default 100
        Bound on ``file_size / compress_size`` of a member and of all members together
        (under 1 MiB uncompressed: exempt).
    max_members : int, default 100000
        Bound on the number of members.

    Returns
    -------
    list of Path
        The extracted files' final paths, in archive order.

    Raises
    ------
    UnsafeArchiveError
        The archive was refused (the message names the archive, the member and the reason).
    zipfile.BadZipFile
        The file is not a readable zip archive, or a member fails its CRC check.

    Examples
    --------
    >>> paths = safe_extract("annotations_trainval2017.zip", "data/coco")  # doctest: +SKIP
    >>> [p.name for p in paths][:1]                                         # doctest: +SKIP
    ['instances_train2017.json']
    """
    zip_path = Path(zip_path)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()

    with zipfile.ZipFile(zip_path) as zf:
        plan = _extraction_plan(zf, zip_path, root, max_members)

        def refuse(reason, info):
            if "in all" in reason and "ratio" not in reason:
                reason += " (raise it with --max-extract-bytes / max_bytes)"
            raise UnsafeArchiveError(reason, zip_path, info.filename)

        check_declared([i for i, _ in plan], refuse, max_total=max_bytes, max_ratio=max_ratio,
                       ratio_min=RATIO_MIN_BYTES)

        tmp = Path(tempfile.mkdtemp(prefix=".cocodiff-extract-", dir=dest))
        try:
            written = 0
            for info, rel in plan:
                out = tmp.joinpath(*rel.parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                member_bytes = 0
                with zf.open(info) as src, open(out, "wb") as dst:
                    while True:
                        chunk = src.read(_CHUNK)
                        if not chunk:
                            break
                        member_bytes += len(chunk)
                        written += len(chunk)
                        if member_bytes > info.file_size or written > max_bytes:
                            raise UnsafeArchiveError(
                                "more data than declared or over the size bound",
                                zip_path, info.filename)
                        dst.write(chunk)
                    dst.flush()
                    os.fsync(dst.fileno())
            logger.debug("extracted %d members (%d bytes) of %s into %s",
                         len(plan), written, zip_path, tmp)
            results = []
            for info, rel in plan:
                final = dest.joinpath(*rel.parts)
                if final.is_dir() and not final.is_symlink():
                    raise UnsafeArchiveError(f"{final} exists and is a directory",
                                             zip_path, info.filename)
                final.parent.mkdir(parents=True, exist_ok=True)
                if not _inside(final.parent.resolve(), root):
                    raise UnsafeArchiveError("resolves outside the destination",
                                             zip_path, info.filename)
                os.replace(tmp.joinpath(*rel.parts), final)
                results.append(final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    logger.info("extracted %d files from %s into %s", len(results), zip_path.name, dest)
    return results
