"""The scene's video: evenly spaced keyframes, appearances per object, frame-number texts."""

from __future__ import annotations

import pytest
from video_factory import HANDSET_VIS, make_handset_index

from spar3d.tasks import SceneView, create_task
from spar3d.tasks.video.frames import frame_text
from spar3d.tasks.views import even_positions, video_frames


@pytest.mark.parametrize("n, m", [(10, 5), (100, 32), (33, 32), (7, 3), (5, 8), (1, 1)])
def test_even_positions_spread(n, m):
    pos = even_positions(n, m)
    assert len(pos) == min(n, m)
    assert pos[0] == 0 and pos[-1] == n - 1
    gaps = [b - a for a, b in zip(pos, pos[1:], strict=False)]
    assert all(g >= 1 for g in gaps)
    if gaps:  # evenly spaced: gaps differ by at most one frame
        assert max(gaps) - min(gaps) <= 1


def test_even_positions_by_hand():
    # linspace(0, 9, 5) = 0, 2.25, 4.5, 6.75, 9 -> nearest integers (4.5 rounds to even)
    assert even_positions(10, 5) == [0, 2, 4, 7, 9]
    with pytest.raises(ValueError):
        even_positions(10, 0)


def test_video_frames_min_frames(handset_index):
    assert video_frames(handset_index, 32, 4) == list(range(10))
    assert video_frames(handset_index, 32, 11) == []  # too few keyframes: no video
    assert video_frames(handset_index, 4, 4) == [0, 3, 6, 9]


def test_appearances_follow_hand_set_visibility(handset_index):
    task = create_task("obj_frame_locate")
    video = task.video(SceneView(handset_index))
    for oid in range(1, 7):
        expected = [f for f, ids in enumerate(HANDSET_VIS) if oid in ids]
        assert video.appearances[oid] == expected


def test_short_scene_gives_no_sample():
    index = make_handset_index(HANDSET_VIS[:3])  # 3 keyframes < min_frames = 4
    samples, stats = create_task("obj_frame_locate").generate(index, 5, seed=0)
    assert samples == [] and stats.rejected["too_few_frames"] == 1


def test_frame_text():
    assert frame_text([0]) == "frame 1"
    assert frame_text([1, 8]) == "frames 2 and 9"
    assert frame_text([0, 3, 4]) == "frames 1, 4 and 5"


def test_video_sample_paths(video_room):
    samples, _ = create_task("obj_count").generate(video_room, 2, seed=0)
    for s in samples:
        assert s["image"] == [f"videoroom_00/video_color/{10 * i}.jpg" for i in range(10)]
        assert s["meta"]["image_indices"] == list(range(10))
