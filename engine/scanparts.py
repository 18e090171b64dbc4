"""A file scanned in parts: the annotations list cut at object boundaries, parts parsed
independently (on threads: the kernels release the GIL) and joined.

:func:`split_points` proposes cuts, :func:`cocodiff.engine.jsonscan.scan_part` parses each part
and proves its cut, :func:`cocodiff.engine.jsonscan.scan_tail` reads the document after the
list, and :func:`concat_scans` joins the parts into the one-pass result.
"""
from __future__ import annotations

import numpy as np

from ._intrinsics import ptr as _ptr
from ._jit import serial
from .jsonscan import ScanResult
from .jsonskip import ws
from .ragged import move_left

__all__ = ["split_points", "concat_scans"]

_K_ANNS_Q = np.frombuffer(b'"annotations"', np.uint8).copy()


@serial
def _split_after(data, q, end):
    """The first ``{`` at or after ``q`` that follows ``}`` and ``,`` (whitespace between
    allowed): a *candidate* boundary between two objects of a list; -1 when none."""
    buf = _ptr(data)
    p = q
    while p < end:
        if buf[p] == 125:   # }
            r = ws(buf, p + 1, end)
            if r < end and buf[r] == 44:
                r = ws(buf, r + 1, end)
                if r < end and buf[r] == 123:
                    return r
        p += 1
    return -1


@serial
def _find(data, needle):
    """First position of ``needle`` in ``data`` (-1: none)."""
    n = needle.shape[0]
    first = needle[0]
    for p in range(data.shape[0] - n + 1):
        if data[p] == first:
            k = 1
            while k < n and data[p + k] == needle[k]:
                k += 1
            if k == n:
                return p
    return -1


def split_points(buf: np.ndarray, parts: int, lo: int = -1):
    """Up to ``parts - 1`` increasing candidate cut positions (each a ``{`` after ``},``) in
    ``buf[lo:]``, about evenly spaced; ``lo`` -1: from the first ``"annotations"`` (the start
    when there is none). Candidates only: :func:`scan_part` tells whether a cut is really a
    boundary between two annotations.

    Examples
    --------
    >>> b = np.frombuffer(b'[{"a": 1}, {"b": 2}, {"c": 3}, {"d": 4}]', np.uint8)
    >>> split_points(b, 3)
    [21, 31]
    """
    end = buf.shape[0]
    if lo < 0:
        lo = max(0, int(_find(buf, _K_ANNS_Q)))
    out = []
    for i in range(1, parts):
        q = _split_after(buf, lo + (end - lo) * i // parts, end)
        if q < 0:
            break
        if not out or q > out[-1]:
            out.append(int(q))
    return out



def concat_scans(parts, tail, results=False, shared=None):
    """One :class:`ScanResult` from consecutive parts (and the section spans of ``tail``);
    ``results``: a results file (``ann_id`` 1..n over all parts).

    ``shared``: the buffer whose consecutive windows the parts wrote their coordinates into
    (:func:`scan_part`'s ``coords``, sized by their bytes): each part's coordinates are then
    moved left to follow the previous part's, in place -- no second buffer. Otherwise (or when
    a part outgrew its window) the first part's buffer is used when it has room, else a new one.

    Examples
    --------
    >>> s = b'[{"image_id": 1, "category_id": 1, "segmentation": [[1, 2, 3, 4, 5, 6]]}, ' \\
    ...     b'{"image_id": 1, "category_id": 1, "segmentation": [[7, 8, 9, 10, 11, 12]]}]'
    >>> from cocodiff.engine.jsonscan import scan_part, scan_tail
    >>> b = np.frombuffer(s, np.uint8)
    >>> cut = s.index(b"}, {") + 3                   # the second annotation's '{'
    >>> shared = np.full(20, np.nan)
    >>> p0 = scan_part(b, True, -1, cut, shared[:10])[2]
    >>> p1 = scan_part(b, True, cut, -1, shared[10:])[2]
    >>> r = concat_scans([p0, p1], scan_tail(b, True, len(s), p0)[2], True, shared)
    >>> r.coords.tolist(), np.shares_memory(r.coords, shared), r.ann_id.tolist()
    ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0], True, [1, 2])
    """
    if len(parts) == 1 and tail is None:
        return parts[0]
    r = ScanResult()
    first = parts[0]
    r.n = sum(q.n for q in parts)
    r.images_span = tail.images_span if tail is not None else first.images_span
    r.categories_span = tail.categories_span if tail is not None else first.categories_span
    r.top_seen = tail.top_seen if tail is not None else first.top_seen
    r._spans = tail._spans if tail is not None else first._spans
    for name in ("ann_id", "image_id", "category_id", "iscrowd", "area", "score", "bbox", "has_bbox",
                 "seg_kind", "n_rings", "rle_h", "rle_w", "str_bytes", "list_counts", "ring_vals"):
        setattr(r, name, np.concatenate([getattr(q, name) for q in parts]))
    if results:   # numbered per part by the scanner
        r.ann_id = np.arange(1, r.n + 1, dtype=np.int64)
    for off, data in (("str_offsets", "str_bytes"), ("list_offsets", "list_counts")):
        chunks = [np.zeros(1, np.int64)]
        base = 0
        for q in parts:
            chunks.append(getattr(q, off)[1:] + base)
            base += getattr(q, data).shape[0]
        setattr(r, off, np.concatenate(chunks))
    nv = sum(q.coords.shape[0] for q in parts)
    # where each part's coordinates start in ``shared`` (-1: elsewhere)
    starts = [(q.coords.ctypes.data - shared.ctypes.data) // 8
              if shared is not None and q.coords.size and np.shares_memory(q.coords, shared) else -1
              for q in parts]
    k = 0
    in_place = shared is not None and shared.shape[0] >= nv
    for q, a in zip(parts, starts):   # moved left only: a part never lands past its own start
        in_place = in_place and (q.coords.size == 0 or a >= k)
        k += q.coords.shape[0]
    if in_place:
        buf = shared
        k = 0
        for q, a in zip(parts, starts):
            m = q.coords.shape[0]
            if m and a != k:
                move_left(buf, a, k, m)
            k += m
    else:
        buf = first._coords_buf
        if buf.shape[0] < nv:
            buf = np.empty(nv, np.float64)
            buf[:first.coords.shape[0]] = first.coords
        k = first.coords.shape[0]
        for q in parts[1:]:
            buf[k:k + q.coords.shape[0]] = q.coords
            k += q.coords.shape[0]
    r.coords = buf[:nv]
    r._coords_buf = buf
    return r
