"""The examples in the docstrings are run: a stale example is a failing test."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import cocodiff
import cocodiff.cli
import cocodiff.engine


def _modules():
    out = ["cocodiff"]
    for pkg in (cocodiff, cocodiff.engine, cocodiff.cli):
        for m in pkgutil.iter_modules(pkg.__path__):
            if m.name != "__main__":   # importing it runs the CLI
                out.append(f"{pkg.__name__}.{m.name}")
    return sorted(set(out))


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for t in finder.find(mod, name, globs=dict(vars(mod))):
        if t.examples and (t.filename or "").endswith(".py"):
            runner.run(t)
    res = runner.summarize(verbose=False)
    assert res.failed == 0, f"{res.failed} failing example(s) in {name} (run with -s for the diff)"


def test_the_engine_and_api_have_examples():
    """Guard against the examples above silently not being found (nothing collected)."""
    for name in ("cocodiff.engine.rle", "cocodiff.engine.raster", "cocodiff.engine.jsonscan", "cocodiff.mask",
                 "cocodiff.matching"):
        mod = importlib.import_module(name)
        tests = doctest.DocTestFinder(exclude_empty=True).find(mod, name)
        assert sum(len(t.examples) for t in tests) >= 1, name
