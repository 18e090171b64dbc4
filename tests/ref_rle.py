"""Slow plain-Python references for the RLE / IoU kernels (written from the maskApi.c spec).

Deliberately naive: pixel loops over decoded masks where possible, literal transcriptions
of the C loops where the exact C behaviour is the point. Used by the tests only.
"""
from __future__ import annotations

import numpy as np

U32 = 0xFFFFFFFF


def ref_encode(mask) -> list[int]:
    """Column-major runs; a run ends wherever the byte value changes (rleEncode)."""
    h, w = mask.shape
    flat = [int(mask[y, x]) for x in range(w) for y in range(h)]
    counts, prev, run = [], 0, 0
    for v in flat:
        if v != prev:
            counts.append(run)
            run, prev = 0, v
        run += 1
    counts.append(run)
    return counts


def ref_decode(counts, h, w) -> np.ndarray:
    flat = []
    v = 0
    for c in counts:
        flat.extend([v] * int(c))
        v = 1 - v
    assert len(flat) == h * w
    out = np.zeros((h, w), np.uint8)
    for k, v in enumerate(flat):
        out[k % h, k // h] = v
    return out


def ref_area(counts) -> int:
    return sum(int(c) for c in counts[1::2])


def ref_bbox(counts, h, w) -> list[float]:
    """pycocotools 2.0.x rleToBbox, with uint32 arithmetic."""
    m = (len(counts) // 2) * 2
    if m == 0:
        return [0.0, 0.0, 0.0, 0.0]
    xs, ys, xe, ye, cc = w, h, 0, 0, 0
    for j in range(m):
        start = cc
        cc = (cc + int(counts[j])) & U32
        if j % 2 == 0 or counts[j] == 0:
            continue
        ys0, xs0 = start % h, start // h
        last = (cc - 1) & U32
        ye0, xe0 = last % h, last // h
        xs, xe = min(xs, xs0), max(xe, xe0)
        if xs0 < xe0:
            ys, ye = 0, h - 1
        else:
            ys, ye = min(ys, ys0), max(ye, ye0)
    return [float(xs), float(ys), float((xe - xs + 1) & U32), float((ye - ys + 1) & U32)]


def ref_to_string(counts) -> bytes:
    out = bytearray()
    for i, c in enumerate(counts):
        x = int(c) - (int(counts[i - 2]) if i > 2 else 0)
        more = True
        while more:
            ch = x & 0x1F
            x >>= 5  # Python ints shift arithmetically, like C's signed long
            more = (x != -1) if (ch & 0x10) else (x != 0)
            if more:
                ch |= 0x20
            out.append(ch + 48)
    return bytes(out)


def ref_from_string(s: bytes) -> list[int]:
    """rleFrString on valid input; raises ValueError where the C code would misbehave."""
    counts = []
    p = 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            if p >= len(s):
                raise ValueError("truncated")
            c = s[p] - 48
            if not 0 <= c <= 63:
                raise ValueError("bad char")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x -= 1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        if not 0 <= x <= U32:
            raise ValueError("out of range")
        counts.append(x)
    return counts


def _bb_overlap(D, G, crowd) -> float:
    """bbIou of one pair (C expression order)."""
    ga = G[2] * G[3]
    da = D[2] * D[3]
    w = min(D[2] + D[0], G[2] + G[0]) - max(D[0], G[0])
    if w <= 0:
        return 0.0
    h = min(D[3] + D[1], G[3] + G[1]) - max(D[1], G[1])
    if h <= 0:
        return 0.0
    i = w * h
    u = da if crowd else da + ga - i
    return i / u


def ref_iou(dts, gts, iscrowd) -> np.ndarray:
    """rleIou transcribed: dts/gts are lists of (counts, h, w)."""
    out = np.zeros((len(dts), len(gts)))
    for g, (cg, hg, wg) in enumerate(gts):
        bg = ref_bbox(cg, hg, wg)
        crowd = bool(iscrowd[g])
        for d, (cd, hd, wd) in enumerate(dts):
            bd = ref_bbox(cd, hd, wd)
            if not _bb_overlap(bd, bg, crowd) > 0:
                continue
            if (hd, wd) != (hg, wg):
                out[d, g] = -1
                continue
            ca, cb = int(cd[0]), int(cg[0])
            a = b = 1
            va = vb = False
            i = u = 0
            ct = 1
            while ct > 0:
                c = min(ca, cb)
                if va or vb:
                    u += c
                    if va and vb:
                        i += c
                ct = 0
                ca -= c
                if ca == 0 and a < len(cd):
                    ca = int(cd[a]); a += 1; va = not va
                ct += ca
                cb -= c
                if cb == 0 and b < len(cg):
                    cb = int(cg[b]); b += 1; vb = not vb
                ct += cb
            if i == 0:
                u = 1
            elif crowd:
                u = ref_area(cd)
            out[d, g] = float(i) / float(u)
    return out


def ref_intersection(ca, cb, h, w) -> int:
    return int(np.sum(ref_decode(ca, h, w) & ref_decode(cb, h, w)))


# --------------------------------------------------------------------------- real data
_REAL_CACHE: dict = {}


def load_real_rles(path):
    """Every annotation of a COCO instances file as a pycocotools RLE, grouped by image.

    Polygons and uncompressed RLEs are converted with pycocotools itself (as
    ``COCO.annToRLE`` does), so the RLEs are the oracle's own. Returns
    ``{image_id: (rles, iscrowd)}``; cached per path for the session.
    """
    import json

    from pycocotools import mask as P

    key = str(path)
    if key in _REAL_CACHE:
        return _REAL_CACHE[key]
    with open(path) as f:
        d = json.load(f)
    imgs = {im["id"]: im for im in d["images"]}
    out: dict = {}
    for a in d["annotations"]:
        s = a.get("segmentation")
        if not s:
            continue
        im = imgs[a["image_id"]]
        h, w = im["height"], im["width"]
        if isinstance(s, list):
            r = P.merge(P.frPyObjects(s, h, w))
        elif isinstance(s["counts"], list):
            r = P.frPyObjects(s, h, w)
        else:
            r = {"size": list(s["size"]), "counts": s["counts"].encode() if isinstance(s["counts"], str) else s["counts"]}
        rl, cr = out.setdefault(a["image_id"], ([], []))
        rl.append(r)
        cr.append(int(a.get("iscrowd", 0)))
    _REAL_CACHE[key] = out
    return out
