"""Training data: spar3d's HF export, a general dataset, and their SPAR-mix.

Both sides end up with the same two columns, ``messages`` (content as ``{"type": "image"}`` /
``{"type": "text", "text": ...}`` parts, the layout of ``spar3d export --format hf``) and
``images`` (HF ``Image`` list). Datasets stay memory-mapped Arrow/Parquet: a mix is a list of
row indices into them, so nothing is decoded until the collator asks for a batch.

A general dataset is one of:

- a folder written by ``spar3d export --format hf`` or any folder of Parquet files with
  ``messages`` + ``images`` columns (``data/*.parquet`` or ``*.parquet``);
- a folder written by ``datasets.Dataset.save_to_disk``;
- a JSONL file of ``{"messages": [{"role", "content"}], "images": [path, ...]}`` lines, content
  a string (``<image>`` placeholders mark where images go; none puts them first, as TRL does)
  or a list of parts; image paths are relative to the JSONL's folder and may not leave it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from spar3d.errors import ConfigError, InputError
from spar3d.io import read_jsonl_numbered
from spar3d.paths import resolve_under

_IMAGE = "<image>"


def features() -> Any:
    """The ``datasets.Features`` both sides of a mix are cast to."""
    import datasets

    part = {"type": datasets.Value("string"), "text": datasets.Value("string")}
    message = {"role": datasets.Value("string"), "content": datasets.List(part)}
    return datasets.Features(
        {"messages": datasets.List(message), "images": datasets.List(datasets.Image())}
    )


def structured(messages: list[dict[str, Any]], n_images: int, where: str) -> list[dict[str, Any]]:
    """Messages with every content as parts; ``<image>`` in a string becomes an image part.

    A string without placeholders gets its images before the text of the first user turn
    (TRL's ``prepare_multimodal_messages`` rule). Raises :class:`InputError` when the image
    parts do not number ``n_images``.
    """
    out: list[dict[str, Any]] = []
    placed = 0
    for m in messages:
        if not isinstance(m, dict) or "role" not in m:
            raise InputError(f"{where}: every message needs a 'role' and a 'content'")
        content = m.get("content")
        if isinstance(content, str):
            parts: list[dict[str, Any]] = []
            for piece in re.split(f"({re.escape(_IMAGE)})", content):
                if piece == _IMAGE:
                    parts.append({"type": "image", "text": None})
                elif piece.strip():
                    parts.append({"type": "text", "text": piece.strip()})
        elif isinstance(content, list):
            parts = [{"type": p.get("type"), "text": p.get("text")} for p in content]
        else:
            raise InputError(f"{where}: message content must be text or a list of parts")
        placed += sum(p["type"] == "image" for p in parts)
        out.append({"role": str(m["role"]), "content": parts})
    if placed == 0 and n_images:
        first = next((m for m in out if m["role"] == "user"), None)
        if first is None:
            raise InputError(f"{where}: {n_images} images but no user turn to put them in")
        first["content"] = [{"type": "image", "text": None}] * n_images + first["content"]
        placed = n_images
    if placed != n_images:
        raise InputError(f"{where}: {placed} image placeholders for {n_images} images")
    return out


def _parquet_files(folder: Path) -> list[str]:
    files = sorted(folder.glob("data/*.parquet")) or sorted(folder.glob("*.parquet"))
    return [str(p) for p in files]


def load_chat_dataset(
    path: str | Path, cache_dir: str | Path | None = None, streaming: bool = False
) -> Any:
    """Load an HF export folder, a ``save_to_disk`` folder or a chat JSONL (module docstring).

    ``streaming`` returns an ``IterableDataset`` that reads Parquet row group by row group
    (no Arrow copy of the data on disk, memory bounded by a row group).
    """
    import datasets
    import pyarrow.dataset

    path = Path(path)
    if path.is_dir():
        files = _parquet_files(path)
        if files:
            # pre_buffer=False: pyarrow otherwise buffers whole column chunks ahead, which for
            # rows of embedded images held about twice a shard in memory while streaming.
            scan = pyarrow.dataset.ParquetFragmentScanOptions(pre_buffer=False)
            ds = datasets.load_dataset(
                "parquet", data_files=files, split="train", cache_dir=cache_dir,
                streaming=streaming, fragment_scan_options=scan,
            )  # fmt: skip
        elif (path / "dataset_info.json").is_file() or (path / "state.json").is_file():
            ds = datasets.load_from_disk(str(path))
            ds = ds.to_iterable_dataset() if streaming else ds
        else:
            raise ConfigError(f"{path}: no Parquet files and not a datasets.save_to_disk folder")
        missing = {"messages", "images"} - set(ds.column_names or [])
        if missing:
            raise InputError(f"{path}: dataset lacks column(s) {sorted(missing)}")
        ds = ds.select_columns(["messages", "images"])
        return ds.cast(features()) if ds.features != features() else ds
    if path.is_file():
        ds = _jsonl_dataset(path, cache_dir)
        return ds.to_iterable_dataset() if streaming else ds
    raise ConfigError(f"general data not found: {path}")


def _jsonl_dataset(path: Path, cache_dir: str | Path | None) -> Any:
    import datasets

    root = path.parent

    def rows() -> Any:
        for n, item in read_jsonl_numbered(path):
            where = f"{path}:{n}"
            images = item.get("images") or []
            if isinstance(images, str):
                images = [images]
            files = [str(resolve_under(root, str(p), where)) for p in images]
            for f in files:
                if not Path(f).is_file():
                    raise InputError(f"{where}: image not found: {f}")
            yield {
                "messages": structured(item.get("messages") or [], len(files), where),
                "images": files,
            }

    return datasets.Dataset.from_generator(rows, features=features(), cache_dir=cache_dir)


def uniform_indices(n_rows: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` row indices drawn uniformly: whole shuffled passes, then a sample without repeats."""
    if n_rows == 0:
        raise InputError("cannot sample from an empty dataset")
    passes, rest = divmod(n, n_rows)
    parts = [rng.permutation(n_rows) for _ in range(passes)]
    parts.append(rng.choice(n_rows, rest, replace=False))
    return np.concatenate(parts).astype(np.int64)


def spar_mix(
    spar: Any, general: Any | None, ratio: float, budget: int, seed: int = 0
) -> tuple[Any, dict[str, int]]:
    """SPAR-mix: ``round(ratio * budget)`` SPAR rows and the rest general rows, shuffled.

    Each side is sampled uniformly (whole passes when the budget asks for more rows than it
    has), as the paper samples SPAR-7M and EMOVA. Returns the mixed dataset and the counts.

    Raises:
        ConfigError: ``ratio < 1`` without a general dataset.
    """
    import datasets

    rng = np.random.default_rng(seed)
    n_spar = int(round(ratio * budget))
    n_general = budget - n_spar
    if n_general and general is None:
        raise ConfigError(
            f"spar_ratio {ratio} leaves {n_general} of {budget} samples to general data: "
            "name one with --general-data, or set --spar-ratio 1"
        )
    parts = [spar.select(uniform_indices(len(spar), n_spar, rng))]
    if n_general and general is not None:
        parts.append(general.select(uniform_indices(len(general), n_general, rng)))
    mixed = datasets.concatenate_datasets(parts) if len(parts) > 1 else parts[0]
    return mixed.shuffle(seed=seed), {"spar": n_spar, "general": n_general}


def spar_mix_streaming(
    spar: Any, general: Any | None, ratio: float, budget: int, seed: int = 0
) -> tuple[Any, dict[str, int]]:
    """SPAR-mix over streamed datasets: each row is drawn from SPAR with probability
    ``ratio``, else from the general data; both sides cycle (a shuffle buffer of 1,000 rows
    per side), and the stream stops after ``budget`` rows. The counts returned are expected
    values; the realised split is binomial around them."""
    import datasets

    n_spar = int(round(ratio * budget))
    if budget - n_spar and general is None:
        raise ConfigError(
            f"spar_ratio {ratio} leaves {budget - n_spar} of {budget} samples to general data: "
            "name one with --general-data, or set --spar-ratio 1"
        )
    sides = [spar.shuffle(seed=seed, buffer_size=1000).repeat(None)]
    if general is not None and ratio < 1:
        sides.append(general.shuffle(seed=seed + 1, buffer_size=1000).repeat(None))
        mixed = datasets.interleave_datasets(sides, probabilities=[ratio, 1 - ratio], seed=seed)
    else:
        mixed = sides[0]
    return mixed.take(budget), {"spar": n_spar, "general": budget - n_spar}
