"""3D and 2D box geometry: corners, overlap tests and intersection-over-union."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spar3d.scenes.model import OrientedBox

F64 = NDArray[np.float64]


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
