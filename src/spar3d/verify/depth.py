"""What the depth images say about a scene: surface points under pixels and visible object pixels.

This is the verifier's own view of a scene, computed from the sensor (or rendered) depth PNGs,
the camera poses and intrinsics and the annotated 3D boxes, and never from the scene index the
generator used (whose visibility comes from ray-casting the mesh).

* Every depth frame is back-projected once into world points on a pixel grid (a stride keeps it
  to about ``max_points`` points) and cached.
* An object's *visible pixels* in a frame are the grid pixels whose surface point lies inside the
  object's oriented 3D box grown by ``margin_m`` on every side.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from spar3d.scenes.model import Frame, Intrinsics, OrientedBox, Scene, SceneObject

F64 = NDArray[np.float64]


@dataclass
class DepthView:
    """One depth frame back-projected on a pixel grid.

    Attributes:
        frame: The frame (pose, intrinsics, paths).
        points_world: ``(N, 3)`` surface points of the valid grid pixels, world frame.
        uv_color: ``(N, 2)`` the same pixels in colour-image pixel coordinates.
        z_cam: ``(N,)`` camera-frame depth of each point, metres.
        n_grid: Number of grid pixels (valid or not): the denominator of visible fractions.
        depth_m: ``(h, w)`` the full-resolution depth image in metres (0 = no reading).
        K_depth: ``(3, 3)`` intrinsics of the depth image.
    """

    frame: Frame
    points_world: F64
    uv_color: F64
    z_cam: F64
    n_grid: int
    depth_m: F64
    K_depth: F64


def box_local(box: OrientedBox, points_world: F64) -> F64:
    """``(N, 3)`` points in the box's own frame (centre at the origin, axes = box axes)."""
    return np.asarray((points_world - box.center) @ box.R_world_box, dtype=np.float64)


def in_box(box: OrientedBox, points_world: F64, margin_m: float) -> NDArray[np.bool_]:
    """Which points lie inside ``box`` grown by ``margin_m`` on every side.

    The box's world-axis bounds reject most points with cheap comparisons first; only the rest
    are rotated into the box frame.
    """
    half = box.size / 2.0 + margin_m
    reach = np.abs(box.R_world_box) @ half  # half extents of the world-axis bounding box
    lo, hi = box.center - reach, box.center + reach
    near = np.ones(len(points_world), dtype=bool)
    for k in range(3):
        col = points_world[:, k]
        near &= (col >= lo[k]) & (col <= hi[k])
    out = np.zeros(len(points_world), dtype=bool)
    idx = np.flatnonzero(near)
    if idx.size:
        local = box_local(box, points_world[idx])
        out[idx] = np.all(np.abs(local) <= half, axis=1)
    return out


def ray_box_interval(
    box: OrientedBox, origin: F64, direction: F64, margin_m: float
) -> tuple[float, float] | None:
    """Ray parameters ``(t_in, t_out)`` where ``origin + t * direction`` crosses the grown box.

    Slab method in the box frame; None when the ray misses the box.
    """
    o = (origin - box.center) @ box.R_world_box
    d = direction @ box.R_world_box
    half = box.size / 2.0 + margin_m
    t0, t1 = -np.inf, np.inf
    for k in range(3):
        if abs(d[k]) < 1e-12:
            if abs(o[k]) > half[k]:
                return None
            continue
        a, b = (-half[k] - o[k]) / d[k], (half[k] - o[k]) / d[k]
        t0, t1 = max(t0, min(a, b)), min(t1, max(a, b))
    if t0 > t1 or t1 < 0:
        return None
    return float(t0), float(t1)


def support(box: OrientedBox, direction: F64) -> float:
    """Half the box's extent along a unit ``direction``: max of ``u . (x - centre)`` over the box."""
    u = np.asarray(direction, dtype=np.float64)
    n = np.linalg.norm(u)
    if n == 0:
        return float(np.max(box.size) / 2.0)
    return float(np.sum(np.abs((u / n) @ box.R_world_box) * box.size / 2.0))


def _read_depth_png(path: Path) -> F64:
    from PIL import Image

    with Image.open(path) as im:
        arr = np.asarray(im)
    if arr.ndim != 2:
        raise ValueError(f"{path}: depth image must have one channel, has shape {arr.shape}")
    return arr.astype(np.float64) / 1000.0  # uint16 millimetres (docs/conventions.md)


