"""One-pass Numba scanner: COCO JSON bytes -> annotation columns (no Python object per annotation).

:func:`scan_coco` walks a COCO instances file (or a results list) byte by byte and writes the
annotation fields straight into numpy arrays: ids, ``image_id``, ``category_id``, ``iscrowd``,
``area``, ``bbox``, ``score``, the segmentation kind, polygon coordinates with ring offsets, and
RLE ``size`` / ``counts`` (compressed strings as bytes with offsets, uncompressed lists as int64).
The ``images`` and ``categories`` sections are only located (their byte spans are returned) for
the caller to decode with msgspec.

The scanner is a *fast path*, not a validator: it accepts a conservative subset of valid JSON
and returns a non-zero status (a "bail") on anything it does not fully understand -- an escape
in a key, a ``\\u`` escape or a non-ASCII byte in an annotation string, a float where an integer
belongs, a duplicate key, a missing required key, a non-number coordinate, nesting deeper than
:data:`MAX_DEPTH`, a number with more than 18 digits in an integer field... The caller then
decodes the file the slow way, which produces the precise error message (or accepts what the
scanner was unsure of). Whatever the scanner does accept, it reads exactly as ``json.load``
would: numbers are converted with the exact fast path (Clinger: mantissa <= 2**53, |e| <= 22),
else with the Eisel-Lemire algorithm (128-bit powers of five), and the rare numbers neither
decides are returned as *slow* byte spans for the caller to convert with Python's ``float``.

No file with a key repeated in one object is ever accepted: a known annotation field twice,
an unknown annotation or RLE key twice (compared by bytes), a top-level key twice (across the
parts of a file scanned in parts too), any key twice in an object inside a skipped value or
the ``images`` / ``categories`` sections (compared by hash; an escaped key there is a bail)
all bail. The slow path then runs :func:`check_structure`, which names the repeated key (or
nesting deeper than :data:`MAX_NESTING`) exactly, for the decoders keep one value silently.

Segmentation kinds (``seg_kind``): :data:`SEG_POLYGON`, :data:`SEG_RLE_STRING`,
:data:`SEG_RLE_LIST`, :data:`SEG_NULL` (results files only: no segmentation, or ``null``).

A file can also be read in parts (the caller runs them on threads; the kernels release the
GIL): :func:`split_points` proposes cuts in the annotations list, :func:`scan_part` parses the
document up to the first cut or the annotations between two cuts and reports whether it
stopped exactly at its end cut (the proof that the cut lies between two annotations),
:func:`scan_tail` reads what follows the list, and :func:`concat_scans` joins the parts into
the one-pass result.
"""
from __future__ import annotations

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from ._intrinsics import as_float as _as_float, load8 as _load8, ptr as _ptr
from ._jit import serial

__all__ = ["scan_coco", "scan_part", "scan_tail", "split_points", "concat_scans", "coords_capacity", "parse_float",
           "SEG_POLYGON", "SEG_RLE_STRING", "SEG_RLE_LIST", "SEG_NULL", "MAX_DEPTH", "BAIL_REASONS",
           "MAX_NESTING", "check_structure", "StructureCheck"]

SEG_POLYGON = 0
SEG_RLE_STRING = 1
SEG_RLE_LIST = 2
SEG_NULL = 3
MAX_DEPTH = 48

# slow-number targets
_T_COORD = 0
_T_AREA = 1
_T_SCORE = 2
_T_BBOX = 3

BAIL_REASONS = {
    1: "unexpected byte / structure",
    2: "key not understood (escape, non-ASCII, duplicate)",
    3: "integer field not a plain integer of <= 18 digits",
    4: "number expected",
    5: "segmentation not understood",
    6: "RLE object not understood",
    7: "string not understood (escape, control or non-ASCII byte)",
    8: "nesting too deep",
    9: "missing required key",
    10: "section missing or not a list",
    11: "trailing data",
    12: "stopped at the requested part boundary",
}

_POW10 = np.array([10.0 ** k for k in range(23)], np.float64)  # exactly representable

# ------------------------------------------------------------------------------------------
# Eisel-Lemire tables: 128-bit truncated (q >= 0) / rounded-up (q < 0) normalised 5**q.
_Q_MIN = -342
_Q_MAX = 308


def _pow5_tables():
    hi = np.empty(_Q_MAX - _Q_MIN + 1, np.uint64)
    lo = np.empty_like(hi)
    for q in range(_Q_MIN, _Q_MAX + 1):
        if q >= 0:
            c = 5 ** q
            while c < (1 << 127):
                c <<= 1
            while c >= (1 << 128):
                c >>= 1
        else:
            p5 = 5 ** -q
            z = p5.bit_length()
            b = z + 127 if q >= -27 else 2 * z + 128
            c = (1 << b) // p5 + 1
            while c >= (1 << 128):
                c >>= 1
        hi[q - _Q_MIN] = c >> 64
        lo[q - _Q_MIN] = c & 0xFFFFFFFFFFFFFFFF
    return hi, lo


_P5_HI, _P5_LO = _pow5_tables()
_M32 = np.uint64(0xFFFFFFFF)


@serial(inline="always")
def _mul128(a, b):
    """Full 64 x 64 -> 128-bit product of two uint64: (high, low)."""
    a0 = a & _M32
    a1 = a >> np.uint64(32)
    b0 = b & _M32
    b1 = b >> np.uint64(32)
    p00 = a0 * b0
    p01 = a0 * b1
    p10 = a1 * b0
    p11 = a1 * b1
    mid = (p00 >> np.uint64(32)) + (p01 & _M32) + (p10 & _M32)
    lo = (mid << np.uint64(32)) | (p00 & _M32)
    hi = p11 + (p01 >> np.uint64(32)) + (p10 >> np.uint64(32)) + (mid >> np.uint64(32))
    return hi, lo


@serial(inline="always")
def _clz(x):
    n = 0
    if x == 0:
        return 64
    while (x & np.uint64(0x8000000000000000)) == 0:
        x <<= np.uint64(1)
        n += 1
    return n


@serial
def _eisel_lemire(w, q):
    """w * 10**q correctly rounded to a double (w != 0). Returns (bits, ok)."""
    if q < _Q_MIN or q > _Q_MAX:
        return np.uint64(0), False
    k = q - _Q_MIN
    exponent = (((152170 + 65536) * q) >> 16) + 1024 + 63
    lz = _clz(w)
    w = w << np.uint64(lz)
    upper, lower = _mul128(w, _P5_HI[k])
    one_ff = np.uint64(0x1FF)
    if (upper & one_ff) == one_ff and (lower + w) < lower:
        mid2, plow = _mul128(w, _P5_LO[k])
        pmid = lower + mid2
        phigh = upper
        if pmid < lower:
            phigh += np.uint64(1)
        if (pmid + np.uint64(1)) == 0 and (phigh & one_ff) == one_ff and (plow + w) < plow:
            return np.uint64(0), False
        upper = phigh
        lower = pmid
    upperbit = upper >> np.uint64(63)
    mant = upper >> (upperbit + np.uint64(9))
    lz += 1 - np.int64(upperbit)
    if lower == 0 and (upper & one_ff) == 0 and (mant & np.uint64(3)) == 1:
        return np.uint64(0), False
    mant += mant & np.uint64(1)
    mant >>= np.uint64(1)
    if mant >= np.uint64(1 << 53):
        mant = np.uint64(1 << 52)
        lz -= 1
    mant &= ~np.uint64(1 << 52)
    real_exp = exponent - lz
    if real_exp < 1 or real_exp > 2046:
        return np.uint64(0), False
    return mant | (np.uint64(real_exp) << np.uint64(52)), True


@serial(inline="always")
def _ws(buf, p, end):
    while p < end:
        c = buf[p]
        if c == 32 or c == 10 or c == 13 or c == 9:
            p += 1
        else:
            break
    return p


_P10U = np.array([10 ** k for k in range(9)], np.uint64)
_ASCII0 = np.uint64(0x3030303030303030)
_SIX = np.uint64(0x0606060606060606)
_HI_NIB = np.uint64(0xF0F0F0F0F0F0F0F0)
_MASK_A = np.uint64(0x000000FF000000FF)
_MUL1 = np.uint64(0x000F424000000064)   # 100 + (1000000 << 32)
_MUL2 = np.uint64(0x0000271000000001)   # 1 + (10000 << 32)


_LO_NIB = np.uint64(0x0F0F0F0F0F0F0F0F)


@serial(inline="always")
def _short8(w):
    """The number in the 8 bytes ``w`` when it is ``d+`` or ``d+.d+``, at most 7 characters,
    ending inside the word: (ok, length, digits as an integer, number of fraction digits).

    Per-byte digit test without borrows between bytes, so the position of the terminator (the
    only link to the next number) is a few instructions from the load; the value is computed
    off that chain. Leading zeros, an exponent or a longer number give ``ok = False``."""
    lo = w & _LO_NIB
    t = ((w & _HI_NIB) ^ _ASCII0) | ((lo + _SIX) & _HI_NIB)   # non-zero byte: not a digit
    if t == 0:
        return False, 0, np.uint64(0), 0
    nd = np.int64(trailing_zeros(t)) >> 3
    if nd == 0 or (nd > 1 and (w & np.uint64(0xFF)) == 48):
        return False, 0, np.uint64(0), 0
    ln = nd
    nf = 0
    dig = lo
    if ((w >> np.uint64(8 * nd)) & np.uint64(0xFF)) == 46:
        if nd >= 6:
            return False, 0, np.uint64(0), 0
        t2 = t & ~((np.uint64(1) << np.uint64(8 * nd + 8)) - np.uint64(1))
        if t2 == 0:
            return False, 0, np.uint64(0), 0
        ln = np.int64(trailing_zeros(t2)) >> 3
        nf = ln - nd - 1
        if nf == 0:
            return False, 0, np.uint64(0), 0
        low = (np.uint64(1) << np.uint64(8 * nd)) - np.uint64(1)
        dig = (lo & low) | ((lo >> np.uint64(8)) & ~low)
    c = (w >> np.uint64(8 * ln)) & np.uint64(0xFF)
    if c == 101 or c == 69:
        return False, 0, np.uint64(0), 0
    v = dig << np.uint64(8 * (8 - (ln - (1 if nf > 0 else 0))))
    v = v * np.uint64(10) + (v >> np.uint64(8))
    v = ((v & _MASK_A) * _MUL1 + ((v >> np.uint64(16)) & _MASK_A) * _MUL2) >> np.uint64(32)
    return True, ln, v, nf


