"""Export chosen instances of a ``cocodiff compare`` output as two COCO files.

:func:`export` reads ``OUT/matches.parquet`` (and ``OUT/summary.json`` for the input paths),
selects rows by relation, class and image, and writes ``DEST/a.json`` and ``DEST/b.json``: each a
complete COCO instances file with the selected instances of that side, the images they lie on
and all the categories, that pycocotools' ``COCO()``, FiftyOne's COCO importer and CVAT open.

What is kept
------------
Every exported annotation is the original JSON object as the input file holds it (every field,
ids preserved, numbers re-written exactly), plus an ``"attributes"`` object (the keys an
existing ``"attributes"`` object holds are kept) with:

* ``relation`` -- ``matched``, ``split``, ``merged``, ``class_changed``, ``removed`` or ``added``;
* ``group`` -- the split / merge group id of ``matches.parquet`` (-1 outside a group);
* ``iou`` -- the pair's IoU (``iou`` column); in a split or merge the group's IoU (``group_iou``:
  the whole against the union of its parts); ``null`` for removed / added;
* ``counterpart`` -- the ids of the instances of the other side it is related to (all of them,
  exported or not; ``[]`` for removed / added).

CVAT reads ``attributes``; FiftyOne's importer turns its keys into label attributes. Images keep
all their fields; ``info`` and ``licenses`` are copied from the input when it has them. A
results list as B (a top-level JSON list, ``compare A RESULTS.json``) takes A's images and
categories, and its annotations get the ids the loader gives them (1..n in file order) and
``iscrowd`` 0 where absent, as pycocotools' ``COCO.loadRes`` does.

Selection
---------
Filters are ANDed; the values within one are ORed. ``relations`` names relations; ``classes``
names categories of A or of B by name (or by id), and a row is taken when its A or its B
instance has one of them -- then every row of a split / merge group that a taken row belongs to
is taken too, so that a group is exported whole; ``images`` are image ids. Each side gets the
instances present in the selected rows.

Inputs are read as the loader reads them (``.json``, ``.json.gz``, a ``.zip`` of JSON files, a
folder of them). Both files are written to temporary files first and then renamed into place:
both appear, or -- on any failure -- neither (a previous export in ``DEST`` is left as it was).
"""
from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import orjson

from ._io import _umask
from ._load_sources import first_byte as _first_byte, read_one as _read_one
from .comparison import read_output
from .errors import InputError
from .relations import RELATIONS

__all__ = ["export", "select_rows"]

log = logging.getLogger(__name__)

_NEEDED = ["image_id", "a_id", "b_id", "a_category_id", "b_category_id", "relation", "group", "group_iou", "iou"]


# ------------------------------------------------------------------------------------------
# reading the inputs as they are (the original JSON objects)
class _RawFile(msgspec.Struct, gc=False):
    images: msgspec.Raw = msgspec.Raw(b"[]")
    annotations: list[msgspec.Raw] = []
    categories: msgspec.Raw = msgspec.Raw(b"[]")
    info: msgspec.Raw = msgspec.Raw(b"null")   # (msgspec takes no ``Raw | None``)
    licenses: msgspec.Raw = msgspec.Raw(b"null")


class _Id(msgspec.Struct, gc=False):
    id: int


class _AnnIds(msgspec.Struct, gc=False):
    annotations: list[_Id] = []


_DEC_RAW = msgspec.json.Decoder(_RawFile)
_DEC_IDS = msgspec.json.Decoder(_AnnIds)
_DEC_RES = msgspec.json.Decoder(list[msgspec.Raw])


