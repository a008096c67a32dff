"""Multi-view spatial imagination (SPAR appx 7.5 "Spatial imagination"), boxes in several views.

The observer starts at the first image's camera. It then moves to the 3D centre of the green
object and faces the blue one: forward ``f = normalise(blue - green)``, right and down from ``f``
and world up (:func:`spar3d.tasks.imagination.moved_observer`). A view whose pitch
``asin(f_z)`` exceeds ``max_pitch_deg`` is discarded (``pitch_too_steep``), as the paper does.
Object-camera: relation of red to the observer before and after the move (x, -y, z).
Object-object: relation of red to yellow before (primary frame) and after (new frame), front/behind
from the distance to the observer. 0.1 m threshold; an empty relation is rejected.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spar3d.geometry.relations import (
    RELATION_THRESHOLD_M,
    Relation,
    relation_in_frame,
    relation_to_observer,
)
from spar3d.geometry.transforms import world_to_cam
from spar3d.tasks.base import Facts, Reject, SceneView, TaskSpec
from spar3d.tasks.common import (
    PHRASE_OBSERVER,
    PHRASE_OF,
    RELATION_OPTIONS_NOTE,
    describe,
    labels,
    relation_answer,
)
from spar3d.tasks.imagination import moved_observer  # shared with the single-view tasks
from spar3d.tasks.registry import register_task
from spar3d.tasks.views import MVTask, bbox_markers, mv_quantities, unpack


class _ImaginationMV(MVTask):
    defaults = {
        **MVTask.defaults,
        "threshold_m": RELATION_THRESHOLD_M,
        "max_pitch_deg": 30.0,
        "min_move_m": 0.3,
    }

    def moved_frame(self, scene: SceneView, at: int, facing: int) -> tuple[np.ndarray, float]:
        """``T_world_observer`` after moving to ``at`` and facing ``facing``, and its pitch (deg);
        the same construction and rejections as the single-view tasks."""
        return moved_observer(
            scene.objects[at].center,
            scene.objects[facing].center,
            self.params["max_pitch_deg"],
            self.params["min_move_m"],
        )

    def observer_relation(self, p_cam: np.ndarray) -> Relation:
        return relation_to_observer(p_cam, threshold_m=self.params["threshold_m"])

    def pair_relation(self, p_cam: np.ndarray, q_cam: np.ndarray) -> Relation:
        return relation_in_frame(
            p_cam, q_cam, threshold_m=self.params["threshold_m"], depth_by="distance"
        )

    def build(
        self,
        scene: SceneView,
        key: Any,
        before: Relation,
        after: Relation,
        pitch: float,
        phrases: dict[str, str],
        keep_front_behind: bool = False,
    ) -> Facts:
        """Facts of a key ``(views, (red, green, blue[, yellow]), positions)``."""
        if before.is_empty or after.is_empty:
            raise Reject("relation_indistinguishable")
        views, ids, positions = unpack(key)
        # label_A red target, label_B blue (faced), label_C green (stood at), label_D yellow
        names = dict(zip(("A", "C", "B", "D"), labels(scene, ids), strict=False))
        # SPAR's loader reads bbox_img_idx of these tasks as green, blue, red(, yellow)
        marked = dict(
            zip(("red", "green", "blue", "yellow"), zip(ids, positions, strict=True), strict=False)
        )
        order = [c for c in ("green", "blue", "red", "yellow") if c in marked]
        return Facts(
            images=list(views),
            object_ids=list(ids),
            values={
                **{f"label_{k}": v for k, v in names.items()},
                "before": describe(before.words(), phrases),
                "after": describe(after.words(), phrases),
                "options_note": RELATION_OPTIONS_NOTE,
            },
            answer=relation_answer(after, keep_front_behind),
            markers=bbox_markers(scene, views, [(c, *marked[c]) for c in order]),
            quantities={
                "before": before.words(),
                "after": after.words(),
                "pitch_deg": pitch,
                **mv_quantities(scene, views, ids, positions),
            },
        )


@register_task
class SpatialImaginationOCMV(_ImaginationMV):
    """Red's relation to the observer before and after it moves to green and faces blue."""

    spec = TaskSpec(
        name="spatial_imagination_oc_mv",
        version=2,
        views="MV",
        relation="OC",
        formats=("sentence", "select"),
        markers=("red_bbox", "green_bbox", "blue_bbox"),
        placeholders=(
            "label_A",
            "label_B",
            "label_C",
            "before",
            "after",
            "options_note",
        ),  # fmt: skip
        description=(
            "observer starts at the first image's camera, moves to green's centre and faces blue: "
            "red's left/right, above/below, front/behind relative to the observer before and "
            "after (select asks for after); boxes in several views"
        ),
    )

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return self.draw(scene, rng, 3)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        views, (a, c, b), _ = unpack(key)  # a red target, c green position, b blue facing
        T_world_obs, pitch = self.moved_frame(scene, c, b)
        before = self.observer_relation(scene.center_cam(views[0], a))
        after = self.observer_relation(world_to_cam(T_world_obs, scene.objects[a].center))
        # the observer mostly faces the target: front/behind stays the answer's in every option
        return self.build(scene, key, before, after, pitch, PHRASE_OBSERVER, True)


@register_task
class SpatialImaginationOOMV(_ImaginationMV):
    """Red's relation to yellow before and after the observer moves to green and faces blue."""

    spec = TaskSpec(
        name="spatial_imagination_oo_mv",
        version=2,
        views="MV",
        relation="OO",
        formats=("sentence", "select"),
        markers=("red_bbox", "green_bbox", "blue_bbox", "yellow_bbox"),
        placeholders=(
            "label_A",
            "label_B",
            "label_C",
            "label_D",
            "before",
            "after",
            "options_note",
        ),  # fmt: skip
        description=(
            "observer starts at the first image's camera, moves to green's centre and faces blue: "
            "red's relation to yellow (x, -y, distance to the observer) before and after (select "
            "asks for after); boxes in several views"
        ),
    )

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return self.draw(scene, rng, 4)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        views, (a, c, b, d), _ = unpack(key)  # red, green, blue, yellow
        T_world_obs, pitch = self.moved_frame(scene, c, b)
        p = views[0]
        before = self.pair_relation(scene.center_cam(p, a), scene.center_cam(p, d))
        a_new, d_new = world_to_cam(
            T_world_obs, np.stack([scene.objects[a].center, scene.objects[d].center])
        )
        after = self.pair_relation(a_new, d_new)
        return self.build(scene, key, before, after, pitch, PHRASE_OF)
