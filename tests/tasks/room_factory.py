"""Factory of hand-built scene indexes for the task engine: a 6 x 5 m room with labelled boxes and a few
cameras from ``look_at``. Visibility is computed here with plain numpy (box corners projected
with a pinhole), independently of the index builder, so every expected value is hand-checkable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from spar3d.geometry.boxes import OrientedBox
from spar3d.geometry.transforms import look_at
from spar3d.index.records import ImageRecord, ObjectRecord, SceneIndex, VisibleObject, save_index

W, H = 640, 480
K = np.array([[500.0, 0.0, 319.5], [0.0, 500.0, 239.5], [0.0, 0.0, 1.0]])

# id, label, centre (m), size (m), yaw (rad)
ROOM_OBJECTS = [
    (1, "table", (2.0, 3.0, 0.40), (1.2, 0.8, 0.8), 0.0),
    (2, "chair", (1.0, 2.0, 0.45), (0.5, 0.5, 0.9), 0.0),
    (3, "sofa", (4.5, 4.0, 0.45), (2.0, 0.9, 0.9), 0.0),
    (4, "lamp", (0.5, 4.5, 1.50), (0.3, 0.3, 0.6), 0.0),
    (5, "tv", (3.0, 4.85, 1.20), (1.0, 0.1, 0.6), 0.0),
    (6, "bed", (4.5, 1.5, 0.30), (2.0, 1.6, 0.6), 0.3),
    (7, "cabinet", (0.4, 0.5, 0.50), (0.6, 0.4, 1.0), 0.0),
    (8, "chair", (2.9, 2.2, 0.45), (0.5, 0.5, 0.9), 0.0),
]

# eye, target
ROOM_CAMERAS = [
    ((0.2, 0.2, 1.5), (3.0, 3.5, 0.8)),
    ((5.8, 0.3, 1.6), (2.0, 3.5, 0.6)),
    ((5.6, 4.8, 1.5), (1.5, 1.5, 0.5)),
    ((0.3, 4.7, 1.4), (3.5, 1.5, 0.5)),
    ((3.0, 0.1, 2.0), (3.0, 4.0, 0.5)),
    ((1.0, 0.3, 1.2), (1.5, 4.0, 1.0)),
]


def project_corners(
    T_world_cam: np.ndarray, corners_world: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(8, 2) pixel coordinates and (8,) depths of world corners (plain pinhole, no helpers)."""
    R, t = T_world_cam[:3, :3], T_world_cam[:3, 3]
    p = (corners_world - t) @ R  # R^T (p - t), row-vector form
    uv = np.stack([K[0, 0] * p[:, 0] / p[:, 2] + K[0, 2], K[1, 1] * p[:, 1] / p[:, 2] + K[1, 2]], 1)
    return uv, p[:, 2]


def visible_objects(T_world_cam: np.ndarray, objects: list[ObjectRecord]) -> list[VisibleObject]:
    """Objects fully in front of the camera whose clipped corner box covers >= 400 px^2."""
    out = []
    for o in objects:
        uv, z = project_corners(T_world_cam, o.box.corners())
        if np.any(z <= 0.1):
            continue
        edge = uv + 0.5  # pixel-centre coordinates to pixel-edge coordinates
        x1, y1 = np.clip(edge.min(0), 0, [W, H])
        x2, y2 = np.clip(edge.max(0), 0, [W, H])
        if (x2 - x1) * (y2 - y1) < 400:
            continue
        inside = (edge[:, 0] >= 0) & (edge[:, 0] <= W) & (edge[:, 1] >= 0) & (edge[:, 1] <= H)
        c_uv, c_z = project_corners(T_world_cam, o.box.center[None])
        cu, cv = float(c_uv[0, 0]), float(c_uv[0, 1])
        # no occlusion in this room: a point marker goes on the centre when it is in the image
        on_image = c_z[0] > 0 and -0.5 <= cu <= W - 0.5 and -0.5 <= cv <= H - 0.5
        out.append(
            VisibleObject(
                o.object_id,
                (float(x1), float(y1), float(x2), float(y2)),
                float(inside.mean()),
                float(c_z[0]),
                (cu, cv),
                marker_uv=(cu, cv) if on_image else None,
            )
        )
    return out


