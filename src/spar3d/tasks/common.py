"""Helpers shared by task families: placing markers, naming objects, formatting numbers, relation
words. How views and objects are drawn: :mod:`spar3d.tasks.views`."""

from __future__ import annotations

from typing import Any

import numpy as np

from spar3d.geometry.boxes import boxes2d_overlap
from spar3d.geometry.relations import Relation
from spar3d.tasks.base import ChoiceAnswer, Reject, SceneView
from spar3d.tasks.markers import MarkerError, bbox_norm1000, point_norm1000


def metres(x: float) -> str:
    """Metres as SPAR writes them: one decimal."""
    return f"{round(float(x), 1):.1f}"


def vec(x: np.ndarray, nd: int = 4) -> list[float]:
    """A vector as a JSON-friendly rounded list (provenance in ``meta.quantities``)."""
    return [round(float(v), nd) for v in np.asarray(x).reshape(-1)]


def point_marker(scene: SceneView, image: int, object_id: int) -> list[int]:
    """The object's point marker in 0-1000: its projected 3D centre where the image shows the
    object there, else the object's visible pixel nearest to it (the surface under the point is
    always the object's); ``Reject("marker_not_visible")`` when the object has no usable pixel."""
    try:
        return point_norm1000(scene.visible(image, object_id), scene.image(image))
    except MarkerError:
        raise Reject("marker_not_visible") from None


def bbox_marker(scene: SceneView, image: int, object_id: int) -> list[int]:
    """The object's visible 2D box in 0-1000."""
    return bbox_norm1000(scene.visible(image, object_id), scene.image(image))


def reject_if_boxes_overlap(scene: SceneView, image: int, ids: tuple[int, ...] | list[int]) -> None:
    """``Reject("2d_boxes_overlap")`` when any two of the objects' 2D boxes share area."""
    boxes = [scene.visible(image, o).bbox_xyxy for o in ids]
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            if boxes2d_overlap(boxes[a], boxes[b]):
                raise Reject("2d_boxes_overlap")


def labels(scene: SceneView, ids: tuple[int, ...] | list[int]) -> list[str]:
    return [scene.objects[o].label for o in ids]


def object_quantities(
    scene: SceneView, image: int, ids: tuple[int, ...] | list[int]
) -> dict[str, Any]:
    """Per-object provenance: label, world centre and camera-frame centre in ``image``."""
    return {
        str(o): {
            "label": scene.objects[o].label,
            "center_world": vec(scene.objects[o].center),
            "center_cam": vec(scene.center_cam(image, o)),
        }
        for o in ids
    }


# -- relation words -----------------------------------------------------------------------------
OPPOSITE = {"left": "right", "right": "left", "above": "below", "below": "above",
            "front": "behind", "behind": "front"}  # fmt: skip
# phrases relative to another object ("to the left of the chair") and to the observer ("to the left")
PHRASE_OF = {"left": "to the left of", "right": "to the right of", "above": "above",
             "below": "below", "front": "in front of", "behind": "behind"}  # fmt: skip
PHRASE_OBSERVER = {"left": "to the left", "right": "to the right", "above": "above",
                   "below": "below", "front": "in front", "behind": "behind"}  # fmt: skip
RELATION_OPTIONS_NOTE = (
    "The options describe the spatial relationship in terms of left-right (left, right, or empty "
    "if indistinguishable), above-below (above, below, or empty if indistinguishable), and "
    "front-behind (front, behind, or empty if indistinguishable)."
)


def describe(words: list[str], phrases: dict[str, str]) -> str:
    """``["left", "", "behind"]`` -> ``"to the left of and behind"`` (empty slots dropped)."""
    parts = [phrases[w] for w in words if w]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def relation_distractors(words: list[str]) -> list[str]:
    """Every other option text with the answer's empty slots: one or more words flipped.

    Keeping the empty pattern means the option's shape says nothing about which one is right.
    """
    slots = [i for i, w in enumerate(words) if w]
    out = []
    for mask in range(1, 1 << len(slots)):
        flipped = list(words)
        for bit, i in enumerate(slots):
            if mask >> bit & 1:
                flipped[i] = OPPOSITE[flipped[i]]
        out.append(", ".join(flipped))
    return out


def relation_answer(rel: Relation, keep_front_behind: bool = False) -> ChoiceAnswer:
    """The relation triple as the answer, with every flip of its non-empty words as distractors.

    Args:
        keep_front_behind: Keep the answer's front/behind word in every distractor (when another
            word is non-empty). Objects seen from the observer are mostly in front of it, so
            otherwise "pick an option saying front" would beat chance by far.
    """
    if rel.is_empty:
        raise Reject("relation_indistinguishable")
    words = rel.words()
    wrong = relation_distractors(words)
    if keep_front_behind and any(words[:2]):
        wrong = [w for w in wrong if w.split(", ")[2] == words[2]]
    return ChoiceAnswer(rel.text(), tuple(wrong))
