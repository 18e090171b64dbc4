"""The plan of the synthetic twin (:mod:`cocodiff.synth`): which changes, how often, where.

The rates (kinds of unit, their shares, area bins, vertex counts, image sizes) are set once
here, from the published COCO-2017 / Sama-COCO figures; :func:`draw_plan` draws the images
and the units of a twin from them. A *unit* is a small group of A and B instances tied by
one relation (one kind of change, :data:`UNIT_KINDS`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._synth_shapes import offsets
from .conventions import LARGE_AREA, SMALL_AREA, VERY_SMALL_AREA

FULL_IMAGES = 118_287
SCALES = {"tiny": 50, "val": 5_000, "full": FULL_IMAGES}

# (id, name, supercategory): the 91 categories of COCO-2014's list; 80 are used.
CATEGORIES = [
    (1, "person", "person"), (2, "bicycle", "vehicle"), (3, "car", "vehicle"),
    (4, "motorcycle", "vehicle"), (5, "airplane", "vehicle"), (6, "bus", "vehicle"),
    (7, "train", "vehicle"), (8, "truck", "vehicle"), (9, "boat", "vehicle"),
    (10, "traffic light", "outdoor"), (11, "fire hydrant", "outdoor"),
    (12, "street sign", "outdoor"), (13, "stop sign", "outdoor"),
    (14, "parking meter", "outdoor"), (15, "bench", "outdoor"), (16, "bird", "animal"),
    (17, "cat", "animal"), (18, "dog", "animal"), (19, "horse", "animal"),
    (20, "sheep", "animal"), (21, "cow", "animal"), (22, "elephant", "animal"),
    (23, "bear", "animal"), (24, "zebra", "animal"), (25, "giraffe", "animal"),
    (26, "hat", "accessory"), (27, "backpack", "accessory"), (28, "umbrella", "accessory"),
    (29, "shoe", "accessory"), (30, "eye glasses", "accessory"),
    (31, "handbag", "accessory"), (32, "tie", "accessory"), (33, "suitcase", "accessory"),
    (34, "frisbee", "sports"), (35, "skis", "sports"), (36, "snowboard", "sports"),
    (37, "sports ball", "sports"), (38, "kite", "sports"), (39, "baseball bat", "sports"),
    (40, "baseball glove", "sports"), (41, "skateboard", "sports"),
    (42, "surfboard", "sports"), (43, "tennis racket", "sports"), (44, "bottle", "kitchen"),
    (45, "plate", "kitchen"), (46, "wine glass", "kitchen"), (47, "cup", "kitchen"),
    (48, "fork", "kitchen"), (49, "knife", "kitchen"), (50, "spoon", "kitchen"),
    (51, "bowl", "kitchen"), (52, "banana", "food"), (53, "apple", "food"),
    (54, "sandwich", "food"), (55, "orange", "food"), (56, "broccoli", "food"),
    (57, "carrot", "food"), (58, "hot dog", "food"), (59, "pizza", "food"),
    (60, "donut", "food"), (61, "cake", "food"), (62, "chair", "furniture"),
    (63, "couch", "furniture"), (64, "potted plant", "furniture"), (65, "bed", "furniture"),
    (66, "mirror", "furniture"), (67, "dining table", "furniture"),
    (68, "window", "furniture"), (69, "desk", "furniture"), (70, "toilet", "furniture"),
    (71, "door", "furniture"), (72, "tv", "electronic"), (73, "laptop", "electronic"),
    (74, "mouse", "electronic"), (75, "remote", "electronic"),
    (76, "keyboard", "electronic"), (77, "cell phone", "electronic"),
    (78, "microwave", "appliance"), (79, "oven", "appliance"), (80, "toaster", "appliance"),
    (81, "sink", "appliance"), (82, "refrigerator", "appliance"),
    (83, "blender", "appliance"), (84, "book", "indoor"), (85, "clock", "indoor"),
    (86, "vase", "indoor"), (87, "scissors", "indoor"), (88, "teddy bear", "indoor"),
    (89, "hair drier", "indoor"), (90, "toothbrush", "indoor"), (91, "hair brush", "indoor"),
]
UNUSED_CAT_IDS = (12, 26, 29, 30, 45, 66, 68, 69, 71, 83, 91)
USED_CAT_IDS = np.array([c[0] for c in CATEGORIES if c[0] not in UNUSED_CAT_IDS], np.int64)

# ----------------------------------------------------------------- kinds of unit ----------
(MATCH, CLS, REMOVE, ADD, ADD_CROWD, CROWD_MATCH, CROWD_SPLIT, GROUP_SPLIT, MERGE_CROWD,
 MERGE_POLY, CROWD_DECOMP, DOMINANT_SPLIT, MERGE_ADJ) = range(13)
N_UNIT = 13
#: ``truth["groups"]["kind"]``: the kind of unit (change) each group was made by
UNIT_KINDS = ("matched", "class_changed", "removed", "added", "added_crowd", "crowd_matched",
              "crowd_split", "group_split", "merged_crowd", "merged_poly", "crowd_decomposed",
              "dominant_split", "merged_adjacent")
#: per kind of unit, its relation: an index into :data:`cocodiff.relations.RELATIONS`
UNIT_REL = np.array([0, 3, 4, 5, 5, 0, 1, 1, 2, 2, 1, 1, 2])
# expected units per full train split (thousands)
_UNIT_W = np.array([640.5, 17.0, 38.0, 225.3, 13.3, 2.2, 1.3, 33.0, 26.0, 8.0,
                    6.6, 3.5, 3.0])
_UNIT_P = _UNIT_W / _UNIT_W.sum()
_UNITS_PER_IMAGE = _UNIT_W.sum() * 1000 / FULL_IMAGES

# ----------------------------------------------------------------- sizes and shapes -------
# area bins: very small (<=100), small, medium, large; sampled log-uniform inside a bin
_BIN_EDGES = np.array([[3.0, VERY_SMALL_AREA], [VERY_SMALL_AREA, SMALL_AREA], [SMALL_AREA, LARGE_AREA],
                       [LARGE_AREA, 140000.0]])
BINS_A = np.array([0.030, 0.310, 0.385, 0.275])      # A individuals (matched, ...)
BINS_REMOVE = np.array([0.78, 0.22, 0.0, 0.0])
BINS_MEMBER = np.array([0.15, 0.60, 0.25, 0.0])
BINS_GROUP = np.array([0.0, 0.0, 0.30, 0.70])
BINS_CROWD = np.array([0.0, 0.10, 0.45, 0.45])
BINS_ADD = np.array([0.07, 0.83, 0.09, 0.01])
BINS_DECOMP = np.array([0.0, 0.0, 0.40, 0.60])      # decomposed crowds (>= MIN_DECOMP)
BINS_DOM = np.array([0.0, 0.03, 0.52, 0.45])        # dominant-split wholes (>= MIN_DOM)
BINS_ADJ = np.array([0.0, 0.12, 0.50, 0.38])        # adjacent-merge wholes (>= MIN_ADJ)
MIN_DECOMP = 4000.0
MIN_DOM = 1200.0
MIN_ADJ = 600.0
MIN_PART = 110.0         # Sama labels no individual smaller than this out of a crowd

P_MULTI_A = 0.128        # multi-ring share of A individuals with area >= 150 (not members)
P_EXTRA_RING = 0.10      # matched single-ring instance gains a small detached ring in B
P_MULTI_ADD = 0.15       # added B instance is multi-ring
P_DENSIFY = 0.55         # share of edges that get a midpoint in a matched B outline
_P_REST = 0.60           # a decomposed crowd keeps a smaller crowd for the balance
C_VERT_A = 0.84          # A vertex count ~ c * area^0.4
C_VERT_B = 2.14
_P_PERSON = 0.345        # drawn person share; ~30 % once crowded units are re-categorised

# (w, h, weight)
_IMAGE_SIZES = np.array([(640, 480, 35), (480, 640, 10), (640, 427, 20), (427, 640, 8),
                         (640, 640, 3), (500, 375, 4), (640, 425, 6), (425, 640, 3),
                         (640, 428, 5), (612, 612, 2), (640, 360, 4)], np.float64)


def n_images(scale) -> int:
    """The number of images of ``scale``: a name of :data:`SCALES` or a fraction of full."""
    if isinstance(scale, str):
        if scale in SCALES:
            return SCALES[scale]
        try:
            scale = float(scale)
        except ValueError:
            raise ValueError(f"scale must be one of {sorted(SCALES)} or a float fraction, "
                             f"got {scale!r}") from None
    f = float(scale)
    if not (0.0 < f <= 1.0):
        raise ValueError(f"scale fraction must be in (0, 1], got {f}")
    return max(1, int(round(f * FULL_IMAGES)))


def draw_areas(rng, probs, n):
    """``n`` areas: a bin drawn with weights ``probs``, then log-uniform inside it."""
    b = rng.choice(4, n, p=probs / probs.sum())
    lo = np.log(_BIN_EDGES[b, 0])
    hi = np.log(_BIN_EDGES[b, 1])
    return np.exp(lo + (hi - lo) * rng.random(n))


@dataclass
class Plan:
    """The images and units of a twin; ``u_*`` arrays are per unit.

    ``u_cat`` / ``u_catb`` (indexes into :data:`USED_CAT_IDS`) are the unit's category in A /
    B; placement re-categorises some units (in place). The unit's A instances are
    ``a_off[u]:a_off[u+1]`` (``n_a[u]`` of them), its B instances likewise.
    """
    img_w: np.ndarray
    img_h: np.ndarray
    img_id: np.ndarray
    img_license: np.ndarray
    cat_w: np.ndarray         # category weights (person first)
    img_cats: np.ndarray      # (n_img, 3): the categories drawn for each image
    u_img: np.ndarray
    u_type: np.ndarray
    u_cat: np.ndarray
    u_k: np.ndarray           # parts of a split / merge (1 otherwise)
    u_rest: np.ndarray        # a decomposed crowd keeps a smaller crowd
    n_a: np.ndarray
    n_b: np.ndarray
    u_catb: np.ndarray | None = None     # set by draw_class_changes, once A is placed
    n_img: int = field(init=False)
    U: int = field(init=False)                 # the number of units
    a_off: np.ndarray = field(init=False)
    b_off: np.ndarray = field(init=False)

    def __post_init__(self):
        self.n_img = len(self.img_w)
        self.U = len(self.u_type)
        self.a_off = offsets(self.n_a)
        self.b_off = offsets(self.n_b)

    def other_cats(self, rng, img, cur, taken):
        """Random categories (weighted like the others) for units of images ``img``: not
        ``cur``, not one of the image's 3 drawn categories, nor one of ``taken`` (sorted keys
        ``image index * 128 + category`` already used)."""
        def bad_of(c):
            key = img * 128 + c
            pos = np.minimum(np.searchsorted(taken, key), max(len(taken) - 1, 0))
            used = taken[pos] == key if len(taken) else np.zeros(len(c), bool)
            return used | (self.img_cats[img] == c[:, None]).any(1) | (c == cur)
        c = rng.choice(80, len(img), p=self.cat_w)
        bad = bad_of(c)
        while bad.any():
            c[bad] = rng.choice(80, int(bad.sum()), p=self.cat_w)
            bad[bad] = bad_of(c)[bad]
        return c


def draw_plan(rng, n_img) -> Plan:
    """Draw the images, then the units: their kinds, categories and part counts (the
    draws' order is part of the output: same seed, same twin)."""
    images = _draw_images(rng, n_img)
    u_img, u_type = _draw_units(rng, n_img)
    cat_w, img_cats, u_cat = _draw_categories(rng, n_img, u_img)
    k, rest, n_a, n_b = _draw_counts(rng, u_type)
    return Plan(*images, cat_w=cat_w, img_cats=img_cats, u_img=u_img, u_type=u_type,
                u_cat=u_cat, u_k=k, u_rest=rest, n_a=n_a, n_b=n_b)


def _draw_images(rng, n_img):
    """Per image: width, height, id, license."""
    sw = _IMAGE_SIZES[:, 2] / _IMAGE_SIZES[:, 2].sum()
    si = rng.choice(len(_IMAGE_SIZES), n_img, p=sw)
    return (_IMAGE_SIZES[si, 0].astype(np.int64), _IMAGE_SIZES[si, 1].astype(np.int64),
            rng.choice(581_929, n_img, replace=False).astype(np.int64) + 1,
            rng.integers(1, 9, n_img))


def _draw_units(rng, n_img):
    """Units per image (1 + negative binomial) and their kinds: (image, kind) per unit."""
    mean_extra = _UNITS_PER_IMAGE - 1.0
    nbn = 1.5
    nu = 1 + rng.negative_binomial(nbn, nbn / (nbn + mean_extra), n_img)
    U = int(nu.sum())
    u_type = rng.choice(N_UNIT, U, p=_UNIT_P)
    # every relation kind (in fact every unit type) present when there is room
    if U >= 40:
        for t in range(N_UNIT):
            if not np.any(u_type == t):
                cand = np.flatnonzero(u_type == MATCH)
                u_type[cand[rng.integers(len(cand))]] = t
    return np.repeat(np.arange(n_img), nu), u_type


def _draw_categories(rng, n_img, u_img):
    """Categories: person ~30 % (drawn ~33 %: placement moves some crowded units to other
    categories); a fixed Zipf-like order for the other 79. Each image draws 3, its units
    pick among them. Returns the weights, the images' 3 and the units' categories."""
    cw = np.empty(80)
    cw[0] = _P_PERSON
    order = np.random.Generator(np.random.PCG64(2017)).permutation(79)
    zipf = 1.0 / (np.arange(79) + 4.0)
    cw[1:] = (1.0 - _P_PERSON) * zipf[order] / zipf.sum()
    img_cats = rng.choice(80, (n_img, 3), p=cw)
    sel = rng.choice(3, len(u_img), p=[0.6, 0.25, 0.15])
    return cw, img_cats, img_cats[u_img, sel]


def _draw_counts(rng, u_type):
    """Parts per split / merge unit, whether a decomposed crowd keeps a rest, and each
    unit's numbers of A and B instances."""
    U = len(u_type)
    k = np.ones(U, np.int64)
    rest = (u_type == CROWD_DECOMP) & (rng.random(U) < _P_REST)
    for t, kk in ((CROWD_SPLIT, 2 + rng.poisson(2.0, U)),
                  (GROUP_SPLIT, 2 + rng.poisson(1.0, U)),
                  (MERGE_CROWD, 2 + rng.poisson(1.5, U)),
                  (MERGE_POLY, 2 + rng.binomial(1, 0.5, U)),
                  # with a remaining crowd one individual is enough
                  (CROWD_DECOMP, np.where(rest, 1, 2) + rng.poisson(1.5, U)),
                  (DOMINANT_SPLIT, 2 + (rng.random(U) < 0.25)),
                  (MERGE_ADJ, 2 + (rng.random(U) < 0.3))):
        k = np.where(u_type == t, kk, k)
    n_a = np.select([np.isin(u_type, (ADD, ADD_CROWD)),
                     np.isin(u_type, (MERGE_CROWD, MERGE_POLY, MERGE_ADJ))], [0, k], 1)
    n_b = np.select([u_type == REMOVE,
                     np.isin(u_type, (CROWD_SPLIT, GROUP_SPLIT, CROWD_DECOMP,
                                      DOMINANT_SPLIT))], [0, k + rest], 1)
    return k, rest, n_a, n_b


def draw_class_changes(rng, plan):
    """B's categories: a class-changed unit gets a category absent from its image (drawn
    once A is placed, as A's placement re-categorises some units)."""
    plan.u_catb = plan.u_cat.copy()
    cls = np.flatnonzero(plan.u_type == CLS)
    plan.u_catb[cls] = plan.other_cats(rng, plan.u_img[cls], plan.u_cat[cls],
                                       np.sort(plan.u_img * 128 + plan.u_cat))
