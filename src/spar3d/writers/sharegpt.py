"""ShareGPT-style JSON for LLaMA-Factory, with its ``dataset_info.json`` entry.

Record::

    {"messages": [{"role": "user", "content": "<image>\n<image>\nQuestion"},
                  {"role": "assistant", "content": "Answer"}],
     "images": ["a.jpg", "b.jpg"], "id": ..., "type": ..., <marker fields>}

LLaMA-Factory requires as many ``<image>`` tokens in the messages as entries in ``images``
(``mm_plugin.py``: "The number of images does not match the number of <image> tokens") and
resolves image paths against the dataset folder (``media_dir``, by default ``dataset_dir``):
the paths here are relative to the export folder, which holds ``dataset_info.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spar3d.data.export import Prepared, image_placeholders, write_json_array
from spar3d.io import write_json


def sharegpt_record(p: Prepared) -> dict[str, Any]:
    """One ShareGPT (OpenAI-style roles) record."""
    return {
        "messages": [
            {"role": "user", "content": image_placeholders(len(p.image_paths)) + p.question},
            {"role": "assistant", "content": p.answer},
        ],
        "images": p.image_paths,
        "id": p.id,
        **p.fields,
    }


def dataset_info_entry(file_name: str) -> dict[str, Any]:
    """The ``dataset_info.json`` entry that tells LLaMA-Factory how to read the file."""
    return {
        "file_name": file_name,
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "images": "images"},
        "tags": {
            "role_tag": "role",
            "content_tag": "content",
            "user_tag": "user",
            "assistant_tag": "assistant",
        },
    }


def write_sharegpt(records: Iterable[Prepared], out_dir: str | Path, name: str = "spar3d") -> int:
    """Write ``<out_dir>/<name>.json`` and add ``name`` to ``<out_dir>/dataset_info.json``.

    An existing ``dataset_info.json`` keeps its other entries.
    """
    out_dir = Path(out_dir)
    path = out_dir / f"{name}.json"
    n = write_json_array(path, (sharegpt_record(p) for p in records))
    info_path = out_dir / "dataset_info.json"
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.exists() else {}
    info[name] = dataset_info_entry(path.name)
    write_json(info_path, info)
    return n
