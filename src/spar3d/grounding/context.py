"""What scoring a grounding answer needs besides the text: the shown cameras and the target box.

A grounding sample keeps it in ``meta.quantities`` and the grounding benchmark in its ``context``
column (JSON), so an answer can be lifted and scored from the benchmark alone::

    {"scene": "scene0000_00", "target_id": 7, "label": "chair", "expression": "...",
     "expression_kind": "relation", "split": "multiple", "answer_frame": 2,
     "visible_frames": [1, 2],
     "target_box": {"center": [x, y, z], "size": [dx, dy, dz], "yaw": rad},
     "views": [{"frame_id": "120", "width": 640, "height": 480, "K": [[...]], "T_world_cam":
               [[...]], "median_object_depth_m": 2.1}, ...],
     "room_center": [x, y, z], "median_size_whl_m": [w, h, l]}

``views`` are in the order the images are shown (``frame k`` is ``views[k - 1]``). The last two
fields are scene statistics for the baselines (no fact about the target).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from spar3d.errors import InputError
from spar3d.grounding.answer import GroundingAnswer, lift_answer
from spar3d.grounding.boxes import box_from_dict
from spar3d.scenes.model import OrientedBox


@dataclass(frozen=True)
class View:
    """One shown camera."""

    frame_id: str
    width: int
    height: int
    K: np.ndarray
    T_world_cam: np.ndarray
    median_object_depth_m: float = 0.0


@dataclass(frozen=True)
class GroundingContext:
    """The parsed ``context`` of one grounding sample (see the module docstring)."""

    scene: str
    target_box: OrientedBox
    views: tuple[View, ...]
    split: str
    answer_frame: int
    raw: dict[str, Any]

    def lift(self, answer: GroundingAnswer) -> OrientedBox:
        """The world box of an answer (its frame must be in ``1..len(views)``)."""
        v = self.views[answer.frame - 1]
        return lift_answer(answer, v.K, v.T_world_cam, v.width, v.height)


def parse_context(raw: str | dict[str, Any], where: str = "context") -> GroundingContext:
    """Read a context (JSON text or dict); a malformed one raises InputError naming ``where``."""
    try:
        d = json.loads(raw) if isinstance(raw, str) else dict(raw)
        views = tuple(
            View(
                str(v["frame_id"]),
                int(v["width"]),
                int(v["height"]),
                np.asarray(v["K"], dtype=np.float64).reshape(3, 3),
                np.asarray(v["T_world_cam"], dtype=np.float64).reshape(4, 4),
                float(v.get("median_object_depth_m", 0.0)),
            )
            for v in d["views"]
        )
        return GroundingContext(
            str(d["scene"]),
            box_from_dict(d["target_box"]),
            views,
            str(d.get("split", "")),
            int(d["answer_frame"]),
            d,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"{where}: malformed grounding context ({type(exc).__name__}: {exc})"
        ) from None
