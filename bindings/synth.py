"""Deterministic synthetic twins of COCO-2017 (A) and a Sama-COCO-like relabel of it (B).

The generator plans *units* -- small groups of A and B instances tied by one relation --
with numpy (``Generator(PCG64(seed))``), draws the outlines with the counter-based Numba
kernels of :mod:`cocodiff.engine.synth` and writes the JSON text of the annotations
straight from the columnar arrays (no per-vertex Python object).

Relations (``truth["relations"]``), with the kinds of unit (``truth["groups"]["kind"]``)
that make them:

``matched``
    one A instance -> one B instance of the same category (``matched``): polygons
    densified (midpoints inserted on ~45 % of the edges) and jittered by a fraction of a
    pixel, sometimes with a small detached extra ring; an A crowd -> a slightly perturbed
    B crowd (``crowd_matched``).
``split``
    one A whole -> >= 2 B parts of its category lying inside it: an A crowd -> individuals
    (``crowd_split``); an A crowd -> k >= 1 individuals (>= ~110 px, well inside it) plus,
    in ~60 % of the units, a smaller B crowd left for the balance (its ellipses shrunk,
    IoU with the A crowd < 0.5) (``crowd_decomposed``, Sama's headline change, the most
    common crowd change); an A "group" polygon -> individuals inside it (``group_split``);
    one A polygon -> 2-3 B polygons tiling it, pie slices around its centre cut at its
    vertices (densified, jittered), the largest holding 55-85 % of the area, each >= ~10 %
    (``dominant_split``).
``merged``
    >= 2 A parts of one category -> one B whole covering them: individuals -> a B crowd
    (list-counts RLE) (``merged_crowd``) or a B multi-polygon made of their (densified)
    outlines (``merged_poly``); 2-3 adjacent A polygons tiling a star (pie slices) -> the
    whole star, densified (``merged_adjacent``).
``class_changed``
    one A instance -> one B instance with the identical geometry, a category absent from
    the image (``class_changed``).
``removed``
    an A instance with no B counterpart (mostly very small ones: Sama drops tiny objects)
    (``removed``).
``added``
    a B polygon (``added``) or crowd (``added_crowd``) with no A counterpart.

The truth is unambiguous: units are placed so that no instance lies mostly inside (or
covers) a same-category instance of another unit of its image when either unit is not a
plain matched / class-changed one (a crowd, a split or merged whole, a removed or added
instance); such a unit is re-drawn elsewhere, and after a few tries given a category absent
from the image. (Two plain matched instances one inside the other may stay: each one's own
B counterpart explains it best.) Bounding boxes are used for the test.

Shape statistics targeted (COCO-2017 train vs Sama-COCO train, scaled from the published
train+val figures): ~7.3 vs ~9.0 instances per image; ~1.2 % vs ~4.3 % crowds; ~9.6 % vs
~15.7 % multi-polygon instances; ~25.6 vs ~39 vertices per polygon instance; size shares
(very small <= 10^2, small < 32^2, medium < 96^2, large) ~8.7/41/34/24 % vs ~4.3/50/32/18 %.
:func:`shape_stats` measures them on a COCO dict.

The generator, by job: :mod:`cocodiff._synth_plan` (the rates; images and units),
:mod:`cocodiff._synth_shapes` (stars, crowds, pie slices and their boxes),
:mod:`cocodiff._synth_place` (units moved apart), :mod:`cocodiff._synth_original` (set A),
:mod:`cocodiff._synth_relabel` (set B, by relabel operation), :mod:`cocodiff._synth_draw`
(the kernels' calls, columnar sets) and :mod:`cocodiff._synth_write` (JSON, zip, truth).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import orjson

from ._io import write_bytes_atomic
from ._synth_original import build_a
from ._synth_plan import (CATEGORIES, SCALES, UNIT_KINDS, USED_CAT_IDS, draw_class_changes,
                          draw_plan, n_images)
from ._synth_plan import FULL_IMAGES, UNUSED_CAT_IDS  # noqa: F401 -- public, not in __all__
from ._synth_relabel import build_b
from ._synth_write import coco_bytes, col_stats, truth_bytes, write_b_zip
from .conventions import size_masks
from .relations import RELATIONS

__all__ = ["generate", "write_pair", "shape_stats", "CATEGORIES", "USED_CAT_IDS",
           "RELATIONS", "UNIT_KINDS", "SCALES", "TARGETS", "GENERATOR_VERSION"]

log = logging.getLogger(__name__)

#: bumped whenever the output for a given (scale, seed) changes (invalidates caches)
GENERATOR_VERSION = 2

# Published shape statistics, train split (scaled from train+val), used by tests/CLI.
TARGETS = {
    "a": dict(per_image=7.27, crowd=0.0117, multi=0.096, vertices=25.6,
              very_small=0.087, small=0.414, medium=0.343, large=0.242),
    "b": dict(per_image=9.05, crowd=0.0425, multi=0.1575, vertices=39.0,
              very_small=0.0434, small=0.498, medium=0.318, large=0.185),
}


class _Build:
    """A twin, columnar: its plan (images, units), set A and set B with, per instance,
    its unit. The stages draw from one ``Generator(PCG64(seed))`` in a fixed order."""

    def __init__(self, scale="tiny", seed=0):
        t0 = time.perf_counter()
        self.scale = scale
        self.seed = int(seed)
        rng = np.random.Generator(np.random.PCG64(self.seed))
        # images; units: kinds, categories, part counts
        self.plan = draw_plan(rng, n_images(scale))
        # A: sizes, outlines, crowds, placement (re-categorises crowded units), drawing
        a = build_a(rng, self.plan)
        self.A, self.a_unit = a.cols, a.unit
        # class changes: to a category absent from the image
        draw_class_changes(rng, self.plan)
        # B: A relabelled, unit by unit (new parts, crowds, copies, slices), placement of
        # the added instances, drawing
        self.B, self.b_unit = build_b(rng, self.plan, a)
        log.info("synth %s seed=%d: %d images, %d A / %d B instances in %.2fs", scale,
                 self.seed, self.plan.n_img, self.A.n, self.B.n, time.perf_counter() - t0)

    def stats(self) -> dict:
        n_img = self.plan.n_img
        return {"a": col_stats(self.A, n_img), "b": col_stats(self.B, n_img)}


# ------------------------------------------------------------------- public API -------

def generate(scale: str | float = "tiny", seed: int = 0) -> tuple[dict, dict, dict]:
    """Generate a COCO-2017-like set A, a Sama-COCO-like relabel B of it, and the truth.

    Parameters
    ----------
    scale : {"tiny", "val", "full"} or float
        ``"tiny"`` (50 images), ``"val"`` (5,000), ``"full"`` (118,287, the train split) or
        a fraction of full in (0, 1].
    seed : int
        Seed of the ``numpy.random.Generator(PCG64(seed))``; same seed and scale give
        byte-identical output.

    Returns
    -------
    a, b : dict
        COCO instance dicts (``info``, ``licenses``, ``images``, ``annotations``,
        ``categories``: all 91 categories, 80 used).
    truth : dict
        ``relations`` (the 6 names); ``groups``: one row per relation group with
        ``relation``, ``kind`` (the kind of change, one of :data:`UNIT_KINDS`),
        ``image_id`` and the A / B ids of the group as ragged arrays
        (``a_ids[a_offsets[g]:a_offsets[g+1]]``, same for ``b``); ``a`` / ``b``: per
        instance ``id``, ``group`` and ``relation`` (each A and B id exactly once).

    Examples
    --------
    >>> from cocodiff.synth import generate
    >>> a, b, truth = generate("tiny", seed=0)
    >>> len(a["images"]), len(a["categories"])
    (50, 91)
    >>> sorted(set(truth["a"]["relation"]) | set(truth["b"]["relation"])) == sorted(RELATIONS)
    True
    """
    bd = _Build(scale, seed)
    a = orjson.loads(coco_bytes(bd, "a"))
    b = orjson.loads(coco_bytes(bd, "b"))
    truth = orjson.loads(truth_bytes(bd))
    return a, b, truth


def write_pair(out_dir: str | Path, scale: str | float = "tiny", seed: int = 0,
               b_parts: int = 1) -> dict:
    """Write ``a.json``, ``b.json`` (or ``b.zip`` of ``b_parts`` files) and ``truth.json``.

    With ``b_parts > 1`` B is split by images into that many complete COCO files (each
    with its images, their annotations and all categories), stored in ``b.zip`` as
    ``b_part00.json``, ``b_part01.json``, ... like Sama-COCO ships its relabel.

    Parameters
    ----------
    out_dir : str or Path
        Created if missing.
    scale, seed
        As in :func:`generate`.
    b_parts : int
        Number of B part files (1: a single ``b.json``).

    Returns
    -------
    dict
        ``{"a": Path, "b": Path, "truth": Path}`` plus ``"stats"`` (shape statistics of
        both sets) and ``"seconds"``.

    Examples
    --------
    >>> import tempfile
    >>> from cocodiff.synth import write_pair
    >>> paths = write_pair(tempfile.mkdtemp(), "tiny", seed=1)
    >>> sorted(k for k in paths if k in ("a", "b", "truth"))
    ['a', 'b', 'truth']
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    b_parts = int(b_parts)
    if b_parts < 1:
        raise ValueError(f"b_parts must be >= 1, got {b_parts}")
    bd = _Build(scale, seed)
    pa = out / "a.json"
    write_bytes_atomic(pa, coco_bytes(bd, "a"))
    if b_parts == 1:
        pb = out / "b.json"
        write_bytes_atomic(pb, coco_bytes(bd, "b"))
    else:
        pb = out / "b.zip"
        write_b_zip(bd, pb, b_parts)
    pt = out / "truth.json"
    write_bytes_atomic(pt, truth_bytes(bd))
    dt = time.perf_counter() - t0
    log.info("wrote synthetic pair to %s in %.1fs", out, dt)
    return {"a": pa, "b": pb, "truth": pt, "stats": bd.stats(), "seconds": dt}


