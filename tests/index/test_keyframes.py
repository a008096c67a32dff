import numpy as np

from spar3d.geometry.transforms import look_at
from spar3d.index.keyframes import KeyframeParams, select_keyframes


def _yaw_pose(x: float, yaw_deg: float) -> np.ndarray:
    a = np.radians(yaw_deg)
    return look_at([x, 0, 1.5], [x + np.sin(a), np.cos(a), 1.5])


def test_translation_rule():
    # 0.1 m steps along x, same orientation: a frame is kept once it is >= 0.25 m from every
    # kept frame, i.e. every third frame
    poses = [_yaw_pose(0.1 * i, 0) for i in range(10)]
    assert select_keyframes(poses, KeyframeParams(0.25, 15)) == [0, 3, 6, 9]


def test_rotation_rule():
    # standing still and turning 4 degrees per frame: kept once > 15 degrees from every kept frame
    poses = [_yaw_pose(0, 4 * i) for i in range(13)]
    assert select_keyframes(poses, KeyframeParams(0.25, 15)) == [0, 4, 8, 12]


def test_revisit_is_redundant():
    # going out and coming back to the start with the same orientation adds nothing new
    xs = [0, 0.3, 0.6, 0.3, 0.0]
    poses = [_yaw_pose(x, 0) for x in xs]
    assert select_keyframes(poses, KeyframeParams(0.25, 15)) == [0, 1, 2]


def test_none_keeps_everything():
    poses = [_yaw_pose(0, 0)] * 5
    assert select_keyframes(poses, None) == [0, 1, 2, 3, 4]
