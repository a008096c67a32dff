"""Ray casting against a triangle mesh, behind one interface (Embree via embreex, or Open3D).

Used for rendering the synthetic world and for per-view visibility (pixel -> face id).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spar3d.geometry.camera import pixel_rays_cam
from spar3d.registry import Registry

F64 = NDArray[np.float64]


@dataclass
class RayHits:
    """Result of casting N rays.

    Attributes:
        face_ids: ``(N,) int64`` first face hit, -1 where nothing is hit.
        t: ``(N,) float64`` ray parameter of the hit (distance when directions are unit), inf on miss.
    """

    face_ids: NDArray[np.int64]
    t: F64


class RayCaster(Protocol):
    def cast(self, origins: ArrayLike, directions: ArrayLike) -> RayHits: ...


RAYCASTERS: Registry[type] = Registry("raycaster", "spar3d.raycasters")


@RAYCASTERS.register("embree")
class EmbreeRayCaster:
    """Intel Embree through the ``embreex`` binding (single precision, fast on CPU)."""

    def __init__(self, vertices: ArrayLike, faces: ArrayLike) -> None:
        from embreex import mesh_construction, rtcore_scene

        self._scene = rtcore_scene.EmbreeScene()
        v = np.ascontiguousarray(vertices, dtype=np.float32)
        f = np.ascontiguousarray(faces, dtype=np.int32)
        # keep references: embreex shares the buffers with Embree
        self._buffers = (v, f)
        self._mesh = mesh_construction.TriangleMesh(self._scene, v, f)

    def cast(self, origins: ArrayLike, directions: ArrayLike) -> RayHits:
        o = np.ascontiguousarray(np.broadcast_to(origins, np.shape(directions)), dtype=np.float32)
        d = np.ascontiguousarray(directions, dtype=np.float32)
        if len(d) == 0:
            return RayHits(np.zeros(0, np.int64), np.zeros(0))
        res = self._scene.run(o, d, output=1)
        ids = res["primID"].astype(np.int64)
        miss = (ids < 0) | (res["geomID"] < 0)
        ids[miss] = -1
        t = res["tfar"].astype(np.float64)
        t[miss] = np.inf
        return RayHits(ids, t)


@RAYCASTERS.register("open3d")
class Open3DRayCaster:
    """Open3D's RaycastingScene (optional dependency ``open3d``)."""

    def __init__(self, vertices: ArrayLike, faces: ArrayLike) -> None:
        import open3d as o3d  # optional

        self._scene = o3d.t.geometry.RaycastingScene()
        self._scene.add_triangles(
            np.asarray(vertices, dtype=np.float32), np.asarray(faces, dtype=np.uint32)
        )
        self._o3d = o3d

    def cast(self, origins: ArrayLike, directions: ArrayLike) -> RayHits:
        d = np.asarray(directions, dtype=np.float32)
        o = np.broadcast_to(np.asarray(origins, dtype=np.float32), d.shape)
        rays = self._o3d.core.Tensor(np.concatenate([o, d], axis=1))
        ans = self._scene.cast_rays(rays)
        ids = ans["primitive_ids"].numpy().astype(np.int64)
        t = ans["t_hit"].numpy().astype(np.float64)
        miss = ~np.isfinite(t)
        ids[miss] = -1
        return RayHits(ids, t)


def make_raycaster(vertices: ArrayLike, faces: ArrayLike, backend: str = "embree") -> RayCaster:
    """Build a ray caster by backend name (``"embree"`` or ``"open3d"``)."""
    cls = RAYCASTERS.get(backend)
    caster: RayCaster = cls(vertices, faces)
    return caster


@dataclass
class RenderedView:
    """Per-pixel ray-cast result of one camera.

    Attributes:
        face_ids: ``(H, W) int64`` face visible at each pixel, -1 for none.
        depth_m: ``(H, W) float64`` camera-frame z of the hit, 0 where nothing is hit.
    """

    face_ids: NDArray[np.int64]
    depth_m: F64


@lru_cache(maxsize=8)
def _pixel_rays(K_bytes: bytes, width: int, height: int) -> F64:
    """``pixel_rays_cam`` (z = 1, so t along a ray equals depth), cached: the keyframes of a
    scene share their intrinsics, so the rays are built once per scene, not per view."""
    rays = pixel_rays_cam(np.frombuffer(K_bytes, dtype=np.float64).reshape(3, 3), width, height)
    rays.setflags(write=False)
    return rays


def render_view(
    caster: RayCaster, K: ArrayLike, width: int, height: int, T_world_cam: ArrayLike
) -> RenderedView:
    """Cast one ray per pixel centre of a pinhole camera; depth is z in the camera frame."""
    rays_cam = _pixel_rays(np.asarray(K, dtype=np.float64).tobytes(), width, height)
    T = np.asarray(T_world_cam, dtype=np.float64)
    # einsum, not ``@``: an (N, 3) x (3, 3) product through BLAS costs ~20x more (thread start-up
    # per call), which made the index cost twice its ray casts.
    dirs_world = np.einsum("nj,ij->ni", rays_cam, T[:3, :3])
    hits = caster.cast(T[:3, 3], dirs_world)
    depth = np.where(hits.face_ids >= 0, hits.t, 0.0)
    return RenderedView(hits.face_ids.reshape(height, width), depth.reshape(height, width))