@serial(inline="always")
def _digits8(w):
    """SWAR: (number of leading ASCII digits in the 8 bytes of ``w``, their value).

    The value is exact only when that number is below 8 (the caller re-reads longer runs)."""
    x = w - _ASCII0
    t = (x | (x + _SIX)) & _HI_NIB
    if t == 0:
        return 8, np.uint64(0)
    nd = np.int64(trailing_zeros(t)) >> 3
    if nd == 0:
        return 0, np.uint64(0)
    v = x << np.uint64(8 * (8 - nd))
    v = v * np.uint64(10) + (v >> np.uint64(8))
    v = ((v & _MASK_A) * _MUL1 + ((v >> np.uint64(16)) & _MASK_A) * _MUL2) >> np.uint64(32)
    return nd, v


@serial
def _num_general(buf, p, end):
    """:func:`_num` for any JSON number (same return values)."""
    neg = False
    if p < end and buf[p] == 45:
        neg = True
        p += 1
    if p >= end:
        return 0.0, p, 2
    m = np.uint64(0)
    sig = 0
    e10 = 0
    c = buf[p]
    if c == 48:
        p += 1
        if p < end and 48 <= buf[p] <= 57:
            return 0.0, p, 2
    elif 49 <= c <= 57:
        while p < end:
            d = np.uint64(buf[p]) - np.uint64(48)
            if d > np.uint64(9):
                break
            m = m * np.uint64(10) + d
            sig += 1
            p += 1
    else:
        return 0.0, p, 2
    if p < end and buf[p] == 46:
        p += 1
        fs = p
        while p < end:
            d = np.uint64(buf[p]) - np.uint64(48)
            if d > np.uint64(9):
                break
            m = m * np.uint64(10) + d
            if m != 0:
                sig += 1
            p += 1
        if p == fs:
            return 0.0, p, 2
        e10 -= p - fs
    if p < end and (buf[p] == 101 or buf[p] == 69):
        p += 1
        es = 1
        if p < end and (buf[p] == 43 or buf[p] == 45):
            if buf[p] == 45:
                es = -1
            p += 1
        ev = 0
        ed = 0
        while p < end and 48 <= buf[p] <= 57:
            if ev < 100000:
                ev = ev * 10 + np.int64(buf[p] - 48)
            ed += 1
            p += 1
        if ed == 0:
            return 0.0, p, 2
        e10 += es * ev
    if sig > 19:
        return 0.0, p, 1
    if m == 0:
        v = 0.0
        return (-v if neg else v), p, 0
    if m <= np.uint64(9007199254740992) and -22 <= e10 <= 22:
        if e10 >= 0:
            v = np.float64(m) * _POW10[e10]
        else:
            v = np.float64(m) / _POW10[-e10]
        return (-v if neg else v), p, 0
    b, ok = _eisel_lemire(m, e10)
    if not ok:
        return 0.0, p, 1
    v = _as_float(b)
    return (-v if neg else v), p, 0


def _num_py(buf, p, end):
    """Strict JSON number at ``p``. Returns (value, end, code): 0 exact, 1 slow (convert the
    text with a correctly rounded strtod), 2 not a JSON number.

    The short forms are read here, anything else by :func:`_num_general`."""
    if p + 18 <= end:   # short forms without exponent, 8 bytes at a time: -?d{1,7}(.d{1,7})?
        q = p
        ng = buf[q] == 45
        if ng:
            q += 1
        w = _load8(buf, q)
        ok, ln, m, e = _short8(w)
        if ok:
            v = np.float64(m)   # m < 10**7: exact, and so is the one division (Clinger)
            if e > 0:
                v = v / _POW10[e]
            return (-v if ng else v), q + ln, 0
        nd, m = _digits8(w)
        if 0 < nd < 8 and not (nd > 1 and buf[q] == 48):
            q += nd
            e = 0
            ok = True
            if buf[q] == 46:
                nd2, f = _digits8(_load8(buf, q + 1))
                if 0 < nd2 < 8:
                    m = m * _P10U[nd2] + f
                    e = nd2
                    q += 1 + nd2
                else:
                    ok = False
            if ok and buf[q] != 101 and buf[q] != 69:
                v = np.float64(m)   # m < 10**14: exact
                if e > 0:
                    v = v / _POW10[e]
                return (-v if ng else v), q, 0
    return _num_general(buf, p, end)


_num = serial(_num_py)
_num_inl = serial(inline="always")(_num_py)   # inlined into _float_field (per-annotation scalars)




@serial
def _scalar_zero(buf, a, b):
    """A zero read into a float field: ``-0`` (an integer token) is +0.0, as msgspec reads it."""
    for k in range(a, b):
        c = buf[k]
        if c == 46 or c == 101 or c == 69:
            return -0.0
    return 0.0


@serial
def _int(buf, p, end):
    """Strict JSON integer of <= 18 digits. Returns (value, end, ok)."""
    neg = False
    if p < end and buf[p] == 45:
        neg = True
        p += 1
    if p >= end:
        return 0, p, False
    s = p
    v = 0
    if buf[p] == 48:
        p += 1
    else:
        while p < end and 48 <= buf[p] <= 57:
            v = v * 10 + np.int64(buf[p] - 48)
            p += 1
    nd = p - s
    if nd == 0 or nd > 18:
        return 0, p, False
    if p < end:
        c = buf[p]
        if c == 46 or c == 101 or c == 69 or (48 <= c <= 57):
            return 0, p, False
    return (-v if neg else v), p, True


@serial
def _skip_string(buf, p, end, strict):
    """``p`` at the opening quote. Returns the index after the closing quote, or -1.

    strict: only printable ASCII and the simple escapes (no \\u, no byte >= 128)."""
    p += 1
    while p < end:
        c = buf[p]
        if c == 34:
            return p + 1
        if c == 92:
            if p + 1 >= end:
                return -1
            e = buf[p + 1]
            if strict and not (e == 34 or e == 92 or e == 47 or e == 98 or e == 102 or e == 110
                               or e == 114 or e == 116):
                return -1
            p += 2
            continue
        if strict and (c < 32 or c >= 128):
            return -1
        p += 1
    return -1


@serial(inline="always")
def _is_null(buf, p, end):
    """``null`` at ``p``."""
    return p + 4 <= end and buf[p] == 110 and buf[p + 1] == 117 and buf[p + 2] == 108 and buf[p + 3] == 108


_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
#: keys of the objects open inside one skipped value whose hashes :func:`_skip_value` keeps (more:
#: a bail, the slow path checks the file)
_KEY_CAP = 256


@serial(inline="always")
def _member_key_hash(buf, p, end, strict):
    """An object member's ``"key":`` at ``p``: (position after the colon or -1, FNV-1a hash of
    the key's bytes). Any escape in a key is a bail (-1): equal keys are then equal bytes.
    strict: printable ASCII only; else any other byte."""
    h = _FNV_OFFSET
    if p >= end or buf[p] != 34:
        return -1, h
    p += 1
    while True:
        if p >= end:
            return -1, h
        c = buf[p]
        if c == 34:
            break
        if c == 92 or (strict and (c < 32 or c >= 128)):
            return -1, h
        h = (h ^ np.uint64(c)) * _FNV_PRIME
        p += 1
    p = _ws(buf, p + 1, end)
    if p >= end or buf[p] != 58:
        return -1, h
    return p + 1, h


@serial(inline="always")
def _new_key(ks, depth, nk, h):
    """Record key hash ``h`` of the object open at level ``depth - 1`` (``ks``: per-level bases,
    then the hashes): the new key count, or -1 for a repeat (or a hash collision) or no room."""
    lo = np.int64(ks[depth - 1])
    for j in range(lo, nk):
        if ks[MAX_DEPTH + j] == h:
            return -1
    if nk >= _KEY_CAP:
        return -1
    ks[MAX_DEPTH + nk] = h
    return nk + 1


@serial(inline="always")
def _skip_scalar(buf, p, end, c, strict):
    """Skip the string, literal or number starting with byte ``c`` at ``p``: its end, or -1.
    strict: numbers parsed; else a number runs to the next delimiter (see :func:`_skip_value`)."""
    if c == 34:
        return _skip_string(buf, p, end, strict)
    if c == 116 or c == 102 or c == 110:
        if c == 116:
            ok = p + 4 <= end and buf[p + 1] == 114 and buf[p + 2] == 117 and buf[p + 3] == 101
            p += 4
        elif c == 110:
            ok = _is_null(buf, p, end)
            p += 4
        else:
            ok = (p + 5 <= end and buf[p + 1] == 97 and buf[p + 2] == 108 and buf[p + 3] == 115
                  and buf[p + 4] == 101)
            p += 5
        return p if ok else -1
    if strict:
        _, q, code = _num(buf, p, end)
        return -1 if code == 2 else q
    while p < end:
        c2 = buf[p]
        if c2 == 44 or c2 == 93 or c2 == 125 or c2 == 32 or c2 == 10 or c2 == 13 or c2 == 9:
            break
        p += 1
    return p


