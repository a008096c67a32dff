"""What every exporter shares: sample selection, images (drawn or referenced) and kept fields.

Markers are drawn by default (``draw=True``), the way SPAR's training loader draws them before
the images reach the model: a sample whose text says "(red point)" must show one. Drawn images
are JPEG copies under ``<out>/images/<block>/`` (or bytes kept in memory for the Hugging Face
export, which embeds them); a sample without marker fields keeps its original image file, so
only images that change are re-encoded. With ``draw=False`` every image is referenced where it
is and the marker fields ride along in the record, as in SPAR-7M; :class:`ExportReport` counts
the samples whose markers were then left undrawn so the command line can warn about them.

Every image path a writer receives is relative to the export folder (``../`` where the file
lives outside it), so a trainer given the export folder as its image root finds every image
wherever the command was run from.
"""

from __future__ import annotations

import io
import json
import os
from collections import Counter, OrderedDict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from spar3d.data.sample import MARKER_FIELDS, LoadedSample, image_list, question_answer
from spar3d.errors import InputError
from spar3d.io import atomic_open
from spar3d.markers.draw import draw_markers, open_rgb
from spar3d.paths import resolve_under

JPEG_QUALITY = 95
IMAGE_TOKEN = "<image>"
# Drawn images go to images/<n // IMAGES_PER_DIR>/ so no folder holds millions of files.
IMAGES_PER_DIR = 10_000


@dataclass
class Prepared:
    """One sample ready for a writer.

    Attributes:
        id: Sample id.
        question: Question text, without image tokens.
        answer: Answer text.
        image_paths: Image paths relative to the export folder (POSIX separators).
        files: Files on disk behind ``image_paths`` (to read bytes from), or None for an image
            held only in memory (``data``).
        fields: Extra fields kept in the record: ``type``, marker fields unless drawn, ``meta``.
        data: Encoded bytes of images drawn in memory, by position (None where ``files`` has it).
    """

    id: str
    question: str
    answer: str
    image_paths: list[str]
    files: list[Path | None]
    fields: dict[str, Any]
    data: list[bytes | None] = field(default_factory=list)

    def image_bytes(self) -> list[bytes]:
        """Encoded bytes of each image (kept in memory, else read from its file)."""
        out = []
        for k, path in enumerate(self.files):
            held = self.data[k] if k < len(self.data) else None
            if held is not None:
                out.append(held)
            elif path is not None:
                out.append(path.read_bytes())
            else:  # pragma: no cover - prepare_samples always sets one of the two
                raise ValueError(f"sample {self.id!r}: image {k} has neither bytes nor a file")
        return out


@dataclass
class ExportReport:
    """What :func:`prepare_samples` did, for the command line to print.

    Attributes:
        seen: Samples read.
        exported: Samples handed to the writer.
        skipped_task: Samples left out by ``tasks``, per task type.
        skipped_images: Samples left out by ``max_images``, per image count.
        undrawn_markers: Exported samples whose marker fields were not drawn (``draw=False``).
        drawn: Images re-encoded with markers.
    """

    seen: int = 0
    exported: int = 0
    skipped_task: Counter[str] = field(default_factory=Counter)
    skipped_images: Counter[int] = field(default_factory=Counter)
    undrawn_markers: int = 0
    drawn: int = 0
    tasks: Counter[str] = field(default_factory=Counter)


def strip_image_tokens(text: str) -> str:
    """Question text without ``<image>`` placeholders (exporters add their own)."""
    return text.replace(IMAGE_TOKEN, "").strip()


def has_markers(sample: dict[str, Any]) -> bool:
    """Whether the sample carries marker fields (its text then refers to drawn markers)."""
    return any(sample.get(k) for k in MARKER_FIELDS)


def relative_to_out(file: Path, out_abs: str) -> str:
    """``file`` relative to the (absolute) export folder, with POSIX separators."""
    return Path(os.path.relpath(os.path.abspath(file), out_abs)).as_posix()


