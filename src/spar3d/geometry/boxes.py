"""3D and 2D box geometry: the oriented box, its corners, overlap tests and intersection-over-union."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]
ArrayLike3 = Union[F64, Sequence[float]]


@dataclass(frozen=True)
class OrientedBox:
    """An oriented 3D box in world coordinates.

    Attributes:
        center: ``(3,) float64`` box centre, metres.
        size: ``(3,) float64`` full extents along the box's own x, y, z axes, metres.
        R_world_box: ``(3, 3) float64`` rotation whose columns are the box axes in world.
    """

    center: F64
    size: F64
    R_world_box: F64 = field(default_factory=lambda: np.eye(3))

    @staticmethod
    def axis_aligned(center: ArrayLike3, size: ArrayLike3) -> OrientedBox:
        return OrientedBox(np.asarray(center, float), np.asarray(size, float), np.eye(3))

    @staticmethod
    def from_yaw(center: ArrayLike3, size: ArrayLike3, yaw_rad: float) -> OrientedBox:
        """Box rotated by ``yaw_rad`` about world +z (counter-clockwise seen from above)."""
        c, s = np.cos(yaw_rad), np.sin(yaw_rad)
        R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        return OrientedBox(np.asarray(center, float), np.asarray(size, float), R)

    @staticmethod
    def from_points(points_world: F64) -> OrientedBox:
        """The axis-aligned bounding box of ``(N, 3)`` points."""
        lo, hi = points_world.min(axis=0), points_world.max(axis=0)
        return OrientedBox((lo + hi) / 2.0, hi - lo, np.eye(3))

    def corners(self) -> F64:
        """``(8, 3)`` world corners; bit i of the corner index selects +/- along box axis i."""
        signs = np.array([[(i >> a) & 1 for a in range(3)] for i in range(8)], float) * 2.0 - 1.0
        local = signs * (self.size / 2.0)
        return np.asarray(self.center + local @ self.R_world_box.T, dtype=np.float64)

    @property
    def yaw_rad(self) -> float:
        """Rotation of the box's x axis about world +z."""
        return float(np.arctan2(self.R_world_box[1, 0], self.R_world_box[0, 0]))

    @property
    def volume_m3(self) -> float:
        return float(np.prod(self.size))

    def to_dict(self) -> dict[str, Any]:
        return {
            "center": [float(v) for v in self.center],
            "size": [float(v) for v in self.size],
            "R_world_box": [[float(v) for v in row] for row in self.R_world_box],
        }

    @staticmethod
    def from_dict(d: dict[str, list[float] | list[list[float]]]) -> OrientedBox:
        return OrientedBox(
            np.asarray(d["center"], float),
            np.asarray(d["size"], float),
            np.asarray(d.get("R_world_box", np.eye(3).tolist()), float),
        )




def boxes_overlap_3d(a: OrientedBox, b: OrientedBox, margin_m: float = 0.0) -> bool:
    """Whether two oriented boxes intersect (separating-axis test over the 15 candidate axes).

    ``margin_m`` inflates both boxes, so a positive margin also flags boxes that nearly touch.
    """
    Ra, Rb = a.R_world_box, b.R_world_box
    ha, hb = a.size / 2.0 + margin_m, b.size / 2.0 + margin_m
    d = b.center - a.center
    axes = [Ra[:, i] for i in range(3)] + [Rb[:, i] for i in range(3)]
    for i in range(3):
        for j in range(3):
            c = np.cross(Ra[:, i], Rb[:, j])
            if np.linalg.norm(c) > 1e-9:
                axes.append(c / np.linalg.norm(c))
    for ax in axes:
        ra = float(np.sum(ha * np.abs(Ra.T @ ax)))
        rb = float(np.sum(hb * np.abs(Rb.T @ ax)))
        if abs(float(d @ ax)) > ra + rb:
            return False
    return True


def aabb_iou_3d(a: OrientedBox, b: OrientedBox) -> float:
    """IoU of the axis-aligned hulls of two boxes (exact for axis-aligned boxes)."""
    ca, cb = a.corners(), b.corners()
    lo = np.maximum(ca.min(0), cb.min(0))
    hi = np.minimum(ca.max(0), cb.max(0))
    inter = float(np.prod(np.clip(hi - lo, 0, None)))
    va = float(np.prod(ca.max(0) - ca.min(0)))
    vb = float(np.prod(cb.max(0) - cb.min(0)))
    union = va + vb - inter
    return inter / union if union > 0 else 0.0


def box2d_area(box_xyxy: ArrayLike) -> float:
    x1, y1, x2, y2 = np.asarray(box_xyxy, dtype=np.float64)
    return float(max(0.0, x2 - x1) * max(0.0, y2 - y1))


def box2d_intersection(a: ArrayLike, b: ArrayLike) -> float:
    ax1, ay1, ax2, ay2 = np.asarray(a, dtype=np.float64)
    bx1, by1, bx2, by2 = np.asarray(b, dtype=np.float64)
    w = min(ax2, bx2) - max(ax1, bx1)
    h = min(ay2, by2) - max(ay1, by1)
    return float(max(0.0, w) * max(0.0, h))


def box2d_iou(a: ArrayLike, b: ArrayLike) -> float:
    inter = box2d_intersection(a, b)
    union = box2d_area(a) + box2d_area(b) - inter
    return inter / union if union > 0 else 0.0


def boxes2d_overlap(a: ArrayLike, b: ArrayLike) -> bool:
    """Whether two pixel boxes share any area."""
    return box2d_intersection(a, b) > 0.0
