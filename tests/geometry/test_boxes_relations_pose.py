import numpy as np
import pytest

from spar3d.geometry.boxes import (
    OrientedBox,
    aabb_iou_3d,
    box2d_iou,
    boxes2d_overlap,
    boxes_overlap_3d,
)
from spar3d.geometry.pose import relative_pose
from spar3d.geometry.relations import relation_in_frame, relation_to_observer
from spar3d.geometry.transforms import look_at


def test_box_corners_axis_aligned():
    b = OrientedBox.axis_aligned([1, 2, 3], [2, 4, 6])
    c = b.corners()
    np.testing.assert_allclose(c.min(0), [0, 0, 0])
    np.testing.assert_allclose(c.max(0), [2, 4, 6])
    assert len({tuple(x) for x in c}) == 8


def test_box_corners_yaw_45():
    b = OrientedBox.from_yaw([0, 0, 0], [2, 2, 2], np.pi / 4)
    # a square of side 2 rotated by 45 degrees reaches sqrt(2) along x and y
    np.testing.assert_allclose(np.abs(b.corners()[:, :2]).max(0), [np.sqrt(2)] * 2)
    assert b.yaw_rad == pytest.approx(np.pi / 4)


def test_overlap_3d():
    a = OrientedBox.axis_aligned([0, 0, 0], [1, 1, 1])
    assert boxes_overlap_3d(a, OrientedBox.axis_aligned([0.9, 0, 0], [1, 1, 1]))
    assert not boxes_overlap_3d(a, OrientedBox.axis_aligned([1.1, 0, 0], [1, 1, 1]))
    assert boxes_overlap_3d(a, OrientedBox.axis_aligned([1.1, 0, 0], [1, 1, 1]), margin_m=0.06)
    # rotated by 45 degrees the square's corner reaches 0.707 m: touches at 0.5 + 0.707
    r = OrientedBox.from_yaw([1.15, 0, 0], [1, 1, 1], np.pi / 4)
    assert boxes_overlap_3d(a, r)
    assert not boxes_overlap_3d(a, OrientedBox.from_yaw([1.25, 0, 0], [1, 1, 1], np.pi / 4))
    # half overlap along x: intersection 0.5, union 1.5
    assert aabb_iou_3d(a, OrientedBox.axis_aligned([0.5, 0, 0], [1, 1, 1])) == pytest.approx(1 / 3)


def test_box2d():
    assert box2d_iou([0, 0, 2, 2], [1, 1, 3, 3]) == pytest.approx(1 / 7)
    assert not boxes2d_overlap([0, 0, 1, 1], [1, 0, 2, 1])


def test_relation_words_and_threshold():
    r = relation_in_frame([1.0, -0.5, 3.0], [0.0, 0.0, 2.0])
    assert r.words() == ["right", "above", "behind"]
    # differences under 0.1 m are indistinguishable: the slot stays empty
    r = relation_in_frame([-0.5, 0.05, 2.0], [0.0, 0.0, 2.95])
    assert r.words() == ["left", "", "front"]
    assert r.text() == "left, , front"
    assert relation_to_observer([-1, 1, 2]).words() == ["left", "below", "front"]


def test_relative_pose_translation_and_yaw():
    T1 = look_at([0, 0, 1], [0, 1, 1])  # looking along +y; camera x = world x
    # second camera 1 m to the right, 2 m forward, turned 30 degrees to the right
    a = np.radians(30)
    T2 = look_at([1, 2, 1], [1 + np.sin(a), 2 + np.cos(a), 1])
    rp = relative_pose(T1, T2)
    assert rp.right_m == pytest.approx(1.0)
    assert rp.forward_m == pytest.approx(2.0)
    assert rp.up_m == pytest.approx(0.0, abs=1e-12)
    assert rp.yaw_right_deg == pytest.approx(30.0)
    assert rp.pitch_up_deg == pytest.approx(0.0, abs=1e-9)
    # looking up by 20 degrees
    b = np.radians(20)
    T3 = look_at([0, 0, 1], [0, np.cos(b), 1 + np.sin(b)])
    assert relative_pose(T1, T3).pitch_up_deg == pytest.approx(20.0)
