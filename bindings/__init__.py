"""cocodiff -- compare two COCO-format instance annotation sets, fast and pycocotools-exact.

Quick start::

    import cocodiff
    a = cocodiff.load("instances_val2017.json")
    b = cocodiff.load("sama_coco_val.zip")
    table = cocodiff.stats(a, b)      # plain dict: the Sama-COCO rows for A and B

``from cocodiff import mask as maskUtils`` is a drop-in for ``pycocotools.mask``.
"""
from __future__ import annotations

import importlib


def _version() -> str:
    """The installed distribution's version (``importlib.metadata``); ``0+unknown`` when cocodiff
    is imported without being installed (a bare source tree on ``sys.path``)."""
    from importlib.metadata import PackageNotFoundError, version   # lazy: only the version needs it
    try:
        return version("cocodiff")
    except PackageNotFoundError:
        return "0+unknown"


# Lazy attributes: importing cocodiff stays cheap (no Numba compile, no pyarrow import).
_LAZY = {
    "load": ("cocodiff.loader", "load"),
    "Dataset": ("cocodiff.dataset", "Dataset"),
    "InputError": ("cocodiff.errors", "InputError"),
    "stats": ("cocodiff.statistics", "stats"),
    "geometry": ("cocodiff.geometry", None),
    "compare": ("cocodiff.api", "compare"),
    "score": ("cocodiff.score", "score"),
    "evaluate": ("cocodiff.evaluation", "evaluate"),
    "mask": ("cocodiff.mask", None),
}

__all__ = list(_LAZY) + ["__version__"]


def __getattr__(name):
    if name == "__version__":
        globals()[name] = value = _version()
        return value
    try:
        mod_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'cocodiff' has no attribute {name!r}") from None
    mod = importlib.import_module(mod_name)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value
