"""RLE kernels: COCO's compressed-string codec, area, bbox, encode/decode, intersection.

An RLE is a ``uint32`` array of run lengths over the mask read in **column-major** order
(``x * h + y``), alternating background / foreground and starting with background (so a
mask whose first pixel is set starts with a ``0`` count). A store of many RLEs is
``counts`` (flat ``uint32``) plus ``offsets`` (``int64``, ``n + 1``).

Every kernel reproduces cocoapi ``common/maskApi.c`` (as shipped with pycocotools 2.0.x)
bit for bit on valid input, and raises ``ValueError`` where the C code would read out of
bounds or silently wrap:

* :func:`rle_to_string` / :func:`rle_from_string` -- ``rleToString`` / ``rleFrString``: a
  LEB128-like code, 5 payload bits per character (chars 48..111), continuation bit
  ``0x20``, sign bit ``0x10`` on a value's last character; from the 4th value on, each value
  is stored as the difference to the value two places before.
* :func:`rle_area_batch` -- ``rleArea`` (sum of the odd counts).
* :func:`rle_bbox_batch` -- ``rleToBbox`` including its quirks (a run that spans several
  columns widens the box to the full height; the unsigned arithmetic of an RLE whose
  foreground runs are all empty but which has more than one count).
* :func:`rle_encode` / :func:`rle_decode` -- ``rleEncode`` (a new run starts wherever the
  byte *value* changes, as in C) / ``rleDecode``.
"""
from __future__ import annotations

import numpy as np

from ._jit import serial

__all__ = [
    "rle_to_string", "rle_from_string", "rle_to_string_batch", "rle_from_string_batch", "rle_from_strings",
    "RLE_OK", "RLE_BAD_CHAR", "RLE_TRUNCATED", "RLE_NEGATIVE", "RLE_OVERFLOW", "RLE_ERROR_TEXT",
    "rle_area_batch", "rle_bbox_batch", "rle_decode", "rle_decode_batch", "rle_encode",
    "rle_intersection",
]

_U32 = 0xFFFFFFFF


# --------------------------------------------------------------------------- string codec
@serial
def _string_len(counts, a, b):
    """Number of characters rleToString writes for counts[a:b]."""
    n = 0
    for i in range(a, b):
        x = np.int64(counts[i])
        if i - a > 2:
            x -= np.int64(counts[i - 2])
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            if c & 0x10:
                more = x != -1
            else:
                more = x != 0
            n += 1
    return n


@serial
def _string_write(counts, a, b, out, p):
    for i in range(a, b):
        x = np.int64(counts[i])
        if i - a > 2:
            x -= np.int64(counts[i - 2])
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            if c & 0x10:
                more = x != -1
            else:
                more = x != 0
            if more:
                c |= 0x20
            out[p] = np.uint8(c + 48)
            p += 1
    return p


@serial
def rle_to_string(counts):
    """Encode RLE counts as COCO's compressed string (bytes identical to ``rleToString``).

    Parameters
    ----------
    counts : ndarray of uint32 (m,)

    Returns
    -------
    ndarray of uint8
        The ASCII characters (no terminating NUL).

    Examples
    --------
    >>> import numpy as np
    >>> rle_to_string(np.array([6, 2, 3, 2, 7], np.uint32)).tobytes()
    b'62304'
    """
    n = _string_len(counts, 0, counts.shape[0])
    out = np.empty(n, np.uint8)
    _string_write(counts, 0, counts.shape[0], out, 0)
    return out


#: Error codes of :func:`rle_from_strings` (one per string; 0: decoded).
RLE_OK = 0
RLE_BAD_CHAR = 1       # a byte outside '0'..'o' (48..111)
RLE_TRUNCATED = 2      # the string ends inside a value (continuation bit set on the last char)
RLE_NEGATIVE = 3       # a decoded count is negative
RLE_OVERFLOW = 4       # a count above 2**32 - 1, or a value spelt with more than 12 characters

