"""Hugging Face dataset export: sharded Parquet of chat messages + embedded images, and a card.

Columns: ``id``, ``type`` (strings), ``messages`` (list of ``{role, content}`` where ``content``
is a list of parts ``{"type": "image"}`` / ``{"type": "text", "text": ...}``), ``images`` (list
of HF ``Image`` structs ``{bytes, path}``), ``markers`` and ``meta`` (JSON text; empty when the
markers were drawn or the sample has no meta).

The user turn holds one ``{"type": "image"}`` part per image, images first, then the question:
exactly what TRL's ``prepare_multimodal_messages`` fills (it counts image parts without an
``image`` payload and requires that count to equal ``len(images)``), and what processors'
``apply_chat_template`` renders. The text carries no literal ``<image>`` token. A content part
has no ``image`` field at all (a null one would count as filled).

The schema metadata carries the ``huggingface`` features, so
``datasets.load_dataset("parquet", data_files=..., streaming=True)`` decodes ``images`` into PIL
images, and ``datasets.load_dataset(<out>)`` reads the card's ``configs`` to find the shards.

Shards are ``<out>/data/train-<i>-of-<n>.parquet``, each closed when it reaches
``rows_per_shard`` rows or ``max_shard_bytes`` of image bytes; memory holds one row group.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from spar3d.data.export import Prepared
from spar3d.data.sample import MARKER_FIELDS
from spar3d.errors import InputError
from spar3d.io import atomic_open

_STRING = {"dtype": "string", "_type": "Value"}
FEATURES: dict[str, Any] = {
    "id": _STRING,
    "type": _STRING,
    "messages": [{"role": _STRING, "content": [{"type": _STRING, "text": _STRING}]}],
    "images": [{"_type": "Image"}],
    "markers": _STRING,
    "meta": _STRING,
}
PART = pa.struct([("type", pa.string()), ("text", pa.string())])
MESSAGE = pa.struct([("role", pa.string()), ("content", pa.list_(PART))])
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("type", pa.string()),
        ("messages", pa.list_(MESSAGE)),
        ("images", pa.list_(pa.struct([("bytes", pa.binary()), ("path", pa.string())]))),
        ("markers", pa.string()),
        ("meta", pa.string()),
    ],
    metadata={"huggingface": json.dumps({"info": {"features": FEATURES}})},
)
MAX_SHARD_BYTES = 500 * 2**20  # the size the Hub's own Parquet conversion aims for


def chat_messages(question: str, answer: str, n_images: int) -> list[dict[str, Any]]:
    """User turn (``n_images`` image parts, then the question) and assistant turn, as parts."""
    user = [{"type": "image", "text": None} for _ in range(n_images)]
    user.append({"type": "text", "text": question})
    return [
        {"role": "user", "content": user},
        {"role": "assistant", "content": [{"type": "text", "text": answer}]},
    ]


def hf_row(p: Prepared) -> dict[str, Any]:
    """One row; image bytes are the files' encoded bytes (JPEG/PNG), not re-encoded."""
    markers = {k: p.fields[k] for k in MARKER_FIELDS if k in p.fields}
    return {
        "id": p.id,
        "type": str(p.fields.get("type", "")),
        "messages": chat_messages(p.question, p.answer, len(p.image_paths)),
        "images": [
            {"bytes": data, "path": path}
            for data, path in zip(p.image_bytes(), p.image_paths, strict=True)
        ],
        "markers": json.dumps(markers) if markers else "",
        "meta": json.dumps(p.fields["meta"], ensure_ascii=False) if "meta" in p.fields else "",
    }