def make_index(
    objects=ROOM_OBJECTS,
    cameras=ROOM_CAMERAS,
    scene_id: str = "room0000_00",
    scene_dir: Path = Path("."),
) -> SceneIndex:
    objs = [
        ObjectRecord(oid, label, OrientedBox.from_yaw(c, s, yaw))
        for oid, label, c, s, yaw in objects
    ]
    images = []
    for i, (eye, target) in enumerate(cameras):
        T = look_at(eye, target)
        vis = visible_objects(T, objs)
        images.append(
            ImageRecord(
                i, str(10 * i), f"color/{10 * i}.jpg", f"depth/{10 * i}.png", W, H, K.copy(), T, vis
            )
        )
        for v in vis:
            next(o for o in objs if o.object_id == v.object_id).image_indices.append(i)
    xs, ys = np.meshgrid(np.arange(0.05, 6.0, 0.1), np.arange(0.05, 5.0, 0.1))
    return SceneIndex(
        scene_id,
        "toy",
        scene_dir,
        images,
        objs,
        footprint_xy=np.stack([xs.ravel(), ys.ravel()], 1),
        footprint_voxel_m=0.1,
        floor_z=0.0,
    )


def write_scene_dir(root: Path, scene_id: str = "room0000_00") -> Path:
    """A scene folder with the index file and small colour / depth images on disk."""
    scene_dir = root / scene_id
    index = make_index(scene_id=scene_id, scene_dir=scene_dir)
    (scene_dir / "color").mkdir(parents=True)
    (scene_dir / "depth").mkdir()
    for im in index.images:
        shade = (int(im.frame_id) * 4) % 256
        Image.new("RGB", (W, H), (shade, 100, 200 - shade // 2)).save(
            scene_dir / im.color_path, quality=90
        )
        Image.fromarray(np.full((H, W), 1000 + int(im.frame_id), np.uint16)).save(
            scene_dir / im.depth_path
        )
    save_index(index)
    return scene_dir


LABELS = ["chair", "table", "sofa", "lamp", "tv", "bed", "cabinet", "desk", "shelf", "plant",
          "box", "bin", "monitor", "pillow", "door", "window", "sink", "stool", "fridge", "oven"]  # fmt: skip


def random_index(
    seed: int = 0, n_objects: int = 40, n_cameras: int = 40, room=(10.0, 8.0)
) -> SceneIndex:
    """A larger random room for statistics and benchmarks (same projection-based visibility)."""
    rng = np.random.default_rng(seed)
    objects = []
    for oid in range(1, n_objects + 1):
        size = rng.uniform([0.2, 0.2, 0.2], [1.8, 1.2, 1.5])
        center = (
            rng.uniform(0.5, room[0] - 0.5),
            rng.uniform(0.5, room[1] - 0.5),
            size[2] / 2 + rng.choice([0.0, 0.0, 0.8]),
        )
        objects.append(
            (
                oid,
                LABELS[int(rng.integers(len(LABELS)))],
                tuple(center),
                tuple(size),
                float(rng.uniform(-0.5, 0.5)),
            )
        )
    cameras = []
    for _ in range(n_cameras):
        eye = (
            rng.uniform(0.2, room[0] - 0.2),
            rng.uniform(0.2, room[1] - 0.2),
            rng.uniform(1.2, 1.8),
        )
        target = (rng.uniform(1, room[0] - 1), rng.uniform(1, room[1] - 1), rng.uniform(0.2, 1.0))
        if np.hypot(target[0] - eye[0], target[1] - eye[1]) > 1.0:
            cameras.append((eye, target))
    return make_index(objects, cameras, scene_id=f"rand{seed:04d}_00")
