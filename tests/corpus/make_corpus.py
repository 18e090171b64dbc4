"""Regenerate the malformed-input corpus (python tests/corpus/make_corpus.py).

Each case is a small file next to this script; ``expected.json`` maps the file name to the
expected outcome driven through ``cocodiff.cli.main(["stats", FILE])``:
``{"exit": 2, "fragments": [...]}`` (stderr holds every fragment) or
``{"exit": 0, "warning": CODE, "count": N}``.
"""
import copy
import gzip
import io
import json
import struct
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

BASE = {
    "images": [{"id": 1, "width": 40, "height": 30, "file_name": "a.jpg"},
               {"id": 2, "width": 20, "height": 10, "file_name": "b.jpg"}],
    "categories": [{"id": 1, "name": "cat", "supercategory": "animal"},
                   {"id": 2, "name": "dog", "supercategory": "animal"}],
    "annotations": [
        {"id": 10, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 50.0, "bbox": [1, 1, 10, 10],
         "segmentation": [[1, 1, 11, 1, 11, 11, 1, 11]]},
        {"id": 11, "image_id": 1, "category_id": 2, "iscrowd": 1, "area": 3.0, "bbox": [0, 0, 1, 3],
         "segmentation": {"size": [30, 40], "counts": [0, 3, 1197]}},
        {"id": 12, "image_id": 2, "category_id": 1, "iscrowd": 0, "area": 200.0, "bbox": [0, 0, 1, 1],
         "segmentation": {"size": [10, 20], "counts": "37n5"}},
    ],
}


def _zwrite(z, name, data):
    """zipfile.writestr with a fixed timestamp, so regenerating the corpus changes no byte."""
    info = zipfile.ZipInfo(name, date_time=(2017, 9, 1, 0, 0, 0))
    info.compress_type = z.compression
    z.writestr(info, data)


cases = {}


def doc(mut=None):
    d = copy.deepcopy(BASE)
    if mut:
        mut(d)
    return d


def case(name, content, exit_code=2, fragments=(), warning=None, count=None):
    path = HERE / name
    if isinstance(content, (dict, list)):
        content = json.dumps(content, allow_nan=True)
    if isinstance(content, str):
        content = content.encode()
    if content is not None:
        path.write_bytes(content)
    exp = {"exit": exit_code}
    if exit_code == 2:
        exp["fragments"] = [name, *fragments]
    if warning:
        exp["warning"] = warning
        exp["count"] = count
    cases[name] = exp


def ann(d, i=0):
    return d["annotations"][i]


def setk(i, key, val):
    return lambda d: ann(d, i).__setitem__(key, val)


def delk(i, key):
    return lambda d: ann(d, i).pop(key)


def seg(i, val):
    return setk(i, "segmentation", val)


case("ok_base.json", doc(), 0)
case("truncated.json", json.dumps(BASE)[:150], fragments=["malformed JSON", "line 1", "byte"])
case("empty.json", b"", fragments=["empty"])
case("not_utf8.json", json.dumps(BASE).replace("a.jpg", "\udce9.jpg", 1).encode("utf-8", "surrogateescape"),
     fragments=["UTF-8", "byte"])
case("top_number.json", "42", fragments=["top-level", "int"])
case("top_string.json", '"hello"', fragments=["top-level", "string"])
case("results_without_like.json", [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}],
     fragments=["results file", "second input (B)"])
case("missing_images.json", doc(lambda d: d.pop("images")), fragments=["missing section 'images'"])
case("missing_annotations.json", doc(lambda d: d.pop("annotations")), fragments=["missing section 'annotations'"])
case("missing_categories.json", doc(lambda d: d.pop("categories")), fragments=["missing section 'categories'"])
case("annotations_not_list.json", doc(lambda d: d.__setitem__("annotations", {"a": 1})),
     fragments=["'annotations'", "expected a list"])
