"""Exact 3D IoU of gravity-aligned oriented boxes, proposal files and refinement by matching.

IoU: the boxes' floor footprints are rectangles (shapely polygons); the intersection volume is
the footprint intersection area times the overlap of the vertical extents, which is exact for
boxes rotated about world +z only (ScanNet / ScanRefer boxes, the synthetic world's boxes).

Refinement (SPAR section 3.5) snaps a lifted box onto a proposal box. The cost of proposal j for a
predicted box p is ``(1 - IoU(p, j)) + d(p, j) / max_center_dist_m`` with ``d`` the distance
between centres; proposals with IoU 0 and ``d > max_center_dist_m`` are not candidates. With
``assignment="nearest"`` every prediction takes its cheapest candidate (several descriptions may
name the same object, as in ScanRefer); ``"hungarian"`` solves one-to-one assignment over a set
of predictions with :func:`scipy.optimize.linear_sum_assignment` (for predictions known to name
distinct objects). A prediction without a candidate keeps its own box.

Proposal files (``--proposals``):

* JSON: ``{"<scene_id>": [{"center": [x, y, z], "size": [dx, dy, dz], "yaw": rad (optional),
  "label": "..." (optional), "score": 0.9 (optional)}, ...], ...}``;
* NumPy ``.npz``: one array per scene id, shape ``(N, 6)`` ``[cx, cy, cz, dx, dy, dz]`` (the
  layout of ScanRefer / VoteNet ``*_aligned_bbox.npy`` first six columns) or ``(N, 7)`` with the
  yaw (radians) last. Read with ``allow_pickle=False``.

Coordinates are the scene (world) frame of the scene index, metres.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from spar3d.errors import InputError
from spar3d.scenes.model import OrientedBox

if TYPE_CHECKING:
    import shapely

Assignment = Literal["nearest", "hungarian"]


def footprint(box: OrientedBox) -> shapely.Polygon:
    """The box's floor rectangle (world XY) as a polygon, counter-clockwise."""
    import shapely  # here, not at import: listing the tasks (``spar3d tasks``) stays fast

    c, s = math.cos(box.yaw_rad), math.sin(box.yaw_rad)
    hx, hy = float(box.size[0]) / 2, float(box.size[1]) / 2
    cx, cy = float(box.center[0]), float(box.center[1])
    pts = [(-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy)]
    return shapely.Polygon([(cx + c * x - s * y, cy + s * x + c * y) for x, y in pts])


def box_iou_3d(a: OrientedBox, b: OrientedBox) -> float:
    """3D IoU of two gravity-aligned oriented boxes (footprint polygon x vertical overlap)."""
    za = (float(a.center[2] - a.size[2] / 2), float(a.center[2] + a.size[2] / 2))
    zb = (float(b.center[2] - b.size[2] / 2), float(b.center[2] + b.size[2] / 2))
    dz = min(za[1], zb[1]) - max(za[0], zb[0])
    va, vb = float(np.prod(a.size)), float(np.prod(b.size))
    if dz <= 0 or va <= 0 or vb <= 0:
        return 0.0
    inter = float(footprint(a).intersection(footprint(b)).area) * dz
    union = va + vb - inter
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class Proposal:
    """A candidate box from a detector or the ground-truth instances."""

    box: OrientedBox
    label: str = ""
    score: float = 1.0
    object_id: int | None = None


def _proposal(d: Any, where: str) -> Proposal:
    if not isinstance(d, dict):
        raise InputError(f"{where}: expected an object with 'center' and 'size'")
    try:
        center = np.asarray(d["center"], dtype=np.float64).reshape(3)
        size = np.asarray(d["size"], dtype=np.float64).reshape(3)
        yaw = float(d.get("yaw", 0.0))
        score = float(d.get("score", 1.0))
    except KeyError as exc:
        raise InputError(f"{where}: missing field {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: bad value ({exc})") from None
    if not (np.all(np.isfinite(center)) and np.all(np.isfinite(size)) and np.all(size > 0)):
        raise InputError(f"{where}: center and size must be finite, size positive")
    oid = d.get("object_id")
    return Proposal(
        OrientedBox.from_yaw(center, size, yaw),
        str(d.get("label", "")),
        score,
        int(oid) if isinstance(oid, int) else None,
    )


