"""Multi-view object spatial relations, expressed in the PRIMARY camera's frame.

Object-camera: where an object marked in another view lies relative to the observer standing at
the first image's camera: left/right from x, above/below from -y, front/behind from z.
Object-object: red relative to blue with left/right from x, above/below from -y and front/behind
from the distance to the primary camera centre, as in the single-view task. Differences under
``threshold_m`` (0.1 m) leave the word empty; an all-empty relation is rejected.
"""

from __future__ import annotations

from typing import Any

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
from spar3d.tasks.registry import register_task
from spar3d.tasks.views import MVTask, bbox_markers, mv_quantities, unpack

OC_COLORS = ("red", "blue", "green")


def relation_judges(words: list[str]) -> list[JudgeFacts]:
    """One true/false statement pair per non-empty word ("to the left of" vs "to the right of")."""
    return [
        JudgeFacts({"relation_phrase": PHRASE_OF[w]}, {"relation_phrase": PHRASE_OF[OPPOSITE[w]]})
        for w in words
        if w
    ]


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
    defaults = {**MVTask.defaults, "threshold_m": RELATION_THRESHOLD_M, "balance_tries": 20}

    def propose(self, scene: SceneView, rng: Any) -> Any:
        # The camera is above most objects (~80 % "below") and the options are every
        # left/right x above/below pair, so the above/below word is drawn first (a fair coin)
        # and candidates are drawn until one matches it; compute rejects a mismatch.
        want_above = bool(rng.integers(2))
        key = None
        for _ in range(int(self.params["balance_tries"])):
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
            scene.center_cam(primary, obj), threshold_m=self.params["threshold_m"]
        )

    def _vertical_ok(self, scene: SceneView, primary: int, obj: int, want_above: bool) -> bool:
        word = self._relation(scene, primary, obj).above_below
        return not word or (word == "above") == want_above

    def compute(self, scene: SceneView, key: Any) -> Facts:
        views, (a,), (pa,) = unpack(key)
        color, want_above = key[3], key[4]
        if not self._vertical_ok(scene, views[0], a, want_above):
            raise Reject("above_below_balance")
        rel = self._relation(scene, views[0], a)
        answer = relation_answer(rel, keep_front_behind=True)
        (la,) = labels(scene, (a,))
        return Facts(
            images=list(views),
            object_ids=[a],
            values={
                "label_A": la,
                "color": color,
                "relation": describe(rel.words(), PHRASE_OBSERVER),
                "options_note": RELATION_OPTIONS_NOTE,
            },  # fmt: skip
            answer=answer,
            markers=bbox_markers(scene, views, [(color, a, pa)]),
            quantities={"relation": rel.words(), **mv_quantities(scene, views, (a,), (pa,))},
        )


@register_task
class ObjSpatialRelationOOMV(MVTask):
    """Where red is relative to blue (boxed in different views), in the primary camera's frame."""

    spec = TaskSpec(
        name="obj_spatial_relation_oo_mv",
        version=2,
        views="MV",
        relation="OO",
        formats=("sentence", "judge", "select"),
        markers=("red_bbox", "blue_bbox"),
        placeholders=("label_A", "label_B", "relation", "relation_phrase", "options_note"),
        description=(
            "left/right (x), above/below (-y), front/behind (distance to the camera) of red "
            "relative to blue in the first image's camera frame, boxed in different views; "
            "0.1 m threshold"
        ),
    )
    defaults = {**MVTask.defaults, "threshold_m": RELATION_THRESHOLD_M}

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return self.draw(scene, rng, 2)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        views, (a, b), (pa, pb) = unpack(key)
        p = views[0]
        rel = relation_in_frame(
            scene.center_cam(p, a),
            scene.center_cam(p, b),
            threshold_m=self.params["threshold_m"],
            depth_by="distance",
        )
        answer = relation_answer(rel)
        la, lb = labels(scene, (a, b))
        return Facts(
            images=list(views),
            object_ids=[a, b],
            values={
                "label_A": la,
                "label_B": lb,
                "relation": describe(rel.words(), PHRASE_OF),
                "options_note": RELATION_OPTIONS_NOTE,
            },  # fmt: skip
            answer=answer,
            markers=bbox_markers(scene, views, [("red", a, pa), ("blue", b, pb)]),
            judge=relation_judges(rel.words()),
            quantities={"relation": rel.words(), **mv_quantities(scene, views, (a, b), (pa, pb))},
        )