case("missing_ann_id.json", doc(delk(1, "id")), fragments=["annotations[1].id", "missing required key"])
case("missing_image_id.json", doc(delk(1, "image_id")), fragments=["annotation 11", "'image_id'", "missing"])
case("missing_category_id.json", doc(delk(0, "category_id")), fragments=["annotation 10", "'category_id'"])
case("missing_segmentation.json", doc(delk(2, "segmentation")), fragments=["annotation 12", "'segmentation'"])
case("string_image_id.json", doc(setk(0, "image_id", "1")), fragments=["annotation 10", "'image_id'", "string"])
case("string_coord.json", doc(seg(0, [[1, 1, "11", 1, 11, 11, 1, 11]])),
     fragments=["annotation 10", "segmentation[0][2]", "string"])
case("bool_coord.json", doc(seg(0, [[1, 1, 11, True, 11, 11, 1, 11]])),
     fragments=["annotation 10", "segmentation[0][3]", "bool"])
case("null_coord.json", doc(seg(0, [[1, 1, 11, 1, None, 11, 1, 11]])),
     fragments=["annotation 10", "segmentation[0][4]", "null"])
case("nan_coord.json", doc(seg(0, [[1, 1, 11, 1, 11, float("nan"), 1, 11]])),
     fragments=["annotation 10", "segmentation[0][5]", "non-finite"])
case("inf_coord.json", doc(seg(0, [[1, 1, 11, 1, 11, 11, float("inf"), 11]])),
     fragments=["annotation 10", "segmentation[0][6]", "non-finite"])
case("huge_coord.json", doc(seg(0, [[1, 1, 11, 1, 1e12, 11, 1, 11]])),
     fragments=["annotation 10", "segmentation[0][4]", "exceeds"])
case("two_point_ring.json", doc(seg(0, [[1, 1, 11, 1, 11, 11, 1, 11], [1, 1, 5, 5]])), 0,
     warning="degenerate_ring", count=1)
case("two_degenerate_rings.json",
     doc(lambda d: (seg(0, [[1, 1, 5, 5]])(d), ann(d, 1).update(segmentation=[[0, 0], [1, 1, 2, 2, 3, 3]]))), 0,
     warning="degenerate_ring", count=2)
case("odd_coords.json", doc(seg(0, [[1, 1, 11, 1, 11, 11, 1]])),
     fragments=["annotation 10", "segmentation[0]", "odd number"])
case("empty_segmentation.json", doc(seg(0, [])), fragments=["annotation 10", "'segmentation'", "empty"])
case("nested_too_deep.json", doc(seg(0, [[[1, 1, 11, 1, 11, 11, 1, 11]]])),
     fragments=["annotation 10", "segmentation[0][0]", "nested too deep"])
case("flat_polygon.json", doc(seg(0, [1, 1, 11, 1, 11, 11, 1, 11])),
     fragments=["annotation 10", "segmentation[0]", "list of rings"])
case("segmentation_string.json", doc(seg(0, "polygon")),
     fragments=["annotation 10", "'segmentation'", "neither polygons", "nor RLE"])
case("deep_json.json", '{"images": ' + "[" * 100000 + "]" * 100000 + "}", fragments=["nested too deeply"])
# repeated keys (readers keep one value silently) and nesting past MAX_NESTING (a RecursionError in
# JSON readers): json.dumps cannot write a repeated key, so these are edits of the text
_TEXT = json.dumps(BASE)
case("dup_key_top.json", _TEXT[:-1] + ', "annotations": []}',
     fragments=["duplicate key 'annotations'", "top-level"])
case("dup_key_ann_id.json", _TEXT.replace('{"id": 10, ', '{"id": 10, "id": 7, '),
     fragments=["annotation 10", "field 'id'", "duplicate key 'id'"])
case("dup_key_escaped.json", _TEXT.replace('"iscrowd": 1, ', '"iscrowd": 1, "\\u0069scrowd": 0, '),
     fragments=["annotation 11", "duplicate key 'iscrowd'"])
