"""The grounding answer: fixed format, tolerant parsing with typed failures, and lifting to 3D.

Expected values are worked by hand from a pinhole camera (f = 500 px, 640 x 480, principal
point at the image centre) looking along world +y.
"""

from __future__ import annotations

import math
import random
import string

import numpy as np
import pytest

from spar3d.geometry.transforms import look_at
from spar3d.grounding.answer import (
    PARSE_REASONS,
    GroundingAnswer,
    ParseFailure,
    box_in_view,
    encode_answer,
    heading_yaw_rad,
    lift_answer,
    parse_answer,
)
from spar3d.grounding.boxes import box_iou_3d
from spar3d.scenes.model import OrientedBox

K = np.array([[500.0, 0.0, 319.5], [0.0, 500.0, 239.5], [0.0, 0.0, 1.0]])
W, H = 640, 480
T_FWD_Y = look_at([0, 0, 1], [0, 1, 1])  # looks along +y: right = +x


def test_text_format():
    a = GroundingAnswer(2, (512.0, 430.0), 2.345, (0.52, 0.91, 0.48), 12.54)
    assert a.text() == "frame 2; (512, 430); depth 2.35 m; size (0.52, 0.91, 0.48) m; yaw 12.5 deg"
    assert GroundingAnswer(1, (1, 2), 1.0, (1, 1, 1)).text().endswith("size (1.00, 1.00, 1.00) m")


def test_round_trip_text():
    a = GroundingAnswer(3, (12.0, 988.0), 4.5, (0.3, 1.2, 2.05), -30.5)
    b = parse_answer(a.text(), n_views=3)
    assert isinstance(b, GroundingAnswer)
    assert b.frame == 3 and b.uv_norm1000 == (12.0, 988.0) and b.depth_m == 4.5
    assert b.size_whl_m == (0.3, 1.2, 2.05) and b.yaw_deg == -30.5


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Frame: 2, (512,430), depth: 235 cm, size: 0.52 x 0.91 x 0.48 m, yaw: 12.5°",
         (2, (512, 430), 2.35, (0.52, 0.91, 0.48), 12.5)),
        ("The object is in image 3. u=100, v=200; its depth is 1.5 meters; dimensions 50cm x "
         "40cm x 30cm.", (3, (100, 200), 1.5, (0.5, 0.4, 0.3), 0.0)),
        ("FRAME 1 ; [ 10 , 20 ] ; DEPTH 2,5 m ; SIZE [1, 2, 3] ; YAW 0.5 rad",
         (1, (10, 20), 2.5, (1.0, 2.0, 3.0), math.degrees(0.5))),
        ("Image 2 -- it sits at (5, 6), 3.5 m away, size 1x1x1 m",
         (2, (5, 6), 3.5, (1.0, 1.0, 1.0), 0.0)),
        ("view #4: (999, 0), depth 800 mm, size (0.1 m, 0.2 m, 0.3 m)",
         (4, (999, 0), 0.8, (0.1, 0.2, 0.3), 0.0)),
        ("It appears in frame 1 with its center at (490, 458); it is at a depth of 6.82 m and its "
         "size is 0.40 by 1.00 by 0.60 m, turned by a yaw of -38.8 degrees.",
         (1, (490, 458), 6.82, (0.4, 1.0, 0.6), -38.8)),
    ],
)  # fmt: skip
def test_tolerant_parsing(text, expected):
    a = parse_answer(text)
    assert isinstance(a, GroundingAnswer), a
    frame, uv, depth, size, yaw = expected
    assert a.frame == frame and a.uv_norm1000 == pytest.approx(uv)
    assert a.depth_m == pytest.approx(depth) and a.size_whl_m == pytest.approx(size)
    assert a.yaw_deg == pytest.approx(yaw)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        (None, "empty"),
        ("I cannot see it.", "no_frame"),
        ("frame 2; depth 1 m; size (1, 1, 1) m", "no_position"),
        ("frame 2; (5, 5); size (1, 1, 1) m", "no_depth"),
        ("frame 2; (5, 5); depth 1 m", "no_size"),
        ("frame 2; (5, 5); depth -1 m; size (1, 1, 1) m", "bad_value"),
        ("frame 2; (5, 5); depth 1 m; size (0, 1, 1) m", "bad_value"),
        ("frame 9; (5, 5); depth 1 m; size (1, 1, 1) m", "frame_out_of_range"),
        ("frame 0; (5, 5); depth 1 m; size (1, 1, 1) m", "frame_out_of_range"),
        ("frame 1; (5, 5); depth 1" + "0" * 400 + " m; size (1, 1, 1) m", "bad_value"),
    ],
)
def test_typed_failures(text, reason):
    out = parse_answer(text, n_views=3)
    assert isinstance(out, ParseFailure) and out.reason == reason
    assert out.reason in PARSE_REASONS


