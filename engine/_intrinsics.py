"""Numba intrinsics shared by the kernels: raw data pointers, unaligned loads, bit casts.

These are code-generation helpers, not JIT policy (that is :mod:`cocodiff.engine._jit`).
"""
from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = ["ptr", "ptr_add", "load8", "as_float"]


@intrinsic
def ptr(typingctx, arr):
    """The data pointer of a C-contiguous array (index it like a 1-D array, no bounds check).

    Per-item helpers (per byte, number, ring, instance) take raw pointers plus lengths or
    capacities: every array that crosses a Numba call boundary costs two atomic reference-count
    updates, and in the JSON scanner and the rasteriser those were a large share of the run
    time. The caller keeps the array alive (an argument or a local of the calling kernel for
    the whole call) and passes the bounds its callee must respect."""
    if not isinstance(arr, types.Array) or arr.layout != "C":
        return None
    sig = types.CPointer(arr.dtype)(arr)

    def codegen(context, builder, sig, args):
        return context.make_array(sig.args[0])(context, builder, args[0]).data

    return sig, codegen


@intrinsic
def load8(typingctx, ptr, idx):
    """Bytes ``p..p+7`` behind a uint8 pointer as one little-endian uint64 (first byte lowest):
    a single unaligned load. The caller guarantees ``p + 8 <= end`` (no bounds check)."""
    sig = types.uint64(ptr, idx)

    def codegen(context, builder, sig, args):
        q = builder.gep(args[0], [args[1]])
        return builder.load(builder.bitcast(q, ir.IntType(64).as_pointer()), align=1)

    return sig, codegen


@intrinsic
def as_float(typingctx, u):
    """The float64 whose bits are the uint64 ``u``."""
    sig = types.float64(types.uint64)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

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
