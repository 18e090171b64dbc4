"""Load COCO instance annotations into a columnar :class:`~cocodiff.dataset.Dataset`.

Inputs
------
* ``file.json`` or ``file.json.gz`` -- one COCO instances file (object with ``images``,
  ``annotations``, ``categories``), or a *results* file (a top-level JSON list of annotations,
  like cocoapi's ``*_results.json``), which needs ``like=<Dataset>`` for images/categories.
* ``split.zip`` -- every ``*.json`` member (sorted by name; ``__MACOSX/`` and ``._*`` skipped) is
  loaded and the members are merged (Sama-COCO ships a split as several JSON files in one zip).
* a directory -- every ``*.json`` directly inside it, merged the same way.
* a list of paths -- each loaded as above, all merged.

Merging: an image (or category) listed by several files must be identical in each (id, width,
height, file_name; id, name, supercategory) and is kept once; a conflicting repeat is an error
naming both files. Annotation ids must be unique over all files; a duplicate is an error naming
the files. ``Dataset.source`` is each instance's index into ``Dataset.sources`` (the file names,
``archive.zip:member.json`` for zip members).

Zip, gzip and stream safety
---------------------------
One policy, shared with :func:`cocodiff.archive.safe_extract` (its constants live in
:mod:`cocodiff.archive` and are re-exported here). A zip is refused when any member name is
unsafe (absolute, a ``..`` component, a drive letter, a NUL byte). Before a byte is
decompressed, on the declared sizes of the ``*.json`` members: a member over
:data:`MAX_MEMBER_BYTES` (4 GiB); a member over :data:`RATIO_MIN_BYTES` (1 MiB) more than
:data:`MAX_RATIO` (100) times its compressed size (JSON seldom compresses beyond 20x); members
over :data:`MAX_TOTAL_BYTES` (8 GiB) in all, or more than 100 times their compressed sizes in
all. Members are then streamed under those caps (never more than declared, nor over the total).
A ``.json.gz`` file is streamed too: refused once past :data:`MAX_MEMBER_BYTES`, or once past
1 MiB out when the bytes out exceed 100 times the compressed bytes read -- checked chunk by
chunk, before the bytes are held. A file that is not a regular file (a pipe, ``<(zcat ...)``,
a character device) is read as a stream under the :data:`MAX_MEMBER_BYTES` cap, stopping at the
first byte no JSON text holds (a control byte: ``/dev/zero`` stops at once), or after 64 MiB of
nothing but whitespace; a block device is refused.

Decoding
--------
Fast path: one Numba pass (:func:`cocodiff.engine.jsonscan.scan_coco`) over the file's bytes
writes every annotation field straight into arrays -- ids, image/category ids, iscrowd, area,
bbox, score, polygon coordinates with ring counts, RLE sizes, compressed RLE text and
uncompressed counts -- with no Python object per annotation; the small ``images`` and
``categories`` sections are located by the scanner and decoded by msgspec. Numbers are converted
exactly (Clinger's fast path, then Eisel-Lemire; the rare remainder with Python's correctly
rounded ``float``), so every double equals ``json.load``'s bit for bit. The scanner accepts only
a conservative subset of JSON and bails out (logged at debug level) on anything else -- an
escaped or non-ASCII key, a ``\\u`` escape or non-ASCII byte in an annotation string, a float or
a > 18-digit number where an integer belongs, a duplicate key (or an escaped one) anywhere,
a missing required key, a non-number coordinate, deep nesting, malformed JSON... A file of at
least twice :data:`SCAN_PART_MIN_BYTES` is scanned in parts on the thread pool when more than one thread is
allowed (see :func:`_scan`); the result is the one-pass result, bit for bit.

Slow path (the validator, used whenever the scanner bails): one Numba pass
(:func:`cocodiff.engine.jsonscan.check_structure`) refuses a repeated key or too deep nesting
anywhere (msgspec would keep the last of two values, and recurse); then msgspec decodes into
typed Structs (GC off) with every ``segmentation`` kept as raw JSON text (``msgspec.Raw``); one Numba pass
(:func:`cocodiff.engine.ragged.parse_polygons`) turns the polygon lists into flat float64
coordinates; RLE objects are decoded per instance. When the typed decode fails, the file is
decoded untyped (``json``, which also reads NaN/Infinity) and walked to name the first bad
annotation id and field. Both paths produce the same per-file columns and share every check
below, so a file gives the same Dataset -- or the same error message -- either way (tested on
the corpus and by differential fuzzing).

Instances are then sorted by (image_id, category_id, ann_id) on their scalar columns and the
ragged geometry is permuted with one gather; compressed RLE strings are decoded in one batch
(:func:`cocodiff.engine.ragged.decode_strings`).

Cache: see :mod:`cocodiff.cache` (``load(..., cache=...)``).

Validation policy (nothing is dropped silently: every annotation becomes one instance)
--------------------------------------------------------------------------------------
Errors (:class:`~cocodiff.errors.InputError`, naming the file, the annotation/image/category id
and the field):

* missing or unreadable file, empty file, malformed JSON (line, column and byte offset), text that
  is not UTF-8;
* a key repeated in one object, anywhere in the file (JSON readers keep only one of the
  values, silently): named with where it is -- the top-level object, or the annotation / image /
  category (its id) and the path of the key inside it (e.g. ``segmentation.counts``);
* JSON nested more than :data:`MAX_NESTING` (128) levels deep (the top-level object or list is
  level 1), named like a repeated key;
* wrong top-level type; a missing or non-list ``images`` / ``annotations`` / ``categories``;
  a results list without ``like=``;
* a missing required key (image ``id``/``width``/``height``; category ``id``; annotation ``id``,
  ``image_id``, ``category_id``, ``segmentation``) or a value of the wrong JSON type (e.g. a
  string where a number belongs, ``true``/``null`` as a coordinate);
* a segmentation that is neither polygons (a list of rings, each a flat list of numbers) nor RLE
  (an object with ``size`` [h, w] and ``counts``, a list of ints or a compressed string);
  an empty segmentation list; a ring with an odd number of numbers; a non-finite coordinate
  (NaN, Infinity); a coordinate with ``|x| > 1e7`` (:data:`MAX_ABS_COORD`); a ring that would
  cross pixel-column boundaries more than ``2 * points + min(8 * (h * w + 1), 2**24)`` times
  when rasterised (:data:`MAX_RING_CROSSINGS`: a ring folding back over itself, e.g. a zigzag
  of millions of points across the image, whose rasterisation would need gigabytes);
* RLE: ``size`` other than the image's ``[height, width]``; negative counts or counts past
  2**32 - 1; counts that do not sum to ``h * w``; a compressed string with a character outside
  ``'0'..'o'`` or ending inside a value;
* an ``image_id`` / ``category_id`` no image / category defines; duplicate image, category or
  annotation ids; ``width``/``height`` <= 0; ``iscrowd`` other than 0/1; ``bbox`` not 4 numbers.

Counted warnings (``Dataset.warnings``; ``strict=True`` turns them into errors):

* ``degenerate_ring``: a polygon ring with fewer than 3 points (e.g. ``[x0, y0, x1, y1]``) is kept
  as stored.

Variants: a missing ``iscrowd`` reads as 0 (LVIS); ``score`` is kept (NaN where absent);
``area``/``bbox`` are the file's (NaN where absent). Results files follow pycocotools'
``COCO.loadRes``: ids are 1..n in file order, ``iscrowd`` is 0, an RLE result's ``area`` is its
pixel count, and a result with only a ``bbox`` becomes the polygon
``[x, y, x, y+h, x+w, y+h, x+w, y]`` with ``area = w * h``.
"""
from __future__ import annotations

import gc
import gzip
import json
import logging
import os
import re
import stat
import zipfile
import zlib
from itertools import chain, compress, repeat
from operator import attrgetter, is_not
from pathlib import Path

import msgspec
import numpy as np

