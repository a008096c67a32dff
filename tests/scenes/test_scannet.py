"""ScanNet export loader on a hand-written scan folder.

The fixture: two boxes and a two-vertex "mystery" object in raw scan coordinates, an
axisAlignment that turns the scan 90 degrees about +z and shifts it by (1, 2, 0.5), three poses
(frame "2" is -inf), tiny images and a three-row label TSV. Under A, a raw point (x, y, z) goes
to (1 - y, x + 2, z + 0.5); every expected box below is worked out from that by hand.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spar3d.errors import ConfigError
from spar3d.scenes.loaders import SceneLoadError, load_scene
from spar3d.scenes.scannet import ScanNetLoader

SID = "scene0007_00"
A = np.array([[0, -1, 0, 1], [1, 0, 0, 2], [0, 0, 1, 0.5], [0, 0, 0, 1]], float)


def _box_vertices(lo, hi):
    return [(x, y, z) for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]


# raw vertices: box 1 (ids 0-7), box 2 (ids 8-15), mystery (ids 16-17)
RAW_VERTS = (
    _box_vertices((0, 0, 0), (1, 2, 1))
    + _box_vertices((3, 0, 0), (4, 1, 0.5))
    + [(10, 10, 0), (10, 11, 2)]
)
SEGS = [10, 10, 10, 10, 11, 11, 11, 11] + [20] * 8 + [30, 30]
FACES = [(0, 1, 2), (1, 3, 2), (8, 9, 10), (16, 17, 0)]


def _write_ply(path: Path) -> None:
    lines = [
        "ply",
        "format ascii 1.0",
        f"element vertex {len(RAW_VERTS)}",
        "property float x",
        "property float y",
        "property float z",
        "property uchar red",
        "property uchar green",
        "property uchar blue",
        f"element face {len(FACES)}",
        "property list uchar int vertex_indices",
        "end_header",
    ]
    lines += [f"{x} {y} {z} {i} {2 * i} 7" for i, (x, y, z) in enumerate(RAW_VERTS)]
    lines += [f"3 {a} {b} {c}" for a, b, c in FACES]
    path.write_text("\n".join(lines) + "\n")


def _write_matrix(path: Path, M) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(" ".join(str(v) for v in row) for row in np.asarray(M)) + "\n")


def make_scan(root: Path, *, tsv_in: str | None = "scene") -> Path:
    """Write the fixture scan under ``root/scans/SID`` and return the scene folder."""
    d = root / "scans" / SID
    d.mkdir(parents=True)
    _write_ply(d / f"{SID}_vh_clean_2.ply")
    groups = [
        {"id": 0, "objectId": 0, "segments": [10, 11], "label": "office chair"},
        {"id": 1, "objectId": 1, "segments": [20], "label": "trash can"},
        {"id": 2, "objectId": 2, "segments": [30], "label": "mystery"},
    ]
    (d / f"{SID}.aggregation.json").write_text(json.dumps({"sceneId": SID, "segGroups": groups}))
    (d / f"{SID}_vh_clean_2.0.010000.segs.json").write_text(json.dumps({"segIndices": SEGS}))
    meta = ["colorHeight = 968", "axisAlignment = " + " ".join(str(v) for v in A.reshape(-1))]
    (d / f"{SID}.txt").write_text("\n".join(meta) + "\n")
    K = np.array([[10.0, 0, 3.5, 0], [0, 10.0, 2.5, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    _write_matrix(d / "intrinsic" / "intrinsic_color.txt", K)
    _write_matrix(d / "intrinsic" / "intrinsic_depth.txt", K / 2 + np.diag([0, 0, 0.5, 0.5]))
    T10 = np.eye(4)
    T10[0, 3] = 1.0
    _write_matrix(d / "pose" / "0.txt", np.eye(4))
    _write_matrix(d / "pose" / "10.txt", T10)
    (d / "pose" / "2.txt").write_text("\n".join(["-inf -inf -inf -inf"] * 4) + "\n")
    (d / "color").mkdir()
    (d / "depth").mkdir()
    for name in ("0", "2", "10"):
        Image.new("RGB", (8, 6), (200, 10, 10)).save(d / "color" / f"{name}.jpg")
        Image.fromarray(np.full((3, 4), 1500, np.uint16)).save(d / "depth" / f"{name}.png")
    if tsv_in is not None:
        tsv = d if tsv_in == "scene" else d.parent
        rows = [
            "id\traw_category\tcategory\tcount\tnyu40id\tnyu40class",
            "10\toffice chair\tchair\t595\t5\tchair",
            "56\ttrash can\ttrash can\t1090\t39\totherfurniture",
            "7\tkitchen cabinets\tkitchen cabinet\t289\t3\tcabinet",
        ]
        (tsv / "scannetv2-labels.combined.tsv").write_text("\n".join(rows) + "\n")
    return d


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    return make_scan(tmp_path)


def _box(scene, oid):
    return scene.object_by_id(oid).box


def test_objects_have_hand_computed_aligned_boxes(scan: Path) -> None:
    scene = load_scene(scan)
    assert scene.scene_id == SID and scene.source == "scannet"
    assert [o.object_id for o in scene.objects] == [0, 1, 2]
    # box 1: raw x in [0,1], y in [0,2], z in [0,1] -> x' in [-1,1], y' in [2,3], z' in [.5,1.5]
    np.testing.assert_allclose(_box(scene, 0).center, [0.0, 2.5, 1.0])
    np.testing.assert_allclose(_box(scene, 0).size, [2.0, 1.0, 1.0])
    # box 2: raw x in [3,4], y in [0,1], z in [0,.5] -> x' in [0,1], y' in [5,6], z' in [.5,1]
    np.testing.assert_allclose(_box(scene, 1).center, [0.5, 5.5, 0.75])
    np.testing.assert_allclose(_box(scene, 1).size, [1.0, 1.0, 0.5])
    # mystery: (10,10,0), (10,11,2) -> (-9,12,.5), (-10,12,2.5)
    np.testing.assert_allclose(_box(scene, 2).center, [-9.5, 12.0, 1.5])
    np.testing.assert_allclose(_box(scene, 2).size, [1.0, 0.0, 2.0])
    np.testing.assert_array_equal(scene.object_by_id(0).vertex_ids, np.arange(8))
    np.testing.assert_array_equal(scene.object_by_id(1).vertex_ids, np.arange(8, 16))
    np.testing.assert_allclose(scene.T_aligned_raw, A)


def test_mesh_is_aligned_with_colours_and_faces(scan: Path) -> None:
    mesh = load_scene(scan).mesh
    assert mesh is not None and mesh.faces is not None
    np.testing.assert_array_equal(mesh.faces, np.array(FACES))
    np.testing.assert_allclose(mesh.vertices[17], [1 - 11, 10 + 2, 2 + 0.5])
    np.testing.assert_array_equal(mesh.colors[5], [5, 10, 7])


def test_labels_mapped_through_tsv_and_raw_kept(scan: Path) -> None:
    scene = load_scene(scan)
    assert [o.label for o in scene.objects] == ["chair", "trash can", "mystery"]
    assert [o.raw_label for o in scene.objects] == ["office chair", "trash can", "mystery"]
    nyu = load_scene(scan, label_column="nyu40class")
    assert [o.label for o in nyu.objects] == ["chair", "otherfurniture", "mystery"]


def test_label_tsv_found_in_parent_folder(tmp_path: Path) -> None:
    scene = load_scene(make_scan(tmp_path, tsv_in="parent"))
    assert scene.object_by_id(0).label == "chair"


def test_without_tsv_raw_labels_are_kept(tmp_path: Path) -> None:
    scene = load_scene(make_scan(tmp_path, tsv_in=None))
    assert [o.label for o in scene.objects] == ["office chair", "trash can", "mystery"]


def test_label_map_option(tmp_path: Path) -> None:
    d = make_scan(tmp_path, tsv_in=None)
    tsv = tmp_path / "mine.tsv"
    tsv.write_text("raw_category\tcategory\nmystery\tvase\n")
    assert load_scene(d, label_map=tsv).object_by_id(2).label == "vase"


def test_frames_skip_inf_sort_numerically_and_are_aligned(scan: Path) -> None:
    frames = load_scene(scan).frames
    assert [f.frame_id for f in frames] == ["0", "10"]
    np.testing.assert_allclose(frames[0].T_world_cam, A)
    # raw pose: identity rotation at (1, 0, 0) -> aligned rotation Rz(90), centre (1, 3, .5)
    expected = np.array([[0, -1, 0, 1], [1, 0, 0, 3], [0, 0, 1, 0.5], [0, 0, 0, 1]], float)
    np.testing.assert_allclose(frames[1].T_world_cam, expected)
    f = frames[1]
    assert (f.color.width, f.color.height) == (8, 6)
    assert f.depth is not None and (f.depth.width, f.depth.height) == (4, 3)
    np.testing.assert_allclose(f.color.K, [[10, 0, 3.5], [0, 10, 2.5], [0, 0, 1]])
    np.testing.assert_allclose(f.depth.K, [[5, 0, 1.75], [0, 5, 1.25], [0, 0, 1]])
    assert f.color_path == scan / "color" / "10.jpg"
    assert f.depth_path == scan / "depth" / "10.png"


def test_default_image_sizes_without_images(scan: Path) -> None:
    shutil.rmtree(scan / "color")
    for p in (scan / "depth").iterdir():
        p.unlink()
    f = load_scene(scan).frames[0]
    assert (f.color.width, f.color.height) == (1296, 968)
    assert f.depth is not None and (f.depth.width, f.depth.height) == (640, 480)
    assert f.color_path is None and f.depth_path is None


def test_missing_meta_means_identity_alignment(scan: Path) -> None:
    (scan / f"{SID}.txt").unlink()
    scene = load_scene(scan)
    np.testing.assert_allclose(scene.T_aligned_raw, np.eye(4))
    np.testing.assert_allclose(_box(scene, 0).center, [0.5, 1.0, 0.5])
    np.testing.assert_allclose(scene.frames[1].camera_center, [1, 0, 0])


def test_load_mesh_false_keeps_boxes_but_no_mesh(scan: Path) -> None:
    scene = load_scene(scan, load_mesh=False)
    assert scene.mesh is None
    np.testing.assert_allclose(_box(scene, 1).center, [0.5, 5.5, 0.75])


def _obb_json(path: Path) -> None:
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    R = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    obj = {"objectId": 0, "label": "office chair", "center": [0, 2.5, 1], "size": [2, 1, 1]}
    obj["R_world_box"] = R
    path.write_text(json.dumps({"objects": [obj]}))


def test_oriented_boxes_replace_aabbs(scan: Path) -> None:
    _obb_json(scan / f"{SID}_obb.json")
    scene = load_scene(scan)
    assert scene.object_by_id(0).box.yaw_rad == pytest.approx(np.pi / 6)
    assert scene.object_by_id(1).box.yaw_rad == pytest.approx(0.0)
    np.testing.assert_allclose(_box(scene, 1).size, [1.0, 1.0, 0.5])


def test_oriented_boxes_from_option(scan: Path, tmp_path: Path) -> None:
    other = tmp_path / "boxes.json"
    _obb_json(other)
    assert load_scene(scan, obb=other).object_by_id(0).box.yaw_rad == pytest.approx(np.pi / 6)
    with pytest.raises(SceneLoadError, match="nope.json"):
        load_scene(scan, obb=tmp_path / "nope.json")


def test_bad_rotation_in_obb_is_named(scan: Path) -> None:
    path = scan / f"{SID}_obb.json"
    obj = {"objectId": 0, "center": [0, 0, 0], "size": [1, 1, 1], "R_world_box": np.eye(3) * 2}
    path.write_text(json.dumps({"objects": [{**obj, "R_world_box": obj["R_world_box"].tolist()}]}))
    with pytest.raises(SceneLoadError, match=r"_obb.json: objects\[0\].R_world_box"):
        load_scene(scan)


@pytest.mark.parametrize(
    "relpath",
    [
        f"{SID}_vh_clean_2.ply",
        f"{SID}.aggregation.json",
        f"{SID}_vh_clean_2.0.010000.segs.json",
        "pose",
        "intrinsic/intrinsic_color.txt",
        "intrinsic/intrinsic_depth.txt",
    ],
)
def test_every_missing_file_is_named(scan: Path, relpath: str) -> None:
    target = scan / relpath
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(SceneLoadError, match=relpath.split("/")[-1].replace(".", r"\.")):
        ScanNetLoader().load(scan)


@pytest.mark.parametrize(
    "name", [f"{SID}.aggregation.json", f"{SID}_vh_clean_2.0.010000.segs.json"]
)
def test_malformed_json_names_file_and_line(scan: Path, name: str) -> None:
    (scan / name).write_text('{\n  "segGroups": [oops]\n}\n')
    with pytest.raises(
        SceneLoadError, match=rf"{name.replace('.', '[.]')}: malformed JSON at line 2"
    ):
        load_scene(scan)


def test_wrong_fields_are_named(scan: Path) -> None:
    segs = scan / f"{SID}_vh_clean_2.0.010000.segs.json"
    segs.write_text(json.dumps({"segIndices": SEGS[:-1]}))
    with pytest.raises(SceneLoadError, match="17 entries but the mesh has 18 vertices"):
        load_scene(scan)
    segs.write_text(json.dumps({"segIndices": SEGS}))
    agg = scan / f"{SID}.aggregation.json"
    agg.write_text(json.dumps({"segGroups": [{"objectId": 0, "label": "x"}]}))
    with pytest.raises(SceneLoadError, match=r"segGroups\[0\] lacks field 'segments'"):
        load_scene(scan)


def test_bad_axis_alignment_names_file_and_line(scan: Path) -> None:
    (scan / f"{SID}.txt").write_text("sceneType = x\naxisAlignment = 1 0 0\n")
    with pytest.raises(SceneLoadError, match=r"scene0007_00\.txt, line 2 \(axisAlignment\)"):
        load_scene(scan)


def test_bad_pose_file_is_named(scan: Path) -> None:
    (scan / "pose" / "10.txt").write_text("1 2 3\n")
    with pytest.raises(SceneLoadError, match=r"10\.txt: expected 16 numbers, found 3"):
        load_scene(scan)


def test_unknown_option_is_rejected(scan: Path) -> None:
    with pytest.raises(ConfigError, match="unknown option 'colour' for the scannet loader"):
        load_scene(scan, colour=True)


def test_point_cloud_ply_without_faces(scan: Path) -> None:
    ply = scan / f"{SID}_vh_clean_2.ply"
    header, body = ply.read_text().split("end_header\n")
    header = header.replace(
        f"element face {len(FACES)}\nproperty list uchar int vertex_indices\n", ""
    )
    ply.write_text(header + "end_header\n" + "\n".join(body.splitlines()[: len(RAW_VERTS)]) + "\n")
    scene = load_scene(scan)
    assert scene.mesh is not None and scene.mesh.is_point_cloud
    np.testing.assert_array_equal(scene.mesh.colors[5], [5, 10, 7])
    np.testing.assert_allclose(_box(scene, 1).center, [0.5, 5.5, 0.75])


def test_unreadable_ply_is_named(scan: Path) -> None:
    (scan / f"{SID}_vh_clean_2.ply").write_text("not a ply")
    with pytest.raises(SceneLoadError, match=r"_vh_clean_2\.ply: cannot read PLY"):
        load_scene(scan)
