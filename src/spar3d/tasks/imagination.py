"""Single-view spatial imagination (SPAR appx 7.5 "Spatial imagination").

The observer moves to the green object's centre A and faces the blue object's centre B:
forward ``f = normalise(B - A)``, right ``r = normalise(f x z_world)``, down ``d = f x r`` (an
OpenCV camera with world +z up). Views whose pitch ``|asin(f_z)|`` exceeds ``max_pitch_deg`` are
discarded. Relations of the target(s) are computed before (original camera) and after the move.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spar3d.geometry.relations import RELATION_THRESHOLD_M, relation_in_frame, relation_to_observer
from spar3d.tasks.base import ChoiceAnswer, Facts, Reject, SceneView, Task, TaskSpec
from spar3d.tasks.common import (
    PHRASE_OBSERVER,
    PHRASE_OF,
    RELATION_OPTIONS_NOTE,
    bbox_markers,
    describe,
    draw_image_objects,
    labels,
    object_quantities,
    relation_answer,
    relation_distractors,
    vec,
)
from spar3d.tasks.registry import register_task


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


class _Imagination(Task):
    defaults = {
        "max_pitch_deg": 30.0,
        "min_move_m": 0.3,
        "threshold_m": RELATION_THRESHOLD_M,
    }

    def _observer(self, scene: SceneView, green: int, blue: int) -> tuple[np.ndarray, float]:
        return moved_observer(
            scene.objects[green].center,
            scene.objects[blue].center,
            self.params["max_pitch_deg"],
            self.params["min_move_m"],
        )


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

    def propose(self, scene: SceneView, rng: Any) -> tuple[int, ...] | None:
        return draw_image_objects(scene, rng, 3)

    def compute(self, scene: SceneView, key: tuple[int, ...]) -> Facts:
        image, a, b, c = key  # a red target, b blue (faced), c green (moved to)
        T, pitch = self._observer(scene, c, b)
        th = self.params["threshold_m"]
        p_after = to_frame(T, scene.objects[a].center)
        after = relation_to_observer(p_after, threshold_m=th)
        if after.is_empty:
            raise Reject("relation_indistinguishable")
        before = relation_to_observer(scene.center_cam(image, a), threshold_m=th)
        la, lb, lc = labels(scene, (a, b, c))
        markers = bbox_markers(scene, image, (a, b, c))
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
                "objects": object_quantities(scene, image, (a, b, c)),
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

    def propose(self, scene: SceneView, rng: Any) -> tuple[int, ...] | None:
        return draw_image_objects(scene, rng, 4)

    def compute(self, scene: SceneView, key: tuple[int, ...]) -> Facts:
        image, a, b, c, d = key  # a red, b blue (faced), c green (moved to), d yellow
        T, pitch = self._observer(scene, c, b)
        th = self.params["threshold_m"]
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
        markers = bbox_markers(scene, image, (a, b, c, d))
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
                "objects": object_quantities(scene, image, (a, b, c, d)),
            },
        )
