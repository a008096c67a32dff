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
    """A marker cannot be placed (the object shows no usable pixel in the image)."""


def point_norm1000(vis: VisibleObject, image: ImageRecord) -> list[int]:
    """Where the object's point marker goes, as ``[x, y]`` in 0-1000: ``vis.marker_uv``, the
    projected 3D centre when the object's own surface is seen there, else the object's visible
    pixel nearest to it (see ``spar3d.index.builder``).

    Raises:
        MarkerError: when the object has no usable visible pixel in the image.
    """
    if vis.marker_uv is None:
        raise MarkerError(f"object {vis.object_id}: no usable visible pixel in {image.frame_id}")
    u, v = vis.marker_uv
    inside = -0.5 <= u <= image.width - 0.5 and -0.5 <= v <= image.height - 0.5
    if not (np.isfinite(u) and np.isfinite(v) and inside and vis.depth_m > 0):
        raise MarkerError(f"object {vis.object_id}: marker outside image {image.frame_id}")
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
    objects: dict[int, str] = field(default_factory=dict)  # marked object id -> its colour
    # (object, img_idx, field, element): which field holds each object's point marker
    point_objects: list[tuple[int, int, str, int]] = field(default_factory=list)
    unattributed: int = 0  # markers added without an object id (third-party tasks)

    def _mark(self, obj: int | None, what: str, img_idx: int = 0) -> None:
        if obj is None:
            self.unattributed += 1
            return
        self.objects.setdefault(int(obj), what)
        if what.endswith("point"):
            color = what.split()[0]
            fld, elem = (f"{color}_point", 0) if color in COLORS else ("point_list", 0)
            if fld == "point_list":
                elem = len(self.point_list) - 1
            self.point_objects.append((int(obj), img_idx, fld, elem))

    def point(self, color: str, xy: list[int], img_idx: int = 0, obj: int | None = None) -> Markers:
        """A coloured point; ``obj`` is the object it marks (so the sample knows it is marked)."""
        self._check(color, [c for c, _, _ in self.points])
        self.points.append((color, list(xy), img_idx))
        self._mark(obj, f"{color} point", img_idx)
        return self

    def bbox(self, color: str, box: list[int], img_idx: int = 0, obj: int | None = None) -> Markers:
        self._check(color, [c for c, _, _ in self.bboxes])
        self.bboxes.append((color, list(box), img_idx))
        self._mark(obj, f"{color} box")
        return self

    def list_point(self, xy: list[int], img_idx: int = 0, obj: int | None = None) -> Markers:
        self.point_list.append((list(xy), img_idx))
        self._mark(obj, "point", img_idx)
        return self

    def list_bbox(self, box: list[int], img_idx: int = 0, obj: int | None = None) -> Markers:
        self.bbox_list.append((list(box), img_idx))
        self._mark(obj, "box")
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
