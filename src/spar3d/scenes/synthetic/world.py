"""The synthetic world: one triangle mesh with per-vertex colour and instance id, plus labels and
oriented boxes, built procedurally from a seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh
from numpy.typing import NDArray

from spar3d.geometry.boxes import OrientedBox
from spar3d.scenes.model import Scene, SceneMesh, SceneObject
from spar3d.scenes.synthetic.catalog import (
    CEILING,
    FLOOR,
    RGB,
    STRUCTURE_COLORS,
    WALL,
    Prim,
    box,
    shade,
)
from spar3d.scenes.synthetic.layout import (
    WALL_T,
    Placer,
    Room,
    WallSegment,
    add_real_clutter,
    make_rooms,
    populate,
)
from spar3d.scenes.synthetic.params import DEFAULT_WORLD, WorldParams

F64 = NDArray[np.float64]
FLOOR_TILE = 0.5  # metres; tiles give the floor texture that flat boxes lack


@dataclass
class WorldObject:
    """One instance of the world.

    Attributes:
        instance_id: Index of the instance; equals its value in ``SyntheticWorld.instance_ids``.
        label: ScanNet label (``"floor"`` and ``"wall"`` for structure).
        box: Oriented box in the world frame (yaw-rotated for rotated furniture).
        kind: ``"structure"``, ``"floor"``, ``"wall"`` (hangs on a wall) or ``"top"``.
        room: Index into ``SyntheticWorld.rooms``.
        support_id: Instance id of the object it rests on (``"top"`` objects), else None.
    """

    instance_id: int
    label: str
    box: OrientedBox
    kind: str
    room: int
    support_id: int | None = None


@dataclass
class SyntheticWorld:
    """A procedurally built indoor scene in the axis-aligned world frame (metres, z up).

    Attributes:
        seed: Seed it was built from.
        vertices: ``(N, 3) float64`` mesh vertices.
        faces: ``(F, 3) int64`` triangles; every object owns its own vertices.
        colors: ``(N, 3) uint8`` per-vertex RGB.
        instance_ids: ``(N,) int64`` instance of each vertex, -1 for the (unannotated) ceiling.
        objects: Instances, ``objects[i].instance_id == i``.
        rooms: Room outlines.
        walls: Wall segments (one ``"wall"`` instance each).
        lights: ``(L, 3) float64`` point light positions (one per room, under the ceiling).
        params: The distributions it was drawn from (the camera walk draws from them too).
    """

    seed: int
    vertices: F64
    faces: NDArray[np.int64]
    colors: NDArray[np.uint8]
    instance_ids: NDArray[np.int64]
    objects: list[WorldObject]
    rooms: list[Room]
    walls: list[WallSegment]
    lights: F64
    params: WorldParams = DEFAULT_WORLD
    _face_colors: NDArray[np.uint8] | None = field(default=None, repr=False)
    _face_normals: F64 | None = field(default=None, repr=False)
    _face_normals32: NDArray[np.float32] | None = field(default=None, repr=False)

    @property
    def face_colors(self) -> NDArray[np.uint8]:
        """``(F, 3) uint8`` colour of each face (mean of its vertices' colours)."""
        if self._face_colors is None:
            c = self.colors[self.faces].astype(np.float64).mean(axis=1)
            self._face_colors = np.rint(c).astype(np.uint8)
        return self._face_colors

    @property
    def face_normals(self) -> F64:
        """``(F, 3) float64`` unit face normals (outward for closed parts; zero if degenerate)."""
        if self._face_normals is None:
            tri = self.vertices[self.faces]
            n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
            length = np.linalg.norm(n, axis=1, keepdims=True)
            self._face_normals = np.divide(n, length, out=np.zeros_like(n), where=length > 0)
        return self._face_normals

    @property
    def face_normals32(self) -> NDArray[np.float32]:
        """:attr:`face_normals` as float32 (what the renderer multiplies with)."""
        if self._face_normals32 is None:
            self._face_normals32 = self.face_normals.astype(np.float32)
        return self._face_normals32

    @property
    def face_instance_ids(self) -> NDArray[np.int64]:
        """``(F,) int64`` instance of each face (its vertices all share one)."""
        return self.instance_ids[self.faces[:, 0]]

    def furniture(self) -> list[WorldObject]:
        """The objects that are not floor, wall or ceiling."""
        return [o for o in self.objects if o.kind != "structure"]

    def to_scene(self, scene_id: str, root: Path | None = None) -> Scene:
        """The world as a spar3d :class:`Scene` (mesh and objects, no frames)."""
        objects = [
            SceneObject(
                o.instance_id,
                o.label,
                o.box,
                np.flatnonzero(self.instance_ids == o.instance_id),
                o.label,
            )
            for o in self.objects
        ]
        mesh = SceneMesh(self.vertices.copy(), self.faces.copy(), self.colors.copy())
        return Scene(scene_id, "synthetic", root or Path("."), objects, [], mesh)


class _MeshBuilder:
    """Accumulates instances' triangles with their colours and ids."""

    def __init__(self) -> None:
        self.v: list[F64] = []
        self.f: list[NDArray[np.int64]] = []
        self.c: list[NDArray[np.uint8]] = []
        self.ids: list[NDArray[np.int64]] = []
        self.n = 0

    def add(self, vertices: F64, faces: NDArray[np.int64], color: RGB, instance_id: int) -> None:
        self.v.append(np.asarray(vertices, float))
        self.f.append(np.asarray(faces, np.int64) + self.n)
        self.c.append(np.tile(np.asarray(color, np.uint8), (len(vertices), 1)))
        self.ids.append(np.full(len(vertices), instance_id, np.int64))
        self.n += len(vertices)

    def add_mesh(self, mesh: Prim, color: RGB, instance_id: int, T: F64 | None = None) -> None:
        v = np.asarray(mesh.vertices, float)
        if T is not None:
            v = v @ T[:3, :3].T + T[:3, 3]
        self.add(v, np.asarray(mesh.faces), color, instance_id)

    def arrays(self) -> tuple[F64, NDArray[np.int64], NDArray[np.uint8], NDArray[np.int64]]:
        return (
            np.concatenate(self.v),
            np.concatenate(self.f),
            np.concatenate(self.c),
            np.concatenate(self.ids),
        )


def _tiles(
    room: Room, base: RGB, rng: np.random.Generator
) -> list[tuple[F64, NDArray[np.int64], RGB]]:
    """Floor quads of about ``FLOOR_TILE`` metres, each a slightly different shade, facing up."""
    xs = np.append(np.arange(room.x0, room.x1, FLOOR_TILE), room.x1)
    ys = np.append(np.arange(room.y0, room.y1, FLOOR_TILE), room.y1)
    out = []
    quad = np.array([[0, 1, 2], [0, 2, 3]])
    for i in range(len(xs) - 1):
        for j in range(len(ys) - 1):
            if xs[i + 1] - xs[i] < 1e-6 or ys[j + 1] - ys[j] < 1e-6:
                continue
            v = np.array(
                [
                    [xs[i], ys[j], 0],
                    [xs[i + 1], ys[j], 0],
                    [xs[i + 1], ys[j + 1], 0],
                    [xs[i], ys[j + 1], 0],
                ]
            )
            factor = (0.9 if (i + j) % 2 else 1.0) * float(rng.uniform(0.95, 1.05))
            out.append((v, quad, shade(base, factor)))
    return out


def _wall_boxes(w: WallSegment, height: float) -> list[Prim]:
    """A wall as thin boxes (three around a doorway), extended by half a thickness at both ends
    so that corners close."""
    along = (np.asarray(w.p1, float) - np.asarray(w.p0, float)) / w.length
    pieces: list[tuple[float, float, float, float]] = []  # (s0, s1, z0, z1)
    if w.doorway is None:
        pieces.append((-WALL_T / 2, w.length + WALL_T / 2, 0.0, height))
    else:
        s0, s1, door_h = w.doorway
        pieces += [
            (-WALL_T / 2, s0, 0.0, height),
            (s1, w.length + WALL_T / 2, 0.0, height),
            (s0, s1, door_h, height),
        ]
    out = []
    for s0, s1, z0, z1 in pieces:
        mid = np.asarray(w.p0, float) + along * (s0 + s1) / 2
        ext_xy = np.abs(along) * (s1 - s0) + (1 - np.abs(along)) * WALL_T
        out.append(
            box(
                (float(ext_xy[0]), float(ext_xy[1]), z1 - z0),
                (float(mid[0]), float(mid[1]), (z0 + z1) / 2),
            )
        )
    return out


def build_world(
    seed: int,
    *,
    n_objects: tuple[int, int] | None = None,
    second_room: bool | None = None,
    subdivide_to_faces: int | None = None,
    real_clutter: bool = True,
    n_rooms: int | None = None,
    params: WorldParams | None = None,
) -> SyntheticWorld:
    """Build a furnished room, or an apartment of rooms joined by doorways, from a seed.

    Args:
        seed: Any int; the same seed always gives the same world.
        n_objects: Inclusive range of the number of themed objects per room (structure and
            clutter excluded); None draws it from the room's area (``params.objects_per_m2``).
        second_room: Old spelling of ``n_rooms``: True is 2 rooms, False is 1.
        n_rooms: Number of rooms in a row; None draws it from ``params.rooms_weights``.
        params: The distributions of rooms, objects, clutter and camera
            (:class:`~spar3d.scenes.synthetic.params.WorldParams`; default ``DEFAULT_WORLD``).
        subdivide_to_faces: Split long edges until the mesh has at least this many faces
            (ScanNet's ``vh_clean_2`` meshes have a few hundred thousand).
        real_clutter: Add what real scans hold (:func:`layout.add_real_clutter`): catch-all
            ``"object"`` clutter and small same-label objects tucked behind big furniture. They
            are drawn from a stream of their own, so the rest of the world is the same either way.

    Returns:
        The world, in the axis-aligned frame with the floor at z = 0.
    """
    if n_objects is not None and (n_objects[0] < 1 or n_objects[1] < n_objects[0]):
        raise ValueError(
            f"n_objects must be an increasing (lo, hi) range with lo >= 1, got {n_objects}"
        )
    params = params or DEFAULT_WORLD
    if n_rooms is None and second_room is not None:
        n_rooms = 2 if second_room else 1
    rng = np.random.default_rng(seed)
    rooms, walls = make_rooms(rng, n_rooms, params)
    placer = Placer(rng, rooms, walls, params)
    for r, room in enumerate(rooms):
        if n_objects is not None:
            populate(placer, r, int(rng.integers(n_objects[0], n_objects[1] + 1)), n_objects[0])
        else:  # a crowded small room may hold fewer than drawn: keep what fits (>= the minimum)
            populate(placer, r, params.draw_n_objects(room.area_m2, rng), params.objects_range[0])
    if real_clutter:
        placer.rng = np.random.default_rng(
            [abs(int(seed)), 1]
        )  # its own stream: the rest stays the same
        for r in range(len(rooms)):
            add_real_clutter(placer, r)
        placer.rng = rng

    mb = _MeshBuilder()
    objects: list[WorldObject] = []

    def new_id() -> int:
        return len(objects)

    for r, room in enumerate(rooms):
        base = STRUCTURE_COLORS[FLOOR][int(rng.integers(len(STRUCTURE_COLORS[FLOOR])))]
        i = new_id()
        for v, f, c in _tiles(room, base, rng):
            mb.add(v, f, c, i)
        objects.append(
            WorldObject(
                i,
                FLOOR,
                OrientedBox.axis_aligned(
                    ((room.x0 + room.x1) / 2, (room.y0 + room.y1) / 2, 0.0),
                    (room.x1 - room.x0, room.y1 - room.y0, 0.0),
                ),
                "structure",
                r,
            )
        )
    wall_color = STRUCTURE_COLORS[WALL][int(rng.integers(len(STRUCTURE_COLORS[WALL])))]
    for w in walls:
        i = new_id()
        meshes = _wall_boxes(w, rooms[w.room].height)
        color = shade(wall_color, float(rng.uniform(0.94, 1.04)))
        for m in meshes:
            mb.add_mesh(m, color, i)
        pts = np.concatenate([np.asarray(m.vertices) for m in meshes])
        objects.append(WorldObject(i, WALL, OrientedBox.from_points(pts), "structure", w.room))
    first_obj = new_id()
    for p in placer.placed:
        i = new_id()
        T = p.transform()
        for m, c in p.parts:
            mb.add_mesh(m, c, i, T)
        support = None if p.parent is None else first_obj + p.parent
        objects.append(WorldObject(i, p.label, p.box, p.kind, p.room, support))
    for (
        room
    ) in rooms:  # ceiling: a single downward-facing quad, unannotated like most ScanNet ceilings
        v = np.array(
            [
                [room.x0, room.y0, room.height],
                [room.x1, room.y0, room.height],
                [room.x1, room.y1, room.height],
                [room.x0, room.y1, room.height],
            ]
        )
        mb.add(v, np.array([[0, 2, 1], [0, 3, 2]]), STRUCTURE_COLORS[CEILING][0], -1)

    vertices, faces, colors, ids = mb.arrays()
    if subdivide_to_faces:
        vertices, faces, colors, ids = subdivide(vertices, faces, colors, ids, subdivide_to_faces)
    lights = np.array([[(r.x0 + r.x1) / 2, (r.y0 + r.y1) / 2, r.height - 0.3] for r in rooms])
    return SyntheticWorld(seed, vertices, faces, colors, ids, objects, rooms, walls, lights, params)


def subdivide(
    vertices: F64,
    faces: NDArray[np.int64],
    colors: NDArray[np.uint8],
    ids: NDArray[np.int64],
    min_faces: int,
) -> tuple[F64, NDArray[np.int64], NDArray[np.uint8], NDArray[np.int64]]:
    """Split long edges (shrinking the edge limit step by step) until there are ``min_faces`` faces.

    Colours and instance ids ride along as extra vertex columns: a new vertex is the midpoint of an
    edge, and both ends of an edge always belong to one part, so the values carry over exactly.
    """
    stacked = np.hstack([vertices, colors.astype(np.float64), ids[:, None].astype(np.float64)])
    tri = vertices[faces]
    area = float(
        np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum() / 2
    )
    # an equilateral triangle of edge e has area e^2 sqrt(3)/4; bisection leaves edges shorter
    # than the limit, so start well above the edge that would give the target exactly
    max_edge = float(np.sqrt(4 * area / (np.sqrt(3) * min_faces))) * 3.0
    v, f = vertices, faces
    for _ in range(40):
        v, f = trimesh.remesh.subdivide_to_size(stacked, faces, max_edge=max_edge, max_iter=30)
        if len(f) >= min_faces:
            break
        # faces grow about as 1 / edge^2: aim just past the target, in small steps
        max_edge *= float(np.clip(np.sqrt(len(f) / min_faces) * 0.98, 0.6, 0.95))
    return (
        np.ascontiguousarray(v[:, :3]),
        np.asarray(f, np.int64),
        np.rint(v[:, 3:6]).astype(np.uint8),
        np.rint(v[:, 6]).astype(np.int64),
    )
