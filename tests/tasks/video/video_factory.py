"""Hand-built scene indexes for the video-task tests.

* ``make_video_room``: the engine tests' 6 x 5 m room (``room_factory``) with a third chair and
  ten cameras, visibility from a plain pinhole projection (independent of the index builder).
* ``make_handset_index``: ten frames whose visible objects are set by hand (``HANDSET_VIS``), so
  first appearances and frame lists can be read off the table below.
* ``make_mp3d_index`` / ``write_rxr``: a Matterport3D-like scan with panorama frames named
  ``<viewpoint>_i1_<yaw>`` and a tiny RxR-style guide file.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
from room_factory import ROOM_CAMERAS, ROOM_OBJECTS, H, K, W, make_index

from spar3d.geometry.boxes import OrientedBox
from spar3d.geometry.transforms import look_at
from spar3d.index.records import ImageRecord, ObjectRecord, SceneIndex, VisibleObject

# the engine room plus a third chair (label "chair": ids 2, 8, 9)
VIDEO_OBJECTS = [*ROOM_OBJECTS, (9, "chair", (4.0, 3.0, 0.45), (0.5, 0.5, 0.9), 0.0)]
VIDEO_CAMERAS = [
    *ROOM_CAMERAS,
    ((5.8, 2.5, 1.5), (1.0, 2.5, 0.6)),
    ((3.0, 4.9, 1.6), (3.0, 0.5, 0.5)),
    ((0.2, 2.5, 1.5), (5.0, 2.5, 0.6)),
    ((2.0, 0.2, 1.4), (4.0, 4.0, 0.5)),
]


def make_video_room(scene_id: str = "videoroom_00") -> SceneIndex:
    return make_index(VIDEO_OBJECTS, VIDEO_CAMERAS, scene_id=scene_id)


# frame -> ids of the objects visible in it (hand-set)
# tv (4) and bed (5) are first seen together in frame 6: a tie
HANDSET_VIS = [[1], [1, 2], [2], [2, 3], [], [], [3, 4, 5], [5], [1, 5], [6]]
HANDSET_LABELS = {1: "table", 2: "sofa", 3: "lamp", 4: "tv", 5: "bed", 6: "desk"}
HANDSET_BOX = (64.0, 48.0, 320.0, 240.0)  # pixel box of every visible object -> 100, 100, 500, 500


def make_handset_index(
    vis: list[list[int]] = HANDSET_VIS, scene_id: str = "handset_00"
) -> SceneIndex:
    objects = [
        ObjectRecord(oid, lab, OrientedBox.from_yaw((float(oid), 1.0, 0.5), (0.5, 0.5, 0.5), 0.0))
        for oid, lab in HANDSET_LABELS.items()
    ]
    images = []
    for i, ids in enumerate(vis):
        T = look_at((float(i), -3.0, 1.5), (float(i), 0.0, 0.5))
        visible = [
            VisibleObject(o, HANDSET_BOX, 1.0, 3.0, (192.0, 144.0), 0.0, (192.0, 144.0))
            for o in ids
        ]
        images.append(
            ImageRecord(i, f"f{i:03d}", f"color/{i}.jpg", None, W, H, K.copy(), T, visible)
        )
        for o in ids:
            next(r for r in objects if r.object_id == o).image_indices.append(i)
    return SceneIndex(scene_id, "toy", Path("."), images, objects)


# Matterport3D-like scan: viewpoints A -> B along +x, B -> C along +y; four yaws per viewpoint
MP3D_SCAN = "mp3dScan01"
VIEWPOINTS = {"vpA": (0.0, 0.0), "vpB": (3.0, 0.0), "vpC": (3.0, 3.0), "vpD": (9.0, 9.0)}
YAW_DIRS = {0: (1.0, 0.0), 1: (0.0, 1.0), 2: (-1.0, 0.0), 3: (0.0, -1.0)}


def make_mp3d_index(viewpoints: dict[str, tuple[float, float]] = VIEWPOINTS) -> SceneIndex:
    images = []
    for vp, (x, y) in viewpoints.items():
        for yaw, (dx, dy) in YAW_DIRS.items():
            T = look_at((x, y, 1.5), (x + dx, y + dy, 1.5))
            n = len(images)
            images.append(
                ImageRecord(n, f"{vp}_i1_{yaw}", f"color/{n}.jpg", None, W, H, K.copy(), T, [])
            )
    objects = [ObjectRecord(1, "sofa", OrientedBox.from_yaw((1.0, 1.0, 0.4), (1, 1, 0.8), 0.0))]
    return SceneIndex(MP3D_SCAN, "matterport3d", Path("."), images, objects)


RXR_LINES = [
    {
        "instruction_id": 7,
        "annotator_id": 1,
        "split": "val_seen",
        "language": "en-US",
        "path_id": 3,
        "scan": MP3D_SCAN,
        "path": ["vpA", "vpB", "vpC"],
        "heading": 1.57,
        "instruction": "Walk forward past the sofa, then turn left and stop next to the door.",
    },
    {  # not English: never used
        "instruction_id": 8,
        "language": "hi-IN",
        "scan": MP3D_SCAN,
        "path": ["vpA", "vpB"],
        "instruction": "left right",
    },
    {  # another scan
        "instruction_id": 9,
        "language": "en-IN",
        "scan": "otherScan",
        "path": ["x1", "x2"],
        "instruction": "Turn right.",
    },
]


def write_rxr(path: Path, lines: list[dict] = RXR_LINES) -> Path:
    text = "".join(json.dumps(d) + "\n" for d in lines)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def project_norm1000(T_world_cam: np.ndarray, p_world: np.ndarray) -> tuple[float, float]:
    """Pinhole projection of a world point, as 0-1000 coordinates (unrounded)."""
    R, t = T_world_cam[:3, :3], T_world_cam[:3, 3]
    p = (np.asarray(p_world) - t) @ R
    u = K[0, 0] * p[0] / p[2] + K[0, 2]
    v = K[1, 1] * p[1] / p[2] + K[1, 2]
    return (u + 0.5) * 1000 / W, (v + 0.5) * 1000 / H


def answer_text(sample: dict) -> str:
    """The answer as text: the correct option's text for select, else the gpt turn."""
    m = sample["meta"]
    if m["format"] == "select":
        return m["options"][ord(m["correct_option"]) - ord("A")]
    return sample["conversations"][1]["value"]
