"""RLE merge (union / intersection), bit-identical to pycocotools' ``rleMerge``.

pycocotools merges ``n`` RLEs left to right: ``acc = R[0]``; ``acc = merge2(acc, R[i])`` for
``i = 1..n-1``. The two-input walk keeps one current run per input, consumes the shorter,
and emits the accumulated length whenever the output value flips or both inputs end. This
produces a specific run layout (e.g. a leading zero-length run when pixel 0 is set, and
zero-length input runs are absorbed the way the C loop absorbs them), which the port
below reproduces exactly by following the same loop.

All RLEs are assumed to cover the same ``h * w`` pixels (pycocotools checks ``h``/``w``;
here the caller does). Counts whose sums differ are malformed: the walk is capped so it
cannot loop forever (pycocotools' would), and the result is then unspecified.

Quirk kept on purpose: with zero-length runs *inside* the inputs, pycocotools' walk can
stop before the end (``[0, 0, 6]`` with ``[0, 0, 0, 6]`` gives ``[0]``); the port does the
same. Canonical RLEs (as ``encode`` / ``frPyObjects`` of polygons produce) never do this.
"""
from __future__ import annotations

import numpy as np

from ._jit import serial

__all__ = ["rle_merge", "rle_merge2_into"]


@serial
def rle_merge2_into(a, na, b, nb, out, intersect):
    """Merge two RLEs ``a[:na]`` and ``b[:nb]`` into ``out``; return the output length.

    A line-by-line port of one iteration of pycocotools' ``rleMerge`` loop.
    ``out`` must hold at least ``na + nb`` entries (the loop emits at most one run per
    step, and every step consumes a run of ``a`` or ``b``).

    Parameters
    ----------
    a, b : uint32[:]
        RLE counts (first run is background) over the same number of pixels.
    na, nb : int
        Number of runs to use from ``a`` and ``b``.
    out : uint32[:]
        Output buffer (``len(out) >= na + nb``); ``out`` may not alias ``a`` or ``b``.
    intersect : bool
        ``True`` for intersection, ``False`` for union.

    Returns
    -------
    int
        Number of runs written to ``out``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([1, 2, 1], np.uint32); b = np.array([2, 2], np.uint32)
    >>> out = np.empty(5, np.uint32)
    >>> m = rle_merge2_into(a, 3, b, 2, out, False); out[:m].tolist()
    [1, 3]
    """
    ca = np.int64(a[0]) if na > 0 else np.int64(0)
    cb = np.int64(b[0]) if nb > 0 else np.int64(0)
    va = False
    vb = False
    v = False
    m = 0
    ia = 1
    ib = 1
    cc = np.int64(0)
    ct = np.int64(1)
    steps = 0
    max_steps = na + nb + 2
    while ct > 0:
        c = ca if ca < cb else cb
        cc += c
        ct = 0
        ca -= c
        if ca == 0 and ia < na:
            ca = np.int64(a[ia])
            ia += 1
            va = not va
        ct += ca
        cb -= c
        if cb == 0 and ib < nb:
            cb = np.int64(b[ib])
            ib += 1
            vb = not vb
        ct += cb
        vp = v
        if intersect:
            v = va and vb
        else:
            v = va or vb
        if v != vp or ct == 0:
            out[m] = np.uint32(cc)
            m += 1
            cc = 0
        steps += 1
        if steps > max_steps:  # malformed input (different totals): stop, do not hang
            break
    return m


@serial
def rle_merge(counts, offsets, intersect):
    """Merge ``n`` RLEs exactly as ``pycocotools.mask.merge(rles, intersect)``.

    Parameters
    ----------
    counts : uint32[:]
        Concatenated RLE counts; RLE ``i`` is ``counts[offsets[i]:offsets[i+1]]``.
    offsets : int64[:]
        ``n + 1`` offsets into ``counts``. All RLEs cover the same ``h * w`` pixels.
    intersect : bool
        ``True``: intersection; ``False``: union.

    Returns
    -------
    uint32[:]
        The merged counts (``n == 1``: a copy of the single input; ``n == 0``: empty,
        as pycocotools' ``rleMerge`` returns an empty RLE).

    Examples
    --------
    >>> import numpy as np
    >>> counts = np.array([1, 2, 1, 2, 2], np.uint32)
    >>> offsets = np.array([0, 3, 5], np.int64)
    >>> rle_merge(counts, offsets, False).tolist()
    [1, 3]
    >>> rle_merge(counts, offsets, True).tolist()
    [2, 1, 1]
    """
    n = offsets.shape[0] - 1
    if n <= 0:
        return np.empty(0, np.uint32)
    if n == 1:
        return counts[offsets[0]:offsets[1]].copy()
    total = offsets[n] - offsets[0]
    acc = np.empty(total, np.uint32)
    tmp = np.empty(total, np.uint32)
    m = offsets[1] - offsets[0]
    acc[:m] = counts[offsets[0]:offsets[1]]
    for i in range(1, n):
        b = counts[offsets[i]:offsets[i + 1]]
        m = rle_merge2_into(acc, m, b, b.shape[0], tmp, intersect)
        acc, tmp = tmp, acc
    return acc[:m].copy()
