"""Procedural layout: rooms, walls with a doorway, and non-overlapping object placement.

The world frame is the ScanNet axis-aligned frame: metres, +z up, floor at z = 0, rooms
axis-aligned with their corner at the origin. Walls are boxes of thickness ``WALL_T`` centred on
the room outline, so a room's free interior is its rectangle shrunk by ``WALL_T / 2``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from spar3d.geometry.boxes import OrientedBox
from spar3d.scenes.synthetic.catalog import (
    CATEGORIES,
    FILLERS,
    THEMES,
    Category,
    Part,
    Support,
    sample_color,
    sample_size,
)
from spar3d.scenes.synthetic.params import DEFAULT_WORLD, WorldParams

F64 = NDArray[np.float64]
WALL_T = 0.1
#: Gap kept between floor objects (and from walls) so their boxes never touch.
FLOOR_GAP = 0.04
#: Floor objects stop being added once their footprints cover this share of a room.
MAX_FLOOR_COVER = 0.4
#: Shortest room side: a doorway (up to 1.2 m) with 0.3 m of wall either side fits any wall.
MIN_SIDE = 2.2


@dataclass(frozen=True)
class Room:
    """An axis-aligned rectangular room: outline ``[x0, x1] x [y0, y1]`` and ceiling height."""

    x0: float
    y0: float
    x1: float
    y1: float
    height: float
    theme: str

    def interior(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        """Free floor rectangle inside the walls, shrunk by a further ``margin``."""
        m = WALL_T / 2 + margin
        return self.x0 + m, self.y0 + m, self.x1 - m, self.y1 - m

    @property
    def area_m2(self) -> float:
        return (self.x1 - self.x0) * (self.y1 - self.y0)


@dataclass(frozen=True)
class WallSegment:
    """A straight wall on an outline edge.

    Attributes:
        p0, p1: ``(2,)`` end points on the outline (axis-aligned).
        normal: ``(2,)`` unit normal pointing into ``room``.
        room: Index of the room this face of the wall belongs to.
        doorway: ``(s0, s1, height)`` opening along the segment (distance from p0), or None.
    """

    p0: tuple[float, float]
    p1: tuple[float, float]
    normal: tuple[float, float]
    room: int
    doorway: tuple[float, float, float] | None = None

    @property
    def length(self) -> float:
        return float(np.hypot(self.p1[0] - self.p0[0], self.p1[1] - self.p0[1]))

    def point(self, s: float) -> F64:
        d = (np.asarray(self.p1) - np.asarray(self.p0)) / self.length
        return np.asarray(self.p0, float) + s * d


@dataclass
class Placed:
    """One object placed in the world (local parts plus its pose).

    Attributes:
        label: ScanNet label.
        kind: ``"floor"``, ``"wall"`` or ``"top"``.
        room: Room index.
        xy: ``(2,)`` world position of the local origin.
        z0: Height of the local origin (its base).
        yaw: Rotation about +z, radians.
        parts: Local-frame meshes with colours.
        support: Surface others may rest on, or None.
        parent: Index (into the placed list) of the object it rests on, or None.
    """

    label: str
    kind: str
    room: int
    xy: F64
    z0: float
    yaw: float
    parts: list[Part]
    support: Support | None = None
    parent: int | None = None
    box: OrientedBox = field(init=False)

    def __post_init__(self) -> None:
        v = np.concatenate([np.asarray(m.vertices) for m, _ in self.parts])
        lo, hi = v.min(axis=0), v.max(axis=0)
        R = rot_z(self.yaw)
        center = R @ ((lo + hi) / 2) + np.array([self.xy[0], self.xy[1], self.z0])
        self.box = OrientedBox(center, hi - lo, R)

    def transform(self) -> F64:
        """``(4, 4)`` local-to-world transform."""
        T = np.eye(4)
        T[:3, :3] = rot_z(self.yaw)
        T[:3, 3] = (self.xy[0], self.xy[1], self.z0)
        return T


def upright_boxes_overlap(a: OrientedBox, b: OrientedBox, gap: float) -> bool:
    """Whether two boxes rotated about z only come closer than ``gap``.

    Such boxes overlap exactly when their height ranges overlap and their plan-view rectangles do
    (separating-axis test over the four edge directions); much cheaper than the general 3D test.
    """
    if abs(a.center[2] - b.center[2]) >= (a.size[2] + b.size[2]) / 2 + gap:
        return False
    Ra, Rb = a.R_world_box[:2, :2], b.R_world_box[:2, :2]
    ha, hb = a.size[:2] / 2 + gap / 2, b.size[:2] / 2 + gap / 2
    d = b.center[:2] - a.center[:2]
    for ax in (Ra[:, 0], Ra[:, 1], Rb[:, 0], Rb[:, 1]):
        ra = ha[0] * abs(Ra[:, 0] @ ax) + ha[1] * abs(Ra[:, 1] @ ax)
        rb = hb[0] * abs(Rb[:, 0] @ ax) + hb[1] * abs(Rb[:, 1] @ ax)
        if abs(d @ ax) >= ra + rb:
            return False
    return True


def rot_z(yaw: float) -> F64:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def yaw_facing(v: F64) -> float:
    """Yaw that turns an object's local +y (its front) towards the 2D direction ``v``."""
    return float(np.arctan2(-v[0], v[1]))


