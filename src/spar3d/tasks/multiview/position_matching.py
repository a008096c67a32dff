"""Position matching (SPAR appx 7.5): the box of an object in a second view, given its box in the first.

An object seen in at least two images is boxed in red in image 0; the answer is its visible 2D
box in image 1 as ``[x1, y1, x2, y2]`` in 0-1000. The three wrong options are: the object's own
box in image 0 (what a model that ignores the camera motion would answer) and boxes placed on the
other objects of image 1 that lie nearest to the red box's place, so "the option near the red
box" is no shortcut; only when fewer than three exist are boxes of the object shifted by its own
size added. The boxes placed on other objects take the ANSWER's width and height (centred on the
object's box, moved inside the image): with the other objects' own boxes, "the option shaped most
like the red box" picked the answer about half the time. Candidates overlapping the answer by
IoU >= ``max_distractor_iou`` are dropped, so no option is a near copy of the right one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spar3d.geometry.boxes import box2d_iou
from spar3d.tasks.base import ChoiceAnswer, Facts, Reject, SceneView, Task, TaskSpec
from spar3d.tasks.common import bbox_marker, labels
from spar3d.tasks.markers import Markers
from spar3d.tasks.params import TaskParams, knob
from spar3d.tasks.registry import register_task
from spar3d.tasks.views import mv_quantities, object_views


def box_text(box: list[int]) -> str:
    return "[" + ", ".join(str(int(v)) for v in box) + "]"


def _centre_gap(a: list[int], b: list[int]) -> float:
    return float(abs(a[0] + a[2] - b[0] - b[2]) + abs(a[1] + a[3] - b[1] - b[3]))


def box_like_at(like: list[int], at: list[int]) -> list[int]:
    """A box of ``like``'s width and height centred on ``at``'s centre, moved inside 0-1000."""
    w, h = like[2] - like[0], like[3] - like[1]
    x1 = min(max(0, round((at[0] + at[2] - w) / 2)), 1000 - w)
    y1 = min(max(0, round((at[1] + at[3] - h) / 2)), 1000 - h)
    return [x1, y1, x1 + w, y1 + h]


def shifted_boxes(box: list[int]) -> list[list[int]]:
    """The box moved by its own width / height in each direction, kept when fully inside 0-1000."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    out = []
    for dx, dy in ((w, 0), (-w, 0), (0, h), (0, -h)):
        b = [x1 + dx, y1 + dy, x2 + dx, y2 + dy]
        if min(b) >= 0 and max(b) <= 1000:
            out.append(b)
    return out


@dataclass(frozen=True)
class PositionMatchingParams(TaskParams):
    """``max_distractor_iou``: most overlap of a wrong box with the right one (0-1)."""

    max_distractor_iou: float = knob(0.5, minimum=0, maximum=1)


@register_task
class PositionMatching(Task):
    """Where the object boxed in red in the first image is in the second image."""

    spec = TaskSpec(
        name="position_matching",
        version=2,
        views="MV",
        relation="OO",
        formats=("fill", "select", "sentence"),
        markers=("red_bbox",),
        placeholders=("label_A", "box_A", "box_B", "box_B_plain"),
        description=(
            "the 2D box [x1, y1, x2, y2] (0-1000) in the second image of the object boxed in red "
            "in the first; distractors are the answer's box placed on other objects and the "
            "object's first-image box"
        ),
    )
    Params = PositionMatchingParams
    center_note = False  # the question is about boxes / cameras, not object centres

    def propose(self, scene: SceneView, rng: Any) -> Any:
        seen_in = object_views(scene)
        multi = [o for o in sorted(seen_in) if len(seen_in[o]) >= 2]
        if not multi:
            return None
        obj = multi[int(rng.integers(len(multi)))]
        seen = seen_in[obj]
        i, j = (seen[int(k)] for k in rng.choice(len(seen), size=2, replace=False))
        return (i, j, obj)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        i, j, obj = key
        ref, box = bbox_marker(scene, i, obj), bbox_marker(scene, j, obj)
        max_iou = self.params.max_distractor_iou
        others = [
            box_like_at(box, bbox_marker(scene, j, o)) for o in scene.visible_ids(j) if o != obj
        ]
        # the other objects nearest to where the red box is: "the box near the red one" must
        # not single out the answer
        others = sorted(
            (b for b in others if box2d_iou(b, box) < max_iou),
            key=lambda b: (_centre_gap(b, ref), b),
        )
        distractors = ([ref] if box2d_iou(ref, box) < max_iou else []) + others
        if len(distractors) < 3:
            distractors += [b for b in shifted_boxes(box) if box2d_iou(b, box) < max_iou]
        texts = list(dict.fromkeys(box_text(b) for b in distractors[:3] if b != box))
        if not texts:
            raise Reject("no_distractor")
        (la,) = labels(scene, (obj,))
        return Facts(
            images=[i, j],
            object_ids=[obj],
            values={
                "label_A": la,
                "box_A": box_text(ref),
                "box_B": box_text(box),
                "box_B_plain": ", ".join(str(v) for v in box),
            },
            answer=ChoiceAnswer(box_text(box), tuple(texts)),
            markers=Markers().bbox("red", ref, 0, obj=obj),
            quantities={
                "box_first": ref,
                "box_second": box,
                "iou_first_second": float(box2d_iou(ref, box)),
                **mv_quantities(scene, (i, j), (obj,), (0,)),
            },
        )