@serial
def _skip_value(buf, p, end, strict):
    """Skip one JSON value at ``p`` (after whitespace). Returns its end, or -1.

    strict: validate everything (grammar, strings as in :func:`_skip_string`); else only track
    strings and brackets (the caller validates the span some other way). The open containers
    are a bit stack (bit k set: level k is an object), at most :data:`MAX_DEPTH` deep. A value
    holding an object is handed to :func:`_skip_value_keys` (from its start), which also
    checks the objects' keys; scalars and lists of them (most skipped values) need no scratch."""
    p = _ws(buf, p, end)
    p_start = p
    depth = 0
    while True:
        p = _ws(buf, p, end)
        if p >= end:
            return -1
        c = buf[p]
        # ---- a value
        if c == 123:
            return _skip_value_keys(buf, p_start, end, strict)
        if c == 91:
            if depth >= MAX_DEPTH:
                return -1
            depth += 1
            p = _ws(buf, p + 1, end)
            if p >= end:
                return -1
            if buf[p] == 93:
                depth -= 1
                p += 1
            else:
                continue
        else:
            p = _skip_scalar(buf, p, end, c, strict)
            if p < 0:
                return -1
        # ---- after a value (only lists are open): close them or move to the next element
        while True:
            if depth == 0:
                return p
            p = _ws(buf, p, end)
            if p >= end:
                return -1
            c = buf[p]
            if c == 44:
                p += 1
                break
            if c == 93:
                depth -= 1
                p += 1
                continue
            return -1


@serial
def _skip_plain(buf, p, end):
    """The end of the (already validated) JSON value at ``p``: brackets and strings only."""
    p = _ws(buf, p, end)
    if p >= end:
        return p
    c = buf[p]
    if c == 34:
        p += 1
        while p < end and buf[p] != 34:
            p += 2 if buf[p] == 92 else 1
        return p + 1
    if c != 123 and c != 91:
        while p < end:
            c = buf[p]
            if c == 44 or c == 93 or c == 125 or c == 32 or c == 10 or c == 13 or c == 9:
                break
            p += 1
        return p
    depth = 0
    while p < end:
        c = buf[p]
        if c == 34:
            p += 1
            while p < end and buf[p] != 34:
                p += 2 if buf[p] == 92 else 1
        elif c == 123 or c == 91:
            depth += 1
        elif c == 125 or c == 93:
            depth -= 1
            if depth == 0:
                return p + 1
        p += 1
    return p


@serial
def _key_repeats(buf, a0, ka, kb):
    """Whether the key ``buf[ka:kb]`` (plain, no escape) of the object opening at ``a0`` repeats
    a key before it there. Only called when a cheap filter (a bit in ``seen``) says it may: the
    object up to the key is read again, its values skipped."""
    end = ka
    p = _ws(buf, a0 + 1, end)
    ln = kb - ka
    while p < end and buf[p] == 34:
        a = p + 1
        if a >= ka:
            return False
        q = a
        while q < end and buf[q] != 34:
            q += 2 if buf[q] == 92 else 1
        if q - a == ln:
            same = True
            for t in range(ln):
                if buf[a + t] != buf[ka + t]:
                    same = False
                    break
            if same:
                return True
        p = _ws(buf, q + 1, end)
        if p >= end or buf[p] != 58:
            return False
        p = _ws(buf, _skip_plain(buf, p + 1, end), end)
        if p < end and buf[p] == 44:
            p = _ws(buf, p + 1, end)
    return False


@serial(inline="always")
def _key_bit(buf, ka, kb, lo, nbits):
    """A bit (of ``lo .. lo + nbits - 1``) for key ``buf[ka:kb]``: equal keys, equal bits."""
    hh = np.uint64(kb - ka)
    for t in range(ka, kb):
        hh = hh * np.uint64(31) + np.uint64(buf[t])
    return np.int64(1) << np.int64(lo + np.int64(hh % np.uint64(nbits)))


@serial
def _skip_value_keys(buf, p, end, strict):
    """:func:`_skip_value` of a value holding an object: the same, and a key repeated in one
    object (compared by hash), an escaped key or more than ``_KEY_CAP`` keys open at once give
    -1 -- the scanner never accepts a file with a duplicate key, the slow path names it."""
    ks = np.empty(MAX_DEPTH + _KEY_CAP, np.uint64)   # per-level bases, then the open keys' hashes
    depth = 0
    nk = np.int64(0)
    objs = np.uint64(0)
    while True:
        p = _ws(buf, p, end)
        if p >= end:
            return -1
        c = buf[p]
        # ---- a value
        if c == 123 or c == 91:
            if depth >= MAX_DEPTH:
                return -1
            if c == 123:
                objs |= np.uint64(1) << np.uint64(depth)
                ks[depth] = np.uint64(nk)
            else:
                objs &= ~(np.uint64(1) << np.uint64(depth))
            depth += 1
            p = _ws(buf, p + 1, end)
            if p >= end:
                return -1
            if (c == 123 and buf[p] == 125) or (c == 91 and buf[p] == 93):
                depth -= 1
                p += 1
            elif c == 123:
                p, h = _member_key_hash(buf, p, end, strict)
                if p < 0:
                    return -1
                nk = _new_key(ks, depth, nk, h)
                if nk < 0:
                    return -1
                continue
            else:
                continue
        else:
            p = _skip_scalar(buf, p, end, c, strict)
            if p < 0:
                return -1
        # ---- after a value: close containers or move to the next element
        while True:
            if depth == 0:
                return p
            p = _ws(buf, p, end)
            if p >= end:
                return -1
            c = buf[p]
            top = 123 if (objs >> np.uint64(depth - 1)) & np.uint64(1) else 91
            if c == 44:
                p = _ws(buf, p + 1, end)
                if top == 123:
                    p, h = _member_key_hash(buf, p, end, strict)
                    if p < 0:
                        return -1
                    nk = _new_key(ks, depth, nk, h)
                    if nk < 0:
                        return -1
                break
            if (top == 123 and c == 125) or (top == 91 and c == 93):
                depth -= 1
                if top == 123:
                    nk = np.int64(ks[depth])
                p += 1
                continue
            return -1


@serial(inline="always")
def _key_is(buf, a, b, lit):
    if b - a != lit.shape[0]:
        return False
    for k in range(lit.shape[0]):
        if buf[a + k] != lit[k]:
            return False
    return True


_K_SEG = np.frombuffer(b"segmentation", np.uint8).copy()
_K_ID = np.frombuffer(b"id", np.uint8).copy()
_K_IMG = np.frombuffer(b"image_id", np.uint8).copy()
_K_CAT = np.frombuffer(b"category_id", np.uint8).copy()
_K_CROWD = np.frombuffer(b"iscrowd", np.uint8).copy()
_K_AREA = np.frombuffer(b"area", np.uint8).copy()
_K_BBOX = np.frombuffer(b"bbox", np.uint8).copy()
_K_SCORE = np.frombuffer(b"score", np.uint8).copy()
_K_SIZE = np.frombuffer(b"size", np.uint8).copy()
_K_COUNTS = np.frombuffer(b"counts", np.uint8).copy()
_K_IMAGES = np.frombuffer(b"images", np.uint8).copy()
_K_ANNS = np.frombuffer(b"annotations", np.uint8).copy()
_K_CATS = np.frombuffer(b"categories", np.uint8).copy()
_K_ANNS_Q = np.frombuffer(b'"annotations"', np.uint8).copy()


@serial
def _ann_key(buf, a, b, results):
    """Annotation key -> field bit (0: not a field the scanner reads). One compare per key."""
    ln = b - a
    if ln == 12:
        return 1 if _key_is(buf, a, b, _K_SEG) else 0
    if ln == 2:
        return 2 if (not results and buf[a] == 105 and buf[a + 1] == 100) else 0
    if ln == 8:
        return 4 if _key_is(buf, a, b, _K_IMG) else 0
    if ln == 11:
        return 8 if _key_is(buf, a, b, _K_CAT) else 0
    if ln == 7:
        return 16 if (not results and _key_is(buf, a, b, _K_CROWD)) else 0
    if ln == 4:
        if _key_is(buf, a, b, _K_AREA):
            return 32
        return 64 if _key_is(buf, a, b, _K_BBOX) else 0
    if ln == 5:
        return 128 if _key_is(buf, a, b, _K_SCORE) else 0
    return 0


@serial
def _key(buf, p, end):
    """``p`` at a quote: a plain ASCII key without escapes. Returns (a, b, after) or b = -1."""
    a = p + 1
    q = a
    while q < end:
        c = buf[q]
        if c == 34:
            return a, q, q + 1
        if c == 92 or c < 32 or c >= 128:
            return a, -1, q
        q += 1
    return a, -1, q


@serial(inline="always")
def _next(buf, p, end, close):
    """After a value in a list / object: (1, p after the comma and whitespace) when another
    element follows, (0, p after ``close``) at the end of the container, (-1, p) otherwise."""
    p = _ws(buf, p, end)
    if p < end:
        c = buf[p]
        if c == 44:
            return 1, _ws(buf, p + 1, end)
        if c == close:
            return 0, p + 1
    return -1, p