from . import archive as _archive
from .archive import MAX_MEMBER_BYTES, MAX_MEMBERS, MAX_RATIO, MAX_TOTAL_BYTES, RATIO_MIN_BYTES
from .dataset import KIND_POLYGON, KIND_RLE_LIST, KIND_RLE_STRING, Dataset
from ._io import sigint_deferred
from ._threads import run_jobs
from .errors import InputError, Warnings

__all__ = ["load", "load_pair", "MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES", "MAX_RATIO", "RATIO_MIN_BYTES",
           "MAX_ABS_COORD", "MAX_NESTING", "MAX_RING_CROSSINGS", "PAIR_CONCURRENT_MAX_BYTES"]

#: :func:`load_pair` reads the two inputs at the same time only when their files add up to at
#: most this many bytes (parsing needs a few times the file size in memory, twice at once).
PAIR_CONCURRENT_MAX_BYTES = 512 << 20

log = logging.getLogger(__name__)

MAX_ABS_COORD = 1e7
_UINT32_MAX = 4294967295
#: deepest nesting of JSON containers an input may have (the top-level object or list is level 1)
MAX_NESTING = 128
#: a polygon ring may cross pixel-column boundaries at most 2 per point plus min(8 * (h*w + 1),
#: this) times (its rasterisation holds 24 bytes per crossing): see ``ring_crossings_over``
MAX_RING_CROSSINGS = 1 << 24


# --------------------------------------------------------------------------------------------
# typed schema (msgspec)
class _RLE(msgspec.Struct, gc=False):
    size: list[int]
    counts: str | list[int]


class _Image(msgspec.Struct, gc=False):
    id: int
    width: int
    height: int
    file_name: str = ""


class _Category(msgspec.Struct, gc=False):
    id: int
    name: str = ""
    supercategory: str = ""


class _Ann(msgspec.Struct, gc=False):
    id: int
    image_id: int
    category_id: int
    segmentation: msgspec.Raw
    iscrowd: int = 0
    area: float = float("nan")
    bbox: list[float] | None = None
    score: float = float("nan")


class _ResAnn(msgspec.Struct, gc=False):
    image_id: int
    category_id: int
    segmentation: msgspec.Raw = msgspec.Raw(b"null")
    area: float = float("nan")
    bbox: list[float] | None = None
    score: float = float("nan")


class _File(msgspec.Struct, gc=False):
    images: list[_Image]
    annotations: list[_Ann]
    categories: list[_Category]


_DEC_FILE = msgspec.json.Decoder(_File)
_DEC_RES = msgspec.json.Decoder(list[_ResAnn])
_DEC_RLE = msgspec.json.Decoder(_RLE)


# --------------------------------------------------------------------------------------------
# reading bytes
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
            data = _archive.read_limited(f, str(p), max(size, MAX_MEMBER_BYTES))
            return np.frombuffer(data, np.uint8)
    return buf


def _read_stream(p: Path) -> np.ndarray:
    """A file that is not a regular file (a pipe, a device): read as a stream under the
    :data:`MAX_MEMBER_BYTES` cap, stopping at the first byte that cannot be JSON."""
    with open(p, "rb") as f:
        data = _archive.read_limited(f, str(p), MAX_MEMBER_BYTES, stop=_stream_stop)
    return np.frombuffer(data, np.uint8)


def _read_gzip(p: Path) -> bytearray:
    """A ``.gz`` file's bytes, streamed under the shared policy: at most
    :data:`MAX_MEMBER_BYTES`, and at most :data:`MAX_RATIO` times the compressed bytes read."""
    with open(p, "rb") as raw:
        counted = _archive._Counting(raw)
        with gzip.GzipFile(fileobj=counted, mode="rb") as f:
            try:
                st = os.fstat(raw.fileno())
                regular = stat.S_ISREG(st.st_mode)
            except OSError:
                regular = True
            return _archive.read_limited(f, str(p), MAX_MEMBER_BYTES, packed=lambda: counted.n,
                                         max_ratio=MAX_RATIO, ratio_min=RATIO_MIN_BYTES,
                                         stop=None if regular else _stream_stop)


def _read_zip(path: str) -> list[tuple[str, bytes]]:
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise InputError(f"not a valid zip file ({e})", path) from None
    out = []
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise InputError(f"{len(infos)} members, over the bound of {MAX_MEMBERS}; zip refused", path)
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

        def refuse(reason, info):   # a bound crossed by the members in all names the zip
            reason = reason.replace(" (zip bomb?)", "; refused as a likely zip bomb")
            raise InputError(reason + ("" if "refused" in reason else "; refused"),
                             path if "in all" in reason else f"{path}:{info.filename}")

        _archive.check_declared(members, refuse, max_total=MAX_TOTAL_BYTES, max_ratio=MAX_RATIO,
                                ratio_min=RATIO_MIN_BYTES, max_member=MAX_MEMBER_BYTES)
        total = 0
        for info in members:
            name = f"{path}:{info.filename}"
            try:
                with zf.open(info) as f:   # at most what it declares (checked above), and in all
                    data = _archive.read_limited(f, name, min(info.file_size, MAX_TOTAL_BYTES - total))
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
                raise InputError(f"cannot read zip member ({e})", name) from None
            total += len(data)
            out.append((name, data))
    return out


def _read_one(path: str) -> list[tuple[str, bytes]]:
    p = Path(path)
    try:
        if p.is_dir():
            files = sorted(q for q in p.iterdir() if q.suffix.lower() == ".json" and q.is_file())
            if not files:
                raise InputError("directory holds no *.json file", path)
            out = []
            for q in files:
                out.extend(_read_one(str(q)))
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


# --------------------------------------------------------------------------------------------
# decoding, and precise messages on failure
def _tname(v) -> str:
    if v is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "object"}.get(
        type(v), type(v).__name__)


def _is_int(v) -> bool:
    return type(v) is int


def _is_num(v) -> bool:
    return type(v) is int or type(v) is float


def _malformed(data, name: str, err: Exception, results: bool):
    """msgspec said the bytes are not JSON: find where (or whether it was NaN/Infinity)."""
    data = bytes(data)
    if not data.strip():
        raise InputError("file is empty", name) from None
    try:
        obj = json.loads(data)
    except UnicodeDecodeError as e:
        raise InputError(f"not valid UTF-8 text (byte {e.start})", name) from None
    except json.JSONDecodeError as e:
        raise InputError(f"malformed JSON at line {e.lineno} column {e.colno} (byte {e.pos}): {e.msg}",
                         name) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", name) from None
    _explain(obj, name, results)
    raise InputError(f"invalid JSON ({err})", name) from None


def _check_seg(seg, aid, name, field="segmentation"):
    if isinstance(seg, list):
        if not seg:
            raise InputError("empty segmentation list", name, aid, field)
        for k, ring in enumerate(seg):
            if not isinstance(ring, list):
                raise InputError(f"polygon segmentation must be a list of rings (lists of numbers); "
                                 f"got {_tname(ring)}", name, aid, f"{field}[{k}]")
            for j, v in enumerate(ring):
                if not _is_num(v):
                    what = "nested too deep" if isinstance(v, list) else f"is {_tname(v)}"
                    raise InputError(f"coordinate {what}; expected a number", name, aid, f"{field}[{k}][{j}]")
                if type(v) is float and not np.isfinite(v):
                    raise InputError(f"non-finite coordinate {v!r}", name, aid, f"{field}[{k}][{j}]")
                if abs(v) > MAX_ABS_COORD:
                    raise InputError(f"coordinate {v!r} exceeds |x| <= {MAX_ABS_COORD:g}", name, aid,
                                     f"{field}[{k}][{j}]")
            if len(ring) % 2:
                raise InputError(f"ring has an odd number of coordinates ({len(ring)})", name, aid,
                                 f"{field}[{k}]")
    elif isinstance(seg, dict):
        if "size" not in seg or "counts" not in seg:
            raise InputError("RLE segmentation needs 'size' and 'counts'", name, aid, field)
        size = seg["size"]
        if not (isinstance(size, list) and len(size) == 2 and all(_is_int(s) for s in size)):
            raise InputError(f"RLE size must be [height, width] integers; got {size!r}"[:200], name, aid,
                             f"{field}.size")
        c = seg["counts"]
        if isinstance(c, list):
            for j, v in enumerate(c):
                if not _is_int(v):
                    raise InputError(f"RLE count is {_tname(v)}; expected a non-negative integer", name, aid,
                                     f"{field}.counts[{j}]")
        elif not isinstance(c, str):
            raise InputError(f"RLE counts must be a list of integers or a string; got {_tname(c)}", name, aid,
                             f"{field}.counts")
    else:
        raise InputError(f"segmentation is neither polygons (list of rings) nor RLE (object with size and "
                         f"counts); got {_tname(seg)}", name, aid, field)


