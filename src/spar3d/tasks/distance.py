"""Single-view distance tasks (SPAR appx 7.5 "Distance infer").

Distances are Euclidean between 3D box centres (object-object) or from the camera centre to a box
centre (object-camera), in metres with one decimal. Object pairs whose 3D boxes overlap or whose
centres are closer than ``min_distance_m`` are skipped, as the paper states; comparisons whose two
distances differ by less than ``min_distance_gap_m`` are skipped as indistinguishable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spar3d.geometry.boxes import boxes_overlap_3d
from spar3d.tasks.base import ChoiceAnswer, Facts, NumericAnswer, Reject, SceneView, Task, TaskSpec
from spar3d.tasks.common import (
    draw_image_objects,
    labels,
    metres,
    object_quantities,
    point_marker,
    point_markers,
)
from spar3d.tasks.markers import Markers
from spar3d.tasks.registry import register_task

# question wording of "closer" / "farther" comparisons, keyed by ask_farther
COMPARE = {
    False: {"closer_farther": "closer to", "comparative": "closer"},
    True: {"closer_farther": "farther from", "comparative": "farther"},
}


def _reject_overlap(scene: SceneView, a: int, b: int) -> None:
    box_a, box_b = scene.objects[a].box, scene.objects[b].box
    reach = (np.linalg.norm(box_a.size) + np.linalg.norm(box_b.size)) / 2.0
    if np.linalg.norm(box_a.center - box_b.center) > reach:
        return  # bounding spheres apart: the exact separating-axis test is not needed
    if boxes_overlap_3d(box_a, box_b):
        raise Reject("3d_boxes_overlap")


@register_task
class DistancePredictionOC(Task):
    """Distance from the camera centre to the red object's centre."""

    spec = TaskSpec(
        name="distance_prediction_oc",
        version=2,
        views="S",
        relation="OC",
        formats=("fill", "select", "sentence"),
        markers=("red_point",),
        placeholders=("label_A", "distance_A"),
        description="distance from the camera centre to the red object's 3D centre (m)",
    )

    def propose(self, scene: SceneView, rng: Any) -> tuple[int, ...] | None:
        return draw_image_objects(scene, rng, 1)

    def compute(self, scene: SceneView, key: tuple[int, ...]) -> Facts:
        image, a = key
        c = scene.center_cam(image, a)
        dist = float(np.linalg.norm(c))
        (la,) = labels(scene, (a,))
        return Facts(
            images=[image],
            object_ids=[a],
            values={"label_A": la, "distance_A": metres(dist)},
            answer=NumericAnswer(dist, decimals=1, minimum=0.1),
            markers=Markers().point("red", point_marker(scene, image, a), obj=a),
            quantities={"distance_m": dist, "objects": object_quantities(scene, image, (a,))},
        )


@register_task
class DistancePredictionOO(Task):
    """Distance between the red and blue objects' centres."""

    spec = TaskSpec(
        name="distance_prediction_oo",
        version=2,
        views="S",
        relation="OO",
        formats=("fill", "select", "sentence"),
        markers=("red_point", "blue_point"),
        placeholders=("label_A", "label_B", "distance_AB"),
        description="distance between the red and blue objects' 3D centres (m)",
    )
    defaults = {"min_distance_m": 0.3}

    def propose(self, scene: SceneView, rng: Any) -> tuple[int, ...] | None:
        return draw_image_objects(scene, rng, 2)

    def compute(self, scene: SceneView, key: tuple[int, ...]) -> Facts:
        image, a, b = key
        _reject_overlap(scene, a, b)
        dist = float(np.linalg.norm(scene.objects[a].center - scene.objects[b].center))
        if dist < self.params["min_distance_m"]:
            raise Reject("distance_too_close")
        markers = point_markers(scene, image, (a, b))
        la, lb = labels(scene, (a, b))
        return Facts(
            images=[image],
            object_ids=[a, b],
            values={"label_A": la, "label_B": lb, "distance_AB": metres(dist)},
            answer=NumericAnswer(dist, decimals=1, minimum=0.1),
            markers=markers,
            quantities={"distance_m": dist, "objects": object_quantities(scene, image, (a, b))},
        )


