"""cocodiff._arrow: numpy <-> pyarrow without pyarrow's pandas check, against pyarrow's own
conversions; and a ``cocodiff compare`` process that never imports pandas."""
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from cocodiff import _arrow
from conftest import DATA

DTYPES = [np.int8, np.int32, np.int64, np.uint32, np.float32, np.float64, np.bool_]


def _values(rng, dt, n):
    if dt is np.bool_:
        return rng.random(n) < 0.5
    if np.issubdtype(dt, np.floating):
        v = rng.normal(size=n).astype(dt)
        v[rng.random(n) < 0.1] = np.nan     # NaN values stay values (not nulls) without a mask
        return v
    return rng.integers(0, 100, n).astype(dt)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 1000])
def test_array_equals_pyarrow(dt, n):
    rng = np.random.default_rng(n)
    v = _values(rng, dt, n)
    for mask in (None, np.zeros(n, bool), rng.random(n) < 0.3, np.ones(n, bool)):
        got = _arrow.array(v, mask=mask)
        want = pa.array(v, mask=mask) if mask is not None else pa.array(v)
        got.validate(full=True)
        assert got.type == want.type
        assert got.null_count == want.null_count
        # NaN != NaN in Array.equals: validity, then every value by its repr (exact for floats)
        assert got.is_null().equals(want.is_null())
        assert str(got.to_pylist()) == str(want.to_pylist())


def test_array_rejects_bad_shapes():
    with pytest.raises(ValueError):
        _arrow.array(np.zeros((2, 2)))
    with pytest.raises(ValueError):
        _arrow.array(np.zeros(3), mask=np.zeros(2, bool))


@pytest.mark.parametrize("values", [[], [""], ["matched", "split", ""], ["ü", "日本", "a" * 300]])
def test_strings_equals_pyarrow(values):
    got = _arrow.strings(values)
    got.validate(full=True)
    assert got.equals(pa.array(values, pa.string()))


@pytest.mark.parametrize("dt", DTYPES)
def test_to_numpy_equals_pyarrow(dt):
    rng = np.random.default_rng(3)
    v = _values(rng, dt, 300)
    mask = rng.random(300) < 0.2
    arrays = [pa.array(v), pa.array(v, mask=mask)]
    for arr in list(arrays):
        arrays += [arr.slice(5, 200), arr.slice(13, 0),                            # offsets, empty
                   pa.chunked_array([arr.slice(0, 7), arr.slice(7, 100).slice(3), arr.slice(290)]),
                   pa.chunked_array([], arr.type)]
    for arr in arrays:
        want = arr.to_numpy(zero_copy_only=False)
        got = _arrow.to_numpy(arr)
        if want.dtype == object:        # pyarrow: bools with nulls as objects; here nulls read as False
            want = np.asarray(want, bool)
        assert got.dtype == want.dtype, (arr.type, arr.null_count)
        np.testing.assert_array_equal(got, want)


def test_to_numpy_rejects_strings():
    with pytest.raises(TypeError):
        _arrow.to_numpy(pa.array(["a"]))


def test_compare_process_does_not_import_pandas(tmp_path):
    """pyarrow.array / to_numpy import pandas (~0.5 s of every process) when it is installed."""
    pytest.importorskip("pandas")
    a = DATA / "coco2014_val100" / "instances_val2014_100.json"
    b = DATA / "derived" / "val2014_100_fakesegm_as_annotations.json"
    code = (f"import sys; from cocodiff.cli import main; "
            f"rc = main(['compare', {str(a)!r}, {str(b)!r}, '-o', {str(tmp_path)!r}, '--quiet']); "
            f"import cocodiff; s = cocodiff.compare({str(a)!r}, {str(b)!r}).summary(); "
            f"print(rc, s['relations']['matched'] > 0, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "True", "False"]
    assert (tmp_path / "matches.parquet").is_file()