def _explain(obj, name: str, results: bool) -> None:
    """Walk an untyped decode and raise the first problem as a precise InputError (or return)."""
    if results:
        if not isinstance(obj, list):
            raise InputError(f"top-level JSON value is {_tname(obj)}; expected a list of result annotations",
                             name)
        anns = obj
    else:
        if not isinstance(obj, dict):
            raise InputError(f"top-level JSON value is {_tname(obj)}; expected an object with 'images', "
                             f"'annotations' and 'categories' (or a results list, with like=)", name)
        for sec in ("images", "annotations", "categories"):
            if sec not in obj:
                raise InputError(f"missing section '{sec}'", name)
            if not isinstance(obj[sec], list):
                raise InputError(f"expected a list, got {_tname(obj[sec])}", name, field=sec)
        for i, im in enumerate(obj["images"]):
            if not isinstance(im, dict):
                raise InputError(f"expected an object, got {_tname(im)}", name, field=f"images[{i}]")
            iid = im.get("id")
            for key in ("id", "width", "height"):
                if key not in im:
                    raise InputError(f"missing required key '{key}'", name, iid, f"images[{i}].{key}", kind="image")
                if not _is_int(im[key]):
                    raise InputError(f"expected an integer, got {_tname(im[key])}", name, iid, key, kind="image")
            if "file_name" in im and not isinstance(im["file_name"], str):
                raise InputError(f"expected a string, got {_tname(im['file_name'])}", name, iid, "file_name",
                                 kind="image")
        for i, c in enumerate(obj["categories"]):
            if not isinstance(c, dict):
                raise InputError(f"expected an object, got {_tname(c)}", name, field=f"categories[{i}]")
            if "id" not in c:
                raise InputError("missing required key 'id'", name, field=f"categories[{i}].id")
            if not _is_int(c["id"]):
                raise InputError(f"expected an integer, got {_tname(c['id'])}", name, c["id"], "id",
                                 kind="category")
            for key in ("name", "supercategory"):
                if key in c and not isinstance(c[key], str):
                    raise InputError(f"expected a string, got {_tname(c[key])}", name, c["id"], key,
                                     kind="category")
        anns = obj["annotations"]
    for i, a in enumerate(anns):
        if not isinstance(a, dict):
            raise InputError(f"expected an object, got {_tname(a)}", name, field=f"annotations[{i}]")
        if results:
            aid = f"#{i + 1}"
            required = ("image_id", "category_id")
        else:
            if "id" not in a:
                raise InputError("missing required key 'id'", name, field=f"annotations[{i}].id")
            aid = a["id"]
            if not _is_int(aid):
                raise InputError(f"expected an integer, got {_tname(aid)}", name, field=f"annotations[{i}].id")
            required = ("image_id", "category_id", "segmentation")
        for key in required:
            if key not in a:
                raise InputError(f"missing required key '{key}'", name, aid, key)
        for key in ("image_id", "category_id", "iscrowd"):
            if key in a and not _is_int(a[key]):
                raise InputError(f"expected an integer, got {_tname(a[key])}", name, aid, key)
        for key in ("area", "score"):
            if key in a and not _is_num(a[key]):
                raise InputError(f"expected a number, got {_tname(a[key])}", name, aid, key)
            if key in a and type(a[key]) is float and not np.isfinite(a[key]):
                raise InputError(f"non-finite number {a[key]!r} (not valid JSON)", name, aid, key)
        if "bbox" in a and a["bbox"] is not None:
            bb = a["bbox"]
            if not (isinstance(bb, list) and len(bb) == 4 and all(_is_num(v) for v in bb)):
                raise InputError("bbox must be 4 numbers [x, y, w, h]", name, aid, "bbox")
            if not all(type(v) is int or np.isfinite(v) for v in bb):
                raise InputError(f"bbox has a non-finite number {bb!r} (not valid JSON)", name, aid, "bbox")
        if "segmentation" in a and not (results and a["segmentation"] is None):
            _check_seg(a["segmentation"], aid, name)


_SECTION_KIND = {b"annotations": "annotation", b"images": "image", b"categories": "category"}


def _key_text(raw: bytes) -> str:
    """A key's raw JSON bytes as text (escapes decoded), shortened for a message."""
    try:
        k = json.loads(b'"' + raw + b'"')
    except ValueError:
        k = raw.decode("utf-8", "replace")
    return k if len(k) <= 60 else k[:57] + "..."


def _json_path(parts) -> str:
    out = ""
    for q in parts:
        out += f"[{q}]" if isinstance(q, int) else ("." if out else "") + _key_text(q)
    return out


def _check_structure(data, name: str, results: bool) -> None:
    """Raise an InputError for a key repeated in one object or nesting deeper than
    :data:`MAX_NESTING`, anywhere in the document, naming where (the slow path's first step;
    the scanner bails on both). Malformed JSON is left to the decoder to report."""
    from .engine.jsonscan import check_structure
    r = check_structure(np.frombuffer(data, np.uint8), results, MAX_NESTING)
    if r.status not in (1, 2):
        return
    path = list(r.path)
    if r.status == 1:
        reason = f"duplicate key {_key_text(r.key)!r} (a key may appear only once in an object)"
        if not results and not path:
            raise InputError(reason.replace("(a key", "in the top-level object (a key"), name)
        path.append(r.key)
    else:
        reason = f"JSON nested too deeply (more than {MAX_NESTING} levels; byte {r.pos})"
    ann_id = None
    kind = "annotation"
    if results:
        if path and isinstance(path[0], int):
            ann_id, path = f"#{path[0] + 1}", path[1:]
    elif len(path) >= 2 and path[0] in _SECTION_KIND and isinstance(path[1], int):
        kind = _SECTION_KIND[path[0]]
        if r.id_pos >= 0:
            m = re.match(rb"-?\d{1,19}(?![\d.eE])", bytes(data[r.id_pos:r.id_pos + 24]))
            ann_id = int(m.group()) if m else None
        if ann_id is None:
            path = [path[0] + f"[{path[1]}]".encode()] + path[2:]
            kind = "annotation"
        else:
            path = path[2:]
    if r.status == 2 and len(path) > 6:
        field = _json_path(path[:6]) + "..."
    else:
        field = _json_path(path) if path else None
    raise InputError(reason, name, ann_id, field, kind=kind)


def _validation_failed(data, name: str, err: Exception, results: bool):
    try:
        obj = json.loads(bytes(data))
    except RecursionError:
        raise InputError("JSON nested too deeply", name) from None
    except ValueError:
        obj = None
    if obj is not None:
        _explain(obj, name, results)
    # Nothing more precise found: translate msgspec's path.
    msg = str(err)
    m = re.search(r"\$\.annotations\[(\d+)\]\.?(.*)`", msg)
    if m and isinstance(obj, dict):
        try:
            aid = obj["annotations"][int(m.group(1))].get("id")
        except Exception:
            aid = None
        raise InputError(msg.split(" - at ")[0], name, aid, m.group(2) or None) from None
    raise InputError(f"invalid COCO file: {msg}", name) from None


_DEC_IMAGES = msgspec.json.Decoder(list[_Image])
_DEC_CATS = msgspec.json.Decoder(list[_Category])
_use_scanner = True   # tests turn it off to compare both paths