@register_task
class DistanceInferCenterOC(Task):
    """Which of two objects, named only, is closer to (farther from) the camera."""

    spec = TaskSpec(
        name="distance_infer_center_oc",
        version=2,
        views="S",
        relation="OC",
        formats=("fill", "sentence"),
        markers=(),
        placeholders=tuple(
            ["label_A", "label_B", "distance_A", "distance_B", "closer_farther", "comparative"]
        ),
        description=(
            "which of two objects named in the question is closer to / farther from the camera "
            "centre; labels must be unique in the image"
        ),
    )
    defaults = {"min_distance_gap_m": 0.2}

    def propose(self, scene: SceneView, rng: Any) -> tuple[Any, ...] | None:
        key = draw_image_objects(scene, rng, 2)
        return None if key is None else (*key, bool(rng.integers(2)))

    def compute(self, scene: SceneView, key: tuple[Any, ...]) -> Facts:
        image, a, b, farther = key
        la, lb = labels(scene, (a, b))
        visible_labels = labels(scene, scene.visible_ids(image))
        if visible_labels.count(la) > 1 or visible_labels.count(lb) > 1:
            raise Reject("ambiguous_label")  # named only: the label must pick one object
        d_a = float(np.linalg.norm(scene.center_cam(image, a)))
        d_b = float(np.linalg.norm(scene.center_cam(image, b)))
        return closer_farther_facts(
            [image], (a, la, d_a), (b, lb, d_b), farther, self.params["min_distance_gap_m"],
            {"objects": object_quantities(scene, image, (a, b))},
        )  # fmt: skip


def closer_farther_facts(
    images: list[int],
    obj_a: tuple[int, str, float],
    obj_b: tuple[int, str, float],
    farther: bool,
    min_gap_m: float,
    quantities: dict[str, Any],
) -> Facts:
    """Facts of "which of two named objects is closer to / farther from the camera".

    ``obj_a`` and ``obj_b`` are (object id, label, distance to the camera in metres); shared by
    the single-view and multi-view ``distance_infer_center_oc`` tasks.
    """
    (a, la, d_a), (b, lb, d_b) = obj_a, obj_b
    if abs(d_a - d_b) < min_gap_m:
        raise Reject("distance_too_similar")
    winner = la if (d_a > d_b) == farther else lb
    return Facts(
        images=images,
        object_ids=[a, b],
        values={
            "label_A": la,
            "label_B": lb,
            "distance_A": metres(d_a),
            "distance_B": metres(d_b),
            **COMPARE[farther],
        },  # fmt: skip
        answer=ChoiceAnswer(winner, (lb if winner == la else la,)),
        quantities={
            "distance_m": {"A": d_a, "B": d_b},
            "asked": "farther" if farther else "closer",
            **quantities,
        },
    )


@register_task
class DistanceInferCenterOO(Task):
    """Which of green and blue is closer to (farther from) red."""

    spec = TaskSpec(
        name="distance_infer_center_oo",
        version=2,
        views="S",
        relation="OO",
        formats=("fill", "select", "sentence"),
        markers=("red_point", "blue_point", "green_point"),
        placeholders=tuple(
            [
                "label_A",
                "label_B",
                "label_C",
                "distance_AB",
                "distance_AC",
                "closer_farther",
                "comparative",
            ]
        ),
        description=(
            "which of the green and blue objects is closer to / farther from the red object "
            "(3D centre distances)"
        ),
    )
    defaults = {"min_distance_gap_m": 0.2}

    def propose(self, scene: SceneView, rng: Any) -> tuple[Any, ...] | None:
        key = draw_image_objects(scene, rng, 3)
        return None if key is None else (*key, bool(rng.integers(2)))

    def compute(self, scene: SceneView, key: tuple[Any, ...]) -> Facts:
        image, a, b, c, farther = key  # a red (reference), b blue, c green
        la, lb, lc = labels(scene, (a, b, c))
        if lb == lc:
            raise Reject("same_label")  # the answer is a name: it must tell them apart
        _reject_overlap(scene, a, b)
        _reject_overlap(scene, a, c)
        center = scene.objects[a].center
        d_b = float(np.linalg.norm(scene.objects[b].center - center))
        d_c = float(np.linalg.norm(scene.objects[c].center - center))
        if abs(d_b - d_c) < self.params["min_distance_gap_m"]:
            raise Reject("distance_too_similar")
        return which_is_closer_facts(
            [image], (a, b, c), (la, lb, lc), (d_b, d_c), farther,
            point_markers(scene, image, (a, b, c)),
            {"objects": object_quantities(scene, image, (a, b, c))},
        )  # fmt: skip


def which_is_closer_facts(
    images: list[int],
    object_ids: tuple[int, int, int],
    object_labels: tuple[str, str, str],
    distances_m: tuple[float, float],
    farther: bool,
    markers: Any,
    quantities: dict[str, Any],
) -> Facts:
    """Facts of "which of blue and green is closer to (farther from) red" (single- and
    multi-view). ``distances_m`` are red-blue and red-green centre distances."""
    la, lb, lc = object_labels
    d_b, d_c = distances_m
    winner = lb if (d_b > d_c) == farther else lc
    return Facts(
        images=images,
        object_ids=list(object_ids),
        values={
            "label_A": la,
            "label_B": lb,
            "label_C": lc,
            "distance_AB": metres(d_b),
            "distance_AC": metres(d_c),
            **COMPARE[farther],
        },  # fmt: skip
        answer=ChoiceAnswer(winner, (lc if winner == lb else lb,)),
        markers=markers,
        quantities={
            "distance_m": {"AB": d_b, "AC": d_c},
            "asked": "farther" if farther else "closer",
            **quantities,
        },
    )
