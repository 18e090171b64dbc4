"""Load COCO instance annotations into a columnar :class:`~cocodiff.dataset.Dataset`.

Inputs
------
* ``file.json`` or ``file.json.gz`` -- one COCO instances file (object with ``images``,
  ``annotations``, ``categories``), or a *results* file (a top-level JSON list of annotations,
  like cocoapi's ``*_results.json``), which needs ``like=<Dataset>`` for images/categories.
* ``split.zip`` -- every ``*.json`` member (sorted by name; ``__MACOSX/`` and ``._*`` skipped) is
  loaded and the members are merged (Sama-COCO ships a split as several JSON files in one zip).
* a directory -- every ``*.json`` directly inside it, merged the same way.
* a list of paths -- each loaded as above, all merged.

Merging: an image (or category) listed by several files must be identical in each (id, width,
height, file_name; id, name, supercategory) and is kept once; a conflicting repeat is an error
naming both files. Annotation ids must be unique over all files; a duplicate is an error naming
the files. ``Dataset.source`` is each instance's index into ``Dataset.sources`` (the file names,
``archive.zip:member.json`` for zip members).

Zip, gzip and stream safety
---------------------------
One policy, shared with :func:`cocodiff.archive.safe_extract` (its constants live in
:mod:`cocodiff.archive` and are re-exported here). A zip is refused when any member name is
unsafe (absolute, a ``..`` component, a drive letter, a NUL byte). Before a byte is
decompressed, on the declared sizes of the ``*.json`` members: a member over
:data:`MAX_MEMBER_BYTES` (4 GiB); a member over :data:`RATIO_MIN_BYTES` (1 MiB) more than
:data:`MAX_RATIO` (100) times its compressed size (JSON seldom compresses beyond 20x); members
over :data:`MAX_TOTAL_BYTES` (8 GiB) in all, or more than 100 times their compressed sizes in
all. Members are then streamed under those caps (never more than declared, nor over the total).
A ``.json.gz`` file is streamed too: refused once past :data:`MAX_MEMBER_BYTES`, or once past
1 MiB out when the bytes out exceed 100 times the compressed bytes read -- checked chunk by
chunk, before the bytes are held. A file that is not a regular file (a pipe, ``<(zcat ...)``,
a character device) is read as a stream under the :data:`MAX_MEMBER_BYTES` cap, stopping at the
first byte no JSON text holds (a control byte: ``/dev/zero`` stops at once), or after 64 MiB of
nothing but whitespace; a block device is refused.

Decoding
--------
Fast path: one Numba pass (:func:`cocodiff.engine.jsonscan.scan_coco`) over the file's bytes
writes every annotation field straight into arrays -- ids, image/category ids, iscrowd, area,
bbox, score, polygon coordinates with ring counts, RLE sizes, compressed RLE text and
uncompressed counts -- with no Python object per annotation; the small ``images`` and
``categories`` sections are located by the scanner and decoded by msgspec. Numbers are converted
exactly (Clinger's fast path, then Eisel-Lemire; the rare remainder with Python's correctly
rounded ``float``), so every double equals ``json.load``'s bit for bit. The scanner accepts only
a conservative subset of JSON and bails out (logged at debug level) on anything else -- an
escaped or non-ASCII key, a ``\\u`` escape or non-ASCII byte in an annotation string, a float or
a > 18-digit number where an integer belongs, a duplicate key (or an escaped one) anywhere,
a missing required key, a non-number coordinate, deep nesting, malformed JSON... A file of at
least twice :data:`SCAN_PART_MIN_BYTES` is scanned in parts on the thread pool when more than one thread is
allowed (see :func:`_scan`); the result is the one-pass result, bit for bit.

Slow path (the validator, used whenever the scanner bails): one Numba pass
(:func:`cocodiff.engine.jsonstructure.check_structure`) refuses a repeated key or too deep nesting
anywhere (msgspec would keep the last of two values, and recurse); then msgspec decodes into
typed Structs (GC off) with every ``segmentation`` kept as raw JSON text (``msgspec.Raw``); one Numba pass
(:func:`cocodiff.engine.jsonseg.parse_polygons`) turns the polygon lists into flat float64
coordinates; RLE objects are decoded per instance. When the typed decode fails, the file is
decoded untyped (``json``, which also reads NaN/Infinity) and walked to name the first bad
annotation id and field. Both paths produce the same per-file columns and share every check
below, so a file gives the same Dataset -- or the same error message -- either way (tested on
the corpus and by differential fuzzing).

Instances are then sorted by (image_id, category_id, ann_id) on their scalar columns and the
ragged geometry is permuted with one gather; compressed RLE strings are decoded in one batch
(:func:`cocodiff.engine.ragged.decode_strings`).

Cache: see :mod:`cocodiff.cache` (``load(..., cache=...)``).

Code: this module holds :func:`load`, :func:`load_pair` and the choice of decoder; the bytes
are read by :mod:`cocodiff._load_sources`, the bounds, typed schema and error messages live in
:mod:`cocodiff._load_schema`, a file's columns are made by :mod:`cocodiff._load_columns`, and
merged and checked by :mod:`cocodiff._load_build`.

Validation policy (nothing is dropped silently: every annotation becomes one instance)
--------------------------------------------------------------------------------------
Errors (:class:`~cocodiff.errors.InputError`, naming the file, the annotation/image/category id
and the field):

* missing or unreadable file, empty file, malformed JSON (line, column and byte offset), text that
  is not UTF-8;
* a key repeated in one object, anywhere in the file (JSON readers keep only one of the
  values, silently): named with where it is -- the top-level object, or the annotation / image /
  category (its id) and the path of the key inside it (e.g. ``segmentation.counts``);
* JSON nested more than :data:`MAX_NESTING` (128) levels deep (the top-level object or list is
  level 1), named like a repeated key;
* wrong top-level type; a missing or non-list ``images`` / ``annotations`` / ``categories``;
  a results list without ``like=``;
* a missing required key (image ``id``/``width``/``height``; category ``id``; annotation ``id``,
  ``image_id``, ``category_id``, ``segmentation``) or a value of the wrong JSON type (e.g. a
  string where a number belongs, ``true``/``null`` as a coordinate);
* a segmentation that is neither polygons (a list of rings, each a flat list of numbers) nor RLE
  (an object with ``size`` [h, w] and ``counts``, a list of ints or a compressed string);
  an empty segmentation list; a ring with an odd number of numbers; a non-finite coordinate
  (NaN, Infinity); a coordinate with ``|x| > 1e7`` (:data:`MAX_ABS_COORD`); a ring that would
  cross pixel-column boundaries more than ``2 * points + min(8 * (h * w + 1), 2**24)`` times
  when rasterised (:data:`MAX_RING_CROSSINGS`: a ring folding back over itself, e.g. a zigzag
  of millions of points across the image, whose rasterisation would need gigabytes);
* RLE: ``size`` other than the image's ``[height, width]``; negative counts or counts past
  2**32 - 1; counts that do not sum to ``h * w``; a compressed string with a character outside
  ``'0'..'o'`` or ending inside a value;
* an ``image_id`` / ``category_id`` no image / category defines; duplicate image, category or
  annotation ids; ``width``/``height`` <= 0; ``iscrowd`` other than 0/1; ``bbox`` not 4 numbers.

Counted warnings (``Dataset.warnings``; ``strict=True`` turns them into errors):

* ``degenerate_ring``: a polygon ring with fewer than 3 points (e.g. ``[x0, y0, x1, y1]``) is kept
  as stored.

Variants: a missing ``iscrowd`` reads as 0 (LVIS); ``score`` is kept (NaN where absent);
``area``/``bbox`` are the file's (NaN where absent). Results files follow pycocotools'
``COCO.loadRes``: ids are 1..n in file order, ``iscrowd`` is 0, an RLE result's ``area`` is its
pixel count, and a result with only a ``bbox`` becomes the polygon
``[x, y, x, y+h, x+w, y+h, x+w, y]`` with ``area = w * h``.
"""
from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import Sequence

