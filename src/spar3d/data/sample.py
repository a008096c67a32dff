"""Accessors for one SPAR-7M sample (docs/formats.md §1) and readers that yield samples."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spar3d.data.layout import images_root, images_root_of_qa_file, scan_tree
from spar3d.data.mix import data_key_format
from spar3d.errors import InputError
from spar3d.io import read_jsonl
from spar3d.paths import resolve_under

MARKER_FIELDS = (
    *(f"{c}_{k}" for k in ("point", "bbox") for c in ("red", "blue", "green", "yellow")),
    "point_img_idx",
    "bbox_img_idx",
    "point_list",
    "bbox_list",
)


def question_answer(sample: dict[str, Any]) -> tuple[str, str]:
    """The first human turn and the first gpt turn of ``conversations``.

    Raises:
        InputError: the sample has no human or no gpt turn.
    """
    turns = sample.get("conversations")
    if not isinstance(turns, list):
        raise InputError(f"sample {sample.get('id')!r}: 'conversations' must be a list")
    q = next((t.get("value") for t in turns if t.get("from") == "human"), None)
    a = next((t.get("value") for t in turns if t.get("from") == "gpt"), None)
    if q is None or a is None:
        raise InputError(f"sample {sample.get('id')!r}: needs a 'human' and a 'gpt' turn")
    return str(q), str(a)


def image_list(sample: dict[str, Any]) -> list[str]:
    """``image`` as a list (SPAR writes a list; LLaVA-style single strings are accepted)."""
    img = sample.get("image") or []
    return [img] if isinstance(img, str) else list(img)


def scene_of(sample: dict[str, Any]) -> str:
    """Scene of a sample: ``meta.scene`` when present, else the first image's top folder."""
    meta = sample.get("meta") or {}
    if isinstance(meta, dict) and meta.get("scene"):
        return str(meta["scene"])
    images = image_list(sample)
    return images[0].split("/", 1)[0] if images else ""


def format_of(sample: dict[str, Any], default: str = "") -> str:
    """Answer format from ``meta.format`` when the writer recorded it, else ``default``."""
    meta = sample.get("meta") or {}
    return str(meta.get("format", default)) if isinstance(meta, dict) else default


@dataclass(frozen=True)
class LoadedSample:
    """A sample with where its images live and which file/format it came from."""

    sample: dict[str, Any]
    images_root: Path
    format: str
    source: str


def iter_tree_samples(
    root: str | Path,
    sources: Iterable[str] | None = None,
    split: str = "train",
    per_file: int | None = None,
) -> Iterator[LoadedSample]:
    """Samples of a SPAR-7M tree, at most ``per_file`` from each QA file."""
    for qa in scan_tree(root, sources, split):
        for n, sample in enumerate(read_jsonl(qa.path)):
            if per_file is not None and n >= per_file:
                break
            yield LoadedSample(sample, images_root(root, qa.source), qa.format, qa.source)


def iter_jsonl_samples(
    path: str | Path,
    images_root_: str | Path | None = None,
    limit: int | None = None,
    *,
    allow_outside: bool = False,
) -> Iterator[LoadedSample]:
    """Samples of one JSONL (a QA file or a materialised mix).

    Images resolve against ``data_root`` (written by ``spar3d mix --materialize``), else
    ``images_root_``, else ``<file>/../../../../images`` when the file sits in a SPAR tree.
    A ``data_root`` is a path read from the file: relative ones start from the current folder
    (as ``mix`` writes them), and it must lie inside ``images_root_`` when given, else inside the
    current folder, unless ``allow_outside`` (``--allow-outside-root``).

    Raises:
        UnsafeInputError: A ``data_root`` outside that folder.
    """
    path = Path(path)
    fallback = Path(images_root_) if images_root_ else _tree_images_root(path)
    fmt_from_tree = path.parent.name if fallback == _tree_images_root(path) else ""
    base = os.path.abspath(images_root_ or ".")
    for n, sample in enumerate(read_jsonl(path)):
        if limit is not None and n >= limit:
            break
        root = fallback
        if "data_root" in sample:
            where = f"{path}:{n + 1}: field 'data_root'"
            root = resolve_under(base, str(sample["data_root"]), where,
                                 allow_outside=allow_outside, absolute_inside=True)  # fmt: skip
        key = str(sample.get("data_key", ""))
        fmt = format_of(sample, data_key_format(key) if key else fmt_from_tree)
        yield LoadedSample(sample, root, fmt, key.split("_", 1)[0] if key else "")


def _tree_images_root(path: Path) -> Path:
    return images_root_of_qa_file(path) or path.parent


def iter_samples(
    path: str | Path,
    sources: Iterable[str] | None = None,
    split: str = "train",
    per_file: int | None = None,
    limit: int | None = None,
    images_root_: str | Path | None = None,
    *,
    allow_outside: bool = False,
) -> Iterator[LoadedSample]:
    """Samples of a SPAR-7M tree (a folder) or of one JSONL file, at most ``limit`` in all
    (``allow_outside``: see :func:`iter_jsonl_samples`)."""
    path = Path(path)
    if path.is_dir():
        it: Iterator[LoadedSample] = iter_tree_samples(path, sources, split, per_file)
    elif path.is_file():
        it = iter_jsonl_samples(path, images_root_, per_file, allow_outside=allow_outside)
    else:
        raise FileNotFoundError(f"neither a SPAR-7M folder nor a JSONL file: {path}")
    for n, loaded in enumerate(it):
        if limit is not None and n >= limit:
            return
        yield loaded
