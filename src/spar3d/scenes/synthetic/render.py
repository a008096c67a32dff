"""Rendering the synthetic world by ray casting: Lambert-shaded colour and millimetre depth."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spar3d.geometry.camera import pixel_rays_cam
from spar3d.geometry.raycast import RayCaster, make_raycaster
from spar3d.scenes.synthetic.world import SyntheticWorld

F64 = NDArray[np.float64]
AMBIENT = 0.35  # share of the colour every surface keeps; the rest is lit by the room's light
#: ScanNet's depth camera (640x480) focal length, scaled to other widths.
SCANNET_FX_640 = 577.870605


def default_intrinsics(width: int, height: int) -> F64:
    """``(3, 3)`` pinhole intrinsics like ScanNet's depth camera, scaled to ``width`` pixels."""
    f = SCANNET_FX_640 * width / 640.0
    return np.array([[f, 0.0, (width - 1) / 2.0], [0.0, f, (height - 1) / 2.0], [0.0, 0.0, 1.0]])


@lru_cache(maxsize=4)
def _rays(K_flat: tuple[float, ...], width: int, height: int) -> NDArray[np.float32]:
    """Pixel rays of a camera, cached: a trajectory renders many frames with one ``K``."""
    rays = pixel_rays_cam(np.reshape(K_flat, (3, 3)), width, height).astype(np.float32)
    rays.setflags(write=False)
    return rays


def make_world_caster(world: SyntheticWorld, backend: str = "embree") -> RayCaster:
    """A ray caster over the world's mesh (build once, render many frames)."""
    return make_raycaster(world.vertices, world.faces, backend)


def render_frame(
    world: SyntheticWorld,
    caster: RayCaster,
    K: ArrayLike,
    width: int,
    height: int,
    T_world_cam: ArrayLike,
) -> tuple[NDArray[np.uint8], NDArray[np.uint16]]:
    """Render one view.

    Each pixel takes the colour of the face its centre ray hits, scaled by
    ``AMBIENT + (1 - AMBIENT) * |n . l|`` with ``l`` the unit direction to the nearest room light
    (two-sided, so thin parts look the same from both sides); no shadows.

    Args:
        world: The world.
        caster: Ray caster over ``world``'s mesh (:func:`make_world_caster`).
        K: ``(3, 3)`` intrinsics for ``width`` x ``height``.
        width, height: Image size in pixels.
        T_world_cam: ``(4, 4)`` camera-to-world pose (OpenCV camera).

    Returns:
        ``rgb`` ``(H, W, 3) uint8`` (black where nothing is hit) and ``depth_mm``
        ``(H, W) uint16``: camera-frame z in millimetres, 0 where nothing is hit.
    """
    # rays with camera-frame z = 1, so the hit distance along them is the depth
    rays = _rays(tuple(np.asarray(K, float).ravel()), width, height)
    rgb, depth_mm, _ = render_rays(world, caster, rays, width, height, T_world_cam)
    return rgb, depth_mm


def render_rays(
    world: SyntheticWorld,
    caster: RayCaster,
    rays: NDArray[np.float32],
    width: int,
    height: int,
    T_world_cam: ArrayLike,
) -> tuple[NDArray[np.uint8], NDArray[np.uint16], NDArray[np.int64]]:
    """:func:`render_frame` for any camera: ``rays`` ``(H*W, 3)`` camera-frame directions with
    z = 1 (row-major), e.g. a fisheye's. Also returns the ``(H, W)`` face id per pixel (-1: none).
    """
    T = np.asarray(T_world_cam, dtype=np.float64)
    origin = T[:3, 3].astype(np.float32)
    rays = np.asarray(rays, dtype=np.float32)
    R = T[:3, :3].astype(np.float32)
    # (a BLAS matmul of a (N, 3) array is slower than this for N in the 100k)
    dirs = rays[:, 0:1] * R[:, 0] + rays[:, 1:2] * R[:, 1] + R[:, 2]
    hits = caster.cast(origin, dirs)
    fid = hits.face_ids
    miss = fid < 0
    depth = np.where(miss, 0.0, hits.t)
    # shading is computed for every pixel (misses included) and blanked after: cheaper than masks
    p_world = dirs * depth.astype(np.float32)[:, None] + origin
    # each point is lit by the light of the room it is in: the nearest light in plan view
    to_light = world.lights[0].astype(np.float32) - p_world
    if len(world.lights) > 1:
        best = (to_light[:, :2] ** 2).sum(axis=1)
        for light in world.lights[1:].astype(np.float32):
            cand = light - p_world
            d2 = (cand[:, :2] ** 2).sum(axis=1)
            closer = d2 < best
            to_light[closer], best[closer] = cand[closer], d2[closer]
    normals = world.face_normals32[fid]
    cos = np.abs(np.einsum("ij,ij->i", normals, to_light)) / np.sqrt(
        np.maximum(np.einsum("ij,ij->i", to_light, to_light), np.float32(1e-12))
    )
    shade = np.float32(AMBIENT) + np.float32(1 - AMBIENT) * cos
    rgb = np.minimum(world.face_colors[fid] * shade[:, None] + np.float32(0.5), 255).astype(
        np.uint8
    )
    rgb[miss] = 0
    depth_mm = np.clip(np.rint(depth * 1000.0), 0, 65535).astype(np.uint16)
    face_ids = np.asarray(fid, dtype=np.int64).reshape(height, width)
    return rgb.reshape(height, width, 3), depth_mm.reshape(height, width), face_ids
