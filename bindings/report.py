"""A self-contained HTML report of two annotation sets: :func:`write_report`.

The report is ONE ``.html`` file with inline CSS and every plot embedded as a base64
``data:image/png`` URI -- no network access (nor any other file) is needed to view it.

Sections (element ids): ``overview``; ``stats`` (the Sama-COCO table of
:func:`cocodiff.stats` for A and B with B - A and B / A); ``classes`` (instances per class,
A vs B); ``sizes`` (size-bucket shares); ``vertices`` (vertices per polygon instance);
``relations`` (rows per relation and class, from :func:`cocodiff.compare`, and the class
changes "dog → cat" with their counts); ``iou`` (IoU and Boundary IoU histograms of matched
pairs, and their means per class); ``examples`` (per relation -- ``ex-split``, ``ex-merged``,
``ex-class_changed``, ``ex-removed``, ``ex-added``, ``ex-matched`` -- up to ``examples`` crops
around the instances, deterministic: the largest wholes / instances, one per image and class
first, the matched pairs of lowest IoU; a split shows its whole and all its parts, a merge
likewise; each with its class names and IoU / group IoU); ``gallery`` (the ``top`` most
changed images of the comparison summary's ranking, A and B outlines in two colours, a
numbered marker per pair, instance or split / merge group coloured by relation, and a legend
table of the numbers: relation, class names, IoU / group IoU, annotation ids). Images are
drawn over the image file when ``images_dir`` has it, else over a blank canvas of the image's
size; when ``images_dir`` holds none of the files looked for, a notice at the top of the page
(and a logged warning) says so and names the files.

Charts are drawn with matplotlib (a dependency) on its Agg canvas, without pyplot
(:mod:`cocodiff._report_charts`); the gallery and the crops with Pillow
(:mod:`cocodiff._report_views`); the comparison's rows, the relation units and the table
sections come from :mod:`cocodiff._report_data`. The page is filled into the
``templates/report.html`` package file with :class:`string.Template`.
"""
from __future__ import annotations

import datetime as _dt
import logging
import os
from importlib import resources
from pathlib import Path
from string import Template

from . import __version__
from ._io import write_bytes_atomic
from ._report_charts import (
    ReportDependencyError,
    _classes_section,
    _iou_section,
    _mpl,
    _relations_section,
    _sizes_section,
    _vertices_section,
)
from ._report_data import (
    _class_changes,
    _example_candidates,
    _image_info,
    _names,
    _overview,
    _Rows,
    _Side,
    _stats_section,
)
from ._report_html import _REL_ORDER, COLOR_A, COLOR_B, _esc
from ._report_views import _examples_section, _gallery_section, _ImageFiles
from .comparison import Comparison, read_output
from .dataset import Dataset
from .loader import as_dataset
from .matching import compare
from .statistics import stats

__all__ = ["write_report", "render_report", "load_comparison", "ReportDependencyError", "COLOR_A", "COLOR_B"]

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------ public API

def load_comparison(out_dir: str | os.PathLike, a: Dataset | None = None, b: Dataset | None = None) -> Comparison:
    """Read a ``cocodiff compare`` output folder (``matches.parquet`` + ``summary.json``).

    Parameters
    ----------
    out_dir : str or Path
        Folder written by :meth:`cocodiff.matching.Comparison.write`.
    a, b : Dataset, optional
        Loaded inputs; their category names fill ``meta["categories"]``.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from cocodiff.report import load_comparison
    >>> c = load_comparison("out/")           # doctest: +SKIP
    >>> c.summary()["relations"]["matched"]   # doctest: +SKIP
    565
    """
    # checked to be one unit: a table from another run, or a truncated one, is one line, not a mix
    table, summ = read_output(out_dir)
    meta = dict(summ.get("meta", {}))
    cats = {}
    for ds in (a, b):
        if ds is not None:
            cats.update({int(c): str(n) for c, n in zip(ds.cat_id, ds.cat_name)})
    if not cats:  # names from the summary's per-class list
        cats = {int(r["category_id"]): r.get("name", "") for r in summ.get("per_class", [])}
    meta["categories"] = cats
    meta.setdefault("a_vertices", int(a.n_points().sum()) if a is not None else 0)
    meta.setdefault("b_vertices", int(b.n_points().sum()) if b is not None else 0)
    return Comparison(table=table, params=summ.get("params", {}), images=summ.get("images", {}), meta=meta)


