"""Writing a synthetic world in the official layouts of ScanNet++, Structured3D, ARKitScenes and
preprocessed ScanNet (mmdetection3d), so that every loader is tested on files we make.

Each writer follows the file conventions its loader's documentation cites (``docs/loaders.md``),
implemented here from those conventions and not by calling the loader's code: a round trip
(world -> files -> loader -> scene) then checks both against the world. Every file is written
atomically; ``synth_done.json`` is written last and records the settings (resume).
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from spar3d.geometry.camera import pixel_rays_cam
from spar3d.geometry.fisheye import fisheye_rays
from spar3d.geometry.transforms import invert_pose, transform_points
from spar3d.scenes.labels import NYU40_NAMES
from spar3d.scenes.model import Intrinsics
from spar3d.scenes.synthetic.export import (
    DONE_MARKER,
    JPEG_QUALITY,
    _json_bytes,
    _write_bytes,
    invalid_frames,
    over_segment,
    ply_bytes,
    random_alignment,
)
from spar3d.scenes.synthetic.render import default_intrinsics, make_world_caster, render_rays
from spar3d.scenes.synthetic.trajectory import camera_trajectory
from spar3d.scenes.synthetic.world import SyntheticWorld

F64 = NDArray[np.float64]
OnFrame = Callable[[], None] | None

#: ScanNet raw names of the synthetic catalog to NYU40 class names (ScanNet's combined TSV's
#: ``nyu40class`` for these names); names that are NYU40 classes map to themselves.
NYU40_OF_LABEL = {
    "armchair": "chair", "office chair": "chair", "book": "books", "coffee table": "table",
    "kitchen cabinets": "cabinet", "nightstand": "night stand", "monitor": "television",
    "tv": "television", "tv stand": "otherfurniture", "plant": "otherprop",
    "trash can": "otherprop",
}
_NYU40_ID = {name: i for i, name in NYU40_NAMES.items()}
#: The synthetic labels that ARKitScenes spells differently (its taxonomy.py class names).
ARKIT_LABEL = {"tv": "tv_monitor", "washing machine": "washer"}
#: ScanNet++ DSLR stand-in: an OPENCV_FISHEYE camera (focal as a share of the width, k1..k4).
DSLR_FOCAL_SHARE = 0.5
DSLR_FISHEYE = np.array([-0.03, 0.004, -0.0015, 0.0002])


def nyu40_id(label: str) -> int:
    """NYU40 id of a synthetic label (``otherprop`` for names without one)."""
    return _NYU40_ID.get(NYU40_OF_LABEL.get(label, label), 40)


def _jpeg(rgb: NDArray[np.uint8]) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def _png(arr: NDArray[Any]) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _walk(world: SyntheticWorld, n_frames: int, seed: int, width: int, height: int) -> list[F64]:
    rng = np.random.default_rng(seed)
    return camera_trajectory(world, n_frames, int(rng.integers(2**31 - 1)), width, height)


def _done(folder: Path, params: dict[str, Any]) -> None:
    _write_bytes(folder / DONE_MARKER, _json_bytes(params, indent=1))


def _rays(K: F64, width: int, height: int) -> NDArray[np.float32]:
    return pixel_rays_cam(K, width, height).astype(np.float32)


# --- ScanNet++ ------------------------------------------------------------------------------


def _nerfstudio_matrix(T_world_cam_cv: F64) -> F64:
    """The ScanNet++ toolkit's ``convert_frames`` step by step: OpenCV -> OpenGL camera axes
    (negate columns 1 and 2), swap world rows x and y, negate world row z."""
    c2w = T_world_cam_cv.copy()
    c2w[0:3, 1:3] *= -1
    c2w = c2w[np.array([1, 0, 2, 3]), :]
    c2w[2, :] *= -1
    return c2w


def _quat_wxyz(R: F64) -> list[float]:
    from scipy.spatial.transform import Rotation

    x, y, z, w = Rotation.from_matrix(R).as_quat()
    return [float(w), float(x), float(y), float(z)]


def write_scannetpp_scene(
    world: SyntheticWorld, out_dir: str | Path, scene_id: str, n_frames: int,
    width: int = 320, height: int = 240, seed: int = 0, on_frame: OnFrame = None,
) -> Path:
    """Write ``world`` as a ScanNet++ scene: ``scans/`` (mesh, segments, annotation with obb),
    ``iphone/`` (every frame: rgb, half-size depth, ``pose_intrinsic_imu.json``) and ``dslr/``
    (every third frame: fisheye JPGs, COLMAP text model, nerfstudio ``transforms.json``)."""
    folder = Path(out_dir) / scene_id
    (folder / DONE_MARKER).unlink(missing_ok=True)
    scans = folder / "scans"
    _write_bytes(scans / "mesh_aligned_0.05.ply", ply_bytes(world.vertices, world.colors,
                                                            world.faces))
    seg = over_segment(world.vertices, world.instance_ids)
    _write_bytes(scans / "segments.json", _json_bytes({"segIndices": seg.tolist()}))
    groups = []
    for o in world.objects:
        groups.append({
            "id": o.instance_id, "objectId": o.instance_id, "label": o.label,
            "segments": np.unique(seg[world.instance_ids == o.instance_id]).tolist(),
            # rows of normalizedAxes are the box axes (the toolkit transposes to get R)
            "obb": {"centroid": o.box.center.tolist(), "axesLengths": o.box.size.tolist(),
                    "normalizedAxes": o.box.R_world_box.T.ravel().tolist()},
        })
    _write_bytes(scans / "segments_anno.json", _json_bytes({"sceneId": scene_id,
                                                            "segGroups": groups}, indent=1))
    caster = make_world_caster(world)
    poses = _walk(world, n_frames, seed, width, height)

    # iPhone: pinhole colour at full size, depth at half size, poses camera-to-world
    K = default_intrinsics(width, height)
    dw, dh = max(1, width // 2), max(1, height // 2)
    K_depth = Intrinsics(K, width, height).scaled_to(dw, dh).K
    rays, rays_depth = _rays(K, width, height), _rays(K_depth, dw, dh)
    meta = {}
    iphone = folder / "iphone"
    for i, T in enumerate(poses):
        name = f"frame_{i:06d}"
        rgb, _, _ = render_rays(world, caster, rays, width, height, T)
        _, depth_mm, _ = render_rays(world, caster, rays_depth, dw, dh, T)
        _write_bytes(iphone / "rgb" / f"{name}.jpg", _jpeg(rgb))
        _write_bytes(iphone / "depth" / f"{name}.png", _png(depth_mm))
        meta[name] = {"timestamp": i / 60.0, "intrinsic": K.tolist(), "pose": T.tolist(),
                      "aligned_pose": T.tolist()}
        if on_frame is not None:
            on_frame()
    _write_bytes(iphone / "pose_intrinsic_imu.json", _json_bytes(meta))

    # DSLR: fisheye images, COLMAP text model (world-to-camera), nerfstudio transforms
    f = DSLR_FOCAL_SHARE * width
    K_f = np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])
    k = DSLR_FISHEYE
    rays_f = fisheye_rays(K_f, k, width, height).astype(np.float32)
    dslr = folder / "dslr"
    images_txt = ["# IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME", "# POINTS2D[] as (X, Y, ID)"]
    frames = []
    for j, i in enumerate(range(0, n_frames, 3)):
        name = f"DSC{j + 1:05d}.JPG"
        rgb, _, _ = render_rays(world, caster, rays_f, width, height, poses[i])
        _write_bytes(dslr / "resized_images" / name, _jpeg(rgb))
        T_cw = invert_pose(poses[i])
        q = _quat_wxyz(T_cw[:3, :3])
        t = T_cw[:3, 3]
        images_txt.append(" ".join([str(j + 1), *(f"{v:.12g}" for v in (*q, *t)), "1", name]))
        images_txt.append("")
        frames.append({"file_path": name, "transform_matrix": _nerfstudio_matrix(poses[i]).tolist()})
    params = " ".join(f"{v:.12g}" for v in (f, f, width / 2.0, height / 2.0, *k))
    cams = f"# CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]\n1 OPENCV_FISHEYE {width} {height} {params}\n"
    _write_bytes(dslr / "colmap" / "cameras.txt", cams.encode())
    _write_bytes(dslr / "colmap" / "images.txt", ("\n".join(images_txt) + "\n").encode())
    _write_bytes(dslr / "colmap" / "points3D.txt", b"# 3D point list\n")
    transforms = {"fl_x": f, "fl_y": f, "cx": width / 2.0, "cy": height / 2.0, "w": width,
                  "h": height, "k1": k[0], "k2": k[1], "k3": k[2], "k4": k[3],
                  "camera_model": "OPENCV_FISHEYE", "frames": frames, "test_frames": []}
    _write_bytes(dslr / "nerfstudio" / "transforms.json", _json_bytes(transforms, indent=1))
    _write_bytes(dslr / "train_test_lists.json",
                 _json_bytes({"train": [fr["file_path"] for fr in frames], "test": []}))
    _done(folder, {"layout": "scannetpp", "scene_id": scene_id, "world_seed": world.seed,
                   "seed": seed, "n_frames": n_frames, "width": width, "height": height})
    return folder


# --- Structured3D ---------------------------------------------------------------------------


def _room_of(world: SyntheticWorld, xy: F64) -> int:
    for r, room in enumerate(world.rooms):
        if room.x0 <= xy[0] <= room.x1 and room.y0 <= xy[1] <= room.y1:
            return r
    return 0


def write_structured3d_scene(
    world: SyntheticWorld, out_dir: str | Path, scene_id: str, n_frames: int,
    width: int = 320, height: int = 240, seed: int = 0, on_frame: OnFrame = None,
) -> Path:
    """Write ``world`` as a Structured3D scene: one perspective view per fourth frame of the
    walk, filed under the room it stands in, and ``bbox_3d.json`` for the furniture (mm)."""
    folder = Path(out_dir) / scene_id
    (folder / DONE_MARKER).unlink(missing_ok=True)
    furniture = [o for o in world.objects if o.kind != "structure"]
    boxes = []
    for o in furniture:
        basis = o.box.R_world_box.T.copy()  # one row per box axis
        if o.instance_id % 2:  # SUN RGB-D style bases may be left-handed: exercise that
            basis[2] = -basis[2]
        boxes.append({"ID": o.instance_id, "basis": basis.tolist(),
                      "coeffs": (o.box.size / 2.0 * 1000.0).tolist(),
                      "centroid": (o.box.center * 1000.0).tolist()})
    _write_bytes(folder / "bbox_3d.json", _json_bytes(boxes, indent=1))
    instance_of_face = world.face_instance_ids
    is_furniture = np.zeros(len(world.objects) + 1, bool)
    is_furniture[[o.instance_id for o in furniture]] = True
    sem_of_instance = np.array([nyu40_id(o.label) for o in world.objects] + [22], np.uint8)
    f = default_intrinsics(width, height)[0, 0]
    K = np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])
    xfov, yfov = np.arctan((width / 2.0) / f), np.arctan((height / 2.0) / f)
    caster = make_world_caster(world)
    rays = _rays(K, width, height)
    counts: dict[int, int] = {}
    for i, T in enumerate(_walk(world, n_frames, seed, width, height)):
        if i % 4:
            if on_frame is not None:
                on_frame()
            continue
        room = _room_of(world, T[:2, 3])
        pos = counts.get(room, 0)
        counts[room] = pos + 1
        view = folder / "2D_rendering" / str(485142 + room) / "perspective" / "full" / str(pos)
        rgb, depth_mm, fid = render_rays(world, caster, rays, width, height, T)
        inst = np.where(fid >= 0, instance_of_face[np.maximum(fid, 0)], -1)
        inst = np.where(inst < 0, len(world.objects), inst)  # ceiling and misses
        instance = np.where(is_furniture[inst], inst, 65535).astype(np.uint16)
        semantic = np.where(fid >= 0, sem_of_instance[inst], 0).astype(np.uint8)
        _write_bytes(view / "rgb_rawlight.png", _png(rgb))
        _write_bytes(view / "depth.png", _png(depth_mm))
        _write_bytes(view / "instance.png", _png(instance))
        _write_bytes(view / "semantic.png", _png(semantic))
        eye, towards, up = T[:3, 3] * 1000.0, T[:3, 2], -T[:3, 1]
        line = " ".join(f"{v:.9g}" for v in (*eye, *towards, *up, xfov, yfov)) + " 1\n"
        _write_bytes(view / "camera_pose.txt", line.encode())
        if on_frame is not None:
            on_frame()
    _done(folder, {"layout": "structured3d", "scene_id": scene_id, "world_seed": world.seed,
                   "seed": seed, "n_frames": n_frames, "width": width, "height": height})
    return folder


# --- ARKitScenes ----------------------------------------------------------------------------


def write_arkitscenes_scene(
    world: SyntheticWorld, out_dir: str | Path, scene_id: str, n_frames: int,
    width: int = 256, height: int = 192, seed: int = 0, on_frame: OnFrame = None,
    sky_direction: str | None = None,
) -> Path:
    """Write ``world`` as an ARKitScenes 3DOD folder ``<video_id>/`` (``scene_id`` is the video
    id): annotation with ``obbAligned`` boxes, mesh, ``lowres_wide`` colour, ``lowres_depth``,
    ``.pincam`` intrinsics and the ``lowres_wide.traj`` world-to-camera trajectory.

    ``sky_direction`` (``Up``, ``Left``, ``Down``, ``Right``) films the walk with the device
    held so that the sky appears there in the stored ``width x height`` images, and records it
    in ``<out_dir>/metadata.csv`` (one row per video, merged)."""
    vid = scene_id
    folder = Path(out_dir) / vid
    (folder / DONE_MARKER).unlink(missing_ok=True)
    _write_bytes(folder / f"{vid}_3dod_mesh.ply", ply_bytes(world.vertices, world.colors,
                                                             world.faces))
    data = []
    for o in world.objects:
        if o.kind == "structure":
            continue
        data.append({"uid": f"{vid}-{o.instance_id}", "objectId": o.instance_id,
                     "label": ARKIT_LABEL.get(o.label, o.label),
                     "segments": {"obbAligned": {
                         "centroid": o.box.center.tolist(), "axesLengths": o.box.size.tolist(),
                         "normalizedAxes": o.box.R_world_box.T.ravel().tolist()}}})
    _write_bytes(folder / f"{vid}_3dod_annotation.json",
                 _json_bytes({"data": data, "skipped": False, "stats": {}}, indent=1))
    frames = folder / f"{vid}_frames"
    K = default_intrinsics(width, height)
    caster = make_world_caster(world)
    rays = _rays(K, width, height)
    traj = []
    from scipy.spatial.transform import Rotation

    turns = SKY_CLOCKWISE_TURNS[sky_direction or "Up"]
    up_w, up_h = (height, width) if turns % 2 else (width, height)  # the upright image's size
    for i, T_up in enumerate(_walk(world, n_frames, seed, up_w, up_h)):
        T = _device_pose(T_up, turns)
        ts = f"{6845.7 + i * 0.1:.3f}"
        rgb, depth_mm, _ = render_rays(world, caster, rays, width, height, T)
        _write_bytes(frames / "lowres_wide" / f"{vid}_{ts}.png", _png(rgb))
        _write_bytes(frames / "lowres_depth" / f"{vid}_{ts}.png", _png(depth_mm))
        pincam = f"{width} {height} {K[0, 0]:.9g} {K[1, 1]:.9g} {K[0, 2]:.9g} {K[1, 2]:.9g}\n"
        _write_bytes(frames / "lowres_wide_intrinsics" / f"{vid}_{ts}.pincam", pincam.encode())
        T_cw = invert_pose(T)  # the .traj line is world-to-camera
        aa = Rotation.from_matrix(T_cw[:3, :3]).as_rotvec()
        # the trajectory runs at its own clock: timestamps a little off the frames' names
        traj.append(" ".join(f"{v:.9g}" for v in (float(ts) + 0.0004, *aa, *T_cw[:3, 3])))
        if on_frame is not None:
            on_frame()
    _write_bytes(frames / "lowres_wide.traj", ("\n".join(traj) + "\n").encode())
    if sky_direction is not None:
        _merge_metadata_row(Path(out_dir) / "metadata.csv", vid, sky_direction)
    _done(folder, {"layout": "arkitscenes", "scene_id": scene_id, "world_seed": world.seed,
                   "seed": seed, "n_frames": n_frames, "width": width, "height": height})
    return folder


#: ARKitScenes ``sky_direction`` -> clockwise quarter turns that make a stored image upright
#: (the toolkit's ``depth_upsampling/dataset.py``: Left -> 90 degrees clockwise, Right -> 90
#: counter-clockwise, Down -> 180).
SKY_CLOCKWISE_TURNS = {"Up": 0, "Left": 1, "Down": 2, "Right": 3}


def _device_pose(T_world_up: F64, turns: int) -> F64:
    """Pose of the device camera whose image, turned ``turns`` quarter turns clockwise, is the
    upright camera's: it is rolled about the optical axis so that its +x axis is the upright
    camera's -y axis once per turn (turning the image clockwise takes the sky from the left
    edge to the top)."""
    R = T_world_up[:3, :3].copy()
    for _ in range(turns):
        R = np.column_stack([R[:, 1], -R[:, 0], R[:, 2]])  # x_dev = y_up, y_dev = -x_up
    T = T_world_up.copy()
    T[:3, :3] = R
    return T


def _merge_metadata_row(path: Path, video_id: str, sky_direction: str) -> None:
    """Add (or replace) ``video_id``'s row of an ARKitScenes-style ``metadata.csv``."""
    import csv

    cols = ["video_id", "visit_id", "fold", "sky_direction"]
    rows: dict[str, dict[str, str]] = {}
    if path.is_file():
        with open(path, encoding="utf-8", newline="") as fh:
            rows = {r["video_id"]: r for r in csv.DictReader(fh)}
    rows[video_id] = {"video_id": video_id, "visit_id": "", "fold": "Training",
                      "sky_direction": sky_direction}
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    writer.writeheader()
    for vid in sorted(rows):
        writer.writerow({c: rows[vid].get(c, "") for c in cols})
    _write_bytes(path, buf.getvalue().encode())