def make_rooms(
    rng: np.random.Generator, n_rooms: int | None, params: WorldParams = DEFAULT_WORLD
) -> tuple[list[Room], list[WallSegment]]:
    """``n_rooms`` rooms (None: drawn from ``params``) in a row along x, each joined to the one
    before through a doorway; where neighbours' depths differ the plan steps (an L for two).

    Sizes come from ``params.draw_room_sides``; rooms below ``params.small_room_m2`` after the
    first are bathrooms, the others get one of the living themes.
    """
    if n_rooms is None:
        n_rooms = params.draw_n_rooms(rng)
    if n_rooms < 1:
        raise ValueError(f"n_rooms must be >= 1, got {n_rooms}")
    H = float(rng.uniform(*params.ceiling_range_m))
    rooms: list[Room] = []
    walls: list[WallSegment] = []
    x = 0.0
    for k in range(n_rooms):
        W, D = (max(MIN_SIDE, v) for v in params.draw_room_sides(rng))
        if k > 0 and params.small_room_m2 > W * D:
            theme = "bathroom"
        else:
            theme = str(rng.choice(["bedroom", "office", "living room", "kitchen"]))
        rooms.append(Room(x, 0.0, x + W, D, H, theme))
        walls += [
            WallSegment((x, 0), (x + W, 0), (0, 1), k),
            WallSegment((x, D), (x + W, D), (0, -1), k),
        ]
        if k == 0:
            walls.append(WallSegment((0, 0), (0, D), (1, 0), 0))
        else:  # the wall shared with the room before: a doorway, and a step where depths differ
            D0 = rooms[k - 1].y1
            shared = min(D0, D)
            door_w = float(rng.uniform(0.9, 1.2))
            s0 = float(rng.uniform(0.3, shared - door_w - 0.3))
            walls.append(WallSegment((x, 0), (x, shared), (-1, 0), k - 1, (s0, s0 + door_w, 2.1)))
            if D0 > D:
                walls.append(WallSegment((x, D), (x, D0), (-1, 0), k - 1))
            elif D > D0:
                walls.append(WallSegment((x, D0), (x, D), (1, 0), k))
        x += W
    walls.append(WallSegment((x, 0), (x, rooms[-1].y1), (-1, 0), n_rooms - 1))
    return rooms, walls


