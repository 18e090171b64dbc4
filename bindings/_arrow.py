"""numpy -> pyarrow arrays without pyarrow's pandas check.

``pyarrow.array`` asks on its first call whether its input is a pandas object, and to answer
it imports pandas when pandas is installed: ~0.4-0.6 s of every ``cocodiff compare`` process
(pandas comes with the ``dask`` extra and most data environments), for a table that never sees
pandas. These helpers build the same arrays from their buffers (zero-copy for numbers, as
``pyarrow.array`` of a numpy array is).

Examples
--------
>>> import numpy as np
>>> array(np.array([1, 2, 3]), mask=np.array([False, True, False])).to_pylist()
[1, None, 3]
>>> array(np.array([True, False])).to_pylist(), strings(["a", "bc"]).to_pylist()
([True, False], ['a', 'bc'])
>>> to_numpy(array(np.array([1, 2, 3]), mask=np.array([False, True, False])))
array([ 1., nan,  3.])
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["array", "strings", "to_numpy"]


def _bits(b: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.packbits(b, bitorder="little"))


def array(v: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """``pyarrow.array(v, mask=mask)`` for a 1-d numpy array of numbers or bools: ``mask`` True
    marks a null (None or no True: no validity buffer).

    Examples
    --------
    >>> array(np.array([0.5, 1.0])).type
    DataType(double)
    """
    v = np.ascontiguousarray(v)
    if v.ndim != 1:
        raise ValueError("array() takes 1-d arrays")
    n = v.shape[0]
    validity, nulls = None, 0
    if mask is not None:
        mask = np.asarray(mask, bool)
        if mask.shape != v.shape:
            raise ValueError("mask and values differ in shape")
        nulls = int(np.count_nonzero(mask))
        if nulls:
            validity = _bits(~mask)
    if v.dtype == np.bool_:
        return pa.Array.from_buffers(pa.bool_(), n, [validity, _bits(v)], null_count=nulls)
    return pa.Array.from_buffers(pa.from_numpy_dtype(v.dtype), n, [validity, pa.py_buffer(v)], null_count=nulls)


def strings(values) -> pa.Array:
    """``pyarrow.array(values)`` for a sequence of ``str`` (no nulls).

    Examples
    --------
    >>> strings([]).to_pylist()
    []
    """
    enc = [s.encode() for s in values]
    off = np.zeros(len(enc) + 1, np.int32)
    np.cumsum([len(b) for b in enc], out=off[1:])
    return pa.Array.from_buffers(pa.string(), len(enc), [None, pa.py_buffer(off), pa.py_buffer(b"".join(enc))])


def _valid(chunk: pa.Array) -> np.ndarray:
    """Validity of ``chunk`` as a bool array (all True when it has no nulls)."""
    n = len(chunk)
    buf = chunk.buffers()[0]
    if chunk.null_count == 0 or buf is None:
        return np.ones(n, bool)
    bits = np.unpackbits(np.frombuffer(buf, np.uint8), bitorder="little")
    return bits[chunk.offset:chunk.offset + n].astype(bool)


def to_numpy(col) -> np.ndarray:
    """A numeric or bool ``pyarrow`` Array / ChunkedArray as numpy, as
    ``col.to_numpy(zero_copy_only=False)`` gives it for numbers: with nulls, NaN for them (ints
    then as float64). Bools: nulls read as False (what ``np.asarray(..., bool)`` of pyarrow's object
    array gives).

    Examples
    --------
    >>> to_numpy(pa.chunked_array([array(np.array([True])), array(np.array([False, True]))]))
    array([ True, False,  True])
    """
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    typ = col.type
    if not (pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ)):
        raise TypeError(f"to_numpy() takes numbers or bools, not {typ}")
    nulls = sum(c.null_count for c in chunks)
    is_bool = pa.types.is_boolean(typ)
    dt = np.dtype(np.bool_ if is_bool else typ.to_pandas_dtype())
    parts = []
    for c in chunks:
        n, off = len(c), c.offset
        if n == 0:
            continue
        data = c.buffers()[1]
        if is_bool:
            v = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")[off:off + n].astype(bool)
            if c.null_count:
                v &= _valid(c)
        else:
            v = np.frombuffer(data, dt, count=n, offset=off * dt.itemsize)
            if nulls:
                v = v.astype(dt if pa.types.is_floating(typ) else np.float64)
                v[~_valid(c)] = np.nan
        parts.append(v)
    if not parts:
        return np.zeros(0, dt)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