# --- preprocessed ScanNet (mmdetection3d) ---------------------------------------------------

INSTANCE_DIR = "scannet_instance_data"
INFOS_NAME = "scannet_infos_train.pkl"
#: Pickle protocol of the infos file: 2, the oldest that real infos files use (bytes written as
#: ``_codecs.encode``), so the round trip exercises the loader's safe unpickler on it.
INFOS_PROTOCOL = 2


def write_scannet_preprocessed_scene(
    world: SyntheticWorld, out_dir: str | Path, scene_id: str, n_frames: int,
    width: int = 320, height: int = 240, seed: int = 0, on_frame: OnFrame = None,
) -> Path:
    """Write ``world`` as mmdetection3d's ScanNet export: raw-frame points and labels in
    ``scannet_instance_data/``, images under ``posed_images/<scene>/``, and this scene's infos
    entry (merged into ``scannet_infos_train.pkl`` by :func:`write_infos`).

    Returns the scene prefix ``<out>/scannet_instance_data/<scene>`` (what the loader takes).
    """
    out = Path(out_dir)
    data = out / INSTANCE_DIR
    marker = out / "posed_images" / scene_id / DONE_MARKER
    marker.unlink(missing_ok=True)
    rng = np.random.default_rng(seed)
    A = random_alignment(rng)  # raw -> aligned
    bad = invalid_frames(n_frames, rng)
    v_raw = transform_points(invert_pose(A), world.vertices)
    vert = np.column_stack([v_raw, world.colors.astype(np.float64)]).astype(np.float32)
    ins = np.where(world.instance_ids >= 0, world.instance_ids + 1, 0).astype(np.int64)
    sem = np.array([nyu40_id(o.label) for o in world.objects] + [22])[world.instance_ids]
    rows = []
    for o in world.objects:
        pts = world.vertices[world.instance_ids == o.instance_id]
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        if o.kind != "structure":
            rows.append([*((lo + hi) / 2), *(hi - lo), nyu40_id(o.label)])
    for suffix, arr in (("vert", vert), ("ins_label", ins), ("sem_label", sem.astype(np.int64)),
                        ("aligned_bbox", np.array(rows, np.float64).reshape(-1, 7)),
                        ("axis_align_matrix", A)):
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        _write_bytes(data / f"{scene_id}_{suffix}.npy", buf.getvalue())
    K = default_intrinsics(width, height)
    K4 = np.eye(4)
    K4[:3, :3] = K
    caster = make_world_caster(world)
    rays = _rays(K, width, height)
    img_paths, extrinsics = [], []
    for i, T in enumerate(_walk(world, n_frames, seed, width, height)):
        rgb, _, _ = render_rays(world, caster, rays, width, height, T)
        rel = f"posed_images/{scene_id}/{i:05d}.jpg"
        _write_bytes(out / rel, _jpeg(rgb))
        img_paths.append(rel)
        extrinsics.append(np.full((4, 4), -np.inf) if i in bad else invert_pose(A) @ T)
        if on_frame is not None:
            on_frame()
    entry = {"point_cloud": {"num_features": 6, "lidar_idx": scene_id},
             "pts_path": f"points/{scene_id}.bin", "intrinsics": K4.tolist(),
             "extrinsics": [T.tolist() for T in extrinsics], "img_paths": img_paths,
             "annos": {"axis_align_matrix": A.tolist(), "gt_num": len(rows)}}
    # the scene's entry, merged with the others' into the infos pickle by write_infos
    _write_bytes(out / "posed_images" / scene_id / "info.json",
                 _json_bytes(entry))  # -inf poses are written as -Infinity
    _done(marker.parent, {"layout": "scannet_preprocessed", "scene_id": scene_id,
                          "world_seed": world.seed, "seed": seed, "n_frames": n_frames,
                          "width": width, "height": height})
    return data / scene_id


