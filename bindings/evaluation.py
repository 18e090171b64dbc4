"""COCO detection evaluation (AP / AR), identical to pycocotools' ``COCOeval``, against one ground
truth or several at once.

::

    import cocodiff
    ev = cocodiff.evaluate("detections.json", "instances_val2017.json", iou_type="segm")
    ev.stats            # COCOeval.stats: the twelve summary numbers
    ev.precision        # COCOeval.eval["precision"], (T, R, K, A, M)

    a, b = evaluate_many("detections.json", ["instances_val2017.json", "sama_coco_val.zip"])
    ex = explain("detections.json", "instances_val2017.json", "sama_coco_val.zip")
    ex.flips            # detections whose status changed, by the kind of change of the instance hit
    ex.what_if          # the twelve numbers on A with one kind of change applied

Rules (those of pycocotools 2.0.x ``COCOeval`` with its default ``Params``, read from its source
and written anew here):

* images and categories: all of the ground truth's (sorted ids); a result whose ``image_id`` or
  ``category_id`` the ground truth does not define is an :class:`~cocodiff.errors.InputError`;
* results as ``COCO.loadRes`` reads them: ids 1..n in file order; when the *first* result has a
  ``bbox``, every result's ``area`` is ``w * h`` of its box (a result with only a box gets the box
  polygon as its segmentation), else the pixel count of its mask and its box the mask's box;
* per (image, category): the detections sorted by score with a stable sort (ties keep file
  order), the first 100 kept; IoU by ``maskUtils.iou`` (masks, ``segm``) or its box IoU
  (``bbox``), a crowd's union being the detection's area;
* crowds are ignore regions; a ground truth outside an area range (its file ``area`` field:
  all, small < 32², medium, large > 96²) is ignored in that range, and so is an unmatched
  detection whose area is outside it;
* greedy matching per IoU threshold (``np.linspace(.5, 0.95, 10)``), then per category, area
  range and ``maxDets`` (1, 10, 100) the precision at the 101 recall points and the recall;
  ``-1`` where a category has no ground truth that counts; ``stats`` are the means over the
  entries above -1.

The masks of the detections are rasterised once and reused for every ground truth
(:func:`evaluate_many`); the ground truths' masks are rasterised only where a detection of the
same image and category exists. The precision / recall / scores arrays equal pycocotools' bit
for bit (tests/test_evaluate.py), with one difference in principle: the ground truths of one
image and category are visited in annotation-id order, where pycocotools visits them in file
order -- the same thing for files written in id order within an image and category (every COCO
file in data/ is), and a difference only when two ground truths tie exactly on their IoU with
a detection.

Why the numbers moved (:func:`explain`, ``cocodiff eval ... --explain``): with two ground truths
every evaluated detection gets its status at IoU 0.50 (area all, maxDets 100) under each -- TP,
FP, or ignored (matched to a crowd) -- and its TP share over the ten thresholds; a detection
whose status changed is put down to the kind of change (:func:`cocodiff.compare`'s relations:
``crowd_decomposed``, ``split``, ``merged``, ``class_changed``, ``removed``, ``added``,
``redrawn``) of the instance it hit under A, else under B. The counts (per kind and status pair,
and per class) add up to the detections evaluated. ``what_if``: the twelve numbers on A with only
one kind of change applied (A's instances in relation rows of that kind replaced by B's, added
after A's in each image and category); all kinds applied give B.

Where it lives: :mod:`cocodiff._eval_detections` prepares the results, :mod:`cocodiff._cocoeval`
is COCOeval (parameters, matching, accumulation, the twelve numbers, :func:`evaluate_many`),
:mod:`cocodiff._eval_explain` compares two ground truths (:func:`explain`) and
:mod:`cocodiff._eval_format` writes the text tables; this module is their public face.
"""
from __future__ import annotations

# default_params, summarize and STATUS_NAMES: public names of this module too, outside __all__
from ._cocoeval import (
    STAT_NAMES,
    Evaluation,
    default_params,  # noqa: F401
    evaluate,
    evaluate_many,
    summarize,  # noqa: F401
)
from ._eval_detections import IOU_TYPES, Detections
from ._eval_explain import (
    CHANGE_KINDS,
    STATUS_NAMES,  # noqa: F401
    Explanation,
    explain,
)
from ._eval_format import format_explanation, format_per_class, format_stats

__all__ = [
    "CHANGE_KINDS",
    "IOU_TYPES",
    "STAT_NAMES",
    "Detections",
    "Evaluation",
    "Explanation",
    "evaluate",
    "evaluate_many",
    "explain",
    "format_explanation",
    "format_per_class",
    "format_stats",
]
