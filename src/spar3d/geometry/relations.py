"""Relation words between points expressed in one camera (or observer) frame.

OpenCV frame: left/right from x, above/below from -y, front/behind from depth (z) or distance.
A difference under ``threshold_m`` (0.1 m, see docs/tasks.md) is indistinguishable: the word is "".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

RELATION_THRESHOLD_M = 0.1


@dataclass(frozen=True)
class Relation:
    """Relation of a target relative to a reference, one word per axis ("" = indistinguishable)."""

    left_right: str
    above_below: str
    front_behind: str

    def words(self) -> list[str]:
        return [self.left_right, self.above_below, self.front_behind]

    def text(self, sep: str = ", ") -> str:
        """SPAR's option text: the three slots joined, empty slots kept ("left, , behind")."""
        return sep.join(self.words())

    @property
    def is_empty(self) -> bool:
        return not any(self.words())


def _word(delta: float, pos: str, neg: str, threshold_m: float) -> str:
    if abs(delta) < threshold_m:
        return ""
    return pos if delta > 0 else neg


def relation_in_frame(
    target_cam: ArrayLike,
    reference_cam: ArrayLike,
    *,
    threshold_m: float = RELATION_THRESHOLD_M,
    depth_by: str = "z",
) -> Relation:
    """Where ``target`` is relative to ``reference``, both ``(3,)`` in the same camera frame.

    Args:
        depth_by: ``"z"`` compares depths; ``"distance"`` compares distances to the camera centre.
    """
    t = np.asarray(target_cam, dtype=np.float64)
    r = np.asarray(reference_cam, dtype=np.float64)
    dx = float(t[0] - r[0])
    dup = float(-(t[1] - r[1]))
    if depth_by == "z":
        dfar = float(t[2] - r[2])
    elif depth_by == "distance":
        dfar = float(np.linalg.norm(t) - np.linalg.norm(r))
    else:
        raise ValueError(f"depth_by must be 'z' or 'distance', got {depth_by!r}")
    return Relation(
        _word(dx, "right", "left", threshold_m),
        _word(dup, "above", "below", threshold_m),
        _word(dfar, "behind", "front", threshold_m),
    )


def relation_to_observer(
    target_cam: ArrayLike, *, threshold_m: float = RELATION_THRESHOLD_M
) -> Relation:
    """Relation of a point to the observer (camera) itself: left/right, above/below, front/behind.

    The observer's own position is the reference, so "front" means positive depth.
    """
    t = np.asarray(target_cam, dtype=np.float64)
    return Relation(
        _word(float(t[0]), "right", "left", threshold_m),
        _word(float(-t[1]), "above", "below", threshold_m),
        _word(float(t[2]), "front", "behind", threshold_m),
    )
