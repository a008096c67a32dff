"""Position matching, view change and camera motion, checked against hand-built cameras.

The cameras of ``posed_index`` are placed with known translations and yaw / pitch relative to a
first camera at (3, 1, 1.5) looking along +y (world z up), so the expected answers are written
down by hand, not computed by the code under test.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from mv_truth import answer_of, box_norm1000
from room_factory import H, W, make_index

from spar3d.tasks import Reject, SceneView, create_task

EYE1 = np.array([3.0, 1.0, 1.5])


def _target(eye, yaw_right_deg: float, pitch_up_deg: float) -> np.ndarray:
    """A point 3 m along the direction yawed right of +y and pitched up (world z up)."""
    y, p = np.radians(yaw_right_deg), np.radians(pitch_up_deg)
    return np.asarray(eye) + 3.0 * np.array(
        [np.sin(y) * np.cos(p), np.cos(y) * np.cos(p), np.sin(p)]
    )


# camera 1 looks along +y; the others are moved in camera 1's frame (x right = world +x,
# forward = world +y, up = world +z) and turned by known angles
CAMERAS = [
    (tuple(EYE1), tuple(_target(EYE1, 0, 0))),
    ((3.5, 2.2, 1.5), tuple(_target((3.5, 2.2, 1.5), -20, 0))),  # right 0.5, forward 1.2, left 20
    (
        (2.6, 0.6, 1.2),
        tuple(_target((2.6, 0.6, 1.2), 15, -10)),
    ),  # left, back, down; right 15, down 10
    (
        (3.5, 3.0, 1.0),
        tuple(_target((3.5, 3.0, 1.0), 0, 0)),
    ),  # seen by camera 1 at x 0.5, y 0.5, z 2
]


@pytest.fixture(scope="module")
def posed_index():
    return make_index(cameras=CAMERAS, scene_id="posed0000_00")


@pytest.fixture(scope="module")
def posed(posed_index):
    return SceneView(posed_index)


def test_view_change_known_poses(posed):
    task = create_task("view_change_infer")
    assert task.compute(posed, (0, 1)).answer.text == (
        "move_right:0.5,move_up:0.0,move_forward:1.2,rotate_up:0,rotate_left:20"
    )
    assert task.compute(posed, (0, 2)).answer.text == (
        "move_left:0.4,move_down:0.3,move_backward:0.4,rotate_down:10,rotate_right:15"
    )
    # the way back, from camera 1 to camera 0: camera 1 looks along (-sin20, cos20, 0) with its
    # right axis (cos20, sin20, 0); camera 0 is at (-0.5, -1.2, 0) from it, so it is
    # -0.5 cos20 - 1.2 sin20 = -0.88 m to the right and 0.5 sin20 - 1.2 cos20 = -0.96 m forward,
    # and it looks 20 degrees to the right of camera 1
    assert task.compute(posed, (1, 0)).answer.text == (
        "move_left:0.9,move_up:0.0,move_backward:1.0,rotate_up:0,rotate_right:20"
    )


def test_view_change_parses_with_published_scorer(posed):
    """The answer must be readable by the published VCI parse (split on ',' then ':')."""
    from spar3d.bench.scoring.vci import compat_vci, strict_vci

    text = create_task("view_change_infer").compute(posed, (0, 2)).answer.text
    assert compat_vci(text, text) == 1.0 and strict_vci(text, text) == 1.0
    pairs = dict(item.split(":") for item in text.split(","))
    assert pairs == {
        "move_left": "0.4", "move_down": "0.3", "move_backward": "0.4",
        "rotate_down": "10", "rotate_right": "15",
    }  # fmt: skip


def test_view_change_sentence_and_samples(posed_index):
    out, _ = create_task("view_change_infer").generate(posed_index, 12, seed=1)
    assert {s["meta"]["format"] for s in out} == {"fill", "sentence"}
    for s in out:
        assert len(s["image"]) == 2
        i, j = s["meta"]["image_indices"]
        if s["meta"]["format"] == "sentence" and (i, j) == (0, 1):
            ans = s["conversations"][1]["value"]
            assert "1.2 meters forward" in ans and "0.5 meters to the right" in ans
            assert "turn left by 20 degrees" in ans


def test_camera_motion_hand_projection(posed):
    task = create_task("camera_motion_infer")
    facts = task.compute(posed, (0, 3))
    # camera 3 in camera 1's frame: x = 0.5 (right), y = 0.5 (down), z = 2.0 (forward)
    # u = 319.5 + 500 * 0.5 / 2 = 444.5, v = 239.5 + 125 = 364.5
    # x = round((444.5 + 0.5) * 1000 / 640) = 695, y = round((364.5 + 0.5) * 1000 / 480) = 760
    assert (facts.values["x"], facts.values["y"], facts.values["depth"]) == ("695", "760", "2.0")
    assert facts.answer.text == "Image Coor: (695, 760), Depth: 2.0 meters"
    # wrong options: where the other cameras appear; camera 2 (index 1) is at x 0.5, y 0, z 1.2
    # from camera 1: u = 319.5 + 500 * 0.5 / 1.2 = 527.83 -> round(528.33 * 1000 / 640) = 826,
    # v = 239.5 -> 500; camera 3 (index 2) is behind camera 1; two synthetic options fill up
    assert "Image Coor: (826, 500), Depth: 1.2 meters" in facts.answer.distractors
    assert len(set(facts.answer.distractors)) == 3
    with pytest.raises(Reject, match="camera_behind"):
        task.compute(posed, (3, 0))  # camera 1 lies behind camera 3


def test_camera_motion_options_uniform_rank(posed):
    """The answer's depth rank among the options is not fixed (no 'middle value' tell)."""
    from spar3d.tasks.multiview.camera_motion import distractors

    ranks = []
    for k in range(200):
        wrong = distractors((k, k + 1), (500, 500), 3.0, 150.0)
        depths = sorted([3.0] + [d for _, d in wrong])
        ranks.append(depths.index(3.0))
        assert all(np.hypot(x - 500, y - 500) >= 150 for (x, y), _ in wrong)
    assert np.bincount(ranks, minlength=4).min() > 25


