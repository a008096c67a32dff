"""Distance tasks (SPAR appx 7.5 "Distance infer") over one image, co-visible views or a video.

Distances are Euclidean between 3D box centres (object-object) or from the primary camera's
centre to a box centre (object-camera; the primary camera is the only image of a single-view
sample, the first of a multi-view one), in metres with one decimal. Object pairs whose 3D boxes
overlap or whose centres are closer than ``min_distance_m`` are skipped, as the paper states;
comparisons whose two distances differ by less than ``min_distance_gap_m`` are skipped as
indistinguishable. Multi-view samples mark their objects in different views; a video sample marks
them in different frames of the scene's video (``point_img_idx`` says which).

Each question is written once; its ``_mv`` and ``_video`` variants only hold another view
strategy (:mod:`spar3d.tasks.views`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from spar3d.geometry.boxes import boxes_overlap_3d
from spar3d.tasks.base import ChoiceAnswer, Facts, NumericAnswer, Reject, SceneView, TaskSpec
from spar3d.tasks.common import labels, metres
from spar3d.tasks.params import TaskParams, knob
from spar3d.tasks.registry import register_task
from spar3d.tasks.views import (
    CoVisibleViews,
    Draw,
    FrameSequence,
    SingleImage,
    ViewStrategy,
    ViewTask,
    point_markers,
    variant,
)

# question wording of "closer" / "farther" comparisons, keyed by ask_farther
COMPARE = {
    False: {"closer_farther": "closer to", "comparative": "closer"},
    True: {"closer_farther": "farther from", "comparative": "farther"},
}


@dataclass(frozen=True)
class MinDistanceParams(TaskParams):
    """``min_distance_m``: object pairs whose centres are closer are skipped (m, >= 0)."""

    min_distance_m: float = knob(0.3, minimum=0)


@dataclass(frozen=True)
class GapParams(TaskParams):
    """``min_distance_gap_m``: comparisons whose distances differ by less are skipped (m)."""

    min_distance_gap_m: float = knob(0.2, minimum=0)


def reject_overlap(scene: SceneView, a: int, b: int) -> None:
    """``Reject("3d_boxes_overlap")`` when the two objects' 3D boxes overlap."""
    box_a, box_b = scene.objects[a].box, scene.objects[b].box
    reach = (np.linalg.norm(box_a.size) + np.linalg.norm(box_b.size)) / 2.0
    if np.linalg.norm(box_a.center - box_b.center) > reach:
        return  # bounding spheres apart: the exact separating-axis test is not needed
    if boxes_overlap_3d(box_a, box_b):
        raise Reject("3d_boxes_overlap")


def centre_distance(scene: SceneView, a: int, b: int) -> float:
    """Distance between two objects' 3D centres (m)."""
    return float(np.linalg.norm(scene.objects[a].center - scene.objects[b].center))


def camera_distance(scene: SceneView, image: int, a: int) -> float:
    """Distance from the camera centre of ``image`` to the object's 3D centre (m)."""
    return float(np.linalg.norm(scene.center_cam(image, a)))


class _Distance(ViewTask):
    views: ClassVar[ViewStrategy] = SingleImage()


@register_task
class DistancePredictionOC(_Distance):
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

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return self.draw(scene, rng, 1, primary_ok=False, centre_inside=True)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        d = Draw.of(key)
        (a,) = d.ids
        dist = camera_distance(scene, d.primary, a)
        (la,) = labels(scene, d.ids)
        return Facts(
            images=list(d.views),
            object_ids=[a],
            values={"label_A": la, "distance_A": metres(dist)},
            answer=NumericAnswer(dist, decimals=1, minimum=0.1),
            markers=point_markers(scene, d.views, self.marks(d)),
            quantities={"distance_m": dist, **self.views.quantities(scene, d)},
        )


@register_task
class DistancePredictionOCMV(DistancePredictionOC):
    """Distance from the primary camera centre to the red object, marked in another view."""

    views = CoVisibleViews()
    spec = variant(
        DistancePredictionOC.spec,
        "MV",
        "distance from the first image's camera centre to the 3D centre of the red object, "
        "which is marked in another view (m)",
    )


@register_task
class DistancePredictionOO(_Distance):
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
    Params: ClassVar[type[TaskParams]] = MinDistanceParams

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return self.draw(scene, rng, 2, centre_inside=True)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        d = Draw.of(key)
        self.views.reject_shared_view(d)
        a, b = d.ids
        reject_overlap(scene, a, b)
        dist = centre_distance(scene, a, b)
        if dist < self.params.min_distance_m:
            raise Reject("distance_too_close")
        markers = point_markers(scene, d.views, self.marks(d))
        la, lb = labels(scene, d.ids)
        return self.views.finish(
            Facts(
                images=list(d.views),
                object_ids=[a, b],
                values={"label_A": la, "label_B": lb, "distance_AB": metres(dist)},
                answer=NumericAnswer(dist, decimals=1, minimum=0.1),
                markers=markers,
                quantities={"distance_m": dist, **self.views.quantities(scene, d)},
            )
        )


