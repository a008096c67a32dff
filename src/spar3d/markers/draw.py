"""Draw a SPAR-7M sample's marker fields onto its images, with SPAR's look.

SPAR-7M images are clean; the training loader draws markers when it loads a sample
(docs/formats.md §1). SPAR's public ``draw_marker.py`` fixes the look this module follows:

- points: filled dots of a fixed 20 px radius (not scaled with the image size);
- boxes: 20 px thick rectangles outset by 7/8 of the stroke so the box interior stays visible;
- colours red, blue, green, yellow; list markers (``point_list``/``bbox_list``) are labelled
  ``objectA, object0, object1, ...`` (points) or ``object0, object1, ...`` (boxes), in text
  about 40 px high (smaller on images under 480 px, see :func:`label_size_px`);
- ``x * W / 1000``, ``y * H / 1000`` maps 0-1000 coordinates to pixels.

Which image a coloured marker goes on: ``point_img_idx[0]`` / ``bbox_img_idx[0]`` list one
image index per colour, in the order the task draws its colours. For the tasks whose SPAR order
is not red, blue, green, yellow that order is the task's ``marker_order`` in
:mod:`spar3d.task_table` (which also says whose boxes are labelled); for every other task it is
the order of the colour fields in the sample (the order the task added them). Without an index
every marker goes on the first image.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from spar3d.errors import InputError
from spar3d.paths import resolve_under
from spar3d.task_table import boxes_labelled, marker_order

DOT_RADIUS_PX = 20
BOX_STROKE_PX = 20
BOX_OUTSET_PX = BOX_STROKE_PX * 7 / 8
LABEL_SIZE_PX = 40  # SPAR's cv2 font scale 2.0 on ScanNet's 968 px high frames

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (255, 0, 0),
    "blue": (0, 0, 255),
    "green": (0, 255, 0),
    "yellow": (255, 255, 0),
}
COLOR_NAMES = tuple(COLORS)
LIST_COLOR = COLORS["blue"]
LABEL_TEXT = (255, 255, 255)


def norm1000_to_px(uv_norm1000: Sequence[float], width: int, height: int) -> list[float]:
    """Scale ``[x, y]`` or ``[x1, y1, x2, y2]`` from 0-1000 to pixels."""
    return [v * (width if i % 2 == 0 else height) / 1000 for i, v in enumerate(uv_norm1000)]


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def draw_dot(image: Image.Image, uv_norm1000: Sequence[float], color: tuple[int, int, int]) -> None:
    """Filled dot of radius ``DOT_RADIUS_PX`` centred on the point (in place)."""
    x, y = (int(v) for v in norm1000_to_px(uv_norm1000, *image.size))
    r = DOT_RADIUS_PX
    ImageDraw.Draw(image).ellipse([x - r, y - r, x + r, y + r], fill=color)


def draw_box(
    image: Image.Image, box_norm1000: Sequence[float], color: tuple[int, int, int]
) -> None:
    """Rectangle of stroke ``BOX_STROKE_PX`` drawn just outside the box (in place)."""
    x1, y1, x2, y2 = norm1000_to_px(box_norm1000, *image.size)
    o = BOX_OUTSET_PX
    rect = [int(x1 - o), int(y1 - o), int(x2 + o), int(y2 + o)]
    ImageDraw.Draw(image).rectangle(rect, outline=color, width=BOX_STROKE_PX)


def label_size_px(height: int) -> int:
    """Text height: ``LABEL_SIZE_PX``, shrunk on images under 480 px so labels stay legible.

    Dots and boxes keep SPAR's fixed size; only text deviates, because 40 px labels on a
    240 px image would cover the scene.
    """
    return max(12, min(LABEL_SIZE_PX, height // 12))


@lru_cache(maxsize=256)
def _label_patch(text: str, size: int, color: tuple[int, int, int]) -> Image.Image:
    """The label as an RGB patch: white text on a ``color`` rectangle (rendered once per text).

    The rectangle spans ``w + 1`` by ``h + 1`` pixels (PIL rectangles include both corners) and
    the text lies inside it, so pasting the patch equals drawing rectangle and text in place.
    """
    font = _font(size)
    left, top, right, bottom = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox(
        (0, 0), text, font=font
    )
    w, h = int(right - left) + 8, int(bottom - top) + 8
    patch = Image.new("RGB", (w + 1, h + 1), color)
    ImageDraw.Draw(patch).text((4 - left, 4 - top), text, fill=LABEL_TEXT, font=font)
    return patch


def draw_label(
    image: Image.Image, xy_px: tuple[float, float], text: str, color: tuple[int, int, int]
) -> None:
    """White text on a filled ``color`` patch with its top-left at ``xy_px`` (kept inside)."""
    patch = _label_patch(text, label_size_px(image.height), color)
    w, h = patch.width - 1, patch.height - 1
    x = min(max(0, int(xy_px[0])), max(0, image.width - w))
    y = min(max(0, int(xy_px[1])), max(0, image.height - h))
    image.paste(patch, (x, y))


def _single(sample: dict[str, Any], field: str, size: int) -> list[float]:
    value = sample[field]
    try:
        coords = [float(v) for v in value[0]]
    except (TypeError, IndexError, ValueError):
        coords = []
    if len(coords) != size:
        raise ValueError(
            f"sample {sample.get('id')!r}: {field} must be [[{size} numbers]], got {value!r}"
        )
    return coords


def _index_list(sample: dict[str, Any], field: str, n_images: int) -> list[int] | None:
    if field not in sample:
        return None
    value = sample[field]
    idx = value[0] if value and isinstance(value[0], list) else value
    for i in idx:
        if not isinstance(i, int) or not 0 <= i < n_images:
            raise ValueError(
                f"sample {sample.get('id')!r}: {field} entry {i!r} is not an image index "
                f"in 0..{n_images - 1}"
            )
    return list(idx)


def _target(sample: dict[str, Any], field: str, idx: list[int] | None, pos: int, what: str) -> int:
    """Image index of the ``pos``-th marker listed in ``field`` (image 0 without the field)."""
    if idx is None:
        return 0
    if pos >= len(idx):
        raise ValueError(
            f"sample {sample.get('id')!r}: {field} has {len(idx)} entries, no image for {what}"
        )
    return idx[pos]


def marker_placements(
    sample: dict[str, Any], n_images: int
) -> list[tuple[int, str, str, list[float], str | None]]:
    """Every marker of a sample as ``(image index, kind, colour, coords, label)``.

    ``kind`` is ``point`` or ``bbox``; ``colour`` a key of ``COLORS`` or ``list``; coords are
    0-1000 values. This is the single place that decides which image a marker belongs on.

    Raises:
        ValueError: a marker field is malformed or points at an image the sample lacks.
    """
    task = str(sample.get("type", ""))
    out: list[tuple[int, str, str, list[float], str | None]] = []
    for kind, size in (("point", 2), ("bbox", 4)):
        idx_field = f"{kind}_img_idx"
        idx = _index_list(sample, idx_field, n_images)
        list_field = f"{kind}_list"
        if list_field in sample:
            items = sample[list_field][0] if sample[list_field] else []
            for i, coords in enumerate(items):
                if len(coords) != size:
                    raise ValueError(
                        f"sample {sample.get('id')!r}: {list_field}[0][{i}] has "
                        f"{len(coords)} values, expected {size}"
                    )
                img = _target(sample, idx_field, idx, i, f"{list_field}[0][{i}]")
                label = (
                    ("objectA" if i == 0 else f"object{i - 1}") if kind == "point" else f"object{i}"
                )
                out.append((img, kind, "list", [float(v) for v in coords], label))
            continue
        # Field order is the order the task added its markers (JSON objects keep key order).
        fields = {f"{c}_{kind}": c for c in COLOR_NAMES}
        present = [fields[k] for k in sample if k in fields]
        order = [c for c in marker_order(task) if c in present] or present
        for n, color in enumerate(order):
            coords = _single(sample, f"{color}_{kind}", size)
            tag = f"object{n}" if kind == "bbox" and boxes_labelled(task) else None
            img = _target(sample, idx_field, idx, n, f"{color}_{kind}")
            out.append((img, kind, color, coords, tag))
    return out


def draw_markers(images: Sequence[Image.Image], sample: dict[str, Any]) -> list[Image.Image]:
    """Copies of ``images`` (RGB) with the sample's markers drawn on the right images."""
    drawn = [im.convert("RGB") for im in images]  # convert() always returns a copy
    for img, kind, color, coords, label in marker_placements(sample, len(drawn)):
        rgb = LIST_COLOR if color == "list" else COLORS[color]
        image = drawn[img]
        if kind == "point":
            draw_dot(image, coords, rgb)
            if label:
                x, y = norm1000_to_px(coords, *image.size)
                draw_label(image, (x + DOT_RADIUS_PX, y + DOT_RADIUS_PX), label, rgb)
        else:
            draw_box(image, coords, rgb)
            if label:
                _, _, x2, y2 = norm1000_to_px(coords, *image.size)
                size = label_size_px(image.height)
                draw_label(image, (x2 - 4 * size, y2 + BOX_STROKE_PX), label, rgb)
    return drawn


