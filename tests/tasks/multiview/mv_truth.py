"""Test-side ground truth of the room fixture, computed with plain numpy from the fixture's own
constants (object centres, camera eye/target, K) -- none of spar3d's geometry or task helpers."""

from __future__ import annotations

import numpy as np
from room_factory import ROOM_CAMERAS, ROOM_OBJECTS, H, K, W

CENTERS = {oid: np.array(c, dtype=float) for oid, _, c, _, _ in ROOM_OBJECTS}
LABELS = {oid: label for oid, label, _, _, _ in ROOM_OBJECTS}
UP = np.array([0.0, 0.0, 1.0])

PHRASE_OF = {"left": "to the left of", "right": "to the right of", "above": "above",
             "below": "below", "front": "in front of", "behind": "behind"}  # fmt: skip
PHRASE_OBSERVER = {"left": "to the left", "right": "to the right", "above": "above",
                   "below": "below", "front": "in front", "behind": "behind"}  # fmt: skip


def frame(eye, target) -> tuple[np.ndarray, np.ndarray]:
    """``(R, eye)`` of an OpenCV camera at ``eye`` looking at ``target``: R's columns are the
    camera's right, down and forward axes in world coordinates (world z up)."""
    eye = np.asarray(eye, dtype=float)
    f = np.asarray(target, dtype=float) - eye
    f /= np.linalg.norm(f)
    r = np.cross(f, UP)
    r /= np.linalg.norm(r)
    d = np.cross(f, r)
    return np.column_stack([r, d, f]), eye


FRAMES = [frame(e, t) for e, t in ROOM_CAMERAS]


def in_cam(R_eye: tuple[np.ndarray, np.ndarray], p: np.ndarray) -> np.ndarray:
    R, eye = R_eye
    return R.T @ (np.asarray(p, dtype=float) - eye)


def cam_of(image: int, obj: int) -> np.ndarray:
    """Centre of ``obj`` in the camera frame of room camera ``image``."""
    return in_cam(FRAMES[image], CENTERS[obj])


def one(x: float) -> str:
    return f"{round(float(x), 1):.1f}"


def word(delta: float, pos: str, neg: str) -> str:
    return "" if abs(delta) < 0.1 else (pos if delta > 0 else neg)


def observer_words(p: np.ndarray) -> list[str]:
    return [
        word(p[0], "right", "left"),
        word(-p[1], "above", "below"),
        word(p[2], "front", "behind"),
    ]


def pair_words(p: np.ndarray, q: np.ndarray) -> list[str]:
    """Relation of p to q in one frame; front/behind from the distance to the frame's origin."""
    far = np.linalg.norm(p) - np.linalg.norm(q)
    return [word(p[0] - q[0], "right", "left"), word(-(p[1] - q[1]), "above", "below"),
            word(far, "behind", "front")]  # fmt: skip


def describe(words: list[str], phrases: dict[str, str]) -> str:
    parts = [phrases[w] for w in words if w]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def norm_point(uv: np.ndarray) -> list[int]:
    """Pixel (u, v) (pixel centres at integers) to 0-1000: the image edge -0.5 maps to 0."""
    return [int(np.clip(np.rint((uv[0] + 0.5) * 1000 / W), 0, 1000)),
            int(np.clip(np.rint((uv[1] + 0.5) * 1000 / H), 0, 1000))]  # fmt: skip


def project(p_cam: np.ndarray) -> np.ndarray:
    return np.array(
        [K[0, 0] * p_cam[0] / p_cam[2] + K[0, 2], K[1, 1] * p_cam[1] / p_cam[2] + K[1, 2]]
    )


def box_corners(obj: int) -> np.ndarray:
    """(8, 3) world corners of the object's yaw-rotated box."""
    oid, _, c, s, yaw = next(o for o in ROOM_OBJECTS if o[0] == obj)
    hx, hy, hz = np.asarray(s) / 2
    local = np.array([[x, y, z] for x in (-hx, hx) for y in (-hy, hy) for z in (-hz, hz)])
    rot = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    return local @ rot.T + np.asarray(c)


def box_norm1000(image: int, obj: int) -> list[int]:
    """The object's projected-corner box in room camera ``image``, clipped, in 0-1000."""
    uv = np.array([project(in_cam(FRAMES[image], p)) for p in box_corners(obj)]) + 0.5
    x1, y1 = np.clip(uv.min(0), 0, [W, H])
    x2, y2 = np.clip(uv.max(0), 0, [W, H])
    sx, sy = 1000 / W, 1000 / H
    return [
        int(np.rint(x1 * sx)),
        int(np.rint(y1 * sy)),
        int(np.rint(x2 * sx)),
        int(np.rint(y2 * sy)),
    ]


def answer_of(sample: dict) -> str:
    """The answer text: the correct option for select, else the gpt turn."""
    m = sample["meta"]
    if m["format"] == "select":
        return m["options"]["ABCD".index(m["correct_option"])]
    return sample["conversations"][1]["value"]
