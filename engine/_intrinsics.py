"""Numba intrinsics shared by the kernels: raw data pointers, unaligned loads, bit casts.

These are code-generation helpers, not JIT policy (that is :mod:`cocodiff.engine._jit`).

Bounds checking
---------------
Numba's ``NUMBA_BOUNDSCHECK=1`` checks array indexing only; a raw pointer has no bounds to
check. So when Numba is imported with ``NUMBA_BOUNDSCHECK=1`` (:data:`CHECKED_POINTERS`),
:func:`ptr` returns a *checked pointer* instead: the array as a flat view plus an offset.
Indexing it (read or write) checks ``0 <= offset + i < len(array)`` and raises
``IndexError`` otherwise -- before the array's start too, as a C pointer would allow;
:func:`ptr_add` moves the offset and :func:`load8` reads its eight bytes one by one, each
checked. Every helper that takes a pointer only indexes it, passes it on, or offsets it with
:func:`ptr_add`, so the same kernel source compiles either way. In a normal process (the
variable unset or 0) these are the raw-pointer intrinsics below, unchanged: no cost.
"""
from __future__ import annotations

import operator

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core import config as _numba_config
from numba.extending import (
    intrinsic,
    make_attribute_wrapper,
    models,
    overload,
    register_model,
)

__all__ = ["ptr", "ptr_add", "load8", "as_float", "CHECKED_POINTERS"]

#: True when this process was started with ``NUMBA_BOUNDSCHECK=1``: :func:`ptr` then
#: returns bounds-checked pointers (fixed at import, like Numba's own setting).
CHECKED_POINTERS = bool(_numba_config.BOUNDSCHECK)


@intrinsic
def as_float(typingctx, u):
    """The float64 whose bits are the uint64 ``u``."""
    sig = types.float64(types.uint64)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


if not CHECKED_POINTERS:

    @intrinsic
    def ptr(typingctx, arr):
        """The data pointer of a C-contiguous array (index it like a 1-D array, no bounds check).

        Per-item helpers (per byte, number, ring, instance) take raw pointers plus lengths or
        capacities: every array that crosses a Numba call boundary costs two atomic
        reference-count updates, and in the JSON scanner and the rasteriser those were a large
        share of the run time. The caller keeps the array alive (an argument or a local of the
        calling kernel for the whole call) and passes the bounds its callee must respect.
        Under ``NUMBA_BOUNDSCHECK=1`` a checked pointer instead (see the module docstring)."""
        if not isinstance(arr, types.Array) or arr.layout != "C":
            return None
        sig = types.CPointer(arr.dtype)(arr)

        def codegen(context, builder, sig, args):
            return context.make_array(sig.args[0])(context, builder, args[0]).data

        return sig, codegen

    @intrinsic
    def load8(typingctx, ptr, idx):
        """Bytes ``p..p+7`` behind a uint8 pointer as one little-endian uint64 (first byte
        lowest): a single unaligned load. The caller guarantees ``p + 8 <= end`` (no bounds
        check; checked under ``NUMBA_BOUNDSCHECK=1``)."""
        sig = types.uint64(ptr, idx)

        def codegen(context, builder, sig, args):
            q = builder.gep(args[0], [args[1]])
            return builder.load(builder.bitcast(q, ir.IntType(64).as_pointer()), align=1)

        return sig, codegen

    @intrinsic
    def ptr_add(typingctx, p, k):
        """``p + k`` elements (same pointer type): a sub-buffer of a pointer's buffer."""
        if not isinstance(p, types.CPointer):
            return None
        sig = p(p, k)

        def codegen(context, builder, sig, args):
            return builder.gep(args[0], [args[1]])

        return sig, codegen

else:

    class CheckedPtr(types.Type):
        """A pointer into a flat array that knows the array's bounds (``NUMBA_BOUNDSCHECK=1``)."""

        def __init__(self, dtype):
            self.dtype = dtype
            super().__init__(name=f"CheckedPtr({dtype})")

        @property
        def array_type(self):
            return types.Array(self.dtype, 1, "C")

    @register_model(CheckedPtr)
    class _CheckedPtrModel(models.StructModel):
        def __init__(self, dmm, fe_type):
            super().__init__(dmm, fe_type, [("arr", fe_type.array_type), ("off", types.intp)])

    make_attribute_wrapper(CheckedPtr, "arr", "arr")
    make_attribute_wrapper(CheckedPtr, "off", "off")

    @intrinsic
    def _checked(typingctx, arr, off):
        if not (isinstance(arr, types.Array) and arr.ndim == 1 and arr.layout == "C"):
            return None
        sig = CheckedPtr(arr.dtype)(arr, types.intp)

        def codegen(context, builder, sig, args):
            st = cgutils.create_struct_proxy(sig.return_type)(context, builder)
            st.arr = args[0]
            st.off = args[1]
            context.nrt.incref(builder, sig.args[0], args[0])  # the pointer holds the array
            return st._getvalue()

        return sig, codegen

    def ptr(arr):
        """Bounds-checked stand-in for the raw data pointer (``NUMBA_BOUNDSCHECK=1``)."""
        raise NotImplementedError("ptr is only callable from compiled code")

    def ptr_add(p, k):
        """``p + k`` elements, bounds-checked stand-in (``NUMBA_BOUNDSCHECK=1``)."""
        raise NotImplementedError("ptr_add is only callable from compiled code")

    def load8(p, idx):
        """Eight bytes as a little-endian uint64, bounds-checked stand-in."""
        raise NotImplementedError("load8 is only callable from compiled code")

    @overload(ptr)
    def _ptr_checked(arr):
        if not isinstance(arr, types.Array) or arr.layout != "C":
            return None
        if arr.ndim == 1:
            return lambda arr: _checked(arr, 0)
        return lambda arr: _checked(arr.reshape(arr.size), 0)  # a flat view, not a copy

    @overload(ptr_add)
    def _ptr_add_checked(p, k):
        if not isinstance(p, CheckedPtr):
            return None
        return lambda p, k: _checked(p.arr, p.off + np.intp(k))

    @overload(operator.getitem)
    def _checked_getitem(p, i):
        if not (isinstance(p, CheckedPtr) and isinstance(i, types.Integer)):
            return None

        def impl(p, i):
            j = p.off + np.intp(i)
            if j < 0 or j >= p.arr.shape[0]:
                raise IndexError("pointer index out of bounds")
            return p.arr[j]

        return impl

    @overload(operator.setitem)
    def _checked_setitem(p, i, v):
        if not (isinstance(p, CheckedPtr) and isinstance(i, types.Integer)):
            return None

        def impl(p, i, v):
            j = p.off + np.intp(i)
            if j < 0 or j >= p.arr.shape[0]:
                raise IndexError("pointer index out of bounds")
            p.arr[j] = v

        return impl

    @overload(load8)
    def _load8_checked(p, idx):
        if not (isinstance(p, CheckedPtr) and p.dtype == types.uint8):
            return None

        def impl(p, idx):
            v = np.uint64(0)
            for j in range(8):
                v |= np.uint64(p[np.intp(idx) + j]) << np.uint64(8 * j)
            return v

        return impl
