"""A preprocessed (mmdetection3d) scene through `spar3d index` and `spar3d generate` as a user
runs them: relative paths from several folders, protocol-2 infos, markers on hidden objects,
catch-all labels, loader options, missing depth, task parameters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from preprocessed_fixture import H, W, write_preprocessed_scene  # noqa: E402

from spar3d.index.records import load_index  # noqa: E402


def spar3d(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI; stdout and stderr come back with rich's line wrapping undone."""
    env = {**os.environ, "COLUMNS": "300"}
    r = subprocess.run(
        [sys.executable, "-m", "spar3d", *args], cwd=cwd, capture_output=True, text=True, env=env
    )
    r.stdout, r.stderr = " ".join(r.stdout.split()), " ".join(r.stderr.split())
    return r


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``tmp/scannet/scannet_instance_data/scene0000_00_*`` + infos + posed_images."""
    write_preprocessed_scene(tmp_path / "scannet" / "scannet_instance_data")
    (tmp_path / "elsewhere").mkdir()
    return tmp_path


# -- paths ---------------------------------------------------------------------------------------

FORMS = {
    "parent": ("scannet/scannet_instance_data/scene0000_00_vert.npy", "."),
    "sibling": ("../scannet/scannet_instance_data/scene0000_00", "elsewhere"),
    "own folder": ("scene0000_00_vert.npy", "scannet/scannet_instance_data"),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_index_and_generate_from_any_folder(tree: Path, form: str) -> None:
    arg, cwd = FORMS[form]
    r = spar3d("index", arg, cwd=tree / cwd)
    assert r.returncode == 0, r.stdout + r.stderr
    index_file = tree / "scannet" / "scannet_instance_data" / "scene0000_00" / "spar3d_index.json"
    raw = json.loads(index_file.read_text())
    for im in raw["images"]:  # relative to the index file's folder, never to the cwd
        assert not Path(im["color_path"]).is_absolute()
        assert (index_file.parent / im["color_path"]).resolve().is_file(), im["color_path"]
    assert raw["label_set"] == "nyu40"
    # generate from every folder, with every path form index accepts
    for gen_arg, gen_cwd in FORMS.values():
        out = tree / "out"
        g = spar3d("generate", gen_arg, "--out", str(out), "--tasks", "distance_prediction_oc",
                   "--per-task", "3", cwd=tree / gen_cwd)  # fmt: skip
        assert g.returncode == 0, (gen_arg, gen_cwd, g.stdout + g.stderr)
        assert list((out / "scannet" / "images" / "scene0000_00" / "image_color").glob("*.jpg"))


def test_a_file_where_an_index_is_expected_is_named(tree: Path) -> None:
    bogus = tree / "elsewhere" / "notes.bin"
    bogus.write_bytes(b"\xff\xfe\x00binary")
    r = spar3d("generate", str(bogus), "--out", str(tree / "o"), cwd=tree)
    assert "Traceback" not in r.stdout + r.stderr and "UnicodeDecodeError" not in r.stdout
    assert "notes.bin: not a scene index" in r.stdout + r.stderr
    fake = tree / "elsewhere" / "spar3d_index.json"
    fake.write_bytes(b"\xff\xfe\x00binary")
    r = spar3d("generate", str(fake), "--out", str(tree / "o"), cwd=tree)
    assert "not a scene index (not UTF-8" in r.stdout + r.stderr


# -- markers and labels on the real layout ------------------------------------------------------


def test_hidden_centre_marker_moves_onto_the_visible_table(tree: Path) -> None:
    """Camera 0 looks at the table's centre through the chair: the marker moves to the table."""
    from spar3d.index.run import index_scene_dir

    stem = tree / "scannet" / "scannet_instance_data" / "scene0000_00"
    outcome = index_scene_dir(Path(str(stem) + "_vert.npy"))
    index = outcome.index
    assert index is not None
    im0 = next(im for im in index.images if im.frame_id == "00000")
    table = next(v for v in im0.visible if v.object_id == 1)
    # independent check: the ray through the projected centre meets the chair box first
    K, T = im0.K, im0.T_world_cam
    d = np.linalg.inv(K) @ np.array([*table.center_uv, 1.0])
    ray = T[:3, :3] @ d
    eye = T[:3, 3]
    t_chair = _ray_box(eye, ray, (2.0, 1.6, 0.3), (0.5, 0.5, 0.6))
    t_table = _ray_box(eye, ray, (2.0, 2.6, 0.4), (1.2, 0.8, 0.8))
    assert t_chair is not None and t_table is not None and t_chair < t_table
    assert table.marker_uv is not None and table.marker_uv != table.center_uv
    d2 = np.linalg.inv(K) @ np.array([*table.marker_uv, 1.0])
    t2_table = _ray_box(eye, T[:3, :3] @ d2, (2.0, 2.6, 0.4), (1.2, 0.8, 0.8))
    t2_chair = _ray_box(eye, T[:3, :3] @ d2, (2.0, 1.6, 0.3), (0.5, 0.5, 0.6))
    assert t2_table is not None and (t2_chair is None or t2_table < t2_chair)
    # the catch-all box is indexed (it is noticeable) but never a question subject
    from spar3d.tasks import SceneView

    view = SceneView(index)
    labels = {o.object_id: o.label for o in index.objects}
    assert labels[3] == "otherprop"
    assert any(3 in im.noticeable for im in index.images)
    assert all(3 not in view.visible_ids(i) for i in range(len(index.images)))


