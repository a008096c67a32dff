"""obj_frame_locate and appearance_order against hand-set visibility lists."""

from __future__ import annotations

from video_factory import HANDSET_LABELS, HANDSET_VIS

from spar3d.tasks import create_task


def frames_words(frames_1based: list[int]) -> str:
    nums = [str(f) for f in frames_1based]
    return (
        f"frame {nums[0]}"
        if len(nums) == 1
        else "frames " + ", ".join(nums[:-1]) + " and " + nums[-1]
    )


def test_obj_frame_locate_lists_the_other_frames(handset_index):
    samples, _ = create_task("obj_frame_locate").generate(handset_index, 12, seed=3)
    assert len(samples) >= 6
    seen = set()
    for s in samples:
        (oid,) = s["meta"]["object_ids"]
        (ref,) = s["bbox_img_idx"][0]
        frames = [f for f, ids in enumerate(HANDSET_VIS) if oid in ids]
        assert ref in frames and len(frames) >= 2
        others = [f + 1 for f in frames if f != ref]
        assert frames_words(others) in s["conversations"][1]["value"]
        assert HANDSET_LABELS[oid] in s["conversations"][0]["value"]
        assert s["red_bbox"] == [[100, 100, 500, 500]]  # 64/640, 48/480, 320/640, 240/480
        seen.add((oid, ref))
    # the desk (frame 10 only) is never asked: it appears in no other frame
    assert all(oid != 6 for oid, _ in seen)


def test_appearance_order_by_first_frame(handset_index):
    task = create_task("appearance_order")
    samples, stats = task.generate(handset_index, 10, seed=5)
    assert len(samples) == 10
    first = {o: next(f for f, ids in enumerate(HANDSET_VIS) if o in ids) for o in HANDSET_LABELS}
    for s in samples:
        ids = s["meta"]["object_ids"]
        expected = [HANDSET_LABELS[o] for o in sorted(ids, key=first.__getitem__)]
        answer = s["conversations"][1]["value"]
        if s["meta"]["format"] == "fill":
            assert answer == ", ".join(expected)
        else:
            pos = [
                answer.index(f"the {lab} (frame {first[o] + 1})")
                for lab, o in zip(expected, sorted(ids, key=first.__getitem__), strict=True)
            ]
            assert pos == sorted(pos)
        for o in ids:
            assert HANDSET_LABELS[o] in s["conversations"][0]["value"]


def test_appearance_order_skips_ties(handset_index):
    samples, stats = create_task("appearance_order", {"n_objects": 2}).generate(
        handset_index, 30, seed=1
    )
    assert stats.rejected["same_first_frame"] >= 1  # the tv / bed pair
    assert all(set(s["meta"]["object_ids"]) != {4, 5} for s in samples)


def test_appearance_order_on_a_subsampled_video(handset_index):
    # 5 of 10 keyframes: 0, 2, 4, 7, 9 -> table first (frame 1), sofa (2), bed (4), desk (5)
    task = create_task("appearance_order", {"max_frames": 5, "n_objects": 2})
    samples, _ = task.generate(handset_index, 12, seed=2)
    assert samples
    position = {1: 1, 2: 2, 5: 4, 6: 5}
    for s in samples:
        assert s["meta"]["image_indices"] == [0, 2, 4, 7, 9]
        ids = s["meta"]["object_ids"]
        assert set(ids) <= set(position)  # lamp and tv are in no kept frame
        expected = [HANDSET_LABELS[o] for o in sorted(ids, key=position.__getitem__)]
        answer = s["conversations"][1]["value"]
        if s["meta"]["format"] == "fill":
            assert answer == ", ".join(expected)
        else:
            for o in ids:
                assert f"the {HANDSET_LABELS[o]} (frame {position[o]})" in answer
