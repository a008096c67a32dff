"""Bird's-eye-view layout of listed objects in the observer frame of the first view (SPAR's BEV
probe, paper section 4 "Probing implicit 3D representations").

Frame: origin at the first camera's centre dropped to the floor; +y is the viewing direction
projected on the floor; +x is to the observer's right (``y x up``). An object's coordinates are
its 3D centre's horizontal offsets along x and y, metres with one decimal. A first camera looking
almost straight up or down has no usable horizontal direction (``pitch_too_steep``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spar3d.tasks.base import ChoiceAnswer, Facts, Reject, SceneView, TaskSpec
from spar3d.tasks.common import bbox_marker, labels, metres
from spar3d.tasks.markers import Markers
from spar3d.tasks.multiview.views import MVTask, mv_quantities, unpack
from spar3d.tasks.registry import register_task

WORLD_UP = np.array([0.0, 0.0, 1.0])


def bev_frame(T_world_cam: np.ndarray, max_pitch_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """``(x_axis, y_axis)`` world unit vectors of the observer's floor frame.

    Raises:
        Reject: ``pitch_too_steep`` when the viewing direction is within ``90 - max_pitch_deg``
            degrees of vertical.
    """
    f = np.asarray(T_world_cam, dtype=np.float64)[:3, 2]
    horizontal = f - (f @ WORLD_UP) * WORLD_UP
    n = float(np.linalg.norm(horizontal))
    if n < np.cos(np.radians(max_pitch_deg)):
        raise Reject("pitch_too_steep")
    y_axis = horizontal / n
    return np.cross(y_axis, WORLD_UP), y_axis


@register_task
class SpatialImaginationMapMV(MVTask):
    """Metre BEV coordinates of boxed objects in the first view's floor frame."""

    spec = TaskSpec(
        name="spatial_imagination_map_mv",
        version=1,
        views="MV",
        relation="OO",
        formats=("sentence",),
        markers=("bbox_list",),
        placeholders=("object_list", "n_objects", "coordinates"),
        description=(
            "bird's-eye-view (x, y) in metres of the listed objects (bbox_list object0..N over the "
            "views) in the first view's observer frame: origin the camera centre on the floor, +y "
            "the viewing direction on the floor, +x right"
        ),
    )
    defaults = {**MVTask.defaults, "min_objects": 3, "max_objects": 6, "max_pitch_deg": 75.0}

    def propose(self, scene: SceneView, rng: Any) -> Any:
        k = int(rng.integers(int(self.params["min_objects"]), int(self.params["max_objects"]) + 1))
        return self.draw(scene, rng, k)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        views, ids, positions = unpack(key)
        T = scene.image(views[0]).T_world_cam
        x_axis, y_axis = bev_frame(T, self.params["max_pitch_deg"])
        origin = np.array([T[0, 3], T[1, 3], scene.index.floor_z])
        xy = [
            (float((scene.objects[o].center - origin) @ x_axis),
             float((scene.objects[o].center - origin) @ y_axis))
            for o in ids
        ]  # fmt: skip
        names = labels(scene, ids)
        coords = ", ".join(f"object{i}: ({metres(x)}, {metres(y)})" for i, (x, y) in enumerate(xy))
        markers = Markers()
        for o, pos in zip(ids, positions, strict=True):
            markers.list_bbox(bbox_marker(scene, views[pos], o), pos, obj=o)
        return Facts(
            images=list(views),
            object_ids=list(ids),
            values={
                "object_list": ", ".join(f"object{i} ({n})" for i, n in enumerate(names)),
                "n_objects": str(len(ids)),
                "coordinates": coords,
            },
            answer=ChoiceAnswer(coords),
            markers=markers,
            quantities={"bev_xy_m": xy, **mv_quantities(scene, views, ids, positions)},
        )