class SceneDepth:
    """A scene (boxes, labels, frames) with cached depth views and visible-pixel masks.

    Args:
        scene: The scene as a loader returns it (no mesh needed).
        margin_m: How much each box is grown for the inside tests.
        max_points: Grid pixels per depth frame (a stride keeps under it).
        cache_frames: Depth views kept in memory (least recently used are dropped).
    """

    def __init__(
        self, scene: Scene, margin_m: float = 0.05, max_points: int = 80_000, cache_frames: int = 64
    ) -> None:
        self.scene = scene
        self.margin_m = margin_m
        self.max_points = max_points
        self.objects: dict[int, SceneObject] = {o.object_id: o for o in scene.objects}
        self.frames: dict[str, Frame] = {f.frame_id: f for f in scene.frames}
        self._views: OrderedDict[str, DepthView | None] = OrderedDict()
        self._masks: dict[tuple[str, int], NDArray[np.bool_]] = {}
        self._cache_frames = cache_frames

    @property
    def has_depth(self) -> bool:
        return any(
            f.depth_path is not None and Path(f.depth_path).is_file() for f in self.frames.values()
        )

    def view(self, frame_id: str) -> DepthView | None:
        """The back-projected depth frame, or None when the frame or its depth is missing."""
        if frame_id in self._views:
            self._views.move_to_end(frame_id)
            return self._views[frame_id]
        frame = self.frames.get(frame_id)
        view = None
        if frame is not None and frame.depth_path is not None and Path(frame.depth_path).is_file():
            view = self._build(frame)
        self._views[frame_id] = view
        if len(self._views) > self._cache_frames:
            old, _ = self._views.popitem(last=False)
            self._masks = {k: v for k, v in self._masks.items() if k[0] != old}
        return view

    def _build(self, frame: Frame) -> DepthView:
        depth = _read_depth_png(Path(str(frame.depth_path)))
        h, w = depth.shape
        intr = frame.depth or frame.color
        if (intr.width, intr.height) != (w, h):
            intr = intr.scaled_to(w, h)
        K = intr.K
        stride = max(1, int(np.ceil(np.sqrt(h * w / self.max_points))))
        v, u = np.mgrid[0:h:stride, 0:w:stride]
        u, v = u.ravel().astype(np.float64), v.ravel().astype(np.float64)
        z = depth[v.astype(int), u.astype(int)]
        ok = z > 0
        u, v, z = u[ok], v[ok], z[ok]
        x = (u - K[0, 2]) / K[0, 0] * z
        y = (v - K[1, 2]) / K[1, 1] * z
        pts_cam = np.stack([x, y, z], axis=1)
        T = frame.T_world_cam
        pts_world = pts_cam @ T[:3, :3].T + T[:3, 3]
        # the same rays in the colour image: project with the colour intrinsics
        Kc = frame.color.K
        uv_color = np.stack([Kc[0, 0] * x / z + Kc[0, 2], Kc[1, 1] * y / z + Kc[1, 2]], axis=1)
        n_grid = int(np.ceil(h / stride) * np.ceil(w / stride))
        return DepthView(frame, pts_world, uv_color, z, n_grid, depth, K)

    def visible_mask(self, frame_id: str, object_id: int) -> NDArray[np.bool_] | None:
        """Which valid grid pixels of the frame see the object (None: no depth for the frame)."""
        key = (frame_id, object_id)
        mask = self._masks.get(key)
        if mask is None:
            view = self.view(frame_id)
            obj = self.objects.get(object_id)
            if view is None or obj is None:
                return None
            mask = in_box(obj.box, view.points_world, self.margin_m)
            self._masks[key] = mask
        return mask

    def visible_fraction(self, frame_id: str, object_id: int) -> float | None:
        """Visible grid pixels of the object over all grid pixels of the frame."""
        mask = self.visible_mask(frame_id, object_id)
        view = self.view(frame_id)
        if mask is None or view is None:
            return None
        return float(mask.sum()) / max(view.n_grid, 1)

    def surface_at(
        self, frame_id: str, uv_color: tuple[float, float]
    ) -> tuple[F64, F64, float] | None:
        """The surface under a colour pixel: ``(camera origin, unit ray, distance along the ray)``.

        The depth is the median of the valid readings in the 3x3 depth pixels around the ray;
        None when the frame has no depth there.
        """
        view = self.view(frame_id)
        if view is None:
            return None
        frame = view.frame
        Kc = frame.color.K
        d_cam = np.array(
            [(uv_color[0] - Kc[0, 2]) / Kc[0, 0], (uv_color[1] - Kc[1, 2]) / Kc[1, 1], 1.0]
        )
        ud = view.K_depth[0, 0] * d_cam[0] + view.K_depth[0, 2]
        vd = view.K_depth[1, 1] * d_cam[1] + view.K_depth[1, 2]
        h, w = view.depth_m.shape
        ui, vi = int(round(ud)), int(round(vd))
        patch = view.depth_m[max(vi - 1, 0) : min(vi + 2, h), max(ui - 1, 0) : min(ui + 2, w)]
        vals = patch[patch > 0]
        if vals.size == 0:
            return None
        z = float(np.median(vals))
        T = frame.T_world_cam
        ray_world = T[:3, :3] @ d_cam  # z = 1 in the camera frame: t along it is the depth
        return np.asarray(T[:3, 3], dtype=np.float64), ray_world, z


def color_size(frame: Frame) -> tuple[int, int]:
    return frame.color.width, frame.color.height


__all__ = [
    "DepthView",
    "Intrinsics",
    "SceneDepth",
    "box_local",
    "color_size",
    "in_box",
    "ray_box_interval",
    "support",
]