case("dup_key_image.json", _TEXT.replace('"height": 30, ', '"height": 30, "height": 3, '),
     fragments=["image 1", "field 'height'", "duplicate key 'height'"])
case("dup_key_rle.json", _TEXT.replace('"counts": [0, 3, 1197]', '"counts": [0, 3, 1197], "counts": [1200]'),
     fragments=["annotation 11", "segmentation.counts", "duplicate key 'counts'"])
case("dup_key_big_object.json",
     '{"info": {' + ", ".join(f'"k{i}": {i}' for i in range(100)) + ', "k5": 0}, ' + _TEXT[1:],
     fragments=["info.k5", "duplicate key 'k5'"])
case("deep_segmentation.json", _TEXT.replace("[[1, 1, 11, 1, 11, 11, 1, 11]]", "[" * 5000 + "]" * 5000),
     fragments=["annotation 10", "segmentation[0]", "nested too deeply"])
case("rle_sum_short.json", doc(lambda d: ann(d, 1)["segmentation"].__setitem__("counts", [0, 3, 1196])),
     fragments=["annotation 11", "segmentation.counts", "sum to 1199", "1200"])
case("rle_sum_past.json", doc(lambda d: ann(d, 1)["segmentation"].__setitem__("counts", [0, 3, 1198])),
     fragments=["annotation 11", "segmentation.counts", "sum to 1201"])
case("rle_negative.json", doc(lambda d: ann(d, 1)["segmentation"].__setitem__("counts", [0, -3, 1203])),
     fragments=["annotation 11", "segmentation.counts", "negative"])
case("rle_float_count.json", doc(lambda d: ann(d, 1)["segmentation"].__setitem__("counts", [0, 3.5, 1196.5])),
     fragments=["annotation 11", "segmentation.counts[1]", "float"])
case("rle_size_mismatch.json", doc(lambda d: ann(d, 1)["segmentation"].__setitem__("size", [40, 30])),
     fragments=["annotation 11", "segmentation.size", "[30, 40]"])
case("rle_bad_chars.json", doc(lambda d: ann(d, 2)["segmentation"].__setitem__("counts", "37 n5")),
     fragments=["annotation 12", "segmentation.counts", "character"])
case("rle_string_truncated.json", doc(lambda d: ann(d, 2)["segmentation"].__setitem__("counts", "37n")),
     fragments=["annotation 12", "segmentation.counts", "ends inside"])
case("rle_string_sum.json", doc(lambda d: ann(d, 2)["segmentation"].__setitem__("counts", "37m5")),
     fragments=["annotation 12", "segmentation.counts", "sum to"])
case("width_zero.json", doc(lambda d: d["images"][0].__setitem__("width", 0)),
     fragments=["image 1", "'width'", "positive"])
case("height_negative.json", doc(lambda d: d["images"][1].__setitem__("height", -5)),
     fragments=["image 2", "'height'", "positive"])
case("dup_image_id.json", doc(lambda d: d["images"].append(dict(d["images"][0]))),
     fragments=["duplicate image id 1"])
case("dup_ann_id.json", doc(lambda d: ann(d, 2).__setitem__("id", 10)),
     fragments=["duplicate annotation id 10"])
case("dup_category_id.json", doc(lambda d: d["categories"].append({"id": 2, "name": "x"})),
     fragments=["duplicate category id 2"])
case("unknown_image.json", doc(setk(0, "image_id", 99)), fragments=["annotation 10", "'image_id'", "99"])
case("unknown_category.json", doc(setk(2, "category_id", 7)), fragments=["annotation 12", "'category_id'", "7"])
case("bad_iscrowd.json", doc(setk(0, "iscrowd", 3)), fragments=["annotation 10", "'iscrowd'"])
case("bbox_three.json", doc(setk(0, "bbox", [1, 2, 3])), fragments=["annotation 10", "'bbox'"])
case("missing_file.json", None, fragments=["no such file"])

