"""Array kernels for relating two instance sets image by image.

Instances of each side are numbered locally (``0..n-1``) in (image, category, id) order,
so every image -- and every (image, category) group -- is a contiguous slice. Image ``u``
of a batch owns A instances ``a_lo[u]:a_hi[u]`` and B instances ``b_lo[u]:b_hi[u]``.
"""
from __future__ import annotations

import numpy as np

from .chunks import mask_cost_bounds, pair_cost_bounds
from .facts import facts_outputs, facts_range, mask_summary
from ._intrinsics import ptr as _ptr
from .iou import _c_loop, _inter_clipped
from ._jit import parallel, prange, serial

__all__ = ["measures_range", "rle_extents", "candidate_pairs", "run_starts", "mask_facts",
           "pair_measures"]


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


# --------------------------------------------------------------------------- fused per-mask / per-pair passes
def _mask_facts(counts, offsets, h, pos):
    """Body of :func:`mask_facts` (serial / ``prange`` twins)."""
    area, total, ext, first, last, inner_zero, ylo, yhi = facts_outputs(offsets.shape[0] - 1)
    if pos.shape[0] < counts.shape[0]:
        pos = np.empty(counts.shape[0], pos.dtype)
    bounds = mask_cost_bounds(offsets, 64)
    for c in prange(bounds.shape[0] - 1):
        facts_range(counts, offsets, h, bounds[c], bounds[c + 1], area, total, ext, first, last, inner_zero,
                    ylo, yhi, pos)
    return area, ext, (first, last, inner_zero, ylo, yhi, pos)


_mask_facts_serial = serial(_mask_facts)
_mask_facts_parallel = parallel(_mask_facts)


def mask_facts(counts, offsets, h, parallel=False, pos=None):
    """Everything later passes need about every RLE mask of one store, in one pass over the runs.

    Parameters
    ----------
    counts : uint32 flat RLE counts; offsets : int64 (n + 1); h : int64 (n) mask heights.
    parallel : bool -- ``prange`` twin (compiled per process, not cached).
    pos : int64 scratch or None -- reused for the run starts when long enough (saves page
        faults when called batch after batch).

    Returns
    -------
    area : int64 (n) -- foreground pixels.
    ext : int64 (n, 4) -- :func:`rle_extents` (``x0, y0, x1, y1``, exclusive ends; zeros when empty).
    facts : tuple ``(first, last, inner_zero, ylo, yhi, pos)`` for :func:`pair_measures`:
        first / last foreground position (exclusive end), 1 where a zero-length run follows
        the first count, foreground row range, and the start position of every run.

    Examples
    --------
    >>> import numpy as np
    >>> area, ext, facts = mask_facts(np.array([5, 2, 9], np.uint32), np.array([0, 3]), np.array([4]))
    >>> area.tolist(), ext.tolist()
    ([2], [[1, 1, 2, 3]])
    """
    return (_mask_facts_parallel if parallel else _mask_facts_serial)(
        np.ascontiguousarray(counts, dtype=np.uint32), np.ascontiguousarray(offsets, dtype=np.int64),
        np.ascontiguousarray(h, dtype=np.int64), np.zeros(0, np.int64) if pos is None else pos)


@serial
def measures_range(counts, offsets, pa, pb, crowd, area, first, last, z, ylo, yhi, pos, inter, iou,
                    iou_plain, lo, hi):
    """:func:`pair_measures` of pairs ``lo..hi-1`` into ``inter``, ``iou``, ``iou_plain``; the
    per-mask arrays are :func:`mask_facts`' (``z`` = ``inner_zero``). One chunk of a split."""
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


def _pair_measures(counts, offsets, pa, pb, crowd, area, facts):
    """Body of :func:`pair_measures` (serial / ``prange`` twins)."""
    first, last, z, ylo, yhi, pos = facts
    k = pa.shape[0]
    inter = np.empty(k, np.int64)
    iou = np.empty(k, np.float64)
    iou_plain = np.empty(k, np.float64)
    bounds = pair_cost_bounds(offsets, pa, pb, 256)
    for c in prange(bounds.shape[0] - 1):
        measures_range(counts, offsets, pa, pb, crowd, area, first, last, z, ylo, yhi, pos, inter, iou,
                        iou_plain, bounds[c], bounds[c + 1])
    return inter, iou, iou_plain


_pair_measures_serial = serial(_pair_measures)
_pair_measures_parallel = parallel(_pair_measures)


def pair_measures(counts, offsets, pa, pb, crowd, area, facts, parallel=False):
    """Intersection and both IoUs of mask pairs of one store (A = ``pa[k]``, B = ``pb[k]``).

    Parameters
    ----------
    counts, offsets : the RLE store; pa, pb : int64 (k) mask indices (same mask size).
    crowd : bool / uint8 (k) -- A's iscrowd flag of each pair.
    area, facts : from :func:`mask_facts` of that store.
    parallel : bool -- ``prange`` twin (compiled per process, not cached).

    Returns
    -------
    inter : int64 (k) -- true shared pixels.
    iou : float64 (k) -- pycocotools' ``maskUtils.iou([b], [a], [crowd])`` exactly, including
        its early stop on RLEs with zero-length runs after the first count.
    iou_plain : float64 (k) -- ``inter / (area_a + area_b - inter)`` (0 when ``inter`` is 0).

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([1, 2, 3, 2, 4], np.uint32); o = np.array([0, 3, 5], np.int64)
    >>> area, ext, facts = mask_facts(c, o, np.array([6, 6]))
    >>> inter, iou, plain = pair_measures(c, o, np.array([1]), np.array([0]), np.array([True]), area, facts)
    >>> inter.tolist(), iou.tolist(), plain.tolist()
    ([1], [0.5], [0.2])
    """
    return (_pair_measures_parallel if parallel else _pair_measures_serial)(
        counts, offsets, np.ascontiguousarray(pa, dtype=np.int64), np.ascontiguousarray(pb, dtype=np.int64),
        np.ascontiguousarray(crowd, dtype=np.uint8), area, facts)

