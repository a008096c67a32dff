"""Referring expressions that identify exactly one object of a scene, checked in 3D.

Uniqueness is decided over ALL objects of the scene index (not only those in the shown views):

* ``label``: "the sofa" when no other object has the label;
* ``size``: "the larger of the two tables" / "the smaller ..." (exactly two with the label) or
  "the largest chair" / "the smallest chair" (three or more), when the box volume differs from
  every other same-label object's by the factor ``size_ratio`` (1.3);
* ``height``: "the taller of the two lamps" / "the tallest lamp" (and shorter / shortest), when
  the box heights differ by ``height_margin_m`` (0.15 m) from every other one;
* ``relation``: "the chair closest to the tv" / "the chair farthest from the tv", the anchor
  having a label no other object has, when the target's centre distance to the anchor's centre
  beats every other same-label object's by ``distance_margin_m`` (0.3 m).

Structural labels (wall, floor, ceiling) are never targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spar3d.index.records import ObjectRecord

STRUCTURAL = frozenset({"wall", "floor", "ceiling"})
KINDS: tuple[str, ...] = ("label", "size", "height", "relation")


@dataclass(frozen=True)
class Expression:
    """One unambiguous description of a target.

    Attributes:
        text: The phrase ("the larger of the two tables").
        kind: One of :data:`KINDS`.
        anchor_id: The anchor object of a ``relation`` expression.
    """

    text: str
    kind: str
    anchor_id: int | None = None


_IRREGULAR = {"shelf": "shelves", "bookshelf": "bookshelves", "person": "people", "mouse": "mice"}


def plural(label: str) -> str:
    """English plural of a label's last word ("tv stand" -> "tv stands", "shelf" -> "shelves")."""
    head, _, last = label.rpartition(" ")
    if last in _IRREGULAR:
        return (head + " " if head else "") + _IRREGULAR[last]
    if label.endswith(("s", "x", "z", "ch", "sh")):
        return label + "es"
    if label.endswith("y") and len(label) > 1 and label[-2] not in "aeiou":
        return label[:-1] + "ies"
    return label + "s"


def _beats(value: float, others: list[float], margin: float, larger: bool) -> bool:
    if not others:
        return False
    return value >= max(others) + margin if larger else value <= min(others) - margin


def _ratio_beats(value: float, others: list[float], ratio: float, larger: bool) -> bool:
    if not others or value <= 0:
        return False
    return value >= ratio * max(others) if larger else value * ratio <= min(others)


def referring_expressions(
    objects: list[ObjectRecord],
    target_id: int,
    *,
    size_ratio: float = 1.3,
    height_margin_m: float = 0.15,
    distance_margin_m: float = 0.3,
    catch_all: frozenset[str] = frozenset(),
) -> list[Expression]:
    """Every expression of :data:`KINDS` that picks out ``target_id`` alone among ``objects``.

    Objects whose label is structural or in ``catch_all`` (``otherprop``, ...: the index's
    catch-all labels) are never targets or anchors; they still count for uniqueness.
    """
    by_id = {o.object_id: o for o in objects}
    target = by_id[target_id]
    label = target.label
    never = STRUCTURAL | catch_all
    if label in never or label.lower() in never:
        return []
    counts: dict[str, int] = {}
    for o in objects:
        counts[o.label] = counts.get(o.label, 0) + 1
    if counts[label] == 1:
        return [Expression(f"the {label}", "label")]
    same = [o for o in objects if o.label == label and o.object_id != target_id]
    out: list[Expression] = []
    two = len(same) == 1
    vol = float(np.prod(target.box.size))
    vols = [float(np.prod(o.box.size)) for o in same]
    for larger, pair_word, many_word in (
        (True, "larger", "largest"),
        (False, "smaller", "smallest"),
    ):
        if _ratio_beats(vol, vols, size_ratio, larger):
            text = (
                f"the {pair_word} of the two {plural(label)}" if two else f"the {many_word} {label}"
            )
            out.append(Expression(text, "size"))
    h = float(target.box.size[2])
    hs = [float(o.box.size[2]) for o in same]
    for taller, pair_word, many_word in (
        (True, "taller", "tallest"),
        (False, "shorter", "shortest"),
    ):
        if _beats(h, hs, height_margin_m, taller):
            text = (
                f"the {pair_word} of the two {plural(label)}" if two else f"the {many_word} {label}"
            )
            out.append(Expression(text, "height"))
    for anchor in objects:
        if counts[anchor.label] != 1 or anchor.label == label or anchor.label.lower() in never:
            continue
        d = float(np.linalg.norm(target.center - anchor.center))
        ds = [float(np.linalg.norm(o.center - anchor.center)) for o in same]
        if _beats(d, ds, distance_margin_m, larger=False):
            out.append(
                Expression(
                    f"the {label} closest to the {anchor.label}", "relation", anchor.object_id
                )
            )
        if _beats(d, ds, distance_margin_m, larger=True):
            out.append(
                Expression(
                    f"the {label} farthest from the {anchor.label}", "relation", anchor.object_id
                )
            )
    return out


def unique_multiple(objects: list[ObjectRecord], target_id: int) -> str:
    """ScanRefer's split: ``"unique"`` when no other object shares the target's label."""
    label = next(o.label for o in objects if o.object_id == target_id)
    return "unique" if sum(o.label == label for o in objects) == 1 else "multiple"
