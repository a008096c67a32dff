"""nav_video on a Matterport3D-like scan with a tiny hand-written RxR guide file."""

from __future__ import annotations

import pytest
from video_factory import MP3D_SCAN, RXR_LINES, make_mp3d_index, write_rxr

from spar3d.tasks import SceneView, create_task
from spar3d.tasks.video.nav import ENV_GUIDE, load_rxr_guide

INSTRUCTION = RXR_LINES[0]["instruction"]
# the action words of the instruction, by token index (written out by hand)
ACTIONS = {1: "forward", 6: "turn", 7: "left", 9: "stop"}


def test_skipped_without_guide(monkeypatch):
    monkeypatch.delenv(ENV_GUIDE, raising=False)
    task = create_task("nav_video")
    samples, stats = task.generate(make_mp3d_index(), 3, seed=0)
    assert samples == [] and stats.rejected["skipped_no_rxr_guide"] == 1
    assert ENV_GUIDE in task.unavailable(SceneView(make_mp3d_index()))


def test_skipped_for_other_scans(monkeypatch, tmp_path, video_room):
    monkeypatch.setenv(ENV_GUIDE, str(write_rxr(tmp_path / "rxr_val_seen_guide.jsonl")))
    samples, stats = create_task("nav_video").generate(video_room, 3, seed=0)
    assert samples == [] and stats.rejected["skipped_no_rxr_instructions_for_scan"] == 1


@pytest.mark.parametrize("name", ["rxr_val_seen_guide.jsonl", "rxr_val_seen_guide.jsonl.gz"])
def test_masked_words_and_path_frames(monkeypatch, tmp_path, name):
    monkeypatch.setenv(ENV_GUIDE, str(write_rxr(tmp_path / name)))
    index = make_mp3d_index()
    samples, stats = create_task("nav_video").generate(index, 6, seed=3)
    assert len(samples) == 6
    for s in samples:
        # frames: vpA facing +x (toward vpB), vpB facing +y (toward vpC), vpC facing +y (last step)
        assert s["meta"]["frames"] == ["vpA_i1_0", "vpB_i1_1", "vpC_i1_1"]
        assert all("/video_color/" in p for p in s["image"])
        q = s["conversations"][0]["value"]
        masked = q[q.index('"') + 1 : q.rindex('"')].split()
        original = INSTRUCTION.split()
        blanks = [i for i, tok in enumerate(masked) if "___" in tok]
        assert 1 <= len(blanks) <= 3 and set(blanks) <= set(ACTIONS)
        for i, tok in enumerate(masked):
            if i not in blanks:
                assert tok == original[i]
        expected = ", ".join(ACTIONS[i] for i in blanks)
        assert expected in s["conversations"][1]["value"]
        assert s["meta"]["quantities"]["instruction_id"] == 7  # hi-IN (8) is never used


def test_missing_viewpoint_frames_rejected(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_GUIDE, str(write_rxr(tmp_path / "g.jsonl")))
    index = make_mp3d_index({"vpA": (0.0, 0.0), "vpB": (3.0, 0.0)})  # vpC has no frames
    samples, stats = create_task("nav_video").generate(index, 2, seed=0)
    assert samples == [] and stats.rejected["path_frames_missing"] >= 1


def test_load_rxr_guide_errors(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text(
        '{"instruction_id": 1, "scan": "s", "path": ["a", "b"], "language": "en-US", '
        '"instruction": "go"}\n{"instruction_id": 2, "scan": "s"}\n'
    )
    with pytest.raises(ValueError, match=r"bad.jsonl line 2: missing field"):
        load_rxr_guide(p)
    p.write_text("not json\n")
    with pytest.raises(ValueError, match=r"line 1: not JSON"):
        load_rxr_guide(p)
    with pytest.raises(FileNotFoundError):
        load_rxr_guide(tmp_path / "nope.jsonl")
    assert MP3D_SCAN in {r.scan for r in load_rxr_guide(write_rxr(tmp_path / "ok.jsonl"))}