import msgspec
import numpy as np

from ._io import sigint_deferred
from ._load_build import build
from ._load_columns import cols_from_scan, cols_from_struct
from ._load_schema import (DEC_CATS, DEC_FILE, DEC_IMAGES, DEC_RES, MAX_ABS_COORD, MAX_NESTING, MAX_RING_CROSSINGS,
                           check_structure, malformed, validation_failed)
from ._load_sources import file_size, first_byte, is_results_file, read_one
from ._threads import run_jobs
from .archive import MAX_MEMBER_BYTES, MAX_RATIO, MAX_TOTAL_BYTES, RATIO_MIN_BYTES
from .dataset import Dataset
from .engine.scancodes import BAIL_REASONS, STOPPED_AT_PART   # plain integers: no Numba imported
from .errors import InputError

__all__ = ["load", "load_pair", "as_dataset", "MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES", "MAX_RATIO", "RATIO_MIN_BYTES",
           "MAX_ABS_COORD", "MAX_NESTING", "MAX_RING_CROSSINGS", "PAIR_CONCURRENT_MAX_BYTES"]

#: :func:`load_pair` reads the two inputs at the same time only when their files add up to at
#: most this many bytes (parsing needs a few times the file size in memory, twice at once).
PAIR_CONCURRENT_MAX_BYTES = 512 << 20

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# decode dispatch: the JSON scanner, else msgspec
_use_scanner = True   # tests turn it off to compare both paths

