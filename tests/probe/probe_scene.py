"""A hand-built scene for the BEV probe: five boxes in front of three cameras whose poses are
written as explicit rotation matrices (heading, pitch, roll), so every object's BEV coordinates
in every camera's observer frame can be written down by hand.

Camera 0 stands at the world origin, 1.5 m above the floor, heading along world +y but pitched
30 deg down and rolled 10 deg: in its observer frame an object's BEV (x, y) is its world (x, y).
Cameras 1 and 2 are level, elsewhere, with headings of +10 and -5 deg (clockwise from +y seen
from above). Visibility is decided here with a plain pinhole projection of the box corners.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from spar3d.index.records import ImageRecord, ObjectRecord, SceneIndex, VisibleObject, save_index
from spar3d.scenes.model import OrientedBox

W, H = 640, 480
K = np.array([[500.0, 0.0, 319.5], [0.0, 500.0, 239.5], [0.0, 0.0, 1.0]])

# id, label, centre (m), size (m)
OBJECTS = [
    (1, "chair", (0.0, 2.0, 0.5), (0.5, 0.5, 1.0)),
    (2, "table", (1.0, 3.0, 0.4), (0.8, 0.6, 0.8)),
    (3, "lamp", (-1.0, 3.5, 0.6), (0.3, 0.3, 1.2)),
    (4, "sofa", (0.5, 4.0, 0.4), (1.2, 0.6, 0.8)),
    (5, "plant", (-0.5, 2.5, 0.5), (0.4, 0.4, 1.0)),
]
# eye (m), heading (deg, clockwise from world +y seen from above), pitch down (deg), roll (deg)
CAMERAS = [
    ((0.0, 0.0, 1.5), 0.0, 30.0, 10.0),
    ((0.5, -0.5, 1.4), 10.0, 15.0, 0.0),
    ((-0.5, -0.3, 1.6), -5.0, 20.0, 0.0),
]


def rot_x(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])


def rot_z(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])


def camera_pose(eye, heading_deg: float, pitch_down_deg: float, roll_deg: float) -> np.ndarray:
    """OpenCV camera-to-world pose: level axes (right, down, forward) for the heading, then
    pitched down about the camera x axis and rolled about its z axis."""
    h = np.radians(heading_deg)
    forward = np.array([np.sin(h), np.cos(h), 0.0])
    right = np.array([np.cos(h), -np.sin(h), 0.0])
    level = np.stack([right, np.array([0.0, 0.0, -1.0]), forward], axis=1)
    T = np.eye(4)
    T[:3, :3] = level @ rot_x(-pitch_down_deg) @ rot_z(roll_deg)
    T[:3, 3] = eye
    return T


def expected_bev(camera: int, point_world) -> tuple[float, float]:
    """BEV (x, y) of a world point for a camera, from its eye and heading only (by hand)."""
    (ex, ey, _), heading, _, _ = CAMERAS[camera]
    h = np.radians(heading)
    dx, dy = point_world[0] - ex, point_world[1] - ey
    return (dx * np.cos(h) - dy * np.sin(h), dx * np.sin(h) + dy * np.cos(h))


def _visible(T: np.ndarray, boxes: list[ObjectRecord]) -> list[VisibleObject]:
    out = []
    R, t = T[:3, :3], T[:3, 3]
    for o in boxes:
        p = (o.box.corners() - t) @ R
        if np.any(p[:, 2] <= 0.1):
            continue
        uv = np.stack(
            [K[0, 0] * p[:, 0] / p[:, 2] + K[0, 2], K[1, 1] * p[:, 1] / p[:, 2] + K[1, 2]], 1
        )
        edge = uv + 0.5
        x1, y1 = np.clip(edge.min(0), 0, [W, H])
        x2, y2 = np.clip(edge.max(0), 0, [W, H])
        if (x2 - x1) * (y2 - y1) < 400:
            continue
        c = (o.box.center - t) @ R
        cu, cv = K[0, 0] * c[0] / c[2] + K[0, 2], K[1, 1] * c[1] / c[2] + K[1, 2]
        out.append(VisibleObject(o.object_id, (x1, y1, x2, y2), 0.9, float(c[2]), (cu, cv)))
    return out


def make_probe_scene(root: Path, scene_id: str = "probe0000_00") -> Path:
    """Write the scene folder (index and JPEG frames) and return it."""
    scene_dir = root / scene_id
    (scene_dir / "color").mkdir(parents=True)
    boxes = [ObjectRecord(i, label, OrientedBox.axis_aligned(c, s)) for i, label, c, s in OBJECTS]
    images = []
    for i, cam in enumerate(CAMERAS):
        T = camera_pose(*cam)
        vis = _visible(T, boxes)
        images.append(ImageRecord(i, str(i), f"color/{i}.jpg", None, W, H, K.copy(), T, vis))
        for v in vis:
            next(b for b in boxes if b.object_id == v.object_id).image_indices.append(i)
        Image.new("RGB", (W, H), (40 * i, 120, 200)).save(scene_dir / f"color/{i}.jpg")
    index = SceneIndex(scene_id, "toy", scene_dir, images, boxes, floor_z=0.0)
    save_index(index)
    return scene_dir
