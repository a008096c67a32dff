"""The camera walk stays in the rooms at eye height, clear of furniture, and moves smoothly."""

from __future__ import annotations

import numpy as np
import pytest

from spar3d.geometry.transforms import rotation_angle_deg
from spar3d.scenes.synthetic import build_world, camera_trajectory
from spar3d.scenes.synthetic.layout import WALL_T


def inside_walls(world, xy) -> bool:
    """In a room, clear of every wall's thickness except through a doorway opening."""
    if not any(r.x0 <= xy[0] <= r.x1 and r.y0 <= xy[1] <= r.y1 for r in world.rooms):
        return False
    for w in world.walls:
        p0, p1 = np.asarray(w.p0, float), np.asarray(w.p1, float)
        along = (p1 - p0) / np.linalg.norm(p1 - p0)
        s = (xy - p0) @ along
        off = abs((xy - p0) @ np.array([-along[1], along[0]]))
        in_wall = -WALL_T / 2 <= s <= np.linalg.norm(p1 - p0) + WALL_T / 2 and off <= WALL_T / 2
        in_doorway = w.doorway is not None and w.doorway[0] < s < w.doorway[1]
        if in_wall and not in_doorway:
            return False
    return True


@pytest.mark.parametrize("seed", [0, 1, 11])
def test_walk_stays_inside_at_eye_height_and_clear_of_objects(seed):
    world = build_world(seed)
    poses = camera_trajectory(world, 150, seed + 100, 320, 240)
    assert len(poses) == 150
    lo, hi = world.params.eye_height_range_m  # a walk's height, plus a bob of at most 5 cm
    for T in poses:
        c = T[:3, 3]
        assert lo - 0.05 - 1e-9 <= c[2] <= hi + 0.05 + 1e-9
        assert inside_walls(world, c[:2]), c
        for o in world.furniture():
            local = (c - o.box.center) @ o.box.R_world_box
            assert np.any(np.abs(local[:2]) > o.box.size[:2] / 2), (o.label, c)


@pytest.mark.parametrize("seed", [0, 3])
def test_walk_is_smooth_and_looks_slightly_down_opencv(seed):
    world = build_world(seed)
    poses = camera_trajectory(world, 120, seed, 320, 240)
    for a, b in zip(poses[:-1], poses[1:], strict=True):
        assert np.linalg.norm(b[:3, 3] - a[:3, 3]) <= 0.07
        assert rotation_angle_deg(a, b) <= 12.0
    for T in poses:
        R = T[:3, :3]
        assert np.allclose(R.T @ R, np.eye(3), atol=1e-9) and np.isclose(np.linalg.det(R), 1.0)
        assert R[2, 2] < 0  # optical axis (+z) tilts down
        assert R[2, 1] < 0  # image +y points down in the world
        assert abs(R[2, 0]) < 1e-9  # no roll: image +x stays horizontal
    moved = sum(
        np.linalg.norm(b[:3, 3] - a[:3, 3]) for a, b in zip(poses[:-1], poses[1:], strict=True)
    )
    assert moved > 2.0  # it walks, not just turns


def test_same_seed_same_walk_and_bad_count():
    world = build_world(4)
    a = camera_trajectory(world, 20, 9)
    b = camera_trajectory(world, 20, 9)
    c = camera_trajectory(world, 20, 10)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.allclose(x, y) for x, y in zip(a, c, strict=True))
    with pytest.raises(ValueError, match="n_frames"):
        camera_trajectory(world, 0, 1)