def render_report(a: Dataset | str | os.PathLike, b: Dataset | str | os.PathLike, comparison: Comparison | None = None,
                  images_dir: str | os.PathLike | None = None, top: int = 12, title: str | None = None,
                  examples: int = 6) -> str:
    """Build the report HTML text (see the module docstring); :func:`write_report` writes it.

    Parameters are those of :func:`write_report`.

    Returns
    -------
    str
        A complete, self-contained HTML document.

    Examples
    --------
    >>> from cocodiff.report import render_report
    >>> text = render_report("a.json", "b.json", top=4)     # doctest: +SKIP
    >>> text.startswith("<!DOCTYPE html>")                   # doctest: +SKIP
    True
    """
    _mpl()  # fail early, before any loading, when matplotlib is missing
    A = as_dataset(a)
    B = as_dataset(b, like=A)
    if comparison is None:
        comparison = compare(A, B, progress=False)
    top = max(int(top), 0)
    summ = comparison.summary(top=max(top, 1))
    st = stats(A, B, per_class=True)
    tpl = Template(resources.files("cocodiff").joinpath("templates/report.html").read_text(encoding="utf-8"))
    if title is None:
        title = f"cocodiff report: {Path(str(A.path)).name} vs {Path(str(B.path)).name}"
    cats = dict(getattr(comparison, "meta", None) or {}).get("categories") or {}
    A_side, B_side = _Side(A, _names(A, cats)), _Side(B, _names(B, cats))
    R = _Rows(comparison.table)
    n_examples = max(int(examples), 0)
    picks, group_counts = {}, {}
    for rel in _REL_ORDER:
        picks[rel], group_counts[rel] = _example_candidates(R, rel, n_examples) if n_examples else ([], 0)
    files = _ImageFiles(images_dir)
    notice_html = _images_notice(files, A, B, R, summ["most_changed"][:top], picks)
    ctx = dict(A=A_side, B=B_side, R=R, files=files, n_examples=n_examples)
    fields = dict(
        title=_esc(title), version=_esc(__version__), color_a=COLOR_A, color_b=COLOR_B,
        notices=notice_html,
        a_path=_esc(A.path), b_path=_esc(B.path),
        generated=_esc(_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        overview=_overview(A, B, summ),
        stats_table=_stats_section(st),
        classes=_classes_section(st),
        sizes=_sizes_section(A, B),
        vertices=_vertices_section(A, B),
        relations=_relations_section(summ) + _class_changes(R, A_side, B_side),
        iou=_iou_section(comparison, A_side.names),
        examples=_examples_section(ctx, picks, group_counts) if n_examples else
        '<p class="note">No examples asked for (--examples 0).</p>',
        gallery=_gallery_section(ctx, summ, top),
    )
    return tpl.substitute(fields)


def _images_notice(files: _ImageFiles, A: Dataset, B: Dataset, R: _Rows, most: list, picks: dict) -> str:
    """Look up every image file the gallery (``most``) and the examples (``picks``) will draw
    over, before drawing any, so that a folder holding none of them is said at the top of the page
    (the HTML notice returned, and a logged warning); "" when there is nothing to say."""
    if files.dir is not None:
        for e in most:
            files.path(_image_info(A, B, int(e["image_id"]))[2])
        for rows_list in picks.values():
            for rows in rows_list:
                files.path(_image_info(A, B, int(R.image[rows[0]]))[2])
    notice_html, notice_text = files.notice()
    if notice_text:
        log.warning("report: %s", notice_text)
    return notice_html


def write_report(a: Dataset | str | os.PathLike, b: Dataset | str | os.PathLike, out_path: str | os.PathLike,
                 comparison: Comparison | None = None, images_dir: str | os.PathLike | None = None, top: int = 12,
                 examples: int = 6) -> Path:
    """Write the self-contained HTML report comparing ``a`` (reference) and ``b``.

    Parameters
    ----------
    a, b : Dataset or path
        The two annotation sets (paths are loaded with :func:`cocodiff.load`; B with ``like=A``
        so a results file works too).
    out_path : str or Path
        The ``.html`` file to write (atomically: a temporary file in the same folder, then
        renamed). Its folder is created if missing.
    comparison : Comparison, optional
        A :func:`cocodiff.compare` result of ``a`` vs ``b`` (computed when omitted), e.g. from
        :func:`load_comparison`.
    images_dir : str or Path, optional
        Folder with the image files (``file_name`` of the dataset, or its base name). Images
        not found are drawn as blank canvases, with a note; when none is found, a notice at the
        top of the report and a logged warning name the folder and the files looked for.
    top : int
        Number of most changed images in the gallery.
    examples : int
        Examples per relation in the ``examples`` section (0: none).

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    ReportDependencyError
        matplotlib is not installed (``pip install cocodiff[report]``).

    Examples
    --------
    >>> import cocodiff.report
    >>> cocodiff.report.write_report("instances_val2017.json", "sama_val.json",
    ...                              "report.html", images_dir="val2017/")   # doctest: +SKIP
    PosixPath('report.html')
    """
    text = render_report(a, b, comparison=comparison, images_dir=images_dir, top=top, examples=examples)
    out = Path(out_path)
    write_bytes_atomic(out, text.encode("utf-8"))
    log.info("report: wrote %s (%d bytes)", out, len(text.encode("utf-8")))
    return out
