"""Atomic writes: complete file or none, temp files cleaned up, umask honoured."""
from __future__ import annotations

import os
import stat

import pytest

from cocodiff._io import atomic_path, write_bytes_atomic, write_json_atomic


def test_success_renames_with_umask_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        p = write_bytes_atomic(tmp_path / "sub" / "x.bin", b"abc")
    finally:
        os.umask(old)
    assert p.read_bytes() == b"abc"
    assert stat.S_IMODE(p.stat().st_mode) == 0o640        # not mkstemp's 0600
    assert sorted(x.name for x in p.parent.iterdir()) == ["x.bin"]


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_failure_leaves_old_file_and_no_temp(tmp_path, exc):
    final = tmp_path / "summary.json"
    write_json_atomic(final, {"v": 1})
    with pytest.raises(exc):
        with atomic_path(final) as tmp:
            tmp.write_text('{"v": 2, "half')
            raise exc()
    assert final.read_text().startswith('{"v": 1}')
    assert sorted(x.name for x in tmp_path.iterdir()) == ["summary.json"]
