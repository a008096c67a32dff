"""Multi-view depth tasks: objects marked in different views, depths in the PRIMARY camera frame.

Depth is the z of the object's 3D centre in the first image's camera frame. An object behind (or
nearly in the plane of) the primary camera has no sensible depth and is rejected
(``behind_primary_camera``); pairs whose depths differ by less than ``min_depth_gap_m`` are
skipped (``depth_too_close``), as in the single-view tasks. 2D overlap does not apply across
views.
"""

from __future__ import annotations

from typing import Any

from spar3d.tasks.base import Facts, NumericAnswer, Reject, SceneView, TaskSpec
from spar3d.tasks.common import labels, metres
from spar3d.tasks.depth import depth_difference_facts
from spar3d.tasks.registry import register_task
from spar3d.tasks.views import MVTask, mv_quantities, point_markers, unpack


class _DepthMV(MVTask):
    defaults = {**MVTask.defaults, "min_depth_gap_m": 0.2, "min_depth_m": 0.1}

    def depths(self, scene: SceneView, primary: int, ids: tuple[int, ...]) -> list[float]:
        """Primary-frame depths, or ``Reject("behind_primary_camera")``."""
        d = [float(scene.center_cam(primary, o)[2]) for o in ids]
        if min(d) < self.params["min_depth_m"]:
            raise Reject("behind_primary_camera")
        return d


@register_task
class DepthPredictionOCMV(_DepthMV):
    """Red's depth (primary frame) is given; the answer is blue's depth; marked in different views."""

    spec = TaskSpec(
        name="depth_prediction_oc_mv",
        version=2,
        views="MV",
        relation="OC",
        formats=("fill", "select", "sentence"),
        markers=("red_point", "blue_point"),
        placeholders=("label_A", "depth_A", "label_B", "depth_B"),
        description=(
            "red object's depth in the first image's camera frame is given; the blue object's "
            "depth there (m); red and blue are marked in different views"
        ),
    )

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return self.draw(scene, rng, 2, centre_inside=True)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        views, (a, b), (pa, pb) = unpack(key)
        d_a, d_b = self.depths(scene, views[0], (a, b))
        if abs(d_a - d_b) < self.params["min_depth_gap_m"]:
            raise Reject("depth_too_close")
        la, lb = labels(scene, (a, b))
        return Facts(
            images=list(views),
            object_ids=[a, b],
            values={"label_A": la, "depth_A": metres(d_a), "label_B": lb, "depth_B": metres(d_b)},
            answer=NumericAnswer(d_b, decimals=1, minimum=0.1),
            markers=point_markers(scene, views, [("red", a, pa), ("blue", b, pb)]),
            quantities={
                "depth_m": {"A": d_a, "B": d_b},
                **mv_quantities(scene, views, (a, b), (pa, pb)),
            },
        )


@register_task
class DepthPredictionOOMV(_DepthMV):
    """Red is the depth reference; the answer is |depth(blue) - depth(green)| in the primary frame."""

    spec = TaskSpec(
        name="depth_prediction_oo_mv",
        version=2,
        views="MV",
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
            "red object's depth in the first image's camera frame is the reference; the depth "
            "difference |z_blue - z_green| there (m); markers spread over at least two views"
        ),
    )

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return self.draw(scene, rng, 3, centre_inside=True)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        views, (a, b, c), (pa, pb, pc) = unpack(key)
        d_a, d_b, d_c = self.depths(scene, views[0], (a, b, c))
        diff = abs(d_b - d_c)
        if diff < self.params["min_depth_gap_m"]:
            raise Reject("depth_too_close")
        return depth_difference_facts(
            list(views), (a, b, c), labels(scene, (a, b, c)), (d_a, d_b, d_c),
            point_markers(scene, views, [("red", a, pa), ("blue", b, pb), ("green", c, pc)]),
            mv_quantities(scene, views, (a, b, c), (pa, pb, pc)),
        )  # fmt: skip
