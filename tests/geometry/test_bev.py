"""The observer-centric BEV frame against hand-built cameras where the answer is obvious.

Expected values are written down by hand (or follow from elementary trigonometry), never from
the code under test. Cameras are built from explicit rotation matrices, not from ``look_at``.
"""

from __future__ import annotations

import numpy as np
import pytest

from spar3d.geometry.bev import SteepViewError, observer_frame


def level_camera(eye: tuple[float, float, float], heading_deg: float) -> np.ndarray:
    """An OpenCV camera at ``eye`` looking horizontally; heading 0 = world +y, 90 = world +x.

    Columns of the rotation are the camera axes in world: x right, y down, z forward.
    """
    h = np.radians(heading_deg)
    forward = np.array([np.sin(h), np.cos(h), 0.0])
    right = np.array([np.cos(h), -np.sin(h), 0.0])  # forward rotated 90 deg clockwise from above
    down = np.array([0.0, 0.0, -1.0])
    T = np.eye(4)
    T[:3, :3] = np.stack([right, down, forward], axis=1)
    T[:3, 3] = eye
    return T


def rot_x(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])


def rot_z(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


def tilted(T_level: np.ndarray, pitch_down_deg: float, roll_deg: float) -> np.ndarray:
    """The same camera pitched down (about its own x axis) then rolled (about its own z axis)."""
    T = T_level.copy()
    # In an OpenCV camera +y is down: rotating +z towards +y (pitching down) is rot_x(-pitch).
    T[:3, :3] = T_level[:3, :3] @ rot_x(-pitch_down_deg) @ rot_z(roll_deg)
    return T


def test_object_two_metres_straight_ahead_is_0_2():
    frame = observer_frame(level_camera((0.0, 0.0, 1.5), 0.0), floor_z=0.0)
    np.testing.assert_allclose(frame.to_bev([0.0, 2.0, 0.4]), [0.0, 2.0], atol=1e-12)


def test_right_is_positive_x_and_behind_is_negative_y():
    frame = observer_frame(level_camera((0.0, 0.0, 1.5), 0.0), floor_z=0.0)
    pts = np.array([[1.0, 2.0, 0.0], [-0.5, 1.0, 2.0], [0.0, -3.0, 1.0]])
    np.testing.assert_allclose(
        frame.to_bev(pts), [[1.0, 2.0], [-0.5, 1.0], [0.0, -3.0]], atol=1e-12
    )


def test_camera_elsewhere_facing_world_plus_x():
    # At (3, -1, 1.2) facing world +x: ahead is +x, the right hand points to world -y.
    frame = observer_frame(level_camera((3.0, -1.0, 1.2), 90.0), floor_z=0.1)
    np.testing.assert_allclose(frame.origin_world, [3.0, -1.0, 0.1], atol=1e-12)
    np.testing.assert_allclose(frame.to_bev([5.0, -1.0, 0.7]), [0.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(frame.to_bev([5.0, -2.5, 0.7]), [1.5, 2.0], atol=1e-12)
    np.testing.assert_allclose(frame.to_bev([2.0, 0.0, 0.0]), [-1.0, -1.0], atol=1e-12)


@pytest.mark.parametrize("pitch_down, roll", [(30.0, 0.0), (30.0, 20.0), (-25.0, -35.0), (0, 45)])
def test_floor_projection_holds_for_a_tilted_camera(pitch_down, roll):
    level = level_camera((1.0, 2.0, 1.6), 30.0)
    T = tilted(level, pitch_down, roll)
    # the test's camera really is tilted as described: forward dips by the pitch
    assert np.degrees(np.arcsin(-T[2, 2])) == pytest.approx(pitch_down)
    frame = observer_frame(T, floor_z=0.0)
    frame_level = observer_frame(level, floor_z=0.0)
    # heading, origin and axes do not depend on pitch or roll
    np.testing.assert_allclose(frame.x_axis_world, frame_level.x_axis_world, atol=1e-12)
    np.testing.assert_allclose(frame.y_axis_world, frame_level.y_axis_world, atol=1e-12)
    np.testing.assert_allclose(frame.origin_world, [1.0, 2.0, 0.0], atol=1e-12)
    # a point on the optical axis at range d lies straight ahead at d cos(pitch)
    d = 2.5
    on_axis = T[:3, 3] + d * T[:3, 2]
    expected_y = d * np.cos(np.radians(pitch_down))
    np.testing.assert_allclose(frame.to_bev(on_axis), [0.0, expected_y], atol=1e-12)
    # heading 30 deg: world point 2 m along the heading, 1 m to its right (hand-computed)
    h = np.radians(30.0)
    p = (
        np.array([1.0, 2.0, 0.0])
        + 2 * np.array([np.sin(h), np.cos(h), 0])
        + 1 * np.array([np.cos(h), -np.sin(h), 0])
    )
    np.testing.assert_allclose(frame.to_bev(p), [1.0, 2.0], atol=1e-12)


def test_pitch_limit():
    T = tilted(level_camera((0.0, 0.0, 1.5), 0.0), 80.0, 0.0)
    with pytest.raises(SteepViewError, match="80.0 deg"):
        observer_frame(T, floor_z=0.0)
    assert observer_frame(T, floor_z=0.0, max_pitch_deg=85.0).y_axis_world[1] == pytest.approx(1)
    down = tilted(level_camera((0.0, 0.0, 1.5), 0.0), 90.0, 0.0)
    with pytest.raises(SteepViewError):
        observer_frame(down, floor_z=0.0, max_pitch_deg=89.0)
