"""Preprocessed ScanNet loader on hand-written .npy arrays and infos pickles.

Three variants of the same tiny scene:

* VoteNet: ``_vert.npy`` already aligned, ``_bbox.npy``, an mmdet3d-v1 infos list;
* mmdet3d: raw ``_vert.npy`` + ``_axis_align_matrix.npy`` + ``_aligned_bbox.npy``, a v2
  ``{"metainfo", "data_list"}`` infos dict with NeRF-Det keys;
* EmbodiedScan: ``images`` list with ``cam2global``/``depth_path``.

A is the 90-degree turn about +z plus (1, 2, 0.5): raw (x, y, z) -> (1 - y, x + 2, z + 0.5).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spar3d.errors import UnsafeInputError
from spar3d.scenes.loaders import SceneLoadError, load_scene

A = np.array([[0, -1, 0, 1], [1, 0, 0, 2], [0, 0, 1, 0.5], [0, 0, 0, 1]], float)
K = np.array([[10.0, 0, 3.5, 0], [0, 10.0, 2.5, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
T_SHIFT = np.eye(4)
T_SHIFT[0, 3] = 1.0
T_INF = np.full((4, 4), -np.inf)

# aligned points: instance 1 = chair (NYU40 5), 2 = table (7), 3 = chair far away, 0 = none
POINTS = np.array(
    [
        [0, 0, 0, 255, 0, 0],
        [1, 2, 1, 255, 0, 0],
        [0.5, 1, 0.5, 250, 0, 0],
        [3, 0, 0, 0, 255, 0],
        [4, 1, 0.5, 0, 255, 0],
        [10, 10, 0, 0, 0, 255],
        [11, 10, 1, 0, 0, 255],
        [50, 50, 50, 9, 9, 9],
    ],
    float,
)
INS = np.array([1, 1, 1, 2, 2, 3, 3, 0])
SEM = np.array([5, 5, 3, 7, 7, 5, 5, 0])  # one stray "cabinet" point: the majority decides
BOXES = np.array(
    [
        [3.5, 0.5, 0.25, 1.2, 1.2, 0.6, 7],  # table, a little larger than its points
        [0.5, 1.0, 0.5, 1.0, 1.0, 1.0, 7],  # a table box on chair 1: wrong class, unmatched
        [0.5, 1.0, 0.5, 1.1, 2.1, 1.1, 5],  # chair 1
        [100, 100, 0, 1, 1, 1, 5],  # a chair nowhere near chair 3
        [0, 0, 0, 0, 0, 0, 0],  # an instance without points at export time
    ]
)


def _raw(points_aligned: np.ndarray) -> np.ndarray:
    """Inverse of A applied to xyz (for writing mmdet3d's raw points)."""
    out = points_aligned.copy()
    h = np.c_[points_aligned[:, :3], np.ones(len(points_aligned))]
    out[:, :3] = (np.linalg.inv(A) @ h.T).T[:, :3]
    return out


def _save_arrays(folder: Path, sid: str, vert: np.ndarray, **extra: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / f"{sid}_vert.npy", vert)
    np.save(folder / f"{sid}_ins_label.npy", INS.astype(np.uint32))
    np.save(folder / f"{sid}_sem_label.npy", SEM.astype(np.uint32))
    for suffix, arr in extra.items():
        np.save(folder / f"{sid}_{suffix}.npy", arr)


def _v1_entry(sid: str) -> dict:
    paths = [f"posed_images/{sid}/{i:05d}.jpg" for i in range(3)]
    return {
        "point_cloud": {"num_features": 6, "lidar_idx": sid},
        "pts_path": f"points/{sid}.bin",
        "intrinsics": K,
        "extrinsics": [np.eye(4), T_INF, T_SHIFT],
        "img_paths": paths,
        "annos": {"gt_num": 2, "name": np.array(["chair", "table"]), "axis_align_matrix": A},
    }


@pytest.fixture
def votenet(tmp_path: Path) -> Path:
    data = tmp_path / "scannet" / "scannet_instance_data"
    _save_arrays(data, "scene0001_00", POINTS, bbox=BOXES)
    other = _v1_entry("scene0009_00")
    other["annos"]["axis_align_matrix"] = np.eye(4)
    with open(tmp_path / "scannet" / "scannet_infos_train.pkl", "wb") as fh:
        pickle.dump([other, _v1_entry("scene0001_00")], fh)
    img_dir = tmp_path / "scannet" / "posed_images" / "scene0001_00"
    img_dir.mkdir(parents=True)
    Image.new("RGB", (8, 6)).save(img_dir / "00000.jpg")
    return data / "scene0001_00_vert.npy"


def _check_objects(scene) -> None:
    assert [o.object_id for o in scene.objects] == [1, 2, 3]
    assert [o.label for o in scene.objects] == ["chair", "table", "chair"]
    chair, table, far = (scene.object_by_id(i).box for i in (1, 2, 3))
    np.testing.assert_allclose(chair.center, [0.5, 1.0, 0.5])
    np.testing.assert_allclose(chair.size, [1.1, 2.1, 1.1])  # from the box file
    np.testing.assert_allclose(table.center, [3.5, 0.5, 0.25])
    np.testing.assert_allclose(table.size, [1.2, 1.2, 0.6])
    np.testing.assert_allclose(far.center, [10.5, 10.0, 0.5])  # no box: AABB of its points
    np.testing.assert_allclose(far.size, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(scene.object_by_id(1).vertex_ids, [0, 1, 2])


def _check_frames(scene) -> None:
    assert [f.frame_id for f in scene.frames] == ["00000", "00002"]  # the -inf pose is skipped
    np.testing.assert_allclose(scene.frames[0].T_world_cam, A)
    expected = np.array([[0, -1, 0, 1], [1, 0, 0, 3], [0, 0, 1, 0.5], [0, 0, 0, 1]], float)
    np.testing.assert_allclose(scene.frames[1].T_world_cam, expected)
    np.testing.assert_allclose(scene.frames[0].color.K, K[:3, :3])


def test_votenet_layout_round_trip(votenet: Path) -> None:
    scene = load_scene(votenet)
    assert scene.scene_id == "scene0001_00" and scene.source == "scannet"
    _check_objects(scene)
    _check_frames(scene)
    np.testing.assert_allclose(scene.T_aligned_raw, A)
    assert scene.mesh is not None and scene.mesh.is_point_cloud
    np.testing.assert_allclose(scene.mesh.vertices, POINTS[:, :3])  # already aligned
    np.testing.assert_array_equal(scene.mesh.colors[3], [0, 255, 0])
    first, second = scene.frames
    assert first.color_path is not None and first.color_path.name == "00000.jpg"
    assert (first.color.width, first.color.height) == (8, 6)
    assert second.color_path is None  # not on disk: path dropped, ScanNet default size
    assert (second.color.width, second.color.height) == (1296, 968)


def test_scene_can_be_named_by_prefix(votenet: Path) -> None:
    prefix = votenet.parent / "scene0001_00"
    assert load_scene(prefix).scene_id == "scene0001_00"


def test_load_mesh_false_and_infos_false(votenet: Path) -> None:
    scene = load_scene(votenet, load_mesh=False, infos=False)
    assert scene.mesh is None and scene.frames == []
    _check_objects(scene)


def test_mmdet3d_layout_raw_points_and_v2_infos(tmp_path: Path) -> None:
    data = tmp_path / "scannet_instance_data"
    sid = "scene0002_00"
    _save_arrays(data, sid, _raw(POINTS), aligned_bbox=BOXES, axis_align_matrix=A)
    entry = {
        "lidar_points": {"num_pts_feats": 6, "lidar_path": f"{sid}.bin"},
        "cam2img": K,
        "lidar2cam": [np.eye(4), T_INF, T_SHIFT],
        "img_paths": [f"posed_images/{sid}/{i:05d}.jpg" for i in range(3)],
        "axis_align_matrix": A.tolist(),
        "instances": [],
    }
    infos = tmp_path / "somewhere" / "my_infos_val.pkl"
    infos.parent.mkdir()
    with open(infos, "wb") as fh:
        pickle.dump({"metainfo": {"dataset": "scannet"}, "data_list": [entry]}, fh)
    scene = load_scene(data / sid, infos=infos)
    np.testing.assert_allclose(scene.mesh.vertices, POINTS[:, :3], atol=1e-12)  # raw -> aligned
    _check_objects(scene)
    _check_frames(scene)


def test_embodiedscan_images(tmp_path: Path) -> None:
    data = tmp_path / "data" / "preprocessed"
    sid = "scene0003_00"
    _save_arrays(data, sid, POINTS, bbox=BOXES)
    img = tmp_path / "data" / "scannet" / "posed_images" / sid
    img.mkdir(parents=True)
    Image.new("RGB", (8, 6)).save(img / "00010.jpg")
    Image.fromarray(np.zeros((3, 4), np.uint16)).save(img / "00010.png")
    entry = {
        "sample_idx": f"scannet/{sid}",
        "axis_align_matrix": A,
        "cam2img": K,
        "depth_cam2img": K / 2,
        "images": [
            {
                "img_path": f"scannet/posed_images/{sid}/00010.jpg",
                "depth_path": f"scannet/posed_images/{sid}/00010.png",
                "cam2global": T_SHIFT,
                "visible_instance_ids": [0],
            }
        ],
        "instances": [],
    }
    with open(tmp_path / "data" / "embodiedscan_infos_val.pkl", "wb") as fh:
        pickle.dump({"metainfo": {"categories": {"chair": 1}}, "data_list": [entry]}, fh)
    (frame,) = load_scene(data / sid).frames
    assert frame.frame_id == "00010"
    np.testing.assert_allclose(frame.camera_center, [1.0, 3.0, 0.5])
    assert frame.color_path == img / "00010.jpg" and frame.depth_path == img / "00010.png"
    assert frame.depth is not None and (frame.depth.width, frame.depth.height) == (4, 3)
    np.testing.assert_allclose(frame.depth.K, K[:3, :3] / 2)


def test_missing_files_are_named(votenet: Path) -> None:
    data = votenet.parent
    os.rename(data / "scene0001_00_sem_label.npy", data / "moved.npy")
    with pytest.raises(SceneLoadError, match="scene0001_00_sem_label.npy"):
        load_scene(votenet)
    os.rename(data / "moved.npy", data / "scene0001_00_sem_label.npy")
    np.save(data / "scene0001_00_ins_label.npy", INS[:-1])
    with pytest.raises(SceneLoadError, match=r"ins_label\.npy: 7 labels for 8 points"):
        load_scene(votenet)


def test_missing_infos_and_unknown_scene(tmp_path: Path, votenet: Path) -> None:
    lone = tmp_path / "lone"
    _save_arrays(lone, "scene0005_00", POINTS)
    with pytest.raises(SceneLoadError, match=r"no infos pickle \(\*infos\*\.pkl\)"):
        load_scene(lone / "scene0005_00")
    pkl = votenet.parent.parent / "scannet_infos_train.pkl"
    with pytest.raises(SceneLoadError, match="scene scene0005_00 is in none"):
        load_scene(lone / "scene0005_00", infos=pkl)


def test_pickle_with_code_is_refused(votenet: Path, tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    bad = tmp_path / "bad_infos.pkl"
    bad.write_bytes(pickle.dumps([Evil()]))
    with pytest.raises(UnsafeInputError, match="refusing to load global posix.system"):
        load_scene(votenet, infos=bad)


def test_infos_entry_without_cameras_is_named(votenet: Path, tmp_path: Path) -> None:
    pkl = tmp_path / "x_infos.pkl"
    pkl.write_bytes(pickle.dumps([{"point_cloud": {"lidar_idx": "scene0001_00"}}]))
    with pytest.raises(
        SceneLoadError, match=r"x_infos\.pkl: scene scene0001_00: needs 'img_paths'"
    ):
        load_scene(votenet, infos=pkl)


def test_malformed_box_file_is_named(votenet: Path) -> None:
    np.save(votenet.parent / "scene0001_00_bbox.npy", np.zeros((2, 3)))
    with pytest.raises(SceneLoadError, match=r"_bbox\.npy: expected \(K, 7\) boxes"):
        load_scene(votenet, infos=False)


def test_index_of_a_shared_data_folder_scene_lives_in_its_own_folder(votenet: Path) -> None:
    """Many preprocessed scenes share one folder: the index goes to <dir>/<scene>/ and its image
    paths still resolve from there."""
    from spar3d.index import load_index
    from spar3d.index.builder import IndexParams
    from spar3d.index.run import index_scene_dir

    params = IndexParams(all_frames=True, render_width=8)
    out = index_scene_dir(votenet, params)
    assert out.scene_dir == votenet.parent / "scene0001_00"
    index = load_index(out.scene_dir)
    first = index.images[0]
    assert (index.scene_dir / first.color_path).resolve() == (
        votenet.parents[1] / "posed_images" / "scene0001_00" / "00000.jpg"
    ).resolve()
    again = index_scene_dir(votenet.parent / "scene0001_00", params)
    assert again.status == "cached"
    rebuilt = index_scene_dir(votenet.parent / "scene0001_00", force=True)
    assert rebuilt.status == "built" and rebuilt.scene_dir == votenet.parent / "scene0001_00"
