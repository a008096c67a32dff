"""Object categories of the synthetic world: sizes, colours, where they go and how they look.

Every object is built in its own local frame: origin at the centre of its footprint on the floor
(or on the surface it rests on), +z up, +y its front (the side a person uses: a chair's seat edge,
a desk's knee space, a picture's painted side). Objects that stand against a wall have their back
(-y) to it. Sizes are ``(w, d, h)``: extents along local x, y, z in metres, drawn from ranges
typical of real furniture so ScanNet-like size questions get plausible answers.

Labels are ScanNet category names (``scannetv2-labels.combined.tsv`` raw labels).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import trimesh
import yaml

RGB = tuple[int, int, int]
Part = tuple["Prim", RGB]
#: A builder makes the parts of one object of size (w, d, h) with a base colour.
Builder = Callable[[float, float, float, RGB, np.random.Generator], list[Part]]


@dataclass(frozen=True)
class Support:
    """A flat surface other objects may rest on, in the object's local frame.

    Attributes:
        z: Height of the surface above the object's base, metres.
        half_x: Half extent of the usable surface along local x.
        half_y: Half extent along local y.
        y0: Local y of the surface centre (a sofa's seat lies in front of its back).
    """

    z: float
    half_x: float
    half_y: float
    y0: float = 0.0


@dataclass(frozen=True)
class Category:
    """How one category is sized, coloured, placed and built.

    Attributes:
        name: ScanNet label.
        size: ``((w_lo, w_hi), (d_lo, d_hi), (h_lo, h_hi))`` metres.
        placement: ``"floor"``, ``"wall"`` or ``"top"`` (rests on a supporting object).
        colors: Base colours to draw from.
        build: Part builder.
        against_wall: Floor objects placed with their back to a wall (not yaw-rotated freely).
        support: Function ``(w, d, h) -> Support`` for objects others can rest on.
        rests_on: For ``"top"`` objects: the categories that may carry them.
        at_back: ``"top"`` objects placed in the back part of their support (monitor on a desk,
            pillow at a bed's head).
        wall_z: For wall objects: range of the bottom edge's height above the floor.
    """

    name: str
    size: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]
    placement: str
    colors: tuple[RGB, ...]
    build: Builder
    against_wall: bool = False
    support: Callable[[float, float, float], Support] | None = None
    rests_on: tuple[str, ...] = ()
    at_back: bool = False
    wall_z: tuple[float, float] = (0.0, 0.0)
    square: bool = field(default=False)  # footprint w == d (round things)


# --- primitive helpers -------------------------------------------------------------------------


def shade(c: RGB, f: float) -> RGB:
    r, g, b = (int(np.clip(round(v * f), 0, 255)) for v in c)
    return (r, g, b)


@dataclass(frozen=True)
class Prim:
    """A primitive's triangles in the object's local frame.

    Attributes:
        vertices: ``(V, 3) float64``.
        faces: ``(F, 3) int64``, counter-clockwise seen from outside.
    """

    vertices: np.ndarray
    faces: np.ndarray


def _template(mesh: trimesh.Trimesh) -> Prim:
    return Prim(np.asarray(mesh.vertices, float), np.asarray(mesh.faces, np.int64))


# unit templates, scaled per use: building a trimesh per primitive is far slower
_BOX = _template(trimesh.creation.box(extents=(1.0, 1.0, 1.0)))
_CYL = _template(trimesh.creation.cylinder(radius=1.0, height=1.0, sections=16))
_SPHERE = _template(trimesh.creation.icosphere(subdivisions=1, radius=1.0))


def _scaled(t: Prim, scale: tuple[float, float, float], at: tuple[float, float, float]) -> Prim:
    return Prim(t.vertices * np.asarray(scale, float) + np.asarray(at, float), t.faces)


def box(ext: tuple[float, float, float], at: tuple[float, float, float]) -> Prim:
    """An axis-aligned box of extents ``ext`` centred at ``at`` (local frame)."""
    return _scaled(_BOX, ext, at)


def cyl(r: float, h: float, at: tuple[float, float, float]) -> Prim:
    """A z-axis cylinder (16 sides) of radius ``r`` and height ``h`` centred at ``at``."""
    return _scaled(_CYL, (r, r, h), at)


def ellipsoid(radii: tuple[float, float, float], at: tuple[float, float, float]) -> Prim:
    """A coarse ellipsoid (an icosphere scaled per axis) centred at ``at``."""
    return _scaled(_SPHERE, radii, at)


def _legs(w: float, d: float, h: float, t: float, c: RGB) -> list[Part]:
    """Four square legs of height ``h`` and width ``t`` at the corners of a w x d footprint."""
    x, y = w / 2 - t / 2, d / 2 - t / 2
    return [(box((t, t, h), (sx * x, sy * y, h / 2)), c) for sx in (-1, 1) for sy in (-1, 1)]


# --- builders ----------------------------------------------------------------------------------


def _plain_box(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    return [(box((w, d, h), (0, 0, h / 2)), c)]


def _table(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    top = 0.04
    return [(box((w, d, top), (0, 0, h - top / 2)), c)] + _legs(w, d, h - top, 0.06, shade(c, 0.7))


def _desk(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    top, side = 0.035, 0.04
    parts: list[Part] = [(box((w, d, top), (0, 0, h - top / 2)), c)]
    for sx in (-1, 1):
        parts.append(
            (box((side, d, h - top), (sx * (w / 2 - side / 2), 0, (h - top) / 2)), shade(c, 0.8))
        )
    # modesty panel at the back
    parts.append(
        (box((w - 2 * side, 0.02, 0.4), (0, -d / 2 + 0.01, h - top - 0.2)), shade(c, 0.85))
    )
    return parts


def _chair(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    seat_h, seat_t, back_t = 0.45, 0.05, 0.05
    legs = _legs(w, d, seat_h - seat_t, 0.04, shade(c, 0.6))
    seat = (box((w, d, seat_t), (0, 0, seat_h - seat_t / 2)), c)
    back = (
        box((w, back_t, h - seat_h), (0, -d / 2 + back_t / 2, (seat_h + h) / 2)),
        shade(c, 0.9),
    )
    return [*legs, seat, back]


def _office_chair(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    seat_h = 0.48
    dark = (45, 45, 50)
    return [
        (box((w, 0.06, 0.05), (0, 0, 0.025)), dark),
        (box((0.06, d, 0.05), (0, 0, 0.025)), dark),
        (cyl(0.03, seat_h - 0.13, (0, 0, 0.05 + (seat_h - 0.13) / 2)), dark),
        (box((w * 0.9, d * 0.85, 0.08), (0, 0.02, seat_h - 0.04)), c),
        (box((w * 0.85, 0.07, h - seat_h - 0.05), (0, -d / 2 + 0.035, (seat_h + 0.05 + h) / 2)), c),
    ]


def _armchair(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    seat_h, arm_w, back_t = 0.42, 0.15, 0.18
    return [
        (box((w, d, seat_h), (0, 0, seat_h / 2)), c),
        (box((w, back_t, h - seat_h), (0, -d / 2 + back_t / 2, (seat_h + h) / 2)), shade(c, 0.9)),
        *[
            (
                box(
                    (arm_w, d - back_t, 0.22), (sx * (w / 2 - arm_w / 2), back_t / 2, seat_h + 0.11)
                ),
                shade(c, 0.85),
            )
            for sx in (-1, 1)
        ],
    ]


def _sofa(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    return _armchair(w, d, h, c, rng)


def _sofa_support(w: float, d: float, h: float) -> Support:
    back_t, arm_w = 0.18, 0.15
    return Support(0.42, w / 2 - arm_w, (d - back_t) / 2, back_t / 2)


def _bed(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    frame_h, mattress_t, head_t = 0.3, 0.22, 0.08
    sheet = (236, 234, 226)
    return [
        (box((w, d, frame_h), (0, 0, frame_h / 2)), c),
        (
            box(
                (w - 0.04, d - head_t - 0.02, mattress_t), (0, head_t / 2, frame_h + mattress_t / 2)
            ),
            sheet,
        ),
        (box((w, head_t, h), (0, -d / 2 + head_t / 2, h / 2)), shade(c, 0.85)),
    ]


def _bed_support(w: float, d: float, h: float) -> Support:
    return Support(0.52, w / 2 - 0.04, (d - 0.1) / 2 - 0.02, 0.05)


def _bookshelf(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    t = 0.025
    parts: list[Part] = [(box((t, d, h), (sx * (w / 2 - t / 2), 0, h / 2)), c) for sx in (-1, 1)]
    parts.append((box((w - 2 * t, 0.01, h), (0, -d / 2 + 0.005, h / 2)), shade(c, 0.8)))
    n = max(3, int(h / 0.38))
    book_colors = [(150, 40, 40), (40, 70, 140), (200, 170, 60), (60, 120, 70), (90, 60, 110)]
    for i in range(n + 1):
        z = i * (h - t) / n + t / 2
        parts.append((box((w - 2 * t, d - 0.01, t), (0, 0.005, z)), c))
        if 0 < i <= n and rng.random() < 0.8:  # a row of books on the shelf below
            bh = min(0.24, (h - t) / n - 0.05)
            bw = rng.uniform(0.3, 0.8) * (w - 2 * t)
            x = -w / 2 + t + bw / 2 + rng.uniform(0, w - 2 * t - bw)
            col = book_colors[int(rng.integers(len(book_colors)))]
            parts.append(
                (box((bw, d * 0.7, bh), (x, 0.0, z - t / 2 - (h - t) / n + t + bh / 2)), col)
            )
    return parts


def _cabinet(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    handle = (120, 120, 125)
    parts: list[Part] = [(box((w, d, h), (0, 0, h / 2)), c)]
    n_doors = 2 if w > 0.7 else 1
    # handles near the middle line (two doors) or near the free edge (one door)
    xs = (-0.06, 0.06) if n_doors == 2 else (0.3 * w,)
    for x in xs:
        parts.append((box((0.02, 0.02, 0.12), (x, d / 2 + 0.01, h * 0.7)), handle))
    return parts


def _dresser(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    parts: list[Part] = [(box((w, d, h), (0, 0, h / 2)), c)]
    n = 3 if h < 0.85 else 4
    for i in range(n):
        z = (i + 0.5) * h / n
        parts.append((box((w * 0.3, 0.02, 0.025), (0, d / 2 + 0.01, z)), shade(c, 0.6)))
    return parts


def _fridge(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    handle = (90, 90, 95)
    return [
        (box((w, d, h), (0, 0, h / 2)), c),
        (box((w - 0.02, 0.01, 0.01), (0, d / 2 + 0.005, h * 0.62)), shade(c, 0.8)),
        (box((0.03, 0.03, 0.35), (w / 2 - 0.08, d / 2 + 0.015, h * 0.78)), handle),
        (box((0.03, 0.03, 0.35), (w / 2 - 0.08, d / 2 + 0.015, h * 0.45)), handle),
    ]


def _kitchen_cabinets(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    counter = (70, 70, 72)
    parts: list[Part] = [(box((w, d - 0.03, h - 0.04), (0, -0.015, (h - 0.04) / 2)), c)]
    parts.append((box((w, d, 0.04), (0, 0, h - 0.02)), counter))
    n = max(2, int(w / 0.5))
    for i in range(n):
        x = -w / 2 + (i + 0.5) * w / n
        parts.append((box((0.1, 0.02, 0.02), (x, d / 2 - 0.02, h - 0.15)), (150, 150, 155)))
    return parts


def _trash_can(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    return [(cyl(w / 2, h, (0, 0, h / 2)), c)]


def _toilet(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    tank_d = 0.2
    return [
        (box((w, tank_d, h - 0.4), (0, -d / 2 + tank_d / 2, 0.4 + (h - 0.4) / 2)), c),
        (box((w * 0.9, tank_d, 0.4), (0, -d / 2 + tank_d / 2, 0.2)), c),
        (cyl(w / 2, 0.4, (0, -d / 2 + tank_d + (d - tank_d) / 2 - 0.02, 0.2)), shade(c, 0.95)),
    ]


def _sink(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    basin = (235, 235, 238)
    return [
        (box((w, d, h - 0.06), (0, 0, (h - 0.06) / 2)), c),
        (box((w, d, 0.06), (0, 0, h - 0.03)), basin),
        (cyl(0.015, 0.18, (0, -d / 2 + 0.06, h + 0.09)), (170, 170, 175)),
    ]


def _plant(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    pot_h = min(0.35, 0.35 * h)
    foliage = ellipsoid((w / 2, d / 2, (h - pot_h) / 2), (0, 0, pot_h + (h - pot_h) / 2))
    return [(cyl(w * 0.3, pot_h, (0, 0, pot_h / 2)), (150, 85, 55)), (foliage, c)]


def _lamp(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    shade_h = 0.35 * h
    metal = (110, 105, 100)
    return [
        (cyl(w * 0.3, 0.03, (0, 0, 0.015)), metal),
        (cyl(0.012, h - shade_h, (0, 0, (h - shade_h) / 2 + 0.015)), metal),
        (cyl(w / 2, shade_h, (0, 0, h - shade_h / 2)), c),
    ]


def _monitor(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    screen_h = 0.62 * h
    screen = (25, 28, 35)
    return [
        (box((0.22, d, 0.02), (0, 0, 0.01)), c),
        (box((0.05, 0.04, h - screen_h), (0, -0.02, (h - screen_h) / 2)), c),
        (box((w, 0.04, screen_h), (0, 0.01, h - screen_h / 2)), c),
        (box((w - 0.03, 0.005, screen_h - 0.03), (0, 0.0325, h - screen_h / 2)), screen),
    ]


def _tv(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    screen_h = 0.85 * h
    return [
        (box((0.3, d, 0.03), (0, 0, 0.015)), c),
        (box((0.06, 0.04, h - screen_h), (0, 0, (h - screen_h) / 2)), c),
        (box((w, 0.05, screen_h), (0, 0, h - screen_h / 2)), c),
        (box((w - 0.04, 0.005, screen_h - 0.04), (0, 0.0275, h - screen_h / 2)), (15, 15, 20)),
    ]


def _panel(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    """A flat wall object with a frame: the painted side faces +y."""
    frame = shade(c, 0.45) if sum(c) > 300 else (230, 228, 220)
    inner = (box((w - 0.08, 0.005, h - 0.08), (0, d / 2 + 0.0025, h / 2)), c)
    return [(box((w, d, h), (0, 0, h / 2)), frame), inner]


def _door(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    return [
        (box((w, d, h), (0, 0, h / 2)), c),
        (box((0.12, 0.04, 0.03), (w / 2 - 0.1, d / 2 + 0.02, 1.0)), (170, 165, 150)),
    ]


def _window(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    glass = (170, 205, 230)
    frame = (240, 240, 236)
    t = 0.05
    return [
        (box((w, d * 0.5, h), (0, -d / 4, h / 2)), glass),
        (box((w, d, t), (0, 0, t / 2)), frame),
        (box((w, d, t), (0, 0, h - t / 2)), frame),
        (box((t, d, h), (-w / 2 + t / 2, 0, h / 2)), frame),
        (box((t, d, h), (w / 2 - t / 2, 0, h / 2)), frame),
        (box((t, d, h), (0, 0, h / 2)), frame),
    ]


def _pillow(w: float, d: float, h: float, c: RGB, rng: np.random.Generator) -> list[Part]:
    return [
        (box((w, d, h), (0, 0, h / 2)), c),
        (box((w - 0.06, d - 0.06, 0.01), (0, 0, h + 0.005)), shade(c, 1.08)),
    ]


def _flat_support(w: float, d: float, h: float) -> Support:
    return Support(h, w / 2, d / 2)


BUILDERS: dict[str, Builder] = {
    "plain_box": _plain_box, "table": _table, "desk": _desk, "chair": _chair,
    "office_chair": _office_chair, "armchair": _armchair, "sofa": _sofa, "bed": _bed,
    "bookshelf": _bookshelf, "cabinet": _cabinet, "dresser": _dresser, "fridge": _fridge,
    "kitchen_cabinets": _kitchen_cabinets, "trash_can": _trash_can, "toilet": _toilet,
    "sink": _sink, "plant": _plant, "lamp": _lamp, "monitor": _monitor, "tv": _tv,
    "panel": _panel, "door": _door, "window": _window, "pillow": _pillow,
}  # fmt: skip
SUPPORTS: dict[str, Callable[[float, float, float], Support]] = {
    "flat": _flat_support, "bed": _bed_support, "sofa": _sofa_support,
}  # fmt: skip

#: ScanNet-style labels of the structure instances.
FLOOR, WALL, CEILING = "floor", "wall", "ceiling"


def _rgb_list(value: Any, where: str) -> tuple[RGB, ...]:
    try:
        out = tuple((int(r), int(g), int(b)) for r, g, b in value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: colours must be [r, g, b] triples ({exc})") from None
    if not out or any(not 0 <= v <= 255 for c in out for v in c):
        raise ValueError(f"{where}: colours must be non-empty, each channel 0-255")
    return out


def _category(name: str, d: dict[str, Any]) -> Category:
    where = f"catalog.yaml: categories.{name}"
    try:
        size = tuple((float(d["size"][k][0]), float(d["size"][k][1])) for k in "wdh")
        return Category(
            name=name,
            size=size,  # type: ignore[arg-type]
            placement=str(d["placement"]),
            colors=_rgb_list(d["colors"], where),
            build=BUILDERS[d["builder"]],
            against_wall=bool(d.get("against_wall", False)),
            support=SUPPORTS[d["support"]] if "support" in d else None,
            rests_on=tuple(d.get("rests_on", ())),
            at_back=bool(d.get("at_back", False)),
            wall_z=tuple(float(v) for v in d.get("wall_z", (0.0, 0.0))),  # type: ignore[arg-type]
            square=bool(d.get("square", False)),
        )
    except KeyError as exc:
        raise ValueError(f"{where}: missing or unknown {exc}") from None


def _load() -> dict[str, Any]:
    text = resources.files("spar3d.scenes.synthetic").joinpath("catalog.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


_DATA = _load()
CATEGORIES: dict[str, Category] = {n: _category(n, d) for n, d in _DATA["categories"].items()}
STRUCTURE_COLORS: dict[str, tuple[RGB, ...]] = {
    k: _rgb_list(v, f"catalog.yaml: structure_colors.{k}")
    for k, v in _DATA["structure_colors"].items()
}
#: Room themes: ``name -> (anchor categories, {category: weight})``.
THEMES: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    k: (tuple(v["anchors"]), {n: float(w) for n, w in v["pool"].items()})
    for k, v in _DATA["themes"].items()
}
#: Small things tried when a crowded room is still short of its minimum count.
FILLERS: tuple[str, ...] = tuple(_DATA["fillers"])


def sample_size(cat: Category, rng: np.random.Generator) -> tuple[float, float, float]:
    """Draw ``(w, d, h)`` uniformly within the category's ranges (round things get w == d)."""
    w, d, h = (float(rng.uniform(lo, hi)) for lo, hi in cat.size)
    if cat.square:
        d = w
    return w, d, h


def sample_color(cat: Category, rng: np.random.Generator) -> RGB:
    """A base colour of the category, jittered so two instances rarely look identical."""
    base = cat.colors[int(rng.integers(len(cat.colors)))]
    return shade(base, float(rng.uniform(0.88, 1.1)))
