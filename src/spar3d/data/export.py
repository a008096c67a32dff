"""What every exporter shares: images (paths, or copies with markers drawn) and kept fields.

Two modes (``draw``):

- ``False`` (default): images are referenced where they are (``<images_root>/<image>``, joined
  as the root was given) and marker fields ride along in the record, as in SPAR-7M.
- ``True``: markers are drawn into JPEG copies under ``<out>/images/`` and the marker fields are
  dropped, since the pixels now carry them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from spar3d.data.sample import MARKER_FIELDS, LoadedSample, image_list, question_answer
from spar3d.io import atomic_open
from spar3d.markers.draw import draw_sample

JPEG_QUALITY = 95
IMAGE_TOKEN = "<image>"


@dataclass
class Prepared:
    """One sample ready for a writer.

    Attributes:
        id: Sample id.
        question: Question text, without image tokens.
        answer: Answer text.
        image_paths: Image paths for the record (relative to the export folder when drawn).
        files: Files on disk behind ``image_paths`` (to read bytes from).
        fields: Extra fields kept in the record: ``type``, marker fields unless drawn, ``meta``.
    """

    id: str
    question: str
    answer: str
    image_paths: list[str]
    files: list[Path]
    fields: dict[str, Any]

    def image_bytes(self) -> list[bytes]:
        """Encoded bytes of each image file."""
        return [p.read_bytes() for p in self.files]


def strip_image_tokens(text: str) -> str:
    """Question text without ``<image>`` placeholders (exporters add their own)."""
    return text.replace(IMAGE_TOKEN, "").strip()


def prepare_samples(
    samples: Iterable[LoadedSample], out_dir: str | Path, draw: bool = False
) -> Iterator[Prepared]:
    """Turn loaded samples into :class:`Prepared` records, drawing markers when ``draw``."""
    out_dir = Path(out_dir)
    for n, loaded in enumerate(samples):
        sample = loaded.sample
        question, answer = question_answer(sample)
        keep = {k: sample[k] for k in ("type",) if k in sample}
        if draw:
            # Counter-based names: SPAR ids repeat across task files.
            paths, files = [], []
            for k, image in enumerate(draw_sample(sample, loaded.images_root)):
                rel = f"images/{n:08d}_{k}.jpg"
                _save_jpeg(image, out_dir / rel)
                paths.append(rel)
                files.append(out_dir / rel)
        else:
            files = [loaded.images_root / p for p in image_list(sample)]
            paths = [p.as_posix() for p in files]
            keep.update({k: sample[k] for k in MARKER_FIELDS if k in sample})
        if "meta" in sample:
            keep["meta"] = sample["meta"]
        yield Prepared(
            str(sample.get("id", n)), strip_image_tokens(question), answer, paths, files, keep
        )


def _save_jpeg(image: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=JPEG_QUALITY)
    path.write_bytes(buf.getvalue())


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
