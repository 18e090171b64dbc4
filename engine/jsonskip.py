"""JSON primitives of the scanner: whitespace, strings, keys, and skipping whole values.

The scanner accepts a conservative subset of JSON and never a repeated key. :func:`skip_value`
skips one value (validating it in strict mode); a value holding an object goes through
:func:`_skip_value_keys`, which also refuses a key repeated in one object (compared by FNV-1a
hash), an escaped key, or more than ``_KEY_CAP`` keys open at once. Containers nest at most
:data:`MAX_DEPTH` deep. Every function returns -1 (or a bail code) for what it does not take;
the caller then leaves the file to the slow path.
"""
from __future__ import annotations

import numpy as np

from ._jit import serial
from .numparse import num
from .scancodes import BAIL_KEY, BAIL_STRUCTURE, OK

__all__ = ["ws", "skip_string", "is_null", "skip_value", "skip_plain", "key_repeats", "key_bit", "key_is", "key",
           "next_item", "key_colon", "MAX_DEPTH", "FNV_OFFSET", "FNV_PRIME"]

#: deepest nesting of containers the scanner follows (deeper: a bail)
MAX_DEPTH = 48


@serial(inline="always")
def ws(buf, p, end):
    while p < end:
        c = buf[p]
        if c == 32 or c == 10 or c == 13 or c == 9:
            p += 1
        else:
            break
    return p


@serial
def skip_string(buf, p, end, strict):
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
def is_null(buf, p, end):
    """``null`` at ``p``."""


    return p + 4 <= end and buf[p] == 110 and buf[p + 1] == 117 and buf[p + 2] == 108 and buf[p + 3] == 108


FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
#: keys of the objects open inside one skipped value whose hashes :func:`skip_value` keeps (more:
#: a bail, the slow path checks the file)
_KEY_CAP = 256


@serial(inline="always")
def _member_key_hash(buf, p, end, strict):
    """An object member's ``"key":`` at ``p``: (position after the colon or -1, FNV-1a hash of
    the key's bytes). Any escape in a key is a bail (-1): equal keys are then equal bytes.
    strict: printable ASCII only; else any other byte."""
    h = FNV_OFFSET
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
        h = (h ^ np.uint64(c)) * FNV_PRIME
        p += 1
    p = ws(buf, p + 1, end)
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
    strict: numbers parsed; else a number runs to the next delimiter (see :func:`skip_value`)."""
    if c == 34:
        return skip_string(buf, p, end, strict)
    if c == 116 or c == 102 or c == 110:
        if c == 116:
            ok = p + 4 <= end and buf[p + 1] == 114 and buf[p + 2] == 117 and buf[p + 3] == 101
            p += 4
        elif c == 110:
            ok = is_null(buf, p, end)
            p += 4
        else:
            ok = (p + 5 <= end and buf[p + 1] == 97 and buf[p + 2] == 108 and buf[p + 3] == 115
                  and buf[p + 4] == 101)
            p += 5
        return p if ok else -1
    if strict:
        _, q, code = num(buf, p, end)
        return -1 if code == 2 else q
    while p < end:
        c2 = buf[p]
        if c2 == 44 or c2 == 93 or c2 == 125 or c2 == 32 or c2 == 10 or c2 == 13 or c2 == 9:
            break
        p += 1
    return p


@serial
def skip_value(buf, p, end, strict):
    """Skip one JSON value at ``p`` (after whitespace). Returns its end, or -1.

    strict: validate everything (grammar, strings as in :func:`skip_string`); else only track
    strings and brackets (the caller validates the span some other way). The open containers
    are a bit stack (bit k set: level k is an object), at most :data:`MAX_DEPTH` deep. A value
    holding an object is handed to :func:`_skip_value_keys` (from its start), which also
    checks the objects' keys; scalars and lists of them (most skipped values) need no scratch."""
    p = ws(buf, p, end)
    p_start = p
    depth = 0
    while True:
        p = ws(buf, p, end)
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
            p = ws(buf, p + 1, end)
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
            p = ws(buf, p, end)
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
def skip_plain(buf, p, end):
    """The end of the (already validated) JSON value at ``p``: brackets and strings only."""
    p = ws(buf, p, end)
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
def key_repeats(buf, a0, ka, kb):
    """Whether the key ``buf[ka:kb]`` (plain, no escape) of the object opening at ``a0`` repeats
    a key before it there. Only called when a cheap filter (a bit in ``seen``) says it may: the
    object up to the key is read again, its values skipped."""
    end = ka
    p = ws(buf, a0 + 1, end)
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
        p = ws(buf, q + 1, end)
        if p >= end or buf[p] != 58:
            return False
        p = ws(buf, skip_plain(buf, p + 1, end), end)
        if p < end and buf[p] == 44:
            p = ws(buf, p + 1, end)
    return False


@serial(inline="always")
def key_bit(buf, ka, kb, lo, nbits):
    """A bit (of ``lo .. lo + nbits - 1``) for key ``buf[ka:kb]``: equal keys, equal bits."""
    hh = np.uint64(kb - ka)
    for t in range(ka, kb):
        hh = hh * np.uint64(31) + np.uint64(buf[t])
    return np.int64(1) << np.int64(lo + np.int64(hh % np.uint64(nbits)))


@serial
def _skip_value_keys(buf, p, end, strict):
    """:func:`skip_value` of a value holding an object: the same, and a key repeated in one
    object (compared by hash), an escaped key or more than ``_KEY_CAP`` keys open at once give
    -1 -- the scanner never accepts a file with a duplicate key, the slow path names it."""
    ks = np.empty(MAX_DEPTH + _KEY_CAP, np.uint64)   # per-level bases, then the open keys' hashes
    depth = 0
    nk = np.int64(0)
    objs = np.uint64(0)
    while True:
        p = ws(buf, p, end)
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
            p = ws(buf, p + 1, end)
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
            p = ws(buf, p, end)
            if p >= end:
                return -1
            c = buf[p]
            top = 123 if (objs >> np.uint64(depth - 1)) & np.uint64(1) else 91
            if c == 44:
                p = ws(buf, p + 1, end)
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
def key_is(buf, a, b, lit):
    """``buf[a:b]`` equals the bytes ``lit``."""
    if b - a != lit.shape[0]:
        return False
    for k in range(lit.shape[0]):
        if buf[a + k] != lit[k]:
            return False
    return True


@serial
def key(buf, p, end):
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
def next_item(buf, p, end, close):
    """After a value in a list / object: (1, p after the comma and whitespace) when another
    element follows, (0, p after ``close``) at the end of the container, (-1, p) otherwise."""
    p = ws(buf, p, end)
    if p < end:
        c = buf[p]
        if c == 44:
            return 1, ws(buf, p + 1, end)
        if c == close:
            return 0, p + 1
    return -1, p


@serial(inline="always")
def key_colon(buf, p, end):
    """``"key" :`` at ``p``: (status, key start, key end, position after the colon and whitespace);
    status ``BAIL_STRUCTURE`` when there is no quote or no colon, ``BAIL_KEY`` for a key
    :func:`key` does not take."""
    if p >= end or buf[p] != 34:
        return BAIL_STRUCTURE, 0, -1, p
    ka, kb, p = key(buf, p, end)
    if kb < 0:
        return BAIL_KEY, ka, kb, p
    p = ws(buf, p, end)
    if p >= end or buf[p] != 58:
        return BAIL_STRUCTURE, ka, kb, p
    return OK, ka, kb, ws(buf, p + 1, end)

