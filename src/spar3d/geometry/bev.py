"""The observer-centric bird's-eye-view (BEV) frame of a camera (docs/conventions.md).

For a camera pose ``T_world_cam`` in a +z-up world whose floor lies at height ``floor_z``:

- origin: the camera centre projected onto the floor, ``(t_x, t_y, floor_z)``;
- +y: the camera's viewing direction (its +z axis) projected onto the floor and normalised;
- +x: ``y x up``, the observer's right, on the floor.

The frame depends on neither the camera's roll nor its pitch (only on the heading), and a point's
BEV coordinates ignore its height. A camera looking (almost) straight up or down has no heading:
:func:`observer_frame` refuses it with :class:`SteepViewError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]
WORLD_UP: F64 = np.array([0.0, 0.0, 1.0])
DEFAULT_MAX_PITCH_DEG = 75.0


class SteepViewError(ValueError):
    """The viewing direction is too close to vertical to define a heading on the floor."""


@dataclass(frozen=True)
class ObserverFrame:
    """A BEV frame on the floor.

    Attributes:
        origin_world: ``(3,)`` the camera centre dropped onto the floor.
        x_axis_world: ``(3,)`` unit vector to the observer's right, horizontal.
        y_axis_world: ``(3,)`` unit vector along the heading, horizontal.
    """

    origin_world: F64
    x_axis_world: F64
    y_axis_world: F64

    def to_bev(self, points_world: ArrayLike) -> F64:
        """``(N, 3)`` or ``(3,)`` world points to ``(N, 2)`` or ``(2,)`` BEV ``(x, y)`` metres."""
        d = np.asarray(points_world, dtype=np.float64) - self.origin_world
        axes = np.stack([self.x_axis_world, self.y_axis_world], axis=1)  # (3, 2)
        return np.asarray(d @ axes, dtype=np.float64)


def observer_frame(
    T_world_cam: ArrayLike, floor_z: float, max_pitch_deg: float = DEFAULT_MAX_PITCH_DEG
) -> ObserverFrame:
    """The BEV frame of a camera (see the module docstring).

    Args:
        T_world_cam: ``(4, 4)`` camera-to-world pose (OpenCV camera: +z forward).
        floor_z: Floor height in the world frame (the scene index's ``floor_z``).
        max_pitch_deg: Largest angle between the viewing direction and the floor for which the
            heading is considered defined.

    Raises:
        SteepViewError: The camera looks within ``90 - max_pitch_deg`` degrees of vertical.
    """
    T = np.asarray(T_world_cam, dtype=np.float64)
    forward = T[:3, 2] / np.linalg.norm(T[:3, 2])
    horizontal = forward - (forward @ WORLD_UP) * WORLD_UP
    n = float(np.linalg.norm(horizontal))
    if n < np.cos(np.radians(max_pitch_deg)):
        pitch = float(np.degrees(np.arccos(min(1.0, n))))
        raise SteepViewError(
            f"the camera is pitched {pitch:.1f} deg from the floor plane (limit {max_pitch_deg})"
        )
    y_axis = horizontal / n
    x_axis = np.cross(y_axis, WORLD_UP)
    origin = np.array([T[0, 3], T[1, 3], float(floor_z)])
    return ObserverFrame(origin, x_axis, y_axis)
