"""What a valid loader input is: the bounds, the typed msgspec schema, and the precise messages.

The bounds (:data:`MAX_ABS_COORD`, :data:`MAX_NESTING`, :data:`MAX_RING_CROSSINGS`,
:data:`UINT32_MAX` for RLE counts) are read by every check of the loader. The schema decodes a
file into typed Structs with each ``segmentation`` kept as raw JSON text. When a file fails, the
functions here find the first problem and raise it as an :class:`InputError` naming the file,
the annotation / image / category id and the field: :func:`check_structure` (a repeated key or
too deep nesting, anywhere), :func:`malformed` (not JSON) and :func:`validation_failed` (JSON,
but not COCO), both walking an untyped decode (:func:`_explain`). The messages are listed in
:mod:`cocodiff.loader`'s validation policy.
"""
from __future__ import annotations

import json
import re

import msgspec
import numpy as np

from .errors import InputError

#: largest magnitude a polygon coordinate may have
MAX_ABS_COORD = 1e7
#: largest RLE count (counts are held as uint32)
UINT32_MAX = 4294967295
#: deepest nesting of JSON containers an input may have (the top-level object or list is level 1)
MAX_NESTING = 128
#: a polygon ring may cross pixel-column boundaries at most 2 per point plus min(8 * (h*w + 1),
#: this) times (its rasterisation holds 24 bytes per crossing): see ``ring_crossings_over``
MAX_RING_CROSSINGS = 1 << 24


# --------------------------------------------------------------------------------------------
# the typed schema (msgspec)
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


DEC_FILE = msgspec.json.Decoder(_File)
DEC_RES = msgspec.json.Decoder(list[_ResAnn])
DEC_RLE = msgspec.json.Decoder(_RLE)
DEC_IMAGES = msgspec.json.Decoder(list[_Image])
DEC_CATS = msgspec.json.Decoder(list[_Category])


# --------------------------------------------------------------------------------------------
# precise messages on failure
def _tname(v) -> str:
    if v is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "object"}.get(
        type(v), type(v).__name__)


def _is_int(v) -> bool:
    return type(v) is int


def _is_num(v) -> bool:
    return type(v) is int or type(v) is float


def malformed(data, name: str, err: Exception, results: bool):
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


class _Repeat(Exception):
    """A key repeated in one object (raised by :func:`_no_repeat`)."""


def _no_repeat(pairs):
    """``json.loads``'s object hook: refuse an object with a key twice."""
    if len({k for k, _ in pairs}) != len(pairs):
        raise _Repeat
    return None   # the values are not needed


def max_depth(b: np.ndarray) -> int:
    """How deep the brackets outside strings nest in the JSON text ``b`` (uint8): exact for valid
    JSON, where a backslash occurs only in strings and escapes the character after it."""
    bsl = np.flatnonzero(b == 92)
    quotes = np.flatnonzero(b == 34)
    if bsl.size:   # a quote right after an odd run of backslashes is escaped
        first = np.ones(bsl.size, bool)
        first[1:] = bsl[1:] != bsl[:-1] + 1
        starts = np.flatnonzero(first)
        lengths = np.diff(np.append(starts, bsl.size))
        escaped = bsl[starts + lengths - 1][lengths % 2 == 1] + 1
        quotes = quotes[~np.isin(quotes, escaped)]
    br = np.flatnonzero((b == 91) | (b == 93) | (b == 123) | (b == 125))
    br = br[np.searchsorted(quotes, br) % 2 == 0]          # outside strings
    if br.size == 0:
        return 0
    step = np.where((b[br] == 91) | (b[br] == 123), 1, -1)
    return int(np.cumsum(step).max())


#: below this size a document's structure is first checked by the standard library's JSON parser
#: and numpy, not by the compiled check (whose one-time compile costs seconds); the compiled check
#: runs only when that finds something to name
QUICK_CHECK_MAX_BYTES = 8 << 20


def plainly_well_formed(data) -> bool:
    """True when ``data`` is UTF-8 JSON with no key repeated in an object and nested at most
    :data:`MAX_NESTING` deep -- what :func:`cocodiff.engine.jsonstructure.check_structure` would pass."""
    b = np.frombuffer(data, np.uint8)
    if max_depth(b) > MAX_NESTING:
        return False
    try:
        json.loads(bytes(data).decode("utf-8"), object_pairs_hook=_no_repeat)
    except (_Repeat, ValueError, RecursionError):
        return False
    return True


def check_structure(data, name: str, results: bool) -> None:
    """Raise an InputError for a key repeated in one object or nesting deeper than
    :data:`MAX_NESTING`, anywhere in the document, naming where (the slow path's first step;
    the scanner bails on both). Malformed JSON is left to the decoder to report."""
    if len(data) <= QUICK_CHECK_MAX_BYTES and plainly_well_formed(data):
        return
    from .engine import jsonstructure   # Numba, imported on first use: importing the loader stays quick
    r = jsonstructure.check_structure(np.frombuffer(data, np.uint8), results, MAX_NESTING)
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


def validation_failed(data, name: str, err: Exception, results: bool):
    """msgspec refused the typed decode (``err``): raise the first problem an untyped decode
    shows, else msgspec's message with the annotation id its path names."""
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
