"""Text tables of evaluations (``cocodiff eval``): the twelve numbers side by side, the AP per class,
the explanation's flip table and one-kind-at-a-time numbers."""
from __future__ import annotations

from ._cocoeval import STAT_NAMES
from ._eval_explain import Explanation


def _fmt(v) -> str:
    return "n/a" if v is None or v < 0 else f"{v:.3f}"


def _fmt_diff(a, b) -> str:
    """``b - a``, or n/a when either is missing (None, or -1: no ground truth that counts)."""
    return "n/a" if a is None or b is None or a < 0 or b < 0 else f"{b - a:+.3f}"


def format_stats(evs: list, names: list | None = None) -> str:
    """The twelve numbers of one evaluation or several side by side, with the difference (last
    minus first) when there are two or more."""
    names = names or [chr(ord("A") + i) for i in range(len(evs))]
    hdr = ["metric"] + list(names) + ([f"{names[-1]} - {names[0]}"] if len(evs) > 1 else [])
    rows = []
    for i, lab in enumerate(STAT_NAMES):
        vals = [float(e.stats[i]) for e in evs]
        r = [lab] + [_fmt(v) for v in vals]
        if len(evs) > 1:
            r.append(_fmt_diff(vals[0], vals[-1]))
        rows.append(r)
    return _table(hdr, rows)


def format_per_class(evs: list, names: list | None = None) -> str:
    """Per-category AP (IoU 0.50:0.95, area all, maxDets 100) of one evaluation or several side
    by side, with the difference when there are two or more; categories absent from every
    ground truth's evaluation (no ground truth that counts) are left out."""
    names = names or [chr(ord("A") + i) for i in range(len(evs))]
    tables = [{r["id"]: r for r in e.per_class()} for e in evs]
    ids = sorted(set().union(*tables))
    hdr = ["id", "name"] + [f"AP {n}" for n in names] + [f"n_gt {n}" for n in names]
    if len(evs) > 1:
        hdr.append(f"AP {names[-1]} - {names[0]}")
    rows = []
    for cid in ids:
        rs = [t.get(cid) for t in tables]
        aps = [r["AP"] if r else None for r in rs]
        if all(a is None for a in aps):
            continue
        name = next(r["name"] for r in rs if r)
        row = [str(cid), name] + [_fmt(a) for a in aps] + [str(r["n_gt"]) if r else "-" for r in rs]
        if len(evs) > 1:
            row.append(_fmt_diff(aps[0], aps[-1]))
        rows.append(row)
    return _table(hdr, rows, left=2)


def _table(hdr, rows, left=1) -> str:
    widths = [max(len(r[c]) for r in [hdr] + rows) for c in range(len(hdr))]
    lines = []
    for r in [hdr] + rows:
        cells = [r[c].ljust(widths[c]) if c < left else r[c].rjust(widths[c]) for c in range(len(r))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def format_explanation(ex: Explanation) -> str:
    """The flip table and the one-kind-at-a-time numbers, as text."""
    lines = ["why the numbers moved: each detection's status at IoU 0.50 (area all, maxDets 100) under A and B;",
             ("a change of status is put down to the kind of change of the instance it hit (its A match, "
              "else its B match)")]
    rows = [[r["kind"] or "(status unchanged)", r["a"], r["b"], f"{r['detections']:,}"] for r in ex.flips]
    total = sum(r["detections"] for r in ex.flips)
    rows.append(["total", "", "", f"{total:,}"])
    lines.append(_table(["kind of change", "A", "B", "detections"], rows, left=3))
    if ex.what_if:
        lines.append("")
        lines.append("AP / AP50 on A with one kind of change applied (A's instances of that kind replaced by B's):")
        a0, b0 = ex.a.stats, ex.b.stats
        rows = [["none (A)", "", "", _fmt(a0[0]), _fmt(a0[1]), ""]]
        for w in ex.what_if:
            st = w["stats"]
            rows.append([w["kind"], f"{w['a_instances']:,}", f"{w['b_instances']:,}", _fmt(st[0]), _fmt(st[1]),
                         _fmt_diff(a0[0], st[0])])
        rows.append(["all (B)", "", "", _fmt(b0[0]), _fmt(b0[1]), _fmt_diff(a0[0], b0[0])])
        lines.append(_table(["kind applied", "A inst.", "B inst.", "AP", "AP50", "AP - AP(A)"], rows, left=1))
    return "\n".join(lines)
