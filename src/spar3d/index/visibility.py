"""Which scene vertices a camera sees: ray-cast face ids for meshes, z-buffer splatting or depth
frames for point clouds. Every method returns the same thing, so the index builder has one path:
the visible vertices, the z-buffer and the per-pixel instance map (which object's surface each
render pixel shows), from which markers are placed on the visible part of an object.
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
        pixel_owner: ``(h, w) int64`` per render pixel, the label (``vertex_label`` value) of
            the surface it shows, -1 where it shows no labelled surface or nothing.
        boxes: Where the view comes with an instance image (:func:`instance_visibility`):
            label -> exact 2D box ``(x1, y1, x2, y2)`` (pixel edges, full resolution) of the
            pixels that show it; the labels absent from it are not seen at all. None otherwise.
    """

    vertex_visible: NDArray[np.bool_]
    depth_m: F64
    scale: float
    pixel_owner: NDArray[np.int64]
    boxes: dict[int, tuple[float, float, float, float]] | None = None


def mesh_visibility(
    caster: RayCaster,
    faces: NDArray[np.int64],
    n_vertices: int,
    K_render: F64,
    width: int,
    height: int,
    T_world_cam: F64,
    scale: float,
    face_label: NDArray[np.int64] | None = None,
) -> ViewVisibility:
    """Rasterise by ray casting: the vertices of every face hit by a pixel ray are visible.

    ``face_label`` (``(F,)``, -1 = unlabelled) gives each pixel its owner.
    """
    view = render_view(caster, K_render, width, height, T_world_cam)
    face_seen = np.zeros(len(faces), dtype=bool)  # a mask, not np.unique: no sort per view
    face_seen[view.face_ids[view.face_ids >= 0]] = True
    visible = np.zeros(n_vertices, dtype=bool)
    visible[faces[face_seen].ravel()] = True
    owner = np.full(view.face_ids.shape, -1, dtype=np.int64)
    if face_label is not None:
        on = view.face_ids >= 0
        owner[on] = face_label[view.face_ids[on]]
    return ViewVisibility(visible, view.depth_m, scale, owner)


def _min_filter3(z: F64, owner: NDArray[np.int64]) -> tuple[F64, NDArray[np.int64]]:
    """3x3 minimum filter of ``z`` (edges repeated), carrying the owner of the minimum along."""
    h, w = z.shape
    zp = np.pad(z, 1, mode="edge")
    op = np.pad(owner, 1, mode="edge")
    best_z, best_o = z.copy(), owner.copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            zs = zp[dy : dy + h, dx : dx + w]
            better = zs < best_z
            best_z = np.where(better, zs, best_z)
            best_o = np.where(better, op[dy : dy + h, dx : dx + w], best_o)
    return best_z, best_o


def _pixels_of(
    points_world: F64, K: F64, width: int, height: int, T_world_cam: F64
) -> tuple[NDArray[np.int64], NDArray[np.int64], F64]:
    """The points in front of the camera that fall inside the image: their indices, the flat
    index of the pixel each falls on, and every point's camera-frame z."""
    uv, z = project(K, world_to_cam(T_world_cam, points_world))
    with np.errstate(invalid="ignore"):
        col = np.floor(uv[:, 0] + 0.5)
        row = np.floor(uv[:, 1] + 0.5)
        inside = (z > 1e-6) & (col >= 0) & (col < width) & (row >= 0) & (row < height)
    idx = np.flatnonzero(inside)
    pix = row[idx].astype(np.int64) * width + col[idx].astype(np.int64)
    return idx, pix, z


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
    vertex_label: NDArray[np.int64] | None = None,
) -> ViewVisibility:
    """Point-cloud visibility by depth test against a z-buffer.

    The z-buffer is the nearest point per pixel (point splatting, one pixel per point) or, when
    ``depth_frame_m`` (``(height, width)``, metres, 0 = invalid) is given, the captured depth. A
    point is visible when it lies within ``tolerance_m + relative_tolerance * z`` of the buffer.
    A pixel's owner is the ``vertex_label`` of the nearest visible point splatted on it (after the
    3x3 hole filling, the owner of the point that filled it).
    """
    idx, pix, z = _pixels_of(points_world, K_render, width, height, T_world_cam)
    labels = (
        np.full(len(points_world), -1, dtype=np.int64)
        if vertex_label is None
        else np.asarray(vertex_label, dtype=np.int64)
    )
    # the nearest point of each pixel: sort by (pixel, z) and keep the first of each pixel
    order = np.lexsort((z[idx], pix))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pix[order][1:] != pix[order][:-1]
    near = order[first]
    zbuf = np.full(width * height, np.inf)
    zbuf[pix[near]] = z[idx][near]
    obuf = np.full(width * height, -1, dtype=np.int64)
    obuf[pix[near]] = labels[idx[near]]
    if depth_frame_m is None:
        # splatting leaves holes between sparse points; a 3x3 min-filter closes them so that
        # points behind a surface are not seen through the gaps
        zimg, oimg = _min_filter3(zbuf.reshape(height, width), obuf.reshape(height, width))
        zbuf, obuf = zimg.ravel(), oimg.ravel()
    else:
        zbuf = np.asarray(depth_frame_m, dtype=np.float64).reshape(-1).copy()
        zbuf[zbuf <= 0] = np.inf
    ref = zbuf[pix]
    ok = z[idx] <= ref + tolerance_m + relative_tolerance * z[idx]
    visible = np.zeros(len(points_world), dtype=bool)
    visible[idx[ok]] = True
    if depth_frame_m is not None:  # owner: the nearest point that passes the depth test
        obuf = np.full(width * height, -1, dtype=np.int64)
        pv, zv = pix[ok], z[idx][ok]
        o2 = np.lexsort((zv, pv))
        f2 = np.ones(len(o2), dtype=bool)
        f2[1:] = pv[o2][1:] != pv[o2][:-1]
        obuf[pv[o2[f2]]] = labels[idx[ok][o2[f2]]]
    depth = np.where(np.isfinite(zbuf), zbuf, 0.0).reshape(height, width)
    return ViewVisibility(visible, depth, scale, obuf.reshape(height, width))


