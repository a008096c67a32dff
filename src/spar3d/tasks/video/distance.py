"""Which listed object is closest (SPAR appx 7.5 "Distance infer", video setting).

Objects are marked in frames of the scene's video (``point_img_idx`` says which); distances are
Euclidean between 3D box centres in world coordinates, so they do not depend on the frame.
Pairs whose 3D boxes overlap or whose centres are closer than ``min_distance_m`` are skipped.
``distance_prediction_oo_video`` is the video variant of :mod:`spar3d.tasks.distance`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spar3d.tasks.base import ChoiceAnswer, Facts, Reject, SceneView
from spar3d.tasks.common import labels, metres, point_marker
from spar3d.tasks.distance import GapParams, MinDistanceParams, centre_distance, reject_overlap
from spar3d.tasks.markers import Markers
from spar3d.tasks.params import VideoParams, knob
from spar3d.tasks.registry import register_task
from spar3d.tasks.video.frames import and_list, video_spec
from spar3d.tasks.views import Draw, VideoTask


@dataclass(frozen=True)
class ClosestParams(MinDistanceParams, GapParams, VideoParams):
    """``n_candidates``: listed objects besides objectA (>= 2)."""

    n_candidates: int = knob(3, minimum=2)


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
    Params = ClosestParams
    center_note = True

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return self.draw(scene, rng, 1 + int(self.params.n_candidates))

    def compute(self, scene: SceneView, key: Any) -> Facts:
        d = Draw.of(key)
        (a, fa), *cands = zip(d.ids, d.positions, strict=True)
        dists = []
        for c, _ in cands:
            reject_overlap(scene, a, c)
            dists.append(centre_distance(scene, a, c))
            if dists[-1] < self.params.min_distance_m:
                raise Reject("distance_too_close")
        order = np.argsort(dists)
        best = int(order[0])
        if dists[int(order[1])] - dists[best] < self.params.min_distance_gap_m:
            raise Reject("distance_gap_too_small")
        markers = Markers()
        for o, f in zip(d.ids, d.positions, strict=True):
            markers.list_point(point_marker(scene, d.views[f], o), f, obj=o)
        names = [f"object{i}" for i in range(len(cands))]
        cand_labels = labels(scene, [c for c, _ in cands])
        return self.facts(
            self.video(scene),
            d.ids,
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
                **self.views.quantities(scene, d),
            },
            markers,
        )
