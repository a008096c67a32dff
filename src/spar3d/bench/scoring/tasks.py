"""The 20 SPAR-Bench tasks: which metric scores each, and which level each belongs to.

Facts from the published scorer (lmms-eval ``sparbench``), see ``docs/scoring.md``.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["numeric", "choice", "vci", "grounding"]

#: Numeric answers scored by mean relative accuracy (MRA). Single-view first, then ``_mv``.
NUMERIC_TASKS: tuple[str, ...] = (
    "depth_prediction_oc",
    "depth_prediction_oo",
    "distance_prediction_oc",
    "distance_prediction_oo",
    "depth_prediction_oc_mv",
    "depth_prediction_oo_mv",
    "distance_prediction_oc_mv",
    "distance_prediction_oo_mv",
)

#: Multiple-choice answers (an option letter) scored by accuracy.
CHOICE_TASKS: tuple[str, ...] = (
    "obj_spatial_relation_oo",
    "obj_spatial_relation_oc_mv",
    "obj_spatial_relation_oo_mv",
    "spatial_imagination_oc",
    "spatial_imagination_oo",
    "spatial_imagination_oc_mv",
    "spatial_imagination_oo_mv",
    "position_matching",
    "camera_motion_infer",
    "distance_infer_center_oo",
    "distance_infer_center_oo_mv",
)

#: View-change inference: five signed camera-motion axes, MRA per axis.
VCI_TASKS: tuple[str, ...] = ("view_change_infer",)

ALL_TASKS: tuple[str, ...] = NUMERIC_TASKS + CHOICE_TASKS + VCI_TASKS

#: 3D grounding (spar3d.grounding): the grounding benchmark, not SPAR-Bench; no level.
GROUNDING_TASKS: tuple[str, ...] = ("ground_3d", "ground_3d_scanrefer")

LEVEL_NAMES: tuple[str, ...] = ("Low", "Medium", "High")

#: Level membership as the paper defines it (strict mode uses it as is).
LEVELS: dict[str, tuple[str, ...]] = {
    "Low": NUMERIC_TASKS,
    "Medium": ("view_change_infer", "position_matching", "camera_motion_infer"),
    "High": tuple(t for t in CHOICE_TASKS if t not in ("position_matching", "camera_motion_infer")),
}

_KIND: dict[str, Kind] = {
    **{t: "numeric" for t in NUMERIC_TASKS},
    **{t: "choice" for t in CHOICE_TASKS},
    **{t: "vci" for t in VCI_TASKS},
    **{t: "grounding" for t in GROUNDING_TASKS},
}

#: The metric suffix the published scorer appends to each task's result key. Its level lookup
#: drops only the last "_"-separated part of that key, which is why VCI falls out of every level.
_METRIC_SUFFIX: dict[Kind, str] = {
    "numeric": "MRA:.5:.95:.05",
    "choice": "accuracy",
    "vci": "vci_metric",
    "grounding": "acc@0.5",
}


def task_kind(task: str) -> Kind:
    """The metric family of ``task``; raises ``KeyError`` naming the task when it is unknown."""
    try:
        return _KIND[task]
    except KeyError:
        raise KeyError(f"unknown SPAR-Bench task {task!r}; known: {', '.join(ALL_TASKS)}") from None


def is_multi_view(task: str) -> bool:
    """True for the ``_mv`` variants (the published number extraction takes the last number)."""
    return task.endswith("_mv")


def level_of(task: str, mode: str) -> str | None:
    """The level a task's score is averaged into, or None.

    In ``compat`` mode this reproduces the published lookup: the result key is
    ``<task>_<metric suffix>`` and only its last "_" part is dropped, so
    ``view_change_infer_vci_metric`` becomes ``view_change_infer_vci`` and matches no level.
    """
    if mode == "compat":
        key = f"{task}_{_METRIC_SUFFIX[task_kind(task)]}"
        task = key.rsplit("_", 1)[0]
    for level, members in LEVELS.items():
        if task in members:
            return level
    return None