@serial(inline="always")
def _key_colon(buf, p, end):
    """``"key" :`` at ``p``: (status, key start, key end, position after the colon and whitespace);
    status 1 when there is no quote or no colon, 2 for a key :func:`_key` does not take."""
    if p >= end or buf[p] != 34:
        return 1, 0, -1, p
    ka, kb, p = _key(buf, p, end)
    if kb < 0:
        return 2, ka, kb, p
    p = _ws(buf, p, end)
    if p >= end or buf[p] != 58:
        return 1, ka, kb, p
    return 0, ka, kb, _ws(buf, p + 1, end)


@serial
def _grow(a, need):
    if need <= a.shape[0]:
        return a
    b = np.empty(max(need, 2 * a.shape[0]), a.dtype)
    b[:a.shape[0]] = a
    return b


@serial(inline="always")
def _float_field(buf, p, end, target, index, slow_t, slow_i, slow_a, slow_b, ns, scap):
    """A number read into a float field (area, score, a bbox value): (status, value, end, ns).

    Status 4: not a number; -2: the slow-span arrays (pointers, capacity ``scap``) are full.
    A number the exact paths cannot convert is recorded as a slow span (``target``, ``index``)
    for the caller; a zero written ``-0`` as an integer is +0.0, as msgspec reads it."""
    val, q, code = _num_inl(buf, p, end)
    if code == 2:
        return 4, val, q, ns
    if code == 1:
        if ns >= scap:
            return -2, val, q, ns
        slow_t[ns] = target
        slow_i[ns] = index
        slow_a[ns] = p
        slow_b[ns] = q
        ns += 1
    if val == 0.0:
        val = _scalar_zero(buf, p, q) if buf[p] == 45 else 0.0
    return 0, val, q, ns


_NEED_ANN = 1      # _anns' growth requests (bits): per-annotation columns,
_NEED_COORDS = 2   # coordinates,
_NEED_RINGS = 4    # ring lengths,
_NEED_STR = 8      # compressed RLE bytes,
_NEED_LIST = 16    # uncompressed RLE counts,
_NEED_SLOW = 32    # slow-number spans


@serial
def _poly_seg(buf, p, end, coords, ncap, nv, ring_vals, rcap, nr, slow_t, slow_i, slow_a, slow_b, scap, ns):
    """Polygon list at ``p`` ('['). Returns (status, p, nv, nr, ns, n_rings); status -2: grow the
    arrays and call again (nothing is committed until status 0). Output arrays are pointers
    with their capacities (``ncap``, ``rcap``, ``scap``); a full one gives status ``-_NEED_*``."""
    p = _ws(buf, p + 1, end)
    nri = 0
    if p < end and buf[p] == 93:
        return 0, p + 1, nv, nr, ns, 0
    while True:
        if p >= end or buf[p] != 91:
            return 5, p, nv, nr, ns, nri
        p = _ws(buf, p + 1, end)
        cnt = 0
        if p < end and buf[p] == 93:
            p += 1
        else:
            while True:
                if p + 18 <= end and nv < ncap:   # hot path: a short number and a comma
                    w = _load8(buf, p)
                    ok, ln, m, e = _short8(w)
                    if ok and ((w >> np.uint64(8 * ln)) & np.uint64(0xFF)) == 44:
                        v = np.float64(m)
                        if e > 0:
                            v = v / _POW10[e]
                        coords[nv] = v
                        nv += 1
                        cnt += 1
                        p += ln + 1
                        continue
                p = _ws(buf, p, end)   # after '[' or ',': whitespace allowed
                val, q, code = _num(buf, p, end)
                if code == 2:
                    return 5, p, nv, nr, ns, nri
                if nv >= ncap:
                    return -_NEED_COORDS, p, nv, nr, ns, nri
                coords[nv] = val
                if code == 1:
                    if ns >= scap:
                        return -_NEED_SLOW, p, nv, nr, ns, nri
                    slow_t[ns] = _T_COORD
                    slow_i[ns] = nv
                    slow_a[ns] = p
                    slow_b[ns] = q
                    ns += 1
                nv += 1
                cnt += 1
                p = q
                if p < end and buf[p] == 44:
                    p += 1
                    if p < end and buf[p] <= 32:
                        p = _ws(buf, p, end)
                    continue
                more, p = _next(buf, p, end, 93)
                if more == 1:
                    continue
                if more == 0:
                    break
                return 5, p, nv, nr, ns, nri
        if nr >= rcap:
            return -_NEED_RINGS, p, nv, nr, ns, nri
        ring_vals[nr] = cnt
        nr += 1
        nri += 1
        more, p = _next(buf, p, end, 93)
        if more == 1:
            continue
        if more == 0:
            return 0, p, nv, nr, ns, nri
        return 5, p, nv, nr, ns, nri


@serial
def _rle_obj(buf, p, end, sbytes, sbcap, nsb, lcounts, lccap, nlc):
    """RLE object at ``p`` ('{'). Returns (status, p, kind, h, w, nsb, nlc). ``sbytes`` /
    ``lcounts`` are pointers with capacities ``sbcap`` / ``lccap``; a full one gives status
    ``-_NEED_STR`` / ``-_NEED_LIST``. A key repeated: status 6 (``size`` / ``counts``) or 2."""
    a0 = p
    p = _ws(buf, p + 1, end)
    rseen = 0
    kind = SEG_RLE_STRING
    hv = 0
    wv = 0
    if p < end and buf[p] == 125:
        return 6, p, kind, hv, wv, nsb, nlc
    while True:
        if p >= end or buf[p] != 34:
            return 6, p, kind, hv, wv, nsb, nlc
        st, ka, kb, p = _key_colon(buf, p, end)
        if st != 0:
            return st, p, kind, hv, wv, nsb, nlc
        if _key_is(buf, ka, kb, _K_SIZE):
            if (rseen & 1) != 0 or p >= end or buf[p] != 91:
                return 6, p, kind, hv, wv, nsb, nlc
            rseen |= 1
            p = _ws(buf, p + 1, end)
            hv, q, ok = _int(buf, p, end)
            if not ok:
                return 6, p, kind, hv, wv, nsb, nlc
            p = _ws(buf, q, end)
            if p >= end or buf[p] != 44:
                return 6, p, kind, hv, wv, nsb, nlc
            p = _ws(buf, p + 1, end)
            wv, q, ok = _int(buf, p, end)
            if not ok:
                return 6, p, kind, hv, wv, nsb, nlc
            p = _ws(buf, q, end)
            if p >= end or buf[p] != 93:
                return 6, p, kind, hv, wv, nsb, nlc
            p += 1
        elif _key_is(buf, ka, kb, _K_COUNTS):
            if (rseen & 2) != 0 or p >= end:
                return 6, p, kind, hv, wv, nsb, nlc
            rseen |= 2
            if buf[p] == 34:   # compressed string
                kind = SEG_RLE_STRING
                p += 1
                while True:
                    if p >= end:
                        return 7, p, kind, hv, wv, nsb, nlc
                    ch = buf[p]
                    if ch == 34:
                        p += 1
                        break
                    if ch == 92:
                        if p + 1 >= end:
                            return 7, p, kind, hv, wv, nsb, nlc
                        ch = buf[p + 1]
                        if not (ch == 92 or ch == 47 or ch == 34):
                            return 7, p, kind, hv, wv, nsb, nlc
                        p += 1
                    elif ch < 32 or ch >= 128:
                        return 7, p, kind, hv, wv, nsb, nlc
                    if nsb >= sbcap:
                        return -_NEED_STR, p, kind, hv, wv, nsb, nlc
                    sbytes[nsb] = ch
                    nsb += 1
                    p += 1
            elif buf[p] == 91:   # uncompressed list
                kind = SEG_RLE_LIST
                p = _ws(buf, p + 1, end)
                if p < end and buf[p] == 93:
                    p += 1
                else:
                    while True:
                        iv, q, ok = _int(buf, p, end)
                        if not ok:
                            return 6, p, kind, hv, wv, nsb, nlc
                        if nlc >= lccap:
                            return -_NEED_LIST, p, kind, hv, wv, nsb, nlc
                        lcounts[nlc] = iv
                        nlc += 1
                        more, p = _next(buf, q, end, 93)
                        if more == 1:
                            continue
                        if more == 0:
                            break
                        return 6, p, kind, hv, wv, nsb, nlc
            else:
                return 6, p, kind, hv, wv, nsb, nlc
        else:
            bit = _key_bit(buf, ka, kb, 2, 60)
            if (rseen & bit) != 0 and _key_repeats(buf, a0, ka, kb):
                return 2, p, kind, hv, wv, nsb, nlc
            rseen |= bit
            q = _skip_value(buf, p, end, end >= 0)   # True, as a plain bool (see _anns' STRICT)
            if q < 0:
                return 8, p, kind, hv, wv, nsb, nlc
            p = q
        more, p = _next(buf, p, end, 125)
        if more == 1:
            continue
        if more == 0:
            break
        return 6, p, kind, hv, wv, nsb, nlc
    if (rseen & 3) != 3:
        return 6, p, kind, hv, wv, nsb, nlc
    return 0, p, kind, hv, wv, nsb, nlc