class Placer:
    """Places objects room by room, rejecting any that leave the room or touch another box."""

    def __init__(
        self,
        rng: np.random.Generator,
        rooms: list[Room],
        walls: list[WallSegment],
        params: WorldParams = DEFAULT_WORLD,
    ) -> None:
        self.rng = rng
        self.params = params
        self.rooms = rooms
        self.walls = walls
        self.placed: list[Placed] = []
        self.reserved: list[OrientedBox] = []  # keep-out zones: in front of doors, doorways
        self.floor_cover = [0.0] * len(rooms)
        for w in walls:
            if w.doorway is not None:
                s0, s1, _ = w.doorway
                c = w.point((s0 + s1) / 2)
                along = abs(np.asarray(w.p1) - np.asarray(w.p0)) / w.length
                size = along * (s1 - s0 + 0.3) + (1 - along) * 2.0
                self.reserved.append(
                    OrientedBox.axis_aligned((c[0], c[1], 1.0), (size[0], size[1], 2.0))
                )

    def size(self, cat: Category) -> tuple[float, float, float]:
        """A catalog size times a per-object scale factor (wall objects keep catalog sizes)."""
        w, d, h = sample_size(cat, self.rng)
        if cat.placement == "wall":
            return w, d, h
        s = self.params.draw_scale(self.rng)
        return w * s, (w if cat.square else d) * s, h * s

    # -- checks ----------------------------------------------------------------------------------

    def _fits(self, cand: Placed, gap: float, ignore: int | None = None) -> bool:
        x0, y0, x1, y1 = self.rooms[cand.room].interior(0.005)
        corners = cand.box.corners()
        if corners[:, 0].min() < x0 or corners[:, 0].max() > x1:
            return False
        if corners[:, 1].min() < y0 or corners[:, 1].max() > y1:
            return False
        if corners[:, 2].max() > self.rooms[cand.room].height - 0.05:
            return False
        others = [p.box for i, p in enumerate(self.placed) if i != ignore]
        for box in others + ([] if cand.kind == "top" else self.reserved):
            if upright_boxes_overlap(cand.box, box, gap):
                return False
        return True

    def _make(
        self,
        cat: Category,
        room: int,
        xy: F64,
        z0: float,
        yaw: float,
        size: tuple[float, float, float] | None = None,
        parent: int | None = None,
    ) -> Placed:
        w, d, h = size or self.size(cat)
        parts = cat.build(w, d, h, sample_color(cat, self.rng), self.rng)
        support = cat.support(w, d, h) if cat.support else None
        # a "top" category placed without a host (a box) stands on the floor
        kind = (
            "top" if parent is not None else ("floor" if cat.placement == "top" else cat.placement)
        )
        return Placed(cat.name, kind, room, np.asarray(xy, float), z0, yaw, parts, support, parent)

    def _accept(self, cand: Placed, gap: float, ignore: int | None = None) -> int | None:
        if not self._fits(cand, gap, ignore):
            return None
        if cand.kind == "floor":
            x0, y0, x1, y1 = self.rooms[cand.room].interior()
            area = cand.box.size[0] * cand.box.size[1]
            if self.floor_cover[cand.room] + area > MAX_FLOOR_COVER * (x1 - x0) * (y1 - y0):
                return None
            self.floor_cover[cand.room] += area
        self.placed.append(cand)
        return len(self.placed) - 1

    # -- placement kinds -------------------------------------------------------------------------

    def _room_walls(self, room: int) -> list[WallSegment]:
        return [w for w in self.walls if w.room == room and w.doorway is None]

    def on_wall(self, cat: Category, room: int, tries: int = 30) -> int | None:
        """Against a wall: windows, pictures, doors hang on it; wardrobes, beds stand against it."""
        walls = self._room_walls(room)
        for _ in range(tries):
            wall = walls[int(self.rng.integers(len(walls)))]
            size = self.size(cat)
            n = np.asarray(wall.normal, float)
            yaw = yaw_facing(n)
            z0 = float(self.rng.uniform(*cat.wall_z)) if cat.placement == "wall" else 0.0
            cand = self._make(cat, room, np.zeros(2), z0, yaw, size)
            lo_y = min(float(np.asarray(m.vertices)[:, 1].min()) for m, _ in cand.parts)
            half_w = cand.box.size[0] / 2
            lo_s, hi_s = WALL_T / 2 + half_w + 0.02, wall.length - WALL_T / 2 - half_w - 0.02
            if hi_s <= lo_s:
                continue
            s = float(self.rng.uniform(lo_s, hi_s))
            # the object's back (local y = lo_y) sits on the wall's inner face
            xy = wall.point(s) + n * (WALL_T / 2 + 0.008 - lo_y)
            cand = Placed(cand.label, cand.kind, room, xy, z0, yaw, cand.parts, cand.support)
            gap = 0.02 if cat.placement == "wall" else FLOOR_GAP
            idx = self._accept(cand, gap)
            if idx is not None:
                if cat.name == "door":  # keep the swing area in front of a door clear
                    c = np.append(xy + n * 0.5, 1.0)
                    R = rot_z(yaw)
                    self.reserved.append(
                        OrientedBox(c, np.array([cand.box.size[0] + 0.1, 0.9, 2.0]), R)
                    )
                return idx
        return None

    def free(self, cat: Category, room: int, tries: int = 30) -> int | None:
        """Anywhere on the floor, with a random yaw (some aligned with the room, some not)."""
        x0, y0, x1, y1 = self.rooms[room].interior(0.1)
        for _ in range(tries):
            xy = self.rng.uniform((x0, y0), (x1, y1))
            yaw = float(self.rng.integers(4)) * np.pi / 2
            if self.rng.random() < 0.6:
                yaw += float(self.rng.uniform(-np.pi / 4, np.pi / 4))
            idx = self._accept(self._make(cat, room, xy, 0.0, yaw), FLOOR_GAP)
            if idx is not None:
                return idx
        return None

    def near(self, cat: Category, host: int, n: int) -> list[int]:
        """Up to ``n`` seats facing a table (around it) or a desk (in front of it)."""
        h = self.placed[host]
        R = rot_z(h.yaw)[:2, :2]
        half = h.box.size[:2] / 2
        sides = (
            [np.array([0.0, 1.0])]
            if h.label == "desk"
            else [np.array(v) for v in ((0.0, 1.0), (0.0, -1.0), (1.0, 0.0), (-1.0, 0.0))]
        )
        self.rng.shuffle(sides)
        out: list[int] = []
        for side in sides[:n]:
            w, d, ht = self.size(cat)
            along = float(self.rng.uniform(-0.25, 0.25)) * float(
                half[0] if side[0] == 0 else half[1]
            )
            local = (
                side * (float(np.abs(side) @ half) + 0.12 + d / 2)
                + np.array([side[1], side[0]]) * along
            )
            m = R @ side  # outward normal of that table side in world
            xy = h.box.center[:2] + R @ local
            yaw = yaw_facing(-m) + float(self.rng.uniform(-0.3, 0.3))
            idx = self._accept(self._make(cat, h.room, xy, 0.0, yaw, (w, d, ht)), FLOOR_GAP)
            if idx is not None:
                out.append(idx)
        return out

    def on_top(
        self, cat: Category, room: int, tries: int = 20, only: int | None = None
    ) -> int | None:
        """On the surface of a supporting object of the room (lamp on a nightstand, ...), or of
        the placed object ``only`` when given."""
        hosts = [
            i
            for i, p in enumerate(self.placed)
            if p.room == room and p.support is not None and p.label in cat.rests_on
            and (only is None or i == only)
        ]
        if not hosts:
            return None
        for _ in range(tries):
            host_i = hosts[int(self.rng.integers(len(hosts)))]
            host = self.placed[host_i]
            sup = host.support
            assert sup is not None
            rel = 0.0 if cat.at_back else float(self.rng.uniform(-0.5, 0.5))
            cand = self._make(cat, room, np.zeros(2), 0.0, rel)
            # footprint of the item, in the host's frame, about the item's origin
            c = cand.box.corners()[:, :2]
            lo, hi = c.min(axis=0), c.max(axis=0)
            lo_x, hi_x = -sup.half_x - lo[0], sup.half_x - hi[0]
            lo_y, hi_y = sup.y0 - sup.half_y - lo[1], sup.y0 + sup.half_y - hi[1]
            if hi_x < lo_x or hi_y < lo_y:
                continue
            if cat.at_back:
                hi_y = lo_y + 0.3 * (hi_y - lo_y)
            local = self.rng.uniform((lo_x, lo_y), (hi_x, hi_y))
            xy = host.xy + rot_z(host.yaw)[:2, :2] @ local
            cand = Placed(
                cat.name,
                "top",
                room,
                xy,
                host.z0 + sup.z,
                host.yaw + rel,
                cand.parts,
                cand.support,
                host_i,
            )
            idx = self._accept(cand, 0.01, ignore=host_i)
            if idx is not None:
                return idx
        return None

    def beside(self, cat: Category, host: int, tries: int = 12) -> int | None:
        """A floor object tucked against a side or the back of ``host`` (a small gap), so that
        the host hides much of it from most viewpoints."""
        h = self.placed[host]
        R = rot_z(h.yaw)[:2, :2]
        half = h.box.size[:2] / 2
        for _ in range(tries):
            side = [np.array(v) for v in ((0.0, 1.0), (0.0, -1.0), (1.0, 0.0), (-1.0, 0.0))][
                int(self.rng.integers(4))
            ]
            w, d, ht = self.size(cat)
            along = float(self.rng.uniform(-0.6, 0.6)) * float(half[0] if side[0] == 0 else half[1])
            local = (
                side * (float(np.abs(side) @ half) + FLOOR_GAP + 0.01 + max(w, d) / 2)
                + np.array([side[1], side[0]]) * along
            )
            xy = h.box.center[:2] + R @ local
            yaw = h.yaw + float(self.rng.uniform(-0.2, 0.2))
            idx = self._accept(self._make(cat, h.room, xy, 0.0, yaw, (w, d, ht)), FLOOR_GAP)
            if idx is not None:
                return idx
        return None

    def place(self, name: str, room: int, budget: int) -> list[int]:
        """Place one object of category ``name`` and, within ``budget`` objects in all, the seats
        that go with tables and desks."""
        cat = CATEGORIES[name]
        if cat.placement == "top":
            idx = self.on_top(cat, room)
            if idx is None and name in ("box", "object"):  # boxes also stand on the floor
                idx = self.free(cat, room)
        elif cat.placement == "wall" or cat.against_wall:
            idx = self.on_wall(cat, room)
        else:
            idx = self.free(cat, room)
        if idx is None:
            return []
        out = [idx]
        if name == "table":
            out += self.near(
                CATEGORIES["chair"], idx, min(budget - 1, int(self.rng.integers(2, 5)))
            )
        elif name == "desk":
            seat = "office chair" if self.rng.random() < 0.7 else "chair"
            out += self.near(CATEGORIES[seat], idx, min(budget - 1, 1))
        return out


