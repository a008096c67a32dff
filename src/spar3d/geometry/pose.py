"""Relative camera pose as translation + yaw/pitch, in the first camera's (OpenCV) frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from spar3d.geometry.transforms import invert_pose


@dataclass(frozen=True)
class RelativePose:
    """Motion from camera 1 to camera 2 expressed in camera 1's frame.

    Attributes:
        right_m: + right / - left (camera 1 x).
        down_m: + down / - up (camera 1 y); ``up_m`` is its negation.
        forward_m: + forward / - backward (camera 1 z).
        yaw_right_deg: rotation about camera 1's vertical axis, + turning right.
        pitch_up_deg: + tilting up.
    """

    right_m: float
    down_m: float
    forward_m: float
    yaw_right_deg: float
    pitch_up_deg: float

    @property
    def up_m(self) -> float:
        return -self.down_m


def relative_pose(T_world_cam1: ArrayLike, T_world_cam2: ArrayLike) -> RelativePose:
    """``T_cam1_cam2 = T_world_cam1^-1 @ T_world_cam2`` decomposed into translation and yaw/pitch.

    Yaw and pitch come from camera 2's forward axis seen from camera 1: yaw = atan2(x, z)
    (positive when camera 2 looks to camera 1's right), pitch = atan2(-y, hypot(x, z))
    (positive when it looks up). Roll is not reported, as in SPAR's view-change task.
    """
    T12 = invert_pose(T_world_cam1) @ np.asarray(T_world_cam2, dtype=np.float64)
    t = T12[:3, 3]
    fwd = T12[:3, 2]
    yaw = float(np.degrees(np.arctan2(fwd[0], fwd[2])))
    pitch = float(np.degrees(np.arctan2(-fwd[1], np.hypot(fwd[0], fwd[2]))))
    return RelativePose(float(t[0]), float(t[1]), float(t[2]), yaw, pitch)
