"""Pinhole projection in the OpenCV camera frame, and 0-1000 normalised image coordinates.

Pixel convention: pixel (u, v) = (column, row); the centre of the top-left pixel is (0, 0) and the
image spans [-0.5, W - 0.5] x [-0.5, H - 0.5]. Depth is camera-frame z, not ray length.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]

#: OpenGL camera axes (x right, y up, looking along -z: nerfstudio, Matterport3D's ``.conf``) to
#: OpenCV's (x right, y down, z forward): ``T_world_cam_cv = T_world_cam_gl @ GL_TO_CV``. The
#: matrix is its own inverse.
GL_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])


def project(K: ArrayLike, points_cam: ArrayLike) -> tuple[F64, F64]:
    """Project ``(N, 3)`` camera-frame points; returns ``uv`` ``(N, 2)`` pixels and ``depth_m`` ``(N,)``.

    Points with z <= 0 get NaN pixel coordinates.
    """
    K = np.asarray(K, dtype=np.float64)
    p = np.atleast_2d(np.asarray(points_cam, dtype=np.float64))
    z = p[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = K[0, 0] * p[:, 0] / z + K[0, 1] * p[:, 1] / z + K[0, 2]
        v = K[1, 1] * p[:, 1] / z + K[1, 2]
    uv = np.stack([u, v], axis=1)
    uv[z <= 0] = np.nan
    return uv, z.copy()


def unproject(K: ArrayLike, uv: ArrayLike, depth_m: ArrayLike) -> F64:
    """Inverse of :func:`project`: pixels ``(N, 2)`` at depths ``(N,)`` to camera-frame points."""
    K = np.asarray(K, dtype=np.float64)
    uv = np.atleast_2d(np.asarray(uv, dtype=np.float64))
    z = np.asarray(depth_m, dtype=np.float64).reshape(-1)
    y = (uv[:, 1] - K[1, 2]) / K[1, 1] * z
    x = (uv[:, 0] - K[0, 2] - K[0, 1] * y / z) / K[0, 0] * z
    return np.stack([x, y, z], axis=1)


def pixel_rays_cam(K: ArrayLike, width: int, height: int) -> F64:
    """``(H*W, 3)`` camera-frame ray directions (z = 1) through every pixel centre, row-major."""
    K = np.asarray(K, dtype=np.float64)
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    uv = np.stack([u.ravel(), v.ravel()], axis=1)
    return unproject(K, uv, np.ones(len(uv)))


def uv_to_norm1000(uv: ArrayLike, width: int, height: int) -> NDArray[np.int64]:
    """Pixel coordinates to SPAR's 0-1000 integers (x by width, y by height, origin top-left).

    The image edge (-0.5 and W - 0.5) maps to 0 and 1000; values are rounded and clipped.
    """
    uv = np.asarray(uv, dtype=np.float64)
    scale = np.array([1000.0 / width, 1000.0 / height])
    n = np.rint((uv + 0.5) * scale)
    return np.clip(n, 0, 1000).astype(np.int64)


def norm1000_to_uv(uv_norm1000: ArrayLike, width: int, height: int) -> F64:
    """Inverse of :func:`uv_to_norm1000` (to pixel coordinates, up to rounding)."""
    n = np.asarray(uv_norm1000, dtype=np.float64)
    scale = np.array([width / 1000.0, height / 1000.0])
    return np.asarray(n * scale - 0.5, dtype=np.float64)


def box2d_to_norm1000(box_xyxy: ArrayLike, width: int, height: int) -> NDArray[np.int64]:
    """A pixel box ``(x1, y1, x2, y2)`` (pixel-edge coordinates) to 0-1000 integers."""
    b = np.asarray(box_xyxy, dtype=np.float64).reshape(-1, 2)
    n = np.rint(b * np.array([1000.0 / width, 1000.0 / height]))
    return np.clip(n, 0, 1000).astype(np.int64).reshape(-1)