def test_camera_motion_samples(room_index):
    out, _ = create_task("camera_motion_infer").generate(room_index, 9, seed=2)
    assert out
    for s in out:
        m = s["meta"]
        if m["format"] == "fill":
            x, y, d = (float(v) for v in s["conversations"][1]["value"].split(", "))
            assert 0 <= x <= 1000 and 0 <= y <= 1000 and d > 0
        if m["format"] == "select":
            assert re.fullmatch(r"Image Coor: \(\d+, \d+\), Depth: \d+\.\d meters", answer_of(s))


def test_position_matching_box_by_hand(room_index):
    out, _ = create_task("position_matching").generate(room_index, 24, seed=4)
    assert len(out) >= 12
    for s in out:
        i, j = s["meta"]["image_indices"]
        (obj,) = s["meta"]["object_ids"]
        assert s["red_bbox"] == [box_norm1000(i, obj)] and s["bbox_img_idx"] == [[0]]
        expected = box_norm1000(j, obj)
        fmt, ans = s["meta"]["format"], answer_of(s)
        if fmt == "fill":
            assert ans == ", ".join(str(v) for v in expected)
        else:
            assert str(expected) in ans if fmt == "sentence" else ans == str(expected)
        if fmt == "select":  # wrong options are other real boxes, not near copies
            for o in s["meta"]["options"]:
                assert o == str(expected) or _iou(eval(o), expected) < 0.5
            red = box_norm1000(i, obj)
            if _iou(red, expected) < 0.5:  # copying the red box is one of the wrong options
                assert str(red) in s["meta"]["options"]


def _iou(a: list[int], b: list[int]) -> float:
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


def test_fixture_resolution():
    assert (W, H) == (640, 480)