with zipfile.ZipFile(HERE / "zip_slip.zip", "w") as z:
    _zwrite(z, "part1.json", json.dumps(BASE))
    _zwrite(z, "../evil.json", json.dumps(BASE))
case("zip_slip.zip", None, fragments=["unsafe member path", "../evil.json"])

# a zip whose two members repeat an annotation id: the error names the second member
b2 = doc(lambda d: d.__setitem__("annotations", [dict(ann(d, 0), id=10)]))
with zipfile.ZipFile(HERE / "zip_dup_ann.zip", "w", zipfile.ZIP_DEFLATED) as z:
    _zwrite(z, "a_first.json", json.dumps(BASE))
    _zwrite(z, "b_second.json", json.dumps(b2))
case("zip_dup_ann.zip", None, fragments=["zip_dup_ann.zip:b_second.json", "duplicate annotation id 10",
                                         "a_first.json"])
b3 = doc(lambda d: d["images"][0].__setitem__("width", 41))
with zipfile.ZipFile(HERE / "zip_conflicting_image.zip", "w") as z:
    _zwrite(z, "a.json", json.dumps(BASE))
    _zwrite(z, "b.json", json.dumps(dict(b3, annotations=[])))
case("zip_conflicting_image.zip", None, fragments=["zip_conflicting_image.zip:b.json", "image 1", "conflicts"])
(HERE / "truncated_gz.json.gz").write_bytes(gzip.compress(json.dumps(BASE).encode(), mtime=0)[:60])
case("truncated_gz.json.gz", None, fragments=["gzip"])


# ---- reliability additions (issue "Reliability: bad input, conservation and fuzzing") ----
def rle(i, key, val):
    return lambda d: ann(d, i)["segmentation"].__setitem__(key, val)


def img(i, key, val):
    return lambda d: d["images"][i].__setitem__(key, val)


case("top_null.json", "null", fragments=["null"])
case("whitespace_only.json", "  \n\t \n", fragments=["empty"])
case("utf8_bom.json", b"\xef\xbb\xbf" + json.dumps(BASE).encode(), 0)   # a BOM is tolerated, nothing dropped
case("images_not_list.json", doc(lambda d: d.__setitem__("images", {"id": 1})),
     fragments=["'images'", "expected a list"])
case("categories_null.json", doc(lambda d: d.__setitem__("categories", None)), fragments=["'categories'", "null"])
case("annotation_not_object.json", doc(lambda d: d["annotations"].append(7)),
     fragments=["annotations[3]", "object", "int"])
case("image_missing_width.json", doc(lambda d: d["images"][0].pop("width")), fragments=["images[0].width", "missing"])
case("image_missing_id.json", doc(lambda d: d["images"][1].pop("id")), fragments=["images[1].id", "missing"])
case("category_missing_id.json", doc(lambda d: d["categories"][0].pop("id")),
     fragments=["categories[0].id", "missing"])
case("category_name_number.json", doc(lambda d: d["categories"][0].__setitem__("name", 5)),
     fragments=["category 1", "'name'"])
case("width_string.json", doc(img(0, "width", "40")), fragments=["image 1", "'width'", "string"])
case("width_float.json", doc(img(0, "width", 40.5)), fragments=["image 1", "'width'", "float"])
case("width_over_int32.json", doc(img(0, "width", 3_000_000_000)), fragments=["image 1", "'width'", "3000000000"])
case("ann_id_bool.json", doc(setk(0, "id", True)), fragments=["annotations[0].id", "bool"])
case("ann_id_float.json", doc(setk(0, "id", 10.5)), fragments=["annotations[0].id", "float"])
case("image_id_float.json", doc(setk(0, "image_id", 1.0)), fragments=["annotation 10", "'image_id'", "float"])
case("category_id_string.json", doc(setk(0, "category_id", "1")),
     fragments=["annotation 10", "'category_id'", "string"])
