"""cocodiff.engine -- pure Numba kernels over flat numpy arrays.

Kernels take and return numpy arrays only (flat coordinates + offsets, RLE counts +
offsets); they never see Python objects or files. The JIT policy lives in
:mod:`cocodiff.engine._jit`.

This folder must only ever be imported as ``cocodiff.engine``: Numba's disk cache is keyed
by source file, and a kernel cached while the folder was imported under another name
(``import engine`` from the repository root) pickles that name, which then fails to load
under the real one.
"""
if __name__ != "cocodiff.engine":  # pragma: no cover - guard against cache poisoning
    raise ImportError(f"import this package as cocodiff.engine, not {__name__!r} "
                      "(pip install -e . and run from anywhere)")
