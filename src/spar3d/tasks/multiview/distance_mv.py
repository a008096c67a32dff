"""Multi-view distance tasks: distances from the PRIMARY camera centre or between objects.

Distances are Euclidean between 3D box centres (object-object) or from the first image's camera
centre to a box centre (object-camera), metres with one decimal. As in the single-view tasks, pairs
whose 3D boxes overlap or whose centres are closer than ``min_distance_m`` are skipped, and
comparisons whose distances differ by less than ``min_distance_gap_m`` are indistinguishable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spar3d.geometry.boxes import boxes_overlap_3d
from spar3d.tasks.base import Facts, NumericAnswer, Reject, SceneView, TaskSpec
from spar3d.tasks.common import labels, metres
from spar3d.tasks.distance import (  # shared with single-view
    closer_farther_facts,
    which_is_closer_facts,
)
from spar3d.tasks.registry import register_task
from spar3d.tasks.views import MVTask, mv_quantities, point_markers, unpack


def _reject_overlap(scene: SceneView, a: int, b: int) -> None:
    if boxes_overlap_3d(scene.objects[a].box, scene.objects[b].box):
        raise Reject("3d_boxes_overlap")


def _distance(scene: SceneView, a: int, b: int) -> float:
    return float(np.linalg.norm(scene.objects[a].center - scene.objects[b].center))


def _camera_distance(scene: SceneView, primary: int, a: int) -> float:
    return float(np.linalg.norm(scene.center_cam(primary, a)))


@register_task
class DistancePredictionOCMV(MVTask):
    """Distance from the primary camera centre to the red object, marked in another view."""

    spec = TaskSpec(
        name="distance_prediction_oc_mv",
        version=2,
        views="MV",
        relation="OC",
        formats=("fill", "select", "sentence"),
        markers=("red_point",),
        placeholders=("label_A", "distance_A"),
        description=(
            "distance from the first image's camera centre to the 3D centre of the red object, "
            "which is marked in another view (m)"
        ),
    )

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return self.draw(scene, rng, 1, primary_ok=False, centre_inside=True)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        views, (a,), (pa,) = unpack(key)
        dist = _camera_distance(scene, views[0], a)
        (la,) = labels(scene, (a,))
        return Facts(
            images=list(views),
            object_ids=[a],
            values={"label_A": la, "distance_A": metres(dist)},
            answer=NumericAnswer(dist, decimals=1, minimum=0.1),
            markers=point_markers(scene, views, [("red", a, pa)]),
            quantities={"distance_m": dist, **mv_quantities(scene, views, (a,), (pa,))},
        )


@register_task
class DistancePredictionOOMV(MVTask):
    """Distance between the red and blue objects, marked in different views."""

    spec = TaskSpec(
        name="distance_prediction_oo_mv",
        version=2,
        views="MV",
        relation="OO",
        formats=("fill", "select", "sentence"),
        markers=("red_point", "blue_point"),
        placeholders=("label_A", "label_B", "distance_AB"),
        description="distance between the 3D centres of red and blue, marked in different views (m)",
    )
    defaults = {**MVTask.defaults, "min_distance_m": 0.3}

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return self.draw(scene, rng, 2, centre_inside=True)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        views, (a, b), (pa, pb) = unpack(key)
        _reject_overlap(scene, a, b)
        dist = _distance(scene, a, b)
        if dist < self.params["min_distance_m"]:
            raise Reject("distance_too_close")
        la, lb = labels(scene, (a, b))
        return Facts(
            images=list(views),
            object_ids=[a, b],
            values={"label_A": la, "label_B": lb, "distance_AB": metres(dist)},
            answer=NumericAnswer(dist, decimals=1, minimum=0.1),
            markers=point_markers(scene, views, [("red", a, pa), ("blue", b, pb)]),
            quantities={"distance_m": dist, **mv_quantities(scene, views, (a, b), (pa, pb))},
        )


@register_task
class DistanceInferCenterOCMV(MVTask):
    """Which of two objects, named only, is closer to (farther from) the primary camera."""

    spec = TaskSpec(
        name="distance_infer_center_oc_mv",
        version=2,
        views="MV",
        relation="OC",
        formats=("fill", "select", "sentence"),
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
            "which of two objects named in the question (seen in different views) is closer to / "
            "farther from the first image's camera centre; labels unique among the sample's views"
        ),
    )
    defaults = {**MVTask.defaults, "min_distance_gap_m": 0.2}

    def propose(self, scene: SceneView, rng: Any) -> Any:
        # named only: objects whose label is unique among what the views show (the engine's rule)
        key = self.draw(scene, rng, 2, unique_labels=True)
        return None if key is None else (*key, bool(rng.integers(2)))

    def compute(self, scene: SceneView, key: Any) -> Facts:
        views, (a, b), positions = unpack(key)
        farther = key[3]
        la, lb = labels(scene, (a, b))
        d_a = _camera_distance(scene, views[0], a)
        d_b = _camera_distance(scene, views[0], b)
        return closer_farther_facts(
            list(views), (a, la, d_a), (b, lb, d_b), farther, self.params["min_distance_gap_m"],
            mv_quantities(scene, views, (a, b), positions),
        )  # fmt: skip


@register_task
class DistanceInferCenterOOMV(MVTask):
    """Which of blue and green is closer to (farther from) red; markers in several views."""

    spec = TaskSpec(
        name="distance_infer_center_oo_mv",
        version=2,
        views="MV",
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
            "which of the blue and green objects is closer to / farther from the red object "
            "(3D centre distances); markers spread over at least two views"
        ),
    )
    defaults = {**MVTask.defaults, "min_distance_gap_m": 0.2}

    def propose(self, scene: SceneView, rng: Any) -> Any:
        key = self.draw(scene, rng, 3, centre_inside=True)
        return None if key is None else (*key, bool(rng.integers(2)))

    def compute(self, scene: SceneView, key: Any) -> Facts:
        views, (a, b, c), (pa, pb, pc) = unpack(key)  # a red (reference), b blue, c green
        farther = key[3]
        la, lb, lc = labels(scene, (a, b, c))
        if lb == lc:
            raise Reject("same_label")  # the answer is a name: it must tell them apart
        d_b, d_c = _distance(scene, a, b), _distance(scene, a, c)
        if abs(d_b - d_c) < self.params["min_distance_gap_m"]:
            raise Reject("distance_too_similar")
        _reject_overlap(scene, a, b)  # after the cheap test: the box test costs more
        _reject_overlap(scene, a, c)
        return which_is_closer_facts(
            list(views), (a, b, c), (la, lb, lc), (d_b, d_c), farther,
            # SPAR's loader reads point_img_idx of this task as red, green, blue
            point_markers(scene, views, [("red", a, pa), ("green", c, pc), ("blue", b, pb)]),
            mv_quantities(scene, views, (a, b, c), (pa, pb, pc)),
        )  # fmt: skip