#: a file is scanned in parts of at least this many bytes, on the thread pool, when more than
#: one thread is allowed (``cocodiff.engine._jit.set_threads`` / ``--threads``)
SCAN_PART_MIN_BYTES = 8 << 20


def _scan(buf, results: bool, threads: int | None = None):
    """:func:`cocodiff.engine.jsonscan.scan_coco` of ``buf``, in parts on ``threads`` threads
    (None: the Numba thread count) when the file is big enough; the same result either way.

    The annotations list is cut at candidate object boundaries (:func:`split_points`) and every
    part is parsed on its own. Part ``i`` is used only if part ``i - 1`` stopped exactly at its
    first byte -- proof that the cut lies between two annotations. When part 0 runs past its
    cut (the cut was inside an annotation, or in another section) part 0 alone is the whole
    document; when a later part does, the parts after it are dropped and the document's rest
    is scanned from where it ended. A bail in a used part is the bail the one-pass scan gives.
    """
    from .engine import jsonscan as js
    if threads is None:
        from .engine._jit import get_threads
        threads = get_threads()
    parts = min(2 * threads, buf.shape[0] // SCAN_PART_MIN_BYTES) if threads > 1 else 1
    cuts = js.split_points(buf, parts) if parts > 1 else []
    if not cuts:
        with sigint_deferred():  # Ctrl-C inside the scanner could crash it: delivered once it returns
            return js.scan_coco(buf, results)
    jobs = list(zip([-1] + cuts, cuts + [-1]))
    # one coordinate buffer, a window per part sized by its bytes (compacted in place after)
    nb = buf.shape[0]
    shared = np.empty(js.coords_capacity(nb), np.float64)
    edges = [0] + cuts + [nb]
    bases = [shared.shape[0] * e // nb for e in edges]
    windows = [shared[bases[i]:bases[i + 1]] for i in range(len(jobs))]
    # the parts run on pool threads (a signal is only ever delivered to the main thread)
    res = run_jobs(threads, lambda i: js.scan_part(buf, results, *jobs[i], windows[i]), list(range(len(jobs))))
    st, where, r = res[0]
    if st != 12:
        return st, where, r        # part 0 read the whole document (or bailed in it)
    used = [r]
    for st, where, r in res[1:]:
        if st not in (0, 12):
            return st, where, None
        used.append(r)
        if st == 0:               # the end of the annotations list
            break
    else:  # pragma: no cover - the last part has no stop: it ends with 0 or a bail
        raise AssertionError("scanner parts did not end")
    st, where, tail = js.scan_tail(buf, results, where, used[0])
    if st != 0:
        return st, where, None
    log.debug("scanned in %d parts", len(used))
    return 0, where, js.concat_scans(used, tail, results, shared)


def _decode_fast(data: bytes, name: str, results: bool):
    """The Numba scanner's path; None when it bails (the msgspec path then decides)."""
    from .engine.jsonscan import BAIL_REASONS
    status, where, r = _scan(np.frombuffer(data, np.uint8), results)
    if status != 0:
        log.debug("%s: fast scanner bailed at byte %d (%s); using the msgspec path", name, where,
                  BAIL_REASONS.get(status, status))
        return None
    if results:
        return None, None, _cols_from_scan(r, True), True
    mv = memoryview(data)
    try:
        (a, b), (c, d) = r.images_span, r.categories_span
        images = _DEC_IMAGES.decode(mv[a:b])
        cats = _DEC_CATS.decode(mv[c:d])
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
        return None
    return images, cats, _cols_from_scan(r, False), False


def _first_byte(mv: memoryview) -> bytes:
    """The first byte that is not JSON whitespace (b"" when there is none)."""
    for a in range(0, len(mv), 1 << 16):
        head = bytes(mv[a:a + (1 << 16)]).lstrip(b" \t\r\n")
        if head:
            return head[:1]
    return b""


def _decode(data, name: str, has_like: bool):
    """One file's bytes (``bytes`` or a numpy uint8 buffer) -> (images, categories, _Cols, results)."""
    data = memoryview(data).cast("B")
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    results = _first_byte(data) == b"["
    if results and not has_like:
        raise InputError("this is a results file (a top-level JSON list of annotations): it needs a ground "
                         "truth for its images and categories -- give it as the second input (B), after the "
                         "ground truth (A)", name)
    if _use_scanner:
        part = _decode_fast(data, name, results)
        if part is not None:
            return part
    _check_structure(data, name, results)
    gc_was = gc.isenabled()
    gc.disable()
    try:
        obj = (_DEC_RES if results else _DEC_FILE).decode(data)
    except msgspec.ValidationError as e:
        _validation_failed(data, name, e, results)
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        _malformed(data, name, e, results)
    finally:
        if gc_was:
            gc.enable()
    if results:
        return None, None, _cols_from_struct(obj, name, True), True
    return obj.images, obj.categories, _cols_from_struct(obj.annotations, name, False), False


# --------------------------------------------------------------------------------------------
# building arrays
_SECTION = {"annotation": "annotations", "image": "images", "category": "categories"}


def _int_col(items, attr: str, n: int, names, src, what="annotation", ids=None) -> np.ndarray:
    try:
        return np.fromiter(map(attrgetter(attr), items), np.int64, n)
    except OverflowError:
        for i, it in enumerate(items):
            v = getattr(it, attr)
            if not -(1 << 63) <= v < (1 << 63):
                k = i - int(np.searchsorted(src, src[i]))   # index within its file
                fld = attr if ids is not None else f"{_SECTION.get(what, what)}[{k}].{attr}"
                raise InputError(f"integer {v} out of the int64 range", names[src[i]],
                                 None if ids is None else ids[i], fld, kind=what) from None
        raise


def _dedupe(ids, src, cols, names, what):
    """Sort by id; drop identical repeats coming from other files; raise on duplicates/conflicts."""
    order = np.lexsort((src, ids))
    ids = ids[order]
    src = src[order]
    cols = [c[order] for c in cols]
    same = np.flatnonzero(ids[1:] == ids[:-1]) + 1
    if same.size:
        same_file = src[same] == src[same - 1]
        if same_file.any():
            j = same[np.argmax(same_file)]
            raise InputError(f"duplicate {what} id {ids[j]}", names[src[j]], ids[j], "id", kind=what)
        for j in same:
            for c in cols:
                if c[j] != c[j - 1]:
                    raise InputError(f"{what} id {ids[j]} conflicts with the same id in {names[src[j - 1]]}",
                                     names[src[j]], ids[j], "id", kind=what)
        keep = np.ones(ids.shape[0], bool)
        keep[same] = False
        ids = ids[keep]
        cols = [c[keep] for c in cols]
    return ids, cols


def _first(mask):
    return int(np.argmax(mask))


def _instance_order(img, cat, ann_id):
    """``np.lexsort((ann_id, cat, img))``: the permutation putting instances in (image_id,
    category_id, ann_id) order, ties in input order.

    When the ids already rise in input order (files are usually written by id; results are
    numbered in order) one stable sort of a combined (image, category) key gives the same
    permutation in about half the time.

    Examples
    --------
    >>> _instance_order(np.array([5, 3, 5, 3]), np.array([2, 9, 1, 9]), np.array([1, 2, 3, 4])).tolist()
    [1, 3, 2, 0]
    """
    n = img.shape[0]
    if n > 1 and not (ann_id[1:] < ann_id[:-1]).any():
        i0, i1, c0, c1 = int(img.min()), int(img.max()), int(cat.min()), int(cat.max())
        cspan = c1 - c0 + 1
        if (i1 - i0 + 1) * cspan < 1 << 62:
            key = (img - i0) * cspan + (cat - c0)
            return np.argsort(key, kind="stable")
    return np.lexsort((ann_id, cat, img))


def _obj_array(it, n):
    a = np.empty(n, object)
    a[:] = list(it)
    return a


class _Ticker:
    """CPU-time checkpoints of the build, logged at debug level."""

    def __init__(self):
        import time
        self._clock = time.process_time
        self._t = self._clock()
        self._on = log.isEnabledFor(logging.DEBUG)

    def __call__(self, what):
        if self._on:
            t = self._clock()
            log.debug("build: %.3f s CPU before %s", t - self._t, what)
            self._t = t


class _Cols:
    """One file's annotation columns in file order (from the scanner or from msgspec)."""

    __slots__ = ("n", "ann_id", "iscrowd", "img", "cat", "area", "score", "bbox", "has_bb", "bb_len",
                 "seg_kind", "n_rings", "ring_vals", "coords", "rle_kind", "rle_fail", "rle_h", "rle_w",
                 "sz_len", "str_bytes", "str_off", "lst_counts", "lst_off")


_SEG_OK, _SEG_RLE, _SEG_NULL, _SEG_BAD = 0, 1, 2, -1


def _cols_from_scan(r, results: bool) -> _Cols:
    from .engine.jsonscan import SEG_NULL, SEG_POLYGON, SEG_RLE_LIST, SEG_RLE_STRING
    c = _Cols()
    c.n = r.n
    c.ann_id = None if results else r.ann_id
    c.iscrowd = None if results else r.iscrowd
    c.img, c.cat, c.area, c.score, c.bbox = r.image_id, r.category_id, r.area, r.score, r.bbox
    c.has_bb = r.has_bbox
    c.bb_len = None
    sk = r.seg_kind
    c.seg_kind = np.where(sk == SEG_POLYGON, _SEG_OK, np.where(sk == SEG_NULL, _SEG_NULL, _SEG_RLE)).astype(np.int8)
    c.n_rings, c.ring_vals, c.coords = r.n_rings, r.ring_vals, r.coords
    c.rle_kind = np.where(sk == SEG_RLE_STRING, KIND_RLE_STRING,
                          np.where(sk == SEG_RLE_LIST, KIND_RLE_LIST, KIND_POLYGON)).astype(np.int8)
    c.rle_fail = None
    c.rle_h, c.rle_w = r.rle_h, r.rle_w
    c.sz_len = None
    c.str_bytes, c.str_off = r.str_bytes, r.str_offsets
    c.lst_counts, c.lst_off = r.list_counts, r.list_offsets
    return c


def _cols_from_struct(anns, name: str, results: bool) -> _Cols:
    """The msgspec path: typed Structs -> columns (file order)."""
    from .engine.ragged import parse_polygons
    c = _Cols()
    n = c.n = len(anns)
    names = [name]
    src = np.zeros(n, np.int16)
    ids = None
    if results:
        c.ann_id = None
        c.iscrowd = None
    else:
        c.ann_id = ids = _int_col(anns, "id", n, names, src)
        c.iscrowd = _int_col(anns, "iscrowd", n, names, src, ids=ids)
    c.img = _int_col(anns, "image_id", n, names, src, ids=ids)
    c.cat = _int_col(anns, "category_id", n, names, src, ids=ids)
    c.area = np.fromiter(map(attrgetter("area"), anns), np.float64, n)
    c.score = np.fromiter(map(attrgetter("score"), anns), np.float64, n)
    bbs = list(map(attrgetter("bbox"), anns))
    has_bb = np.fromiter(map(is_not, bbs, repeat(None)), bool, n)
    bb_len = np.zeros(n, np.int64)
    bb_len[has_bb] = np.fromiter(map(len, compress(bbs, has_bb)), np.int64)
    bbox = np.full((n, 4), np.nan)
    ok = has_bb & (bb_len == 4)
    bbox[ok] = np.fromiter(chain.from_iterable(compress(bbs, ok)), np.float64, 4 * int(ok.sum())).reshape(-1, 4)
    c.bbox, c.has_bb, c.bb_len = bbox, has_bb, bb_len
    raws = list(map(attrgetter("segmentation"), anns))
    seg_off = np.zeros(n + 1, np.int64)
    np.cumsum(np.fromiter(map(len, raws), np.int64, n), out=seg_off[1:])
    seg_kind, n_rings, ring_vals, coords = parse_polygons(np.frombuffer(b"".join(raws), np.uint8), seg_off)
    seg_kind = seg_kind.copy()
    if not results:
        seg_kind[seg_kind == _SEG_NULL] = _SEG_BAD
    c.seg_kind, c.n_rings, c.ring_vals, c.coords = seg_kind, n_rings, ring_vals, coords
    rle_kind = np.zeros(n, np.int8)
    rle_h = np.zeros(n, np.int64)
    rle_w = np.zeros(n, np.int64)
    sz_len = np.full(n, 2, np.int64)
    fail = {}
    str_parts = [b""] * n
    lst_parts = [()] * n
    for j in np.flatnonzero(seg_kind == _SEG_RLE).tolist():
        try:
            sg = _DEC_RLE.decode(raws[j])
        except (msgspec.ValidationError, msgspec.DecodeError) as e:
            fail[j] = f"invalid RLE segmentation ({e})"
            continue
        sz_len[j] = len(sg.size)
        if len(sg.size) == 2:
            if not all(-(1 << 62) < v < (1 << 62) for v in sg.size):
                raise InputError(f"RLE size {sg.size} is out of range", name,
                                 ids[j] if ids is not None else f"#{j + 1}", "segmentation.size")
            rle_h[j], rle_w[j] = sg.size
        if type(sg.counts) is str:
            rle_kind[j] = KIND_RLE_STRING
            str_parts[j] = sg.counts.encode()
        else:
            rle_kind[j] = KIND_RLE_LIST
            lst_parts[j] = sg.counts
    c.rle_kind, c.rle_h, c.rle_w, c.sz_len = rle_kind, rle_h, rle_w, sz_len
    c.rle_fail = fail or None
    c.str_off = np.zeros(n + 1, np.int64)
    np.cumsum(np.fromiter(map(len, str_parts), np.int64, n), out=c.str_off[1:])
    c.str_bytes = np.frombuffer(b"".join(str_parts), np.uint8)
    c.lst_off = np.zeros(n + 1, np.int64)
    np.cumsum(np.fromiter(map(len, lst_parts), np.int64, n), out=c.lst_off[1:])
    try:
        c.lst_counts = np.fromiter(chain.from_iterable(lst_parts), np.int64, int(c.lst_off[-1]))
    except OverflowError:
        for j, cs in enumerate(lst_parts):
            for v in cs:
                if not 0 <= v <= _UINT32_MAX:
                    raise InputError(f"RLE count {v} is negative or exceeds 2**32 - 1", name, ids[j] if ids is not None
                                     else f"#{j + 1}", "segmentation.counts") from None
        raise
    return c


def _cat_ragged(offs):
    """Concatenate per-file (n_f + 1) offsets into one (n + 1) offsets array."""
    out = [np.zeros(1, np.int64)]
    base = 0
    for o in offs:
        out.append(o[1:] - o[0] + base)
        base = int(out[-1][-1]) if len(o) > 1 else base
    return np.concatenate(out)


#: a decoded file's bytes are kept through the build (for error messages) up to this size;
#: a bigger one is read again should a message need it (peak memory: the full-size files)
KEEP_BYTES_MAX = 64 << 20


class _Reread:
    """The bytes of file ``name`` among those :func:`_read_one` gives for ``source``, read again."""

    def __init__(self, source, name):
        self.source, self.name = source, name

    def __call__(self):
        for name, data in _read_one(self.source):
            if name == self.name:
                return data
        raise InputError("the file changed while it was being loaded", self.name)  # pragma: no cover


def _build(parts, names, like, strict, path_label, datas) -> Dataset:
    """parts: list of (images, categories, _Cols, results) per file."""
    tick = _Ticker()
    warnings = Warnings()
    results = parts[0][3]
    if any(p[3] != results for p in parts):
        raise InputError("cannot merge results lists with instance files", path_label)
    # ---------------- images & categories
    if results:
        image_id, width, height, file_name = like.image_id, like.width, like.height, like.file_name
        cat_id, cat_name, cat_super = like.cat_id, like.cat_name, like.cat_supercategory
    else:
        ims = [p[0] for p in parts]
        n_im = sum(map(len, ims))
        im_src = np.repeat(np.arange(len(parts), dtype=np.int16), list(map(len, ims)))
        allim = list(chain.from_iterable(ims))
        iid = _int_col(allim, "id", n_im, names, im_src, "image")
        w = _int_col(allim, "width", n_im, names, im_src, "image", ids=iid)
        h = _int_col(allim, "height", n_im, names, im_src, "image", ids=iid)
        bad = (w <= 0) | (h <= 0) | (w > 2**31 - 1) | (h > 2**31 - 1)
        if bad.any():
            j = _first(bad)
            fld = "width" if not 0 < w[j] < 2**31 else "height"
            raise InputError(f"{fld} must be a positive integer, got {w[j] if fld == 'width' else h[j]}",
                             names[im_src[j]], iid[j], fld, kind="image")
        fn = _obj_array(map(attrgetter("file_name"), allim), n_im)
        image_id, (width, height, file_name) = _dedupe(iid, im_src, [w, h, fn], names, "image")
        width = width.astype(np.int32)
        height = height.astype(np.int32)
        cats = [p[1] for p in parts]
        n_cat = sum(map(len, cats))
        c_src = np.repeat(np.arange(len(parts), dtype=np.int16), list(map(len, cats)))
        allc = list(chain.from_iterable(cats))
        cid = _int_col(allc, "id", n_cat, names, c_src, "category")
        cn = _obj_array(map(attrgetter("name"), allc), n_cat)
        cs = _obj_array(map(attrgetter("supercategory"), allc), n_cat)
        cat_id, (cat_name, cat_super) = _dedupe(cid, c_src, [cn, cs], names, "category")
    tick("annotations ")
    # ---------------- annotations (file order)
    cols = [p[2] for p in parts]
    lens = [c.n for c in cols]
    n = sum(lens)
    src = np.repeat(np.arange(len(parts), dtype=np.int16), lens)

    def cat_(attr, dtype=None):
        a = [getattr(c, attr) for c in cols]
        out = np.concatenate(a) if len(a) > 1 else a[0]
        return out if dtype is None else out.astype(dtype, copy=False)

    if results:
        ann_id = np.arange(1, n + 1, dtype=np.int64)
        iscrowd = np.zeros(n, np.uint8)
    else:
        ann_id = cat_("ann_id")
        crowd = cat_("iscrowd")
        bad = (crowd != 0) & (crowd != 1)
        if bad.any():
            j = _first(bad)
            raise InputError(f"iscrowd must be 0 or 1, got {crowd[j]}", names[src[j]], ann_id[j], "iscrowd")
        iscrowd = crowd.astype(np.uint8)
    img = cat_("img")
    cat = cat_("cat")
    area = cat_("area")
    score = cat_("score")
    has_bb = cat_("has_bb")
    if any(c.bb_len is not None for c in cols):
        bb_len = np.concatenate([c.bb_len if c.bb_len is not None else np.where(c.has_bb, 4, 0) for c in cols])
        bad = has_bb & (bb_len != 4)
        if bad.any():
            j = _first(bad)
            raise InputError("bbox must be 4 numbers [x, y, w, h]", names[src[j]], ann_id[j], "bbox")
    bbox = cat_("bbox")
    seg_kind = cat_("seg_kind")
    n_rings = cat_("n_rings")
    ring_vals = cat_("ring_vals")
    coords = cat_("coords")
    for c in cols:   # the only reference left is ``coords``: the scanner's buffer is freed once laid out
        c.coords = None
    r0 = np.zeros(n, np.int64)   # each instance's first ring (file order, all files)
    if n:
        np.cumsum(n_rings[:-1], out=r0[1:])
    rle_kind = cat_("rle_kind")
    # Sort instances by (image_id, category_id, ann_id): every column is permuted by numpy, the
    # ragged geometry by one gather once the checks have passed.
    tick("order = np.lexsort")
    # ids rising strictly in input order (files written by id) are unique: no sort to check them
    ids_rise = n < 2 or not (ann_id[1:] <= ann_id[:-1]).any()
    order = _instance_order(img, cat, ann_id)
    ident = not (order[1:] < order[:-1]).any()
    if not ident:
        ann_id, iscrowd, img, cat, src = ann_id[order], iscrowd[order], img[order], cat[order], src[order]
        area, score, has_bb = area[order], score[order], has_bb[order]
        bbox = np.take(bbox, order, axis=0)   # rows: several times faster than bbox[order]
        seg_kind, n_rings, r0, rle_kind = seg_kind[order], n_rings[order], r0[order], rle_kind[order]
    else:
        area, bbox = area.copy(), bbox.copy()

    def explain(j, why):
        data = datas[src[j]]   # raises, precise when it can:
        _validation_failed(data() if callable(data) else data, names[src[j]], why, results)
        raise InputError(why, names[src[j]], ann_id[j], "segmentation")  # pragma: no cover

    if results:  # loadRes: a bbox-only result becomes the bbox polygon, area w * h
        nul = np.flatnonzero(seg_kind == _SEG_NULL)
        if nul.size:
            nob = ~has_bb[nul]
            if nob.any():
                j = nul[_first(nob)]
                raise InputError("result has neither 'segmentation' nor 'bbox'", names[src[j]], ann_id[j],
                                 "segmentation")
            x, y, bw, bh = bbox[nul].T
            extra = np.stack([x, y, x, y + bh, x + bw, y + bh, x + bw, y], axis=1).ravel()
            r0 = r0.copy()
            n_rings = n_rings.copy()
            seg_kind = seg_kind.copy()
            r0[nul] = len(ring_vals) + np.arange(nul.size)
            n_rings[nul] = 1
            seg_kind[nul] = _SEG_OK
            area[nul] = bw * bh
            ring_vals = np.concatenate([ring_vals, np.full(nul.size, 8, np.int64)])
            coords = np.concatenate([coords, extra])
    bad = (seg_kind == _SEG_BAD) | (seg_kind == _SEG_NULL)
    if bad.any():
        explain(_first(bad), "segmentation is neither polygons (list of rings of numbers) nor RLE")
    if any(c.rle_fail for c in cols):
        inv = np.empty(n, np.int64)
        inv[order] = np.arange(n)
        cand = []
        base = 0
        for c in cols:
            cand.extend(inv[base + j] for j in (c.rle_fail or ()))
            base += c.n
        k = int(min(cand))
        fo = int(order[k])
        f = int(np.searchsorted(np.cumsum(lens), fo, side="right"))
        explain(k, cols[f].rle_fail[fo - sum(lens[:f])])
    kind = np.where(seg_kind == _SEG_RLE, rle_kind, KIND_POLYGON).astype(np.int8)

    tick("polygons")
    # ---------------- polygons
    is_poly = kind == KIND_POLYGON
    empty = is_poly & (n_rings == 0)
    if empty.any():
        j = _first(empty)
        raise InputError("empty segmentation list", names[src[j]], ann_id[j], "segmentation")
    from .engine.ragged import polygon_layout
    coords, ring_vals, inst_ring_offsets, ring_offsets, first_odd, first_bad = polygon_layout(
        coords, ring_vals, r0, n_rings, MAX_ABS_COORD)

    def ring_owner(r):
        i = int(np.searchsorted(inst_ring_offsets, r, side="right") - 1)
        return i, int(r - inst_ring_offsets[i])

    if first_odd >= 0:
        r = first_odd
        i, k = ring_owner(r)
        raise InputError(f"ring has an odd number of coordinates ({ring_vals[r]})", names[src[i]], ann_id[i],
                         f"segmentation[{k}]")
    if first_bad >= 0:  # NaN, inf or huge
        q = first_bad
        val_off = np.concatenate([[0], np.cumsum(ring_vals)])
        r = int(np.searchsorted(val_off, q, side="right") - 1)
        i, k = ring_owner(r)
        v = float(coords[q])
        reason = (f"non-finite coordinate {v!r}" if not np.isfinite(v)
                  else f"coordinate {v!r} exceeds |x| <= {MAX_ABS_COORD:g}")
        raise InputError(reason, names[src[i]], ann_id[i], f"segmentation[{k}][{q - val_off[r]}]")
    degen = ring_vals < 6
    if degen.any():
        rs = np.flatnonzero(degen)
        for r in rs[:warnings.max_examples]:
            i, k = ring_owner(r)
            msg = (f"{names[src[i]]}: annotation {ann_id[i]}: field 'segmentation[{k}]': ring has "
                   f"{ring_vals[r] // 2} points (need >= 3); kept as stored")
            if strict:
                raise InputError(f"ring has {ring_vals[r] // 2} points (need >= 3)", names[src[i]], ann_id[i],
                                 f"segmentation[{k}]")
            warnings.add("degenerate_ring", msg)
        warnings.counts["degenerate_ring"] += len(rs) - min(len(rs), warnings.max_examples)
        log.warning("%d polygon ring(s) with fewer than 3 points kept (e.g. %s)", len(rs),
                    warnings.examples["degenerate_ring"][0])
    xy = coords.reshape(-1, 2)

    tick("RLE")
    # ---------------- RLE
    is_rle = ~is_poly
    if any(c.sz_len is not None for c in cols):
        sz_len = np.concatenate([c.sz_len if c.sz_len is not None else np.full(c.n, 2, np.int64) for c in cols])
        sz_len = sz_len if ident else sz_len[order]
        bad = is_rle & (sz_len != 2)
        if bad.any():
            j = _first(bad)
            raise InputError("RLE size must be [height, width]", names[src[j]], ann_id[j], "segmentation.size")
    rh = cat_("rle_h")
    rw = cat_("rle_w")
    if not ident:
        rh, rw = rh[order], rw[order]
    rle_h = np.where(is_rle, rh, 0)   # int64 until checked against the image size
    rle_w = np.where(is_rle, rw, 0)
    # per-instance ragged counts in file order: strings decoded, lists as given
    str_off = _cat_ragged([c.str_off for c in cols])
    str_bytes = cat_("str_bytes")
    lst_off = _cat_ragged([c.lst_off for c in cols])
    lst_counts = cat_("lst_counts")
    s_counts, s_off, s_err = _decode_batch(np.ascontiguousarray(str_bytes), str_off)
    s_err = s_err if ident else s_err[order]
    if (s_err != 0).any():
        from .engine.ragged import RLE_ERROR_TEXT
        j = _first(s_err != 0)
        raise InputError(RLE_ERROR_TEXT[int(s_err[j])], names[src[j]], ann_id[j], "segmentation.counts")
    # counts in instance order (strings decoded, lists as given), list counts checked, sums
    from .engine.ragged import rle_layout
    counts_s, co_s, seg_sum, k = rle_layout(s_counts, s_off, lst_counts, lst_off,
                                            np.arange(n, dtype=np.int64) if ident else order,
                                            kind == KIND_RLE_STRING)
    if k >= 0:
        fo = int(order[k])
        seg = lst_counts[lst_off[fo]:lst_off[fo + 1]]
        v = int(seg[_first((seg < 0) | (seg > _UINT32_MAX))])
        raise InputError(f"RLE count {v} is negative or exceeds 2**32 - 1", names[src[k]], ann_id[k],
                         "segmentation.counts")

    tick("ids")
    # ---------------- ids
    ord_img = np.argsort(image_id, kind="stable")
    image_id_s = image_id[ord_img]
    if (image_id_s[1:] == image_id_s[:-1]).any():
        k = _first(image_id_s[1:] == image_id_s[:-1])
        raise InputError(f"duplicate image id {image_id_s[k]}", path_label, image_id_s[k], "id", kind="image")
    img_row = np.searchsorted(image_id, img)
    img_row_c = np.minimum(img_row, max(len(image_id) - 1, 0))
    unknown = (img_row >= len(image_id)) | (image_id[img_row_c] != img) if len(image_id) else np.ones(n, bool)
    if unknown.any():
        j = _first(unknown)
        raise InputError(f"image id {img[j]} is not defined in 'images'", names[src[j]], ann_id[j], "image_id")
    crow = np.searchsorted(cat_id, cat)
    crow_c = np.minimum(crow, max(len(cat_id) - 1, 0))
    unknown = (crow >= len(cat_id)) | (cat_id[crow_c] != cat) if len(cat_id) else np.ones(n, bool)
    if unknown.any():
        j = _first(unknown)
        raise InputError(f"category id {cat[j]} is not defined in 'categories'", names[src[j]], ann_id[j],
                         "category_id")
    if not results and not ids_rise:
        aord = np.argsort(ann_id, kind="stable")
        sa = ann_id[aord]
        dup = sa[1:] == sa[:-1]
        if dup.any():
            k = _first(dup)
            j0, j1 = aord[k], aord[k + 1]
            where = (f"in {names[src[j0]]}" if src[j0] == src[j1]
                     else f"also in {names[src[j0]]}")
            raise InputError(f"duplicate annotation id {sa[k]} ({where})", names[src[j1]], sa[k], "id")

    tick("RLE vs image size, s")
    # ---------------- RLE vs image size, sums
    ih = height[img_row].astype(np.int64)
    iw = width[img_row].astype(np.int64)
    bad = is_rle & ((rle_h != ih) | (rle_w != iw))
    if bad.any():
        j = _first(bad)
        raise InputError(f"RLE size [{rle_h[j]}, {rle_w[j]}] differs from the image's [height, width] "
                         f"[{ih[j]}, {iw[j]}]", names[src[j]], ann_id[j], "segmentation.size")
    rle_h = rle_h.astype(np.int32)   # equal to image sizes now: they fit
    rle_w = rle_w.astype(np.int32)
    # a ring doubling back over itself (a zigzag across the image) would need gigabytes of
    # crossing points to rasterise: refused here, its size measured against the image's
    from .engine.ragged import ring_crossings_over
    i, k, rb, allowed = ring_crossings_over(xy, ring_offsets, inst_ring_offsets, is_poly, ih, iw,
                                            MAX_RING_CROSSINGS)
    if i >= 0:
        npts = int(ring_offsets[inst_ring_offsets[i] + k + 1] - ring_offsets[inst_ring_offsets[i] + k])
        raise InputError(f"polygon ring of {npts} points would cross pixel columns up to {rb} times on its "
                         f"{iw[i]}x{ih[i]} image, over the bound of {allowed} (a ring folding back over "
                         f"itself); refused", names[src[i]], ann_id[i], f"segmentation[{k}]")
    bad = is_rle & (seg_sum != (ih * iw).astype(np.uint64))
    if bad.any():
        j = _first(bad)
        raise InputError(f"RLE counts sum to {seg_sum[j]}, expected height*width = {ih[j] * iw[j]}",
                         names[src[j]], ann_id[j], "segmentation.counts")
    if results:  # loadRes: an RLE result's area is its pixel count (one pass over the counts)
        from .engine.rle import rle_area_batch
        px = rle_area_batch(np.ascontiguousarray(counts_s, dtype=np.uint32), np.ascontiguousarray(co_s, dtype=np.int64))
        area = np.where(is_rle, px.astype(np.float64), area)

    tick("return Dataset")
    return Dataset(
        path=path_label, sources=list(names),
        image_id=image_id, width=width, height=height, file_name=file_name,
        cat_id=cat_id, cat_name=cat_name, cat_supercategory=cat_super,
        ann_id=ann_id, inst_image_id=img, category_id=cat, iscrowd=iscrowd,
        area=area, bbox=np.ascontiguousarray(bbox), score=score, kind=kind, source=src,
        img_row=img_row.astype(np.int64),
        xy=np.ascontiguousarray(xy), ring_offsets=ring_offsets, inst_ring_offsets=inst_ring_offsets,
        counts=counts_s, counts_offsets=co_s, rle_h=rle_h, rle_w=rle_w,
        warnings=warnings,
    )


def _decode_batch(buf, boff):
    from .engine.ragged import decode_strings
    if boff.shape[0] == 1:
        return np.zeros(0, np.uint32), boff.copy(), np.zeros(0, np.int8)
    return decode_strings(buf, boff)


# --------------------------------------------------------------------------------------------
def load(path, *, like: Dataset | None = None, strict: bool = False, cache=None) -> Dataset:
    """Load COCO instance annotations (or a results list) into a columnar :class:`Dataset`.

    Parameters
    ----------
    path : str or os.PathLike or list of them
        A ``.json`` / ``.json.gz`` file, a ``.zip`` of JSON files, a directory of ``*.json``
        files, or a list of any of these; several files are merged (see the module docstring).
    like : Dataset, optional
        Ground truth supplying images and categories when ``path`` is a results file (a
        top-level JSON list of annotations). Ignored for instance files.
    strict : bool
        Turn counted warnings (``degenerate_ring``) into errors.
    cache : None, bool, "refresh" or str / os.PathLike
        Columnar cache of a single input file (see :mod:`cocodiff.cache`): ``None`` (default)
        caches files of at least 50 MB (:data:`cocodiff.cache.AUTO_MIN_BYTES`); ``True`` any
        single file; ``False`` never; ``"refresh"`` ignores an existing cache and rewrites it;
        a folder keeps the cache there. A valid cache is keyed on the file's size, mtime and a
        digest of its ends, so an edited file is re-parsed. Results files (``like=``),
        directories and lists are never cached.

    Returns
    -------
    Dataset
        Instances sorted by (image_id, category_id, ann_id); ``warnings`` holds counted warnings.

    Raises
    ------
    InputError
        Any problem with the input, naming the file, annotation id and field.

    Examples
    --------
    >>> import cocodiff
    >>> gt = cocodiff.load("data/coco2014_val100/instances_val2014_100.json")
    >>> gt.n_instances
    839
    >>> dt = cocodiff.load("data/coco2014_val100/instances_val2014_fakesegm100_results.json", like=gt)
    """
    if not isinstance(path, (list, tuple)) and like is None and cache is not False:
        label = os.fspath(path)
        try:
            is_file = os.path.isfile(label)
            size = os.path.getsize(label) if is_file else 0
        except OSError:
            is_file = False
        from . import cache as _cache
        if is_file and (cache is not None or size >= _cache.AUTO_MIN_BYTES):
            cdir = None if isinstance(cache, bool) or cache in (None, "refresh") else os.fspath(cache)
            try:
                key = _cache.fingerprint(label)
            except OSError:
                key = None
            if key is not None and cache != "refresh":
                ds = _cache.load_cached(label, label, cdir, key)
                if ds is not None and not (strict and ds.warnings):
                    return ds
            ds = _load_uncached(path, like, strict)
            if key is not None:
                _cache.save(ds, label, cdir, key)
            return ds
    return _load_uncached(path, like, strict)


def load_pair(a, b, *, strict: bool = False, cache=None, threads: int | None = None):
    """Load the two sides of a comparison, both at once when that is cheap.

    The second input is parsed on a background thread while the first is parsed here (the JSON
    scanner releases the GIL), when both are single plain files of at most
    :data:`PAIR_CONCURRENT_MAX_BYTES` together and more than one thread is allowed (``threads``;
    None: the Numba thread count). Otherwise, and for anything that is already a
    :class:`Dataset`, one after the other. Errors are those of ``load(a)`` then ``load(b)``:
    the first input's error wins when both are bad.

    A results file as ``b`` (a top-level JSON list of annotations) takes ``a``'s images and
    categories (``load(b, like=A)``).

    Returns
    -------
    (Dataset, Dataset)

    Examples
    --------
    >>> a, b = load_pair("data/coco2014_val100/instances_val2014_100.json",
    ...                  "data/derived/val2014_100_fakesegm_as_annotations.json")
    >>> a.n_instances > 0 and b.n_instances > 0
    True
    """
    import threading

    if not isinstance(b, Dataset) and _is_results_file(b):   # B's images and categories are A's
        A = a if isinstance(a, Dataset) else load(a, strict=strict, cache=cache)
        return A, load(b, like=A, strict=strict)
    if isinstance(a, Dataset) or isinstance(b, Dataset):
        return (a if isinstance(a, Dataset) else load(a, strict=strict, cache=cache),
                b if isinstance(b, Dataset) else load(b, strict=strict, cache=cache))
    if threads is None:
        from .engine._jit import get_threads
        threads = get_threads()
    size_a, size_b = _file_size(a), _file_size(b)
    small = min(size_a, size_b) >= 0 and size_a + size_b <= PAIR_CONCURRENT_MAX_BYTES
    if threads < 2 or not small:
        return _load_sequential(a, b, strict, cache, b_first=size_b > size_a)
    out = {}

    def second():
        try:
            out["b"] = load(b, strict=strict, cache=cache)
        except BaseException as e:   # re-raised in the caller's thread
            out["err"] = e

    t = threading.Thread(target=second, name="cocodiff-load", daemon=True)   # never holds up exit
    t.start()
    A = load(a, strict=strict, cache=cache)
    while t.is_alive():
        t.join(0.05)   # a timed join: Ctrl-C still interrupts the wait
    if "err" in out:
        raise out["err"]
    return A, out["b"]


def _file_size(p) -> int:
    """The size of ``p`` when it is a single plain file, else -1."""
    try:
        p = os.fspath(p)
        return os.path.getsize(p) if os.path.isfile(p) else -1
    except (TypeError, OSError):
        return -1


def _is_results_file(path) -> bool:
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


def _load_sequential(a, b, strict, cache, b_first):
    """``(load(a), load(b))``, loading ``b`` first when ``b_first`` (:func:`load_pair`: when it
    is the bigger single file).

    A file's load needs about twice its size in fresh memory on top of what is already loaded,
    so the peak is lower when the dataset held meanwhile is the smaller one (full-size twin,
    uncached: 2.70 GB a-then-b, 2.31 GB b-then-a). Errors stay those of ``load(a)`` then
    ``load(b)``: when ``b`` (loaded first) fails, ``a`` is loaded and its error, if any, wins.
    """
    if not b_first:
        return load(a, strict=strict, cache=cache), load(b, strict=strict, cache=cache)
    try:
        B = load(b, strict=strict, cache=cache)
    except InputError:
        load(a, strict=strict, cache=cache)   # raises the first input's error, if it has one
        raise
    return load(a, strict=strict, cache=cache), B


def _load_uncached(path, like, strict) -> Dataset:
    if isinstance(path, (list, tuple)):
        if not path:
            raise InputError("no input paths given")
        files = []
        for p in path:
            files.extend((name, data, os.fspath(p)) for name, data in _read_one(os.fspath(p)))
        label = " + ".join(os.fspath(p) for p in path)
    else:
        label = os.fspath(path)
        files = [(name, data, label) for name, data in _read_one(label)]
    if len(files) > 32767:
        raise InputError("too many input files (> 32767)", label)
    gc_was = gc.isenabled()
    gc.disable()  # decoding and building allocate many objects and no cycles
    try:
        parts = []
        names = []
        datas = []
        for k, (name, data, source) in enumerate(files):
            parts.append(_decode(data, name, like is not None))
            names.append(name)
            # kept for precise error messages only (nothing decoded refers to the bytes): a big
            # file is read again should one be needed, its bytes are not held through the build
            # (a pipe cannot be read again: its bytes are kept)
            keep = len(data) <= KEEP_BYTES_MAX or not (os.path.isfile(source) or os.path.isdir(source))
            datas.append(data if keep else _Reread(source, name))
            files[k] = data = None
        files = None
        return _build(parts, names, like, strict, label, datas)
    finally:
        if gc_was:
            gc.enable()
