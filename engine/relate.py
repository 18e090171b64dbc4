"""Array kernels for relating two instance sets image by image.

Instances of each side are numbered locally (``0..n-1``) in (image, category, id) order,
so every image -- and every (image, category) group -- is a contiguous slice. Image ``u``
of a batch owns A instances ``a_lo[u]:a_hi[u]`` and B instances ``b_lo[u]:b_hi[u]``.
"""
from __future__ import annotations

import numpy as np

from .facts import mask_summary
from ._intrinsics import ptr as _ptr
from .iou import _c_loop, _inter_clipped
from ._jit import serial

__all__ = ["measures_range", "rle_extents", "candidate_pairs", "run_starts"]


@serial
def rle_extents(counts, offsets, h):
    """Pixel extent of every RLE mask: int64 (n, 4) ``x0, y0, x1, y1`` (x1, y1 exclusive).

    An empty mask gets ``0, 0, 0, 0``. ``h`` is the mask height per mask (int64 array).
    The pycocotools bbox is ``[x0, y0, x1 - x0, y1 - y0]``.

    Examples
    --------
    >>> import numpy as np
    >>> rle_extents(np.array([5, 2, 9], np.uint32), np.array([0, 3]), np.array([4])).tolist()
    [[1, 1, 2, 3]]
    """
    return mask_summary(counts, offsets, h)[8]


@serial
def candidate_pairs(a_lo, a_hi, b_lo, b_hi, comparable, ext_a, ext_b):
    """All (a, b) pairs of one image whose mask extents overlap with positive area.

    Parameters
    ----------
    a_lo, a_hi, b_lo, b_hi : int64 (n_images) -- instance slices of every image.
    comparable : bool (n_images) -- False: the image yields no pair.
    ext_a, ext_b : int64 (n, 4) -- :func:`rle_extents` of each side.

    Returns
    -------
    pa, pb : int64 (n_pairs) -- sorted by ``pa`` then ``pb``.

    Examples
    --------
    >>> import numpy as np
    >>> e = np.array([[0, 0, 2, 2]])
    >>> pa, pb = candidate_pairs(np.array([0]), np.array([1]), np.array([0]), np.array([1]),
    ...                          np.array([True]), e, e)
    >>> pa.tolist(), pb.tolist()
    ([0], [0])
    """
    n_img = a_lo.shape[0]
    total = 0
    for pas in range(2):
        if pas == 1:
            pa = np.empty(total, np.int64)
            pb = np.empty(total, np.int64)
        k = 0
        for u in range(n_img):
            if not comparable[u]:
                continue
            for a in range(a_lo[u], a_hi[u]):
                ax0 = ext_a[a, 0]
                ay0 = ext_a[a, 1]
                ax1 = ext_a[a, 2]
                ay1 = ext_a[a, 3]
                if ax1 <= ax0:
                    continue
                for b in range(b_lo[u], b_hi[u]):
                    if max(ax0, ext_b[b, 0]) < min(ax1, ext_b[b, 2]) and \
                            max(ay0, ext_b[b, 1]) < min(ay1, ext_b[b, 3]):
                        if pas == 1:
                            pa[k] = a
                            pb[k] = b
                        k += 1
        total = k
    return pa, pb


@serial
def run_starts(key1, key2):
    """For rows sorted by (key1, key2): index of the first row of each row's run of equal keys.

    Examples
    --------
    >>> import numpy as np
    >>> run_starts(np.array([1, 1, 1, 2]), np.array([5, 5, 6, 6])).tolist()
    [0, 0, 2, 3]
    """
    n = key1.shape[0]
    out = np.empty(n, np.int64)
    for i in range(n):
        if i > 0 and key1[i] == key1[i - 1] and key2[i] == key2[i - 1]:
            out[i] = out[i - 1]
        else:
            out[i] = i
    return out


# --------------------------------------------------------------------------- per-pair measures
@serial
def measures_range(counts, offsets, pa, pb, crowd, area, first, last, z, ylo, yhi, pos, inter, iou,
                    iou_plain, lo, hi):
    """:func:`cocodiff.measures.pair_measures` of pairs ``lo..hi-1`` into ``inter``, ``iou``,
    ``iou_plain``; the per-mask arrays are :func:`cocodiff.engine.facts.facts_range`'s (``z`` =
    ``inner_zero``). One chunk of a split."""
    cp = _ptr(counts)   # pointers into the per-pair helpers: no reference counting per pair
    pp = _ptr(pos)
    for k in range(lo, hi):
        a = pa[k]
        b = pb[k]
        if first[a] >= last[b] or first[b] >= last[a] or ylo[a] > yhi[b] or ylo[b] > yhi[a]:
            i = np.int64(0)
        elif a == b:
            i = area[a]
        else:
            i = _inter_clipped(cp, pp, offsets[a], offsets[a + 1], cp, pp, offsets[b],
                               offsets[b + 1], max(first[a], first[b]), min(last[a], last[b]))
        inter[k] = i
        if i > 0:
            iou_plain[k] = np.float64(i) / np.float64(area[a] + area[b] - i)
        else:
            iou_plain[k] = 0.0
        if z[a] != 0 or z[b] != 0:
            # pycocotools' loop stops early on some zero-length runs: replay it (dt = b, gt = a)
            ic, uc = _c_loop(cp, offsets[b], offsets[b + 1], cp, offsets[a], offsets[a + 1])
            if ic == 0 or area[a] == 0 or area[b] == 0:
                iou[k] = 0.0
            else:
                iou[k] = np.float64(ic) / np.float64(area[b] if crowd[k] else uc)
        elif i == 0:
            iou[k] = 0.0
        elif crowd[k]:
            iou[k] = np.float64(i) / np.float64(area[b])
        else:
            iou[k] = iou_plain[k]
