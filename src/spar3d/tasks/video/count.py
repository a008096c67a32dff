"""Object counting over the video (SPAR appx 7.5 "Obj count").

The answer is the number of instances of a label in the scene; labels with fewer than
``min_instances`` (2) instances are excluded, as the paper states. So that the count can be read
from the video, a label is skipped when one of its instances is seen in no frame of the video
(``require_all_seen``). A label's fact may be asked up to ``max_repeats`` times (different
formats and paraphrases), as SPAR-7M does; the repeat number is part of the sample key.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from spar3d.tasks.base import Facts, NumericAnswer, Reject, SceneView
from spar3d.tasks.params import VideoParams, knob
from spar3d.tasks.registry import register_task
from spar3d.tasks.video.frames import video_spec
from spar3d.tasks.views import VideoTask


def instances_by_label(scene: SceneView) -> dict[str, list[int]]:
    """Label -> ids of its instances, ascending (catch-all labels left out: never named)."""
    out: dict[str, list[int]] = defaultdict(list)
    for oid in sorted(scene.objects):
        if scene.nameable(oid):
            out[scene.objects[oid].label].append(oid)
    return dict(out)


@dataclass(frozen=True)
class CountParams(VideoParams):
    """``min_instances``: least instances of a counted label; ``require_all_seen``: every
    instance must appear in the video; ``max_repeats``: question variants drawn per label."""

    min_instances: int = knob(2, minimum=1)
    require_all_seen: bool = True
    max_repeats: int = knob(2, minimum=1)


@register_task
class ObjCount(VideoTask):
    """How many instances of a label the scene holds."""

    spec = video_spec(
        "obj_count",
        "-",
        ("fill", "sentence"),
        (),
        placeholders=("label", "count"),
        description=(
            "number of instances of a label in the scene (labels with >= min_instances "
            "instances, every instance seen in the video)"
        ),
    )
    Params = CountParams
    label_is_subject = True  # "how many chairs": every chair is meant

    def propose(self, scene: SceneView, rng: Any) -> tuple[str, int] | None:
        if not self.video(scene).images:
            return None
        pool = sorted(
            lab
            for lab, ids in instances_by_label(scene).items()
            if len(ids) >= self.params.min_instances
        )
        if not pool:
            return None
        return (pool[int(rng.integers(len(pool)))], int(rng.integers(self.params.max_repeats)))

    def compute(self, scene: SceneView, key: tuple[str, int]) -> Facts:
        label, _ = key
        video = self.video(scene)
        ids = instances_by_label(scene)[label]
        unseen = [o for o in ids if o not in video.appearances]
        if unseen and self.params.require_all_seen:
            raise Reject("instance_not_in_video")
        return self.facts(
            video,
            ids,
            {"label": label, "count": str(len(ids))},
            NumericAnswer(float(len(ids)), decimals=0, minimum=1.0),
            {"count": len(ids), "instance_ids": ids, "unseen_in_video": unseen},
        )
