"""JSON number conversion for the scanners: bytes -> float64, exactly as Python's ``float``.

:func:`num` reads one strict JSON number at a byte position: short forms (``-?d{1,7}(.d{1,7})?``)
eight bytes at a time (SWAR, :func:`short8`), anything else by :func:`_num_general` -- the exact
fast path (Clinger: mantissa <= 2**53, |e| <= 22), else the Eisel-Lemire algorithm (128-bit
powers of five). The rare numbers neither decides are *slow*: the kernels record their byte
spans and :func:`slow_floats` converts them with Python's ``float`` afterwards (the one
fallback of every JSON reader in the engine).
"""
from __future__ import annotations

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from ._intrinsics import as_float as _as_float, load8 as _load8
from ._jit import serial


__all__ = ["num", "num_inl", "int18", "scalar_zero", "short8", "POW10", "slow_floats",
           "NUM_EXACT", "NUM_SLOW", "NUM_BAD"]

# :func:`num`'s codes
NUM_EXACT = 0   # the value is exact
NUM_SLOW = 1    # a JSON number the exact paths defer: convert its text with slow_floats
NUM_BAD = 2     # not a JSON number

#: 10**k for k = 0..22, each exactly representable
POW10 = np.array([10.0 ** k for k in range(23)], np.float64)


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


_P10U = np.array([10 ** k for k in range(9)], np.uint64)
_ASCII0 = np.uint64(0x3030303030303030)
_SIX = np.uint64(0x0606060606060606)
_HI_NIB = np.uint64(0xF0F0F0F0F0F0F0F0)
_MASK_A = np.uint64(0x000000FF000000FF)
_MUL1 = np.uint64(0x000F424000000064)   # 100 + (1000000 << 32)
_MUL2 = np.uint64(0x0000271000000001)   # 1 + (10000 << 32)
_LO_NIB = np.uint64(0x0F0F0F0F0F0F0F0F)


@serial(inline="always")
def short8(w):
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
    """:func:`num` for any JSON number (same return values)."""
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
            v = np.float64(m) * POW10[e10]
        else:
            v = np.float64(m) / POW10[-e10]
        return (-v if neg else v), p, 0
    b, ok = _eisel_lemire(m, e10)
    if not ok:
        return 0.0, p, 1
    v = _as_float(b)
    return (-v if neg else v), p, 0


def _num_py(buf, p, end):
    """Strict JSON number at ``p``. Returns (value, end, code): ``NUM_EXACT``, ``NUM_SLOW``
    (convert the text with :func:`slow_floats`) or ``NUM_BAD``.

    The short forms are read here, anything else by :func:`_num_general`."""
    if p + 18 <= end:   # short forms without exponent, 8 bytes at a time: -?d{1,7}(.d{1,7})?
        q = p
        ng = buf[q] == 45
        if ng:
            q += 1
        w = _load8(buf, q)
        ok, ln, m, e = short8(w)
        if ok:
            v = np.float64(m)   # m < 10**7: exact, and so is the one division (Clinger)
            if e > 0:
                v = v / POW10[e]
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
                    v = v / POW10[e]
                return (-v if ng else v), q, 0
    return _num_general(buf, p, end)


num = serial(_num_py)
num_inl = serial(inline="always")(_num_py)   # inlined where a call per number costs (per-annotation scalars)


@serial
def scalar_zero(buf, a, b):
    """A zero read into a float field: ``-0`` (an integer token) is +0.0, as msgspec reads it."""
    for k in range(a, b):
        c = buf[k]
        if c == 46 or c == 101 or c == 69:
            return -0.0
    return 0.0


@serial
def int18(buf, p, end):
    """Strict JSON integer of <= 18 digits at ``p``. Returns (value, end, ok)."""
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

def slow_floats(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Python's ``float`` of each number text ``buf[starts[i]:ends[i]]``: the numbers the kernels'
    exact paths defer (recorded as *slow* spans), correctly rounded.

    Examples
    --------
    >>> slow_floats(np.frombuffer(b"[1e400, 0.1]", np.uint8), np.array([1, 8]), np.array([6, 11]))
    array([inf, 0.1])
    """
    return np.array([float(buf[a:b].tobytes()) for a, b in zip(starts.tolist(), ends.tolist())], np.float64)
