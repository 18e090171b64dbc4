"""``cocodiff export``: the command-line face of :mod:`cocodiff.export`."""
from __future__ import annotations

import argparse

from ..errors import InputError
from ..relations import RELATIONS


def _split_commas(values):
    """``["split,merged", "added"]`` -> ``["split", "merged", "added"]`` (None stays None).

    Examples
    --------
    >>> _split_commas(["split,merged", "added"]), _split_commas(None)
    (['split', 'merged', 'added'], None)
    """
    if values is None:
        return None
    return [v.strip() for s in values for v in s.split(",") if v.strip()]


def _image_ids(values):
    ids = _split_commas(values)
    if ids is None:
        return None
    out = []
    for v in ids:
        try:
            out.append(int(v))
        except ValueError:
            raise InputError(f"--image takes image ids (integers), got {v!r}") from None
    return out


def _cli_run(args) -> int:
    from ..export import export   # lazy: the parser imports every subcommand module
    r = export(args.out_dir, args.output, relations=_split_commas(args.relation), classes=args.classes,
               images=_image_ids(args.image), a=args.a, b=args.b)
    if not getattr(args, "quiet", False):
        a, b = r["a"], r["b"]
        print(f"exported {r['rows']:,} rows: A {a['instances']:,} instances on {a['images']:,} images -> {a['path']}, "
              f"B {b['instances']:,} instances on {b['images']:,} images -> {b['path']}")
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``cocodiff export OUT -o DEST [--relation R ...] [--class C ...] [--image ID ...]``.

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers()
    >>> _ = add_cli(sub)
    >>> a = p.parse_args(["export", "out", "-o", "x", "--relation", "split", "merged", "--class", "dog"])
    >>> a.relation, a.classes, a.image, a.a
    (['split', 'merged'], ['dog'], None, None)
    """
    p = subparsers.add_parser(
        "export", help="chosen instances of a compare output as COCO files (A side and B side)",
        description="From the output folder of `cocodiff compare`, write the instances of the chosen relations,\n"
                    "classes and images as two COCO files, EXPORT_DIR/a.json and EXPORT_DIR/b.json: each with\n"
                    "that side's instances as the input holds them (ids and every field kept), the images they\n"
                    "lie on and all categories. Each annotation gets \"attributes\": {relation, group, iou,\n"
                    "counterpart (ids on the other side)} -- CVAT reads them, FiftyOne's COCO importer makes\n"
                    "them label attributes; pycocotools' COCO() opens both files. Both files are written, or\n"
                    "neither. Filters combine with AND; several values of one filter with OR.",
        epilog="examples:\n"
               "  cocodiff compare instances_val2017.json sama-coco-val.zip -o out/\n"
               "  cocodiff export out/ -o changed/ --relation split merged class_changed\n"
               "  cocodiff export out/ -o dogs/ --class dog --relation removed added\n"
               "  cocodiff export out/ -o one/ --image 397133 --a instances_val2017.json --b sama-coco-val.zip\n"
               "  python -c \"from pycocotools.coco import COCO; COCO('changed/b.json')\"",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out_dir", metavar="OUT", help="output folder of `cocodiff compare` (matches.parquet, summary.json)")
    p.add_argument("-o", "--output", required=True, metavar="EXPORT_DIR",
                   help="folder to write a.json and b.json to (created if missing; those two files are replaced)")
    p.add_argument("--relation", nargs="+", action="extend", metavar="R", default=None,
                   help=f"relations to export: {', '.join(RELATIONS)} (several, or comma-separated; "
                        "default: all)")
    p.add_argument("--class", dest="classes", nargs="+", action="extend", metavar="NAME_OR_ID", default=None,
                   help="categories of A or B, by name or id: a row is taken when its A or its B instance has "
                        "one, with the rest of its split / merge group (default: all)")
    p.add_argument("--image", nargs="+", action="extend", metavar="ID", default=None,
                   help="image ids (several, or comma-separated; default: all)")
    p.add_argument("--a", metavar="A", default=None,
                   help="input A as compared (default: the path summary.json records, relative to the current folder)")
    p.add_argument("--b", metavar="B", default=None,
                   help="input B as compared (default: the path summary.json records, relative to the current folder)")
    p.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS, help="print nothing on success")
    p.set_defaults(func=_cli_run)
    return p
