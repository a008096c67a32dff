"""Streaming generate(): per-scene shards, assembly in scene order, and resume after a failure."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest

import spar3d.generate as gen
from spar3d.generate import WORK_DIR, generate
from spar3d.index import load_index
from spar3d.tasks import create_task, task_names
from spar3d.writers.spar7m import assemble_qa_files, write_qa_files, write_scene_shard

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))
from room_factory import write_scene_dir  # noqa: E402

TASKS = "depth_prediction_oc,distance_prediction_oo,obj_spatial_relation_oo,spatial_volume_infer"
TASKS3 = TASKS.rsplit(",", 1)[0]  # without spatial_volume_infer


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and WORK_DIR not in p.parts
    }


@pytest.fixture
def scenes(tmp_path: Path) -> list[Path]:
    return [write_scene_dir(tmp_path / f"s{i}", f"room{i:04d}_00") for i in range(3)]


@pytest.fixture
def generated_scenes(monkeypatch) -> list[str]:
    """Scene ids that generate_scene actually ran on (in this process; workers=1)."""
    seen: list[str] = []
    real = gen.generate_scene

    def spy(index, *args, **kwargs):
        seen.append(index.scene_id)
        return real(index, *args, **kwargs)

    monkeypatch.setattr(gen, "generate_scene", spy)
    return seen


@pytest.mark.parametrize(("rgbd", "keep_meta"), [(False, True), (True, False)])
def test_streamed_files_equal_the_in_memory_writer(tmp_path, scenes, rgbd, keep_meta):
    out, ref = tmp_path / "out", tmp_path / "ref"
    summary = generate(scenes, out, tasks=TASKS, per_task=7, seed=2, rgbd=rgbd, keep_meta=keep_meta)
    tasks = [create_task(n) for n in task_names(TASKS)]
    samples = [s for d in scenes for s in gen.generate_scene(load_index(d), tasks, 7, 2)[0]]
    expected = write_qa_files(ref, "toy", "train", samples, rgbd=rgbd, keep_meta=keep_meta)
    assert [p.relative_to(out) for p in summary.files] == [p.relative_to(ref) for p in expected]
    for got, want in zip(summary.files, expected, strict=True):
        assert got.read_bytes() == want.read_bytes()
    assert not (out / WORK_DIR).exists()  # removed after a run where every scene succeeded


def test_shard_groups_are_byte_ranges(tmp_path):
    rows = [
        {"id": "a_0", "type": "t2", "meta": {"format": "fill"}},
        {"id": "a_1", "type": "t1", "meta": {"format": "select"}},
        {"id": "a_2", "type": "t2", "meta": {"format": "fill"}},
    ]
    toc = write_scene_shard(tmp_path / "a.jsonl", rows, keep_meta=False)
    line1 = b'{"id": "a_1", "type": "t1"}\n'
    line0, line2 = b'{"id": "a_0", "type": "t2"}\n', b'{"id": "a_2", "type": "t2"}\n'
    assert (tmp_path / "a.jsonl").read_bytes() == line1 + line0 + line2
    assert toc == {"t1/select": [0, len(line1), 1], "t2/fill": [len(line1), 2 * len(line0), 2]}
    toc_b = write_scene_shard(tmp_path / "b.jsonl", [{**rows[0], "id": "b_0"}], keep_meta=False)
    shards = [(tmp_path / "a.jsonl", toc), (tmp_path / "b.jsonl", toc_b)]
    paths = assemble_qa_files(tmp_path / "o", "src", "val", shards)
    rel = [str(p.relative_to(tmp_path / "o")) for p in paths]
    assert rel == [
        "src/qa_jsonl/val/t1/select/select_1.jsonl",
        "src/qa_jsonl/val/t2/fill/fill_3.jsonl",
    ]
    assert paths[1].read_bytes() == line0 + line2 + b'{"id": "b_0", "type": "t2"}\n'
    (tmp_path / "b.jsonl").write_bytes(b"{}")  # shorter than its table of contents
    with pytest.raises(ValueError, match="b.jsonl: shard truncated"):
        assemble_qa_files(tmp_path / "o", "src", "val", shards)


def test_failed_scene_is_the_only_one_regenerated_on_rerun(tmp_path, scenes, generated_scenes):
    ref = tmp_path / "ref"
    full = generate(scenes, ref, tasks=TASKS, per_task=6, seed=4)
    generated_scenes.clear()
    index_file = scenes[1] / "spar3d_index.json"
    good = index_file.read_bytes()
    index_file.write_text("{ broken", encoding="utf-8")  # the 2nd scene dies the first time

    out = tmp_path / "out"
    first = generate(scenes, out, tasks=TASKS, per_task=6, seed=4)
    assert list(first.scenes_failed) == [str(scenes[1])]
    assert generated_scenes == ["room0000_00", "room0002_00"]
    assert (out / WORK_DIR / "train").is_dir()  # kept so that the rerun resumes

    generated_scenes.clear()
    index_file.write_bytes(good)
    second = generate(scenes, out, tasks=TASKS, per_task=6, seed=4)
    assert generated_scenes == ["room0001_00"]
    assert second.scenes_resumed == ["room0000_00", "room0002_00"]
    assert second.scenes_ok == ["room0000_00", "room0001_00", "room0002_00"]
    # stats of resumed scenes come from their markers: the same totals as the full run
    assert second.to_dict()["tasks"] == full.to_dict()["tasks"]
    assert _tree(out) == _tree(ref)
    assert not (out / WORK_DIR).exists()


def test_resume_needs_same_settings_index_and_marker(tmp_path, scenes, generated_scenes):
    out = tmp_path / "out"
    generate(scenes, out, tasks=TASKS, per_task=5, seed=1, keep_work=True)
    assert len(generated_scenes) == 3
    generated_scenes.clear()
    again = generate(scenes, out, tasks=TASKS, per_task=5, seed=1, keep_work=True)
    assert generated_scenes == [] and len(again.scenes_resumed) == 3

    # a scene killed between its shard and its marker has no marker: regenerated
    markers = sorted((out / WORK_DIR / "train").glob("*.done.json"))
    assert len(markers) == 3
    markers[0].unlink()
    generate(scenes, out, tasks=TASKS, per_task=5, seed=1, keep_work=True)
    assert len(generated_scenes) == 1
    generated_scenes.clear()

    # a changed index file invalidates that scene only
    index_file = scenes[2] / "spar3d_index.json"
    index_file.write_bytes(index_file.read_bytes() + b"\n")
    generate(scenes, out, tasks=TASKS, per_task=5, seed=1, keep_work=True)
    assert generated_scenes == ["room0002_00"]
    generated_scenes.clear()

    # so does a scene whose copied images were deleted from the output
    shutil.rmtree(out / "toy" / "images" / "room0001_00")
    generate(scenes, out, tasks=TASKS, per_task=5, seed=1, keep_work=True)
    assert generated_scenes == ["room0001_00"]
    assert (out / "toy" / "images" / "room0001_00" / "video_idx.txt").is_file()
    generated_scenes.clear()

    # other settings regenerate every scene, and match a fresh run with those settings
    for kwargs in ({"seed": 2}, {"per_task": 4}, {"keep_meta": False}, {"tasks": TASKS3}):
        args = {"tasks": TASKS, "per_task": 5, "seed": 1, **kwargs}
        generate(scenes, out, keep_work=True, **args)
        assert len(generated_scenes) == 3, kwargs
        generated_scenes.clear()
    generate(scenes, out, tasks=TASKS3, per_task=5, seed=1)
    fresh = tmp_path / "fresh"
    generate(scenes, fresh, tasks=TASKS3, per_task=5, seed=1)
    # the rerun folder also holds spatial_volume_infer files and images of the earlier runs
    qa = {k: v for k, v in _tree(out).items() if "qa_jsonl" in k and "spatial_volume" not in k}
    assert qa == {k: v for k, v in _tree(fresh).items() if "qa_jsonl" in k}


def test_resumed_parallel_run_matches_serial(tmp_path, scenes):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(scenes, a, tasks=TASKS, per_task=4, seed=9)
    generate(scenes[:2], b, tasks=TASKS, per_task=4, seed=9, workers=2, keep_work=True)
    summary = generate(scenes, b, tasks=TASKS, per_task=4, seed=9, workers=2)
    assert summary.scenes_resumed == ["room0000_00", "room0001_00"]
    assert _tree(a) == _tree(b)


def test_cli_keep_work_and_resume(tmp_path, scenes):
    from typer.testing import CliRunner

    from spar3d.cli.main import app

    args = ["generate", *map(str, scenes), "--out", str(tmp_path / "o"), "--tasks", TASKS]
    runner = CliRunner()
    res = runner.invoke(app, [*args, "--per-task", "3", "--keep-work"])
    assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "o" / WORK_DIR / "train").glob("*.done.json"))) == 3
    res = runner.invoke(app, [*args, "--per-task", "3"])
    assert res.exit_code == 0 and "3 scene(s) reused" in res.output
    assert not (tmp_path / "o" / WORK_DIR).exists()


def test_executor_ray_missing_or_unknown(tmp_path, scenes, monkeypatch, capsys):
    from spar3d.cli.main import run
    from spar3d.errors import ConfigError, MissingDependencyError

    with pytest.raises(ConfigError, match="executor must be one of"):
        generate(scenes, tmp_path / "o", tasks=TASKS, executor="dask")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    with pytest.raises(MissingDependencyError, match=r"spar3d\[ray\]"):
        generate(scenes, tmp_path / "o", tasks=TASKS, executor="ray")
    args = ["generate", str(scenes[0]), "--out", str(tmp_path / "o"), "--executor", "ray"]
    assert run(args) == 2
    assert "ray" in capsys.readouterr().err


def test_executor_ray_writes_the_same_tree(tmp_path, scenes):
    pytest.importorskip("ray")
    a, b = tmp_path / "a", tmp_path / "b"
    generate(scenes, a, tasks=TASKS, per_task=4, seed=6)
    summary = generate(scenes, b, tasks=TASKS, per_task=4, seed=6, workers=2, executor="ray")
    assert summary.scenes_ok == ["room0000_00", "room0001_00", "room0002_00"]
    assert _tree(a) == _tree(b)
