"""Which scene vertices a camera sees: ray-cast face ids for meshes, z-buffer splatting or depth
frames for point clouds. Every method returns the same thing, so the index builder has one path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spar3d.geometry.camera import project
from spar3d.geometry.raycast import RayCaster, render_view
from spar3d.geometry.transforms import world_to_cam

F64 = NDArray[np.float64]


@dataclass
class ViewVisibility:
    """Visibility of one view at the (reduced) render resolution.

    Attributes:
        vertex_visible: ``(N,) bool`` per scene vertex / point.
        depth_m: ``(h, w) float64`` z-buffer at render resolution, 0 where empty.
        scale: render size / image size (same on both axes).
    """

    vertex_visible: NDArray[np.bool_]
    depth_m: F64
    scale: float


def mesh_visibility(
    caster: RayCaster,
    faces: NDArray[np.int64],
    n_vertices: int,
    K_render: F64,
    width: int,
    height: int,
    T_world_cam: F64,
    scale: float,
) -> ViewVisibility:
    """Rasterise by ray casting: the vertices of every face hit by a pixel ray are visible."""
    view = render_view(caster, K_render, width, height, T_world_cam)
    face_seen = np.zeros(len(faces), dtype=bool)  # a mask, not np.unique: no sort per view
    face_seen[view.face_ids[view.face_ids >= 0]] = True
    visible = np.zeros(n_vertices, dtype=bool)
    visible[faces[face_seen].ravel()] = True
    return ViewVisibility(visible, view.depth_m, scale)


def splat_visibility(
    points_world: F64,
    K_render: F64,
    width: int,
    height: int,
    T_world_cam: F64,
    scale: float,
    *,
    depth_frame_m: F64 | None = None,
    tolerance_m: float = 0.05,
    relative_tolerance: float = 0.02,
) -> ViewVisibility:
    """Point-cloud visibility by depth test against a z-buffer.

    The z-buffer is the nearest point per pixel (point splatting, one pixel per point) or, when
    ``depth_frame_m`` (``(height, width)``, metres, 0 = invalid) is given, the captured depth. A
    point is visible when it lies within ``tolerance_m + relative_tolerance * z`` of the buffer.
    """
    p_cam = world_to_cam(T_world_cam, points_world)
    uv, z = project(K_render, p_cam)
    with np.errstate(invalid="ignore"):
        col = np.floor(uv[:, 0] + 0.5)
        row = np.floor(uv[:, 1] + 0.5)
        inside = (z > 1e-6) & (col >= 0) & (col < width) & (row >= 0) & (row < height)
    idx = np.flatnonzero(inside)
    pix = row[idx].astype(np.int64) * width + col[idx].astype(np.int64)
    if depth_frame_m is None:
        zbuf = np.full(width * height, np.inf)
        np.minimum.at(zbuf, pix, z[idx])
        # splatting leaves holes between sparse points; a 3x3 min-filter closes them so that
        # points behind a surface are not seen through the gaps
        from scipy.ndimage import minimum_filter

        zimg = minimum_filter(zbuf.reshape(height, width), size=3, mode="nearest")
        zbuf = zimg.ravel()
    else:
        zbuf = np.asarray(depth_frame_m, dtype=np.float64).reshape(-1).copy()
        zbuf[zbuf <= 0] = np.inf
    ref = zbuf[pix]
    ok = z[idx] <= ref + tolerance_m + relative_tolerance * z[idx]
    visible = np.zeros(len(points_world), dtype=bool)
    visible[idx[ok]] = True
    depth = np.where(np.isfinite(zbuf), zbuf, 0.0).reshape(height, width)
    return ViewVisibility(visible, depth, scale)
