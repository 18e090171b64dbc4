"""The result of :func:`cocodiff.compare`: the relation table, its summary and its output folder.

:class:`Comparison` holds the table (one row per relation; columns :data:`COLUMNS`, described
in :mod:`cocodiff.matching`), the image report and the run's parameters; it writes
``matches.parquet`` and ``summary.json`` as one unit, and :func:`read_output` reads them back,
checked. :func:`table_from_batches` builds the table from the per-batch columns the comparison
produces; :func:`renumber_groups` numbers split / merged groups in table order (batches and Dask
shards number theirs independently).

pyarrow, pandas and orjson are imported inside the functions that use them, so that importing
this module (and :mod:`cocodiff.matching`) stays cheap.
"""
from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field

import numpy as np
import orjson

from ._io import atomic_path, file_sha256, folder_lock, remove_stale_temps, sigint_deferred
from .errors import InputError
from .relations import AMBIGUITY, REL_CODE, RELATIONS

__all__ = ["Comparison", "read_output"]


#: the table's columns in order, with their types
COLUMNS = [
    ("image_id", "int64"), ("file_name", "str"), ("a_id", "int64"), ("b_id", "int64"),
    ("a_category_id", "int64"), ("a_category", "str"), ("b_category_id", "int64"), ("b_category", "str"),
    ("relation", "str"), ("group", "int64"), ("group_iou", "float64"), ("part_share", "float64"),
    ("ambiguity", "str"), ("iou", "float64"), ("iou_plain", "float64"), ("boundary_iou", "float64"),
    ("intersection", "int64"), ("a_area", "int64"), ("b_area", "int64"),
    ("a_vertices", "int64"), ("b_vertices", "int64"), ("a_iscrowd", "bool"), ("b_iscrowd", "bool"),
    ("crowd_changed", "bool"), ("very_small", "bool"), ("area_ratio", "float64"), ("bbox_shift", "float64"),
    ("bbox_corner_shift", "float64"),
]


@dataclass(frozen=True)
class Names:
    """What the table's name columns index: image ids (sorted) with their file names (A's, else
    B's), category ids (sorted) with their names (A's, else B's)."""

    image_ids: np.ndarray
    file_names: np.ndarray
    cat_ids: np.ndarray
    cat_names: np.ndarray

    @classmethod
    def of(cls, A, B, ids, in_a, in_b) -> Names:
        """The names of the images ``ids`` (``in_a`` / ``in_b``: present in A / B) and of both
        sides' categories."""
        fn = np.empty(ids.shape[0], object)
        for ds, present in ((B, in_b), (A, in_a)):   # A's name wins
            rows = np.searchsorted(ds.image_id, ids[present])
            fn[present] = ds.file_name[rows]
        fn[fn == None] = ""   # noqa: E711 -- an image in neither (cannot happen) or without a name
        cat_ids = np.union1d(A.cat_id, B.cat_id).astype(np.int64)
        cn = np.empty(cat_ids.shape[0], object)
        for ds in (B, A):
            cn[np.searchsorted(cat_ids, ds.cat_id)] = ds.cat_name
        return cls(ids.astype(np.int64), fn, cat_ids, cn)

    @classmethod
    def empty(cls) -> Names:
        z = np.zeros(0, np.int64)
        return cls(z, np.zeros(0, object), z, np.zeros(0, object))


def table_from_batches(parts: list, names: Names | None = None):
    """The batches' columns (consecutive image ranges, see :func:`cocodiff.matching._compare_batch`)
    -> one pyarrow Table, a chunk per batch: no copy of all rows into one set of arrays.

    Every batch's rows are put in the canonical order on their own (images do not span
    batches, so that is the global order) and its groups renumbered after the previous
    batches' (groups do not span batches either)."""
    import pyarrow as pa   # lazy: pyarrow / pandas cost start-up
    names = names if names is not None else Names.empty()
    if not parts:
        return _to_arrow({}, names)[0]
    tables = []
    base = 0
    for cols in parts:
        t, base = _to_arrow(cols, names, presorted=True, group_base=base)
        tables.append(t)
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