def test_parser_never_raises_on_noise():
    rng = random.Random(0)
    alphabet = string.printable + "°×−"
    pieces = ["frame ", "depth ", "size ", "yaw ", "(", ")", ",", ";", "m", "cm", "1e999", "-"]
    for _ in range(3000):
        n = rng.randint(0, 60)
        text = "".join(
            rng.choice(pieces) if rng.random() < 0.3 else rng.choice(alphabet) for _ in range(n)
        )
        out = parse_answer(text, n_views=rng.randint(1, 5))
        assert isinstance(out, (GroundingAnswer, ParseFailure))


def test_lift_straight_ahead():
    # centre 3 m straight ahead projects to the principal point: (500, 500) in 0-1000
    a = parse_answer("frame 1; (500, 500); depth 3 m; size (1, 0.5, 2) m")
    box = lift_answer(a, K, T_FWD_Y, W, H)
    assert box.center == pytest.approx([0.0, 3.0, 1.0], abs=1e-9)
    # w across the view = world x, l along the view = world y, h = world z
    assert box_iou_3d(box, OrientedBox.axis_aligned((0, 3, 1), (1, 2, 0.5))) == pytest.approx(1.0)


def test_lift_to_the_right_and_up():
    # a point 1 m right, 0.5 m up, 4 m ahead: u = 319.5 + 500 / 4, v = 239.5 - 500 * 0.5 / 4
    u_px, v_px = 319.5 + 125.0, 239.5 - 62.5
    uv = ((u_px + 0.5) * 1000 / W, (v_px + 0.5) * 1000 / H)
    box = lift_answer(GroundingAnswer(1, uv, 4.0, (1, 1, 1)), K, T_FWD_Y, W, H)
    assert box.center == pytest.approx([1.0, 4.0, 1.5], abs=1e-9)


def test_heading_of_a_tilted_and_a_downward_camera():
    assert heading_yaw_rad(T_FWD_Y) == pytest.approx(0.0)  # right = +x
    tilted = look_at([0, 0, 2], [1, 0, 0])  # looks along +x and down: right = -y
    assert heading_yaw_rad(tilted) == pytest.approx(-math.pi / 2)
    down = np.eye(4)  # straight down with image-up = +y: x right = +x, y down = -y, z = -z
    down[:3, :3] = np.array([[1, 0, 0], [0, -1, 0], [0, 0, -1]], float)
    assert heading_yaw_rad(down) == pytest.approx(0.0)


def test_yaw_relative_to_the_view():
    box = OrientedBox.from_yaw((0, 3, 1), (2.0, 1.0, 0.5), math.radians(30))
    # camera along +y (right = +x): the box's x axis is turned 30 deg from right, w = size x
    (w, h, length), yaw = box_in_view(box, T_FWD_Y)
    assert (w, h, length) == pytest.approx((2.0, 0.5, 1.0)) and yaw == pytest.approx(30.0)
    # camera along +x (right = -y, at -90 deg): the box's y axis (120 deg) is 30 deg from the
    # right axis modulo a half turn, so w is the box's y extent
    (w, h, length), yaw = box_in_view(box, look_at([-3, 3, 1], [0, 3, 1]))
    assert (w, h, length) == pytest.approx((1.0, 0.5, 2.0)) and yaw == pytest.approx(30.0)


@pytest.mark.parametrize("seed", range(20))
def test_encode_then_lift_recovers_the_box(seed):
    rng = np.random.default_rng(seed)
    box = OrientedBox.from_yaw(rng.uniform(-1, 1, 3) + [0, 4, 1], rng.uniform(0.2, 2, 3),
                               rng.uniform(-4, 4))  # fmt: skip
    eye = rng.uniform(-1, 1, 3) + [0, 0, 1.5]
    T = look_at(eye, box.center + rng.uniform(-0.5, 0.5, 3))  # tilted, looking at the box
    a = encode_answer(box, 1, K, T, W, H)
    assert -45 < a.yaw_deg <= 45
    assert box_iou_3d(lift_answer(a, K, T, W, H), box) == pytest.approx(1.0, abs=1e-6)
    # through the text (rounded) it still overlaps almost fully
    b = parse_answer(a.text())
    assert isinstance(b, GroundingAnswer)
    assert box_iou_3d(lift_answer(b, K, T, W, H), box) > 0.9
