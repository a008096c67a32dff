"""Object spatial relations (SPAR appx 7.5 "Obj spatial relation"), one image or co-visible views.

Centres go into the camera frame of the primary view (the only image of a single-view sample,
the first of a multi-view one). Object-object: red relative to blue, left/right from x,
above/below from -y and front/behind from the distance to the camera centre. Object-camera
(multi-view only): where an object boxed in another view lies relative to the observer standing
at the primary camera, left/right from x, above/below from -y, front/behind from z. Differences
under ``threshold_m`` (0.1 m) leave the word empty; an all-empty relation is rejected.

The object-object question is written once; its ``_mv`` variant only holds another view
strategy (:mod:`spar3d.tasks.views`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from spar3d.geometry.relations import (
    RELATION_THRESHOLD_M,
    Relation,
    relation_in_frame,
    relation_to_observer,
)
from spar3d.tasks.base import Facts, JudgeFacts, Reject, SceneView, TaskSpec
from spar3d.tasks.common import (
    OPPOSITE,
    PHRASE_OBSERVER,
    PHRASE_OF,
    RELATION_OPTIONS_NOTE,
    describe,
    labels,
    relation_answer,
)
from spar3d.tasks.params import MultiViewParams, TaskParams, knob
from spar3d.tasks.registry import register_task
from spar3d.tasks.views import (
    CoVisibleViews,
    Draw,
    MVTask,
    SingleImage,
    ViewStrategy,
    ViewTask,
    bbox_markers,
    variant,
)

OC_COLORS = ("red", "blue", "green")


@dataclass(frozen=True)
class RelationParams(TaskParams):
    """``threshold_m``: coordinate differences under it leave a relation word empty (m)."""

    threshold_m: float = knob(RELATION_THRESHOLD_M, minimum=0)


@dataclass(frozen=True)
class RelationOCMVParams(RelationParams, MultiViewParams):
    """``balance_tries``: draws spent to match the above/below coin (0: no balancing draw)."""

    balance_tries: int = knob(20, minimum=0)


def relation_judges(words: list[str]) -> list[JudgeFacts]:
    """One true/false statement pair per non-empty word ("to the left of" vs "to the right of")."""
    return [
        JudgeFacts({"relation_phrase": PHRASE_OF[w]}, {"relation_phrase": PHRASE_OF[OPPOSITE[w]]})
        for w in words
        if w
    ]


@register_task
class ObjSpatialRelationOO(ViewTask):
    """Where the red object is relative to the blue one, in the primary camera's frame."""

    views: ClassVar[ViewStrategy] = SingleImage()
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
    Params: ClassVar[type[TaskParams]] = RelationParams

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return self.draw(scene, rng, 2)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        d = Draw.of(key)
        a, b = d.ids
        rel = relation_in_frame(
            scene.center_cam(d.primary, a),
            scene.center_cam(d.primary, b),
            threshold_m=self.params.threshold_m,
            depth_by="distance",
        )
        answer = relation_answer(rel)
        la, lb = labels(scene, d.ids)
        return Facts(
            images=list(d.views),
            object_ids=[a, b],
            values={
                "label_A": la,
                "label_B": lb,
                "relation": describe(rel.words(), PHRASE_OF),
                "options_note": RELATION_OPTIONS_NOTE,
            },  # fmt: skip
            answer=answer,
            markers=bbox_markers(scene, d.views, self.marks(d)),
            judge=relation_judges(rel.words()),
            quantities={"relation": rel.words(), **self.views.quantities(scene, d)},
        )


@register_task
class ObjSpatialRelationOOMV(ObjSpatialRelationOO):
    """Where red is relative to blue (boxed in different views), in the primary camera's frame."""

    views = CoVisibleViews()
    spec = variant(
        ObjSpatialRelationOO.spec,
        "MV",
        "left/right (x), above/below (-y), front/behind (distance to the camera) of red "
        "relative to blue in the first image's camera frame, boxed in different views; "
        "0.1 m threshold",
    )


@register_task
class ObjSpatialRelationOCMV(MVTask):
    """Where an object boxed in another view is relative to the observer at the primary view."""

    spec = TaskSpec(
        name="obj_spatial_relation_oc_mv",
        version=2,
        views="MV",
        relation="OC",
        formats=("sentence", "select"),
        markers=("red_bbox", "blue_bbox", "green_bbox"),
        placeholders=("label_A", "color", "relation", "options_note"),
        description=(
            "left/right (x), above/below (-y), front/behind (z) of an object boxed in another view "
            "relative to the observer at the first image's camera; 0.1 m threshold; the box "
            "colour is drawn from red/blue/green; above and below answers balanced"
        ),
    )
    Params = RelationOCMVParams

    def propose(self, scene: SceneView, rng: Any) -> Any:
        # The camera is above most objects (~80 % "below") and the options are every
        # left/right x above/below pair, so the above/below word is drawn first (a fair coin)
        # and candidates are drawn until one matches it; compute rejects a mismatch.
        want_above = bool(rng.integers(2))
        key = None
        for _ in range(int(self.params.balance_tries)):
            key = self.draw(scene, rng, 1, primary_ok=False)
            if key is None:
                return None
            if key[1] and self._vertical_ok(scene, key[0][0], key[1][0], want_above):
                break
        if key is None:  # balance_tries == 0
            return None
        return (*key, OC_COLORS[int(rng.integers(len(OC_COLORS)))], want_above)

    def _relation(self, scene: SceneView, primary: int, obj: int) -> Relation:
        return relation_to_observer(
            scene.center_cam(primary, obj), threshold_m=self.params.threshold_m
        )

    def _vertical_ok(self, scene: SceneView, primary: int, obj: int, want_above: bool) -> bool:
        word = self._relation(scene, primary, obj).above_below
        return not word or (word == "above") == want_above

    def compute(self, scene: SceneView, key: Any) -> Facts:
        d = Draw.of(key)
        (a,), (color, want_above) = d.ids, d.extra
        if not self._vertical_ok(scene, d.primary, a, want_above):
            raise Reject("above_below_balance")
        rel = self._relation(scene, d.primary, a)
        answer = relation_answer(rel, keep_front_behind=True)
        (la,) = labels(scene, (a,))
        return Facts(
            images=list(d.views),
            object_ids=[a],
            values={
                "label_A": la,
                "color": color,
                "relation": describe(rel.words(), PHRASE_OBSERVER),
                "options_note": RELATION_OPTIONS_NOTE,
            },  # fmt: skip
            answer=answer,
            markers=bbox_markers(scene, d.views, self.marks(d, (color,))),
            quantities={"relation": rel.words(), **self.views.quantities(scene, d)},
        )
