"""The grounding answer: its fixed text format, a tolerant parser, and lifting to a 3D box.

SPAR grounds an object as *frame selection + mono-3D grounding*: the model picks one of the
shown views and states where the object's 3D centre is in it and how large the object is. The
answer text (``docs/conventions.md``, "Grounding answers")::

    frame 2; (512, 430); depth 2.35 m; size (0.52, 0.91, 0.48) m; yaw 12.5 deg

* ``frame k``: the view, 1-based, in the order the images are given.
* ``(u, v)``: the projected 3D box centre in 0-1000 normalised image coordinates.
* ``depth d m``: camera-frame z of the box centre in that view, metres.
* ``size (w, h, l) m``: full box extents in the view's *heading frame*: ``w`` across the view
  (along the camera's right axis projected onto the floor), ``h`` vertical, ``l`` along the
  viewing direction projected onto the floor.
* ``yaw θ deg`` (only when the box is turned relative to the view): rotation of the box's ``w``
  axis from the view's right axis about world +z, counter-clockwise seen from above (positive
  turns it away from the camera), in (-45, 45]; a box turned further is written with ``w`` and
  ``l`` swapped. Omitted when it rounds to 0, and read as 0 when missing.

:func:`encode_answer` writes the ground truth from a box and a camera; :func:`lift_answer` is its
inverse (up to rounding). Boxes are treated as gravity-aligned (rotated about world +z only).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spar3d.geometry.camera import norm1000_to_uv, project, uv_to_norm1000
from spar3d.geometry.transforms import cam_to_world, world_to_cam
from spar3d.scenes.model import OrientedBox

F64 = NDArray[np.float64]

ParseReason = Literal[
    "empty", "no_frame", "no_position", "no_depth", "no_size", "bad_value", "frame_out_of_range"
]
#: The answer-format sentence every grounding question ends with (one home for its wording).
_FIELDS = (
    "k is the image number (the first image is 1); (u, v) is the position of the object's 3D "
    "center in that image on a 0-1000 scale from the top-left corner; d is its depth along the "
    "viewing direction in meters; w, h and l are its width across the view, its height and its "
    "length along the viewing direction in meters; a is its rotation about the vertical from the "
    "image's left-right axis in degrees, counter-clockwise seen from above (leave the yaw out "
    "when it is 0)."
)
FORMAT_NOTE = (
    "Pick one image in which the object is visible and answer exactly as: "
    "frame k; (u, v); depth d m; size (w, h, l) m; yaw a deg. Here " + _FIELDS
)
#: The same rules for answers in free sentences (the ``sentence`` format).
FORMAT_RULES = (
    "Pick one image in which the object is visible and say in which frame k it is, where its "
    "center (u, v) is, its depth d, its size (w, h, l) and its yaw a. Here " + _FIELDS
)
PARSE_REASONS: tuple[str, ...] = (
    "empty", "no_frame", "no_position", "no_depth", "no_size", "bad_value", "frame_out_of_range"
)  # fmt: skip


@dataclass(frozen=True)
class GroundingAnswer:
    """A parsed (or ground-truth) grounding answer.

    Attributes:
        frame: 1-based view number.
        uv_norm1000: ``(u, v)`` of the box centre, 0-1000 (values outside mean off-image).
        depth_m: Camera-frame z of the box centre.
        size_whl_m: ``(w, h, l)`` in the view's heading frame.
        yaw_deg: Yaw of the ``w`` axis from the view's right axis (0 when not given).
    """

    frame: int
    uv_norm1000: tuple[float, float]
    depth_m: float
    size_whl_m: tuple[float, float, float]
    yaw_deg: float = 0.0

    def text(self) -> str:
        """The fixed answer format (see the module docstring)."""
        u, v = (int(round(x)) for x in self.uv_norm1000)
        w, h, length = self.size_whl_m
        out = (
            f"frame {self.frame}; ({u}, {v}); depth {self.depth_m:.2f} m; "
            f"size ({w:.2f}, {h:.2f}, {length:.2f}) m"
        )
        yaw = round(self.yaw_deg, 1)
        if yaw != 0.0:
            out += f"; yaw {yaw:.1f} deg"
        return out


@dataclass(frozen=True)
class ParseFailure:
    """Why a response could not be read; ``reason`` is one of :data:`PARSE_REASONS`."""

    reason: ParseReason
    detail: str = ""


# -- parsing ------------------------------------------------------------------------------------
_NUM = r"[-+]?(?:\d+(?:[.,]\d+)?|\.\d+)"
_LEN_UNIT = r"(?:millimet(?:er|re)s?|centimet(?:er|re)s?|met(?:er|re)s?|mm|cm|m)\b"
_UNIT_SCALE = {"mm": 1e-3, "cm": 1e-2, "m": 1.0}
_FRAME = re.compile(
    r"\b(?:frame|image|view|img|picture)\s*(?:#|no\.?|number)?\s*[:=]?\s*(\d+)", re.I
)
_UV_PAIR = re.compile(rf"[\(\[]\s*({_NUM})\s*[,;]\s*({_NUM})\s*[\)\]]")
_UV_NAMED = re.compile(rf"\bu\s*[:=]\s*({_NUM})\s*[,;]?\s*\bv\s*[:=]\s*({_NUM})", re.I)
_DEPTH = re.compile(
    rf"\bdepth\b\s*(?:of|is|[:=])?\s*(?:about|approximately|~)?\s*({_NUM})\s*({_LEN_UNIT})?", re.I
)
_DEPTH_AWAY = re.compile(rf"({_NUM})\s*({_LEN_UNIT})\s+(?:deep|away|in front)\b", re.I)
_SEP = r"\s*(?:[,x×*;]|\bby\b)\s*"
_SIZE = re.compile(
    rf"\b(?:size|dimensions?|extents?)\b[^0-9+\-.]{{0,40}}?({_NUM})\s*({_LEN_UNIT})?{_SEP}"
    rf"({_NUM})\s*({_LEN_UNIT})?{_SEP}({_NUM})\s*({_LEN_UNIT})?\s*[\)\]]?\s*({_LEN_UNIT})?",
    re.I,
)
_YAW = re.compile(rf"\byaw\b\s*(?:of|is|[:=])?\s*({_NUM})\s*(deg(?:rees?)?|°|rad(?:ians?)?)?", re.I)


def _num(text: str) -> float:
    return float(text.replace(",", "."))


def _unit_scale(unit: str | None) -> float:
    if not unit:
        return 1.0
    u = unit.lower()
    if u.startswith("milli") or u == "mm":
        return _UNIT_SCALE["mm"]
    if u.startswith("centi") or u == "cm":
        return _UNIT_SCALE["cm"]
    return 1.0


def parse_answer(text: object, n_views: int | None = None) -> GroundingAnswer | ParseFailure:
    """Read a model's grounding answer; never raises.

    Tolerant of case, spacing, brackets, ``x`` or ``;`` between numbers, decimal commas inside
    numbers (``2,5 m`` when followed by a unit), unit words (mm / cm / m, metres or meters;
    degrees or radians) and extra words around the fields. A field that is missing or a value
    that is not finite and positive where it must be gives a :class:`ParseFailure`.

    Args:
        text: The response (anything; non-strings are a failure ``"empty"``).
        n_views: Views shown; a frame outside ``1..n_views`` is ``"frame_out_of_range"``.
    """
    if not isinstance(text, str) or not text.strip():
        return ParseFailure("empty")
    s = text.replace("\u2212", "-")
    try:
        m = _FRAME.search(s)
        if m is None:
            return ParseFailure("no_frame")
        frame = int(m.group(1))
        rest = s[: m.start()] + " " * (m.end() - m.start()) + s[m.end() :]
        m_uv = _UV_NAMED.search(rest) or _UV_PAIR.search(rest)
        if m_uv is None:
            return ParseFailure("no_position")
        uv = (float(m_uv.group(1).replace(",", ".")), float(m_uv.group(2).replace(",", ".")))
        m_d = _DEPTH.search(rest) or _DEPTH_AWAY.search(rest)
        if m_d is None:
            return ParseFailure("no_depth")
        depth = _num(m_d.group(1)) * _unit_scale(m_d.group(2))
        m_s = _SIZE.search(rest)
        if m_s is None:
            return ParseFailure("no_size")
        tail = m_s.group(7)
        sizes = tuple(_num(m_s.group(i)) * _unit_scale(m_s.group(i + 1) or tail) for i in (1, 3, 5))
        yaw = 0.0
        m_y = _YAW.search(rest)
        if m_y is not None:
            yaw = _num(m_y.group(1))
            if m_y.group(2) and m_y.group(2).lower().startswith("rad"):
                yaw = math.degrees(yaw)
    except (ValueError, OverflowError) as exc:  # e.g. an integer too large for a float
        return ParseFailure("bad_value", str(exc))
    values = (*uv, depth, *sizes, yaw)
    if not all(math.isfinite(v) for v in values) or depth <= 0 or min(sizes) <= 0:
        return ParseFailure("bad_value", "depth and sizes must be finite and positive")
    if frame < 1 or (n_views is not None and frame > n_views):
        return ParseFailure("frame_out_of_range", f"frame {frame} of {n_views}")
    w, h, length = sizes
    return GroundingAnswer(frame, uv, depth, (w, h, length), yaw)


# -- the view's heading frame --------------------------------------------------------------------
def heading_yaw_rad(T_world_cam: ArrayLike) -> float:
    """Angle about world +z of the camera's right axis projected onto the floor.

    The heading comes from the viewing direction (+z of the camera) projected onto the floor; a
    camera looking straight down uses its image-up direction (-y) instead.
    """
    R = np.asarray(T_world_cam, dtype=np.float64)[:3, :3]
    fwd = R[:, 2]
    if math.hypot(fwd[0], fwd[1]) < 1e-6:
        fwd = -R[:, 1]
    # right = forward x up = (fy, -fx, 0)
    return math.atan2(-fwd[0], fwd[1])


def _wrap_half_turn(angle_rad: float) -> float:
    """Into (-pi/2, pi/2]: a box is symmetric under a half turn."""
    a = (angle_rad + math.pi / 2) % math.pi - math.pi / 2
    return a if a > -math.pi / 2 + 1e-12 else a + math.pi


def box_in_view(
    box: OrientedBox, T_world_cam: ArrayLike
) -> tuple[tuple[float, float, float], float]:
    """``((w, h, l), yaw_deg)`` of a box in a view's heading frame, yaw in (-45, 45]."""
    theta = _wrap_half_turn(box.yaw_rad - heading_yaw_rad(T_world_cam))
    sx, sy, sz = (float(v) for v in box.size)
    if theta > math.pi / 4 + 1e-12:
        theta, sx, sy = theta - math.pi / 2, sy, sx
    elif theta <= -math.pi / 4 + 1e-12:
        theta, sx, sy = theta + math.pi / 2, sy, sx
    return (sx, sz, sy), math.degrees(theta)


