"""Array kernels for relating two instance sets image by image.

Instances of each side are numbered locally (``0..n-1``) in (image, category, id) order,
so every image -- and every (image, category) group -- is a contiguous slice. Image ``u``
of a batch owns A instances ``a_lo[u]:a_hi[u]`` and B instances ``b_lo[u]:b_hi[u]``.
"""
from __future__ import annotations

import numpy as np

from ._jit import parallel, prange, serial
from .boundary import _extent

__all__ = ["rle_extents", "rle_extents_parallel", "candidate_pairs", "run_starts", "best_cover"]


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
    n = offsets.shape[0] - 1
    out = np.zeros((n, 4), np.int64)
    for i in range(n):
        x0, x1, y0, y1 = _extent(counts, offsets[i], offsets[i + 1], h[i])
        if x0 >= 0:
            out[i, 0] = x0
            out[i, 1] = y0
            out[i, 2] = x1 + 1
            out[i, 3] = y1 + 1
    return out


@parallel
def rle_extents_parallel(counts, offsets, h):
    """Multi-threaded :func:`rle_extents` (identical output)."""
    n = offsets.shape[0] - 1
    out = np.zeros((n, 4), np.int64)
    for i in prange(n):
        x0, x1, y0, y1 = _extent(counts, offsets[i], offsets[i + 1], h[i])
        if x0 >= 0:
            out[i, 0] = x0
            out[i, 1] = y0
            out[i, 2] = x1 + 1
            out[i, 3] = y1 + 1
    return out


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


@serial
def best_cover(owner, part, inter, eligible, n_owner, n_part):
    """Give every part to the eligible owner it shares most pixels with (ties: lower owner).

    Parameters
    ----------
    owner, part : int64 (n_pairs) -- e.g. (crowd A, part B) for a split.
    inter : int64 (n_pairs) -- intersections.
    eligible : bool (n_pairs)
    n_owner, n_part : sizes of the index spaces.

    Returns
    -------
    chosen : int64 (n_part) -- the pair index that won each part, -1 if none.
    n_parts : int64 (n_owner) -- how many parts every owner won.

    Examples
    --------
    >>> import numpy as np
    >>> ch, n = best_cover(np.array([0, 1]), np.array([0, 0]), np.array([5, 9]),
    ...                    np.array([True, True]), 2, 1)
    >>> ch.tolist(), n.tolist()
    ([1], [0, 1])
    """
    chosen = np.full(n_part, -1, np.int64)
    for p in range(owner.shape[0]):
        if not eligible[p]:
            continue
        q = part[p]
        c = chosen[q]
        if c == -1 or inter[p] > inter[c] or (inter[p] == inter[c] and owner[p] < owner[c]):
            chosen[q] = p
    n_parts = np.zeros(n_owner, np.int64)
    for q in range(n_part):
        if chosen[q] >= 0:
            n_parts[owner[chosen[q]]] += 1
    return chosen, n_parts