@register_task
class DistancePredictionOOMV(DistancePredictionOO):
    """Distance between the red and blue objects, marked in different views."""

    views = CoVisibleViews()
    spec = variant(
        DistancePredictionOO.spec,
        "MV",
        "distance between the 3D centres of red and blue, marked in different views (m)",
    )


@register_task
class DistancePredictionOOVideo(DistancePredictionOO):
    """Distance between the red and the blue object, marked in two different frames."""

    views = FrameSequence()
    spec = variant(
        DistancePredictionOO.spec,
        "V",
        "distance between the 3D centres of the red and blue objects, marked in two "
        "different frames of the video (m)",
    )


@register_task
class DistanceInferCenterOC(_Distance):
    """Which of two objects, named only, is closer to (farther from) the camera."""

    spec = TaskSpec(
        name="distance_infer_center_oc",
        version=2,
        views="S",
        relation="OC",
        formats=("fill", "sentence"),
        markers=(),
        placeholders=(
            "label_A",
            "label_B",
            "distance_A",
            "distance_B",
            "closer_farther",
            "comparative",
        ),  # fmt: skip
        description=(
            "which of two objects named in the question is closer to / farther from the camera "
            "centre; labels must be unique in the image"
        ),
    )
    Params: ClassVar[type[TaskParams]] = GapParams

    def propose(self, scene: SceneView, rng: Any) -> Any:
        # named only: draw among the objects whose label is unique in what the views show (the
        # engine's rule), so that few candidates are rejected as ambiguous
        key = self.draw(scene, rng, 2, unique_labels=True)
        return None if key is None else (*key, bool(rng.integers(2)))

    def compute(self, scene: SceneView, key: Any) -> Facts:
        d = Draw.of(key)
        (a, b), (farther,) = d.ids, d.extra
        la, lb = labels(scene, d.ids)
        d_a = camera_distance(scene, d.primary, a)
        d_b = camera_distance(scene, d.primary, b)
        return closer_farther_facts(
            list(d.views), (a, la, d_a), (b, lb, d_b), farther, self.params.min_distance_gap_m,
            self.views.quantities(scene, d),
        )  # fmt: skip


@register_task
class DistanceInferCenterOCMV(DistanceInferCenterOC):
    """Which of two objects, named only, is closer to (farther from) the primary camera."""

    views = CoVisibleViews()
    spec = variant(
        DistanceInferCenterOC.spec,
        "MV",
        "which of two objects named in the question (seen in different views) is closer to / "
        "farther from the first image's camera centre; labels unique among the sample's views",
        formats=("fill", "select", "sentence"),
    )


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
class DistanceInferCenterOO(_Distance):
    """Which of green and blue is closer to (farther from) red."""

    spec = TaskSpec(
        name="distance_infer_center_oo",
        version=2,
        views="S",
        relation="OO",
        formats=("fill", "select", "sentence"),
        markers=("red_point", "blue_point", "green_point"),
        placeholders=(
            "label_A",
            "label_B",
            "label_C",
            "distance_AB",
            "distance_AC",
            "closer_farther",
            "comparative",
        ),  # fmt: skip
        description=(
            "which of the green and blue objects is closer to / farther from the red object "
            "(3D centre distances)"
        ),
    )
    Params: ClassVar[type[TaskParams]] = GapParams

    def propose(self, scene: SceneView, rng: Any) -> Any:
        key = self.draw(scene, rng, 3, centre_inside=True)
        return None if key is None else (*key, bool(rng.integers(2)))

    def compute(self, scene: SceneView, key: Any) -> Facts:
        d = Draw.of(key)
        (a, b, c), (farther,) = d.ids, d.extra  # a red (reference), b blue, c green
        la, lb, lc = labels(scene, d.ids)
        if lb == lc:
            raise Reject("same_label")  # the answer is a name: it must tell them apart
        d_b, d_c = centre_distance(scene, a, b), centre_distance(scene, a, c)
        if abs(d_b - d_c) < self.params.min_distance_gap_m:
            raise Reject("distance_too_similar")
        reject_overlap(scene, a, b)  # after the cheap test: the box test costs more
        reject_overlap(scene, a, c)
        return which_is_closer_facts(
            list(d.views), (a, b, c), (la, lb, lc), (d_b, d_c), farther,
            point_markers(scene, d.views, self.marks(d)),
            self.views.quantities(scene, d),
        )  # fmt: skip


@register_task
class DistanceInferCenterOOMV(DistanceInferCenterOO):
    """Which of blue and green is closer to (farther from) red; markers in several views."""

    views = CoVisibleViews()
    spec = variant(
        DistanceInferCenterOO.spec,
        "MV",
        "which of the blue and green objects is closer to / farther from the red object "
        "(3D centre distances); markers spread over at least two views",
    )


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
