"""obj_count (a label with three instances) and room_size (hand-computed floor areas)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from video_factory import VIDEO_OBJECTS, answer_text

from spar3d.tasks import create_task
from spar3d.tasks.video.room import room_area, scene_room_area, voxel_downsample


def test_obj_count_three_chairs(video_room):
    samples, _ = create_task("obj_count").generate(video_room, 6, seed=0)
    chairs = sum(1 for _, label, *_ in VIDEO_OBJECTS if label == "chair")
    assert chairs == 3
    # "chair" is the only label with >= 2 instances; one fact, asked in both formats
    assert {s["meta"]["format"] for s in samples} == {"fill", "sentence"}
    for s in samples:
        assert "chair" in s["conversations"][0]["value"]
        assert sorted(s["meta"]["object_ids"]) == [2, 8, 9]
        answer = s["conversations"][1]["value"]
        assert answer == "3" if s["meta"]["format"] == "fill" else " 3 " in f" {answer} "


def test_obj_count_skips_labels_not_fully_seen(video_room):
    # chair 9 moved outside every camera's view: its label can no longer be counted from the video
    index = dataclasses.replace(
        video_room,
        images=[
            dataclasses.replace(im, visible=[v for v in im.visible if v.object_id != 9])
            for im in video_room.images
        ],
    )
    samples, stats = create_task("obj_count").generate(index, 4, seed=0)
    assert samples == [] and stats.rejected["instance_not_in_video"] >= 1


def grid(x0: float, x1: float, y0: float, y1: float, cell: float = 0.1) -> np.ndarray:
    """Centres of the ``cell`` squares tiling [x0, x1] x [y0, y1]."""
    xs = np.arange(x0 + cell / 2, x1, cell)
    ys = np.arange(y0 + cell / 2, y1, cell)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], 1)


def l_shape() -> np.ndarray:
    # 6 x 5 m with the 3 x 2.5 m corner x > 3, y > 2.5 cut away: 30 - 7.5 = 22.5 m²
    p = grid(0, 6, 0, 5)
    return p[~((p[:, 0] > 3) & (p[:, 1] > 2.5))]


def test_room_area_rectangle_and_l_shape():
    assert room_area(grid(0, 6, 0, 5), 0.1, 2.0) == pytest.approx(30.0, abs=0.1)
    # growing the hull by half a cell also rounds the inside corner: within 0.3 m² (~1 %)
    assert room_area(l_shape(), 0.1, 2.0) == pytest.approx(22.5, abs=0.3)


def test_voxel_downsample_and_fallback():
    fine = grid(0, 4, 0, 3, cell=0.05)  # 4800 points at 5 cm
    down, cell = voxel_downsample(fine, 0.1, 0.05)
    assert cell == 0.1 and len(down) == 40 * 30
    assert np.allclose(np.sort(down[:, 0])[[0, -1]], [0.05, 3.95])
    few = grid(0, 0.5, 0, 0.5, cell=0.05)  # 25 cells at 10 cm < 100: the paper keeps the points
    kept, cell = voxel_downsample(few, 0.1, 0.05)
    assert cell == 0.05 and len(kept) == len(few)
    area, n = scene_room_area(fine, 0.05, 0.1, 2.0)
    assert n == 1200 and area == pytest.approx(12.0, abs=0.1)


def test_room_size_task_l_room(video_room):
    index = dataclasses.replace(video_room, footprint_xy=l_shape(), footprint_voxel_m=0.1)
    samples, _ = create_task("room_size").generate(index, 3, seed=4)
    assert {s["meta"]["format"] for s in samples} == {"fill", "select", "sentence"}
    for s in samples:
        area = s["meta"]["quantities"]["area_m2"]
        assert area == pytest.approx(22.5, abs=0.3)
        text = answer_text(s)
        assert f"{area:.1f}" in text


def test_room_size_skips_small_rooms(video_room):
    index = dataclasses.replace(video_room, footprint_xy=grid(0, 1.5, 0, 1.5))  # 2.25 m²
    samples, stats = create_task("room_size").generate(index, 3, seed=0)
    assert samples == [] and stats.rejected["room_too_small"] >= 1
