"""Where and when objects appear in the video (SPAR appx 7.5 "Obj frame location", appearance
order).

An object "appears" in a frame when the frame's image record lists it as visible (the index's
visibility rule, appx 7.4). Frames are numbered from 1 in question and answer texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spar3d.tasks.base import ChoiceAnswer, Facts, Reject, SceneView
from spar3d.tasks.common import bbox_marker
from spar3d.tasks.markers import Markers
from spar3d.tasks.params import VideoParams, knob
from spar3d.tasks.registry import register_task
from spar3d.tasks.video.frames import and_list, frame_text, video_spec
from spar3d.tasks.views import Draw, VideoTask, unique_label_ids


@register_task
class ObjFrameLocate(VideoTask):
    """The object boxed in a reference frame: in which other frames does it appear."""

    spec = video_spec(
        "obj_frame_locate",
        "-",
        ("sentence",),
        ("red_bbox",),
        placeholders=("label_A", "frame_ref", "frames_other"),
        description=(
            "the object boxed in red in a reference frame: the other frames of the video in "
            "which it is visible (1-based frame numbers)"
        ),
        version=2,
    )

    def propose(self, scene: SceneView, rng: Any) -> tuple[int, int] | None:
        video = self.video(scene)
        pool = [o for o, frames in video.appearances.items() if len(frames) >= 2]
        if not pool:
            return None
        o = sorted(pool)[int(rng.integers(len(pool)))]
        frames = video.appearances[o]
        return (o, frames[int(rng.integers(len(frames)))])

    def compute(self, scene: SceneView, key: tuple[int, int]) -> Facts:
        o, ref = key
        video = self.video(scene)
        others = [f for f in video.appearances[o] if f != ref]
        markers = Markers().bbox("red", bbox_marker(scene, video.images[ref], o), ref, obj=o)
        return self.facts(
            video,
            [o],
            {
                "label_A": scene.objects[o].label,
                "frame_ref": frame_text([ref]),
                "frames_other": frame_text(others),
            },
            ChoiceAnswer(", ".join(str(f + 1) for f in others)),
            {"reference_frame": ref, "other_frames": others},
            markers,
        )


@dataclass(frozen=True)
class AppearanceParams(VideoParams):
    """``n_objects``: objects whose order of appearance is asked (>= 2)."""

    n_objects: int = knob(3, minimum=2)


@register_task
class AppearanceOrder(VideoTask):
    """Order in which named objects first appear in the video."""

    spec = video_spec(
        "appearance_order",
        "-",
        ("fill", "sentence"),
        (),
        placeholders=("objects", "order", "order_sentence"),
        description=(
            "n_objects objects named in the question (labels unique in the scene): the order of "
            "their first appearance in the video; ties in the first frame are skipped"
        ),
    )
    Params = AppearanceParams

    def propose(self, scene: SceneView, rng: Any) -> Any:
        # named only: labels unique in the scene; no marker, so no frame drawn
        return self.draw(
            scene, rng, self.params.n_objects, among=unique_label_ids(scene), marked=False
        )

    def compute(self, scene: SceneView, key: Any) -> Facts:
        ids = Draw.of(key).ids
        video = self.video(scene)
        first = {o: video.appearances[o][0] for o in ids}
        if len(set(first.values())) < len(ids):
            raise Reject("same_first_frame")
        order = sorted(ids, key=first.__getitem__)
        names = [scene.objects[o].label for o in order]
        steps = [f"the {n} ({frame_text([first[o]])})" for n, o in zip(names, order, strict=True)]
        return self.facts(
            video,
            list(ids),
            {
                "objects": and_list([scene.objects[o].label for o in ids]),
                "order": ", ".join(names),
                "order_sentence": steps[0] + " appears first, then " + and_list(steps[1:]),
            },
            ChoiceAnswer(", ".join(names)),
            {"first_frame": {str(o): first[o] for o in ids}, "order": [int(o) for o in order]},
        )
