"""The SPAR-7M directory tree: the one place that spells its folder layout, and its readers.

Layout (the SPAR README's; ``docs/formats.md``)::

    <root>/<source>/qa_jsonl/<split>/<task>/<format>/<format>_<count>.jsonl
    <root>/<source>/images/<scene>/image_color/<frame>.jpg
    <root>/<source>/images/<scene>/image_depth/<frame>.png       (RGBD)
    <root>/<source>/images/<scene>/pose/<frame>.txt              (RGBD; 4x4 camera-to-world)
    <root>/<source>/images/<scene>/intrinsic/intrinsic_color.txt (RGBD; 4x4, or one
                                          intrinsic/<frame>.txt per frame when frames differ)
    <root>/<source>/images/<scene>/video_color/<frame>.jpg       (frames of video samples)
    <root>/<source>/images/<scene>/video_idx.txt                 (video frame ids, capture order)

Writers (:mod:`spar3d.writers.spar7m`), readers, the toy tree and ``bench build`` build paths
with :func:`qa_dir`, :func:`qa_file`, :func:`images_root` and :func:`scene_images_dir`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spar3d.paths import check_component

QA_DIR = "qa_jsonl"
IMAGES_DIR = "images"

_CHUNK = 1 << 20
_NAME_RE = re.compile(r"^(?P<format>[A-Za-z0-9]+)_(?P<count>\d+)\.jsonl$")


@dataclass(frozen=True)
class QAFile:
    """One ``qa_jsonl/<split>/<task>/<format>/<format>_<count>.jsonl`` file.

    Attributes:
        source: Scene dataset (``scannet``, ``rxr``, ...).
        split: ``train`` or ``val``.
        task: Task type folder name.
        format: Answer format folder name (fill, select, sentence, judge).
        path: The file, joined onto the root exactly as the root was given.
        declared_count: The ``<count>`` in the file name, or None when the name has none.
    """

    source: str
    split: str
    task: str
    format: str
    path: Path
    declared_count: int | None

    @property
    def key(self) -> str:
        """Training-index key ``<source>_<task>_<format>``."""
        return f"{self.source}_{self.task}_{self.format}"


def images_root(root: str | Path, source: str) -> Path:
    """``<root>/<source>/images``: what sample ``image`` paths are relative to."""
    return Path(root) / source / IMAGES_DIR


def scene_images_dir(root: str | Path, source: str, scene_id: str) -> Path:
    """``<root>/<source>/images/<scene_id>``; both names must be plain folder names (they come
    from an index file, which could be crafted to hold ``../``)."""
    where = f"scene index of {scene_id!r}"
    return images_root(root, check_component(source, "source", where)) / check_component(
        scene_id, "scene_id", where
    )


def qa_dir(root: str | Path, source: str, split: str, task: str, fmt: str) -> Path:
    """``<root>/<source>/qa_jsonl/<split>/<task>/<format>``."""
    return Path(root) / source / QA_DIR / split / task / fmt


def qa_file(root: str | Path, source: str, split: str, task: str, fmt: str, count: int) -> Path:
    """``qa_dir(...)/<format>_<count>.jsonl``: the file name states its line count."""
    return qa_dir(root, source, split, task, fmt) / f"{fmt}_{count}.jsonl"


def images_root_of_qa_file(path: Path) -> Path | None:
    """``<root>/<source>/images`` for a file at ``qa_jsonl/<split>/<task>/<format>/<file>``,
    or None when ``path`` is not placed like one."""
    parents = path.parents
    if len(parents) > 4 and parents[3].name == QA_DIR:
        return parents[4] / IMAGES_DIR
    return None


def discover_sources(root: str | Path) -> list[str]:
    """Sources under ``root``: sub-folders that hold a ``qa_jsonl`` folder, sorted."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"SPAR-7M root not found: {root}")
    return sorted(p.name for p in root.iterdir() if (p / QA_DIR).is_dir())


def parse_name(path: Path) -> tuple[str, int | None]:
    """Split ``<format>_<count>.jsonl`` into (format, count); count None if the name has none."""
    m = _NAME_RE.match(path.name)
    if m is None:
        return path.stem, None
    return m["format"], int(m["count"])


def scan_tree(
    root: str | Path, sources: Iterable[str] | None = None, split: str = "train"
) -> list[QAFile]:
    """List every QA file of ``split`` under ``root``, sorted by (source, task, format, name).

    Raises:
        FileNotFoundError: a requested source has no ``qa_jsonl/<split>`` folder.
    """
    root = Path(root)
    names = list(sources) if sources else discover_sources(root)
    files: list[QAFile] = []
    for source in names:
        split_dir = root / source / QA_DIR / split
        if not split_dir.is_dir():
            qa = root / source / "qa_jsonl"
            present = sorted(p.name for p in qa.iterdir() if p.is_dir()) if qa.is_dir() else []
            raise FileNotFoundError(
                f"{split_dir}: source {source!r} has no split {split!r}; splits present: "
                f"{', '.join(present) or 'none'} (generate it with `spar3d generate --split "
                f"{split}`)"
            )
        for path in sorted(split_dir.glob("*/*/*.jsonl")):
            fmt_dir, task_dir = path.parent, path.parent.parent
            _, declared = parse_name(path)
            files.append(QAFile(source, split, task_dir.name, fmt_dir.name, path, declared))
    return files


def count_lines(path: str | Path) -> int:
    """Number of lines in a file, counting a last line without ``\\n``; streams 1 MiB chunks."""
    n = 0
    last = b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def line_offsets(path: str | Path) -> np.ndarray:
    """Byte offsets of line starts plus the end of file.

    Returns:
        ``(n_lines + 1,) int64``: line ``i`` spans ``[offsets[i], offsets[i + 1])``.
        8 bytes per line, so 7 M lines cost 56 MB rather than 7 M Python strings.
    """
    parts: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
    pos = 0
    last = b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            arr = np.frombuffer(chunk, dtype=np.uint8)
            nl = np.flatnonzero(arr == 10).astype(np.int64) + (pos + 1)
            parts.append(nl)
            pos += len(chunk)
            last = chunk[-1:]
    if last != b"\n":
        parts.append(np.array([pos], dtype=np.int64))
    return np.concatenate(parts)