def instance_boxes(labels: NDArray[np.int64]) -> dict[int, tuple[float, float, float, float]]:
    """Per label >= 0 of a full-resolution label image: the box ``(x1, y1, x2, y2)`` of its
    pixels in pixel-edge coordinates (a pixel ``(c, r)`` spans ``[c, c + 1] x [r, r + 1]``)."""
    flat = labels.ravel()
    idx = np.flatnonzero(flat >= 0)
    if len(idx) == 0:
        return {}
    lab = flat[idx]
    order = np.argsort(lab, kind="stable")
    idx, lab = idx[order], lab[order]
    start = np.flatnonzero(np.diff(lab, prepend=lab[0] - 1))
    w = labels.shape[1]
    rows, cols = idx // w, idx % w
    r0, r1 = np.minimum.reduceat(rows, start), np.maximum.reduceat(rows, start)
    c0, c1 = np.minimum.reduceat(cols, start), np.maximum.reduceat(cols, start)
    return {
        int(k): (float(a), float(b), float(c + 1), float(d + 1))
        for k, a, b, c, d in zip(lab[start], c0, r0, c1, r1, strict=True)
    }


def instance_visibility(
    points_world: F64,
    K_render: F64,
    width: int,
    height: int,
    T_world_cam: F64,
    scale: float,
    *,
    depth_frame_m: F64,
    instance_full: NDArray[np.int64],
    vertex_label: NDArray[np.int64],
    tolerance_m: float = 0.05,
    relative_tolerance: float = 0.02,
) -> ViewVisibility:
    """Visibility from a view's own depth and instance images (exact: nothing is rendered).

    ``instance_full`` is the view's instance image at full resolution with each pixel's label
    (``vertex_label`` values, -1 = no labelled object); ``depth_frame_m`` its depth at render
    resolution. An object is seen iff its label appears in the instance image; its 2D box is the
    box of those pixels and each render pixel's owner is the instance pixel under its centre. A
    point is visible when it projects onto a pixel of its own label whose depth agrees with its
    own (``tolerance_m + relative_tolerance * z``): the share of an object's points visible is
    its visible fraction.
    """
    H, W = instance_full.shape
    rows = np.minimum(((np.arange(height) + 0.5) * H / height).astype(np.int64), H - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * W / width).astype(np.int64), W - 1)
    owner = np.ascontiguousarray(instance_full[np.ix_(rows, cols)])
    idx, pix, z = _pixels_of(points_world, K_render, width, height, T_world_cam)
    depth = np.asarray(depth_frame_m, dtype=np.float64).reshape(-1)
    d, zi = depth[pix], z[idx]
    labels = np.asarray(vertex_label, dtype=np.int64)
    ok = (d > 0) & (np.abs(zi - d) <= tolerance_m + relative_tolerance * zi)
    ok &= owner.reshape(-1)[pix] == labels[idx]
    visible = np.zeros(len(points_world), dtype=bool)
    visible[idx[ok]] = True
    return ViewVisibility(
        visible, depth.reshape(height, width).copy(), scale, owner, instance_boxes(instance_full)
    )