def write_hf_dataset(
    records: Iterable[Prepared],
    out_dir: str | Path,
    rows_per_shard: int = 100_000,
    rows_per_group: int = 64,
    split: str = "train",
    max_shard_bytes: int = MAX_SHARD_BYTES,
    card: dict[str, Any] | None = None,
) -> list[Path]:
    """Write Parquet shards under ``<out_dir>/data`` and ``<out_dir>/README.md``.

    Args:
        records: Prepared samples.
        out_dir: Export folder.
        rows_per_shard: Most rows in one shard.
        rows_per_group: Rows per Parquet row group (what a streaming reader holds at once).
        split: Split name in the shard file names.
        max_shard_bytes: A shard is closed once its image bytes reach this.
        card: Extra facts for the dataset card (``source``, ``command``, ``markers``).

    Returns:
        The shards' final paths.

    Raises:
        InputError: ``records`` is empty.
    """
    data_dir = Path(out_dir) / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp_paths: list[Path] = []
    writer: pq.ParquetWriter | None = None
    batch: list[dict[str, Any]] = []
    in_shard = shard_bytes = 0
    tasks: Counter[str] = Counter()
    images = 0

    def flush() -> None:
        if batch and writer is not None:
            writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
            batch.clear()

    try:
        for p in records:
            if writer is None:
                tmp = data_dir / f".{split}-{len(tmp_paths):05d}.parquet.tmp"
                tmp_paths.append(tmp)
                writer = pq.ParquetWriter(tmp, SCHEMA)
            row = hf_row(p)
            batch.append(row)
            tasks[row["type"]] += 1
            images += len(row["images"])
            in_shard += 1
            shard_bytes += sum(len(im["bytes"]) for im in row["images"])
            if len(batch) >= rows_per_group:
                flush()
            if in_shard >= rows_per_shard or shard_bytes >= max_shard_bytes:
                flush()
                writer.close()
                writer, in_shard, shard_bytes = None, 0, 0
        flush()
    finally:
        if writer is not None:
            writer.close()
    if not tmp_paths:  # datasets cannot read a Parquet file without rows
        raise InputError(f"no samples to export to {data_dir} (check --tasks / --max-images)")
    # The shard count is known only at the end, so shards get their final names last.
    final = [
        data_dir / f"{split}-{i:05d}-of-{len(tmp_paths):05d}.parquet" for i in range(len(tmp_paths))
    ]
    for old in data_dir.glob(f"{split}-*-of-*.parquet"):  # a previous export's shards
        if old not in final:
            old.unlink()
    for tmp, path in zip(tmp_paths, final, strict=True):
        os.replace(tmp, path)
    write_card(Path(out_dir), split, tasks, images, len(final), card or {})
    return final


def write_card(
    out_dir: Path, split: str, tasks: Counter[str], images: int, shards: int, facts: dict
) -> Path:
    """``README.md``: YAML header (configs, features, split size), task counts, how it was made."""
    n = sum(tasks.values())
    header = [
        "---",
        "license: other",
        "task_categories:",
        "- visual-question-answering",
        "tags:",
        "- spatial-reasoning",
        "- spar3d",
        "configs:",
        "- config_name: default",
        "  data_files:",
        f"  - split: {split}",
        f"    path: data/{split}-*.parquet",
        "dataset_info:",
        "  features:",
        "  - name: id",
        "    dtype: string",
        "  - name: type",
        "    dtype: string",
        "  - name: messages",
        "    list:",
        "    - name: role",
        "      dtype: string",
        "    - name: content",
        "      list:",
        "      - name: type",
        "        dtype: string",
        "      - name: text",
        "        dtype: string",
        "  - name: images",
        "    list: image",
        "  - name: markers",
        "    dtype: string",
        "  - name: meta",
        "    dtype: string",
        "  splits:",
        f"  - name: {split}",
        f"    num_examples: {n}",
        "---",
    ]
    rows = "\n".join(f"| {t or '(none)'} | {c} |" for t, c in sorted(tasks.items()))
    markers = facts.get("markers", "drawn into the images")
    body = f"""
# Spatial QA in the SPAR-7M style (made with spar3d)

{n} samples, {images} images, {shards} Parquet shard(s) under `data/`.

Each row is one question about one or more views of an indoor scene: `messages` holds the user
turn (one `{{"type": "image"}}` part per image, then the question) and the assistant's answer;
`images` holds the encoded images in the same order. Markers the question refers to ("the red
point") are {markers}. `markers` keeps the raw marker fields when they were not drawn;
`meta` keeps spar3d's provenance (scene, task, answer format, seed).

## Load

```python
from datasets import load_dataset
ds = load_dataset("parquet", data_files="data/{split}-*.parquet", split="{split}")
# or, without reading it all first:
ds = load_dataset("parquet", data_files="data/{split}-*.parquet", split="{split}", streaming=True)
```

TRL's `SFTTrainer` takes the rows as they are (`messages` + `images`); `spar3d train` mixes
them with a general dataset.

## Task counts

| task | samples |
|---|---|
{rows}

## How it was made

Generated from 3D-annotated scenes by spar3d (`spar3d generate`), exported with
`{facts.get("command", "spar3d export --format hf")}` from `{facts.get("source", "?")}`.

## Licence

The questions and answers are derived from the scenes' 3D annotations; the images are the
scenes' own frames. Both stay under the licence of the scene dataset they came from (for
example the ScanNet Terms of Use, which forbid redistribution without permission); check it
before sharing this folder. Data made from spar3d's synthetic scenes has no such restriction.
"""
    path = out_dir / "README.md"
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(header) + "\n" + body)
    return path