class _Side:
    """One input, undecoded where it can be: the annotations stay raw JSON text until chosen.

    Attributes
    ----------
    path : str                  the input as given
    images : dict               image id -> image object (first file that lists it)
    categories : list of dict   every category once (first file that lists it), in file order
    info, licenses              from the first file that has them (None when none has)
    ann : dict                  annotation id -> (its JSON text, a ``msgspec.Raw`` view of the file's
                                bytes; whether it came from a results list)
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self.images = {}
        self.categories = []
        self.info = self.licenses = None
        self.ann = {}
        self.results = False

    def annotation(self, ann_id) -> dict:
        raw, results = self.ann[ann_id]
        d = _loads(raw, self.path)
        if results:   # pycocotools' loadRes: ids 1..n in file order, iscrowd 0
            d["id"] = ann_id
            d.setdefault("iscrowd", 0)
        return d


def _loads(raw, name):
    try:
        return orjson.loads(bytes(raw))
    except orjson.JSONDecodeError:
        try:   # NaN / Infinity: Python's reader accepts them (written back as null)
            return json.loads(bytes(raw))
        except ValueError as e:
            raise InputError(f"cannot read as JSON ({e})", name) from None


def _read_side(path, what: str, like: _Side | None = None) -> _Side:
    """Read input ``path`` (any form the loader takes) keeping the original JSON objects.

    Examples
    --------
    >>> s = _read_side("data/coco2017_subsets/airo_instances_val2017_small.json", "A")
    >>> len(s.images), len(s.ann) == 34, s.annotation(next(iter(s.ann)))["image_id"] in s.images
    (3, True, True)
    """
    label = os.fspath(path)
    if not os.path.exists(label):
        raise InputError(f"input {what} not found (relative paths are taken from the current folder; "
                         f"give it with --{what.lower()})", label)
    side = _Side(label)
    n_res = 0
    seen_cats = set()
    for name, data in _read_one(label):
        mv = memoryview(data).cast("B")
        if mv[:3] == b"\xef\xbb\xbf":
            mv = mv[3:]
        try:
            if _first_byte(mv) == b"[":   # a results list: images and categories are A's
                if like is None:
                    raise InputError("a results list (top-level JSON list) cannot be side A", name)
                for raw in _DEC_RES.decode(mv):
                    n_res += 1
                    side.ann[n_res] = (raw, True)
                side.results = True
                continue
            f = _DEC_RAW.decode(mv)
            ids = _DEC_IDS.decode(mv).annotations
        except (msgspec.DecodeError, UnicodeDecodeError) as e:
            raise InputError(f"cannot read as COCO JSON ({e})", name) from None
        for i, raw in zip(ids, f.annotations):
            side.ann[i.id] = (raw, False)
        for im in _loads(f.images, name):
            side.images.setdefault(im["id"], im)
        for c in _loads(f.categories, name):
            if c["id"] not in seen_cats:
                seen_cats.add(c["id"])
                side.categories.append(c)
        if side.info is None:
            side.info = _loads(f.info, name)
        if side.licenses is None:
            side.licenses = _loads(f.licenses, name)
        del f, ids
    if side.results:
        side.images, side.categories = like.images, like.categories
    return side


# ------------------------------------------------------------------------------------------
# selecting rows
def _read_table(out_dir: Path) -> dict:
    """The columns of ``matches.parquet`` that :func:`export` uses, as numpy arrays (``*_has``:
    where a nullable column is set)."""
    import pyarrow as pa   # lazy: pyarrow costs start-up
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    path = out_dir / "matches.parquet"
    if not path.is_file():
        raise InputError("not found (expected the output folder of `cocodiff compare`)", str(path))
    try:
        schema = pq.read_schema(path)
        missing = [c for c in _NEEDED if c not in schema.names]
        if missing:
            raise InputError(f"not a `cocodiff compare` table (no column {', '.join(missing)})", str(path))
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"cannot read ({str(e).splitlines()[0] if str(e) else type(e).__name__})",
                         str(path)) from None
    if (out_dir / "summary.json").is_file():   # the pair checked to be one unit (cocodiff.matching)
        t, _ = read_output(out_dir, columns=_NEEDED)
    else:
        try:
            t = pq.read_table(path, columns=_NEEDED)
        except (pa.ArrowException, OSError) as e:
            raise InputError(f"cannot read ({str(e).splitlines()[0] if str(e) else type(e).__name__})",
                             str(path)) from None
    cols = {}
    for name in _NEEDED:
        c = t[name]
        if name == "relation":
            cols[name] = np.asarray(c.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)
        elif name in ("iou", "group_iou"):
            cols[name] = pc.fill_null(c, np.nan).to_numpy()
        else:
            cols[name + "_has"] = pc.is_valid(c).to_numpy(zero_copy_only=False)
            cols[name] = pc.fill_null(c, 0).to_numpy().astype(np.int64)
    return cols


def _category_ids(token, cats_a, cats_b):
    """A class given by name or id -> (ids in A, ids in B); None when neither side has it.

    Examples
    --------
    >>> cats = [{"id": 1, "name": "person"}, {"id": 18, "name": "dog"}]
    >>> _category_ids("dog", cats, cats), _category_ids(1, cats, []), _category_ids("7", cats, cats)
    (([18], [18]), ([1], []), None)
    """
    if isinstance(token, str):
        by_name = ([c["id"] for c in cats_a if c.get("name") == token],
                   [c["id"] for c in cats_b if c.get("name") == token])
        if by_name[0] or by_name[1]:
            return by_name
        low = token.strip().lower()   # then case-insensitive
        by_name = ([c["id"] for c in cats_a if str(c.get("name", "")).lower() == low],
                   [c["id"] for c in cats_b if str(c.get("name", "")).lower() == low])
        if by_name[0] or by_name[1]:
            return by_name
        try:
            token = int(token)
        except ValueError:
            return None
    if isinstance(token, bool) or not isinstance(token, (int, np.integer)):
        return None
    ids = ([c["id"] for c in cats_a if c["id"] == token], [c["id"] for c in cats_b if c["id"] == token])
    return ids if ids[0] or ids[1] else None


def select_rows(cols: dict[str, np.ndarray], relations: str | Iterable[str] | None = None,
                classes: str | int | Iterable[str | int] | None = None, images: int | Iterable[int] | None = None,
                cats_a: Sequence[dict[str, Any]] = (), cats_b: Sequence[dict[str, Any]] = ()) -> np.ndarray:
    """Boolean mask of the rows of ``matches.parquet`` chosen by relation, class and image.

    Parameters
    ----------
    cols : dict
        Columns ``relation``, ``image_id``, ``group``, ``a_category_id`` / ``b_category_id``
        with ``*_has`` validity masks (as :func:`export` reads them).
    relations : iterable of str, optional
        Relations to keep (default: all).
    classes : iterable of str or int, optional
        Category names or ids, of A or of B; a row is kept when its A or its B instance is of one
        of them, and then the rest of its split / merge group with it (default: all).
    images : iterable of int, optional
        Image ids (default: all).
    cats_a, cats_b : list of dict
        The categories of A and B (for names).

    Returns
    -------
    numpy.ndarray of bool

    Raises
    ------
    InputError
        An unknown relation or class.

    Examples
    --------
    >>> import numpy as np
    >>> cols = dict(relation=np.array(["matched", "split", "split", "added"], object),
    ...             image_id=np.array([1, 1, 1, 2]), group=np.array([-1, 0, 0, -1]),
    ...             a_category_id=np.array([1, 18, 18, 0]), a_category_id_has=np.array([1, 1, 1, 0], bool),
    ...             b_category_id=np.array([1, 18, 1, 18]), b_category_id_has=np.ones(4, bool))
    >>> cats = [{"id": 1, "name": "person"}, {"id": 18, "name": "dog"}]
    >>> select_rows(cols, relations=["split"]).tolist()
    [False, True, True, False]
    >>> select_rows(cols, classes=["person"], cats_a=cats, cats_b=cats).tolist()
    [True, True, True, False]
    >>> try:
    ...     select_rows(cols, relations=["spilt"])
    ... except InputError as e:
    ...     print(str(e)[:40])
    unknown relation 'spilt' (choose from ma
    """
    rel = cols["relation"]
    mask = np.ones(rel.shape[0], bool)
    if relations is not None:
        relations = [relations] if isinstance(relations, str) else list(relations)
        for r in relations:
            if r not in RELATIONS:
                raise InputError(f"unknown relation {r!r} (choose from {', '.join(RELATIONS)})")
        mask &= np.isin(rel, np.array(relations, dtype=object))
    if images is not None:
        images = [images] if isinstance(images, (int, np.integer)) else list(images)
        mask &= np.isin(cols["image_id"], np.asarray(images, dtype=np.int64))
    if classes is not None:
        classes = [classes] if isinstance(classes, (str, int, np.integer)) else list(classes)
        ids_a, ids_b = [], []
        for c in classes:
            got = _category_ids(c, list(cats_a), list(cats_b))
            if got is None:
                raise InputError(f"unknown class {c!r}: no category of A or B has this name or id")
            ids_a += got[0]
            ids_b += got[1]
        cm = (cols["a_category_id_has"] & np.isin(cols["a_category_id"], ids_a)) | \
             (cols["b_category_id_has"] & np.isin(cols["b_category_id"], ids_b))
        grp = cols["group"]
        groups = np.unique(grp[cm & (grp >= 0)])
        mask &= cm | ((grp >= 0) & np.isin(grp, groups))
    return mask


def _attributes(cols, sel, side: str):
    """Per selected instance of ``side`` ("a" or "b"): id -> (image id, attributes dict), in
    ascending id order."""
    other = "b" if side == "a" else "a"
    ids, has = cols[f"{side}_id"], cols[f"{side}_id_has"]
    oids, ohas = cols[f"{other}_id"], cols[f"{other}_id_has"]
    s = np.flatnonzero(sel & has)
    uid, first = np.unique(ids[s], return_index=True)
    rows = s[first]
    # every instance of the other side that any row of these instances names
    pm = has & ohas & np.isin(ids, uid)
    pairs = np.unique(np.stack([ids[pm], oids[pm]], axis=1), axis=0) if pm.any() else np.zeros((0, 2), np.int64)
    starts = np.searchsorted(pairs[:, 0], uid, "left")
    ends = np.searchsorted(pairs[:, 0], uid, "right")
    out = {}
    rel, grp, giou, iou, img = cols["relation"], cols["group"], cols["group_iou"], cols["iou"], cols["image_id"]
    for k, i in enumerate(uid.tolist()):
        r = rows[k]
        g = int(grp[r])
        v = float(giou[r] if g >= 0 else iou[r])
        out[i] = (int(img[r]), {"relation": str(rel[r]), "group": g, "iou": None if math.isnan(v) else v,
                                "counterpart": pairs[starts[k]:ends[k], 1].tolist()})
    return out


# ------------------------------------------------------------------------------------------
# writing
def _coco_bytes(side: _Side, chosen: dict, what: str):
    """The COCO file of ``side``'s chosen instances -> (bytes, n instances, n images)."""
    anns = []
    image_ids = {}
    missing = [i for i in chosen if i not in side.ann]
    if missing:
        raise InputError(f"annotation id {missing[0]} of matches.parquet is not in {what} "
                         f"({len(missing)} missing): is this the file that was compared?", side.path)
    for i in (i for i in side.ann if i in chosen):   # the input's order
        d = side.annotation(i)
        img, attrs = chosen[i]
        old = d.get("attributes")
        if isinstance(old, dict):
            attrs = {**old, **attrs}
        elif old is not None:
            log.warning("%s: annotation %s: its 'attributes' is not an object; replaced", side.path, i)
        d["attributes"] = attrs
        anns.append(d)
        image_ids[img] = None
    images = []
    for i in image_ids:
        if i not in side.images:
            raise InputError(f"image id {i} of matches.parquet is not in {what}", side.path)
    for i, im in side.images.items():   # the input's order
        if i in image_ids:
            images.append(im)
    doc = {}
    if side.info is not None:
        doc["info"] = side.info
    if side.licenses is not None:
        doc["licenses"] = side.licenses
    doc["images"] = images
    doc["annotations"] = anns
    doc["categories"] = side.categories
    return _dumps(doc), len(anns), len(images)


def _dumps(doc) -> bytes:
    return orjson.dumps(doc) + b"\n"


def write_all_or_nothing(files) -> list:
    """Write ``{final path: bytes}``: every file appears under its final name, or none does.

    Each file is written to a temporary file beside its final name and flushed to disk; then
    they are renamed into place one after the other. Should a write or a rename fail (or Ctrl-C
    arrive), the files already renamed are put back as they were (the previous file restored, or
    removed when there was none) and the temporary files are removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_all_or_nothing({d / "a.json": b"{}", d / "b.json": b"[]"})
    >>> sorted(p.name for p in d.iterdir())
    ['a.json', 'b.json']
    """
    staged = []    # (tmp, final)
    done = []      # (final, backup or None)
    try:
        for final, data in files.items():
            final = Path(final)
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=str(final.parent))
            staged.append((Path(name), final))
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(name, 0o666 & ~_umask())
        for tmp, final in staged:
            backup = None
            if final.exists():
                backup = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.bak")
                os.replace(final, backup)
            try:
                os.replace(tmp, final)
            except BaseException:
                if backup is not None:
                    os.replace(backup, final)
                raise
            done.append((final, backup))
    except BaseException:
        for final, backup in reversed(done):
            if backup is not None:
                os.replace(backup, final)
            else:
                final.unlink(missing_ok=True)
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for _, backup in done:
        if backup is not None:
            backup.unlink(missing_ok=True)
    return [final for _, final in staged]


