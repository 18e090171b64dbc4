"""The columnar dataset every stage shares.

A :class:`Dataset` is what :func:`cocodiff.load` returns. No per-vertex (or per-annotation)
Python object survives loading: everything is a numpy array.

Layout
------
images (sorted by ``image_id``; an image's row is found by ``np.searchsorted``)
    ``image_id`` int64, ``width`` int32, ``height`` int32, ``file_name`` object array of str.
categories (sorted by ``cat_id``)
    ``cat_id`` int64, ``cat_name`` / ``cat_supercategory`` object arrays of str.
instances, ``n`` rows, sorted by (image_id, category_id, ann_id): every image's
instances -- and every (image, class) group -- is a contiguous slice.
    ``ann_id`` int64, ``image_id`` int64, ``category_id`` int64, ``iscrowd`` uint8,
    ``area`` float64 (the file's field; NaN where absent), ``bbox`` float64 (n, 4) as
    x, y, w, h (NaN where absent), ``score`` float64 (NaN where absent),
    ``kind`` int8 (:data:`KIND_POLYGON`, :data:`KIND_RLE_LIST`, :data:`KIND_RLE_STRING`),
    ``source`` int16 index into ``sources`` (which file of a multi-file input it came from),
    ``img_row`` int64: the instance's row in the images arrays.
polygon geometry, ragged (GeoArrow / ``shapely.to_ragged_array`` style)
    ``xy`` float64 (n_points, 2); ``ring_offsets`` int64 (n_rings + 1) into ``xy``;
    ``inst_ring_offsets`` int64 (n + 1) into rings. Instance ``i``'s rings are
    ``ring_offsets[inst_ring_offsets[i]:inst_ring_offsets[i+1]+1]``; RLE instances own no rings.
    Offsets start at 0, never decrease and end at the length of what they index.
RLE geometry (inputs given as RLE)
    ``counts`` uint32 flat (compressed strings already decoded to counts);
    ``counts_offsets`` int64 (n + 1); ``rle_h``, ``rle_w`` int32 per instance (0 for polygons).
    Polygon instances own no counts.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import Warnings

__all__ = ["Dataset", "KIND_POLYGON", "KIND_RLE_LIST", "KIND_RLE_STRING"]

KIND_POLYGON = 0
KIND_RLE_LIST = 1     # uncompressed RLE: {"size": [h, w], "counts": [int, ...]}
KIND_RLE_STRING = 2   # compressed RLE: {"size": [h, w], "counts": "..."}


@dataclass
class Dataset:
    """A COCO instances file in columnar form. See the module docstring for the layout."""

    path: str
    sources: list
    # images
    image_id: np.ndarray
    width: np.ndarray
    height: np.ndarray
    file_name: np.ndarray
    # categories
    cat_id: np.ndarray
    cat_name: np.ndarray
    cat_supercategory: np.ndarray
    # instances
    ann_id: np.ndarray
    inst_image_id: np.ndarray
    category_id: np.ndarray
    iscrowd: np.ndarray
    area: np.ndarray
    bbox: np.ndarray
    score: np.ndarray
    kind: np.ndarray
    source: np.ndarray
    img_row: np.ndarray
    # polygons
    xy: np.ndarray
    ring_offsets: np.ndarray
    inst_ring_offsets: np.ndarray
    # RLE inputs
    counts: np.ndarray
    counts_offsets: np.ndarray
    rle_h: np.ndarray
    rle_w: np.ndarray
    warnings: Warnings = field(default_factory=Warnings)

    @property
    def n_instances(self) -> int:
        return int(self.ann_id.shape[0])

    @property
    def n_images(self) -> int:
        return int(self.image_id.shape[0])

    def inst_h(self) -> np.ndarray:
        """Mask height of every instance (its image's height)."""
        return self.height[self.img_row].astype(np.int64)

    def inst_w(self) -> np.ndarray:
        """Mask width of every instance (its image's width)."""
        return self.width[self.img_row].astype(np.int64)

    def n_rings(self) -> np.ndarray:
        """Number of polygon rings of every instance (0 for RLE instances)."""
        return np.diff(self.inst_ring_offsets)

    def n_points(self) -> np.ndarray:
        """Number of stored polygon points of every instance (0 for RLE instances)."""
        ro = self.ring_offsets
        iro = self.inst_ring_offsets
        return ro[iro[1:]] - ro[iro[:-1]]

    def image_slices(self) -> np.ndarray:
        """(n_images + 1) offsets: image row r's instances are ``[off[r], off[r+1])``."""
        return np.searchsorted(self.img_row, np.arange(self.n_images + 1), side="left").astype(np.int64)

    def __repr__(self) -> str:
        return (f"Dataset({self.path!r}: {self.n_images} images, {len(self.cat_id)} categories, "
                f"{self.n_instances} instances, {len(self.xy)} polygon points)")
