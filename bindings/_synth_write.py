"""Output of the synthetic twin (:mod:`cocodiff.synth`): the COCO JSON text of A and B
(written by :func:`cocodiff.engine.synth.write_annotations` straight from the columns),
B as a zip of part files, the truth, and the shape statistics of the columns."""
from __future__ import annotations

import zipfile

import numpy as np
import orjson

from ._io import atomic_path
from ._synth_plan import CATEGORIES, UNIT_KINDS, UNIT_REL
from .conventions import size_masks
from .engine import synth as _k
from .relations import RELATIONS   # the comparison's names and order (UNIT_REL indexes them)


def _header(bd) -> bytes:
    return orjson.dumps({"description": "cocodiff synthetic COCO-2017 twin",
                         "url": "https://github.com/cocodiff", "version": "1.0",
                         "year": 2017, "contributor": "cocodiff.synth",
                         "date_created": "2017/09/01",
                         "scale": str(bd.scale), "seed": bd.seed})


def _images_json(plan, lo, hi) -> bytes:
    ims = [{"license": int(li), "file_name": f"{i:012d}.jpg",
            "coco_url": f"http://images.cocodataset.org/train2017/{i:012d}.jpg",
            "height": int(h), "width": int(w), "date_captured": "2013-11-14 11:18:45",
            "id": int(i)}
           for li, i, h, w in zip(plan.img_license[lo:hi].tolist(),
                                  plan.img_id[lo:hi].tolist(), plan.img_h[lo:hi].tolist(),
                                  plan.img_w[lo:hi].tolist())]
    return orjson.dumps(ims)


_CATEGORIES_JSON = orjson.dumps([{"supercategory": s, "id": i, "name": nm}
                                 for i, nm, s in CATEGORIES])
_LICENSES_JSON = orjson.dumps([{"url": f"http://creativecommons.org/licenses/{i}", "id": i,
                                "name": f"License {i}"} for i in range(1, 9)])


def coco_bytes(bd, which, img_lo=0, img_hi=None) -> bytes:
    """The COCO JSON text of set ``which`` ('a' or 'b') of the build ``bd``, restricted to
    images ``img_lo:img_hi`` (in file order) and their annotations."""
    C = bd.A if which == "a" else bd.B
    img_hi = bd.plan.n_img if img_hi is None else img_hi
    lo, hi = np.searchsorted(C.img_index, [img_lo, img_hi])
    ann = _k.write_annotations(int(lo), int(hi), C.iscrowd, C.ring_lo, C.ring_hi, C.vo,
                               C.xy, C.co, C.counts, C.rle_h, C.rle_w, C.area_num, C.bbox,
                               C.image_id, C.category_id, C.ann_id)
    return b"".join([b'{"info":', _header(bd), b',"licenses":', _LICENSES_JSON,
                     b',"images":', _images_json(bd.plan, img_lo, img_hi),
                     b',"annotations":[', ann, b'],"categories":', _CATEGORIES_JSON, b"}"])


def write_b_zip(bd, path, b_parts) -> None:
    """Write B split by images into ``b_parts`` complete COCO files ``b_part00.json``, ...
    in the zip ``path`` (fixed member dates: same seed, same bytes)."""
    edges = np.linspace(0, bd.plan.n_img, b_parts + 1).round().astype(int)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        z = zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        try:
            for j in range(b_parts):
                info = zipfile.ZipInfo(f"b_part{j:02d}.json", date_time=(2017, 9, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, coco_bytes(bd, "b", int(edges[j]), int(edges[j + 1])),
                           compresslevel=1)
        except BaseException:
            # Abandon the archive (atomic_path deletes it): after a Ctrl-C inside a member,
            # ZipFile.close() -- also run by its __del__ -- raises over the KeyboardInterrupt.
            z.fp = None
            raise
        z.close()


def truth(bd) -> dict:
    """The truth of the build ``bd``: see :func:`cocodiff.synth.generate` (arrays)."""
    plan = bd.plan
    rel = np.array(RELATIONS)[UNIT_REL[plan.u_type]]
    return {
        "relations": list(RELATIONS),
        "scale": str(bd.scale), "seed": bd.seed,
        "groups": {
            "relation": rel,
            "kind": np.array(UNIT_KINDS)[plan.u_type],
            "image_id": plan.img_id[plan.u_img],
            "a_offsets": plan.a_off, "a_ids": bd.A.ann_id,
            "b_offsets": plan.b_off, "b_ids": bd.B.ann_id,
        },
        "a": {"id": bd.A.ann_id, "group": bd.a_unit, "relation": rel[bd.a_unit]},
        "b": {"id": bd.B.ann_id, "group": bd.b_unit, "relation": rel[bd.b_unit]},
    }


def truth_bytes(bd) -> bytes:
    """The JSON text of :func:`truth`."""
    def conv(o):
        if isinstance(o, dict):
            return {k: conv(v) for k, v in o.items()}
        if isinstance(o, np.ndarray) and o.dtype.kind == "U":
            return o.tolist()
        return o
    return orjson.dumps(conv(truth(bd)), option=orjson.OPT_SERIALIZE_NUMPY)


def col_stats(C, n_img) -> dict:
    """Shape statistics of a columnar set ``C`` (as :func:`cocodiff.synth.shape_stats`)."""
    area = C.area()
    nring = C.ring_hi - C.ring_lo
    poly = C.iscrowd == 0
    nverts = int(C.vo[-1])
    n = max(C.n, 1)
    return {"images": n_img, "instances": C.n, "per_image": C.n / max(n_img, 1),
            "crowd": float(np.mean(C.iscrowd == 1)) if C.n else 0.0,
            "multi": float(np.sum(nring > 1) / n),
            "vertices": nverts / max(int(poly.sum()), 1),
            **{k: float(np.sum(m) / n) for k, m in size_masks(area).items()}}