def shape_stats(coco: dict) -> dict:
    """Shape statistics of a COCO instances dict, as in the published comparison.

    Returns a dict with ``images``, ``instances``, ``per_image``, and shares of all
    instances: ``crowd``, ``multi`` (more than one polygon), ``very_small`` (area <= 100),
    ``small`` (< 32^2, includes very small), ``medium``, ``large`` (>= 96^2); and
    ``vertices`` (mean vertices per polygon instance).

    Examples
    --------
    >>> a, b, _ = generate("tiny")
    >>> 0.0 < shape_stats(a)["crowd"] < shape_stats(b)["crowd"] < 1.0
    True
    """
    anns = coco["annotations"]
    n = max(len(anns), 1)
    area = np.array([a["area"] for a in anns], np.float64)
    crowd = np.array([a.get("iscrowd", 0) for a in anns], bool)
    multi = sum(1 for a in anns if isinstance(a["segmentation"], list)
                and len(a["segmentation"]) > 1)
    nv = sum(len(r) // 2 for a in anns if isinstance(a["segmentation"], list)
             for r in a["segmentation"])
    npoly = max(int((~crowd).sum()), 1)
    ni = max(len(coco["images"]), 1)
    return {"images": len(coco["images"]), "instances": len(anns),
            "per_image": len(anns) / ni, "crowd": float(crowd.sum() / n),
            "multi": multi / n, "vertices": nv / npoly,
            **{k: float(np.sum(m) / n) for k, m in size_masks(area).items()}}