def _to_arrow(cols, names, presorted=False, group_base=0):
    """Columns -> (pyarrow Table in the canonical row order, ``group_base`` + its groups)
    (``presorted``: rows may already be in it; group ids from ``group_base`` on)."""
    import pyarrow as pa   # lazy: pyarrow / pandas cost start-up

    from . import _arrow

    n = cols["relation"].shape[0] if cols else 0
    if n == 0:
        cols = {name: np.zeros(0, np.int64 if t != "float64" else np.float64) for name, t in COLUMNS}
        cols["relation"] = np.zeros(0, np.int8)
        cols["ambiguity"] = np.zeros(0, np.int8)
        cols["a_iscrowd"] = cols["b_iscrowd"] = np.zeros(0, np.int8)
    rel = cols["relation"]
    has_a = rel != REL_CODE["added"]
    has_b = rel != REL_CODE["removed"]
    # deterministic order: image, then a_id (absent last), then b_id
    a_key = np.where(has_a, cols["a_id"], np.iinfo(np.int64).max)
    b_key = np.where(has_b, cols["b_id"], np.iinfo(np.int64).max)
    if presorted and _is_sorted(cols["image_id"], a_key, b_key):
        order = None
    else:
        order = np.lexsort((b_key, a_key, cols["image_id"]))
    out = {}
    n_groups = 0
    for name, typ in COLUMNS:
        v = cols[name] if order is None else cols[name][order]
        if name == "group":
            v, n_groups = renumber_groups(v, group_base)
        if name == "relation":
            out[name] = pa.DictionaryArray.from_arrays(_arrow.array(v.astype(np.int32)), _arrow.strings(RELATIONS))
            continue
        if name in ("file_name", "a_category", "b_category"):   # indices into the names
            d = names.file_names if name == "file_name" else names.cat_names
            out[name] = pa.DictionaryArray.from_arrays(_arrow.array(v.astype(np.int32), mask=v < 0),
                                                       _arrow.strings(d.tolist()))
            continue
        if name == "ambiguity":   # null where the relation is clear-cut
            out[name] = pa.DictionaryArray.from_arrays(_arrow.array(v.astype(np.int32) - 1, mask=v == 0),
                                                       _arrow.strings(AMBIGUITY[1:]))
            continue
        mask = None
        if name.startswith("a_"):
            mask = _take(~has_a, order)
        elif name.startswith("b_"):
            mask = _take(~has_b, order)
        elif name in ("intersection",):
            mask = _take(~(has_a & has_b), order)
        if typ == "bool":
            v = v.astype(bool) if v.dtype != np.int8 else (v == 1)
        elif typ == "float64":  # undefined measures (no counterpart, 0/0) are nulls, not NaN
            undefined = np.isnan(v)
            mask = undefined if mask is None else (mask | undefined)
        out[name] = _arrow.array(v, mask=mask)
    t = pa.table(out)
    # plain string column (dictionary kept out of the file for the widest reader support)
    for name in ("relation", "ambiguity", "file_name", "a_category", "b_category"):
        t = t.set_column(t.schema.get_field_index(name), name, t.column(name).cast(pa.string()))
    return t, group_base + n_groups


def renumber_groups(g: np.ndarray, base: int = 0) -> tuple[np.ndarray, int]:
    """Group ids ``base``, ``base + 1``, ... by first appearance in table order (-1 stays -1);
    returns them and the number of groups.

    Batches (and Dask shards) number their groups independently; renumbering in the final row
    order makes ``group`` independent of ``batch_images`` and of the sharding.

    Examples
    --------
    >>> ids, n = renumber_groups(np.array([7, -1, 3, 7, 5]), base=10)
    >>> ids.tolist(), n
    ([10, -1, 11, 10, 12], 3)
    """
    pos = g >= 0
    if not pos.any():
        return g, 0
    vals = g[pos]
    uniq, first = np.unique(vals, return_index=True)
    rank = np.empty(uniq.shape[0], np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(base, base + uniq.shape[0], dtype=np.int64)
    out = g.copy()
    out[pos] = rank[np.searchsorted(uniq, vals)]
    return out, int(uniq.shape[0])


def _take(v, order):
    return v if order is None else v[order]


def _is_sorted(k1, k2, k3):
    """Rows already in lexicographic (k1, k2, k3) order?"""
    if k1.size < 2:
        return True
    d1 = np.diff(k1)
    if (d1 < 0).any():
        return False
    tie = d1 == 0
    if (tie & (k2[1:] < k2[:-1])).any():
        return False
    tie &= k2[1:] == k2[:-1]
    return not (tie & (k3[1:] < k3[:-1])).any()


def _unique_inverse(x):
    """``np.unique(x, return_inverse=True)`` for int64 ``x``; without a sort when the values
    span a range not much larger than their number (image and category ids)."""
    if x.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lo, hi = int(x.min()), int(x.max())
    if hi - lo > 4 * x.size + (1 << 20):
        return np.unique(x, return_inverse=True)
    present = np.zeros(hi - lo + 1, bool)
    present[x - lo] = True
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) + lo, rank[x - lo]


