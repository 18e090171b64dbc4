"""Regenerate the malformed-input corpus (python tests/corpus/make_corpus.py).

Each case is a small file next to this script; ``expected.json`` maps the file name to the
expected outcome driven through ``cocodiff.cli.main(["stats", FILE])``:
``{"exit": 2, "fragments": [...]}`` (stderr holds every fragment) or
``{"exit": 0, "warning": CODE, "count": N}``.
"""
import copy
import gzip
import json
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
     fragments=["results file", "like="])
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
    z.writestr("part1.json", json.dumps(BASE))
    z.writestr("../evil.json", json.dumps(BASE))
case("zip_slip.zip", None, fragments=["unsafe member path", "../evil.json"])

# a zip whose two members repeat an annotation id: the error names the second member
b2 = doc(lambda d: d.__setitem__("annotations", [dict(ann(d, 0), id=10)]))
with zipfile.ZipFile(HERE / "zip_dup_ann.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("a_first.json", json.dumps(BASE))
    z.writestr("b_second.json", json.dumps(b2))
case("zip_dup_ann.zip", None, fragments=["zip_dup_ann.zip:b_second.json", "duplicate annotation id 10",
                                         "a_first.json"])
b3 = doc(lambda d: d["images"][0].__setitem__("width", 41))
with zipfile.ZipFile(HERE / "zip_conflicting_image.zip", "w") as z:
    z.writestr("a.json", json.dumps(BASE))
    z.writestr("b.json", json.dumps(dict(b3, annotations=[])))
case("zip_conflicting_image.zip", None, fragments=["zip_conflicting_image.zip:b.json", "image 1", "conflicts"])
(HERE / "truncated_gz.json.gz").write_bytes(gzip.compress(json.dumps(BASE).encode())[:60])
case("truncated_gz.json.gz", None, fragments=["gzip"])

(HERE / "expected.json").write_text(json.dumps(cases, indent=1, sort_keys=True) + "\n")
print(len(cases), "cases")
