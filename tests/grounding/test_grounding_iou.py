"""Exact oriented 3D IoU against hand-computed cases and an independent Monte Carlo estimate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spar3d.grounding.boxes import box_iou_3d
from spar3d.scenes.model import OrientedBox


def aa(center, size):
    return OrientedBox.axis_aligned(center, size)


def test_identical_boxes():
    b = OrientedBox.from_yaw((1, 2, 0.5), (0.4, 1.2, 1.0), 0.7)
    assert box_iou_3d(b, b) == pytest.approx(1.0)


def test_half_shift_is_one_third():
    # unit cubes shifted by 0.5: intersection 0.5, union 1.5
    assert box_iou_3d(aa((0, 0, 0), (1, 1, 1)), aa((0.5, 0, 0), (1, 1, 1))) == pytest.approx(1 / 3)


def test_vertical_shift_is_one_third():
    assert box_iou_3d(aa((0, 0, 0.5), (1, 1, 1)), aa((0, 0, 1.0), (1, 1, 1))) == pytest.approx(
        1 / 3
    )


def test_square_rotated_45_degrees():
    # a unit square and the same square turned 45 deg overlap in a regular octagon of area
    # 2 (sqrt 2 - 1); the heights match, so IoU = A / (2 - A)
    area = 2 * (math.sqrt(2) - 1)
    a = aa((0, 0, 0), (1, 1, 2))
    b = OrientedBox.from_yaw((0, 0, 0), (1, 1, 2), math.pi / 4)
    assert box_iou_3d(a, b) == pytest.approx(area / (2 - area))


def test_rectangle_rotated_90_degrees():
    # 2 x 1 and the same turned 90 deg: overlap 1 x 1, union 2 + 2 - 1
    a = aa((0, 0, 0), (2, 1, 1))
    b = OrientedBox.from_yaw((0, 0, 0), (2, 1, 1), math.pi / 2)
    assert box_iou_3d(a, b) == pytest.approx(1 / 3)


def test_disjoint_and_touching():
    assert box_iou_3d(aa((0, 0, 0), (1, 1, 1)), aa((3, 0, 0), (1, 1, 1))) == 0.0
    assert box_iou_3d(aa((0, 0, 0), (1, 1, 1)), aa((0, 0, 1.0), (1, 1, 1))) == 0.0


def test_nested_box():
    # a 1 m cube inside a 2 m cube: 1 / 8
    assert box_iou_3d(aa((0, 0, 0), (1, 1, 1)), aa((0.2, -0.3, 0.1), (2, 2, 2))) == pytest.approx(
        1 / 8
    )


def _inside(box: OrientedBox, pts: np.ndarray) -> np.ndarray:
    local = (pts - box.center) @ box.R_world_box
    return np.all(np.abs(local) <= box.size / 2, axis=1)


@pytest.mark.parametrize("seed", range(5))
def test_matches_monte_carlo(seed):
    rng = np.random.default_rng(seed)
    a = OrientedBox.from_yaw(
        rng.uniform(-0.3, 0.3, 3), rng.uniform(0.5, 1.5, 3), rng.uniform(-3, 3)
    )
    b = OrientedBox.from_yaw(
        rng.uniform(-0.3, 0.3, 3), rng.uniform(0.5, 1.5, 3), rng.uniform(-3, 3)
    )
    pts = rng.uniform(-1.5, 1.5, size=(400_000, 3))
    ia, ib = _inside(a, pts), _inside(b, pts)
    mc = (ia & ib).sum() / (ia | ib).sum()
    assert box_iou_3d(a, b) == pytest.approx(mc, abs=0.01)
