"""Distance tasks over a frame sequence (SPAR appx 7.5 "Distance infer", video setting).

Objects are marked in frames of the scene's video (``point_img_idx`` says which); distances are
Euclidean between 3D box centres in world coordinates, so they do not depend on the frame.
Pairs whose 3D boxes overlap or whose centres are closer than ``min_distance_m`` are skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spar3d.geometry.boxes import boxes_overlap_3d
from spar3d.tasks.base import ChoiceAnswer, Facts, NumericAnswer, Reject, SceneView
from spar3d.tasks.common import labels, metres, point_marker, vec
from spar3d.tasks.markers import Markers
from spar3d.tasks.registry import register_task
from spar3d.tasks.video.frames import and_list, video_spec
from spar3d.tasks.views import VIDEO_DEFAULTS, VideoTask, draw_frame, draw_seen


def _centre_distance(scene: SceneView, a: int, b: int, min_distance_m: float) -> float:
    """Distance between two objects' centres, or Reject when the boxes overlap / are too close."""
    if boxes_overlap_3d(scene.objects[a].box, scene.objects[b].box):
        raise Reject("3d_boxes_overlap")
    dist = float(np.linalg.norm(scene.objects[a].center - scene.objects[b].center))
    if dist < min_distance_m:
        raise Reject("distance_too_close")
    return dist


def _world(scene: SceneView, ids: list[int]) -> dict[str, Any]:
    return {
        str(o): {"label": scene.objects[o].label, "center_world": vec(scene.objects[o].center)}
        for o in ids
    }


@register_task
class DistancePredictionOOVideo(VideoTask):
    """Distance between the red and the blue object, marked in two different frames."""

    spec = video_spec(
        "distance_prediction_oo_video",
        "OO",
        ("fill", "select", "sentence"),
        ("red_point", "blue_point"),
        placeholders=("label_A", "label_B", "distance_AB"),
        description=(
            "distance between the 3D centres of the red and blue objects, marked in two "
            "different frames of the video (m)"
        ),
        version=2,  # 2: point markers on the visible surface
    )
    defaults = {**VIDEO_DEFAULTS, "min_distance_m": 0.3}
    center_note = True

    def propose(self, scene: SceneView, rng: Any) -> tuple[int, ...] | None:
        video = self.video(scene)
        ids = draw_seen(video, rng, 2)
        if ids is None:
            return None
        a, b = ids
        return (a, draw_frame(video, rng, a), b, draw_frame(video, rng, b))

    def compute(self, scene: SceneView, key: tuple[int, ...]) -> Facts:
        a, fa, b, fb = key
        if fa == fb:
            raise Reject("same_frame")  # the video task marks the two objects in different frames
        dist = _centre_distance(scene, a, b, self.params["min_distance_m"])
        video = self.video(scene)
        markers = Markers().point("red", point_marker(scene, video.images[fa], a), fa, obj=a)
        markers.point("blue", point_marker(scene, video.images[fb], b), fb, obj=b)
        la, lb = labels(scene, (a, b))
        return self.facts(
            video,
            [a, b],
            {"label_A": la, "label_B": lb, "distance_AB": metres(dist)},
            NumericAnswer(dist, decimals=1, minimum=0.1),
            {"distance_m": dist, "frames": [fa, fb], "objects": _world(scene, [a, b])},
            markers,
        )


@register_task
class DistanceInferCenterOOVideo(VideoTask):
    """Which of the listed objects (object0, object1, ...) is closest to objectA."""

    spec = video_spec(
        "distance_infer_center_oo_video",
        "OO",
        ("fill", "select", "sentence"),
        ("point_list",),
        placeholders=("label_A", "candidates", "closest", "label_closest", "distance_closest"),
        description=(
            "objectA and object0..object{n-1} are marked by a point list over the video; which "
            "listed object's 3D centre is closest to objectA's"
        ),
        version=2,  # 2: point markers on the visible surface
    )
    defaults = {
        **VIDEO_DEFAULTS,
        "n_candidates": 3.0,
        "min_distance_m": 0.3,
        "min_distance_gap_m": 0.2,
    }
    center_note = True

    def propose(self, scene: SceneView, rng: Any) -> tuple[tuple[int, int], ...] | None:
        video = self.video(scene)
        ids = draw_seen(video, rng, 1 + int(self.params["n_candidates"]))
        if ids is None:
            return None
        return tuple((o, draw_frame(video, rng, o)) for o in ids)

    def compute(self, scene: SceneView, key: tuple[tuple[int, int], ...]) -> Facts:
        (a, fa), *cands = key
        dists = [_centre_distance(scene, a, c, self.params["min_distance_m"]) for c, _ in cands]
        order = np.argsort(dists)
        best = int(order[0])
        if dists[int(order[1])] - dists[best] < self.params["min_distance_gap_m"]:
            raise Reject("distance_gap_too_small")
        video = self.video(scene)
        markers = Markers().list_point(point_marker(scene, video.images[fa], a), fa, obj=a)
        for c, fc in cands:
            markers.list_point(point_marker(scene, video.images[fc], c), fc, obj=c)
        names = [f"object{i}" for i in range(len(cands))]
        cand_labels = labels(scene, [c for c, _ in cands])
        return self.facts(
            video,
            [a, *(c for c, _ in cands)],
            {
                "label_A": scene.objects[a].label,
                "candidates": and_list(
                    [f"{n} ({lab})" for n, lab in zip(names, cand_labels, strict=True)]
                ),
                "closest": names[best],
                "label_closest": cand_labels[best],
                "distance_closest": metres(dists[best]),
            },
            ChoiceAnswer(names[best], tuple(n for i, n in enumerate(names) if i != best)),
            {
                "distances_m": {n: d for n, d in zip(names, dists, strict=True)},
                "frames": [fa, *(f for _, f in cands)],
                "objects": _world(scene, [a, *(c for c, _ in cands)]),
            },
            markers,
        )
