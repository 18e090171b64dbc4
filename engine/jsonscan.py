"""One-pass Numba scanner: COCO JSON bytes -> annotation columns (no Python object per annotation).

:func:`scan_coco` walks a COCO instances file (or a results list) byte by byte and writes the
annotation fields straight into numpy arrays: ids, ``image_id``, ``category_id``, ``iscrowd``,
``area``, ``bbox``, ``score``, the segmentation kind, polygon coordinates with ring offsets, and
RLE ``size`` / ``counts`` (compressed strings as bytes with offsets, uncompressed lists as int64).
The ``images`` and ``categories`` sections are only located (their byte spans are returned) for
the caller to decode with msgspec.

The scanner is a *fast path*, not a validator: it accepts a conservative subset of valid JSON
and returns a non-zero status (a "bail", :data:`~cocodiff.engine.scancodes.BAIL_REASONS`) on anything it does not fully
understand -- an escape in a key, a ``\\u`` escape or a non-ASCII byte in an annotation
string, a float where an integer belongs, a duplicate key, a missing required key, a
non-number coordinate, nesting deeper than :data:`~cocodiff.engine.jsonskip.MAX_DEPTH`, a number with more than 18
digits in an integer field... The caller then decodes the file the slow way, which produces
the precise error message (or accepts what the scanner was unsure of). Whatever the scanner
does accept, it reads exactly as ``json.load`` would (numbers: :mod:`cocodiff.engine.numparse`).

No file with a key repeated in one object is ever accepted: a known annotation field twice,
an unknown annotation or RLE key twice (compared by bytes), a top-level key twice (across the
parts of a file scanned in parts too), any key twice in an object inside a skipped value or
the ``images`` / ``categories`` sections (compared by hash; an escaped key there is a bail)
all bail. The slow path then runs :func:`cocodiff.engine.jsonstructure.check_structure`, which
names the repeated key (or nesting too deep) exactly, for the decoders keep one value silently.

Layers: numbers (:mod:`~cocodiff.engine.numparse`), JSON skipping and keys
(:mod:`~cocodiff.engine.jsonskip`), segmentation values (:mod:`~cocodiff.engine.jsonseg`), the
codes (:mod:`~cocodiff.engine.scancodes`); this module holds the COCO schema and the grow /
resume protocol; :mod:`~cocodiff.engine.scanparts` cuts a file into parts and joins them.

Segmentation kinds (``seg_kind``): ``SEG_POLYGON``, ``SEG_RLE_STRING``, ``SEG_RLE_LIST``,
``SEG_NULL`` (results files only: no segmentation, or ``null``), of
:mod:`~cocodiff.engine.scancodes`.

A file can also be read in parts (the caller runs them on threads; the kernels release the
GIL): :func:`~cocodiff.engine.scanparts.split_points` proposes cuts in the annotations list,
:func:`scan_part` parses the document up to the first cut or the annotations between two cuts
and reports whether it stopped exactly at its end cut (the proof that the cut lies between
two annotations), :func:`scan_tail` reads what follows the list, and
:func:`~cocodiff.engine.scanparts.concat_scans` joins the parts into the one-pass result.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ._intrinsics import ptr as _ptr
from ._jit import serial
from .jsonseg import add_slow, grow, poly_list, rle_obj
from .jsonskip import is_null, key_bit, key_colon, key_is, key_repeats, next_item, skip_value, ws
from .numparse import NUM_BAD, NUM_SLOW, int18, num_inl, scalar_zero, slow_floats
from .scancodes import (BAIL_INTEGER, BAIL_KEY, BAIL_MISSING_KEY, BAIL_NESTING, BAIL_NUMBER, BAIL_SECTION,
                        BAIL_SEGMENTATION, BAIL_STRUCTURE, BAIL_TRAILING, F_AREA, F_BBOX, F_CATEGORY_ID, F_ID,
                        F_IMAGE_ID, F_INTEGER, F_ISCROWD, F_REQUIRED, F_REQUIRED_RESULTS, F_SCORE, F_SEGMENTATION,
                        GROW, NEED_ANN, NEED_COORDS, NEED_LIST, NEED_RINGS, NEED_SLOW, NEED_STR, OK, SEG_NULL,
                        SEG_POLYGON, STOPPED_AT_PART, T_AREA, T_BBOX, T_COORD, T_SCORE, TOP_ALL, TOP_ANNOTATIONS,
                        TOP_CATEGORIES, TOP_IMAGES)

__all__ = ["scan_coco", "scan_part", "scan_tail", "coords_capacity", "ScanResult"]

# _scan's phases
PH_ANNS = 0         # at the annotations list's '['
PH_TOP_KEY = 1      # in the top-level object, at a key or its '}'
PH_TOP_NEXT = 2     # after a top-level value
PH_END = 3          # after the top-level object / list
PH_ANN_PART = 5     # at an annotation's '{' inside the list (a part of a file scanned in parts)

_K_IMAGES = np.frombuffer(b"images", np.uint8).copy()
_K_ANNS = np.frombuffer(b"annotations", np.uint8).copy()
_K_CATS = np.frombuffer(b"categories", np.uint8).copy()
_K_SEG = np.frombuffer(b"segmentation", np.uint8).copy()
_K_IMG = np.frombuffer(b"image_id", np.uint8).copy()
_K_CAT = np.frombuffer(b"category_id", np.uint8).copy()
_K_CROWD = np.frombuffer(b"iscrowd", np.uint8).copy()
_K_AREA = np.frombuffer(b"area", np.uint8).copy()
_K_BBOX = np.frombuffer(b"bbox", np.uint8).copy()
_K_SCORE = np.frombuffer(b"score", np.uint8).copy()


#: What :func:`_scan` returns: the status and where it stopped, the top-level spans (see
#: :func:`_scan`), the outputs (arrays at least as long as their counts: ``n`` annotations,
#: ``nr`` rings, ``nv`` coordinates, ``nsb`` RLE bytes, ``nlc`` RLE list counts, ``ns`` slow
#: spans ``slow_t`` (``T_*``) / ``slow_i`` (index) / ``slow_a``, ``slow_b`` (byte span)) and the
#: top-level sections seen (``TOP_*`` bits).
ScanState = namedtuple("ScanState", [
    "status", "p", "spans", "n", "ann_id", "image_id", "category_id", "iscrowd", "area", "score", "bbox", "has_bbox",
    "seg_kind", "n_rings", "rle_h", "rle_w", "str_offsets", "list_offsets", "ring_vals", "nr", "coords", "nv",
    "str_bytes", "nsb", "list_counts", "nlc", "slow_t", "slow_i", "slow_a", "slow_b", "ns", "top_seen"])


@serial
def _ann_key(buf, a, b, results):
    """Annotation key -> field bit (``F_*``; 0: not a field the scanner reads). One compare per key."""
    ln = b - a
    if ln == 12:
        return F_SEGMENTATION if key_is(buf, a, b, _K_SEG) else 0
    if ln == 2:
        return F_ID if (not results and buf[a] == 105 and buf[a + 1] == 100) else 0
    if ln == 8:
        return F_IMAGE_ID if key_is(buf, a, b, _K_IMG) else 0
    if ln == 11:
        return F_CATEGORY_ID if key_is(buf, a, b, _K_CAT) else 0
    if ln == 7:
        return F_ISCROWD if (not results and key_is(buf, a, b, _K_CROWD)) else 0
    if ln == 4:
        if key_is(buf, a, b, _K_AREA):
            return F_AREA
        return F_BBOX if key_is(buf, a, b, _K_BBOX) else 0
    if ln == 5:
        return F_SCORE if key_is(buf, a, b, _K_SCORE) else 0
    return 0


@serial(inline="always")
def _float_field(buf, p, end, target, index, slow_t, slow_i, slow_a, slow_b, ns, scap):
    """A number read into a float field (area, score, a bbox value): (status, value, end, ns).

    Status ``BAIL_NUMBER``: not a number; ``GROW``: the slow-span arrays (pointers, capacity
    ``scap``) are full. A number the exact paths cannot convert is recorded as a slow span
    (``target``, ``index``) for the caller; a zero written ``-0`` as an integer is +0.0, as
    msgspec reads it."""
    val, q, code = num_inl(buf, p, end)
    if code == NUM_BAD:
        return BAIL_NUMBER, val, q, ns
    if code == NUM_SLOW:
        ns2 = add_slow(slow_t, slow_i, slow_a, slow_b, scap, ns, target, index, p, q)
        if ns2 < 0:
            return GROW, val, q, ns
        ns = ns2
    if val == 0.0:
        val = scalar_zero(buf, p, q) if buf[p] == 45 else 0.0
    return OK, val, q, ns


@serial   # stays whole: the per-annotation hot loop (a call per field would cost in 450 MB files)
def _anns(buf, p, end, results, n, nv, nr, nsb, nlc, ns,
          ann_id, img, cat, crowd, area, score, bbox, has_bb, seg_kind, n_rings, rle_h, rle_w, soff, loff, acap,
          coords, ncap, ring_vals, rcap, sbytes, sbcap, lcounts, lccap, slow_t, slow_i, slow_a, slow_b, scap,
          stop_at):   # flat: named tuples of these pointers cost seconds of compile time
    """The annotations list from its first ``{`` to past its ``]``, into the output pointers.

    Stops with ``STOPPED_AT_PART`` when an annotation would start at byte ``stop_at`` (-1: never): the
    end of one part of a list parsed in parts (see :func:`scan_part`).

    Returns (status, p, n, nv, nr, nsb, nlc, ns, need). Status ``GROW``: an output is full
    (``need`` says which, as ``NEED_*`` bits); ``p`` and the counts are then those at the start of the
    annotation that did not fit, for the caller to grow the arrays and call again. Every output
    is a pointer with its capacity: the arrays are reallocated only by the caller, so nothing in
    this loop holds a reference-counted array (one per annotation and array used to cost more
    than the parsing).

    Keys: a known field twice is a bail (bits 0-7 of ``seen``, the ``F_*`` bits); another key sets one of the
    bits 8-62 of ``seen`` (:func:`key_bit`), and a key finding its bit set is compared with the
    annotation's keys before it (:func:`key_repeats`; a repeat is a bail). Objects inside the
    values skipped are checked by :func:`skip_value`."""
    status = OK
    need = 0
    # True, typed as a plain bool rather than Literal[bool](True): skip_value is then compiled
    # once, for this and for _top_key's call
    STRICT = end >= 0
    p0, nv0, nr0, nsb0, nlc0, ns0 = p, nv, nr, nsb, nlc, ns
    while True:
        if p == stop_at:
            status = STOPPED_AT_PART
            break
        if p >= end or buf[p] != 123:
            status = BAIL_STRUCTURE
            break
        # ---------------- one annotation object
        p0, nv0, nr0, nsb0, nlc0, ns0 = p, nv, nr, nsb, nlc, ns
        if n >= acap:
            status = GROW
            need = NEED_ANN
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
        p = ws(buf, p + 1, end)
        if p < end and buf[p] == 125:
            p += 1
        else:
            while True:
                status, ka, kb, p = key_colon(buf, p, end)
                if status != OK:
                    break
                f = _ann_key(buf, ka, kb, results)
                if f != 0 and (seen & f) != 0:
                    status = BAIL_KEY
                    break
                seen |= f
                if f == 0:
                    bit = key_bit(buf, ka, kb, 8, 55)
                    if (seen & bit) != 0 and key_repeats(buf, p0, ka, kb):
                        status = BAIL_KEY
                        break
                    seen |= bit
                    q = skip_value(buf, p, end, STRICT)
                    if q < 0:
                        status = BAIL_NESTING
                        break
                    p = q
                elif f & F_INTEGER:
                    iv, q, ok = int18(buf, p, end)
                    if not ok:
                        status = BAIL_INTEGER
                        break
                    p = q
                    if f == F_ID:
                        ann_id[n] = iv
                    elif f == F_IMAGE_ID:
                        img[n] = iv
                    elif f == F_CATEGORY_ID:
                        cat[n] = iv
                    else:
                        crowd[n] = iv
                elif f == F_AREA or f == F_SCORE:
                    status, val, q, ns = _float_field(buf, p, end, T_AREA if f == F_AREA else T_SCORE, n,
                                                      slow_t, slow_i, slow_a, slow_b, ns, scap)
                    if status != OK:
                        need = NEED_SLOW if status == GROW else 0
                        break
                    if f == F_AREA:
                        area[n] = val
                    else:
                        score[n] = val
                    p = q
                elif f == F_BBOX:
                    if p < end and buf[p] == 110:
                        if not is_null(buf, p, end):
                            status = BAIL_NUMBER
                            break
                        p += 4
                    else:
                        if p >= end or buf[p] != 91:
                            status = BAIL_NUMBER
                            break
                        p = ws(buf, p + 1, end)
                        for k in range(4):
                            status, val, q, ns = _float_field(buf, p, end, T_BBOX, 4 * n + k,
                                                              slow_t, slow_i, slow_a, slow_b, ns, scap)
                            if status != OK:
                                need = NEED_SLOW if status == GROW else 0
                                break
                            bbox[4 * n + k] = val
                            p = ws(buf, q, end)
                            if p >= end or buf[p] != (93 if k == 3 else 44):
                                status = BAIL_NUMBER
                                break
                            p = ws(buf, p + 1, end)
                        if status != OK:
                            break
                        has_bb[n] = 1
                else:
                    # ---------------- segmentation
                    if p >= end:
                        status = BAIL_SEGMENTATION
                        break
                    c = buf[p]
                    if c == 91:       # polygons
                        seg_kind[n] = SEG_POLYGON
                        st, q, nv2, nr2, ns2, nri = poly_list(buf, p, end, coords, ncap, nv, ring_vals, rcap, nr,
                                                              slow_t, slow_i, slow_a, slow_b, scap, ns)
                        if st != OK:   # negative: an output is full (-need)
                            status, need = (GROW, -st) if st < 0 else (st, 0)
                            break
                        p, nv, nr, ns = q, nv2, nr2, ns2
                        n_rings[n] = nri
                    elif c == 123:    # RLE object
                        st, q, kind, hv, wv, nsb2, nlc2 = rle_obj(buf, p, end, sbytes, sbcap, nsb, lcounts, lccap, nlc)
                        if st != OK:   # negative: an output is full (-need)
                            status, need = (GROW, -st) if st < 0 else (st, 0)
                            break
                        p, nsb, nlc = q, nsb2, nlc2
                        seg_kind[n] = kind
                        rle_h[n] = hv
                        rle_w[n] = wv
                    elif c == 110 and results:
                        if not is_null(buf, p, end):
                            status = BAIL_SEGMENTATION
                            break
                        p += 4
                    else:
                        status = BAIL_SEGMENTATION
                        break
                # ---- after a field value
                more, p = next_item(buf, p, end, 125)
                if more == 1:
                    continue
                if more == 0:
                    break
                status = BAIL_STRUCTURE
                break
        if status != OK:
            break
        req = F_REQUIRED_RESULTS if results else F_REQUIRED
        if (seen & req) != req:
            status = BAIL_MISSING_KEY
            break
        soff[n + 1] = nsb
        loff[n + 1] = nlc
        n += 1
        more, p = next_item(buf, p, end, 93)
        if more == 1:
            continue
        if more == 0:
            break
        status = BAIL_STRUCTURE
        break

    if status == GROW:
        return status, p0, n, nv0, nr0, nsb0, nlc0, ns0, need
    return status, p, n, nv, nr, nsb, nlc, ns, need


@serial
def _top_key(buf, p, end, spans, top_seen):
    """At a key of the top-level object (or its ``}``): the key, and its value unless it is
    ``annotations``. The key's span is added to ``spans`` (a repeat is a bail), a section's
    value span recorded. Returns (status, p, next phase, top_seen)."""
    if p >= end:
        return BAIL_STRUCTURE, p, PH_TOP_KEY, top_seen
    if buf[p] == 125:
        return OK, p + 1, PH_END, top_seen
    status, ka, kb, p = key_colon(buf, p, end)
    if status != OK:
        return status, p, PH_TOP_KEY, top_seen
    nt = spans[4]
    if nt >= _TOP_KEYS:
        return BAIL_KEY, p, PH_TOP_KEY, top_seen
    for j in range(nt):
        a = spans[5 + 2 * j]
        if spans[6 + 2 * j] - a == kb - ka:
            same = True
            for t in range(kb - ka):
                if buf[a + t] != buf[ka + t]:
                    same = False
                    break
            if same:
                return BAIL_KEY, p, PH_TOP_KEY, top_seen
    spans[5 + 2 * nt] = ka
    spans[6 + 2 * nt] = kb
    spans[4] = nt + 1
    which = 0
    if key_is(buf, ka, kb, _K_IMAGES):
        which = TOP_IMAGES
    elif key_is(buf, ka, kb, _K_ANNS):
        which = TOP_ANNOTATIONS
    elif key_is(buf, ka, kb, _K_CATS):
        which = TOP_CATEGORIES
    if which != 0:
        if (top_seen & which) != 0:
            return BAIL_KEY, p, PH_TOP_KEY, top_seen
        top_seen |= which
        if p >= end or buf[p] != 91:
            return BAIL_SECTION, p, PH_TOP_KEY, top_seen
    if which == TOP_ANNOTATIONS:
        return OK, p, PH_ANNS, top_seen
    q = skip_value(buf, p, end, which == 0)
    if q < 0:
        return (BAIL_NESTING if which == 0 else BAIL_STRUCTURE), p, PH_TOP_KEY, top_seen
    if which == TOP_IMAGES:
        spans[0] = p
        spans[1] = q
    elif which == TOP_CATEGORIES:
        spans[2] = p
        spans[3] = q
    return OK, ws(buf, q, end), PH_TOP_NEXT, top_seen


@serial   # stays whole: its ~20 output arrays stay locals (named tuples of them cost seconds of compile)
def _scan(data, results, cap_a, coords, start, stop_at, phase0, top_seen0, spans0):
    """The whole document (``start`` < 0), or one part of it (see :func:`scan_part` /
    :func:`scan_tail`): ``phase0`` ``PH_ANN_PART`` parses annotations from the ``{`` at
    ``start`` to past the list's ``]``; ``PH_TOP_NEXT`` / ``PH_END`` go on after the annotations
    list at ``start`` with the top-level keys seen so far (``top_seen0``) and the section spans
    found so far (``spans0``). ``stop_at``: see :func:`_anns`. Returns a :class:`ScanState`;
    the outputs start at ``cap_a`` annotations and grow as :func:`_anns` asks.

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
    status = OK
    top_seen = top_seen0
    if start >= 0:
        p = ws(buf, start, end)
        phase = phase0
    else:
        p = ws(buf, 0, end)
        if p >= end or buf[p] != (91 if results else 123):
            status = BAIL_SECTION
        elif not results:
            p = ws(buf, p + 1, end)
        phase = PH_ANNS if results else PH_TOP_KEY
    while status == OK:
        if phase == PH_TOP_KEY:
            status, p, phase, top_seen = _top_key(buf, p, end, spans, top_seen)
            continue
        if phase == PH_TOP_NEXT:
            if p < end and buf[p] == 44:
                p = ws(buf, p + 1, end)
                phase = PH_TOP_KEY
            elif p < end and buf[p] == 125:
                p += 1
                phase = PH_END
            else:
                status = BAIL_STRUCTURE
            continue
        if phase == PH_END:
            p = ws(buf, p, end)
            if p != end:
                status = BAIL_TRAILING
            elif not results and top_seen != TOP_ALL:
                status = BAIL_SECTION
            break
        # ---- PH_ANNS: the annotations list (PH_ANN_PART: from one of its objects)
        if phase == PH_ANNS:
            p = ws(buf, p + 1, end)   # past '['
        if phase == PH_ANNS and p < end and buf[p] == 93:
            p += 1
        else:
            while True:
                status, p, n, nv, nr, nsb, nlc, ns, need = _anns(
                    buf, p, end, results, n, nv, nr, nsb, nlc, ns,
                    _ptr(ann_id), _ptr(img), _ptr(cat), _ptr(crowd), _ptr(area), _ptr(score), _ptr(bbox),
                    _ptr(has_bb), _ptr(seg_kind), _ptr(n_rings), _ptr(rle_h), _ptr(rle_w), _ptr(soff), _ptr(loff),
                    ann_id.shape[0], _ptr(coords), coords.shape[0], _ptr(ring_vals), ring_vals.shape[0],
                    _ptr(sbytes), sbytes.shape[0], _ptr(lcounts), lcounts.shape[0],
                    _ptr(slow_t), _ptr(slow_i), _ptr(slow_a), _ptr(slow_b), slow_t.shape[0], stop_at)
                if status != GROW:
                    break
                if need & NEED_ANN:
                    m2 = 2 * ann_id.shape[0] + 16
                    ann_id = grow(ann_id, m2)
                    img = grow(img, m2)
                    cat = grow(cat, m2)
                    crowd = grow(crowd, m2)
                    area = grow(area, m2)
                    score = grow(score, m2)
                    bbox = grow(bbox, 4 * m2)
                    has_bb = grow(has_bb, m2)
                    seg_kind = grow(seg_kind, m2)
                    n_rings = grow(n_rings, m2)
                    rle_h = grow(rle_h, m2)
                    rle_w = grow(rle_w, m2)
                    soff = grow(soff, m2 + 1)
                    loff = grow(loff, m2 + 1)
                if need & NEED_COORDS:
                    coords = grow(coords, 2 * coords.shape[0] + 64)
                if need & NEED_RINGS:
                    ring_vals = grow(ring_vals, 2 * ring_vals.shape[0] + 64)
                if need & NEED_STR:
                    sbytes = grow(sbytes, 2 * sbytes.shape[0] + 64)
                if need & NEED_LIST:
                    lcounts = grow(lcounts, 2 * lcounts.shape[0] + 64)
                if need & NEED_SLOW:
                    m3 = 2 * slow_t.shape[0] + 64
                    slow_t = grow(slow_t, m3)
                    slow_i = grow(slow_i, m3)
                    slow_a = grow(slow_a, m3)
                    slow_b = grow(slow_b, m3)
        if status != OK or phase == PH_ANN_PART:   # a part ends past the list's ']'
            break
        p = ws(buf, p, end)
        phase = PH_END if results else PH_TOP_NEXT
    return ScanState(status, p, spans, n, ann_id, img, cat, crowd, area, score, bbox, has_bb, seg_kind, n_rings,
                     rle_h, rle_w, soff, loff, ring_vals, nr, coords, nv, sbytes, nsb, lcounts, nlc,
                     slow_t, slow_i, slow_a, slow_b, ns, top_seen)


class ScanResult:
    """Columns of one scanned file (see :func:`scan_coco`); attributes are numpy arrays."""

    __slots__ = ("n", "images_span", "categories_span", "ann_id", "image_id", "category_id", "iscrowd",
                 "area", "score", "bbox", "has_bbox", "seg_kind", "n_rings", "rle_h", "rle_w",
                 "str_offsets", "str_bytes", "list_offsets", "list_counts", "ring_vals", "coords",
                 "top_seen", "_coords_buf", "_spans")


_TOP_KEYS = 64   # top-level keys the scanner compares (more: a bail)
NO_SPANS = np.full(5 + 2 * _TOP_KEYS, -1, np.int64)   # _scan's spans before the document's start
NO_SPANS[4] = 0


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
    st = _scan(buf, bool(results), cap_a, coords, int(start), int(stop_at),
               int(phase), int(top_seen), np.ascontiguousarray(spans, dtype=np.int64))
    if st.status not in (OK, STOPPED_AT_PART):
        return int(st.status), int(st.p), None
    n, nv, ns = int(st.n), int(st.nv), int(st.ns)
    coords = st.coords[:nv]
    area = st.area[:n]
    score = st.score[:n]
    bbox = st.bbox[:4 * n]
    if ns:
        vals = slow_floats(buf, st.slow_a[:ns], st.slow_b[:ns])
        target = st.slow_t[:ns]
        index = st.slow_i[:ns]
        bad = (target != T_COORD) & ~np.isfinite(vals)
        if bad.any():   # out-of-range scalar: let the slow path judge it
            return BAIL_NUMBER, int(st.slow_a[int(np.argmax(bad))]), None
        for t, into in ((T_COORD, coords), (T_AREA, area), (T_SCORE, score), (T_BBOX, bbox)):
            sel = target == t
            into[index[sel]] = vals[sel]
    r = ScanResult()
    r.n = n
    r.images_span = (int(st.spans[0]), int(st.spans[1]))
    r.categories_span = (int(st.spans[2]), int(st.spans[3]))
    r.top_seen = int(st.top_seen)
    r._spans = st.spans
    r.ann_id = st.ann_id[:n]
    r.image_id = st.image_id[:n]
    r.category_id = st.category_id[:n]
    r.iscrowd = st.iscrowd[:n]
    r.area = area
    r.score = score
    r.bbox = bbox.reshape(n, 4)
    r.has_bbox = st.has_bbox[:n].view(np.bool_)
    r.seg_kind = st.seg_kind[:n]
    r.n_rings = st.n_rings[:n]
    r.rle_h = st.rle_h[:n]
    r.rle_w = st.rle_w[:n]
    r.str_offsets = st.str_offsets[:n + 1]
    r.str_bytes = st.str_bytes[:int(st.nsb)]
    r.list_offsets = st.list_offsets[:n + 1]
    r.list_counts = st.list_counts[:int(st.nlc)]
    r.ring_vals = st.ring_vals[:int(st.nr)]
    r.coords = coords
    r._coords_buf = st.coords
    return int(st.status), int(st.p), r


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
        a bail code (:data:`~cocodiff.engine.scancodes.BAIL_REASONS`) and the byte offset where it
        stopped, and ``None``.
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
    return _run(buf, results, -1, -1, PH_ANNS, 0, NO_SPANS, buf.shape[0])


# ------------------------------------------------------------------------------------------
# a file in parts: the annotations list cut at object boundaries, parts parsed independently


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
    >>> from cocodiff.engine.scanparts import concat_scans, split_points
    >>> b = np.frombuffer(s, np.uint8)
    >>> cut = split_points(b, 2)[0]
    >>> st0, _, r0 = scan_part(b, False, -1, cut)
    >>> st1, end1, r1 = scan_part(b, False, cut, -1)
    >>> st2, _, r2 = scan_tail(b, False, end1, r0)
    >>> (st0, st1, st2), concat_scans([r0, r1], r2).ann_id.tolist()
    ((12, 0, 0), [7, 8])
    """
    if start < 0:
        return _run(buf, results, -1, stop, PH_ANNS, 0, NO_SPANS, buf.shape[0], coords)
    nbytes = (stop if stop >= 0 else buf.shape[0]) - start
    return _run(buf, results, start, stop, PH_ANN_PART, 0, NO_SPANS, nbytes, coords)


def scan_tail(buf: np.ndarray, results: bool, p: int, first):
    """The rest of the document after the annotations list that ended at ``p``, continuing
    part 0's top level (``first``: its :class:`ScanResult`). Returns ``(status, where,
    ScanResult or None)``; the result holds no annotations, only the section spans."""
    return _run(buf, results, p, -1, PH_END if results else PH_TOP_NEXT, first.top_seen, first._spans, 0)

