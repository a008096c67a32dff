"""SPAR-7M layout writer and the generate() entry point, on a scene folder written to disk."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from spar3d.cli.main import app
from spar3d.generate import generate
from spar3d.io import read_jsonl
from spar3d.tasks.schema import validate_sample

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))
from room_factory import write_scene_dir  # noqa: E402

# the single-view tasks (other task families have their own tests)
SV = ",".join([
    "depth_prediction_oc", "depth_prediction_oo", "distance_prediction_oc", "distance_prediction_oo",
    "distance_infer_center_oc", "distance_infer_center_oo", "obj_spatial_relation_oo",
    "spatial_imagination_oc", "spatial_imagination_oo", "spatial_volume_infer",
])  # fmt: skip


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_layout_counts_and_images(tmp_path):
    scene = write_scene_dir(tmp_path / "scenes")
    out = tmp_path / "out"
    summary = generate([scene], out, split="val", tasks=SV, per_task=6, seed=3)
    assert summary.scenes_ok == ["room0000_00"] and not summary.scenes_failed
    assert summary.files
    total = 0
    for path in summary.files:
        rel = path.relative_to(out)
        source, qa, split, task, fmt, name = rel.parts
        assert (source, qa, split) == ("toy", "qa_jsonl", "val")
        rows = list(read_jsonl(path))
        assert name == f"{fmt}_{len(rows)}.jsonl"
        total += len(rows)
        for r in rows:
            assert r["type"] == task and r["meta"]["format"] == fmt
            assert validate_sample(r) == []
            for img in r["image"]:
                assert (out / "toy" / "images" / img).is_file()
    assert total == summary.total
    # copied, not re-encoded: bytes identical to the scene's colour image
    copied = sorted((out / "toy" / "images" / "room0000_00" / "image_color").glob("*.jpg"))
    assert copied
    for dst in copied:
        assert dst.read_bytes() == (scene / "color" / dst.name).read_bytes()
    idx = (out / "toy" / "images" / "room0000_00" / "video_idx.txt").read_text().split()
    assert idx == ["0", "10", "20", "30", "40", "50"]


def test_byte_identical_reruns(tmp_path):
    scene = write_scene_dir(tmp_path / "scenes")
    a, b = tmp_path / "a", tmp_path / "b"
    generate([scene], a, tasks=SV, per_task=6, seed=11, rgbd=True)
    generate([scene], b, tasks=SV, per_task=6, seed=11, rgbd=True)
    assert _tree_digest(a) == _tree_digest(b)
    # a rerun into the same folder replaces files rather than adding stale counts
    generate([scene], a, tasks=SV, per_task=3, seed=11, rgbd=True)
    for d in (a / "toy" / "qa_jsonl" / "train").glob("*/*"):
        assert len(list(d.glob("*.jsonl"))) == 1


def test_rgbd_files(tmp_path):
    scene = write_scene_dir(tmp_path / "scenes")
    out = tmp_path / "out"
    summary = generate([scene], out, tasks="depth_prediction_oc", per_task=6, seed=0, rgbd=True)
    row = next(read_jsonl(summary.files[0]))
    assert list(row)[:5] == ["id", "conversations", "image", "type", "depth"]
    frame = row["meta"]["frames"][0]
    assert row["depth"] == [f"room0000_00/image_depth/{frame}.png"]
    base = out / "toy" / "images" / "room0000_00"
    assert (base / "image_depth" / f"{frame}.png").read_bytes() == (
        scene / "depth" / f"{frame}.png"
    ).read_bytes()
    pose = np.loadtxt(base / "pose" / f"{frame}.txt")
    index = json.loads((scene / "spar3d_index.json").read_text())
    T = next(im["T_world_cam"] for im in index["images"] if im["frame_id"] == frame)
    assert np.allclose(pose, T, atol=1e-7)
    K4 = np.loadtxt(base / "intrinsic" / "intrinsic_color.txt")
    assert np.allclose(K4[:3, :3], [[500, 0, 319.5], [0, 500, 239.5], [0, 0, 1]]) and K4[3, 3] == 1


def test_broken_scene_does_not_stop_others(tmp_path):
    good = write_scene_dir(tmp_path / "s1", "room0001_00")
    bad_missing_image = write_scene_dir(tmp_path / "s2", "room0002_00")
    shutil.rmtree(bad_missing_image / "color")
    no_index = tmp_path / "empty"
    no_index.mkdir()
    summary = generate([bad_missing_image, no_index, good], tmp_path / "out", tasks=SV, per_task=4)
    assert summary.scenes_ok == ["room0001_00"]
    assert set(summary.scenes_failed) == {str(bad_missing_image), str(no_index)}
    assert "missing" in summary.scenes_failed[str(bad_missing_image)]
    for path in summary.files:
        assert all(r["meta"]["scene"] == "room0001_00" for r in read_jsonl(path))


def test_cli_generate_and_tasks(tmp_path):
    scene = write_scene_dir(tmp_path / "scenes")
    runner = CliRunner()
    res = runner.invoke(
        app,
        ["generate", str(scene), "--out", str(tmp_path / "o"), "--per-task", "3", "--tasks", SV],
    )
    assert res.exit_code == 0, res.output
    assert "QA from 1 scene" in res.output
    res = runner.invoke(app, ["tasks", "--markdown"])
    assert res.exit_code == 0 and "| `depth_prediction_oc` |" in res.output
    res = runner.invoke(app, ["generate", str(tmp_path / "nope"), "--out", str(tmp_path / "o2")])
    assert res.exit_code == 1


def test_video_frames_go_to_video_color(tmp_path):
    """Frames of video samples are written under video_color/ and listed in video_idx.txt."""
    from spar3d.index import load_index
    from spar3d.writers.spar7m import frames_used, write_scene_images

    scene = write_scene_dir(tmp_path / "scenes")
    index = load_index(scene)
    ids = [im.frame_id for im in index.images]
    samples = [
        {"image": [f"{index.scene_id}/image_color/{ids[0]}.jpg"]},
        {"image": [f"{index.scene_id}/video_color/{f}.jpg" for f in ids[1:3]]},
    ]
    used = frames_used(samples, index.scene_id)
    assert used == {"image_color": {ids[0]}, "video_color": set(ids[1:3])}
    write_scene_images(tmp_path / "out", index, used, rgbd=True)
    base = tmp_path / "out" / index.source / "images" / index.scene_id
    assert sorted(p.stem for p in (base / "video_color").glob("*.jpg")) == sorted(ids[1:3])
    assert sorted(p.stem for p in (base / "video_depth").glob("*.png")) == sorted(ids[1:3])
    assert [p.stem for p in (base / "image_color").glob("*.jpg")] == [ids[0]]
    assert (base / "video_idx.txt").read_text().split() == ids[1:3]
    assert sorted(p.stem for p in (base / "pose").glob("*.txt")) == sorted(ids[:3])


def test_parallel_generation_writes_the_same_tree(tmp_path):
    scene = write_scene_dir(tmp_path / "scenes")
    a, b = tmp_path / "a", tmp_path / "b"
    generate([scene, scene], a, tasks=SV, per_task=4, seed=5)
    generate([scene, scene], b, tasks=SV, per_task=4, seed=5, workers=2)
    assert _tree_digest(a) == _tree_digest(b)