case("category_id_null.json", doc(setk(0, "category_id", None)), fragments=["annotation 10", "'category_id'", "null"])
case("area_string.json", doc(setk(0, "area", "50")), fragments=["annotation 10", "'area'", "string"])
case("bbox_string.json", doc(setk(0, "bbox", ["1", 1, 10, 10])), fragments=["annotation 10", "'bbox'"])
case("iscrowd_bool.json", doc(setk(0, "iscrowd", True)), fragments=["annotation 10", "'iscrowd'", "bool"])
case("score_string.json", doc(setk(0, "score", "high")), fragments=["annotation 10", "'score'", "string"])
case("extra_keys.json", doc(lambda d: (ann(d, 0).__setitem__("attributes", {"occluded": [1]}),
                                       d.__setitem__("info", 5))), 0)
case("segmentation_null.json", doc(seg(0, None)), fragments=["annotation 10", "'segmentation'", "null"])
case("segmentation_empty_object.json", doc(seg(0, {})), fragments=["annotation 10", "'segmentation'"])
case("ring_of_pairs.json", doc(seg(0, [[[1, 1], [11, 1], [11, 11]]])),
     fragments=["annotation 10", "segmentation[0][0]", "nested too deep"])
case("empty_ring.json", doc(seg(0, [[]])), 0, warning="degenerate_ring", count=1)
case("polygon_collinear.json", doc(seg(0, [[1, 1, 5, 5, 11, 11]])), 0)   # 3 points, zero area: valid
case("huge_negative_coord.json", doc(seg(0, [[1, 1, 11, 1, -1e12, 11, 1, 11]])),
     fragments=["annotation 10", "segmentation[0][4]", "exceeds"])
case("huge_int_coord.json", doc(seg(0, [[1, 1, 11, 1, 10 ** 30, 11, 1, 11]])),
     fragments=["annotation 10", "segmentation[0][4]", "exceeds"])
case("rle_size_missing.json", doc(lambda d: ann(d, 1)["segmentation"].pop("size")),
     fragments=["annotation 11", "'segmentation'", "size"])
case("rle_counts_missing.json", doc(lambda d: ann(d, 1)["segmentation"].pop("counts")),
     fragments=["annotation 11", "'segmentation'", "counts"])
case("rle_size_three.json", doc(rle(1, "size", [30, 40, 1])), fragments=["annotation 11", "segmentation.size"])
case("rle_size_string.json", doc(rle(1, "size", "30x40")), fragments=["annotation 11", "segmentation.size"])
case("rle_size_negative.json", doc(rle(1, "size", [-30, -40])), fragments=["annotation 11", "segmentation.size"])
case("rle_counts_strings.json", doc(rle(1, "counts", ["0", "3", "1197"])),
     fragments=["annotation 11", "segmentation.counts[0]", "string"])
case("rle_counts_null.json", doc(rle(1, "counts", [0, None, 1197])),
     fragments=["annotation 11", "segmentation.counts[1]", "null"])
case("rle_counts_number.json", doc(rle(1, "counts", 1200)), fragments=["annotation 11", "segmentation.counts"])
case("rle_counts_empty_list.json", doc(rle(1, "counts", [])),
     fragments=["annotation 11", "segmentation.counts", "sum to 0", "1200"])
case("rle_counts_empty_string.json", doc(rle(2, "counts", "")),
     fragments=["annotation 12", "segmentation.counts", "sum to 0", "200"])
# 2**32 + 3 wraps to 3 in uint32: the sum would then look right -- must be refused, not wrapped
case("rle_count_over_uint32.json", doc(rle(1, "counts", [0, 2 ** 32 + 3, 1197 - 2 ** 32])),
     fragments=["annotation 11", "segmentation.counts", "4294967299"])
case("rle_string_overflow.json", doc(rle(2, "counts", "3" + "_" * 20 + "5")),
     fragments=["annotation 12", "segmentation.counts", "32 bits"])