def prepare_samples(
    samples: Iterable[LoadedSample],
    out_dir: str | Path,
    draw: bool = True,
    *,
    tasks: Collection[str] | None = None,
    max_images: int | None = None,
    in_memory: bool = False,
    report: ExportReport | None = None,
    allow_outside: bool = False,
) -> Iterator[Prepared]:
    """Turn loaded samples into :class:`Prepared` records.

    Args:
        samples: Samples with their images roots.
        out_dir: Export folder; image paths are made relative to it.
        draw: Draw markers into copies of the images (the default; see the module docstring).
        tasks: Keep only these task types (``type``); None keeps all.
        max_images: Keep only samples with at most this many images (1 for LLaVA-1.5).
        in_memory: Keep drawn images as bytes instead of writing JPEG files.
        report: Filled in with counts while the iterator is consumed.
        allow_outside: Accept image paths that leave their images root (absolute or ``..``);
            refused by default (:func:`spar3d.paths.resolve_under`).
    """
    out_dir = Path(out_dir)
    out_abs = os.path.abspath(out_dir)
    report = report if report is not None else ExportReport()
    wanted = set(tasks) if tasks else None
    frames = FrameCache()
    for loaded in samples:
        sample = loaded.sample
        report.seen += 1
        task = str(sample.get("type", ""))
        if wanted is not None and task not in wanted:
            report.skipped_task[task] += 1
            continue
        sid = sample.get("id", report.seen - 1)
        names = image_list(sample)
        if max_images is not None and len(names) > max_images:
            report.skipped_images[len(names)] += 1
            continue
        where = f"sample {sid!r}"
        if not all(isinstance(p, str) for p in names):
            raise InputError(f"{where}: field 'image' must hold path strings")
        root = loaded.images_root
        files: list[Path | None] = [
            resolve_under(root, p, where, allow_outside=allow_outside) for p in names
        ]
        n = report.exported
        report.exported += 1
        report.tasks[task] += 1
        question, answer = question_answer(sample)
        keep: dict[str, Any] = {k: sample[k] for k in ("type",) if k in sample}
        paths = [relative_to_out(f, out_abs) for f in files if f is not None]
        data: list[bytes | None] = []
        marked = has_markers(sample)
        if draw and marked:
            images = draw_markers([frames.get(f, where) for f in files if f is not None], sample)
            report.drawn += len(images)
            for k, image in enumerate(images):
                encoded = _jpeg_bytes(image)
                rel = f"images/{n // IMAGES_PER_DIR:05d}/{n:08d}_{k}.jpg"
                if in_memory:
                    data.append(encoded)
                    files[k] = None
                else:
                    target = out_dir / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(encoded)
                    files[k] = target
                paths[k] = rel
        elif marked:
            report.undrawn_markers += 1
            keep.update({k: sample[k] for k in MARKER_FIELDS if k in sample})
        if "meta" in sample:
            keep["meta"] = sample["meta"]
        yield Prepared(str(sid), strip_image_tokens(question), answer, paths, files, keep, data)


class FrameCache:
    """The last ``size`` decoded frames: SPAR files ask many questions about each frame in a
    row (grouped by scene), so most samples skip the JPEG decode. ``draw_markers`` copies."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[Path, Image.Image] = OrderedDict()

    def get(self, path: Path, where: str) -> Image.Image:
        image = self._items.get(path)
        if image is not None:
            self._items.move_to_end(path)
            return image
        image = self._items[path] = open_rgb(path, where)
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return image


def _jpeg_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def write_json_array(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Stream rows into one JSON array (atomic), one row per line; returns the count."""
    n = 0
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write("[")
        for row in rows:
            fh.write(",\n" if n else "\n")
            fh.write(json.dumps(row, ensure_ascii=False))
            n += 1
        fh.write("\n]\n")
    return n


def image_placeholders(n: int, style: str = "plain") -> str:
    """The ``<image>`` placeholders put before a question for ``n`` images.

    ``plain``: ``<image>\\n`` per image (LLaVA, Qwen2.5-VL fine-tune, LLaMA-Factory).
    ``numbered``: ``Image-1: <image>\\n`` ... for several images (InternVL's multi-image data
    convention; one image is a bare ``<image>\\n``). ``none``: no placeholder (SPAR's own
    loader, which adds the image tokens itself).
    """
    if style == "none" or n == 0:
        return ""
    if style == "numbered" and n > 1:
        return "".join(f"Image-{k + 1}: {IMAGE_TOKEN}\n" for k in range(n))
    return f"{IMAGE_TOKEN}\n" * n
