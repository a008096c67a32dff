"""Round trips: synthetic world -> a dataset's official layout -> its loader -> the world again.

The world is the ground truth (boxes, camera walk, mesh). Each test reads the files back with
the loader and compares with the world, with the tolerances the file formats allow:

* boxes: 1e-9 m (JSON keeps doubles) or 1e-6 m (Structured3D's millimetre floats);
* poses: 1e-6 (text with 9-12 significant digits), intrinsics 1e-6 px;
* depth against geometry: the loader's pose and intrinsics ray-cast on the mesh (or the boxes)
  reproduce the depth images to the millimetre rounding.
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.spatial.transform import Rotation

from spar3d.geometry.camera import unproject
from spar3d.geometry.raycast import make_raycaster, render_view
from spar3d.geometry.transforms import cam_to_world
from spar3d.index.builder import IndexParams, build_index
from spar3d.scenes.labels import NYU40_NAMES
from spar3d.scenes.loaders import SceneLoadError, detect_loader, load_scene
from spar3d.scenes.synthetic import build_world
from spar3d.scenes.synthetic.export_sources import (
    _walk,
    write_arkitscenes_scene,
    write_infos,
    write_scannet_preprocessed_scene,
    write_scannetpp_scene,
    write_structured3d_scene,
)
from spar3d.scenes.synthetic.render import default_intrinsics, make_world_caster, render_frame

W, H, N = 64, 48, 9


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    return build_world(3, n_objects=(4, 6), second_room=False)


def _walk_of(world, seed: int = 5, w: int = W, h: int = H):  # type: ignore[no-untyped-def]
    return _walk(world, N, seed, w, h)


def _depth_matches_mesh(scene, frame) -> None:  # type: ignore[no-untyped-def]
    """The depth image equals the loaded mesh ray-cast with the loaded pose and intrinsics."""
    depth = np.asarray(Image.open(frame.depth_path), dtype=np.float64) / 1000.0
    caster = make_raycaster(scene.mesh.vertices, scene.mesh.faces)
    view = render_view(caster, frame.depth.K, frame.depth.width, frame.depth.height,
                       frame.T_world_cam)
    both = (depth > 0) & (view.depth_m > 0)
    assert both.mean() > 0.9
    err = np.abs(depth[both] - view.depth_m[both])
    assert np.median(err) < 0.001 and np.percentile(err, 95) < 0.01


# --- ScanNet++ ----------------------------------------------------------------------------


def test_scannetpp_round_trip_dslr_and_iphone(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_scannetpp_scene(world, tmp_path, "synth0000pp", N, W, H, seed=5)
    assert detect_loader(folder).name == "scannetpp"
    poses = _walk_of(world)

    scene = load_scene(folder)  # auto: the DSLR, from COLMAP
    assert scene.source == "scannetpp"
    by_id = {o.instance_id: o for o in world.objects}
    assert {o.object_id for o in scene.objects} == set(by_id)
    for obj in scene.objects:
        ref = by_id[obj.object_id]
        np.testing.assert_allclose(obj.box.center, ref.box.center, atol=1e-9)
        np.testing.assert_allclose(obj.box.size, ref.box.size, atol=1e-9)
        np.testing.assert_allclose(obj.box.R_world_box, ref.box.R_world_box, atol=1e-9)
        assert obj.raw_label == ref.label
        np.testing.assert_array_equal(obj.vertex_ids,
                                      np.flatnonzero(world.instance_ids == obj.object_id))
    dslr = list(range(0, N, 3))
    assert [f.frame_id for f in scene.frames] == [f"DSC{j + 1:05d}" for j in range(len(dslr))]
    for f, i in zip(scene.frames, dslr, strict=True):
        np.testing.assert_allclose(f.T_world_cam, poses[i], atol=1e-6)

    # nerfstudio's transforms.json alone gives the same poses (OpenGL axes, x/y swapped world)
    colmap_poses = [f.T_world_cam for f in scene.frames]
    shutil.rmtree(folder / "dslr" / "colmap")
    again = load_scene(folder, camera="dslr")
    for f, T in zip(again.frames, colmap_poses, strict=True):
        np.testing.assert_allclose(f.T_world_cam, T, atol=1e-9)

    # undistorted pinhole images look like the world rendered by that pinhole camera, and
    # clearly less like it rendered with a focal length 15 % off (a wrong undistortion rule)
    f0 = scene.frames[0]
    assert f0.color_path is not None and f0.color_path.parent.name == "spar3d_undistorted"
    assert f0.color.K[0, 2] == W / 2 and f0.color.K[1, 2] == H / 2
    got = np.asarray(Image.open(f0.color_path), dtype=np.float64)
    inner = (slice(3, -3), slice(3, -3))
    caster = make_world_caster(world)
    diffs = []
    for scale in (1.0, 1.15, 0.87):
        K = f0.color.K.copy()
        K[:2, :2] *= scale
        rgb, _ = render_frame(world, caster, K, W, H, poses[0])
        diffs.append(np.abs(got[inner] - rgb[inner].astype(np.float64)).mean())
    assert diffs[0] < 8.0 and diffs[0] < 0.6 * min(diffs[1:])

    # the iPhone stream: poses camera-to-world, depth at half size consistent with the mesh
    phone = load_scene(folder, camera="iphone")
    assert len(phone.frames) == N
    for f, T in zip(phone.frames, poses, strict=True):
        np.testing.assert_allclose(f.T_world_cam, T, atol=1e-9)
        np.testing.assert_allclose(f.color.K, default_intrinsics(W, H), atol=1e-9)
        assert (f.depth.width, f.depth.height) == (W // 2, H // 2)
    _depth_matches_mesh(phone, phone.frames[N // 2])


def test_scannetpp_errors_name_file_and_field(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_scannetpp_scene(world, tmp_path, "s", 3, 32, 24, seed=1)
    cams = folder / "dslr" / "colmap" / "cameras.txt"
    cams.write_text("1 SIMPLE_RADIAL 32 24 10 16 12 0.1\n")
    with pytest.raises(SceneLoadError, match=r"cameras.txt, line 1: camera model SIMPLE_RADIAL"):
        load_scene(folder)
    meta = folder / "iphone" / "pose_intrinsic_imu.json"
    meta.write_text(json.dumps({"frame_000000": {"intrinsic": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}}))
    with pytest.raises(SceneLoadError, match=r"pose_intrinsic_imu.json: frame_000000: needs"):
        load_scene(folder, camera="iphone")


# --- Structured3D -------------------------------------------------------------------------


def test_structured3d_round_trip(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_structured3d_scene(world, tmp_path, "scene_00000", N, W, H, seed=5)
    assert detect_loader(folder).name == "structured3d"
    scene = load_scene(folder)
    poses = [T for i, T in enumerate(_walk_of(world)) if i % 4 == 0]
    assert scene.source == "structured3d" and scene.mesh.faces is None
    assert len(scene.frames) == len(poses)
    f = default_intrinsics(W, H)[0, 0]
    for fr, T in zip(scene.frames, poses, strict=True):
        np.testing.assert_allclose(fr.T_world_cam, T, atol=1e-6)
        np.testing.assert_allclose(fr.color.K, [[f, 0, W / 2], [0, f, H / 2], [0, 0, 1]],
                                   atol=1e-5)
    by_id = {o.instance_id: o for o in world.objects}
    nyu_by_name = {v: k for k, v in NYU40_NAMES.items()}
    furniture = [o for o in scene.objects if o.label not in ("wall", "floor", "ceiling")]
    assert furniture
    for obj in furniture:
        ref = by_id[obj.object_id]
        np.testing.assert_allclose(obj.box.center, ref.box.center, atol=1e-6)
        np.testing.assert_allclose(obj.box.size, ref.box.size, atol=1e-6)
        np.testing.assert_allclose(obj.box.R_world_box, ref.box.R_world_box, atol=1e-6)
        assert np.linalg.det(obj.box.R_world_box) > 0  # left-handed bases were fixed
        assert obj.label in NYU40_NAMES.values() and nyu_by_name[obj.label] >= 1
        # depth <-> boxes: the object's back-projected points lie in its box (1 cm + 1 px slack)
        local = (scene.mesh.vertices[obj.vertex_ids] - ref.box.center) @ ref.box.R_world_box
        assert np.mean(np.all(np.abs(local) <= ref.box.size / 2 + 0.01, axis=1)) > 0.97
    assert "wall" in {o.label for o in scene.objects}  # structure from semantic.png


def test_structured3d_depth_back_projects_onto_the_world(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_structured3d_scene(world, tmp_path, "scene_00001", N, W, H, seed=5)
    scene = load_scene(folder)
    fr = scene.frames[1]
    depth = np.asarray(Image.open(fr.depth_path), dtype=np.float64) / 1000.0
    v, u = np.nonzero(depth > 0)
    p = cam_to_world(fr.T_world_cam, unproject(fr.depth.K, np.column_stack([u, v]), depth[v, u]))
    caster = make_world_caster(world)
    view = render_view(caster, fr.depth.K, W, H, fr.T_world_cam)
    np.testing.assert_allclose(depth[v, u], view.depth_m[v, u], atol=0.0006)
    assert np.all(np.isfinite(p))


def test_structured3d_visibility_from_instance_images(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Visibility comes from each view's instance and depth images: with every pixel lifted
    (stride=1) and no thresholds, the objects visible in a view are exactly those whose id the
    view shows, with the exact pixel boxes, both recomputed here by ray casting the world."""
    w, h = 96, 72
    folder = write_structured3d_scene(world, tmp_path, "scene_00003", N, w, h, seed=5)
    boxes = {b["ID"] for b in json.loads((folder / "bbox_3d.json").read_text())}
    pngs = sorted(folder.rglob("instance.png"))
    assert pngs
    for png in pngs:  # the writer's instance.png: 16-bit ids, 65535 background, ids of boxes
        with Image.open(png) as im:
            assert im.mode in ("I;16", "I")
            ids = set(np.unique(np.asarray(im)).tolist())
        assert 65535 in ids and ids - {65535} <= boxes
    scene = load_scene(folder, stride=1)
    assert all(fr.instance_path is not None for fr in scene.frames)
    index = build_index(scene, IndexParams(render_width=w, min_visible_fraction=0.0,
                                           min_box_area_fraction=0.0, min_depth_m=0.0))
    assert index.params["pointcloud_visibility"] == "instance"  # the source's preset
    caster = make_world_caster(world)
    face_instance = world.face_instance_ids
    furniture = {o.instance_id for o in world.objects if o.kind != "structure"}
    checked = 0
    for im, fr in zip(index.images, scene.frames, strict=True):
        view = render_view(caster, fr.color.K, w, h, fr.T_world_cam)
        inst = np.where(view.face_ids >= 0, face_instance[np.maximum(view.face_ids, 0)], -1)
        shown = {int(i) for i in np.unique(inst) if int(i) in furniture}
        indexed = {o.object_id: o for o in scene.objects}
        shown = {i for i in shown if indexed[i].label not in ("wall", "floor", "ceiling")}
        assert {v.object_id for v in im.visible} == shown
        for v in im.visible:
            rows, cols = np.nonzero(inst == v.object_id)
            assert v.bbox_xyxy == (cols.min(), rows.min(), cols.max() + 1.0, rows.max() + 1.0)
            assert 0.0 < v.visible_fraction <= 1.0
            checked += 1
    assert checked >= 3


