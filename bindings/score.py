"""Score a comparison against known truth (a generator's ``truth.json``): per-relation precision /
recall on both sides and the confusion.

Every A and every B instance has one true relation (``truth["a"]`` / ``truth["b"]``: ``id`` and
``relation`` lists, as :mod:`cocodiff.synth` writes them) and one relation in the comparison's
table (a split whole or merge whole appears in one row per part, always with the same relation).
The agreement of a side is the share of its instances whose two relations are equal.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from .relations import REL_CODE, RELATIONS

if TYPE_CHECKING:
    import pyarrow as pa

    from .comparison import Comparison

__all__ = ["score", "format_score"]


def _load_truth(truth):
    if isinstance(truth, dict):
        return truth
    with open(truth, "rb") as f:
        return orjson.loads(f.read())


def _load_table(result):
    """A pyarrow Table from a Comparison, a Table, or a compare output folder / Parquet file."""
    if hasattr(result, "table"):
        return result.table
    if hasattr(result, "column"):
        return result
    import pyarrow.parquet as pq   # lazy: pyarrow is slow to import, and only a path needs it
    path = os.fspath(result)
    if os.path.isdir(path):
        path = os.path.join(path, "matches.parquet")
    return pq.read_table(path, columns=["a_id", "b_id", "relation"])


def _side(ids_true, rel_true, ids_pred, rel_pred):
    """Per-instance (true code, predicted code) of one side; predicted -1 where the instance is
    missing from the table (a comparison must list every instance)."""
    t_ids = np.asarray(ids_true, np.int64)
    t_rel = np.array([REL_CODE[r] for r in rel_true], np.int64)
    ok = ~np.isnan(ids_pred)
    p_ids = ids_pred[ok].astype(np.int64)
    p_rel = rel_pred[ok]
    uid, first = np.unique(p_ids, return_index=True)
    pred = np.full(t_ids.size, -1, np.int64)
    pos = np.searchsorted(uid, t_ids)
    pos_c = np.minimum(pos, max(uid.size - 1, 0))
    hit = uid[pos_c] == t_ids if uid.size else np.zeros(t_ids.size, bool)
    pred[hit] = p_rel[first[pos_c[hit]]]
    extra = int(np.setdiff1d(uid, t_ids).size)
    return t_rel, pred, extra


def score(result: Comparison | pa.Table | str | os.PathLike, truth: dict[str, Any] | str | os.PathLike) -> dict:
    """Agreement of a comparison with the truth.

    Parameters
    ----------
    result : Comparison, pyarrow Table, or a ``compare`` output folder / ``matches.parquet``.
    truth : dict or path of ``truth.json``.

    Returns
    -------
    dict -- per side (``"a"``, ``"b"``): ``instances``, ``agreement`` (share with the true
    relation), ``missing`` (true instances absent from the table), ``unknown`` (table ids not in
    the truth), ``per_relation`` {relation: {true, predicted, correct, precision, recall}} and
    ``confusion`` {true relation: {predicted relation: count}} (``"missing"`` as a column).

    Examples
    --------
    >>> s = score("out/", "twin/truth.json")               # doctest: +SKIP
    >>> s["a"]["agreement"] >= 0.99                          # doctest: +SKIP
    True
    """
    t = _load_truth(truth)
    tab = _load_table(result)
    rel = np.array([REL_CODE[r] for r in tab.column("relation").to_pylist()], np.int64)
    out = {}
    for side in ("a", "b"):
        ids = np.array([np.nan if v is None else v for v in tab.column(f"{side}_id").to_pylist()], np.float64)
        t_rel, pred, extra = _side(t[side]["id"], t[side]["relation"], ids, rel)
        n = int(t_rel.size)
        per = {}
        for k, r in enumerate(RELATIONS):
            tr = int(np.sum(t_rel == k))
            pr = int(np.sum(pred == k))
            c = int(np.sum((t_rel == k) & (pred == k)))
            per[r] = dict(true=tr, predicted=pr, correct=c, precision=c / pr if pr else None,
                          recall=c / tr if tr else None)
        conf = {}
        for k, r in enumerate(RELATIONS):
            row = {}
            sel = t_rel == k
            for j, q in enumerate(RELATIONS):
                row[q] = int(np.sum(pred[sel] == j))
            row["missing"] = int(np.sum(pred[sel] == -1))
            conf[r] = row
        out[side] = dict(instances=n, agreement=float(np.mean(t_rel == pred)) if n else 1.0,
                         missing=int(np.sum(pred == -1)), unknown=extra, per_relation=per, confusion=conf)
    return out


def format_score(s: dict[str, Any]) -> str:
    """The score as aligned text: agreement per side, then per relation precision / recall and
    the confusion (rows: true relation, columns: what the comparison said)."""
    lines = []
    for side, name in (("a", "A"), ("b", "B")):
        d = s[side]
        lines.append(f"{name}: {d['instances']:,} instances, {100 * d['agreement']:.2f} % with their true relation"
                     + (f", {d['missing']:,} missing from the table" if d["missing"] else ""))
        lines.append(f"  {'relation':<15}{'true':>9}{'said':>9}{'precision':>11}{'recall':>9}")
        for r, v in d["per_relation"].items():
            if not (v["true"] or v["predicted"]):
                continue
            p = "-" if v["precision"] is None else f"{100 * v['precision']:.2f} %"
            rc = "-" if v["recall"] is None else f"{100 * v['recall']:.2f} %"
            lines.append(f"  {r:<15}{v['true']:>9,}{v['predicted']:>9,}{p:>11}{rc:>9}")
        cols = [r for r in RELATIONS if d["per_relation"][r]["predicted"]] + (["missing"] if d["missing"] else [])
        lines.append("  confusion (rows: truth, columns: said)")
        lines.append("  " + " " * 15 + "".join(f"{c[:13]:>14}" for c in cols))
        for r in RELATIONS:
            if not d["per_relation"][r]["true"]:
                continue
            lines.append(f"  {r:<15}" + "".join(f"{d['confusion'][r][c]:>14,}" for c in cols))
    return "\n".join(lines)