@serial
def _anns(buf, p, end, results, n, nv, nr, nsb, nlc, ns,
          ann_id, img, cat, crowd, area, score, bbox, has_bb, seg_kind, n_rings, rle_h, rle_w, soff, loff, acap,
          coords, ncap, ring_vals, rcap, sbytes, sbcap, lcounts, lccap, slow_t, slow_i, slow_a, slow_b, scap,
          stop_at):
    """The annotations list from its first ``{`` to past its ``]``, into the output pointers.

    Stops with status 12 when an annotation would start at byte ``stop_at`` (-1: never): the
    end of one part of a list parsed in parts (see :func:`scan_part`).

    Returns (status, p, n, nv, nr, nsb, nlc, ns, need). Status -2: an output is full (``need``
    says which, as ``_NEED_*`` bits); ``p`` and the counts are then those at the start of the
    annotation that did not fit, for the caller to grow the arrays and call again. Every output
    is a pointer with its capacity: the arrays are reallocated only by the caller, so nothing in
    this loop holds a reference-counted array (one per annotation and array used to cost more
    than the parsing).

    Keys: a known field twice is a bail (bits 0-7 of ``seen``); another key sets one of the
    bits 8-62 of ``seen`` (:func:`_key_bit`), and a key finding its bit set is compared with the
    annotation's keys before it (:func:`_key_repeats`; a repeat is a bail). Objects inside the
    values skipped are checked by :func:`_skip_value`."""
    status = 0
    need = 0
    # True, typed as a plain bool rather than Literal[bool](True): _skip_value is then compiled
    # once, for this and for _scan's call
    STRICT = end >= 0
    p0, nv0, nr0, nsb0, nlc0, ns0 = p, nv, nr, nsb, nlc, ns
    while True:
        if p == stop_at:
            status = 12
            break
        if p >= end or buf[p] != 123:
            status = 1
            break
        # ---------------- one annotation object
        p0, nv0, nr0, nsb0, nlc0, ns0 = p, nv, nr, nsb, nlc, ns
        if n >= acap:
            status = -2
            need = _NEED_ANN
            break
        crowd[n] = 0
        area[n] = np.nan
        score[n] = np.nan
        has_bb[n] = 0
        for k in range(4):
            bbox[4 * n + k] = np.nan
        seg_kind[n] = SEG_NULL
        n_rings[n] = 0
        rle_h[n] = 0
        rle_w[n] = 0
        ann_id[n] = n + 1
        seen = 0
        p = _ws(buf, p + 1, end)
        if p < end and buf[p] == 125:
            p += 1
        else:
            while True:
                status, ka, kb, p = _key_colon(buf, p, end)
                if status != 0:
                    break
                f = _ann_key(buf, ka, kb, results)
                if f != 0 and (seen & f) != 0:
                    status = 2
                    break
                seen |= f
                if f == 0:
                    bit = _key_bit(buf, ka, kb, 8, 55)
                    if (seen & bit) != 0 and _key_repeats(buf, p0, ka, kb):
                        status = 2
                        break
                    seen |= bit
                    q = _skip_value(buf, p, end, STRICT)
                    if q < 0:
                        status = 8
                        break
                    p = q
                elif f == 2 or f == 4 or f == 8 or f == 16:
                    iv, q, ok = _int(buf, p, end)
                    if not ok:
                        status = 3
                        break
                    p = q
                    if f == 2:
                        ann_id[n] = iv
                    elif f == 4:
                        img[n] = iv
                    elif f == 8:
                        cat[n] = iv
                    else:
                        crowd[n] = iv
                elif f == 32 or f == 128:
                    status, val, q, ns = _float_field(buf, p, end, _T_AREA if f == 32 else _T_SCORE, n,
                                                      slow_t, slow_i, slow_a, slow_b, ns, scap)
                    if status != 0:
                        need = _NEED_SLOW if status == -2 else 0
                        break
                    if f == 32:
                        area[n] = val
                    else:
                        score[n] = val
                    p = q
                elif f == 64:
                    if p < end and buf[p] == 110:
                        if not _is_null(buf, p, end):
                            status = 4
                            break
                        p += 4
                    else:
                        if p >= end or buf[p] != 91:
                            status = 4
                            break
                        p = _ws(buf, p + 1, end)
                        for k in range(4):
                            status, val, q, ns = _float_field(buf, p, end, _T_BBOX, 4 * n + k,
                                                              slow_t, slow_i, slow_a, slow_b, ns, scap)
                            if status != 0:
                                need = _NEED_SLOW if status == -2 else 0
                                break
                            bbox[4 * n + k] = val
                            p = _ws(buf, q, end)
                            if p >= end or buf[p] != (93 if k == 3 else 44):
                                status = 4
                                break
                            p = _ws(buf, p + 1, end)
                        if status != 0:
                            break
                        has_bb[n] = 1
                else:
                    # ---------------- segmentation
                    if p >= end:
                        status = 5
                        break
                    c = buf[p]
                    if c == 91:       # polygons
                        seg_kind[n] = SEG_POLYGON
                        st, q, nv2, nr2, ns2, nri = _poly_seg(buf, p, end, coords, ncap, nv, ring_vals, rcap, nr,
                                                              slow_t, slow_i, slow_a, slow_b, scap, ns)
                        if st != 0:   # negative: an output is full (-need)
                            status, need = (-2, -st) if st < 0 else (st, 0)
                            break
                        p, nv, nr, ns = q, nv2, nr2, ns2
                        n_rings[n] = nri
                    elif c == 123:    # RLE object
                        st, q, kind, hv, wv, nsb2, nlc2 = _rle_obj(buf, p, end, sbytes, sbcap, nsb, lcounts, lccap, nlc)
                        if st != 0:   # negative: an output is full (-need)
                            status, need = (-2, -st) if st < 0 else (st, 0)
                            break
                        p, nsb, nlc = q, nsb2, nlc2
                        seg_kind[n] = kind
                        rle_h[n] = hv
                        rle_w[n] = wv
                    elif c == 110 and results:
                        if not _is_null(buf, p, end):
                            status = 5
                            break
                        p += 4
                    else:
                        status = 5
                        break
                # ---- after a field value
                more, p = _next(buf, p, end, 125)
                if more == 1:
                    continue
                if more == 0:
                    break
                status = 1
                break
        if status != 0:
            break
        req = 12 if results else 15   # image_id, category_id, segmentation (+ id)
        if results:
            seen |= 1
        if (seen & req) != req:
            status = 9
            break
        soff[n + 1] = nsb
        loff[n + 1] = nlc
        n += 1
        more, p = _next(buf, p, end, 93)
        if more == 1:
            continue
        if more == 0:
            break
        status = 1
        break

    if status == -2:
        return status, p0, n, nv0, nr0, nsb0, nlc0, ns0, need
    return status, p, n, nv, nr, nsb, nlc, ns, need