#: files smaller than this are decoded by msgspec rather than the compiled JSON scanner: the
#: scanner's one-time compile (about 20 s) would dwarf the milliseconds it saves on them
#: (tests set it to 0 so that the scanner reads every input they give)
SCANNER_MIN_BYTES = 8 << 20

#: a file is scanned in parts of at least this many bytes, on the thread pool, when more than
#: one thread is allowed (``cocodiff.engine._jit.set_threads`` / ``--threads``)
SCAN_PART_MIN_BYTES = 8 << 20


def _scan(buf, results: bool, threads: int | None = None):
    """:func:`cocodiff.engine.jsonscan.scan_coco` of ``buf``, in parts on ``threads`` threads
    (None: the Numba thread count) when the file is big enough; the same result either way.

    The annotations list is cut at candidate object boundaries
    (:func:`cocodiff.engine.scanparts.split_points`) and every part is parsed on its own. Part
    ``i`` is used only if part ``i - 1`` stopped exactly at its first byte -- proof that the cut
    lies between two annotations. When part 0 runs past its
    cut (the cut was inside an annotation, or in another section) part 0 alone is the whole
    document; when a later part does, the parts after it are dropped and the document's rest
    is scanned from where it ended. A bail in a used part is the bail the one-pass scan gives.
    """
    from .engine import jsonscan as js, scanparts   # Numba, imported on first use (start-up time)
    if threads is None:
        from .engine._jit import get_threads   # imports Numba: on first use
        threads = get_threads()
    parts = min(2 * threads, buf.shape[0] // SCAN_PART_MIN_BYTES) if threads > 1 else 1
    cuts = scanparts.split_points(buf, parts) if parts > 1 else []
    if not cuts:
        with sigint_deferred():  # Ctrl-C inside the scanner could crash it: delivered once it returns
            return js.scan_coco(buf, results)
    jobs = list(zip([-1] + cuts, cuts + [-1]))
    # one coordinate buffer, a window per part sized by its bytes (compacted in place after)
    nb = buf.shape[0]
    shared = np.empty(js.coords_capacity(nb), np.float64)
    edges = [0] + cuts + [nb]
    bases = [shared.shape[0] * e // nb for e in edges]
    windows = [shared[bases[i]:bases[i + 1]] for i in range(len(jobs))]
    # the parts run on pool threads (a signal is only ever delivered to the main thread)
    res = run_jobs(threads, lambda i: js.scan_part(buf, results, *jobs[i], windows[i]), list(range(len(jobs))))
    st, where, r = res[0]
    if st != STOPPED_AT_PART:
        return st, where, r        # part 0 read the whole document (or bailed in it)
    used = [r]
    for st, where, r in res[1:]:
        if st not in (0, STOPPED_AT_PART):
            return st, where, None
        used.append(r)
        if st == 0:               # the end of the annotations list
            break
    else:  # pragma: no cover - the last part has no stop: it ends with 0 or a bail
        raise AssertionError("scanner parts did not end")
    st, where, tail = js.scan_tail(buf, results, where, used[0])
    if st != 0:
        return st, where, None
    log.debug("scanned in %d parts", len(used))
    return 0, where, scanparts.concat_scans(used, tail, results, shared)


def _decode_fast(data: bytes, name: str, results: bool):
    """The Numba scanner's path; None when it bails (the msgspec path then decides)."""
    status, where, r = _scan(np.frombuffer(data, np.uint8), results)
    if status != 0:
        log.debug("%s: fast scanner bailed at byte %d (%s); using the msgspec path", name, where,
                  BAIL_REASONS.get(status, status))
        return None
    if results:
        return None, None, cols_from_scan(r, True), True
    mv = memoryview(data)
    try:
        (a, b), (c, d) = r.images_span, r.categories_span
        images = DEC_IMAGES.decode(mv[a:b])
        cats = DEC_CATS.decode(mv[c:d])
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
        return None
    return images, cats, cols_from_scan(r, False), False


def _decode(data, name: str, has_like: bool):
    """One file's bytes (``bytes`` or a numpy uint8 buffer) -> (images, categories, Cols, results):
    the scanner's columns when it reads the file, else msgspec's (or the InputError naming why)."""
    data = memoryview(data).cast("B")
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    results = first_byte(data) == b"["
    if results and not has_like:
        raise InputError("this is a results file (a top-level JSON list of annotations): it needs a ground "
                         "truth for its images and categories -- give it as the second input (B), after the "
                         "ground truth (A)", name)
    if _use_scanner and len(data) >= SCANNER_MIN_BYTES:
        part = _decode_fast(data, name, results)
        if part is not None:
            return part
    check_structure(data, name, results)
    gc_was = gc.isenabled()
    gc.disable()
    try:
        obj = (DEC_RES if results else DEC_FILE).decode(data)
    except msgspec.ValidationError as e:
        validation_failed(data, name, e, results)
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        malformed(data, name, e, results)
    finally:
        if gc_was:
            gc.enable()
    if results:
        return None, None, cols_from_struct(obj, name, True), True
    return obj.images, obj.categories, cols_from_struct(obj.annotations, name, False), False


#: a decoded file's bytes are kept through the build (for error messages) up to this size;
#: a bigger one is read again should a message need it (peak memory: the full-size files)
KEEP_BYTES_MAX = 64 << 20


class _Reread:
    """The bytes of file ``name`` among those :func:`read_one` gives for ``source``, read again."""

    def __init__(self, source, name):
        self.source, self.name = source, name

    def __call__(self):
        for name, data in read_one(self.source):
            if name == self.name:
                return data
        raise InputError("the file changed while it was being loaded", self.name)  # pragma: no cover


# --------------------------------------------------------------------------------------------
def load(path: str | os.PathLike | Sequence[str | os.PathLike], *, like: Dataset | None = None, strict: bool = False,
         cache: bool | str | os.PathLike | None = None) -> Dataset:
    """Load COCO instance annotations (or a results list) into a columnar :class:`Dataset`.

    Parameters
    ----------
    path : str or os.PathLike or list of them
        A ``.json`` / ``.json.gz`` file, a ``.zip`` of JSON files, a directory of ``*.json``
        files, or a list of any of these; several files are merged (see the module docstring).
    like : Dataset, optional
        Ground truth supplying images and categories when ``path`` is a results file (a
        top-level JSON list of annotations). Ignored for instance files.
    strict : bool
        Turn counted warnings (``degenerate_ring``) into errors.
    cache : None, bool, "refresh" or str / os.PathLike
        Columnar cache of a single input file (see :mod:`cocodiff.cache`): ``None`` (default)
        caches files of at least 50 MB (:data:`cocodiff.cache.AUTO_MIN_BYTES`); ``True`` any
        single file; ``False`` never; ``"refresh"`` ignores an existing cache and rewrites it;
        a folder keeps the cache there. A valid cache is keyed on the file's size, mtime and a
        digest of its ends, so an edited file is re-parsed. Results files (``like=``),
        directories and lists are never cached.

    Returns
    -------
    Dataset
        Instances sorted by (image_id, category_id, ann_id); ``warnings`` holds counted warnings.

    Raises
    ------
    InputError
        Any problem with the input, naming the file, annotation id and field.

    Examples
    --------
    >>> import cocodiff
    >>> gt = cocodiff.load("data/coco2014_val100/instances_val2014_100.json")
    >>> gt.n_instances
    839
    >>> dt = cocodiff.load("data/coco2014_val100/instances_val2014_fakesegm100_results.json", like=gt)
    """
    if not isinstance(path, (list, tuple)) and like is None and cache is not False:
        label = os.fspath(path)
        try:
            is_file = os.path.isfile(label)
            size = os.path.getsize(label) if is_file else 0
        except OSError:
            is_file = False
        from . import cache as _cache   # imports Numba (the cache folder policy): on first use
        if is_file and (cache is not None or size >= _cache.AUTO_MIN_BYTES):
            cdir = None if isinstance(cache, bool) or cache in (None, "refresh") else os.fspath(cache)
            try:
                key = _cache.fingerprint(label)
            except OSError:
                key = None
            if key is not None and cache != "refresh":
                ds = _cache.load_cached(label, label, cdir, key)
                if ds is not None and not (strict and ds.warnings):
                    return ds
            ds = _load_uncached(path, like, strict)
            if key is not None:
                _cache.save(ds, label, cdir, key)
            return ds
    return _load_uncached(path, like, strict)


def as_dataset(x: Dataset | str | os.PathLike | Sequence[str | os.PathLike], like: Dataset | None = None) -> Dataset:
    """``x`` itself when it is a :class:`Dataset`, else ``cocodiff.load(x, like=like)``.

    Examples
    --------
    >>> ds = as_dataset("instances_val2017.json")   # doctest: +SKIP
    >>> as_dataset(ds) is ds                         # doctest: +SKIP
    True
    """
    if isinstance(x, Dataset):
        return x
    return load(x, like=like)


def load_pair(a: Dataset | str | os.PathLike | Sequence[str | os.PathLike],
              b: Dataset | str | os.PathLike | Sequence[str | os.PathLike], *, strict: bool = False,
              cache: bool | str | os.PathLike | None = None, threads: int | None = None) -> tuple[Dataset, Dataset]:
    """Load the two sides of a comparison, both at once when that is cheap.

    The second input is parsed on a background thread while the first is parsed here (the JSON
    scanner releases the GIL), when both are single plain files of at most
    :data:`PAIR_CONCURRENT_MAX_BYTES` together and more than one thread is allowed (``threads``;
    None: the Numba thread count). Otherwise, and for anything that is already a
    :class:`Dataset`, one after the other. Errors are those of ``load(a)`` then ``load(b)``:
    the first input's error wins when both are bad.

    A results file as ``b`` (a top-level JSON list of annotations) takes ``a``'s images and
    categories (``load(b, like=A)``).

    Returns
    -------
    (Dataset, Dataset)

    Examples
    --------
    >>> a, b = load_pair("data/coco2014_val100/instances_val2014_100.json",
    ...                  "data/derived/val2014_100_fakesegm_as_annotations.json")
    >>> a.n_instances > 0 and b.n_instances > 0
    True
    """
    if not isinstance(b, Dataset) and is_results_file(b):   # B's images and categories are A's
        A = a if isinstance(a, Dataset) else load(a, strict=strict, cache=cache)
        return A, load(b, like=A, strict=strict)
    if isinstance(a, Dataset) or isinstance(b, Dataset):
        return (a if isinstance(a, Dataset) else load(a, strict=strict, cache=cache),
                b if isinstance(b, Dataset) else load(b, strict=strict, cache=cache))
    if threads is None:
        from .engine._jit import get_threads   # imports Numba: on first use
        threads = get_threads()
    size_a, size_b = file_size(a), file_size(b)
    small = min(size_a, size_b) >= 0 and size_a + size_b <= PAIR_CONCURRENT_MAX_BYTES
    if threads < 2 or not small:
        return _load_sequential(a, b, strict, cache, b_first=size_b > size_a)
    out = {}

    def second():
        try:
            out["b"] = load(b, strict=strict, cache=cache)
        except BaseException as e:   # re-raised in the caller's thread
            out["err"] = e

    t = threading.Thread(target=second, name="cocodiff-load", daemon=True)   # never holds up exit
    t.start()
    A = load(a, strict=strict, cache=cache)
    while t.is_alive():
        t.join(0.05)   # a timed join: Ctrl-C still interrupts the wait
    if "err" in out:
        raise out["err"]
    return A, out["b"]




def _load_sequential(a, b, strict, cache, b_first):
    """``(load(a), load(b))``, loading ``b`` first when ``b_first`` (:func:`load_pair`: when it
    is the bigger single file).

    A file's load needs about twice its size in fresh memory on top of what is already loaded,
    so the peak is lower when the dataset held meanwhile is the smaller one (full-size twin,
    uncached: 2.70 GB a-then-b, 2.31 GB b-then-a). Errors stay those of ``load(a)`` then
    ``load(b)``: when ``b`` (loaded first) fails, ``a`` is loaded and its error, if any, wins.
    """
    if not b_first:
        return load(a, strict=strict, cache=cache), load(b, strict=strict, cache=cache)
    try:
        B = load(b, strict=strict, cache=cache)
    except InputError:
        load(a, strict=strict, cache=cache)   # raises the first input's error, if it has one
        raise
    return load(a, strict=strict, cache=cache), B


def _load_uncached(path, like, strict) -> Dataset:
    if isinstance(path, (list, tuple)):
        if not path:
            raise InputError("no input paths given")
        files = []
        for p in path:
            files.extend((name, data, os.fspath(p)) for name, data in read_one(os.fspath(p)))
        label = " + ".join(os.fspath(p) for p in path)
    else:
        label = os.fspath(path)
        files = [(name, data, label) for name, data in read_one(label)]
    if len(files) > 32767:
        raise InputError("too many input files (> 32767)", label)
    gc_was = gc.isenabled()
    gc.disable()  # decoding and building allocate many objects and no cycles
    try:
        parts = []
        names = []
        datas = []
        for k, (name, data, source) in enumerate(files):
            parts.append(_decode(data, name, like is not None))
            names.append(name)
            # kept for precise error messages only (nothing decoded refers to the bytes): a big
            # file is read again should one be needed, its bytes are not held through the build
            # (a pipe cannot be read again: its bytes are kept)
            keep = len(data) <= KEEP_BYTES_MAX or not (os.path.isfile(source) or os.path.isdir(source))
            datas.append(data if keep else _Reread(source, name))
            files[k] = data = None
        files = None
        return build(parts, names, like, strict, label, datas)
    finally:
        if gc_was:
            gc.enable()