def populate(placer: Placer, room: int, target: int, minimum: int | None = None) -> None:
    """Fill one room with ``target`` objects (fewer where the floor runs out), at least
    ``minimum`` (default ``target``) or RuntimeError."""
    lo = target if minimum is None else min(minimum, target)
    rng = placer.rng
    anchors, pool = THEMES[placer.rooms[room].theme]
    count = 0

    def add(name: str) -> None:
        nonlocal count
        if count < target:
            count += len(placer.place(name, room, target - count))

    for name in ("door", "window", *anchors):
        add(name)
    names, weights = list(pool), np.array(list(pool.values()), float)
    for _ in range(6 * target):
        if count >= target:
            break
        add(str(rng.choice(names, p=weights / weights.sum())))
    for _ in range(200):
        if count >= lo:
            break
        add(FILLERS[int(rng.integers(len(FILLERS)))])
    if count < lo:
        raise RuntimeError(f"synthetic room {room}: placed only {count} of at least {lo} objects")


# What real scans hold and a tidy room lacks (added by :func:`add_real_clutter`):
CLUTTER = "object"  # catch-all label: occludes, counts for uniqueness, never named
HIDDEN_SMALL = ("trash can", "plant", "box", "chair")  # tucked behind big furniture
BIG_HOSTS = ("sofa", "bed", "cabinet", "bookshelf", "dresser", "kitchen cabinets", "table",
             "desk", "refrigerator", "armchair", "tv stand")  # fmt: skip


