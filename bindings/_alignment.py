"""How the two inputs of a comparison line up: their images aligned by id (:class:`Alignment`),
the images that cannot be compared (:func:`image_report`, ``Comparison.images``) and what
identifies each input (:func:`comparison_meta`, ``Comparison.meta``)."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .dataset import Dataset

__all__ = ["Alignment", "image_report", "comparison_meta", "N_EXAMPLES"]

#: examples kept per list of the image report (image ids only in A / only in B, size mismatches)
N_EXAMPLES = 10


@dataclass(frozen=True)
class Alignment:
    """The images of both sides, as one sorted list of ids (``ids``), and per image: present in
    A / B (``in_a`` / ``in_b``), comparable (in both, same size), its instance rows in A
    (``a_lo:a_hi``) and B (``b_lo:b_hi``; empty where absent) and its size on each side
    (``ha, wa`` / ``hb, wb``; 0 where absent)."""

    ids: np.ndarray
    in_a: np.ndarray
    in_b: np.ndarray
    comparable: np.ndarray
    a_lo: np.ndarray
    a_hi: np.ndarray
    b_lo: np.ndarray
    b_hi: np.ndarray
    ha: np.ndarray
    wa: np.ndarray
    hb: np.ndarray
    wb: np.ndarray

    @classmethod
    def of(cls, A: Dataset, B: Dataset) -> Alignment:
        ids = np.union1d(A.image_id, B.image_id).astype(np.int64)
        ra = np.searchsorted(A.image_id, ids)
        rb = np.searchsorted(B.image_id, ids)
        in_a = (ra < A.n_images) & (A.image_id[np.minimum(ra, max(A.n_images - 1, 0))] == ids) if A.n_images else \
            np.zeros(ids.shape, bool)
        in_b = (rb < B.n_images) & (B.image_id[np.minimum(rb, max(B.n_images - 1, 0))] == ids) if B.n_images else \
            np.zeros(ids.shape, bool)
        sa = A.image_slices()
        sb = B.image_slices()
        a_lo = sa[ra]
        a_hi = np.where(in_a, sa[np.minimum(ra + 1, A.n_images)], a_lo)
        b_lo = sb[rb]
        b_hi = np.where(in_b, sb[np.minimum(rb + 1, B.n_images)], b_lo)
        size = []
        for ds, rows, present in ((A, ra, in_a), (B, rb, in_b)):
            h = np.zeros(ids.shape, np.int64)
            w = np.zeros(ids.shape, np.int64)
            h[present] = ds.height[rows[present]]
            w[present] = ds.width[rows[present]]
            size += [h, w]
        ha, wa, hb, wb = size
        same = in_a & in_b & (ha == hb) & (wa == wb)
        return cls(ids, in_a, in_b, same, a_lo.astype(np.int64), a_hi.astype(np.int64), b_lo.astype(np.int64),
                   b_hi.astype(np.int64), ha, wa, hb, wb)

    def rows(self, u0: int, u1: int) -> tuple[int, int, int, int]:
        """``(a0, a1, b0, b1)``: the A rows ``a0:a1`` and B rows ``b0:b1`` of the images ``u0:u1``."""
        a0, b0 = int(self.a_lo[u0]), int(self.b_lo[u0])
        a1 = int(self.a_hi[u1 - 1]) if u1 > u0 else a0
        b1 = int(self.b_hi[u1 - 1]) if u1 > u0 else b0
        return a0, max(a1, a0), b0, max(b1, b0)


def image_report(A: Dataset, B: Dataset, al: Alignment) -> dict:
    """``Comparison.images``: images only in A, only in B, and in both with different sizes
    (counts, and the first :data:`N_EXAMPLES` of each)."""
    ids = al.ids
    only_a = ids[al.in_a & ~al.in_b]
    only_b = ids[al.in_b & ~al.in_a]
    mism = al.in_a & al.in_b & ~al.comparable
    ex_m = [dict(image_id=int(i), a_size=[int(ha), int(wa)], b_size=[int(hb), int(wb)])
            for i, ha, wa, hb, wb in zip(ids[mism][:N_EXAMPLES], al.ha[mism], al.wa[mism], al.hb[mism], al.wb[mism])]
    return dict(a_images=int(A.n_images), b_images=int(B.n_images), common=int(al.comparable.sum()),
                only_a=int(only_a.size), only_a_examples=[int(x) for x in only_a[:N_EXAMPLES]],
                only_b=int(only_b.size), only_b_examples=[int(x) for x in only_b[:N_EXAMPLES]],
                size_mismatch=int(mism.sum()), size_mismatch_examples=ex_m)


def comparison_meta(A: Dataset, B: Dataset, candidate_pairs: int) -> dict:
    """``Comparison.meta``: the inputs (paths, sizes and times), instance and vertex totals, candidate
    pairs examined, category names."""
    return dict(a_path=_abs_input(A.path), b_path=_abs_input(B.path), inputs=_inputs_info(A.path, B.path),
                a_instances=A.n_instances, b_instances=B.n_instances,
                a_vertices=int(np.sum(A.n_points())), b_vertices=int(np.sum(B.n_points())),
                candidate_pairs=int(candidate_pairs),
                categories={int(c): str(nm) for c, nm in zip(list(A.cat_id) + list(B.cat_id),
                                                            list(A.cat_name) + list(B.cat_name))})


def _abs_input(path) -> str:
    """An input's absolute path when it is one file or folder on disk (so that ``report --from`` and
    ``export`` find it from any working directory), else its label as given."""
    p = str(path)
    return os.path.abspath(p) if os.path.exists(p) else p


def _inputs_info(a_path, b_path) -> dict:
    """Size and modification time of each input (when it is a file or folder on disk), for readers of
    the output to tell whether an input changed since."""
    out = {}
    for side, p in (("a", str(a_path)), ("b", str(b_path))):
        try:
            st = os.stat(p)
            out[side] = dict(size=int(st.st_size), mtime_ns=int(st.st_mtime_ns))
        except OSError:
            out[side] = None
    return out
