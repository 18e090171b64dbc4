"""The slow path's structure check: duplicate keys and nesting depth, anywhere in a document.

The decoders keep one value of a repeated key silently, and a deep document costs a JSON
reader a RecursionError; :func:`check_structure` finds both exactly (a repeated key by its
unescaped bytes, nesting past :data:`MAX_NESTING`) and says where, for the loader's message.
"""
from __future__ import annotations

import numpy as np

from ._intrinsics import ptr as _ptr
from ._jit import serial
from .jsonskip import FNV_OFFSET, FNV_PRIME, ws

__all__ = ["check_structure", "StructureCheck", "MAX_NESTING"]


#: Deepest nesting of JSON containers a file may have (the top-level object or list is level
#: 1): deeper is an error (:func:`check_structure`), not a RecursionError in a JSON reader.
MAX_NESTING = 128
_SMALL_OBJECT = 32   # an object's keys are compared one by one up to this many, sorted after

# check_structure's statuses
STRUCT_OK = 0
STRUCT_DUPLICATE_KEY = 1
STRUCT_TOO_DEEP = 2
STRUCT_NOT_JSON = 3   # left to the JSON reader to report


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


@serial   # stays whole: one byte-by-byte state machine over the document (hot, a dozen arrays)
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
            p = ws(buf, p, end)
            if p >= end:
                return STRUCT_NOT_JSON, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
            c = buf[p]
            if c == 123 or c == 91:
                if d >= max_depth:
                    return STRUCT_TOO_DEEP, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
                kinds[d] = 1 if c == 123 else 0
                starts[d] = p
                idxs[d] = 0
                kbase[d] = nk
                d += 1
                p = ws(buf, p + 1, end)
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
                    return STRUCT_NOT_JSON, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
                p += 1
            else:
                q = p
                while q < end:
                    c2 = buf[q]
                    if c2 == 44 or c2 == 93 or c2 == 125 or c2 == 32 or c2 == 10 or c2 == 13 or c2 == 9:
                        break
                    q += 1
                if q == p:
                    return STRUCT_NOT_JSON, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
                p = q
            state = 2
        elif state == 1:   # a key of the object at level d - 1
            p = ws(buf, p, end)
            if p >= end or buf[p] != 34:
                return STRUCT_NOT_JSON, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
            a = p + 1
            q = a
            esc = False
            h = FNV_OFFSET
            while q < end and buf[q] != 34:
                if buf[q] == 92:
                    esc = True
                    q += 2
                else:
                    h = (h ^ np.uint64(buf[q])) * FNV_PRIME
                    q += 1
            if q >= end:
                return STRUCT_NOT_JSON, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
            b = q
            if esc:   # the hash of the unescaped bytes
                kbts, ok = _key_bytes(buf, a, b, True)
                if not ok:
                    return STRUCT_NOT_JSON, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
                h = FNV_OFFSET
                for t in range(kbts.shape[0]):
                    h = (h ^ np.uint64(kbts[t])) * FNV_PRIME
            p = ws(buf, b + 1, end)
            if p >= end or buf[p] != 58:
                return STRUCT_NOT_JSON, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
            p += 1
            lvl = d - 1
            cnt = nk - kbase[lvl]
            if cnt < _SMALL_OBJECT:
                for j in range(kbase[lvl], nk):
                    if rh[j] == h and _keys_equal(buf, ra[j], rb[j], resc[j] != 0, a, b, esc):
                        return STRUCT_DUPLICATE_KEY, a - 1, lvl, kinds, starts, idxs, kas, kbs, a, b, id_owner, id_pos
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
                id_pos = ws(buf, p, end)
            state = 0
        else:   # after a value
            p = ws(buf, p, end)
            if d == 0:
                return ((STRUCT_OK if p == end else STRUCT_NOT_JSON), p, d, kinds, starts, idxs, kas, kbs, -1, -1,
                        id_owner, id_pos)
            if p >= end:
                return STRUCT_NOT_JSON, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
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
                            return STRUCT_NOT_JSON, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
                        if j >= 0:
                            return (STRUCT_DUPLICATE_KEY, ra[j] - 1, lvl, kinds, starts, idxs, kas, kbs, ra[j], rb[j],
                                    id_owner, id_pos)
                    nk = kbase[lvl]
                    d -= 1
                    p += 1
                    continue
                return STRUCT_NOT_JSON, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos
            if c == 44:
                idxs[lvl] += 1
                p += 1
                state = 0
                continue
            if c == 93:
                d -= 1
                p += 1
                continue
            return STRUCT_NOT_JSON, p, d, kinds, starts, idxs, kas, kbs, -1, -1, id_owner, id_pos


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
    r.status = int(st) if st in (STRUCT_DUPLICATE_KEY, STRUCT_TOO_DEEP) else STRUCT_OK
    r.pos = int(pos)
    r.path = []
    r.key = None
    r.entry_start = -1
    r.id_pos = -1
    if r.status == STRUCT_OK:
        r.status = STRUCT_NOT_JSON if st == STRUCT_NOT_JSON else STRUCT_OK
        return r
    for L in range(int(lvl)):
        if kinds[L] == 1:
            r.path.append(bytes(buf[kas[L]:kbs[L]]))
        else:
            r.path.append(int(idxs[L]))
    if r.status == STRUCT_DUPLICATE_KEY:
        r.key = bytes(buf[da:db])
    open_levels = lvl + 1 if r.status == STRUCT_DUPLICATE_KEY else lvl   # levels whose start and kind are known
    if entry < open_levels and kinds[entry] == 1:
        r.entry_start = int(starts[entry])
        if id_owner == starts[entry]:
            r.id_pos = int(id_pos)
    return r
