"""Hugging Face dataset export: Parquet shards of messages + images.

Columns: ``id``, ``type`` (strings), ``messages`` (list of {role, content}), ``images``
(list of HF ``Image`` structs ``{bytes, path}``), ``markers`` and ``meta`` (JSON text; empty
when markers were drawn or the sample has no meta). The schema metadata carries the
``huggingface`` features so ``datasets.load_dataset("parquet", data_files=...)`` decodes the
``images`` column into PIL images.

Shards are ``<out>/data/train-<i>-of-<n>.parquet``; each is written incrementally, so memory
holds one row group of images at a time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from spar3d.data.export import IMAGE_TOKEN, Prepared
from spar3d.data.sample import MARKER_FIELDS

_STRING = {"dtype": "string", "_type": "Value"}
FEATURES: dict[str, Any] = {
    "id": _STRING,
    "type": _STRING,
    "messages": [{"role": _STRING, "content": _STRING}],
    "images": [{"_type": "Image"}],
    "markers": _STRING,
    "meta": _STRING,
}
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("type", pa.string()),
        ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
        ("images", pa.list_(pa.struct([("bytes", pa.binary()), ("path", pa.string())]))),
        ("markers", pa.string()),
        ("meta", pa.string()),
    ],
    metadata={"huggingface": json.dumps({"info": {"features": FEATURES}})},
)


def hf_row(p: Prepared) -> dict[str, Any]:
    """One row; image bytes are the files' encoded bytes (JPEG/PNG), not re-encoded."""
    markers = {k: p.fields[k] for k in MARKER_FIELDS if k in p.fields}
    return {
        "id": p.id,
        "type": str(p.fields.get("type", "")),
        "messages": [
            {"role": "user", "content": IMAGE_TOKEN * len(p.image_paths) + p.question},
            {"role": "assistant", "content": p.answer},
        ],
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
    rows_per_shard: int = 1000,
    rows_per_group: int = 64,
    split: str = "train",
) -> list[Path]:
    """Write Parquet shards under ``<out_dir>/data``; returns their final paths.

    Raises:
        ValueError: ``records`` is empty.
    """
    data_dir = Path(out_dir) / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp_paths: list[Path] = []
    writer: pq.ParquetWriter | None = None
    batch: list[dict[str, Any]] = []
    in_shard = 0

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
            batch.append(hf_row(p))
            in_shard += 1
            if len(batch) >= rows_per_group:
                flush()
            if in_shard >= rows_per_shard:
                flush()
                writer.close()
                writer, in_shard = None, 0
        flush()
    finally:
        if writer is not None:
            writer.close()
    if not tmp_paths:  # datasets cannot read a Parquet file without rows
        raise ValueError(f"no samples to export to {data_dir}")
    # The shard count is known only at the end, so shards get their final names last.
    final = [
        data_dir / f"{split}-{i:05d}-of-{len(tmp_paths):05d}.parquet" for i in range(len(tmp_paths))
    ]
    for tmp, path in zip(tmp_paths, final, strict=True):
        os.replace(tmp, path)
    return final
