"""Shared fixtures: paths of the real annotation samples bundled in data/ (see data/MANIFEST.md)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# The CLI's one-line "compiling kernels once" notice (cocodiff.engine._jit) would land, on an empty
# kernel cache, in whichever test first compiles a kernel through the CLI and checks its stderr:
# off for the tests (and the subprocesses they start); tests/test_firstrun.py turns it back on.
os.environ.setdefault("COCODIFF_COMPILE_NOTICE", "0")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

# Real COCO-format instance files (polygons, multi-polygons, list-RLE crowds, compressed RLE).
REAL_INSTANCE_FILES = [
    DATA / "coco2017_subsets" / "cocomini_instances_val2017.json",
    DATA / "coco2017_subsets" / "cocomini_instances_train2017.json",
    DATA / "coco2017_subsets" / "tinycoco_instances_val2017.json",
    DATA / "coco2017_subsets" / "tinycoco_instances_train2017.json",
    DATA / "coco2017_subsets" / "airo_instances_val2017_small.json",
    DATA / "coco2014_val100" / "instances_val2014_100.json",
    DATA / "derived" / "lvis_overlap_coco_gt.json",
    DATA / "derived" / "lvis_overlap_lvis_gt.json",
    DATA / "derived" / "lvis_overlap_lvis_cocofied.json",
    DATA / "derived" / "val2014_100_fakesegm_as_annotations.json",
    DATA / "lvis_v0.5_val100" / "lvis_val_100.json",
    DATA / "panoptic_sample" / "panoptic_coco_detection_format.json",
]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(params=REAL_INSTANCE_FILES, ids=lambda p: p.name)
def real_file(request) -> Path:
    return request.param


@pytest.fixture(autouse=True)
def _scanner_for_every_size(monkeypatch):
    """The compiled JSON scanner reads every file the tests load in-process, small ones included
    (by default files under ``loader.SCANNER_MIN_BYTES`` take the msgspec path): tests that
    compare both paths switch it with ``loader._use_scanner``."""
    from cocodiff import loader
    monkeypatch.setattr(loader, "SCANNER_MIN_BYTES", 0)
