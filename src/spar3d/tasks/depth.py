"""Single-view depth tasks (SPAR appx 7.5 "Depth prediction").

Depth of an object is the z of its 3D box centre in the camera frame. Pairs whose 2D boxes overlap
or whose depths differ by less than ``min_depth_gap_m`` are skipped, as the paper states.
"""

from __future__ import annotations

from typing import Any

from spar3d.tasks.base import Facts, NumericAnswer, Reject, SceneView, Task, TaskSpec
from spar3d.tasks.common import (
    draw_image_objects,
    labels,
    metres,
    object_quantities,
    point_markers,
    reject_if_boxes_overlap,
)
from spar3d.tasks.registry import register_task


class _DepthTask(Task):
    defaults = {"min_depth_gap_m": 0.2}

    def _depths(self, scene: SceneView, image: int, ids: tuple[int, ...]) -> list[float]:
        return [float(scene.center_cam(image, o)[2]) for o in ids]


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

    def propose(self, scene: SceneView, rng: Any) -> tuple[int, ...] | None:
        return draw_image_objects(scene, rng, 2)

    def compute(self, scene: SceneView, key: tuple[int, ...]) -> Facts:
        image, a, b = key
        reject_if_boxes_overlap(scene, image, (a, b))
        d_a, d_b = self._depths(scene, image, (a, b))
        if abs(d_a - d_b) < self.params["min_depth_gap_m"]:
            raise Reject("depth_too_close")
        markers = point_markers(scene, image, (a, b))
        la, lb = labels(scene, (a, b))
        return Facts(
            images=[image],
            object_ids=[a, b],
            values={"label_A": la, "depth_A": metres(d_a), "label_B": lb, "depth_B": metres(d_b)},
            answer=NumericAnswer(d_b, decimals=1, minimum=0.1),
            markers=markers,
            quantities={
                "depth_m": {"A": d_a, "B": d_b},
                "objects": object_quantities(scene, image, (a, b)),
            },
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
        placeholders=tuple(
            [
                "label_A",
                "depth_A",
                "label_B",
                "depth_B",
                "label_C",
                "depth_C",
                "depth_diff",
                "farther",
                "nearer",
            ]
        ),
        description=(
            "red object's depth is given as reference; the depth difference |z_blue - z_green| "
            "of the blue and green objects (m)"
        ),
    )

    def propose(self, scene: SceneView, rng: Any) -> tuple[int, ...] | None:
        return draw_image_objects(scene, rng, 3)

    def compute(self, scene: SceneView, key: tuple[int, ...]) -> Facts:
        image, a, b, c = key
        reject_if_boxes_overlap(scene, image, (a, b, c))
        d_a, d_b, d_c = self._depths(scene, image, (a, b, c))
        if abs(d_b - d_c) < self.params["min_depth_gap_m"]:
            raise Reject("depth_too_close")
        return depth_difference_facts(
            [image], (a, b, c), labels(scene, (a, b, c)), (d_a, d_b, d_c),
            point_markers(scene, image, (a, b, c)),
            {"objects": object_quantities(scene, image, (a, b, c))},
        )  # fmt: skip


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
