"""RLE dicts (pycocotools' ``{'size': [h, w], 'counts': ...}``) to and from a counts store.

Every dict is validated (size, counts type, compressed string characters, negative or too
large counts) with a message naming the offending item; a fast path skips the checks for a
well-formed dict with ``bytes`` counts. :mod:`cocodiff.mask` re-exports
:func:`rles_to_store` and :func:`store_to_rles`.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .engine.rle import rle_from_string_batch, rle_to_string, rle_to_string_batch

__all__ = ["rles_to_store", "store_to_rles", "parse_rles", "one_rle", "check_dim", "U32_MAX"]

#: the largest count an RLE can hold (pycocotools' ``uint``)
U32_MAX = 0xFFFFFFFF


def check_dim(v, name: str) -> int:
    """``v`` as an ``int`` when it is an integral number >= 1 (an image side), else ``ValueError``."""
    if type(v) is int and v >= 1:  # fast path
        return v
    if isinstance(v, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if isinstance(v, numbers.Integral):
        iv = int(v)
    elif isinstance(v, numbers.Real) and float(v).is_integer():
        iv = int(v)
    else:
        raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if iv < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    return iv


def _size(obj, where: str) -> tuple[int, int]:
    if not isinstance(obj, dict) or "size" not in obj or "counts" not in obj:
        raise ValueError(f"{where}: an RLE must be a dict with 'size' and 'counts', got {type(obj).__name__}")
    s = obj["size"]
    if type(s) is list and len(s) == 2 and type(s[0]) is int and type(s[1]) is int \
            and s[0] >= 1 and s[1] >= 1:  # fast path
        return s[0], s[1]
    try:
        n = len(s)
    except TypeError:
        n = -1
    if n != 2:
        raise ValueError(f"{where}: RLE 'size' must be [h, w], got {s!r}")
    return check_dim(s[0], f"{where}: RLE height"), check_dim(s[1], f"{where}: RLE width")


def _uncompressed_counts(c, where: str) -> np.ndarray:
    arr = np.asarray(c)
    if arr.ndim != 1:
        raise ValueError(f"{where}: uncompressed RLE counts must be a flat list of integers")
    if arr.size == 0:
        return np.zeros(0, np.uint32)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.floor(arr)):
            raise ValueError(f"{where}: uncompressed RLE counts must be integers")
    elif arr.dtype.kind not in "iu":
        raise ValueError(f"{where}: uncompressed RLE counts must be integers, got dtype {arr.dtype}")
    if np.any(arr < 0):
        raise ValueError(f"{where}: uncompressed RLE has a negative count")
    if np.any(arr > U32_MAX):
        raise ValueError(f"{where}: uncompressed RLE has a count above 2**32-1")
    return arr.astype(np.uint32)


def _counts_bytes(obj, where: str) -> bytes:
    c = obj["counts"]
    if type(c) is bytes:  # fast path
        return c
    if isinstance(c, str):
        try:
            return c.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError(f"{where}: compressed RLE string has a character outside '0'..'o'") from None
    if isinstance(c, (bytes, bytearray, memoryview)):
        return bytes(c)
    return rle_to_string(_uncompressed_counts(c, where)).tobytes()


def rles_to_store(rleObjs: list[dict[str, Any]],
                  what: str = "rle") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parse RLE dicts into a counts store, validating every one.

    Parameters
    ----------
    rleObjs : list of dict
        ``{'size': [h, w], 'counts': bytes | str | list of int}``.
    what : str
        Name used in error messages.

    Returns
    -------
    counts : ndarray of uint32
    offsets : ndarray of int64 (n + 1,)
    h, w : ndarray of int64 (n,)

    Raises
    ------
    ValueError
        Bad dict, bad size, bad string, or counts that do not sum to ``h * w``.

    Examples
    --------
    >>> c, o, h, w = rles_to_store([{'size': [5, 4], 'counts': b'62304'}])
    >>> c.tolist(), o.tolist(), h.tolist(), w.tolist()
    ([6, 2, 3, 2, 7], [0, 5], [5], [4])
    """
    counts, offsets, hs, ws, totals = parse_rles(rleObjs, what)
    bad = np.nonzero(totals != hs * ws)[0]
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{what}[{i}]: RLE counts sum to {int(totals[i])}, not h*w = "
                         f"{int(hs[i])}*{int(ws[i])} = {int(hs[i] * ws[i])}")
    return counts, offsets, hs, ws


def parse_rles(rleObjs, what: str):
    """Like :func:`rles_to_store` without the ``h * w`` check; also returns the totals."""
    n = len(rleObjs)
    hl = [0] * n
    wl = [0] * n
    bufs = [b""] * n
    for i, obj in enumerate(rleObjs):
        if type(obj) is dict:  # fast path: well-formed dict with bytes counts
            s = obj.get("size")
            c = obj.get("counts")
            if type(c) is bytes and type(s) is list and len(s) == 2 and type(s[0]) is int \
                    and type(s[1]) is int and s[0] >= 1 and s[1] >= 1:
                hl[i] = s[0]
                wl[i] = s[1]
                bufs[i] = c
                continue
        where = f"{what}[{i}]"
        hl[i], wl[i] = _size(obj, where)
        bufs[i] = _counts_bytes(obj, where)
    hs = np.array(hl, np.int64)
    ws = np.array(wl, np.int64)
    boff = np.zeros(n + 1, np.int64)
    np.cumsum([len(b) for b in bufs], out=boff[1:])
    buf = np.frombuffer(b"".join(bufs), np.uint8)
    try:
        counts, offsets = rle_from_string_batch(buf, boff)
    except ValueError as e:
        # find the culprit for a precise message
        for i, b in enumerate(bufs):
            try:
                rle_from_string_batch(np.frombuffer(b, np.uint8), np.array([0, len(b)], np.int64))
            except ValueError:
                raise ValueError(f"{what}[{i}]: {e}") from None
        raise
    cs = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=cs[1:], dtype=np.int64)
    totals = cs[offsets[1:]] - cs[offsets[:-1]]
    return counts, offsets, hs, ws, totals


def store_to_rles(counts: np.ndarray, offsets: np.ndarray, h: Sequence[int] | np.ndarray,
                  w: Sequence[int] | np.ndarray) -> list:
    """RLE dicts (compressed ``bytes`` counts) of a counts store.

    Parameters
    ----------
    counts : ndarray of uint32
    offsets : ndarray of int64 (n + 1,)
    h, w : array-like of int (n,)

    Returns
    -------
    list of dict

    Examples
    --------
    >>> import numpy as np
    >>> store_to_rles(np.array([6, 2, 3, 2, 7], np.uint32), np.array([0, 5]), [5], [4])
    [{'size': [5, 4], 'counts': b'62304'}]
    """
    flat, boff = rle_to_string_batch(np.ascontiguousarray(counts, np.uint32),
                                     np.ascontiguousarray(offsets, np.int64))
    raw = flat.tobytes()
    bo = boff.tolist()
    return [{"size": [int(h[i]), int(w[i])], "counts": raw[bo[i]:bo[i + 1]]}
            for i in range(len(bo) - 1)]


def one_rle(counts: np.ndarray, h: int, w: int) -> dict:
    """The RLE dict (compressed ``bytes`` counts) of one mask's counts."""
    return {"size": [int(h), int(w)], "counts": rle_to_string(counts).tobytes()}
