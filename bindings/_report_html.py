"""The report's HTML building blocks: escaping, number cells, tables, relation markers, and the
colours and names of the two sides and of the relations (:mod:`cocodiff.report`)."""
from __future__ import annotations

import base64
import html

import numpy as np

from .relations import RELATIONS

#: outline / bar colour of side A (reference) and side B
COLOR_A = "#1f6fd1"
COLOR_B = "#e8590c"
_REL_COLORS = {"matched": "#2f9e44", "split": "#7048e8", "merged": "#d6336c", "class_changed": "#f59f00",
               "removed": "#495057", "added": "#1098ad"}
#: relations in the order the examples and legends show them
_REL_ORDER = RELATIONS[1:] + RELATIONS[:1]   # the changes first, matched last
_REL_TITLE = {"matched": "matched", "split": "split", "merged": "merged", "class_changed": "class changed",
              "removed": "removed", "added": "added"}


def _esc(x) -> str:
    return html.escape(str(x), quote=True)


def _png_uri(png: bytes) -> str:
    """A ``data:image/png;base64,`` URI of PNG bytes (the page embeds every picture)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return "-"
        return f"{v:.3f}"
    return f"{int(v):,}"


def _table(header, rows, num_from=1, cls=None) -> str:
    """HTML table; columns from ``num_from`` on are right-aligned. Cells are pre-escaped strings
    or numbers; a cell may be a ``(text, css_class)`` pair."""
    out = ['<table>' if cls is None else f'<table class="{cls}">', "<thead><tr>"]
    for j, h in enumerate(header):
        out.append(f'<th class="num">{_esc(h)}</th>' if j >= num_from else f"<th>{_esc(h)}</th>")
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>")
        for j, c in enumerate(r):
            css = "num" if j >= num_from else ""
            if isinstance(c, tuple):
                c, extra = c
                css = (css + " " + extra).strip()
            text = c if isinstance(c, str) else _fmt(c)
            out.append(f'<td class="{css}">{text}</td>' if css else f"<td>{text}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _diff_cell(a, b):
    d = b - a
    return (f"{d:+,}", "pos" if d > 0 else ("neg" if d < 0 else ""))


def _ratio(a, b) -> str:
    return f"{b / a:.3f}" if a else ("-" if b == 0 else "inf")


def _short(names, n=14):
    return [s if len(s) <= n else s[: n - 1] + "\u2026" for s in names]


def _rel_color(rel) -> str:
    return _REL_COLORS.get(rel, "#495057")


def _marker_html(text, rel) -> str:
    """A marker in the colour of relation ``rel``: a gallery number, or ``&nbsp;`` for a colour key."""
    return f'<span class="mk" style="background:{_rel_color(rel)}">{text}</span>'


def _rel_key() -> str:
    return '<p class="relkey">' + " ".join(_marker_html("&nbsp;", r) + _esc(_REL_TITLE[r]) for r in _REL_ORDER) + "</p>"
