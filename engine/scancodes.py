"""The JSON scanner's codes, defined once: bail statuses, annotation field bits, segmentation
kinds, slow-number targets and growth requests.

Module-level integers: Numba reads them as compile-time constants.
"""
from __future__ import annotations

__all__ = ["SEG_POLYGON", "SEG_RLE_STRING", "SEG_RLE_LIST", "SEG_NULL", "BAIL_REASONS"]

# ---- statuses: 0 done, a positive bail code (BAIL_REASONS), or GROW
OK = 0
BAIL_STRUCTURE = 1
BAIL_KEY = 2
BAIL_INTEGER = 3
BAIL_NUMBER = 4
BAIL_SEGMENTATION = 5
BAIL_RLE = 6
BAIL_STRING = 7
BAIL_NESTING = 8
BAIL_MISSING_KEY = 9
BAIL_SECTION = 10
BAIL_TRAILING = 11
STOPPED_AT_PART = 12   # not a failure: a part of a file reached its end cut
GROW = -2              # an output array is full: grow the ones the NEED_* bits name and resume

BAIL_REASONS = {
    BAIL_STRUCTURE: "unexpected byte / structure",
    BAIL_KEY: "key not understood (escape, non-ASCII, duplicate)",
    BAIL_INTEGER: "integer field not a plain integer of <= 18 digits",
    BAIL_NUMBER: "number expected",
    BAIL_SEGMENTATION: "segmentation not understood",
    BAIL_RLE: "RLE object not understood",
    BAIL_STRING: "string not understood (escape, control or non-ASCII byte)",
    BAIL_NESTING: "nesting too deep",
    BAIL_MISSING_KEY: "missing required key",
    BAIL_SECTION: "section missing or not a list",
    BAIL_TRAILING: "trailing data",
    STOPPED_AT_PART: "stopped at the requested part boundary",
}

# ---- growth requests (bits): which outputs a GROW status asks for
NEED_ANN = 1      # per-annotation columns
NEED_COORDS = 2   # coordinates
NEED_RINGS = 4    # ring lengths
NEED_STR = 8      # compressed RLE bytes
NEED_LIST = 16    # uncompressed RLE counts
NEED_SLOW = 32    # slow-number spans

# ---- annotation fields the scanner reads (bits of an annotation's ``seen`` mask)
F_SEGMENTATION = 1
F_ID = 2
F_IMAGE_ID = 4
F_CATEGORY_ID = 8
F_ISCROWD = 16
F_AREA = 32
F_BBOX = 64
F_SCORE = 128
F_INTEGER = F_ID | F_IMAGE_ID | F_CATEGORY_ID | F_ISCROWD
F_REQUIRED_RESULTS = F_IMAGE_ID | F_CATEGORY_ID   # + segmentation, which a results file may omit
F_REQUIRED = F_REQUIRED_RESULTS | F_SEGMENTATION | F_ID

# ---- top-level sections (bits of ``top_seen``)
TOP_IMAGES = 1
TOP_ANNOTATIONS = 2
TOP_CATEGORIES = 4
TOP_ALL = TOP_IMAGES | TOP_ANNOTATIONS | TOP_CATEGORIES

# ---- segmentation kinds (``seg_kind``)
SEG_POLYGON = 0
SEG_RLE_STRING = 1
SEG_RLE_LIST = 2
SEG_NULL = 3      # results files only: no segmentation, or ``null``

# ---- slow-number targets: which output a slow span's index refers to
T_COORD = 0
T_AREA = 1
T_SCORE = 2
T_BBOX = 3
