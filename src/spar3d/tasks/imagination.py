"""Spatial imagination (SPAR appx 7.5 "Spatial imagination"): one image, co-visible views or a
video.

The observer moves to the green object's centre A and faces the blue object's centre B:
forward ``f = normalise(B - A)``, right ``r = normalise(f x z_world)``, down ``d = f x r`` (an
OpenCV camera with world +z up). Views whose pitch ``|asin(f_z)|`` exceeds ``max_pitch_deg`` are
discarded (``pitch_too_steep``), as the paper does. 0.1 m threshold; an empty relation is rejected.

* Single view (``S``): relations of the target(s) before (original camera) and after the move.
* Multi-view (``_mv``): the observer starts at the first image's camera; boxes in several views.
  Object-camera: red relative to the observer before and after the move (x, -y, z).
  Object-object: red relative to yellow before (primary frame) and after (new frame),
  front/behind from the distance to the observer.
* Video (``_video``): the answer is where the target (red, object2) is relative to the observer
  after the move (OC), or relative to a fourth object (yellow, object3) in the observer's frame
  (OO). The plain tasks box each object in one frame of the video where it is visible
  (``bbox_img_idx`` in the order green, blue, red, yellow, as SPAR draws them, labelled
  object0..3); the ``_hard`` tasks name the objects only, so every object's label must be unique
  in the scene.

The three variants share the observer, the relation geometry and the view strategies
(:mod:`spar3d.tasks.views`); each keeps its own compute because their questions differ in
wording, object order and marker order (SPAR's loaders read each layout as it is).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from spar3d.geometry.relations import (
    RELATION_THRESHOLD_M,
    Relation,
    relation_in_frame,
    relation_to_observer,
)
from spar3d.geometry.transforms import world_to_cam
from spar3d.tasks.base import ChoiceAnswer, Facts, Reject, SceneView, TaskSpec
from spar3d.tasks.common import (
    PHRASE_OBSERVER,
    PHRASE_OF,
    RELATION_OPTIONS_NOTE,
    describe,
    labels,
    relation_answer,
    relation_distractors,
    vec,
)
from spar3d.tasks.params import TaskParams, knob
from spar3d.tasks.registry import register_task
from spar3d.tasks.views import (
    CoVisibleViews,
    Draw,
    FrameSequence,
    SingleImage,
    ViewStrategy,
    ViewTask,
    bbox_markers,
    unique_label_ids,
)


def moved_observer(
    A_world: np.ndarray, B_world: np.ndarray, max_pitch_deg: float, min_move_m: float
) -> tuple[np.ndarray, float]:
    """``(4, 4)`` ``T_world_obs`` of an observer at A facing B, and its pitch in degrees.

    Raises:
        Reject: ``"observer_target_too_close"`` when B is within ``min_move_m`` of A,
            ``"pitch_too_steep"`` when the view tilts more than ``max_pitch_deg``.
    """
    f = np.asarray(B_world, float) - np.asarray(A_world, float)
    n = float(np.linalg.norm(f))
    if n < min_move_m:
        raise Reject("observer_target_too_close")
    f /= n
    pitch = float(np.degrees(np.arcsin(np.clip(f[2], -1.0, 1.0))))
    if abs(pitch) > max_pitch_deg:
        raise Reject("pitch_too_steep")
    right = np.cross(f, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(f, right)
    T = np.eye(4)
    T[:3, 0], T[:3, 1], T[:3, 2], T[:3, 3] = right, down, f, A_world
    return T, pitch


def to_frame(T_world_obs: np.ndarray, p_world: np.ndarray) -> np.ndarray:
    """A world point in the observer frame: ``R^T (p - t)``."""
    return np.asarray((p_world - T_world_obs[:3, 3]) @ T_world_obs[:3, :3], dtype=np.float64)


@dataclass(frozen=True)
class ImaginationParams(TaskParams):
    """``max_pitch_deg``: steepest view of the moved observer (0-90); ``min_move_m``: least
    distance between the observer's position and the faced object; ``threshold_m``: coordinate
    differences under it leave a relation word empty."""

    max_pitch_deg: float = knob(30.0, minimum=0, maximum=90)
    min_move_m: float = knob(0.3, minimum=0)
    threshold_m: float = knob(RELATION_THRESHOLD_M, minimum=0)


class _Imagination(ViewTask):
    """The observer and the relation geometry every variant shares."""

    views: ClassVar[ViewStrategy] = SingleImage()
    Params: ClassVar[type[TaskParams]] = ImaginationParams

    def _observer(self, scene: SceneView, at: int, facing: int) -> tuple[np.ndarray, float]:
        """``T_world_observer`` after moving to ``at`` and facing ``facing``, and its pitch."""
        return moved_observer(
            scene.objects[at].center,
            scene.objects[facing].center,
            self.params.max_pitch_deg,
            self.params.min_move_m,
        )

    def observer_relation(self, p_cam: np.ndarray) -> Relation:
        return relation_to_observer(p_cam, threshold_m=self.params.threshold_m)

    def pair_relation(self, p_cam: np.ndarray, q_cam: np.ndarray) -> Relation:
        return relation_in_frame(
            p_cam, q_cam, threshold_m=self.params.threshold_m, depth_by="distance"
        )

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return self.draw(scene, rng, len(self.spec.markers))  # one box per object


@register_task
class SpatialImaginationOC(_Imagination):
    """Where is red relative to the observer after moving to green and facing blue."""

    spec = TaskSpec(
        name="spatial_imagination_oc",
        version=3,
        views="S",
        relation="OC",
        formats=("sentence", "select"),
        markers=("red_bbox", "blue_bbox", "green_bbox"),
        placeholders=tuple(
            ["label_A", "label_B", "label_C", "relation_before", "relation_after", "options_note"]
        ),
        description=(
            "observer moves to green's centre facing blue (pitch <= max_pitch_deg): red's "
            "left/right, above/below, front/behind relative to the observer"
        ),
    )

    def compute(self, scene: SceneView, key: Any) -> Facts:
        d = Draw.of(key)
        image, (a, b, c) = d.primary, d.ids  # a red target, b blue (faced), c green (moved to)
        T, pitch = self._observer(scene, c, b)
        th = self.params.threshold_m
        p_after = to_frame(T, scene.objects[a].center)
        after = relation_to_observer(p_after, threshold_m=th)
        if after.is_empty:
            raise Reject("relation_indistinguishable")
        before = relation_to_observer(scene.center_cam(image, a), threshold_m=th)
        la, lb, lc = labels(scene, (a, b, c))
        markers = bbox_markers(scene, d.views, self.marks(d))
        return Facts(
            images=[image],
            object_ids=[a, b, c],
            values={
                "label_A": la,
                "label_B": lb,
                "label_C": lc,
                "relation_before": describe(before.words(), PHRASE_OBSERVER)
                or "right at the position of",
                "relation_after": describe(after.words(), PHRASE_OBSERVER),
                "options_note": RELATION_OPTIONS_NOTE,
            },  # fmt: skip
            # the observer faces the blue object and most targets lie ahead: every option keeps
            # the answer's front/behind word, or "pick an option saying front" beats chance
            answer=relation_answer(after, keep_front_behind=True),
            markers=markers,
            quantities={
                "relation_before": before.words(),
                "relation_after": after.words(),
                "target_observer": vec(p_after),
                "T_world_observer": [vec(row) for row in T],
                "pitch_deg": pitch,
                **self.views.quantities(scene, d),
            },
        )


@register_task
class SpatialImaginationOO(_Imagination):
    """After moving to green and facing blue, where is red relative to yellow."""

    spec = TaskSpec(
        name="spatial_imagination_oo",
        version=2,
        views="S",
        relation="OO",
        formats=("sentence", "select"),
        markers=("red_bbox", "blue_bbox", "green_bbox", "yellow_bbox"),
        placeholders=tuple(
            [
                "label_A",
                "label_B",
                "label_C",
                "label_D",
                "relation_before",
                "relation_after",
                "options_note",
            ]
        ),
        description=(
            "observer moves to green's centre facing blue: red's relation to yellow in the new "
            "observer frame (front/behind by distance to the observer)"
        ),
    )

    def compute(self, scene: SceneView, key: Any) -> Facts:
        draw = Draw.of(key)
        image, (a, b, c, d) = draw.primary, draw.ids  # a red, b blue (faced), c green, d yellow
        T, pitch = self._observer(scene, c, b)
        th = self.params.threshold_m
        pa, pd = to_frame(T, scene.objects[a].center), to_frame(T, scene.objects[d].center)
        after = relation_in_frame(pa, pd, threshold_m=th, depth_by="distance")
        if after.is_empty:
            raise Reject("relation_indistinguishable")
        before = relation_in_frame(
            scene.center_cam(image, a),
            scene.center_cam(image, d),
            threshold_m=th,
            depth_by="distance",
        )
        la, lb, lc, ld = labels(scene, (a, b, c, d))
        markers = bbox_markers(scene, draw.views, self.marks(draw))
        return Facts(
            images=[image],
            object_ids=[a, b, c, d],
            values={
                "label_A": la,
                "label_B": lb,
                "label_C": lc,
                "label_D": ld,
                "relation_before": describe(before.words(), PHRASE_OF) or "level with",
                "relation_after": describe(after.words(), PHRASE_OF),
                "options_note": RELATION_OPTIONS_NOTE,
            },  # fmt: skip
            answer=ChoiceAnswer(after.text(), tuple(relation_distractors(after.words()))),
            markers=markers,
            quantities={
                "relation_before": before.words(),
                "relation_after": after.words(),
                "red_observer": vec(pa),
                "yellow_observer": vec(pd),
                "T_world_observer": [vec(row) for row in T],
                "pitch_deg": pitch,
                **self.views.quantities(scene, draw),
            },
        )


# -- multi-view ---------------------------------------------------------------------------------
MV_COLORS = ("red", "green", "blue", "yellow")  # the colour of each drawn object


class _ImaginationMV(_Imagination):
    """Multi-view: ids drawn red, green, blue(, yellow); boxes written green, blue, red(, yellow)
    (the order SPAR's loader reads ``bbox_img_idx`` of these tasks in)."""

    views = CoVisibleViews()

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
        d = Draw.of(key)
        # label_A red target, label_B blue (faced), label_C green (stood at), label_D yellow
        names = dict(zip(("A", "C", "B", "D"), labels(scene, d.ids), strict=False))
        return Facts(
            images=list(d.views),
            object_ids=list(d.ids),
            values={
                **{f"label_{k}": v for k, v in names.items()},
                "before": describe(before.words(), phrases),
                "after": describe(after.words(), phrases),
                "options_note": RELATION_OPTIONS_NOTE,
            },
            answer=relation_answer(after, keep_front_behind),
            markers=bbox_markers(scene, d.views, self.marks(d, MV_COLORS)),
            quantities={
                "before": before.words(),
                "after": after.words(),
                "pitch_deg": pitch,
                **self.views.quantities(scene, d),
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

    def compute(self, scene: SceneView, key: Any) -> Facts:
        d = Draw.of(key)
        views, (a, c, b) = d.views, d.ids  # a red target, c green position, b blue facing
        T_world_obs, pitch = self._observer(scene, c, b)
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

    def compute(self, scene: SceneView, key: Any) -> Facts:
        draw = Draw.of(key)
        views, (a, c, b, d) = draw.views, draw.ids  # red, green, blue, yellow
        T_world_obs, pitch = self._observer(scene, c, b)
        p = views[0]
        before = self.pair_relation(scene.center_cam(p, a), scene.center_cam(p, d))
        a_new, d_new = world_to_cam(
            T_world_obs, np.stack([scene.objects[a].center, scene.objects[d].center])
        )
        after = self.pair_relation(a_new, d_new)
        return self.build(scene, key, before, after, pitch, PHRASE_OF)


# -- video -------------------------------------------------------------------------------------
# marker colour of each role, in SPAR's drawing order (object0, object1, ...)
ROLE_COLORS = ("green", "blue", "red", "yellow")


class _VideoImagination(_Imagination):
    """Roles in a key: moved-to (green), faced (blue), target (red)[, reference (yellow)]."""

    views = FrameSequence()
    n_objects: ClassVar[int] = 3
    hard: ClassVar[bool] = False

    def propose(self, scene: SceneView, rng: Any) -> Any:
        among = unique_label_ids(scene) if self.hard else None
        return self.draw(scene, rng, self.n_objects, among=among, marked=not self.hard)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        draw = Draw.of(key)
        ids = list(draw.ids)
        T, pitch = self._observer(scene, ids[0], ids[1])
        th = self.params.threshold_m
        p = [to_frame(T, scene.objects[o].center) for o in ids[2:]]
        if self.n_objects == 3:
            rel = relation_to_observer(p[0], threshold_m=th)
            phrase = describe(rel.words(), PHRASE_OBSERVER)
        else:
            rel = relation_in_frame(p[0], p[1], threshold_m=th, depth_by="distance")
            phrase = describe(rel.words(), PHRASE_OF)
        if rel.is_empty:
            raise Reject("relation_indistinguishable")
        markers = bbox_markers(scene, draw.views, self.marks(draw, ROLE_COLORS))
        names = labels(scene, ids)
        # label_C moved-to, label_B faced, label_A target, label_D reference (single-view names)
        values = {"label_C": names[0], "label_B": names[1], "label_A": names[2]}
        if self.n_objects == 4:
            values["label_D"] = names[3]
        values["relation_after"] = phrase
        return self.views.finish(
            Facts(
                images=list(draw.views),
                object_ids=ids,
                values=values,
                answer=ChoiceAnswer(rel.text()),
                markers=markers,
                quantities={
                    "relation_after": rel.words(),
                    "targets_observer": [vec(x) for x in p],
                    "T_world_observer": [vec(row) for row in T],
                    "pitch_deg": pitch,
                    "frames": list(draw.positions),
                },
            )
        )


def _spec(name: str, rel: str, n: int, hard: bool) -> TaskSpec:
    colors = ROLE_COLORS[:n]
    what = "red's relation to the observer" if n == 3 else "red's relation to yellow"
    how = "named only (labels unique in the scene)" if hard else "boxed in frames of the video"
    return TaskSpec(
        name=name,
        views="V",
        relation=rel,
        formats=("sentence",),
        markers=() if hard else tuple(f"{c}_bbox" for c in colors),
        placeholders=("label_A", "label_B", "label_C", "relation_after")
        + (("label_D",) if n == 4 else ()),
        description=(
            f"observer moves to green's (object0) centre facing blue (object1), pitch <= "
            f"max_pitch_deg: {what} after the move; objects {how}"
        ),
        version=1 if hard else 2,  # 2: same-label boxed objects keep their colour in answers
    )


@register_task
class SpatialImaginationOCVideo(_VideoImagination):
    spec = _spec("spatial_imagination_oc_video", "OC", 3, False)


@register_task
class SpatialImaginationOOVideo(_VideoImagination):
    spec = _spec("spatial_imagination_oo_video", "OO", 4, False)
    n_objects = 4


@register_task
class SpatialImaginationOCVideoHard(_VideoImagination):
    spec = _spec("spatial_imagination_oc_video_hard", "OC", 3, True)
    hard = True


@register_task
class SpatialImaginationOOVideoHard(_VideoImagination):
    spec = _spec("spatial_imagination_oo_video_hard", "OO", 4, True)
    n_objects = 4
    hard = True
