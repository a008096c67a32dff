"""Depth tasks (SPAR appx 7.5 "Depth prediction") over one image or several co-visible views.

Depth of an object is the z of its 3D box centre in the camera frame of the primary view (the
only image of a single-view sample, the first of a multi-view one). Single view: pairs whose 2D
boxes overlap are skipped, as the paper states. Multi-view: objects are marked in different views;
an object behind (or nearly in the plane of) the primary camera has no sensible depth and is
rejected (``behind_primary_camera``); 2D overlap does not apply across views. Both: pairs whose
depths differ by less than ``min_depth_gap_m`` are skipped (``depth_too_close``).

Each question is written once; its ``_mv`` variant only holds another view strategy
(:mod:`spar3d.tasks.views`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from spar3d.tasks.base import Facts, NumericAnswer, Reject, SceneView, TaskSpec
from spar3d.tasks.common import labels, metres
from spar3d.tasks.params import MultiViewParams, TaskParams, knob
from spar3d.tasks.registry import register_task
from spar3d.tasks.views import (
    CoVisibleViews,
    Draw,
    SingleImage,
    ViewStrategy,
    ViewTask,
    point_markers,
    variant,
)


@dataclass(frozen=True)
class DepthParams(TaskParams):
    """``min_depth_gap_m``: pairs whose depths differ by less are skipped (m, >= 0)."""

    min_depth_gap_m: float = knob(0.2, minimum=0)


@dataclass(frozen=True)
class DepthMVParams(DepthParams, MultiViewParams):
    """Multi-view: also ``min_depth_m``, the least primary-frame depth of an object (m, >= 0)."""

    min_depth_m: float = knob(0.1, minimum=0)


class _DepthTask(ViewTask):
    views: ClassVar[ViewStrategy] = SingleImage()
    Params: ClassVar[type[TaskParams]] = DepthParams

    def depths(self, scene: SceneView, d: Draw) -> list[float]:
        """Primary-frame depths of the draw's objects; multi-view: ``Reject("behind_primary_
        camera")`` when one lies nearer than ``min_depth_m``."""
        depths = [float(scene.center_cam(d.primary, o)[2]) for o in d.ids]
        floor = getattr(self.params, "min_depth_m", None)
        if floor is not None and min(depths) < floor:
            raise Reject("behind_primary_camera")
        return depths

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return self.draw(scene, rng, len(self.spec.markers), centre_inside=True)


@register_task
class DepthPredictionOC(_DepthTask):
    """Red's depth is given; the answer is blue's depth."""

    spec = TaskSpec(
        name="depth_prediction_oc",
        version=2,
        views="S",
        relation="OC",
        formats=("fill", "select", "sentence"),
        markers=("red_point", "blue_point"),
        placeholders=("label_A", "depth_A", "label_B", "depth_B"),
        description="red object's depth is given; the blue object's depth (z of its 3D centre, m)",
    )

    def compute(self, scene: SceneView, key: Any) -> Facts:
        d = Draw.of(key)
        self.views.reject_overlap_2d(scene, d)
        d_a, d_b = self.depths(scene, d)
        if abs(d_a - d_b) < self.params.min_depth_gap_m:
            raise Reject("depth_too_close")
        la, lb = labels(scene, d.ids)
        return Facts(
            images=list(d.views),
            object_ids=list(d.ids),
            values={"label_A": la, "depth_A": metres(d_a), "label_B": lb, "depth_B": metres(d_b)},
            answer=NumericAnswer(d_b, decimals=1, minimum=0.1),
            markers=point_markers(scene, d.views, self.marks(d)),
            quantities={"depth_m": {"A": d_a, "B": d_b}, **self.views.quantities(scene, d)},
        )


@register_task
class DepthPredictionOCMV(DepthPredictionOC):
    """Red's depth (primary frame) is given; the answer is blue's depth; marked in different views."""

    views = CoVisibleViews()
    Params = DepthMVParams
    spec = variant(
        DepthPredictionOC.spec,
        "MV",
        "red object's depth in the first image's camera frame is given; the blue object's "
        "depth there (m); red and blue are marked in different views",
    )


@register_task
class DepthPredictionOO(_DepthTask):
    """Red's depth is given as a reference; the answer is how much blue and green differ in depth."""

    spec = TaskSpec(
        name="depth_prediction_oo",
        version=2,
        views="S",
        relation="OO",
        formats=("fill", "select", "sentence"),
        markers=("red_point", "blue_point", "green_point"),
        placeholders=(
            "label_A",
            "depth_A",
            "label_B",
            "depth_B",
            "label_C",
            "depth_C",
            "depth_diff",
            "farther",
            "nearer",
        ),  # fmt: skip
        description=(
            "red object's depth is given as reference; the depth difference |z_blue - z_green| "
            "of the blue and green objects (m)"
        ),
    )

    def compute(self, scene: SceneView, key: Any) -> Facts:
        d = Draw.of(key)
        self.views.reject_overlap_2d(scene, d)
        d_a, d_b, d_c = self.depths(scene, d)
        if abs(d_b - d_c) < self.params.min_depth_gap_m:
            raise Reject("depth_too_close")
        a, b, c = d.ids
        return depth_difference_facts(
            list(d.views), (a, b, c), labels(scene, d.ids), (d_a, d_b, d_c),
            point_markers(scene, d.views, self.marks(d)), self.views.quantities(scene, d),
        )  # fmt: skip


@register_task
class DepthPredictionOOMV(DepthPredictionOO):
    """Red is the depth reference; the answer is |depth(blue) - depth(green)| in the primary frame."""

    views = CoVisibleViews()
    Params = DepthMVParams
    spec = variant(
        DepthPredictionOO.spec,
        "MV",
        "red object's depth in the first image's camera frame is the reference; the depth "
        "difference |z_blue - z_green| there (m); markers spread over at least two views",
    )


def depth_difference_facts(
    images: list[int],
    object_ids: tuple[int, int, int],
    object_labels: tuple[str, str, str] | list[str],
    depths_m: tuple[float, float, float],
    markers: Any,
    quantities: dict[str, Any],
) -> Facts:
    """Facts of "how much deeper is blue than green, red's depth given" (single- and multi-view).

    ``depths_m`` are the camera-frame z of red, blue and green in the primary camera.
    """
    la, lb, lc = object_labels
    d_a, d_b, d_c = depths_m
    diff = abs(d_b - d_c)
    if lb == lc:  # the answer names them: keep the marker colours so it says which is which
        lb_a, lc_a = f"{lb} (blue point)", f"{lc} (green point)"
    else:
        lb_a, lc_a = lb, lc
    far, near = (lb_a, lc_a) if d_b > d_c else (lc_a, lb_a)
    return Facts(
        images=images,
        object_ids=list(object_ids),
        values={
            "label_A": la,
            "depth_A": metres(d_a),
            "label_B": lb,
            "depth_B": metres(d_b),
            "label_C": lc,
            "depth_C": metres(d_c),
            "depth_diff": metres(diff),
            "farther": far,
            "nearer": near,
        },  # fmt: skip
        answer=NumericAnswer(diff, decimals=1, minimum=0.1),
        markers=markers,
        quantities={"depth_m": {"A": d_a, "B": d_b, "C": d_c}, "depth_diff_m": diff, **quantities},
    )