def write_infos(out_dir: str | Path, scene_ids: list[str]) -> Path:
    """Merge the scenes' entries into ``<out>/scannet_infos_train.pkl`` (mmdet3d v1: a list)."""
    import json

    out = Path(out_dir)
    entries = []
    for sid in scene_ids:
        e = json.loads((out / "posed_images" / sid / "info.json").read_text(encoding="utf-8"))
        e["intrinsics"] = np.asarray(e["intrinsics"], np.float64)
        e["extrinsics"] = [np.asarray(T, np.float64) for T in e["extrinsics"]]
        e["annos"]["axis_align_matrix"] = np.asarray(e["annos"]["axis_align_matrix"], np.float64)
        entries.append(e)
    path = out / INFOS_NAME
    _write_bytes(path, pickle.dumps(entries, protocol=INFOS_PROTOCOL))
    return path


# --- 3RScan ---------------------------------------------------------------------------------


def _annotated_ply_bytes(world: SyntheticWorld, vertices: F64, object_ids: NDArray[np.int64]) -> bytes:
    """3RScan's ``labels.instances.annotated.v2.ply`` (ASCII in v2, the toolkit's FAQ): per
    vertex ``x y z red green blue objectId globalId NYU40 Eigen13 RIO27``, then the faces."""
    header = (
        "ply\nformat ascii 1.0\n"
        f"element vertex {len(vertices)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\n"
        "property ushort objectId\nproperty ushort globalId\nproperty uchar NYU40\n"
        "property uchar Eigen13\nproperty uchar RIO27\n"
        f"element face {len(world.faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    nyu = np.array([nyu40_id(o.label) for o in world.objects] + [0])[world.instance_ids]
    rows = [
        f"{x:.6f} {y:.6f} {z:.6f} {r} {g} {b} {oid} {oid} {n} 0 0"
        for (x, y, z), (r, g, b), oid, n in zip(vertices, world.colors[:, :3], object_ids, nyu,
                                               strict=True)
    ]
    faces = [f"3 {a} {b} {c}" for a, b, c in world.faces]
    return (header + "\n".join(rows + faces) + "\n").encode("ascii")


def write_3rscan_scene(
    world: SyntheticWorld, out_dir: str | Path, scene_id: str, n_frames: int,
    width: int = 320, height: int = 240, seed: int = 0, on_frame: OnFrame = None,
) -> tuple[Path, F64]:
    """Write ``world`` as a 3RScan scan ``<scene_id>/`` in the scan's own (raw) frame:
    ``mesh.refined.v2.obj``, ``labels.instances.annotated.v2.ply`` (``objectId`` = instance id
    + 1; 0 = unannotated), ``semseg.v2.json``, and ``sequence/`` with ``_info.txt``,
    ``frame-XXXXXX.color.jpg``, half-size ``.depth.pgm`` (uint16 mm) and ``.pose.txt``
    (camera-to-world, raw frame; every third frame ``-inf``, lost tracking).

    Returns the folder and ``T_aligned_raw`` (the world is the aligned frame: EmbodiedScan's
    ``axis_align_matrix`` for this scan).
    """
    folder = Path(out_dir) / scene_id
    (folder / DONE_MARKER).unlink(missing_ok=True)
    rng = np.random.default_rng(seed)
    A = random_alignment(rng)
    raw = invert_pose(A)
    v_raw = transform_points(raw, world.vertices)
    object_ids = np.where(world.instance_ids >= 0, world.instance_ids + 1, 0)
    obj = ["# spar3d synthetic world", "mtllib mesh.refined.mtl"]
    obj += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in v_raw]
    obj += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in world.faces]
    _write_bytes(folder / "mesh.refined.v2.obj", ("\n".join(obj) + "\n").encode())
    _write_bytes(folder / "labels.instances.annotated.v2.ply",
                 _annotated_ply_bytes(world, v_raw, object_ids))
    groups = [{"id": o.instance_id + 1, "objectId": o.instance_id + 1, "label": o.label,
               "segments": []} for o in world.objects]
    _write_bytes(folder / "semseg.v2.json",
                 _json_bytes({"scan_id": scene_id, "segGroups": groups}, indent=1))
    K = default_intrinsics(width, height)
    dw, dh = max(1, width // 2), max(1, height // 2)
    K_depth = Intrinsics(K, width, height).scaled_to(dw, dh).K
    seq = folder / "sequence"

    def k16(M: F64) -> str:
        K4 = np.eye(4)
        K4[:3, :3] = M
        return " ".join(f"{v:.9g}" for v in K4.ravel())

    info = [
        "m_versionNumber = 4", "m_sensorName = spar3d synthetic",
        f"m_colorWidth = {width}", f"m_colorHeight = {height}",
        f"m_depthWidth = {dw}", f"m_depthHeight = {dh}", "m_depthShift = 1000",
        f"m_calibrationColorIntrinsic = {k16(K)}",
        f"m_calibrationColorExtrinsic = {k16(np.eye(3))}",
        f"m_calibrationDepthIntrinsic = {k16(K_depth)}",
        f"m_calibrationDepthExtrinsic = {k16(np.eye(3))}",
        f"m_frames.size = {n_frames}",
    ]
    _write_bytes(seq / "_info.txt", ("\n".join(info) + "\n").encode())
    caster = make_world_caster(world)
    rays, rays_depth = _rays(K, width, height), _rays(K_depth, dw, dh)
    for i, T in enumerate(_walk(world, n_frames, seed, width, height)):
        stem = f"frame-{i:06d}"
        rgb, _, _ = render_rays(world, caster, rays, width, height, T)
        _, depth_mm, _ = render_rays(world, caster, rays_depth, dw, dh, T)
        _write_bytes(seq / f"{stem}.color.jpg", _jpeg(rgb))
        buf = io.BytesIO()
        Image.fromarray(depth_mm.astype(np.uint16)).save(buf, format="PPM")  # 16-bit P5 PGM
        _write_bytes(seq / f"{stem}.depth.pgm", buf.getvalue())
        pose = np.full((4, 4), -np.inf) if i % 3 == 2 else raw @ T
        _write_bytes(seq / f"{stem}.pose.txt",
                     ("\n".join(" ".join(f"{v:.9g}" for v in row) for row in pose) + "\n").encode())
        if on_frame is not None:
            on_frame()
    _done(folder, {"layout": "3rscan", "scene_id": scene_id, "world_seed": world.seed,
                   "seed": seed, "n_frames": n_frames, "width": width, "height": height})
    return folder, A


# --- Matterport3D ---------------------------------------------------------------------------


def _region_ply_bytes(
    vertices: F64, colors: NDArray[np.uint8], faces: NDArray[np.int64],
    face_props: NDArray[np.int64],
) -> bytes:
    """A region PLY as ``data_organization.md`` describes it: vertices with normals, texture
    coordinates and colours, faces with ``face_material face_segment face_category``."""
    header = (
        "ply\nformat ascii 1.0\n"
        f"element vertex {len(vertices)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        "property float nx\nproperty float ny\nproperty float nz\n"
        "property float tu\nproperty float tv\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\n"
        f"element face {len(faces)}\nproperty list uchar int vertex_indices\n"
        "property int face_material\nproperty int face_segment\nproperty int face_category\n"
        "end_header\n"
    )
    rows = [f"{x:.6f} {y:.6f} {z:.6f} 0 0 1 0 0 {r} {g} {b}"
            for (x, y, z), (r, g, b) in zip(vertices, colors[:, :3], strict=True)]
    rows += [f"3 {a} {b} {c} {m} {s} {k}"
             for (a, b, c), (m, s, k) in zip(faces, face_props, strict=True)]
    return (header + "\n".join(rows) + "\n").encode("ascii")


def write_matterport3d_scene(
    world: SyntheticWorld, out_dir: str | Path, scene_id: str, n_frames: int,
    width: int = 320, height: int = 256, seed: int = 0, on_frame: OnFrame = None,
) -> tuple[Path, F64]:
    """Write ``world`` as one region (``region0``) of a Matterport3D house ``<scene_id>/`` in
    the house's own (raw) frame: ``region_segmentations/region0.{ply,fsegs.json,semseg.json}``,
    ``undistorted_camera_parameters/<house>.conf`` (OpenGL camera-to-world poses: the canonical
    camera looks along -z with +y up), ``undistorted_color_images/<pano>_i<cam>_0.jpg`` and
    ``undistorted_depth_images/<pano>_d<cam>_0.png`` (uint16, 0.25 mm per unit), three
    cameras per panorama, plus one camera of another region far outside this one.

    Returns the region PLY and ``T_aligned_raw`` (EmbodiedScan's ``axis_align_matrix``).
    """
    house = Path(out_dir) / scene_id
    (house / DONE_MARKER).unlink(missing_ok=True)
    rng = np.random.default_rng(seed)
    A = random_alignment(rng)
    raw = invert_pose(A)
    v_raw = transform_points(raw, world.vertices)
    seg = over_segment(world.vertices, world.instance_ids)[world.faces[:, 0]]  # per face
    inst = world.face_instance_ids
    cat = np.array([nyu40_id(o.label) for o in world.objects] + [0])[inst]
    props = np.column_stack([seg, np.where(inst >= 0, inst, -1), cat])
    regions = house / "region_segmentations"
    _write_bytes(regions / "region0.ply", _region_ply_bytes(v_raw, world.colors, world.faces,
                                                            props))
    _write_bytes(regions / "region0.fsegs.json",
                 _json_bytes({"sceneId": f"{scene_id}_region0", "segIndices": seg.tolist()}))
    groups = [{"id": o.instance_id, "objectId": o.instance_id, "label": o.label,
               "segments": np.unique(seg[inst == o.instance_id]).tolist()}
              for o in world.objects]
    _write_bytes(regions / "region0.semseg.json",
                 _json_bytes({"sceneId": f"{scene_id}_region0", "segGroups": groups}, indent=1))
    K = default_intrinsics(width, height)
    caster = make_world_caster(world)
    rays = _rays(K, width, height)
    poses = _walk(world, n_frames, seed, width, height)
    far = poses[0].copy()
    far[:3, 3] += [50.0, 0.0, 0.0]  # a camera of another region
    conf = ["dataset matterport", f"n_images {n_frames + 1}",
            "depth_directory undistorted_depth_images", "color_directory undistorted_color_images",
            "intrinsics_matrix " + " ".join(f"{v:.9g}" for v in K.ravel())]
    gl = np.diag([1.0, -1.0, -1.0, 1.0])  # OpenCV camera axes -> the canonical OpenGL camera
    for i, T in enumerate([*poses, far]):
        pano, cam = f"{i // 3:032x}", i % 3
        color, depth = f"{pano}_i{cam}_0.jpg", f"{pano}_d{cam}_0.png"
        if i < n_frames:
            rgb, depth_mm, _ = render_rays(world, caster, rays, width, height, T)
            _write_bytes(house / "undistorted_color_images" / color, _jpeg(rgb))
            quarter_mm = np.minimum(depth_mm.astype(np.int64) * 4, 65535).astype(np.uint16)
            _write_bytes(house / "undistorted_depth_images" / depth, _png(quarter_mm))
            if on_frame is not None:
                on_frame()
        T_conf = raw @ T @ gl
        conf.append(f"scan {depth} {color} " + " ".join(f"{v:.9g}" for v in T_conf.ravel()))
    _write_bytes(house / "undistorted_camera_parameters" / f"{scene_id}.conf",
                 ("\n".join(conf) + "\n").encode())
    _done(house, {"layout": "matterport3d", "scene_id": scene_id, "world_seed": world.seed,
                  "seed": seed, "n_frames": n_frames, "width": width, "height": height})
    return regions / "region0.ply", A