def _ray_box(eye: np.ndarray, d: np.ndarray, c: tuple, s: tuple) -> float | None:
    """Slab test: entry distance of the ray into the axis-aligned box, None on a miss."""
    lo, hi = np.asarray(c) - np.asarray(s) / 2, np.asarray(c) + np.asarray(s) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (lo - eye) / d, (hi - eye) / d
    tmin, tmax = np.nanmax(np.minimum(t1, t2)), np.nanmin(np.maximum(t1, t2))
    return float(tmin) if tmax >= max(tmin, 0) else None


def test_loader_opt_and_catch_all_options(tree: Path) -> None:
    data = tree / "scannet" / "scannet_instance_data"
    infos = tree / "scannet" / "scannet_infos_train.pkl"
    moved = tree / "elsewhere" / "my_infos.pkl"
    infos.rename(moved)
    r = spar3d("index", "scene0000_00_vert.npy", "--loader-opt", f"infos={moved}",
               "--loader-opt", f"image_root={tree / 'scannet'}", "--catch-all", "otherprop,chair",
               cwd=data)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    ix = load_index(data / "scene0000_00")
    assert ix.params["catch_all_labels"] == ["otherprop", "chair"]
    assert all(im.color_path for im in ix.images)
    bad = spar3d("index", "scene0000_00_vert.npy", "--loader-opt", "colour=red", cwd=data)
    assert bad.returncode != 0 and "Traceback" not in bad.stdout + bad.stderr
    assert "--loader-opt 'colour=red': unknown option 'colour'" in bad.stdout + bad.stderr


def test_scannet200_labels_from_the_tsv(tree: Path) -> None:
    from spar3d.scenes.loaders import load_scene

    data = tree / "scannet" / "scannet_instance_data"
    sem = np.load(data / "scene0000_00_sem_label.npy")
    ids = {7: 7, 5: 2, 40: 41, 2: 2}  # NYU40 ids of the fixture -> ScanNet label ids
    np.save(data / "scene0000_00_sem_label.npy", np.vectorize(ids.get)(sem).astype(np.uint32))
    (tree / "scannet" / "scannetv2-labels.combined.tsv").write_text(
        "id\traw_category\tcategory\tcount\tnyu40id\tnyu40class\n"
        "2\tchair\tchair\t1\t5\tchair\n7\ttable\tdining table\t1\t7\ttable\n"
        "41\tstuffed animal\tstuffed animal\t1\t40\totherprop\n"
    )
    scene = load_scene(data / "scene0000_00", sem_labels="scannet200", infos=False)
    assert scene.label_set == "scannet200"
    assert sorted(o.label for o in scene.objects) == ["chair", "dining table", "stuffed animal"]


# -- generate options ------------------------------------------------------------------------