def proposals_from_array(arr: Any, where: str) -> list[Proposal]:
    """Proposals from an ``(N, 6)`` or ``(N, 7)`` array (centre, size, optional yaw)."""
    a = np.asarray(arr)
    if a.ndim != 2 or a.shape[1] not in (6, 7) or not np.issubdtype(a.dtype, np.number):
        raise InputError(f"{where}: expected a numeric (N, 6) or (N, 7) array, got {a.shape}")
    a = a.astype(np.float64)
    out = []
    for i, row in enumerate(a):
        yaw = float(row[6]) if len(row) == 7 else 0.0
        out.append(_proposal({"center": row[:3], "size": row[3:6], "yaw": yaw}, f"{where}[{i}]"))
    return out


def load_proposals(path: str | Path) -> dict[str, list[Proposal]]:
    """Proposal boxes per scene id from a JSON or ``.npz`` file (see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: proposals file not found")
    if p.suffix == ".npz":
        try:
            with np.load(p, allow_pickle=False) as data:
                return {k: proposals_from_array(data[k], f"{p}:{k}") for k in data.files}
        except ValueError as exc:  # e.g. an object array, which needs pickle
            raise InputError(f"{p}: not a plain numeric .npz ({exc})") from None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{p}: expected an object mapping scene ids to lists of boxes")
    out: dict[str, list[Proposal]] = {}
    for scene, boxes in doc.items():
        if not isinstance(boxes, list):
            raise InputError(f"{p}: scene {scene!r}: expected a list of boxes")
        out[str(scene)] = [
            _proposal(b, f"{p}: scene {scene!r} box {i}") for i, b in enumerate(boxes)
        ]
    return out


def box_to_dict(box: OrientedBox) -> dict[str, Any]:
    """``{"center", "size", "yaw"}`` of a gravity-aligned box (the form proposals and grounding
    contexts store boxes in)."""
    return {
        "center": [float(v) for v in box.center],
        "size": [float(v) for v in box.size],
        "yaw": box.yaw_rad,
    }


def box_from_dict(d: dict[str, Any]) -> OrientedBox:
    """Inverse of :func:`box_to_dict` (``yaw`` defaults to 0)."""
    return OrientedBox.from_yaw(d["center"], d["size"], float(d.get("yaw", 0.0)))


def proposal_to_dict(prop: Proposal) -> dict[str, Any]:
    """The JSON form :func:`load_proposals` reads (centre, size, yaw, label, object id)."""
    d: dict[str, Any] = {**box_to_dict(prop.box), "label": prop.label}
    if prop.object_id is not None:
        d["object_id"] = prop.object_id
    return d


def cost_matrix(
    preds: Sequence[OrientedBox], props: Sequence[Proposal], max_center_dist_m: float = 1.0
) -> np.ndarray:
    """``(P, N)`` refinement costs; ``inf`` where a proposal is not a candidate."""
    cost = np.full((len(preds), len(props)), np.inf)
    for i, p in enumerate(preds):
        for j, q in enumerate(props):
            iou = box_iou_3d(p, q.box)
            d = float(np.linalg.norm(p.center - q.box.center))
            if iou > 0 or d <= max_center_dist_m:
                cost[i, j] = (1.0 - iou) + d / max_center_dist_m
    return cost


def refine(
    preds: Sequence[OrientedBox],
    props: Sequence[Proposal],
    *,
    assignment: Assignment = "nearest",
    max_center_dist_m: float = 1.0,
) -> list[tuple[OrientedBox, int | None]]:
    """Each prediction's refined box and the index of the proposal it took (None: kept)."""
    if not preds:
        return []
    cost = cost_matrix(preds, props, max_center_dist_m)
    chosen: list[int | None] = [None] * len(preds)
    if props and assignment == "hungarian":
        from scipy.optimize import linear_sum_assignment

        big = 1e6  # non-candidates: assignable only when nothing else is left, then dropped
        rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, big))
        for r, c in zip(rows, cols, strict=True):
            if np.isfinite(cost[r, c]):
                chosen[int(r)] = int(c)
    elif props:
        if assignment != "nearest":
            raise ValueError(f"assignment must be 'nearest' or 'hungarian', got {assignment!r}")
        for i in range(len(preds)):
            j = int(np.argmin(cost[i]))
            if np.isfinite(cost[i, j]):
                chosen[i] = j
    return [(props[c].box if c is not None else p, c) for p, c in zip(preds, chosen, strict=True)]
