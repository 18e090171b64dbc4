"""cocodiff.engine -- pure Numba kernels over flat numpy arrays.

Kernels take and return numpy arrays only (flat coordinates + offsets, RLE counts +
offsets); they never see Python objects or files. The JIT policy lives in
:mod:`cocodiff.engine._jit`.
"""
