"""Bird's-eye-view layout of listed objects in the observer frame of the first view (SPAR's BEV
probe, paper section 4 "Probing implicit 3D representations").

The frame is :func:`spar3d.geometry.bev.observer_frame` of the first view (docs/conventions.md):
origin at the first camera's centre dropped to the floor; +y is the viewing direction projected
on the floor; +x is to the observer's right (``y x up``). An object's coordinates are its 3D
centre's horizontal offsets along x and y, metres with one decimal. A first camera looking almost
straight up or down has no usable horizontal direction (``pitch_too_steep``); a draw with fewer
views than ``min_views`` (a primary view with too few co-visible images) is ``too_few_views``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spar3d.geometry.bev import SteepViewError, observer_frame
from spar3d.tasks.base import ChoiceAnswer, Facts, Reject, SceneView, TaskSpec
from spar3d.tasks.common import bbox_marker, labels, metres
from spar3d.tasks.markers import Markers
from spar3d.tasks.params import MultiViewParams, check_range, knob
from spar3d.tasks.registry import register_task
from spar3d.tasks.views import Draw, MVTask


@dataclass(frozen=True)
class MapParams(MultiViewParams):
    """``min_objects``..``max_objects`` listed objects; ``max_pitch_deg``: steepest first view."""

    min_objects: int = knob(3, minimum=1)
    max_objects: int = knob(6, minimum=1)
    max_pitch_deg: float = knob(75.0, minimum=0, maximum=90)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range("min_objects", self.min_objects, "max_objects", self.max_objects)


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
    Params = MapParams

    def propose(self, scene: SceneView, rng: Any) -> Any:
        k = int(rng.integers(int(self.params.min_objects), int(self.params.max_objects) + 1))
        return self.draw(scene, rng, k)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        d = Draw.of(key)
        views, ids, positions = d.views, d.ids, d.positions
        T = scene.image(views[0]).T_world_cam
        if len(views) < int(self.params.min_views):
            raise Reject("too_few_views")
        try:
            frame = observer_frame(T, scene.index.floor_z, self.params.max_pitch_deg)
        except SteepViewError:
            raise Reject("pitch_too_steep") from None
        bev = frame.to_bev(np.stack([scene.objects[o].center for o in ids]))
        xy = [(float(x), float(y)) for x, y in bev]
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
            quantities={"bev_xy_m": xy, **self.views.quantities(scene, d)},
        )
