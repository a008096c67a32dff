"""Spatial imagination over a frame sequence (SPAR appx 7.5 "Spatial imagination", video).

The observer moves to the centre of one object (green, object0) and faces another (blue,
object1); the observer frame and the pitch limit are those of the single-view task
(:func:`spar3d.tasks.imagination.moved_observer`). The answer is where the target (red,
object2) is relative to the observer after the move (OC), or relative to a fourth object
(yellow, object3) in the observer's frame (OO, front/behind by distance to the observer).

The plain tasks mark each object with a box in one frame of the video where it is visible
(``bbox_img_idx`` in the order green, blue, red, yellow, as SPAR draws them, labelled object0..3);
the ``_hard`` tasks name the objects only, so every object's label must be unique in the scene.
"""

from __future__ import annotations

from typing import Any, ClassVar

from spar3d.geometry.relations import RELATION_THRESHOLD_M, relation_in_frame, relation_to_observer
from spar3d.tasks.base import ChoiceAnswer, Facts, Reject, SceneView, TaskSpec
from spar3d.tasks.common import PHRASE_OBSERVER, PHRASE_OF, bbox_marker, describe, labels, vec
from spar3d.tasks.imagination import moved_observer, to_frame
from spar3d.tasks.markers import Markers
from spar3d.tasks.registry import register_task
from spar3d.tasks.video.frames import video_spec
from spar3d.tasks.views import VIDEO_DEFAULTS, VideoTask, draw_frame, draw_seen, unique_label_ids

# marker colour of each role, in SPAR's drawing order (object0, object1, ...)
ROLE_COLORS = ("green", "blue", "red", "yellow")


class _VideoImagination(VideoTask):
    """Roles in a key: moved-to (green), faced (blue), target (red)[, reference (yellow)]."""

    defaults = {
        **VIDEO_DEFAULTS,
        "max_pitch_deg": 30.0,
        "min_move_m": 0.3,
        "threshold_m": RELATION_THRESHOLD_M,
    }
    center_note = True
    n_objects: ClassVar[int] = 3
    hard: ClassVar[bool] = False

    def propose(self, scene: SceneView, rng: Any) -> tuple[Any, ...] | None:
        video = self.video(scene)
        ids = draw_seen(video, rng, self.n_objects, unique_label_ids(scene) if self.hard else None)
        if ids is None:
            return None
        if self.hard:
            return tuple(ids)
        return tuple((o, draw_frame(video, rng, o)) for o in ids)

    def compute(self, scene: SceneView, key: tuple[Any, ...]) -> Facts:
        ids = list(key) if self.hard else [o for o, _ in key]
        T, pitch = moved_observer(
            scene.objects[ids[0]].center,
            scene.objects[ids[1]].center,
            self.params["max_pitch_deg"],
            self.params["min_move_m"],
        )
        th = self.params["threshold_m"]
        p = [to_frame(T, scene.objects[o].center) for o in ids[2:]]
        if self.n_objects == 3:
            rel = relation_to_observer(p[0], threshold_m=th)
            phrase = describe(rel.words(), PHRASE_OBSERVER)
        else:
            rel = relation_in_frame(p[0], p[1], threshold_m=th, depth_by="distance")
            phrase = describe(rel.words(), PHRASE_OF)
        if rel.is_empty:
            raise Reject("relation_indistinguishable")
        video = self.video(scene)
        markers = Markers()
        if not self.hard:
            for color, (o, f) in zip(ROLE_COLORS, key, strict=False):
                markers.bbox(color, bbox_marker(scene, video.images[f], o), f, obj=o)
        names = labels(scene, ids)
        # label_C moved-to, label_B faced, label_A target, label_D reference (single-view names)
        values = {"label_C": names[0], "label_B": names[1], "label_A": names[2]}
        if self.n_objects == 4:
            values["label_D"] = names[3]
        values["relation_after"] = phrase
        return self.facts(
            video,
            ids,
            values,
            ChoiceAnswer(rel.text()),
            {
                "relation_after": rel.words(),
                "targets_observer": [vec(x) for x in p],
                "T_world_observer": [vec(row) for row in T],
                "pitch_deg": pitch,
                "frames": [] if self.hard else [f for _, f in key],
            },
            markers,
        )


def _spec(name: str, rel: str, n: int, hard: bool) -> TaskSpec:
    colors = ROLE_COLORS[:n]
    what = "red's relation to the observer" if n == 3 else "red's relation to yellow"
    how = "named only (labels unique in the scene)" if hard else "boxed in frames of the video"
    return video_spec(
        name,
        rel,
        ("sentence",),
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