def _nanmean(x):
    x = np.asarray(x, dtype=np.float64)
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else None


@dataclass
class Comparison:
    """Result of :func:`cocodiff.compare`.

    Attributes
    ----------
    table : pyarrow.Table -- one row per relation (see :mod:`cocodiff.matching`).
    params : dict -- thresholds and mode used.
    images : dict -- images only in A / only in B / with different sizes (counts, examples).
    meta : dict -- inputs, instance and vertex totals, category names.
    timings : dict -- wall and CPU seconds per stage of :func:`cocodiff.compare` (rasterise, mask_facts,
        candidates, intersections, relations, boundary_iou, rows, table; summed over the threads
        when batches run at once); not part of the summary.
    """

    table: object
    params: dict
    images: dict
    meta: dict
    timings: dict = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        rel = self.table.column("relation").value_counts().to_pylist() if self.table.num_rows else []
        counts = ", ".join(f"{d['values']}={d['counts']}" for d in rel)
        return f"Comparison({self.meta.get('a_path')!r} vs {self.meta.get('b_path')!r}: {counts or 'no rows'})"

    def to_pandas(self):
        """The table as a pandas DataFrame; integer and boolean columns keep their nulls as pandas'
        nullable ``Int64`` / ``boolean`` dtypes (an absent ``b_id`` is ``<NA>``, not a float NaN),
        floats are ``float64`` with NaN for nulls, names and relations are strings.

        Examples
        --------
        >>> df = cocodiff.compare("a.json", "b.json").to_pandas()   # doctest: +SKIP
        """
        import pandas as pd   # lazy: pyarrow / pandas cost start-up
        import pyarrow as pa
        return self.table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get)

    def _np(self, name):
        from . import _arrow   # lazy: pyarrow / pandas cost start-up
        col = self.table.column(name)
        if name == "relation":
            return np.asarray(col.to_pylist(), dtype=object)
        return _arrow.to_numpy(col)   # as col.to_numpy(zero_copy_only=False), without importing pandas

    def _rel_codes(self):
        """``relation`` as int64 indices into :data:`RELATIONS`."""
        import pyarrow as pa   # lazy: pyarrow / pandas cost start-up
        import pyarrow.compute as pc

        from . import _arrow
        col = self.table.column("relation")
        if col.type != pa.string():
            col = col.cast(pa.string())
        idx = pc.index_in(col, value_set=_arrow.strings(RELATIONS))
        if idx.null_count:
            raise ValueError("unknown relation in the table")
        return np.asarray(_arrow.to_numpy(idx), dtype=np.int64)

    def summary(self, top: int = 20) -> dict:
        """Counts, means and rankings as a JSON-ready dict.

        Keys: ``relations`` (row count per relation), ``matched`` (mean IoU / Boundary IoU,
        crowd changes), ``vertices`` (totals per side, all and matched), ``images``,
        ``per_class`` (list: category id, name, row counts per relation -- A's category,
        B's for ``added`` -- and mean IoU of matched), ``per_image`` (columnar: image_id
        and one count list per relation), ``most_changed`` (top ``top`` images by
        ``non-matched rows + (1 - mean IoU of matched rows)``, mean IoU 0 when none
        matched), ``params``, ``meta``.

        Examples
        --------
        >>> cocodiff.compare("a.json", "b.json").summary()["relations"]   # doctest: +SKIP
        {'matched': 6, 'split': 2, ...}
        """
        code = self._rel_codes()
        iou = self._np("iou").astype(np.float64)
        biou = self._np("boundary_iou").astype(np.float64)
        img = self._np("image_id").astype(np.int64)
        is_m = code == REL_CODE["matched"]
        n_rel = len(RELATIONS)
        cnt = np.bincount(code, minlength=n_rel)
        relations = {r: int(cnt[k]) for k, r in enumerate(RELATIONS)}
        av = self._np("a_vertices")
        bv = self._np("b_vertices")
        av = np.nan_to_num(np.asarray(av, dtype=np.float64))
        bv = np.nan_to_num(np.asarray(bv, dtype=np.float64))
        cc = np.asarray(self._np("crowd_changed"), dtype=bool)
        matched = dict(count=relations["matched"], mean_iou=_nanmean(iou[is_m]),
                       mean_boundary_iou=_nanmean(biou[is_m]), crowd_changed=int(np.sum(cc & is_m)))
        vertices = dict(a_total=self.meta["a_vertices"], b_total=self.meta["b_vertices"],
                        a_matched=int(av[is_m].sum()), b_matched=int(bv[is_m].sum()))
        # per class (integer relation codes; each class's matched IoUs in row order, as a mask would give)
        acat = np.nan_to_num(np.asarray(self._np("a_category_id"), dtype=np.float64), nan=-1).astype(np.int64)
        bcat = np.nan_to_num(np.asarray(self._np("b_category_id"), dtype=np.float64), nan=-1).astype(np.int64)
        cat = np.where(code == REL_CODE["added"], bcat, acat)
        names = self.meta.get("categories", {})
        ucat, cinv = _unique_inverse(cat)
        ccnt = np.bincount(cinv * n_rel + code, minlength=ucat.size * n_rel).reshape(ucat.size, n_rel)
        im = np.flatnonzero(is_m)
        im = im[np.argsort(cinv[im], kind="stable")]
        cut = np.searchsorted(cinv[im], np.arange(ucat.size + 1))
        per_class = []
        for j, c in enumerate(ucat):
            d = dict(category_id=int(c), name=names.get(int(c), ""))
            for k, r in enumerate(RELATIONS):
                d[r] = int(ccnt[j, k])
            d["mean_iou"] = _nanmean(iou[im[cut[j]:cut[j + 1]]])
            per_class.append(d)
        # per image
        uimg, inv = _unique_inverse(img)
        per_image = {"image_id": uimg.tolist()}
        icnt = np.bincount(inv * n_rel + code, minlength=uimg.size * n_rel).reshape(uimg.size, n_rel)
        for k, r in enumerate(RELATIONS):
            per_image[r] = icnt[:, k].astype(np.int64).tolist()
        n_non = np.bincount(inv, weights=~is_m, minlength=uimg.size)
        n_m = np.bincount(inv, weights=is_m, minlength=uimg.size)
        s_iou = np.bincount(inv, weights=np.where(is_m, np.nan_to_num(iou), 0.0), minlength=uimg.size)
        mean_iou = np.where(n_m > 0, s_iou / np.maximum(n_m, 1), 0.0)
        score = n_non + (1.0 - mean_iou)
        order = np.lexsort((uimg, -score))[:top]
        most = [dict(image_id=int(uimg[i]), score=float(score[i]), non_matched=int(n_non[i]),
                     matched=int(n_m[i]), mean_iou=float(mean_iou[i]) if n_m[i] else None) for i in order]
        return dict(relations=relations, groups=self._groups(code), ambiguous=self._ambiguous(),
                    matched=matched, vertices=vertices, images=self.images, per_class=per_class,
                    per_image=per_image, most_changed=most, params=self.params,
                    meta={k: v for k, v in self.meta.items() if k != "categories"})

    def _groups(self, code):
        """Split / merged groups and their parts; crowds decomposed, with their kinds of parts."""
        grp = self._np("group").astype(np.int64)
        a_crowd = np.asarray(self._np("a_iscrowd"), dtype=bool)
        b_crowd = np.asarray(self._np("b_iscrowd"), dtype=bool)
        out = {}
        for rel in ("split", "merged"):
            sel = code == REL_CODE[rel]
            out[rel] = dict(groups=int(np.unique(grp[sel]).size), parts=int(sel.sum()))
        cs = (code == REL_CODE["split"]) & a_crowd
        out["crowds_decomposed"] = dict(groups=int(np.unique(grp[cs]).size),
                                        individuals=int(np.sum(cs & ~b_crowd)),
                                        remaining_crowds=int(np.sum(cs & b_crowd)))
        return out

    def _ambiguous(self):
        """Rows per ``ambiguity`` reason (see :mod:`cocodiff.relations`)."""
        import pyarrow.compute as pc   # lazy: pyarrow / pandas cost start-up
        out = dict.fromkeys(AMBIGUITY[1:], 0)
        if self.table.num_rows:
            for d in pc.value_counts(self.table.column("ambiguity")).to_pylist():
                if d["values"] is not None:
                    out[d["values"]] = int(d["counts"])
        return out

    def write(self, out_dir: str | os.PathLike) -> dict:
        """Write ``matches.parquet`` and ``summary.json`` into ``out_dir``, as one unit.

        Both go to temporary files first; only when both are complete are they renamed into
        place, with Ctrl-C held for those two renames (an interrupt before leaves the folder as
        it was, without temporary files). ``summary.json`` records the SHA-256 of the table's
        bytes (``matches_sha256``): :func:`read_output` refuses a pair whose parts come from two
        runs (a kill between the renames). A second writer into the same folder meanwhile is
        refused (:func:`cocodiff._io.folder_lock`); temporary files a killed run left are removed.
        Returns the summary dict.

        Examples
        --------
        >>> cocodiff.compare("a.json", "b.json").write("out/")   # doctest: +SKIP
        """
        import pyarrow.parquet as pq   # lazy: pyarrow / pandas cost start-up

        summ = self.summary()
        with folder_lock(out_dir, "compare"), ExitStack() as stack:
            remove_stale_temps(out_dir, ("matches.parquet", "summary.json"))
            tmp_m = stack.enter_context(atomic_path(os.path.join(out_dir, "matches.parquet")))
            tmp_s = stack.enter_context(atomic_path(os.path.join(out_dir, "summary.json")))
            # dictionary pages only where values repeat (ids and measures are mostly distinct:
            # trying a dictionary for them costs a third of the write time)
            pq.write_table(self.table, tmp_m, use_dictionary=["relation", "a_category_id", "b_category_id",
                                                               "file_name", "a_category", "b_category", "ambiguity"])
            summ["matches_sha256"] = file_sha256(tmp_m)
            tmp_s.write_bytes(orjson.dumps(summ, option=orjson.OPT_INDENT_2) + b"\n")
            with sigint_deferred():
                stack.close()   # the renames: summary.json, then matches.parquet
        return summ