@serial
def _scan(data, results, cap_a, coords, start, stop_at, phase0, top_seen0, spans0):
    """The whole document (``start`` < 0), or one part of it (see :func:`scan_part` /
    :func:`scan_tail`): ``phase0`` 5 parses annotations from the ``{`` at ``start`` to past
    the list's ``]``; 2 / 3 go on after the annotations list at ``start`` with the top-level
    keys seen so far (``top_seen0``) and the section spans found so far (``spans0``).
    ``stop_at``: see :func:`_anns`.

    ``spans``: images a, b; categories a, b; the number of top-level keys so far, then their
    spans (``_TOP_KEYS`` at most: more is a bail), so that a key repeated at the top level is
    found across the parts of a file scanned in parts."""
    end = data.shape[0]
    buf = _ptr(data)
    spans = spans0.copy()
    # per annotation
    ann_id = np.empty(cap_a, np.int64)
    img = np.empty(cap_a, np.int64)
    cat = np.empty(cap_a, np.int64)
    crowd = np.empty(cap_a, np.int64)
    area = np.empty(cap_a, np.float64)
    score = np.empty(cap_a, np.float64)
    bbox = np.empty(4 * cap_a, np.float64)
    has_bb = np.empty(cap_a, np.uint8)
    seg_kind = np.empty(cap_a, np.int8)
    n_rings = np.empty(cap_a, np.int64)
    rle_h = np.empty(cap_a, np.int64)
    rle_w = np.empty(cap_a, np.int64)
    soff = np.zeros(cap_a + 1, np.int64)
    loff = np.zeros(cap_a + 1, np.int64)
    # ragged
    ring_vals = np.empty(cap_a, np.int64)
    sbytes = np.empty(1024, np.uint8)
    lcounts = np.empty(1024, np.int64)
    slow_t = np.empty(64, np.int8)
    slow_i = np.empty(64, np.int64)
    slow_a = np.empty(64, np.int64)
    slow_b = np.empty(64, np.int64)
    # np.int64, not literal 0: a literal would make Numba compile _anns (its costliest callee)
    # twice, once for Literal[int](0) counters and once for int64
    n = np.int64(0)
    nr = np.int64(0)
    nv = np.int64(0)
    nsb = np.int64(0)
    nlc = np.int64(0)
    ns = np.int64(0)
    status = 0
    top_seen = top_seen0
    if start >= 0:
        p = _ws(buf, start, end)
        phase = phase0
    else:
        p = _ws(buf, 0, end)
        # ------------------------------------------------------------ top level
        if p >= end or buf[p] != (91 if results else 123):
            return (10, p, spans, n, ann_id, img, cat, crowd, area, score, bbox, has_bb, seg_kind, n_rings,
                    rle_h, rle_w, soff, loff, ring_vals, nr, coords, nv, sbytes, nsb, lcounts, nlc,
                    slow_t, slow_i, slow_a, slow_b, ns, top_seen)
        if not results:
            p = _ws(buf, p + 1, end)
        phase = 0 if results else 1   # 1: in top object, looking for keys
    while status == 0:
        if phase == 1:
            if p >= end:
                status = 1
                break
            if buf[p] == 125:
                p += 1
                phase = 3
                continue
            status, ka, kb, p = _key_colon(buf, p, end)
            if status != 0:
                break
            nt = spans[4]
            if nt >= _TOP_KEYS:
                status = 2
                break
            for j in range(nt):
                a = spans[5 + 2 * j]
                if spans[6 + 2 * j] - a == kb - ka:
                    same = True
                    for t in range(kb - ka):
                        if buf[a + t] != buf[ka + t]:
                            same = False
                            break
                    if same:
                        status = 2
                if status != 0:
                    break
            if status != 0:
                break
            spans[5 + 2 * nt] = ka
            spans[6 + 2 * nt] = kb
            spans[4] = nt + 1
            which = 0
            if _key_is(buf, ka, kb, _K_IMAGES):
                which = 1
            elif _key_is(buf, ka, kb, _K_ANNS):
                which = 2
            elif _key_is(buf, ka, kb, _K_CATS):
                which = 4
            if which != 0:
                if (top_seen & which) != 0:
                    status = 2
                    break
                top_seen |= which
                if p >= end or buf[p] != 91:
                    status = 10
                    break
            if which == 2:
                phase = 0
                continue
            q = _skip_value(buf, p, end, which == 0)
            if q < 0:
                status = 8 if which == 0 else 1
                break
            if which == 1:
                spans[0] = p
                spans[1] = q
            elif which == 4:
                spans[2] = p
                spans[3] = q
            p = _ws(buf, q, end)
            phase = 2
            continue
        if phase == 2:   # after a top-level value
            if p >= end:
                status = 1
                break
            if buf[p] == 44:
                p = _ws(buf, p + 1, end)
                phase = 1
                continue
            if buf[p] == 125:
                p += 1
                phase = 3
                continue
            status = 1
            break
        if phase == 3:   # after the top-level object / list
            p = _ws(buf, p, end)
            if p != end:
                status = 11
            elif not results and top_seen != 7:
                status = 10
            break
        # ------------------------------------- phase 0: annotations list (5: from one of its objects)
        if phase == 0:
            p = _ws(buf, p + 1, end)   # past '['
        if phase == 0 and p < end and buf[p] == 93:
            p += 1
        else:
            while True:
                st, p, n, nv, nr, nsb, nlc, ns, need = _anns(
                    buf, p, end, results, n, nv, nr, nsb, nlc, ns,
                    _ptr(ann_id), _ptr(img), _ptr(cat), _ptr(crowd), _ptr(area), _ptr(score), _ptr(bbox),
                    _ptr(has_bb), _ptr(seg_kind), _ptr(n_rings), _ptr(rle_h), _ptr(rle_w), _ptr(soff), _ptr(loff),
                    ann_id.shape[0], _ptr(coords), coords.shape[0], _ptr(ring_vals), ring_vals.shape[0],
                    _ptr(sbytes), sbytes.shape[0], _ptr(lcounts), lcounts.shape[0],
                    _ptr(slow_t), _ptr(slow_i), _ptr(slow_a), _ptr(slow_b), slow_t.shape[0], stop_at)
                if st != -2:
                    break
                if need & _NEED_ANN:
                    m2 = 2 * ann_id.shape[0] + 16
                    ann_id = _grow(ann_id, m2)
                    img = _grow(img, m2)
                    cat = _grow(cat, m2)
                    crowd = _grow(crowd, m2)
                    area = _grow(area, m2)
                    score = _grow(score, m2)
                    bbox = _grow(bbox, 4 * m2)
                    has_bb = _grow(has_bb, m2)
                    seg_kind = _grow(seg_kind, m2)
                    n_rings = _grow(n_rings, m2)
                    rle_h = _grow(rle_h, m2)
                    rle_w = _grow(rle_w, m2)
                    soff = _grow(soff, m2 + 1)
                    loff = _grow(loff, m2 + 1)
                if need & _NEED_COORDS:
                    coords = _grow(coords, 2 * coords.shape[0] + 64)
                if need & _NEED_RINGS:
                    ring_vals = _grow(ring_vals, 2 * ring_vals.shape[0] + 64)
                if need & _NEED_STR:
                    sbytes = _grow(sbytes, 2 * sbytes.shape[0] + 64)
                if need & _NEED_LIST:
                    lcounts = _grow(lcounts, 2 * lcounts.shape[0] + 64)
                if need & _NEED_SLOW:
                    m3 = 2 * slow_t.shape[0] + 64
                    slow_t = _grow(slow_t, m3)
                    slow_i = _grow(slow_i, m3)
                    slow_a = _grow(slow_a, m3)
                    slow_b = _grow(slow_b, m3)
            if st != 0:
                status = st
        if status != 0 or phase == 5:   # a part ends past the list's ']'
            break
        p = _ws(buf, p, end)
        phase = 3 if results else 2
    return (status, p, spans, n, ann_id, img, cat, crowd, area, score, bbox, has_bb, seg_kind, n_rings,
            rle_h, rle_w, soff, loff, ring_vals, nr, coords, nv, sbytes, nsb, lcounts, nlc,
            slow_t, slow_i, slow_a, slow_b, ns, top_seen)


class ScanResult:
    """Columns of one scanned file (see :func:`scan_coco`); attributes are numpy arrays."""

    __slots__ = ("n", "images_span", "categories_span", "ann_id", "image_id", "category_id", "iscrowd",
                 "area", "score", "bbox", "has_bbox", "seg_kind", "n_rings", "rle_h", "rle_w",
                 "str_offsets", "str_bytes", "list_offsets", "list_counts", "ring_vals", "coords",
                 "top_seen", "_coords_buf", "_spans")


_TOP_KEYS = 64   # top-level keys the scanner compares (more: a bail)
_NO_SPANS = np.full(5 + 2 * _TOP_KEYS, -1, np.int64)
_NO_SPANS[4] = 0


