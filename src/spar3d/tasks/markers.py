"""Marker fields of a sample (docs/formats.md §1): which object a colour refers to.

Markers are fields, not pixels: points ``[[x, y]]`` and boxes ``[[x1, y1, x2, y2]]`` normalised to
0-1000 integers. Multi-image samples also say which image each marker belongs to, in the order the
task added the markers: ``point_img_idx: [[i_red, i_blue, ...]]``, ``bbox_img_idx: [[...]]``.
List markers (``point_list`` / ``bbox_list``) hold one element per listed object and one image
index per element.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spar3d.geometry.camera import box2d_to_norm1000, uv_to_norm1000
from spar3d.index.records import ImageRecord, VisibleObject

COLORS = ("red", "blue", "green", "yellow")


class MarkerError(ValueError):
    """A marker cannot be placed (e.g. the object's centre projects outside the image)."""


def point_norm1000(vis: VisibleObject, image: ImageRecord) -> list[int]:
    """The object's projected 3D centre as ``[x, y]`` in 0-1000.

    Raises:
        MarkerError: when the centre projects outside the image (or behind the camera).
    """
    u, v = vis.center_uv
    inside = -0.5 <= u <= image.width - 0.5 and -0.5 <= v <= image.height - 0.5
    if not (np.isfinite(u) and np.isfinite(v) and inside and vis.depth_m > 0):
        raise MarkerError(f"object {vis.object_id}: centre outside image {image.frame_id}")
    return [int(x) for x in uv_to_norm1000((u, v), image.width, image.height)]


def bbox_norm1000(vis: VisibleObject, image: ImageRecord) -> list[int]:
    """The object's visible 2D box as ``[x1, y1, x2, y2]`` in 0-1000."""
    return [int(x) for x in box2d_to_norm1000(vis.bbox_xyxy, image.width, image.height)]


@dataclass
class Markers:
    """Ordered marker builder; :meth:`to_fields` gives the sample's marker fields."""

    points: list[tuple[str, list[int], int]] = field(default_factory=list)
    bboxes: list[tuple[str, list[int], int]] = field(default_factory=list)
    point_list: list[tuple[list[int], int]] = field(default_factory=list)
    bbox_list: list[tuple[list[int], int]] = field(default_factory=list)

    def point(self, color: str, xy: list[int], img_idx: int = 0) -> Markers:
        self._check(color, [c for c, _, _ in self.points])
        self.points.append((color, list(xy), img_idx))
        return self

    def bbox(self, color: str, box: list[int], img_idx: int = 0) -> Markers:
        self._check(color, [c for c, _, _ in self.bboxes])
        self.bboxes.append((color, list(box), img_idx))
        return self

    def list_point(self, xy: list[int], img_idx: int = 0) -> Markers:
        self.point_list.append((list(xy), img_idx))
        return self

    def list_bbox(self, box: list[int], img_idx: int = 0) -> Markers:
        self.bbox_list.append((list(box), img_idx))
        return self

    @staticmethod
    def _check(color: str, used: list[str]) -> None:
        if color not in COLORS:
            raise ValueError(f"marker colour {color!r} not in {COLORS}")
        if color in used:
            raise ValueError(f"marker colour {color!r} used twice")

    def to_fields(self, multi_image: bool) -> dict[str, Any]:
        """Marker fields in SPAR's layout; ``*_img_idx`` only for multi-image samples."""
        out: dict[str, Any] = {}
        for color, xy, _ in self.points:
            out[f"{color}_point"] = [xy]
        if multi_image and self.points:
            out["point_img_idx"] = [[i for _, _, i in self.points]]
        for color, box, _ in self.bboxes:
            out[f"{color}_bbox"] = [box]
        if multi_image and self.bboxes:
            out["bbox_img_idx"] = [[i for _, _, i in self.bboxes]]
        if self.point_list:
            out["point_list"] = [[xy for xy, _ in self.point_list]]
            if "point_img_idx" not in out:
                out["point_img_idx"] = [[i for _, i in self.point_list]]
        if self.bbox_list:
            out["bbox_list"] = [[b for b, _ in self.bbox_list]]
            if "bbox_img_idx" not in out:
                out["bbox_img_idx"] = [[i for _, i in self.bbox_list]]
        return out