# ------------------------------------------------------------------------------------------
def _input_paths(out_dir: Path, a, b):
    if a is not None and b is not None:
        return os.fspath(a), os.fspath(b)
    js = out_dir / "summary.json"
    if not js.is_file():
        raise InputError("not found (expected the output folder of `cocodiff compare`; or give both inputs "
                         "with --a and --b)", str(js))
    try:
        meta = json.loads(js.read_text(encoding="utf-8")).get("meta", {})
    except (OSError, ValueError, AttributeError) as e:
        raise InputError(f"cannot read the compare summary ({e})", str(js)) from None
    a = os.fspath(a) if a is not None else meta.get("a_path")
    b = os.fspath(b) if b is not None else meta.get("b_path")
    for what, p in (("A", a), ("B", b)):
        if not p:
            raise InputError(f"the summary names no input {what}; give it with --{what.lower()}", str(js))
    return a, b


def _same_file(p, q) -> bool:
    try:
        return os.path.samefile(p, q)
    except OSError:
        return False


def export(out_dir: str | os.PathLike, dest: str | os.PathLike, relations: str | Iterable[str] | None = None,
           classes: str | int | Iterable[str | int] | None = None, images: int | Iterable[int] | None = None,
           a: str | os.PathLike | None = None, b: str | os.PathLike | None = None) -> dict:
    """Write the instances of chosen rows of a ``cocodiff compare`` output as COCO files.

    Parameters
    ----------
    out_dir : str or Path
        The output folder of ``cocodiff compare`` (``matches.parquet``, ``summary.json``).
    dest : str or Path
        Folder to write ``a.json`` and ``b.json`` to (created if missing; files there of these
        names are replaced).
    relations : str or iterable of str, optional
        Relations to export (``matched``, ``split``, ``merged``, ``class_changed``, ``removed``,
        ``added``); default: all.
    classes : str, int or iterable of them, optional
        Category names or ids (of A or of B); a row is taken when either of its instances is of
        one of them, with the rest of its split / merge group; default: all.
    images : int or iterable of int, optional
        Image ids; default: all.
    a, b : str or Path, optional
        The inputs compared; default: those ``summary.json`` records (a relative one is taken
        from the current folder).

    Returns
    -------
    dict
        ``{"rows": n selected rows, "a": {...}, "b": {...}}``, each side ``{"path": Path of the
        written file, "source": the input, "instances": n, "images": n}``.

    Raises
    ------
    InputError
        No ``matches.parquet`` (or ``summary.json`` without ``a`` / ``b``), a missing or
        unreadable input, an unknown relation, class or image, or an input that does not hold
        the table's annotation ids. Nothing is written then.

    Examples
    --------
    >>> import tempfile, cocodiff
    >>> from cocodiff.export import export
    >>> d = tempfile.mkdtemp()
    >>> a = "data/coco2014_val100/instances_val2014_100.json"
    >>> b = "data/derived/val2014_100_fakesegm_as_annotations.json"
    >>> _ = cocodiff.compare(cocodiff.load(a), cocodiff.load(b), progress=False).write(d + "/out")  # doctest: +SKIP
    >>> r = export(d + "/out", d + "/changed", relations=["class_changed"], classes=["person"])  # doctest: +SKIP
    >>> r["a"]["instances"], r["b"]["path"].name  # doctest: +SKIP
    (23, 'b.json')
    """
    out_dir = Path(out_dir)
    dest = Path(dest)
    cols = _read_table(out_dir)
    pa_, pb_ = _input_paths(out_dir, a, b)
    if dest.exists() and not dest.is_dir():
        raise InputError("exists and is not a folder (the export's destination)", str(dest))
    for what, p in (("A", pa_), ("B", pb_)):
        for name in ("a.json", "b.json"):
            if _same_file(dest / name, p):
                raise InputError(f"the export would overwrite input {what}; choose another destination", str(p))
    if relations is not None:   # a bad relation fails before the inputs are read
        select_rows({k: v[:0] for k, v in cols.items()}, relations=relations)
    log.info("reading %s and %s", pa_, pb_)
    side_a = _read_side(pa_, "A")
    side_b = _read_side(pb_, "B", like=side_a)
    if images is not None:
        images = [images] if isinstance(images, (int, np.integer)) else list(images)
        known = set(side_a.images) | set(side_b.images)
        for i in images:
            if i not in known:
                raise InputError(f"unknown image id {i!r}: neither A nor B has it")
    sel = select_rows(cols, relations, classes, images, side_a.categories, side_b.categories)
    n_rows = int(sel.sum())
    if not n_rows:
        log.warning("no row of %s is selected: the export holds no instance", out_dir / "matches.parquet")
    data_a, na, ia = _coco_bytes(side_a, _attributes(cols, sel, "a"), "A")
    data_b, nb, ib = _coco_bytes(side_b, _attributes(cols, sel, "b"), "B")
    fa, fb = write_all_or_nothing({dest / "a.json": data_a, dest / "b.json": data_b})
    return {"rows": n_rows,
            "a": {"path": fa, "source": pa_, "instances": na, "images": ia},
            "b": {"path": fb, "source": pb_, "instances": nb, "images": ib}}
