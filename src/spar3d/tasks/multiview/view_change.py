"""View-change inference (SPAR appx 7.5 "View change infer"): the camera move from image 1 to image 2.

Two views that share a visible object; ``T = P1^-1 P2`` (:func:`spar3d.geometry.pose.relative_pose`)
gives the translation (right, up, forward, metres, one decimal) and yaw / pitch (degrees, integer)
in view 1's frame. The fill answer uses the underscored keys the published VCI scorer parses,
``move_right:0.5,move_up:0.0,move_forward:1.2,rotate_up:5,rotate_right:30`` (a negative value
takes the opposite key: ``move_left``, ``move_down``, ``move_backward``, ``rotate_down``,
``rotate_left``). Items are joined by "," without a space because that scorer does not strip keys.
The sentence also says how the shared object (the one whose smaller box of the two views is the
largest) moves in the image, from its box centres on a 3 x 3 grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spar3d.geometry.boxes import box2d_area
from spar3d.geometry.pose import RelativePose, relative_pose
from spar3d.tasks.base import ChoiceAnswer, Facts, Reject, SceneView, Task, TaskSpec
from spar3d.tasks.common import bbox_marker, labels
from spar3d.tasks.params import TaskParams, knob
from spar3d.tasks.registry import register_task
from spar3d.tasks.views import draw_pair, mv_quantities

# (positive key, negative key, words for the sentence) in SPAR's order
AXES = (
    ("move_right", "move_left"),
    ("move_up", "move_down"),
    ("move_forward", "move_backward"),
    ("rotate_up", "rotate_down"),
    ("rotate_right", "rotate_left"),
)


def axis_values(rp: RelativePose) -> list[float]:
    """Signed values in :data:`AXES` order: metres (3) then degrees (2)."""
    return [rp.right_m, rp.up_m, rp.forward_m, rp.pitch_up_deg, rp.yaw_right_deg]


def _rounded(values: list[float]) -> list[float]:
    return [round(v, 1) for v in values[:3]] + [float(round(v)) for v in values[3:]]


def vci_text(values: list[float]) -> str:
    """``move_right:0.5,move_up:0.0,...`` with the sign folded into the key."""
    items = []
    for (pos, neg), v in zip(AXES, _rounded(values), strict=True):
        key = neg if v < 0 else pos
        items.append(f"{key}:{abs(v):.1f}" if key.startswith("move") else f"{key}:{abs(v):.0f}")
    return ",".join(items)


def _region(cx: float, cy: float) -> str:
    """3 x 3 grid cell of a 0-1000 point ("top-left", "center", "bottom", ...)."""
    col = "left" if cx < 1000 / 3 else "right" if cx > 2000 / 3 else ""
    row = "top" if cy < 1000 / 3 else "bottom" if cy > 2000 / 3 else ""
    return "-".join(p for p in (row, col) if p) or "center"


def _motion(dx: float, dy: float, min_shift: float) -> str:
    words = []
    if abs(dx) >= min_shift:
        words.append("right" if dx > 0 else "left")
    if abs(dy) >= min_shift:
        words.append("down" if dy > 0 else "up")
    return "moves " + " and ".join(words) if words else "stays at about the same place"


def _move_sentence(values: list[float]) -> str:
    r, u, f, pitch, yaw = _rounded(values)
    parts = [
        f"move {abs(f):.1f} meters {'forward' if f >= 0 else 'backward'}",
        f"shift {abs(r):.1f} meters to the {'right' if r >= 0 else 'left'}",
        f"go {abs(u):.1f} meters {'up' if u >= 0 else 'down'}",
        f"rotate {'up' if pitch >= 0 else 'down'} by {abs(pitch):.0f} degrees",
        f"turn {'right' if yaw >= 0 else 'left'} by {abs(yaw):.0f} degrees",
    ]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


@dataclass(frozen=True)
class ViewChangeParams(TaskParams):
    """Least camera motion asked about: ``min_translation_m``, ``min_rotation_deg``, and
    ``min_image_shift`` (0-1000 image units) of the shared object."""

    min_translation_m: float = knob(0.1, minimum=0)
    min_rotation_deg: float = knob(5.0, minimum=0)
    min_image_shift: float = knob(100.0, minimum=0)


@register_task
class ViewChangeInfer(Task):
    """How the camera moves and turns from the first image to the second."""

    spec = TaskSpec(
        name="view_change_infer",
        version=2,
        views="MV",
        relation="OC",
        formats=("fill", "sentence"),
        markers=(),
        placeholders=("label_A", "region_1", "region_2", "object_motion", "camera_motion"),
        description=(
            "camera move from image 1 to image 2 (T = P1^-1 P2) in image 1's frame: move "
            "right/left, up/down, forward/backward (m), rotate up/down, right/left (deg)"
        ),
    )
    Params = ViewChangeParams
    center_note = False  # the question is about boxes / cameras, not object centres

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return draw_pair(scene, rng)

    def shared_object(self, scene: SceneView, i: int, j: int) -> int:
        """The co-visible object whose smaller box (of the two views) is the largest, among those
        whose label is unique in the two views (the answer names it without a marker)."""
        shared = sorted(set(scene.visible_ids(i)) & set(scene.visible_ids(j)))
        if not shared:
            raise Reject("no_shared_object")
        shared = [o for o in shared if o in scene.unique_label_ids((i, j))]
        if not shared:
            raise Reject("ambiguous_label")

        def size(o: int) -> float:
            return min(box2d_area(scene.visible(v, o).bbox_xyxy) for v in (i, j))

        return max(shared, key=size)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        i, j = key
        rp = relative_pose(scene.image(i).T_world_cam, scene.image(j).T_world_cam)
        values = axis_values(rp)
        small_move = max(abs(v) for v in values[:3]) < self.params.min_translation_m
        if small_move and max(abs(v) for v in values[3:]) < self.params.min_rotation_deg:
            raise Reject("views_too_similar")
        obj = self.shared_object(scene, i, j)
        b1, b2 = bbox_marker(scene, i, obj), bbox_marker(scene, j, obj)
        c1 = ((b1[0] + b1[2]) / 2, (b1[1] + b1[3]) / 2)
        c2 = ((b2[0] + b2[2]) / 2, (b2[1] + b2[3]) / 2)
        (la,) = labels(scene, (obj,))
        return Facts(
            images=[i, j],
            object_ids=[obj],
            values={
                "label_A": la,
                "region_1": _region(*c1),
                "region_2": _region(*c2),
                "object_motion": _motion(
                    c2[0] - c1[0], c2[1] - c1[1], self.params.min_image_shift
                ),
                "camera_motion": _move_sentence(values),
            },
            answer=ChoiceAnswer(vci_text(values)),
            quantities={
                "right_m": rp.right_m,
                "up_m": rp.up_m,
                "forward_m": rp.forward_m,
                "pitch_up_deg": rp.pitch_up_deg,
                "yaw_right_deg": rp.yaw_right_deg,
                "object_box_centers": [list(c1), list(c2)],
                **mv_quantities(scene, (i, j), (obj,), (0,)),
            },
        )