def test_rgbd_with_missing_depth_writes_what_exists(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))
    from room_factory import write_scene_dir

    scene = write_scene_dir(tmp_path / "scans")
    depth = sorted((scene / "depth").glob("*.png"))
    depth[0].unlink()
    r = spar3d("generate", str(scene), "--out", str(tmp_path / "out"), "--rgbd",
               "--tasks", "depth_prediction_oc,distance_prediction_oc", "--per-task", "20",
               cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert (r.stdout + r.stderr).count("have no depth image") == 1
    rows = [json.loads(x) for f in (tmp_path / "out").rglob("*.jsonl") for x in f.open()]
    gone = depth[0].stem
    nulls = [s for s in rows if None in s["depth"]]
    assert nulls and all(p.endswith(f"/{gone}.jpg") for s in nulls
                         for p, d in zip(s["image"], s["depth"], strict=True) if d is None)  # fmt: skip
    for s in rows:
        for d in s["depth"]:
            if d is not None:
                assert (tmp_path / "out" / "toy" / "images" / d).is_file(), d


def test_task_param_is_typed_recorded_and_fingerprinted(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))
    from room_factory import write_scene_dir

    from spar3d.generate import generate

    scene = write_scene_dir(tmp_path / "scans")
    out = tmp_path / "out"
    base = ["generate", str(scene), "--out", str(out), "--tasks", "distance_prediction_oo",
            "--per-task", "6", "--keep-work"]  # fmt: skip
    r = spar3d(*base, "--task-param", "distance_prediction_oo.min_distance_m=1.5", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = [json.loads(x) for f in out.rglob("*.jsonl") if ".spar3d_work" not in str(f)
            for x in f.open()]  # fmt: skip
    assert rows and all(s["meta"]["task_params"] == {"min_distance_m": 1.5} for s in rows)
    assert all(s["meta"]["quantities"]["distance_m"] >= 1.5 for s in rows)
    # a rerun with another value must not reuse the shard
    summary = generate([scene], out, tasks="distance_prediction_oo", per_task=6, keep_work=True,
                       task_params={"distance_prediction_oo": {"min_distance_m": 0.3}})  # fmt: skip
    assert summary.scenes_resumed == []
    again = generate([scene], out, tasks="distance_prediction_oo", per_task=6, keep_work=True,
                     task_params={"distance_prediction_oo": {"min_distance_m": 0.3}})  # fmt: skip
    assert again.scenes_resumed == [summary.scenes_ok[0]]
    for bad, msg in [
        ("distance_prediction_oo.min_distance_m=far", "is a number"),
        ("distance_prediction_oo.radius=2", "has no parameter 'radius'"),
        ("depth_prediction_oc.min_depth_gap_m=1", "not among --tasks"),
        ("nonsense", "expected task.key=value"),
    ]:
        r = spar3d(*base, "--task-param", bad, cwd=tmp_path)
        assert r.returncode == 2 and msg in r.stdout + r.stderr, (bad, r.stdout + r.stderr)
        assert "Traceback" not in r.stdout + r.stderr


def test_rxr_guide_option_enters_the_fingerprint(tmp_path: Path) -> None:
    from spar3d.generate import settings_digest
    from spar3d.tasks import create_task

    guide = tmp_path / "rxr_val_guide.jsonl"
    guide.write_text("")
    t = create_task("nav_video")
    plain = settings_digest([t], 5, 0, False, True)
    t.guide_paths = [guide]  # type: ignore[attr-defined]
    with_guide = settings_digest([t], 5, 0, False, True)
    guide.write_text('{"x": 1}\n')
    changed = settings_digest([t], 5, 0, False, True)
    assert len({plain, with_guide, changed}) == 3


def test_zero_sample_tasks_say_why(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))
    from room_factory import write_scene_dir

    from spar3d.generate import generate

    scene = write_scene_dir(tmp_path / "scans")
    summary = generate([scene], tmp_path / "out", tasks="obj_count,distance_prediction_oc",
                       per_task=3, task_params={"obj_count": {"min_frames": 500}})  # fmt: skip
    assert summary.tasks["distance_prediction_oc"].total == 3
    assert summary.zero_samples == {"obj_count": {"too few frames for a video": 1}}
    assert "0 samples" in str(summary.table().columns[-1].header)


def test_bench_build_names_a_missing_split(tmp_path: Path) -> None:
    (tmp_path / "spar" / "scannet" / "qa_jsonl" / "train").mkdir(parents=True)
    r = spar3d("bench", "build", str(tmp_path / "spar"), "--out", str(tmp_path / "b"),
               cwd=tmp_path)  # fmt: skip
    assert r.returncode != 0 and "Traceback" not in r.stdout + r.stderr
    assert "has no split 'val'; splits present: train" in r.stdout + r.stderr


def test_images_exist_in_fixture(tree: Path) -> None:
    with Image.open(tree / "scannet" / "posed_images" / "scene0000_00" / "00000.jpg") as im:
        assert im.size == (W, H)
