"""Errors and counted warnings for bad input.

Every problem with an input file is reported as one line naming the file, the annotation
(or image / category) id and the field, e.g.::

    cocodiff: error: instances.json: annotation 1234: field 'segmentation': polygon has 2 points (need >= 3)

The CLI prints ``str(err)`` and exits with status 2; no traceback.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["InputError", "Warnings"]


class InputError(ValueError):
    """Bad input: a file that cannot be read or an annotation that breaks the format.

    Attributes
    ----------
    path : str | None       the file
    ann_id : object | None  the annotation id (or None when the problem is not one annotation's)
    field : str | None      the JSON field, e.g. ``"segmentation"`` or ``"images[3].width"``
    reason : str            what is wrong
    kind : str              ``"annotation"``, ``"image"``, ``"category"`` or ``""`` -- what ``ann_id`` names
    """

    def __init__(self, reason: str, path: str | None = None, ann_id=None, field: str | None = None,
                 kind: str = "annotation"):
        self.reason = reason
        self.path = path
        self.ann_id = ann_id
        self.field = field
        self.kind = kind
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.path is not None:
            parts.append(str(self.path))
        if self.ann_id is not None:
            parts.append(f"{self.kind or 'annotation'} {self.ann_id}")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        parts.append(self.reason)
        return ": ".join(parts)


@dataclass
class Warnings:
    """Counted warnings under a documented policy (e.g. degenerate polygons kept as-is).

    ``counts[code]`` is how many times ``code`` happened; ``examples[code]`` keeps the first
    few messages so a user can look them up.
    """

    counts: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)
    max_examples: int = 5

    def add(self, code: str, message: str, n: int = 1) -> None:
        self.counts[code] += n
        ex = self.examples.setdefault(code, [])
        if len(ex) < self.max_examples:
            ex.append(message)

    def merge(self, other: Warnings) -> None:
        for code, n in other.counts.items():
            self.counts[code] += n
            ex = self.examples.setdefault(code, [])
            for m in other.examples.get(code, []):
                if len(ex) < self.max_examples:
                    ex.append(m)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def summary(self) -> list[str]:
        return [f"{code}: {n} (e.g. {self.examples[code][0]})" for code, n in sorted(self.counts.items())]