RLE_ERROR_TEXT = {
    RLE_BAD_CHAR: "compressed RLE string has a character outside '0'..'o'",
    RLE_TRUNCATED: "compressed RLE string ends inside a value",
    RLE_NEGATIVE: "compressed RLE string decodes to a negative count",
    RLE_OVERFLOW: "compressed RLE string decodes to a count that does not fit in 32 bits",
}


@serial
def _string_count_values(buf, a, b):
    """(number of values in buf[a:b], error code of the characters: 0, bad char, truncated)."""
    m = 0
    for p in range(a, b):
        c = np.int64(buf[p]) - 48
        if c < 0 or c > 63:
            return m, RLE_BAD_CHAR
        if not (c & 0x20):
            m += 1
    if b > a and ((np.int64(buf[b - 1]) - 48) & 0x20):
        return m, RLE_TRUNCATED
    return m, RLE_OK


@serial
def _string_decode_into(buf, a, b, out, q):
    """Decode buf[a:b] (characters already checked) into out[q:...]; returns (new q, code)."""
    q0 = q
    p = a
    while p < b:
        x = np.int64(0)
        k = 0
        more = True
        while more:
            if k >= 12:   # 60 payload bits: a longer value cannot be a uint32 (C would shift past 64)
                return q, RLE_OVERFLOW
            c = np.int64(buf[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = (c & 0x20) != 0
            p += 1
            k += 1
            if (not more) and (c & 0x10):
                x |= np.int64(-1) << (5 * k)
        if q - q0 > 2:
            x += np.int64(out[q - 2])
        if x < 0:
            return q, RLE_NEGATIVE
        if x > _U32:
            return q, RLE_OVERFLOW
        out[q] = np.uint32(x)
        q += 1
    return q, RLE_OK


@serial
def rle_from_strings(buf, byte_offsets):
    """Decode many compressed strings, with an error code per string instead of raising.

    The one decoder of ``rleFrString`` strings: :func:`rle_from_string_batch` and
    :func:`rle_from_string` raise on its first error; the loader reports each bad string
    with its file, annotation and field.

    Parameters
    ----------
    buf : ndarray of uint8
        All strings' bytes, concatenated.
    byte_offsets : ndarray of int64 (n + 1,)

    Returns
    -------
    counts : ndarray of uint32
    offsets : ndarray of int64 (n + 1,)
    err : ndarray of int8 (n,)
        :data:`RLE_OK` or the reason (:data:`RLE_ERROR_TEXT`); a bad string's counts are
        garbage and must not be used.

    Examples
    --------
    >>> import numpy as np
    >>> c, o, e = rle_from_strings(np.frombuffer(b"62304d0P", np.uint8), np.array([0, 5, 7, 8]))
    >>> c[:o[2]].tolist(), o.tolist(), e.tolist()
    ([6, 2, 3, 2, 7, 20], [0, 5, 6, 6], [0, 0, 2])
    """
    n = byte_offsets.shape[0] - 1
    offsets = np.empty(n + 1, np.int64)
    err = np.zeros(n, np.int8)
    offsets[0] = 0
    for i in range(n):
        m, code = _string_count_values(buf, byte_offsets[i], byte_offsets[i + 1])
        err[i] = code
        offsets[i + 1] = offsets[i] + (m if code == RLE_OK else 0)
    counts = np.zeros(offsets[n], np.uint32)
    for i in range(n):
        if err[i] == RLE_OK:
            _, code = _string_decode_into(buf, byte_offsets[i], byte_offsets[i + 1], counts, offsets[i])
            err[i] = code
    return counts, offsets, err


@serial
def _raise_string_error(code):
    if code == RLE_BAD_CHAR:
        raise ValueError("compressed RLE string has a character outside '0'..'o'")
    if code == RLE_TRUNCATED:
        raise ValueError("compressed RLE string ends inside a value")
    if code == RLE_NEGATIVE:
        raise ValueError("compressed RLE string decodes to a negative count")
    raise ValueError("compressed RLE string decodes to a count that does not fit in 32 bits")


@serial
def rle_from_string(buf):
    """Decode COCO's compressed RLE string (``rleFrString``).

    Parameters
    ----------
    buf : ndarray of uint8
        The characters, e.g. ``np.frombuffer(b"62304", np.uint8)``.

    Returns
    -------
    ndarray of uint32

    Raises
    ------
    ValueError
        A character outside ``'0'..'o'``, a string that ends inside a value, or a value
        that decodes to a negative count or one above ``2**32 - 1`` (pycocotools reads past
        the end / wraps silently in those cases).

    Examples
    --------
    >>> import numpy as np
    >>> rle_from_string(np.frombuffer(b"62304", np.uint8))
    array([6, 2, 3, 2, 7], dtype=uint32)
    """
    bo = np.empty(2, np.int64)
    bo[0] = 0
    bo[1] = buf.shape[0]
    counts, _, err = rle_from_strings(buf, bo)
    if err[0] != RLE_OK:
        _raise_string_error(err[0])
    return counts


@serial
def rle_to_string_batch(counts, offsets):
    """Compressed strings of many RLEs at once.

    Parameters
    ----------
    counts : ndarray of uint32
    offsets : ndarray of int64 (n + 1,)

    Returns
    -------
    bytes_flat : ndarray of uint8
    byte_offsets : ndarray of int64 (n + 1,)
        String ``i`` is ``bytes_flat[byte_offsets[i]:byte_offsets[i+1]]``.

    Examples
    --------
    >>> import numpy as np
    >>> b, o = rle_to_string_batch(np.array([6, 2, 3, 2, 7, 20], np.uint32),
    ...                            np.array([0, 5, 6], np.int64))
    >>> b.tobytes(), o.tolist()
    (b'62304d0', [0, 5, 7])
    """
    n = offsets.shape[0] - 1
    byte_offsets = np.empty(n + 1, np.int64)
    byte_offsets[0] = 0
    for i in range(n):
        byte_offsets[i + 1] = byte_offsets[i] + _string_len(counts, offsets[i], offsets[i + 1])
    out = np.empty(byte_offsets[n], np.uint8)
    for i in range(n):
        _string_write(counts, offsets[i], offsets[i + 1], out, byte_offsets[i])
    return out, byte_offsets


@serial
def rle_from_string_batch(buf, byte_offsets):
    """Decode many compressed strings (flat bytes + offsets) into a counts store.

    Parameters
    ----------
    buf : ndarray of uint8
    byte_offsets : ndarray of int64 (n + 1,)

    Returns
    -------
    counts : ndarray of uint32
    offsets : ndarray of int64 (n + 1,)

    Raises
    ------
    ValueError
        As :func:`rle_from_string`, for any of the strings.

    Examples
    --------
    >>> import numpy as np
    >>> c, o = rle_from_string_batch(np.frombuffer(b"62304d0", np.uint8),
    ...                              np.array([0, 5, 7], np.int64))
    >>> c.tolist(), o.tolist()
    ([6, 2, 3, 2, 7, 20], [0, 5, 6])
    """
    counts, offsets, err = rle_from_strings(buf, byte_offsets)
    for i in range(err.shape[0]):
        if err[i] != RLE_OK:
            _raise_string_error(err[i])
    return counts, offsets


# --------------------------------------------------------------------------- area / bbox
@serial
def rle_area_batch(counts, offsets):
    """Foreground pixel count of every RLE (``rleArea``, without its uint32 wrap).

    Parameters
    ----------
    counts : ndarray of uint32
    offsets : ndarray of int64 (n + 1,)

    Returns
    -------
    ndarray of int64 (n,)

    Examples
    --------
    >>> import numpy as np
    >>> rle_area_batch(np.array([6, 2, 3, 2, 7], np.uint32), np.array([0, 5], np.int64))
    array([4])
    """
    n = offsets.shape[0] - 1
    out = np.zeros(n, np.int64)
    for i in range(n):
        s = np.int64(0)
        for j in range(offsets[i] + 1, offsets[i + 1], 2):
            s += np.int64(counts[j])
        out[i] = s
    return out


@serial
def rle_bbox_batch(counts, offsets, h):
    """Bounding boxes ``[x, y, w, h]`` of RLEs, identical to pycocotools' ``rleToBbox``.

    The mask width is taken as ``sum(counts) // h`` (exact for valid RLEs). All arithmetic
    is the C code's unsigned 32-bit arithmetic, so its quirks come out the same: a
    foreground run spanning several columns makes the box full height, and an RLE with
    two or more counts but no non-empty foreground run gives ``[w, h, 2**32 - w + 1,
    2**32 - h + 1]`` while one with fewer than two counts gives zeros.

    Parameters
    ----------
    counts : ndarray of uint32
    offsets : ndarray of int64 (n + 1,)
    h : ndarray of int64 (n,)
        Mask heights (must be >= 1).

    Returns
    -------
    ndarray of float64 (n, 4)

    Examples
    --------
    >>> import numpy as np
    >>> rle_bbox_batch(np.array([6, 2, 3, 2, 7], np.uint32), np.array([0, 5], np.int64),
    ...                np.array([5], np.int64))
    array([[1., 1., 2., 2.]])
    """
    n = offsets.shape[0] - 1
    out = np.zeros((n, 4), np.float64)
    for i in range(n):
        a = offsets[i]
        m = offsets[i + 1] - a
        hh = np.int64(h[i]) & _U32
        if hh == 0:
            raise ValueError("rle_bbox_batch: mask height must be >= 1")
        tot = np.int64(0)
        for j in range(a, a + m):
            tot += np.int64(counts[j])
        ww = (tot // hh) & _U32
        m = (m // 2) * 2
        if m == 0:
            continue
        xs = ww
        ys = hh
        xe = np.int64(0)
        ye = np.int64(0)
        cc = np.int64(0)
        for j in range(m):
            start = cc
            cnt = np.int64(counts[a + j])
            cc = (cc + cnt) & _U32
            if j % 2 == 0:
                continue
            if cnt == 0:
                continue
            y_start = start % hh
            x_start = (start - y_start) // hh
            last = (cc - 1) & _U32
            y_end = last % hh
            x_end = (last - y_end) // hh
            xs = min(xs, x_start)
            xe = max(xe, x_end)
            if x_start < x_end:
                ys = 0
                ye = hh - 1
            else:
                ys = min(ys, y_start)
                ye = max(ye, y_end)
        out[i, 0] = xs
        out[i, 2] = (xe - xs + 1) & _U32
        out[i, 1] = ys
        out[i, 3] = (ye - ys + 1) & _U32
    return out


# --------------------------------------------------------------------------- encode / decode
@serial
def rle_decode(counts, h, w):
    """Decode RLE counts to a ``uint8`` mask of shape ``(h, w)`` (column-major fill).

    The result is Fortran-ordered, like pycocotools'.

    Parameters
    ----------
    counts : ndarray of uint32
    h, w : int

    Returns
    -------
    ndarray of uint8 (h, w), Fortran order

    Raises
    ------
    ValueError
        If the counts do not sum to ``h * w``.

    Examples
    --------
    >>> import numpy as np
    >>> rle_decode(np.array([1, 2, 3], np.uint32), 3, 2)
    array([[0, 0],
           [1, 0],
           [1, 0]], dtype=uint8)
    """
    total = np.int64(0)
    for j in range(counts.shape[0]):
        total += np.int64(counts[j])
    if total != np.int64(h) * np.int64(w):
        raise ValueError("RLE counts do not sum to h * w")
    flat = np.empty(np.int64(h) * np.int64(w), np.uint8)
    p = 0
    v = np.uint8(0)
    for j in range(counts.shape[0]):
        c = np.int64(counts[j])
        flat[p:p + c] = v
        p += c
        v = np.uint8(1) - v
    return flat.reshape((w, h)).T


@serial
def rle_decode_batch(counts, offsets, h, w):
    """Decode ``n`` RLEs of one size ``(h, w)`` into a Fortran-ordered ``(h, w, n)`` array.

    Parameters
    ----------
    counts : ndarray of uint32
    offsets : ndarray of int64 (n + 1,)
    h, w : int

    Returns
    -------
    ndarray of uint8 (h, w, n), Fortran order (pycocotools' ``decode`` layout)

    Raises
    ------
    ValueError
        If an RLE's counts do not sum to ``h * w``.

    Examples
    --------
    >>> import numpy as np
    >>> rle_decode_batch(np.array([1, 2, 3, 6], np.uint32), np.array([0, 3, 4], np.int64), 3, 2).shape
    (3, 2, 2)
    """
    n = offsets.shape[0] - 1
    a = np.int64(h) * np.int64(w)
    for i in range(n):
        total = np.int64(0)
        for j in range(offsets[i], offsets[i + 1]):
            total += np.int64(counts[j])
        if total != a:
            raise ValueError("RLE counts do not sum to h * w")
    flat = np.empty(a * n, np.uint8)
    p = 0
    for i in range(n):
        v = np.uint8(0)
        for j in range(offsets[i], offsets[i + 1]):
            c = np.int64(counts[j])
            flat[p:p + c] = v
            p += c
            v = np.uint8(1) - v
    return flat.reshape((n, w, h)).T


@serial
def rle_encode(mask):
    """Run-length encode a ``uint8`` mask ``(h, w)`` in column-major order (``rleEncode``).

    As in C, a new run starts wherever the byte value changes (so a mask holding values
    other than 0 and 1 gives extra runs, exactly like pycocotools).

    Parameters
    ----------
    mask : ndarray of uint8 (h, w), any memory layout

    Returns
    -------
    ndarray of uint32

    Examples
    --------
    >>> import numpy as np
    >>> rle_encode(np.array([[0, 0], [1, 0], [1, 0]], np.uint8))
    array([1, 2, 3], dtype=uint32)
    """
    h = mask.shape[0]
    w = mask.shape[1]
    out = np.empty(h * w + 1, np.uint32)
    k = 0
    p = np.uint8(0)
    c = np.int64(0)
    for x in range(w):
        for y in range(h):
            t = mask[y, x]
            if t != p:
                out[k] = c
                k += 1
                c = 0
                p = t
            c += 1
    out[k] = c
    k += 1
    return out[:k].copy()


# --------------------------------------------------------------------------- intersection
@serial
def _inter_sweep(ca, a0, a1, cb, b0, b1):
    """Foreground pixels shared by RLE ca[a0:a1] and RLE cb[b0:b1] (interval sweep)."""
    ja = a0 + 1
    jb = b0 + 1
    if ja >= a1 or jb >= b1:
        return np.int64(0)
    sa = np.int64(ca[a0])
    ea = sa + np.int64(ca[ja])
    sb = np.int64(cb[b0])
    eb = sb + np.int64(cb[jb])
    inter = np.int64(0)
    while True:
        lo = sa if sa > sb else sb
        hi = ea if ea < eb else eb
        if hi > lo:
            inter += hi - lo
        if ea <= eb:
            ja += 2
            if ja >= a1:
                break
            sa = ea + np.int64(ca[ja - 1])
            ea = sa + np.int64(ca[ja])
        else:
            jb += 2
            if jb >= b1:
                break
            sb = eb + np.int64(cb[jb - 1])
            eb = sb + np.int64(cb[jb])
    return inter


@serial
def rle_intersection(ca, cb):
    """Number of foreground pixels two RLEs share (masks assumed the same size).

    Parameters
    ----------
    ca, cb : ndarray of uint32

    Returns
    -------
    int

    Examples
    --------
    >>> import numpy as np
    >>> rle_intersection(np.array([1, 2, 3], np.uint32), np.array([2, 4], np.uint32))
    1
    """
    return _inter_sweep(ca, 0, ca.shape[0], cb, 0, cb.shape[0])