case("rle_string_nonascii.json", doc(rle(2, "counts", "37\u00e95")),
     fragments=["annotation 12", "segmentation.counts", "character"])
case("rle_string_sum_past.json", doc(rle(2, "counts", "37o5")),
     fragments=["annotation 12", "segmentation.counts", "sum to 201", "200"])

# found by tests/test_reliability.py's fuzzer (crashed the explaining path with a TypeError until
# fixed): an integer coordinate beyond uint64 in a file that also fails validation elsewhere
case("huge_int_coord_and_missing_id.json",
     doc(lambda d: (seg(0, [[1, 1, 11, 1, 2 ** 70, 11, 1, 11]])(d), ann(d, 1).pop("id"))),
     fragments=["annotation 10", "segmentation[0][4]"])

# found by the fuzzer (an OverflowError, internal error, until fixed)
case("width_over_int64.json", doc(img(0, "width", 2 ** 63)), fragments=["image 1", "'width'"])

# reported with a bare byte offset / without the annotation until the loader named them
case("bbox_nan.json", doc(setk(0, "bbox", [float("nan"), 1, 10, 10])), fragments=["annotation 10", "'bbox'"])
case("area_infinity.json", doc(setk(0, "area", float("inf"))), fragments=["annotation 10", "'area'"])
case("ann_id_over_int64.json", doc(setk(0, "id", 2 ** 70)), fragments=["annotations[0].id"])


def _patch_zip_sizes(buf: bytes, size: int) -> bytes:
    """Overwrite the declared uncompressed size of a one-member zip (local + central header)."""
    b = bytearray(buf)
    i = b.find(b"PK\x03\x04")
    struct.pack_into("<I", b, i + 22, size)
    j = b.find(b"PK\x01\x02")
    struct.pack_into("<I", b, j + 24, size)
    return bytes(b)


_bio = io.BytesIO()
with zipfile.ZipFile(_bio, "w", zipfile.ZIP_DEFLATED) as z:
    _zwrite(z, "x.json", json.dumps(BASE))
# a member declaring 300 MB behind a few hundred compressed bytes: refused before decompressing
case("zip_bomb_declared.zip", _patch_zip_sizes(_bio.getvalue(), 300_000_000),
     fragments=["zip_bomb_declared.zip:x.json", "ratio", "bomb"])
# a member declaring fewer bytes than it holds: the CRC check fails, never a partial read
case("zip_size_lies.zip", _patch_zip_sizes(_bio.getvalue(), 100), fragments=["zip_size_lies.zip:x.json", "CRC"])
case("not_a_zip.zip", json.dumps(BASE), fragments=["not a valid zip"])
_bio = io.BytesIO()
with zipfile.ZipFile(_bio, "w") as z:
    _zwrite(z, "readme.txt", "no annotations here")
case("zip_no_json.zip", _bio.getvalue(), fragments=["no *.json member"])
case("not_gzip.json.gz", json.dumps(BASE), fragments=["gzip"])

# ---- known loader gaps: the message lacks the annotation id / field (tests/test_reliability.py
# runs these as xfail(strict=True); move a case up into `cases` once the loader names them) ----
pending = {}


def pending_case(name, content, fragments, reason, crash=False):
    """``crash``: today this is not even an InputError (an internal error, exit 1); such files
    go to ``pending/`` so that the suites globbing ``corpus/*.json`` stay green meanwhile."""
    rel = f"pending/{name}" if crash else name
    (HERE / rel).parent.mkdir(exist_ok=True)
    (HERE / rel).write_text(json.dumps(content, allow_nan=True) if not isinstance(content, str) else content)
    pending[name] = {"exit": 2, "fragments": [name, *fragments], "reason": reason, "crash": crash, "file": rel}


(HERE / "pending.json").write_text(json.dumps(pending, indent=1, sort_keys=True) + "\n")

(HERE / "expected.json").write_text(json.dumps(cases, indent=1, sort_keys=True) + "\n")
print(len(cases), "cases")
