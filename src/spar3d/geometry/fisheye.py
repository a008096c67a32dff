"""The OpenCV fisheye camera model (COLMAP ``OPENCV_FISHEYE``) and its undistortion to a pinhole.

Model (OpenCV ``cv::fisheye``, the ``OPENCV_FISHEYE`` model of COLMAP and nerfstudio): a camera
point ``(x, y, z)`` has normalised coordinates ``a = x/z, b = y/z``, radius ``r = |(a, b)|`` and
angle ``theta = atan(r)``; the distorted angle is

    theta_d = theta * (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8)

and the pixel is ``u = fx * (theta_d / r) * a + cx``, ``v = fy * (theta_d / r) * b + cy``.

Undistortion (:func:`pinhole_for_fisheye`) keeps the widest pinhole view with **no empty pixels
along the image axes**: the four edge midpoints of the fisheye image are mapped to pinhole
coordinates and the focal length is the largest that still puts every one of them on or beyond
the output border (OpenCV's ``estimateNewCameraMatrixForUndistortRectify`` with ``balance=0``,
which the ScanNet++ toolkit uses), with the principal point moved to the image centre as the
ScanNet++ toolkit does. The kept field of view is ``2 atan(W / (2 fx'))`` by
``2 atan(H / (2 fy'))`` (:func:`field_of_view_deg`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]


def _theta_d(theta: F64, k: F64) -> F64:
    t2 = theta * theta
    return np.asarray(theta * (1 + t2 * (k[0] + t2 * (k[1] + t2 * (k[2] + t2 * k[3])))))


def distort_normalized(ab: ArrayLike, k: ArrayLike) -> F64:
    """``(N, 2)`` pinhole-normalised ``(a, b)`` to fisheye-normalised ``(x', y')``."""
    ab = np.atleast_2d(np.asarray(ab, dtype=np.float64))
    k = np.asarray(k, dtype=np.float64).reshape(4)
    r = np.hypot(ab[:, 0], ab[:, 1])
    theta = np.arctan(r)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(r > 1e-12, _theta_d(theta, k) / r, 1.0)
    return ab * scale[:, None]


def undistort_normalized(xy: ArrayLike, k: ArrayLike, iterations: int = 20) -> F64:
    """Inverse of :func:`distort_normalized` (Newton on ``theta``), for ``theta < pi/2``.

    Points outside the model's image circle (no ``theta < pi/2`` reaches them) come out at
    ``theta`` just under 90 degrees.
    """
    xy = np.atleast_2d(np.asarray(xy, dtype=np.float64))
    k = np.asarray(k, dtype=np.float64).reshape(4)
    theta_d = np.hypot(xy[:, 0], xy[:, 1])
    theta = theta_d.copy()
    for _ in range(iterations):
        t2 = theta * theta
        f = _theta_d(theta, k) - theta_d
        df = 1 + t2 * (3 * k[0] + t2 * (5 * k[1] + t2 * (7 * k[2] + t2 * 9 * k[3])))
        theta = np.clip(theta - f / df, 0.0, np.pi / 2 - 1e-6)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(theta_d > 1e-12, np.tan(theta) / theta_d, 1.0)
    return xy * scale[:, None]


def project_fisheye(K: ArrayLike, k: ArrayLike, points_cam: ArrayLike) -> F64:
    """``(N, 2)`` fisheye pixels of camera-frame points with ``z > 0``."""
    K = np.asarray(K, dtype=np.float64)
    p = np.atleast_2d(np.asarray(points_cam, dtype=np.float64))
    xy = distort_normalized(p[:, :2] / p[:, 2:3], k)
    return np.stack([K[0, 0] * xy[:, 0] + K[0, 2], K[1, 1] * xy[:, 1] + K[1, 2]], axis=1)


def fisheye_rays(K: ArrayLike, k: ArrayLike, width: int, height: int) -> F64:
    """``(H*W, 3)`` camera-frame rays (z = 1) through every fisheye pixel centre, row-major."""
    K = np.asarray(K, dtype=np.float64)
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    xy = np.stack([(u.ravel() - K[0, 2]) / K[0, 0], (v.ravel() - K[1, 2]) / K[1, 1]], axis=1)
    ab = undistort_normalized(xy, k)
    return np.column_stack([ab, np.ones(len(ab))])


def pinhole_for_fisheye(K: ArrayLike, k: ArrayLike, width: int, height: int) -> F64:
    """``(3, 3)`` pinhole intrinsics of the undistorted image (same size; see module docstring)."""
    K = np.asarray(K, dtype=np.float64)
    edges = np.array(
        [[width / 2.0, 0.0], [width - 1.0, height / 2.0], [width / 2.0, height - 1.0],
         [0.0, height / 2.0]]
    )
    xy = np.stack([(edges[:, 0] - K[0, 2]) / K[0, 0], (edges[:, 1] - K[1, 2]) / K[1, 1]], axis=1)
    ab = np.abs(undistort_normalized(xy, k))
    half_w, half_h = width / 2.0, height / 2.0
    # focal lengths that put each edge midpoint exactly on the border; the largest is kept
    scale = max(
        half_w / ab[1, 0] / K[0, 0], half_w / ab[3, 0] / K[0, 0],
        half_h / ab[0, 1] / K[1, 1], half_h / ab[2, 1] / K[1, 1],
    )
    return np.array([[scale * K[0, 0], 0.0, half_w], [0.0, scale * K[1, 1], half_h], [0, 0, 1.0]])


def field_of_view_deg(K: ArrayLike, width: int, height: int) -> tuple[float, float]:
    """Horizontal and vertical field of view of a pinhole camera, in degrees."""
    K = np.asarray(K, dtype=np.float64)
    return (
        float(np.degrees(2 * np.arctan(width / (2 * K[0, 0])))),
        float(np.degrees(2 * np.arctan(height / (2 * K[1, 1])))),
    )


def undistort_map(
    K: ArrayLike, k: ArrayLike, K_new: ArrayLike, width: int, height: int
) -> F64:
    """``(2, H*W)`` fisheye (row, column) sampled by each pixel of the pinhole ``K_new``."""
    K = np.asarray(K, dtype=np.float64)
    K_new = np.asarray(K_new, dtype=np.float64)
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    ab = np.stack([(u.ravel() - K_new[0, 2]) / K_new[0, 0],
                   (v.ravel() - K_new[1, 2]) / K_new[1, 1]], 1)
    xy = distort_normalized(ab, k)
    return np.stack([K[1, 1] * xy[:, 1] + K[1, 2], K[0, 0] * xy[:, 0] + K[0, 2]])


def remap(image: NDArray[np.uint8], coords: F64) -> NDArray[np.uint8]:
    """Bilinear resampling of ``image`` at ``coords`` (:func:`undistort_map`); 0 outside."""
    from scipy.ndimage import map_coordinates

    h, w = image.shape[:2]
    channels = image[..., None] if image.ndim == 2 else image
    out = np.empty((channels.shape[2], h * w), dtype=np.float32)
    for c in range(channels.shape[2]):
        map_coordinates(channels[..., c].astype(np.float32), coords, output=out[c], order=1,
                        mode="constant", cval=0.0)
    result = np.clip(np.rint(out), 0, 255).astype(np.uint8).T.reshape(h, w, channels.shape[2])
    return result[..., 0] if image.ndim == 2 else result


def undistort_image(
    image: NDArray[np.uint8], K: ArrayLike, k: ArrayLike, K_new: ArrayLike
) -> NDArray[np.uint8]:
    """Resample a fisheye image (``(H, W)`` or ``(H, W, C)``) into the pinhole camera ``K_new``.

    Bilinear interpolation; output pixels whose source lies outside the image are 0.
    """
    h, w = image.shape[:2]
    return remap(image, undistort_map(K, k, K_new, w, h))