def coords_capacity(nbytes: int) -> int:
    """First size of the coordinate buffer for ``nbytes`` of JSON (COCO files hold about one
    number per 8-10 bytes; the scanner grows the buffer when a file holds more)."""
    return max(64, nbytes // 7)


def _run(buf, results, start, stop_at, phase, top_seen, spans, nbytes, coords=None):
    """One :func:`_scan` call sized for ``nbytes`` of input -> (status, where, ScanResult or None).
    ``coords``: the float64 buffer to write coordinates into (None: a new one)."""
    buf = np.ascontiguousarray(buf, dtype=np.uint8)
    cap_a = max(16, nbytes // 400)
    # the coordinates are most of the output: allocated by numpy, whose large arrays are backed
    # by huge pages where the OS offers them (first touch several times faster than Numba's)
    if coords is None:
        coords = np.empty(coords_capacity(nbytes), np.float64)
    out = _scan(buf, bool(results), cap_a, coords, int(start), int(stop_at),
                int(phase), int(top_seen), np.ascontiguousarray(spans, dtype=np.int64))
    (status, where, spans, n, ann_id, img, cat, crowd, area, score, bbox, has_bb, seg_kind, n_rings,
     rle_h, rle_w, soff, loff, ring_vals, nr, coords, nv, sbytes, nsb, lcounts, nlc,
     slow_t, slow_i, slow_a, slow_b, ns, top_seen) = out
    if status not in (0, 12):
        return int(status), int(where), None
    cbuf = coords
    coords = coords[:nv]
    area = area[:n]
    score = score[:n]
    bbox = bbox[:4 * n]
    if ns:
        tgt = {_T_COORD: coords, _T_AREA: area, _T_SCORE: score, _T_BBOX: bbox}
        for t, i, a, b in zip(slow_t[:ns].tolist(), slow_i[:ns].tolist(), slow_a[:ns].tolist(),
                              slow_b[:ns].tolist()):
            v = float(buf[a:b].tobytes())
            if t != _T_COORD and not np.isfinite(v):
                return 4, int(a), None   # out-of-range scalar: let the slow path judge it
            tgt[t][i] = v
    r = ScanResult()
    r.n = int(n)
    r.images_span = (int(spans[0]), int(spans[1]))
    r.categories_span = (int(spans[2]), int(spans[3]))
    r.top_seen = int(top_seen)
    r._spans = spans
    r.ann_id = ann_id[:n]
    r.image_id = img[:n]
    r.category_id = cat[:n]
    r.iscrowd = crowd[:n]
    r.area = area
    r.score = score
    r.bbox = bbox.reshape(n, 4)
    r.has_bbox = has_bb[:n].view(np.bool_)
    r.seg_kind = seg_kind[:n]
    r.n_rings = n_rings[:n]
    r.rle_h = rle_h[:n]
    r.rle_w = rle_w[:n]
    r.str_offsets = soff[:n + 1]
    r.str_bytes = sbytes[:nsb]
    r.list_offsets = loff[:n + 1]
    r.list_counts = lcounts[:nlc]
    r.ring_vals = ring_vals[:nr]
    r.coords = coords
    r._coords_buf = cbuf
    return int(status), int(where), r


def scan_coco(buf: np.ndarray, results: bool = False):
    """Scan a COCO instances file (or a results list) into annotation columns.

    Parameters
    ----------
    buf : ndarray of uint8
        The file's bytes (no BOM).
    results : bool
        True for a results file (a top-level list of annotations: ``id`` and ``iscrowd`` are
        ignored, ``segmentation`` may be absent or ``null``, ``ann_id`` is 1..n).

    Returns
    -------
    (status, where, result) : int, int, ScanResult or None
        ``status`` 0 and a :class:`ScanResult` when the scanner understood the whole file; else
        a bail code (:data:`BAIL_REASONS`) and the byte offset where it stopped, and ``None``.
        ``result.images_span`` / ``categories_span`` are (start, end) byte offsets of the two
        sections' JSON lists (-1 in results mode). Per-annotation arrays are in file order;
        ``str_offsets`` / ``list_offsets`` (n + 1) index ``str_bytes`` (compressed RLE text,
        escapes resolved) and ``list_counts`` (int64); ``n_rings`` per annotation and
        ``ring_vals`` (numbers per ring) index ``coords``.

    Examples
    --------
    >>> s = (b'{"images": [], "categories": [], "annotations": [{"id": 7, "image_id": 1, '
    ...      b'"category_id": 2, "segmentation": [[1, 2, 3.5, 4, 5, 6]]}]}')
    >>> status, _, r = scan_coco(np.frombuffer(s, np.uint8))
    >>> status, r.ann_id, r.coords
    (0, array([7]), array([1. , 2. , 3.5, 4. , 5. , 6. ]))
    """
    return _run(buf, results, -1, -1, 0, 0, _NO_SPANS, buf.shape[0])


# ------------------------------------------------------------------------------------------
# a file in parts: the annotations list cut at object boundaries, parts parsed independently

@serial
def _split_after(data, q, end):
    """The first ``{`` at or after ``q`` that follows ``}`` and ``,`` (whitespace between
    allowed): a *candidate* boundary between two objects of a list; -1 when none."""
    buf = _ptr(data)
    p = q
    while p < end:
        if buf[p] == 125:   # }
            r = _ws(buf, p + 1, end)
            if r < end and buf[r] == 44:
                r = _ws(buf, r + 1, end)
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


def scan_part(buf: np.ndarray, results: bool, start: int, stop: int, coords=None):
    """Parse one part of a file cut at :func:`split_points`.

    ``start`` < 0: the document from its beginning (the top level, the sections before the
    annotations, the annotations up to ``stop``); else the annotations from the object at
    ``start`` up to ``stop`` (-1: to the end of the list). ``coords``: a float64 window (of a
    buffer shared by all parts, see :func:`concat_scans`) to write the coordinates into (None:
    a new buffer; a window too small is left for a new one). Returns ``(status, where,
    ScanResult or None)``: status 12 when the part reached an annotation starting exactly at
    ``stop`` (``stop`` is then proven to be a boundary between two annotations), 0 when it
    reached the end of the annotations list (part 0 of a results file: the document's end;
    part 0 of an instances file: the whole document), else a bail code at ``where``.

    Examples
    --------
    >>> s = (b'{"images": [], "categories": [], "annotations": [{"id": 7, "image_id": 1, '
    ...      b'"category_id": 2, "segmentation": [[1, 2, 3, 4, 5, 6]]}, {"id": 8, "image_id": 1, '
    ...      b'"category_id": 2, "segmentation": [[7, 8, 9, 10, 11, 12]]}]}')
    >>> b = np.frombuffer(s, np.uint8)
    >>> cut = split_points(b, 2)[0]
    >>> st0, _, r0 = scan_part(b, False, -1, cut)
    >>> st1, end1, r1 = scan_part(b, False, cut, -1)
    >>> st2, _, r2 = scan_tail(b, False, end1, r0)
    >>> (st0, st1, st2), concat_scans([r0, r1], r2).ann_id.tolist()
    ((12, 0, 0), [7, 8])
    """
    if start < 0:
        return _run(buf, results, -1, stop, 0, 0, _NO_SPANS, buf.shape[0], coords)
    nbytes = (stop if stop >= 0 else buf.shape[0]) - start
    return _run(buf, results, start, stop, 5, 0, _NO_SPANS, nbytes, coords)


def scan_tail(buf: np.ndarray, results: bool, p: int, first):
    """The rest of the document after the annotations list that ended at ``p``, continuing
    part 0's top level (``first``: its :class:`ScanResult`). Returns ``(status, where,
    ScanResult or None)``; the result holds no annotations, only the section spans."""
    return _run(buf, results, p, -1, 3 if results else 2, first.top_seen, first._spans, 0)


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
        from .ragged import move_left
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


@serial
def _num_at(data, end):
    return _num(_ptr(data), 0, end)


def parse_float(text: bytes) -> float | None:
    """Parse one JSON number with the scanner's converter (exact or ``None`` when it would defer).

    Examples
    --------
    >>> parse_float(b"1605.7768999999985") == 1605.7768999999985
    True
    """
    buf = np.frombuffer(text + b"\0" * 24, np.uint8)
    v, q, code = _num_at(buf, len(text))
    if code != 0 or q != len(text):
        return None
    return float(v)


# ------------------------------------------------------------------------------------------
# the slow path's structure check: duplicate keys and nesting depth, anywhere in a document

#: Deepest nesting of JSON containers a file may have (the top-level object or list is level
#: 1): deeper is an error (:func:`check_structure`), not a RecursionError in a JSON reader.
MAX_NESTING = 128
_SMALL_OBJECT = 32   # an object's keys are compared one by one up to this many, sorted after


@serial(inline="always")
def _hex4(buf, p, b):
    """The four hex digits at ``p`` (before ``b``) as a number, or -1."""
    if p + 4 > b:
        return -1
    v = 0
    for k in range(4):
        c = buf[p + k]
        if 48 <= c <= 57:
            d = c - 48
        elif 97 <= c <= 102:
            d = c - 87
        elif 65 <= c <= 70:
            d = c - 55
        else:
            return -1
        v = v * 16 + d
    return v


@serial
def _unescape(buf, a, b, out, o):
    """The JSON string body ``buf[a:b]`` (between the quotes) as UTF-8 bytes at ``out[o:]``
    (``\\u`` escapes decoded, surrogate pairs joined, a lone surrogate as its 3 bytes): the
    number written (never more than ``b - a``), or -1 for a bad escape."""
    n = o
    p = a
    while p < b:
        c = buf[p]
        if c != 92:
            out[n] = c
            n += 1
            p += 1
            continue
        if p + 1 >= b:
            return -1
        e = buf[p + 1]
        if e == 117:
            cp = _hex4(buf, p + 2, b)
            if cp < 0:
                return -1
            p += 6
            if 0xD800 <= cp < 0xDC00 and p + 6 <= b and buf[p] == 92 and buf[p + 1] == 117:
                lo = _hex4(buf, p + 2, b)
                if 0xDC00 <= lo < 0xE000:
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                    p += 6
            if cp < 0x80:
                out[n] = cp
                n += 1
            elif cp < 0x800:
                out[n] = 0xC0 | (cp >> 6)
                out[n + 1] = 0x80 | (cp & 0x3F)
                n += 2
            elif cp < 0x10000:
                out[n] = 0xE0 | (cp >> 12)
                out[n + 1] = 0x80 | ((cp >> 6) & 0x3F)
                out[n + 2] = 0x80 | (cp & 0x3F)
                n += 3
            else:
                out[n] = 0xF0 | (cp >> 18)
                out[n + 1] = 0x80 | ((cp >> 12) & 0x3F)
                out[n + 2] = 0x80 | ((cp >> 6) & 0x3F)
                out[n + 3] = 0x80 | (cp & 0x3F)
                n += 4
            continue
        if e == 34 or e == 92 or e == 47:
            out[n] = e
        elif e == 98:
            out[n] = 8
        elif e == 102:
            out[n] = 12
        elif e == 110:
            out[n] = 10
        elif e == 114:
            out[n] = 13
        elif e == 116:
            out[n] = 9
        else:
            return -1
        n += 1
        p += 2
    return n - o


@serial
def _key_bytes(buf, a, b, esc):
    """A key's bytes (unescaped when ``esc``) as a new array; None-like empty + -1 on a bad escape."""
    out = np.empty(b - a, np.uint8)
    if esc:
        m = _unescape(buf, a, b, out, 0)
        if m < 0:
            return out[:0], False
        return out[:m], True
    for k in range(b - a):
        out[k] = buf[a + k]
    return out, True


@serial
def _bytes_less(x, xa, xb, ya, yb):
    """``x[xa:xb] < x[ya:yb]`` as byte strings."""
    n = min(xb - xa, yb - ya)
    for k in range(n):
        if x[xa + k] != x[ya + k]:
            return x[xa + k] < x[ya + k]
    return xb - xa < yb - ya


@serial
def _first_repeat(buf, ra, rb, resc, lo, hi):
    """Among keys ``lo:hi`` (spans ``ra``/``rb``, escaped flags ``resc``, in file order): the
    index of the earliest key that repeats an earlier one, or -1 (and -2: a bad escape).
    Sorted by (bytes, position): O(k log k) for an object of k keys."""
    k = hi - lo
    tot = 0
    for j in range(lo, hi):
        tot += rb[j] - ra[j]
    kb = np.empty(tot, np.uint8)
    off = np.empty(k + 1, np.int64)
    off[0] = 0
    for j in range(k):
        a = ra[lo + j]
        b = rb[lo + j]
        if resc[lo + j]:
            m = _unescape(buf, a, b, kb, off[j])
            if m < 0:
                return -2
        else:
            m = b - a
            for t in range(m):
                kb[off[j] + t] = buf[a + t]
        off[j + 1] = off[j] + m
    # bottom-up merge sort of 0..k-1 by (bytes, index)
    idx = np.arange(k)
    tmp = np.empty(k, np.int64)
    width = 1
    while width < k:
        for s in range(0, k, 2 * width):
            m = min(s + width, k)
            e = min(s + 2 * width, k)
            i = s
            j = m
            t = s
            while i < m and j < e:
                x = idx[i]
                y = idx[j]
                if _bytes_less(kb, off[y], off[y + 1], off[x], off[x + 1]):
                    tmp[t] = y
                    j += 1
                else:
                    tmp[t] = x
                    i += 1
                t += 1
            while i < m:
                tmp[t] = idx[i]
                i += 1
                t += 1
            while j < e:
                tmp[t] = idx[j]
                j += 1
                t += 1
        idx, tmp = tmp, idx
        width *= 2
    best = -1
    for t in range(1, k):
        x = idx[t - 1]
        y = idx[t]
        if off[x + 1] - off[x] == off[y + 1] - off[y] and not _bytes_less(kb, off[x], off[x + 1], off[y], off[y + 1]):
            if best < 0 or y < best:
                best = y   # equal: y comes after x in file order (the sort is stable)
    return best if best < 0 else lo + best


@serial
def _keys_equal(buf, a1, b1, e1, a2, b2, e2):
    if not e1 and not e2:
        if b1 - a1 != b2 - a2:
            return False
        for t in range(b1 - a1):
            if buf[a1 + t] != buf[a2 + t]:
                return False
        return True
    x, ok1 = _key_bytes(buf, a1, b1, e1)
    y, ok2 = _key_bytes(buf, a2, b2, e2)
    if not (ok1 and ok2) or x.shape[0] != y.shape[0]:
        return False
    for t in range(x.shape[0]):
        if x[t] != y[t]:
            return False
    return True


@serial
def _check_structure(data, max_depth, entry_level):
    """See :func:`check_structure`. Returns ``(status, pos, level, kinds, starts, idxs, kas, kbs,
    da, db, id_owner, id_pos)``."""
    buf = _ptr(data)
    end = data.shape[0]
    L = max_depth + 1
    kinds = np.zeros(L, np.uint8)     # 1: object, 0: list
    starts = np.zeros(L, np.int64)    # where the container opens
    idxs = np.zeros(L, np.int64)      # list: the element's index; object: keys so far
    kas = np.zeros(L, np.int64)       # object: its current key's span
    kbs = np.zeros(L, np.int64)
    kbase = np.zeros(L, np.int64)     # object: its first key record
    cap = 64
    rh = np.empty(cap, np.uint64)     # key records of the open objects: hash, span, escaped
    ra = np.empty(cap, np.int64)
    rb = np.empty(cap, np.int64)
    resc = np.empty(cap, np.uint8)
    nk = 0
    d = 0
    id_owner = np.int64(-1)
    id_pos = np.int64(-1)
    state = 0   # 0: a value, 1: a key, 2: after a value
    p = np.int64(0)
    while True:
        if state == 0:
            p = _ws(buf, p, end)
            if p >= end:
                return 3, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
            c = buf[p]
            if c == 123 or c == 91:
                if d >= max_depth:
                    return 2, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
                kinds[d] = 1 if c == 123 else 0
                starts[d] = p
                idxs[d] = 0
                kbase[d] = nk
                d += 1
                p = _ws(buf, p + 1, end)
                if p < end and ((c == 123 and buf[p] == 125) or (c == 91 and buf[p] == 93)):
                    d -= 1
                    p += 1
                    state = 2
                else:
                    state = 1 if c == 123 else 0
                continue
            if c == 34:
                p += 1
                while p < end and buf[p] != 34:
                    p += 2 if buf[p] == 92 else 1
                if p >= end:
                    return 3, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
                p += 1
            else:
                q = p
                while q < end:
                    c2 = buf[q]
                    if c2 == 44 or c2 == 93 or c2 == 125 or c2 == 32 or c2 == 10 or c2 == 13 or c2 == 9:
                        break
                    q += 1
                if q == p:
                    return 3, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
                p = q
            state = 2
        elif state == 1:   # a key of the object at level d - 1
            p = _ws(buf, p, end)
            if p >= end or buf[p] != 34:
                return 3, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
            a = p + 1
            q = a
            esc = False
            h = _FNV_OFFSET
            while q < end and buf[q] != 34:
                if buf[q] == 92:
                    esc = True
                    q += 2
                else:
                    h = (h ^ np.uint64(buf[q])) * _FNV_PRIME
                    q += 1
            if q >= end:
                return 3, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
            b = q
            if esc:   # the hash of the unescaped bytes
                kbts, ok = _key_bytes(buf, a, b, True)
                if not ok:
                    return 3, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
                h = _FNV_OFFSET
                for t in range(kbts.shape[0]):
                    h = (h ^ np.uint64(kbts[t])) * _FNV_PRIME
            p = _ws(buf, b + 1, end)
            if p >= end or buf[p] != 58:
                return 3, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
            p += 1
            lvl = d - 1
            cnt = nk - kbase[lvl]
            if cnt < _SMALL_OBJECT:
                for j in range(kbase[lvl], nk):
                    if rh[j] == h and _keys_equal(buf, ra[j], rb[j], resc[j] != 0, a, b, esc):
                        return 1, a - 1, lvl, kinds, starts, idxs, kas, kbs, a, b, id_owner, id_pos
            if nk >= cap:
                cap *= 2
                rh2 = np.empty(cap, np.uint64)
                ra2 = np.empty(cap, np.int64)
                rb2 = np.empty(cap, np.int64)
                re2 = np.empty(cap, np.uint8)
                rh2[:nk] = rh[:nk]
                ra2[:nk] = ra[:nk]
                rb2[:nk] = rb[:nk]
                re2[:nk] = resc[:nk]
                rh, ra, rb, resc = rh2, ra2, rb2, re2
            rh[nk] = h
            ra[nk] = a
            rb[nk] = b
            resc[nk] = 1 if esc else 0
            nk += 1
            kas[lvl] = a
            kbs[lvl] = b
            idxs[lvl] += 1
            if lvl == entry_level and b - a == 2 and buf[a] == 105 and buf[a + 1] == 100 \
                    and id_owner != starts[lvl]:
                id_owner = starts[lvl]
                id_pos = _ws(buf, p, end)
            state = 0
        else:   # after a value
            p = _ws(buf, p, end)
            if d == 0:
                return (0 if p == end else 3), p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
            if p >= end:
                return 3, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
            c = buf[p]
            lvl = d - 1
            if kinds[lvl] == 1:
                if c == 44:
                    p += 1
                    state = 1
                    continue
                if c == 125:
                    if nk - kbase[lvl] > _SMALL_OBJECT:   # keys past the first ones: sorted
                        j = _first_repeat(buf, ra, rb, resc, kbase[lvl], nk)
                        if j == -2:
                            return 3, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
                        if j >= 0:
                            return 1, ra[j] - 1, lvl, kinds, starts, idxs, kas, kbs, ra[j], rb[j], id_owner, id_pos
                    nk = kbase[lvl]
                    d -= 1
                    p += 1
                    continue
                return 3, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
            if c == 44:
                idxs[lvl] += 1
                p += 1
                state = 0
                continue
            if c == 93:
                d -= 1
                p += 1
                continue
            return 3, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos


class StructureCheck:
    """What :func:`check_structure` found (see there)."""

    __slots__ = ("status", "pos", "path", "key", "entry_start", "id_pos")

    def __repr__(self):
        return (f"StructureCheck(status={self.status}, pos={self.pos}, path={self.path!r}, key={self.key!r}, "
                f"id_pos={self.id_pos})")


def check_structure(buf: np.ndarray, results: bool = False, max_depth: int = MAX_NESTING) -> StructureCheck:
    """Duplicate keys and nesting depth of a JSON document, everywhere in it (the slow path's
    check; the scanner bails on both).

    Returns a :class:`StructureCheck`: ``status`` 0 (neither; or the document is not JSON
    where ``pos`` says, left to the JSON reader to report: status 3), 1 (a key repeated in
    one object: ``key`` is the repeat's raw bytes, ``pos`` its opening quote) or 2 (nested
    deeper than ``max_depth``: ``pos`` is the bracket that opens one level too many).
    ``path`` lists, from the top, each open container's current child: an object's key (raw
    bytes) or a list's index -- down to the object holding the repeated key, or the first
    ``max_depth`` levels. ``id_pos``: where the value of the ``"id"`` key of the entry object
    on that path starts (an entry of a top-level section list, or of a results list), -1 when
    that entry had no ``"id"`` before the problem.

    Examples
    --------
    >>> r = check_structure(np.frombuffer(b'{"annotations": [{"id": 1, "id": 7}]}', np.uint8))
    >>> r.status, r.path, r.key, r.id_pos
    (1, [b'annotations', 0], b'id', 24)
    >>> check_structure(np.frombuffer(b'[[[1]]]', np.uint8), max_depth=2).status
    2
    """
    entry = 1 if results else 2
    (st, pos, lvl, kinds, starts, idxs, kas, kbs, da, db, id_owner, id_pos) = _check_structure(
        np.ascontiguousarray(buf, dtype=np.uint8), int(max_depth), entry)
    r = StructureCheck()
    r.status = int(st) if st in (1, 2) else 0
    r.pos = int(pos)
    r.path = []
    r.key = None
    r.entry_start = -1
    r.id_pos = -1
    if r.status == 0:
        r.status = 3 if st == 3 else 0
        return r
    for L in range(int(lvl)):
        if kinds[L] == 1:
            r.path.append(bytes(buf[kas[L]:kbs[L]]))
        else:
            r.path.append(int(idxs[L]))
    if r.status == 1:
        r.key = bytes(buf[da:db])
    open_levels = lvl + 1 if r.status == 1 else lvl   # levels whose start and kind are known
    if entry < open_levels and kinds[entry] == 1:
        r.entry_start = int(starts[entry])
        if id_owner == starts[entry]:
            r.id_pos = int(id_pos)
    return r
