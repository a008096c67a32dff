"""A small mmdetection3d-style preprocessed ScanNet scene written to disk, for loader and CLI tests.

Files (as mmdet3d's ``tools/dataset_converters`` write them)::

    <root>/scannet_instance_data/<scene>_vert.npy            raw points (xyz + rgb)
    <root>/scannet_instance_data/<scene>_ins_label.npy       instance id per point (0 = none)
    <root>/scannet_instance_data/<scene>_sem_label.npy       NYU40 id per point
    <root>/scannet_instance_data/<scene>_aligned_bbox.npy    (K, 7) aligned boxes
    <root>/scannet_instance_data/<scene>_axis_align_matrix.npy
    <root>/scannet_infos_train.pkl                           v1 infos list, pickle protocol 2
    <root>/posed_images/<scene>/0000{0,1,2}.jpg              colour frames (64x48)

The room: a 4 x 4 m floor, a table (NYU40 7) at (2, 2.5), a chair (5) in front of it that hides
the table's centre from camera 0, and an "otherprop" box (40). Points are dense samples of the box
surfaces, so visibility by splatting is well defined.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from PIL import Image

from spar3d.geometry.transforms import look_at

A = np.array([[0, -1, 0, 1], [1, 0, 0, 2], [0, 0, 1, 0.0], [0, 0, 0, 1]], float)
W, H = 64, 48
K = np.array([[50.0, 0, 31.5, 0], [0, 50.0, 23.5, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
# (instance id, NYU40 id, centre, size), aligned frame
BOXES = [
    (1, 7, (2.0, 2.6, 0.4), (1.2, 0.8, 0.8)),  # table
    (2, 5, (2.0, 1.6, 0.3), (0.5, 0.5, 0.6)),  # chair in front of the table
    (3, 40, (0.8, 2.5, 0.2), (0.3, 0.3, 0.4)),  # otherprop clutter
]
EYES = [((2.0, 0.2, 0.8), (2.0, 2.6, 0.4)), ((0.3, 0.5, 1.2), (2.2, 2.4, 0.3)),
        ((3.7, 0.6, 1.0), (1.8, 2.4, 0.3))]  # fmt: skip


def _box_surface(center: tuple, size: tuple, step: float) -> np.ndarray:
    c, s = np.asarray(center), np.asarray(size)
    out = []
    for axis in range(3):
        u, v = [a for a in range(3) if a != axis]
        gu = np.arange(-s[u] / 2, s[u] / 2 + 1e-9, step)
        gv = np.arange(-s[v] / 2, s[v] / 2 + 1e-9, step)
        uu, vv = np.meshgrid(gu, gv, indexing="ij")
        for sign in (-1, 1):
            p = np.zeros((uu.size, 3))
            p[:, u], p[:, v], p[:, axis] = uu.ravel(), vv.ravel(), sign * s[axis] / 2
            out.append(p + c)
    return np.concatenate(out)


def scene_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Aligned xyz, instance ids and NYU40 ids of every point."""
    xs, ins, sem = [], [], []
    g = np.arange(0.0, 4.0, 0.04)
    fx, fy = np.meshgrid(g, g, indexing="ij")
    floor = np.column_stack([fx.ravel(), fy.ravel(), np.zeros(fx.size)])
    xs.append(floor), ins.append(np.zeros(len(floor))), sem.append(np.full(len(floor), 2))
    for iid, nyu, c, s in BOXES:
        p = _box_surface(c, s, 0.03)
        p = p[p[:, 2] > 0.005]  # the bottom face lies on the floor
        xs.append(p), ins.append(np.full(len(p), iid)), sem.append(np.full(len(p), nyu))
    return np.concatenate(xs), np.concatenate(ins).astype(np.int64), np.concatenate(sem)


def write_preprocessed_scene(
    data: Path, sid: str = "scene0000_00", *, protocol: int = 2, images: bool = True
) -> Path:
    """Write the scene under ``data`` (the ``scannet_instance_data`` folder); returns the stem
    ``data/<sid>`` (``str(stem) + "_vert.npy"`` is the point file)."""
    data.mkdir(parents=True, exist_ok=True)
    xyz, ins, sem = scene_points()
    raw = (np.linalg.inv(A) @ np.c_[xyz, np.ones(len(xyz))].T).T[:, :3]
    rgb = np.full((len(xyz), 3), 128.0)
    np.save(data / f"{sid}_vert.npy", np.c_[raw, rgb].astype(np.float32))
    np.save(data / f"{sid}_ins_label.npy", ins.astype(np.uint32))
    np.save(data / f"{sid}_sem_label.npy", sem.astype(np.uint32))
    boxes = np.array([[*c, *s, nyu] for _i, nyu, c, s in BOXES[:2]], float)
    np.save(data / f"{sid}_aligned_bbox.npy", boxes)
    np.save(data / f"{sid}_axis_align_matrix.npy", A)
    A_inv = np.linalg.inv(A)
    poses = [A_inv @ look_at(eye, target) for eye, target in EYES]  # raw-frame camera-to-world
    paths = [f"posed_images/{sid}/{i:05d}.jpg" for i in range(len(poses))]
    root = data.parent
    if images:
        for p in paths:
            (root / p).parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (W, H), (90, 90, 90)).save(root / p)
    entry = {
        "point_cloud": {"num_features": 6, "lidar_idx": sid},
        "pts_path": f"points/{sid}.bin",
        "intrinsics": K,
        "extrinsics": poses,
        "img_paths": paths,
        "annos": {"gt_num": 2, "name": np.array(["table", "chair"]), "axis_align_matrix": A},
    }
    with open(root / "scannet_infos_train.pkl", "wb") as fh:
        pickle.dump([entry], fh, protocol=protocol)
    return data / sid
