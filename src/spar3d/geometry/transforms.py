"""Rigid transforms between world and camera frames.

``T_a_b`` maps points from frame b into frame a: ``p_a = T_a_b @ p_b``. Poses stored with a
scene are ``T_world_cam`` (camera-to-world); ``T_cam_world`` is its inverse.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]


def invert_pose(T_a_b: ArrayLike) -> F64:
    """Inverse of a rigid 4x4 transform, computed from R^T rather than a general inverse."""
    T = np.asarray(T_a_b, dtype=np.float64)
    R, t = T[:3, :3], T[:3, 3]
    out = np.eye(4)
    out[:3, :3] = R.T
    out[:3, 3] = -R.T @ t
    return out


def transform_points(T_a_b: ArrayLike, points_b: ArrayLike) -> F64:
    """Apply ``T_a_b`` (4x4) to ``(N, 3)`` or ``(3,)`` points given in frame b."""
    T = np.asarray(T_a_b, dtype=np.float64)
    p = np.asarray(points_b, dtype=np.float64)
    return np.asarray(p @ T[:3, :3].T + T[:3, 3], dtype=np.float64)


def world_to_cam(T_world_cam: ArrayLike, points_world: ArrayLike) -> F64:
    """World points into the camera frame of a camera-to-world pose."""
    return transform_points(invert_pose(T_world_cam), points_world)


def cam_to_world(T_world_cam: ArrayLike, points_cam: ArrayLike) -> F64:
    """Camera-frame points into world."""
    return transform_points(T_world_cam, points_cam)


def rotation_angle_deg(R_a: ArrayLike, R_b: ArrayLike) -> float:
    """Angle of the relative rotation, theta = arccos((trace(R_a^T R_b) - 1) / 2), in degrees."""
    Ra = np.asarray(R_a, dtype=np.float64)[:3, :3]
    Rb = np.asarray(R_b, dtype=np.float64)[:3, :3]
    c = (np.trace(Ra.T @ Rb) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def look_at(eye_world: ArrayLike, target_world: ArrayLike, up_world: ArrayLike = (0, 0, 1)) -> F64:
    """Camera-to-world pose of an OpenCV camera at ``eye`` looking at ``target``.

    The camera's +z points at the target, +x to the right and +y down with respect to ``up``.
    Raises ValueError when the viewing direction is parallel to ``up``.
    """
    eye = np.asarray(eye_world, dtype=np.float64)
    f = np.asarray(target_world, dtype=np.float64) - eye
    n = np.linalg.norm(f)
    if n < 1e-12:
        raise ValueError("look_at: eye and target coincide")
    f = f / n
    up = np.asarray(up_world, dtype=np.float64)
    right = np.cross(f, up)
    rn = np.linalg.norm(right)
    if rn < 1e-9:
        raise ValueError("look_at: viewing direction is parallel to up")
    right /= rn
    down = np.cross(f, right)
    T = np.eye(4)
    T[:3, 0], T[:3, 1], T[:3, 2], T[:3, 3] = right, down, f, eye
    return T