def load_images(
    sample: dict[str, Any], images_root: str | Path, *, allow_outside: bool = False
) -> list[Image.Image]:
    """Open a sample's ``image`` entries (a list, or one path) relative to ``images_root``.

    Paths that are absolute or climb out of ``images_root`` are refused
    (:func:`spar3d.paths.resolve_under`) unless ``allow_outside``; a missing or undecodable image
    is an :class:`~spar3d.errors.InputError` naming the sample and the file.
    """
    paths = sample.get("image")
    if isinstance(paths, str):
        paths = [paths]
    if not paths:
        return []
    where = f"sample {sample.get('id')!r}"
    out = []
    for rel in paths:
        if not isinstance(rel, str):
            raise InputError(f"{where}: field 'image' holds {type(rel).__name__}, not a path")
        out.append(
            open_rgb(resolve_under(images_root, rel, where, allow_outside=allow_outside), where)
        )
    return out


def open_rgb(path: Path, where: str) -> Image.Image:
    """Decode one image as RGB; a missing or undecodable file is an :class:`InputError`."""
    if not path.is_file():
        raise InputError(f"{where}: image not found: {path}")
    try:
        with Image.open(path) as im:
            return im.convert("RGB")
    except (OSError, Image.DecompressionBombError) as exc:
        raise InputError(f"{where}: cannot decode image {path} ({exc})") from None


def draw_sample(
    sample: dict[str, Any], images_root: str | Path, *, allow_outside: bool = False
) -> list[Image.Image]:
    """Load a sample's images from ``images_root`` and draw its markers on them."""
    return draw_markers(load_images(sample, images_root, allow_outside=allow_outside), sample)
