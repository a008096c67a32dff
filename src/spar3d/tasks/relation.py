"""Single-view object-object spatial relation (SPAR appx 7.5 "Obj spatial relation").

Both centres go into the camera frame; left/right from x, above/below from -y and front/behind
from the distance to the camera centre; differences under 0.1 m leave the word empty.
"""

from __future__ import annotations

from typing import Any

from spar3d.geometry.relations import RELATION_THRESHOLD_M, relation_in_frame
from spar3d.tasks.base import ChoiceAnswer, Facts, JudgeFacts, Reject, SceneView, Task, TaskSpec
from spar3d.tasks.common import (
    OPPOSITE,
    PHRASE_OF,
    RELATION_OPTIONS_NOTE,
    bbox_markers,
    describe,
    draw_image_objects,
    labels,
    object_quantities,
    relation_distractors,
)
from spar3d.tasks.registry import register_task


@register_task
class ObjSpatialRelationOO(Task):
    """Where the red object is relative to the blue one, in the camera's frame."""

    spec = TaskSpec(
        name="obj_spatial_relation_oo",
        version=2,
        views="S",
        relation="OO",
        formats=("sentence", "judge", "select"),
        markers=("red_bbox", "blue_bbox"),
        placeholders=("label_A", "label_B", "relation", "relation_phrase", "options_note"),
        description=(
            "left/right (x), above/below (-y), front/behind (distance to the camera) of red "
            "relative to blue in the camera frame; 0.1 m threshold"
        ),
    )
    defaults = {"threshold_m": RELATION_THRESHOLD_M}

    def propose(self, scene: SceneView, rng: Any) -> tuple[int, ...] | None:
        return draw_image_objects(scene, rng, 2)

    def compute(self, scene: SceneView, key: tuple[int, ...]) -> Facts:
        image, a, b = key
        ca, cb = scene.center_cam(image, a), scene.center_cam(image, b)
        rel = relation_in_frame(ca, cb, threshold_m=self.params["threshold_m"], depth_by="distance")
        if rel.is_empty:
            raise Reject("relation_indistinguishable")
        words = rel.words()
        la, lb = labels(scene, (a, b))
        markers = bbox_markers(scene, image, (a, b))
        judge = [
            JudgeFacts(
                {"relation_phrase": PHRASE_OF[w]}, {"relation_phrase": PHRASE_OF[OPPOSITE[w]]}
            )
            for w in words
            if w
        ]
        return Facts(
            images=[image],
            object_ids=[a, b],
            values={
                "label_A": la,
                "label_B": lb,
                "relation": describe(words, PHRASE_OF),
                "options_note": RELATION_OPTIONS_NOTE,
            },  # fmt: skip
            answer=ChoiceAnswer(rel.text(), tuple(relation_distractors(words))),
            markers=markers,
            judge=judge,
            quantities={
                "relation": words,
                "objects": object_quantities(scene, image, (a, b)),
            },
        )