def encode_answer(
    box: OrientedBox, frame: int, K: ArrayLike, T_world_cam: ArrayLike, width: int, height: int
) -> GroundingAnswer:
    """The ground-truth answer for ``box`` seen in view ``frame`` (1-based) with camera K, pose."""
    c_cam = world_to_cam(T_world_cam, box.center)
    uv, depth = project(K, c_cam[None])
    n = uv_to_norm1000(uv[0], width, height) if np.all(np.isfinite(uv)) else np.array([0, 0])
    (w, h, length), yaw = box_in_view(box, T_world_cam)
    # unrounded u, v: the 0-1000 rounding is the text's (so off-image centres keep their place)
    scale = np.array([1000.0 / width, 1000.0 / height])
    u, v = ((uv[0] + 0.5) * scale) if np.all(np.isfinite(uv)) else n
    return GroundingAnswer(int(frame), (float(u), float(v)), float(depth[0]), (w, h, length), yaw)


def lift_answer(
    answer: GroundingAnswer, K: ArrayLike, T_world_cam: ArrayLike, width: int, height: int
) -> OrientedBox:
    """The 3D box in the scene (world) frame an answer describes in its chosen view.

    The centre is the pixel ``(u, v)`` (0-1000 back to pixels) unprojected at ``depth`` with K,
    then moved to world with ``T_world_cam``; the box's axes are the view's heading frame turned
    by ``yaw``: box x = ``w``, box y = ``l``, box z = ``h`` (world +z).
    """
    from spar3d.geometry.camera import unproject

    uv_px = norm1000_to_uv(np.asarray(answer.uv_norm1000, dtype=np.float64), width, height)
    c_cam = unproject(K, uv_px[None], np.array([answer.depth_m]))[0]
    c_world = cam_to_world(T_world_cam, c_cam)
    yaw = heading_yaw_rad(T_world_cam) + math.radians(answer.yaw_deg)
    w, h, length = answer.size_whl_m
    return OrientedBox.from_yaw(c_world, (w, length, h), yaw)