def test_structured3d_instance_png_must_be_16_bit(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_structured3d_scene(world, tmp_path, "scene_00004", 4, 32, 24, seed=5)
    png = next(folder.rglob("instance.png"))
    Image.new("RGB", (32, 24)).save(png)
    with pytest.raises(SceneLoadError, match=r"instance.png: expected a single-channel 16-bit"):
        load_scene(folder)


def test_structured3d_bad_camera_pose_names_the_file(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_structured3d_scene(world, tmp_path, "scene_00002", 4, 32, 24, seed=5)
    pose = next(folder.rglob("camera_pose.txt"))
    pose.write_text("1 2 3\n")
    with pytest.raises(SceneLoadError, match=r"camera_pose.txt: expected 'vx vy vz"):
        load_scene(folder)


# --- ARKitScenes --------------------------------------------------------------------------


def test_arkitscenes_round_trip_and_pose_direction(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_arkitscenes_scene(world, tmp_path, "41254925", N, W, H, seed=5)
    assert detect_loader(folder).name == "arkitscenes"
    scene = load_scene(folder)
    poses = _walk_of(world)
    assert scene.scene_id == "41254925" and len(scene.frames) == N
    for fr, T in zip(scene.frames, poses, strict=True):
        np.testing.assert_allclose(fr.T_world_cam, T, atol=1e-6)
    # the .traj line is world-to-camera: read as camera-to-world, the camera would sit elsewhere
    line = (folder / "41254925_frames" / "lowres_wide.traj").read_text().splitlines()[2].split()
    R = Rotation.from_rotvec([float(x) for x in line[1:4]]).as_matrix()
    t = np.array([float(x) for x in line[4:7]])
    np.testing.assert_allclose(-R.T @ t, poses[2][:3, 3], atol=1e-6)
    assert np.linalg.norm(t - poses[2][:3, 3]) > 0.1
    furniture = [o for o in world.objects if o.kind != "structure"]
    assert len(scene.objects) == len(furniture)
    for obj, ref in zip(scene.objects, furniture, strict=True):
        np.testing.assert_allclose(obj.box.center, ref.box.center, atol=1e-9)
        np.testing.assert_allclose(obj.box.R_world_box, ref.box.R_world_box, atol=1e-9)
        assert obj.label == ref.label  # tv_monitor -> tv and the like, raw label kept
        assert len(obj.vertex_ids) > 0
    _depth_matches_mesh(scene, scene.frames[N // 2])


@pytest.mark.parametrize("sky", ["Left", "Right", "Down"])
def test_arkitscenes_sky_direction_turns_frames_upright(world, tmp_path: Path, sky: str) -> None:  # type: ignore[no-untyped-def]
    """The device was held sideways (or upside down): the stored 64x48 images show the sky on
    the ``sky`` side, metadata.csv says so, and the loader turns images, intrinsics and poses
    so that the sky is up, as the toolkit's ``rotate_image`` turns its images."""
    vid = "47333462"
    folder = write_arkitscenes_scene(world, tmp_path, vid, N, W, H, seed=5, sky_direction=sky)
    meta = (tmp_path / "metadata.csv").read_text().splitlines()
    assert meta[0].split(",")[-1] == "sky_direction" and meta[1].endswith(f",{sky}")
    raw = load_scene(folder, sky_direction="none")  # as stored: the sky is sideways
    scene = load_scene(folder)  # auto: metadata.csv one folder up
    quarter = sky != "Down"
    up_w, up_h = (H, W) if quarter else (W, H)
    poses = _walk_of(world, w=up_w, h=up_h)  # the upright walk the writer filmed
    # the index of decide_pose (rectify_im.py): world +z against image up, left, down, right
    axes = np.array([[0, -1, 0], [-1, 0, 0], [0, 1, 0], [1, 0, 0]], dtype=float)
    side = {"Left": 1, "Down": 2, "Right": 3}[sky]
    for fr, fr_raw, T in zip(scene.frames, raw.frames, poses, strict=True):
        np.testing.assert_allclose(fr.T_world_cam, T, atol=1e-6)
        assert int(np.argmax(axes @ fr.T_world_cam[2, :3])) == 0  # upright now
        assert int(np.argmax(axes @ fr_raw.T_world_cam[2, :3])) == side  # as stored
        assert (fr.color.width, fr.color.height) == (up_w, up_h)
        img = np.asarray(Image.open(fr.color_path))
        stored = np.asarray(Image.open(fr_raw.color_path))
        # the stored image turned clockwise by numpy (1, 2 or 3 quarter turns)
        turns = {"Left": 1, "Down": 2, "Right": 3}[sky]
        np.testing.assert_array_equal(img, np.rot90(stored, k=-turns))
    # intrinsics turned with the image: the world projected with the loaded (K, pose) lands
    # where the turned depth image shows it (the mesh ray-cast reproduces the depth)
    _depth_matches_mesh(scene, scene.frames[N // 2])
    np.testing.assert_allclose(scene.frames[0].color.K, default_intrinsics_turned(sky), atol=1e-9)
    # without metadata.csv, the poses decide (rectify_im.py's rule): the same frames
    (tmp_path / "metadata.csv").unlink()
    again = load_scene(folder, upright_dir=tmp_path / "up2")
    for a, b in zip(again.frames, scene.frames, strict=True):
        np.testing.assert_allclose(a.T_world_cam, b.T_world_cam, atol=1e-12)
        np.testing.assert_array_equal(np.asarray(Image.open(a.depth_path)),
                                      np.asarray(Image.open(b.depth_path)))


def default_intrinsics_turned(sky: str) -> np.ndarray:
    """The stored camera's K turned by hand: for a clockwise quarter turn a pixel (x, y) of a
    W x H image goes to (H - 1 - y, x), so fx' = fy, cx' = H - 1 - cy, fy' = fx, cy' = cx."""
    K = default_intrinsics(W, H)
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    if sky == "Left":  # one clockwise turn
        return np.array([[fy, 0, H - 1 - cy], [0, fx, cx], [0, 0, 1]])
    if sky == "Right":  # one counter-clockwise turn: (x, y) -> (y, W - 1 - x)
        return np.array([[fy, 0, cy], [0, fx, W - 1 - cx], [0, 0, 1]])
    return np.array([[fx, 0, W - 1 - cx], [0, fy, H - 1 - cy], [0, 0, 1]])  # half turn


def test_arkitscenes_bad_metadata_names_file_line_and_field(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_arkitscenes_scene(world, tmp_path, "41254927", 3, 32, 24, seed=5,
                                     sky_direction="Left")
    meta = tmp_path / "metadata.csv"
    meta.write_text(meta.read_text().replace(",Left", ",Sideways"))
    with pytest.raises(SceneLoadError, match=r"metadata.csv, line 2 \(sky_direction\): "
                                             r"'Sideways' is not one of"):
        load_scene(folder)
    meta.write_text("video_id,fold\n41254927,Training\n")
    with pytest.raises(SceneLoadError, match=r"metadata.csv: header lacks column\(s\) "
                                             r"sky_direction"):
        load_scene(folder)


def test_arkitscenes_bad_traj_line_names_file_and_line(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_arkitscenes_scene(world, tmp_path, "41254926", 3, 32, 24, seed=5)
    traj = folder / "41254926_frames" / "lowres_wide.traj"
    traj.write_text(traj.read_text() + "1.0 2.0 3.0\n")
    with pytest.raises(SceneLoadError, match=r"lowres_wide.traj, line 4: expected 7 numbers"):
        load_scene(folder)


# --- preprocessed ScanNet (mmdetection3d) and EmbodiedScan boxes ---------------------------


def test_scannet_preprocessed_round_trip(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    prefix = write_scannet_preprocessed_scene(world, tmp_path, "synth0000_00", N, W, H, seed=5)
    write_infos(tmp_path, ["synth0000_00"])
    with open(tmp_path / "scannet_infos_train.pkl", "rb") as fh:
        assert fh.read(2) == b"\x80\x02"  # protocol 2, as old mmdetection3d infos
    assert detect_loader(prefix).name == "scannet_preprocessed"
    scene = load_scene(prefix)
    np.testing.assert_allclose(scene.mesh.vertices, world.vertices, atol=1e-4)  # float32 file
    poses = _walk_of(world)
    assert len(scene.frames) == N - 2  # two -inf poses skipped
    for fr in scene.frames:
        np.testing.assert_allclose(fr.T_world_cam, poses[int(fr.frame_id)], atol=1e-6)
        assert fr.color_path is not None and fr.color_path.is_file()
    by_id = {o.instance_id: o for o in world.objects}
    for obj in scene.objects:
        ref = by_id[obj.object_id - 1]  # ins_label is objectId + 1
        pts = world.vertices[world.instance_ids == ref.instance_id]
        np.testing.assert_allclose(obj.box.center, (pts.min(0) + pts.max(0)) / 2, atol=1e-4)


def test_embodiedscan_9dof_boxes_replace_axis_aligned_ones(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from spar3d.scenes.synthetic.export import write_scannet_scene

    folder = write_scannet_scene(world, tmp_path, "scene0000_00", 3, 32, 24, seed=1)
    (folder / "scene0000_00_obb.json").unlink()  # vertex AABBs only
    plain = load_scene(folder, load_mesh=False)
    target = next(o for o in plain.objects if o.label not in ("wall", "floor"))
    R_true = Rotation.from_euler("zyx", [0.7, 0.2, -0.3]).as_matrix()
    a, b, c = Rotation.from_matrix(R_true).as_euler("ZXY")  # intrinsic Z, X', Y''
    size = [0.5, 0.4, 0.3]
    info = {
        "metainfo": {"categories": {"chair": 5}},
        "data_list": [{
            "sample_idx": "scannet/scene0000_00",
            "axis_align_matrix": np.eye(4),
            "instances": [{"bbox_3d": [*target.box.center, *size, a, b, c], "bbox_label_3d": 5,
                           "bbox_id": target.object_id}],
        }],
    }
    pkl = tmp_path / "embodiedscan_infos_val.pkl"
    pkl.write_bytes(pickle.dumps(info, protocol=4))
    scene = load_scene(folder, load_mesh=False, embodiedscan=pkl)
    got = scene.object_by_id(target.object_id).box
    np.testing.assert_allclose(got.R_world_box, R_true, atol=1e-9)
    np.testing.assert_allclose(got.size, size)
    others = [o for o in scene.objects if o.object_id != target.object_id]
    assert all(np.allclose(o.box.R_world_box, np.eye(3)) for o in others)
    with pytest.raises(SceneLoadError, match="no scene scene0000_00"):
        info["data_list"][0]["sample_idx"] = "scannet/scene0001_00"
        pkl.write_bytes(pickle.dumps(info, protocol=4))
        load_scene(folder, load_mesh=False, embodiedscan=pkl)


def test_scannetpp_prefers_the_toolkits_undistorted_output(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # v2 ships (and the toolkit's dslr/undistort.py writes) pinhole images and
    # transforms_undistorted.json: those are used as they are, nothing is resampled
    folder = write_scannetpp_scene(world, tmp_path, "v2", 6, 32, 24, seed=5)
    dslr = folder / "dslr"
    ns = json.loads((dslr / "nerfstudio" / "transforms.json").read_text())
    ns.update({"camera_model": "PINHOLE", "fl_x": 20.0, "fl_y": 20.0, "cx": 16.0, "cy": 12.0,
               "k1": 0.0, "k2": 0.0, "k3": 0.0, "k4": 0.0})
    (dslr / "nerfstudio" / "transforms_undistorted.json").write_text(json.dumps(ns))
    shutil.copytree(dslr / "resized_images", dslr / "resized_undistorted_images")
    scene = load_scene(folder)
    np.testing.assert_allclose(scene.frames[0].color.K, [[20, 0, 16], [0, 20, 12], [0, 0, 1]])
    assert scene.frames[0].color_path.parent.name == "resized_undistorted_images"
    assert not (dslr / "spar3d_undistorted").exists()
    poses = _walk(world, 6, 5, 32, 24)
    for fr, i in zip(scene.frames, range(0, 6, 3), strict=True):
        np.testing.assert_allclose(fr.T_world_cam, poses[i], atol=1e-9)


@pytest.mark.parametrize("layout", ["scannet_preprocessed", "structured3d"])
def test_synthesize_layout_with_detail_resumes(layout: str, tmp_path: Path) -> None:
    from spar3d.scenes.synthetic.synthesize import synthesize

    paths = synthesize(tmp_path, 1, 3, n_frames=3, width=32, height=24, progress=False,
                       layout=layout, detail=60_000)
    scene = load_scene(paths[0])
    assert scene.mesh is not None and len(scene.objects) > 0
    marker = next(tmp_path.rglob("synth_done.json"))
    assert json.loads(marker.read_text())["detail_faces"] == 60_000
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    synthesize(tmp_path, 1, 3, n_frames=3, width=32, height=24, progress=False, layout=layout,
               detail=60_000)
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    changed = {p.name for p in before if after[p] != before[p]}
    # a finished scene is not written again (the shared infos pickle is rebuilt, same bytes)
    assert changed <= {"scannet_infos_train.pkl"}


# --- 3RScan with EmbodiedScan boxes -----------------------------------------------------------


def _embodiedscan_instances(objects):  # type: ignore[no-untyped-def]
    """EmbodiedScan ``instances`` of the world's objects: centre, size and the angles scipy's
    ``as_euler("ZXY")`` gives (independent of the loader's formula)."""
    out = []
    for o in objects:
        a, b, c = Rotation.from_matrix(o.box.R_world_box).as_euler("ZXY")
        out.append({"bbox_3d": [*o.box.center, *o.box.size, a, b, c], "bbox_label_3d": 1,
                    "bbox_id": o.instance_id})
    return out


def test_3rscan_round_trip_with_embodiedscan_boxes(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """World -> 3RScan files (raw frame) -> loader: the scan's own frame without EmbodiedScan;
    with its infos pickle, the aligned world, its poses and its 9-DoF boxes (angles written by
    scipy's ``as_euler("ZXY")``, independent of the loader)."""
    from spar3d.scenes.synthetic.export_sources import write_3rscan_scene

    sid = "531cff08-0021-28f6-8e08-ba2eeb945e09"
    folder, A = write_3rscan_scene(world, tmp_path, sid, N, W, H, seed=5)
    assert detect_loader(folder).name == "3rscan"
    raw = load_scene(folder)
    assert raw.source == "3rscan" and raw.scene_id == sid
    A_inv = np.linalg.inv(A)
    np.testing.assert_allclose(raw.mesh.vertices, world.vertices @ A_inv[:3, :3].T + A_inv[:3, 3],
                               atol=2e-6)
    poses = _walk_of(world)
    kept = [i for i in range(N) if i % 3 != 2]  # -inf poses (lost tracking) skipped
    assert [int(f.frame_id) for f in raw.frames] == kept
    for f in raw.frames:
        np.testing.assert_allclose(f.T_world_cam, A_inv @ poses[int(f.frame_id)], atol=1e-6)
    _depth_matches_mesh(raw, raw.frames[1])
    by_id = {o.instance_id: o for o in world.objects}
    for obj in raw.objects:  # objectId = instance id + 1, boxes from the vertices
        ref = by_id[obj.object_id - 1]
        assert obj.raw_label == ref.label
        np.testing.assert_array_equal(obj.vertex_ids, np.flatnonzero(world.instance_ids
                                                                     == ref.instance_id))
    # EmbodiedScan: the scan aligned by its axis_align_matrix, boxes replaced by its 9-DoF ones
    furniture = [o for o in world.objects if o.kind != "structure"]
    instances = _embodiedscan_instances(furniture)
    info = {"metainfo": {"categories": {"chair": 1}},
            "data_list": [{"sample_idx": f"3rscan/{sid}", "axis_align_matrix": A,
                           "instances": instances}]}
    pkl = tmp_path / "embodiedscan_infos_train.pkl"
    pkl.write_bytes(pickle.dumps(info, protocol=2))
    scene = load_scene(folder, embodiedscan=pkl)
    np.testing.assert_allclose(scene.mesh.vertices, world.vertices, atol=2e-5)
    for f in scene.frames:
        np.testing.assert_allclose(f.T_world_cam, poses[int(f.frame_id)], atol=1e-5)
    _depth_matches_mesh(scene, scene.frames[2])
    for o in furniture:
        got = scene.object_by_id(o.instance_id + 1).box
        np.testing.assert_allclose(got.center, o.box.center, atol=1e-9)
        np.testing.assert_allclose(got.R_world_box, o.box.R_world_box, atol=1e-9)
        np.testing.assert_allclose(got.size, o.box.size, atol=1e-9)


def test_3rscan_bad_info_names_file_line_and_field(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from spar3d.scenes.synthetic.export_sources import write_3rscan_scene

    folder, _ = write_3rscan_scene(world, tmp_path, "scan1", 3, 32, 24, seed=5)
    info = folder / "sequence" / "_info.txt"
    info.write_text(info.read_text().replace("m_calibrationColorIntrinsic = ",
                                             "m_calibrationColorIntrinsic = 1 2 "))
    with pytest.raises(SceneLoadError, match=r"_info.txt, line 8 \(m_calibrationColorIntrinsic\): "
                                             r"expected 16 numbers, found 18"):
        load_scene(folder)
    info.write_text("m_colorWidth = 32\n")
    with pytest.raises(SceneLoadError, match=r"_info.txt: missing m_colorHeight"):
        load_scene(folder)


# --- Matterport3D regions with EmbodiedScan boxes ---------------------------------------------


def test_matterport3d_region_round_trip(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """World -> one Matterport3D region (house frame, OpenGL .conf poses, 0.25 mm depth) ->
    loader: the OpenCV poses of the walk, the cameras of other regions left out, the depth
    images (divided by 4000) equal to the mesh ray-cast from the loaded pose and K; with the
    EmbodiedScan infos (``matterport3d/<house>/region0``), the aligned world and its boxes."""
    from spar3d.index.records import index_file_for
    from spar3d.scenes.synthetic.export_sources import write_matterport3d_scene

    ply, A = write_matterport3d_scene(world, tmp_path, "17DRP5sb8fy", N, W, H, seed=5)
    assert detect_loader(ply).name == "matterport3d"
    raw = load_scene(ply)
    assert raw.scene_id == "17DRP5sb8fy_region0" and raw.source == "matterport3d"
    A_inv = np.linalg.inv(A)
    poses = _walk_of(world)
    assert len(raw.frames) == N  # the camera 50 m away belongs to another region
    assert len(load_scene(ply, cameras="all").frames) == N + 1
    house = ply.parent.parent
    for f, T in zip(raw.frames, poses, strict=True):
        np.testing.assert_allclose(f.T_world_cam, A_inv @ T, atol=1e-6)
        np.testing.assert_allclose(f.color.K, default_intrinsics(W, H), atol=1e-9)
    caster = make_raycaster(raw.mesh.vertices, raw.mesh.faces)
    for f in raw.frames[::4]:
        depth = np.asarray(Image.open(house / "undistorted_depth_images"
                                      / f"{f.frame_id.replace('_i', '_d')}.png"), float) / 4000.0
        view = render_view(caster, f.color.K, W, H, f.T_world_cam)
        both = (depth > 0) & (view.depth_m > 0)
        assert both.mean() > 0.9
        assert np.abs(depth[both] - view.depth_m[both]).max() < 0.002
    by_id = {o.instance_id: o for o in world.objects}
    for obj in raw.objects:
        ref = by_id[obj.object_id]
        assert obj.raw_label == ref.label
        np.testing.assert_array_equal(
            obj.vertex_ids, np.unique(world.faces[world.face_instance_ids == ref.instance_id]))
    furniture = [o for o in world.objects if o.kind != "structure"]
    instances = _embodiedscan_instances(furniture)
    other = {"sample_idx": "matterport3d/otherHouse0/region0", "axis_align_matrix": np.eye(4),
             "instances": []}  # same last part, another house: must not be taken
    info = {"metainfo": {"categories": {"chair": 1}},
            "data_list": [other, {"sample_idx": "matterport3d/17DRP5sb8fy/region0",
                                  "axis_align_matrix": A, "instances": instances}]}
    pkl = tmp_path / "embodiedscan_infos_val.pkl"
    pkl.write_bytes(pickle.dumps(info, protocol=2))
    scene = load_scene(ply, embodiedscan=pkl)
    np.testing.assert_allclose(scene.mesh.vertices, world.vertices, atol=2e-5)
    for f, T in zip(scene.frames, poses, strict=True):
        np.testing.assert_allclose(f.T_world_cam, T, atol=1e-5)
    for o in furniture:
        got = scene.object_by_id(o.instance_id).box
        np.testing.assert_allclose(got.R_world_box, o.box.R_world_box, atol=1e-9)
        np.testing.assert_allclose(got.center, o.box.center, atol=1e-9)
    assert index_file_for(ply) == ply.parent / "17DRP5sb8fy_region0" / "spar3d_index.json"


def test_matterport3d_bad_conf_names_file_line_and_field(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from spar3d.scenes.synthetic.export_sources import write_matterport3d_scene

    ply, _ = write_matterport3d_scene(world, tmp_path, "houseA", 3, 32, 24, seed=5)
    conf = ply.parent.parent / "undistorted_camera_parameters" / "houseA.conf"
    lines = conf.read_text().splitlines()
    lines[5] = lines[5].rsplit(" ", 1)[0]  # a scan line one number short
    conf.write_text("\n".join(lines) + "\n")
    with pytest.raises(SceneLoadError, match=r"houseA.conf, line 6 \(scan\): expected 'scan "
                                             r"<depth> <color>' and 16 numbers, found 17"):
        load_scene(ply)
