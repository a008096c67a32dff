"""Reading a SPAR-Bench copy (Parquet, the Hugging Face ``datasets`` layout) into samples.

The benchmark is one Parquet file or a folder of shards with the columns listed in docs/formats.md §4.
``image`` is a list of Image features, which ``datasets`` stores as structs ``{bytes, path}``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spar3d.errors import InputError
from spar3d.io import open_parquet, settle_commit
from spar3d.paths import resolve_under

REQUIRED_COLUMNS = ("id", "task", "image", "question", "answer")


@dataclass(frozen=True)
class BenchSample:
    """One benchmark row.

    Attributes:
        id: The row's ``id``.
        task: Task name, e.g. ``depth_prediction_oc``.
        question: Question text as stored (no prompt added).
        answer: Ground-truth answer string.
        images: Encoded image files (PNG/JPEG bytes), in the row's order.
        extra: The other columns (``img_type``, ``format_type``, ``source``, ...), unchanged.
    """

    id: int
    task: str
    question: str
    answer: str
    images: tuple[bytes, ...]
    extra: dict[str, Any] = field(default_factory=dict)


def bench_files(path: str | Path) -> list[Path]:
    """The Parquet files of a benchmark: ``path`` itself, or every ``*.parquet`` under a folder."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
        if not files:
            raise FileNotFoundError(f"{path}: no *.parquet files in this folder")
        return files
    if not path.is_file():
        raise FileNotFoundError(f"{path}: benchmark file not found")
    return [path]


def bench_revision(path: str | Path) -> str:
    """A content hash of the benchmark's Parquet files (sha256 over names and bytes).

    Part of every cache key, so that predictions made on another copy of the benchmark are never
    served for this one.
    """
    root = Path(path)
    digest = hashlib.sha256()
    for file in bench_files(root):
        name = file.relative_to(root).as_posix() if root.is_dir() else file.name
        digest.update(name.encode() + b"\0")
        with open(file, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def _image_bytes(
    value: Any, where: str, base: Path, root: Path, allow_outside_root: bool = False
) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, dict):
        data = value.get("bytes")
        if data:
            return bytes(data)
        img_path = value.get("path")
        # An image stored by path only: relative paths are relative to the Parquet file.
        if img_path:
            rel = os.path.relpath(os.path.join(base, str(img_path)), root)
            resolved = resolve_under(root, rel, f"{where} path", allow_outside=allow_outside_root)
            if resolved.is_file():
                return resolved.read_bytes()
        raise InputError(f"{where}: image has neither bytes nor a readable path ({img_path!r})")
    raise InputError(f"{where}: unsupported image value of type {type(value).__name__}")


def _row_to_sample(
    row: dict[str, Any], where: str, base: Path, root: Path, allow_outside_root: bool = False
) -> BenchSample:
    missing = [c for c in REQUIRED_COLUMNS if c not in row]
    if missing:
        raise InputError(f"{where}: missing column(s) {', '.join(missing)}")
    for column in REQUIRED_COLUMNS[:2] + REQUIRED_COLUMNS[3:]:
        if row[column] is None:
            raise InputError(f"{where}: column {column!r} is null")
    images = row["image"]
    if images is None:
        images = []
    elif not isinstance(images, Sequence) or isinstance(images, (bytes, str, dict)):
        images = [images]
    extra = {k: v for k, v in row.items() if k not in REQUIRED_COLUMNS}
    return BenchSample(
        id=int(row["id"]),
        task=str(row["task"]),
        question=str(row["question"]),
        answer=str(row["answer"]),
        images=tuple(
            _image_bytes(img, f"{where} image {i}", base, root, allow_outside_root)
            for i, img in enumerate(images)
        ),
        extra=extra,
    )


def load_bench(path: str | Path, allow_outside_root: bool = False) -> list[BenchSample]:
    """Load every row of a benchmark (one Parquet file or a folder of shards), in file order.

    Args:
        path: A ``.parquet`` file or a folder containing ``*.parquet`` shards.
        allow_outside_root: Read images stored by a path that leads outside the benchmark
            (the folder given, or the Parquet file's folder); refused by default.

    Returns:
        The samples; ids are checked to be unique.

    Raises:
        FileNotFoundError: No benchmark file at ``path``.
        InputError: A required column is missing or null, an image cannot be read, or an id
            repeats.
        UnsafeInputError: An image path leads outside the benchmark.
    """
    root = Path(path) if Path(path).is_dir() else Path(path).parent
    for folder in (root, root.parent):  # the bench folder, given as itself, data/ or a file
        settle_commit(folder)
    samples: list[BenchSample] = []
    seen: dict[int, str] = {}
    for file in bench_files(path):
        # Batches keep the peak memory near the decoded samples rather than twice the file.
        pf = open_parquet(file)
        rows = (r for b in pf.iter_batches(batch_size=256) for r in b.to_pylist())
        for i, row in enumerate(rows):
            where = f"{file} row {i}"
            sample = _row_to_sample(row, where, file.parent, root, allow_outside_root)
            if sample.id in seen:
                raise InputError(f"{where}: duplicate id {sample.id} (first at {seen[sample.id]})")
            seen[sample.id] = where
            samples.append(sample)
    return samples