#: Small things of real desks, tables and counters (ScanNet labels), put on surfaces as clutter.
SURFACE_CLUTTER = ("cup", "bottle", "bowl", "book", "laptop", "keyboard", "box")
#: Furniture whose top gets surface clutter.
CLUTTER_HOSTS = ("table", "desk", "coffee table", "kitchen cabinets", "nightstand", "dresser",
                 "cabinet", "tv stand")  # fmt: skip


def add_real_clutter(placer: Placer, room: int, n_clutter: tuple[int, int] | None = None) -> None:
    """Add the situations of real scans to a populated room.

    * surface clutter: on each table, desk, counter, nightstand, dresser, cabinet and tv stand, a
      Poisson number (mean ``params.clutter_per_surface``) of small things (cups, bottles,
      bowls, books, laptops, keyboards, boxes) resting on its top;
    * catch-all clutter: ``n_clutter`` (default ``params.catch_all_range``) objects labelled
      ``"object"`` on surfaces or the floor;
    * partly hidden same-label distractors: for up to three big pieces of furniture, a small floor
      object tucked against it, of a label the room already has when it has one (a second
      trash can behind the sofa), so that only a small part of it shows from most views.

    Furniture placed before keeps its place; the new objects come after it.
    """
    rng = placer.rng
    params = placer.params
    hosts_top = [i for i, p in enumerate(placer.placed)
                 if p.room == room and p.label in CLUTTER_HOSTS and p.support is not None]
    for host in hosts_top:
        for _ in range(int(rng.poisson(params.clutter_per_surface))):
            cat = CATEGORIES[SURFACE_CLUTTER[int(rng.integers(len(SURFACE_CLUTTER)))]]
            if placer.placed[host].label in cat.rests_on:
                placer.on_top(cat, room, tries=8, only=host)
    lo, hi = n_clutter or params.catch_all_range
    for _ in range(int(rng.integers(lo, hi + 1))):
        placer.place(CLUTTER, room, 1)
    present = {p.label for p in placer.placed if p.room == room}
    hosts = [i for i, p in enumerate(placer.placed) if p.room == room and p.label in BIG_HOSTS]
    rng.shuffle(hosts)
    for host in hosts[:3]:
        same = [n for n in HIDDEN_SMALL if n in present]
        pool = same or list(HIDDEN_SMALL)
        placer.beside(CATEGORIES[pool[int(rng.integers(len(pool)))]], host)
