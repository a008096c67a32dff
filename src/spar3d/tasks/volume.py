"""Single-view object size (SPAR appx 7.5 "Spatial volume infer").

Length and width come from the minimum-area rectangle around the box corners projected on the
floor (world XY plane; length is the longer side), height from the corners' vertical extent, all
in centimetres; volume = length x width x height in cubic centimetres (from unrounded sizes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spar3d.tasks.base import ChoiceAnswer, Facts, Reject, SceneView, TaskSpec
from spar3d.tasks.common import labels
from spar3d.tasks.params import TaskParams, knob
from spar3d.tasks.registry import register_task
from spar3d.tasks.views import Draw, SingleImage, ViewTask, bbox_markers


def footprint_size_m(corners_world: np.ndarray) -> tuple[float, float, float]:
    """``(length, width, height)`` in metres of ``(8, 3)`` box corners (length >= width)."""
    import shapely  # here, not at import: listing the tasks (``spar3d tasks``) stays fast

    rect = shapely.minimum_rotated_rectangle(shapely.MultiPoint(corners_world[:, :2]))
    xy = np.asarray(rect.exterior.coords)[:4]
    sides = np.linalg.norm(np.diff(np.vstack([xy, xy[:1]]), axis=0), axis=1)
    length, width = float(sides.max()), float(sides.min())
    height = float(np.ptp(corners_world[:, 2]))
    return length, width, height


@dataclass(frozen=True)
class VolumeParams(TaskParams):
    """``min_visible_fraction``: least visible share of the object in the image (0-1)."""

    min_visible_fraction: float = knob(0.5, minimum=0, maximum=1)


@register_task
class SpatialVolumeInfer(ViewTask):
    """Length, width, height (cm) and volume (cm^3) of the red-boxed object."""

    spec = TaskSpec(
        name="spatial_volume_infer",
        version=1,
        views="S",
        relation="OC",
        formats=("fill", "sentence"),
        markers=("red_bbox",),
        placeholders=("label_A", "length_cm", "width_cm", "height_cm", "volume_cm3"),
        description=(
            "length and width (floor-plane footprint), height (vertical extent) in cm and volume "
            "in cm^3 of the red object's 3D box"
        ),
    )
    views = SingleImage()
    Params = VolumeParams
    center_note = False

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return self.draw(scene, rng, 1)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        d = Draw.of(key)
        image, (a,) = d.primary, d.ids
        if scene.visible(image, a).visible_fraction < self.params.min_visible_fraction:
            raise Reject("mostly_out_of_view")  # its size cannot be judged from this view
        length, width, height = footprint_size_m(scene.objects[a].box.corners())
        l_cm, w_cm, h_cm = (round(100 * v) for v in (length, width, height))
        volume = round(1e6 * length * width * height)
        (la,) = labels(scene, (a,))
        text = f"{l_cm}, {w_cm}, {h_cm}, {volume}"
        return Facts(
            images=list(d.views),
            object_ids=[a],
            values={
                "label_A": la,
                "length_cm": str(l_cm),
                "width_cm": str(w_cm),
                "height_cm": str(h_cm),
                "volume_cm3": str(volume),
            },  # fmt: skip
            answer=ChoiceAnswer(text),
            markers=bbox_markers(scene, d.views, self.marks(d)),
            quantities={
                "length_m": length,
                "width_m": width,
                "height_m": height,
                "volume_cm3": volume,
                **self.views.quantities(scene, d),
            },  # fmt: skip
        )
