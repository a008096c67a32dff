"""LLaVA-style conversation JSON: one ``<image>`` token per image, multi-image as a list.

Record::

    {"id": ..., "image": "a.jpg" | ["a.jpg", "b.jpg"],
     "conversations": [{"from": "human", "value": "<image>\\n<image>\\nQuestion"},
                       {"from": "gpt", "value": "Answer"}], "type": ..., <marker fields>}

A single image is a string (LLaVA-1.5 opens ``os.path.join(image_folder, image)``, one path);
several are a list (LLaVA-OneVision / LLaVA-NeXT interleave, Qwen2.5-VL's fine-tune loader).
Image paths are relative to the export folder: pass it as ``--image_folder`` (LLaVA) or as the
dataset's ``data_path`` (Qwen2.5-VL). The file is one JSON array, which is what LLaVA's
``--data_path`` reads. ``spar3d export --max-images 1`` keeps only what LLaVA-1.5 can load.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spar3d.data.export import Prepared, image_placeholders, write_json_array


def llava_record(p: Prepared) -> dict[str, Any]:
    """One LLaVA conversation record."""
    tokens = image_placeholders(len(p.image_paths))
    record: dict[str, Any] = {"id": p.id}
    if p.image_paths:
        record["image"] = p.image_paths[0] if len(p.image_paths) == 1 else p.image_paths
    record["conversations"] = [
        {"from": "human", "value": tokens + p.question},
        {"from": "gpt", "value": p.answer},
    ]
    record.update(p.fields)
    return record


def write_llava(records: Iterable[Prepared], path: str | Path) -> int:
    """Stream records into one JSON array at ``path`` (atomic); returns the count."""
    return write_json_array(path, (llava_record(p) for p in records))
