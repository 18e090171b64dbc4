"""One JSON number through the engine's converter (:func:`cocodiff.engine.numparse.num`), for the
tests that compare it with Python's ``float``."""
from __future__ import annotations

import numba
import numpy as np

from cocodiff.engine._intrinsics import ptr
from cocodiff.engine.numparse import NUM_EXACT, num


@numba.njit(cache=False)
def _num_at(data, end):
    return num(ptr(data), 0, end)


def parse_float(text: bytes) -> float | None:
    """``text`` as the converter reads it: the exact double, or None when it would defer the
    number to Python's ``float`` (or ``text`` is not exactly one JSON number)."""
    buf = np.frombuffer(text + b"\0" * 24, np.uint8)
    v, q, code = _num_at(buf, len(text))
    if code != NUM_EXACT or q != len(text):
        return None
    return float(v)