def read_output(out_dir: str | os.PathLike, columns: list[str] | None = None) -> tuple:
    """``(table, summary)`` of a ``compare`` output folder, checked to be one unit.

    Raises :class:`cocodiff.errors.InputError` (one line naming the file) when a file is missing,
    unreadable or truncated, or when the table is not the one the summary was written with
    (``matches_sha256``: a run killed between its two renames, or two runs into one folder).

    Examples
    --------
    >>> table, summ = read_output("out/")                   # doctest: +SKIP
    """
    import pyarrow as pa   # lazy: pyarrow / pandas cost start-up
    import pyarrow.parquet as pq

    out_dir = os.fspath(out_dir)
    ps, pm = os.path.join(out_dir, "summary.json"), os.path.join(out_dir, "matches.parquet")
    for f in (ps, pm):
        if not os.path.isfile(f):
            raise InputError(f"no {os.path.basename(f)} here: not a cocodiff compare output folder", f,
                             kind="")
    try:
        with open(ps, "rb") as f:
            summ = orjson.loads(f.read())
        if not isinstance(summ, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as e:
        raise InputError(f"unreadable summary ({e}); run cocodiff compare again", ps, kind="") from None
    want = summ.get("matches_sha256")
    if want is not None and file_sha256(pm) != want:
        raise InputError("matches.parquet is not the table this summary.json was written with (a run was "
                         "interrupted between its two files, or two runs wrote into this folder); run cocodiff "
                         "compare again", pm, kind="")
    try:
        table = pq.ParquetFile(pm).read(columns=columns)   # not read_table: its dataset import costs ~0.3 s
    except (OSError, pa.ArrowException) as e:
        raise InputError(f"unreadable table ({str(e).splitlines()[0] if str(e) else type(e).__name__}); run "
                         "cocodiff compare again", pm, kind="") from None
    return table, summ
