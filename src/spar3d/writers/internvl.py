"""InternVL fine-tuning data: a JSONL annotation file and the meta JSON that names it.

What upstream InternVL's ``internvl_chat_finetune.py`` (``build_datasets`` and
``LazySupervisedDataset``) reads, restated:

- the meta JSON maps a dataset name to ``root`` (joined with each image path by
  ``os.path.join``), ``annotation`` (must end in ``jsonl``), ``data_augment`` (read as
  ``ds_collections[name]['data_augment']``: a missing key is a KeyError), ``repeat_time``
  (below 1 keeps the first ``int(len * repeat_time)`` lines; above 1 must be an ``int``:
  ``assert isinstance(repeat_time, int)``) and ``length``;
- each line has ``conversations`` (``from`` human/gpt, ``value``) and ``image``; a list of images
  takes the multi-image path, whose ``preprocess_internvl2_5`` replaces one ``<image>`` per image
  in the human turns and asserts the count equals the number of images.

So the human turn gets one ``<image>`` per image (``Image-1: <image>`` numbering for several,
InternVL's multi-image convention); ``placeholders="none"`` keeps SPAR's own placeholder-free
form, for SPAR's fork of the loader that inserts the image tokens itself.

Record::

    {"id": ..., "image": ["images/00000/00000012_0.jpg", ...],
     "conversations": [{"from": "human", "value": "Image-1: <image>\\nImage-2: <image>\\nQ"},
                       {"from": "gpt", "value": "A"}], "type": ...}
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spar3d.data.export import Prepared, image_placeholders
from spar3d.errors import ConfigError
from spar3d.io import write_json, write_jsonl

PLACEHOLDER_STYLES = ("numbered", "plain", "none")


def internvl_record(p: Prepared, placeholders: str = "numbered") -> dict[str, Any]:
    """One InternVL annotation line."""
    record: dict[str, Any] = {"id": p.id, "image": list(p.image_paths)}
    record["conversations"] = [
        {
            "from": "human",
            "value": image_placeholders(len(p.image_paths), placeholders) + p.question,
        },
        {"from": "gpt", "value": p.answer},
    ]
    record.update(p.fields)
    return record


def meta_entry(root: str, annotation: str, length: int, repeat_time: int | float = 1) -> dict:
    """One dataset of an InternVL meta JSON (every key upstream ``build_datasets`` reads)."""
    return {
        "root": root,
        "annotation": annotation,
        "data_augment": False,
        "repeat_time": repeat_time,
        "length": length,
    }


def write_internvl(
    records: Iterable[Prepared],
    out_dir: str | Path,
    name: str = "spar3d",
    placeholders: str = "numbered",
) -> tuple[Path, Path, int]:
    """Write ``<out>/<name>.jsonl`` and ``<out>/<name>_meta.json``; returns (jsonl, meta, count).

    ``root`` and ``annotation`` in the meta are absolute, since InternVL resolves them from
    whatever folder training is launched in; the image paths in the lines stay relative to
    ``root`` (the export folder), so moving the folder only needs the two meta paths edited.
    """
    if placeholders not in PLACEHOLDER_STYLES:
        raise ConfigError(
            f"--placeholders must be one of {PLACEHOLDER_STYLES}, got {placeholders!r}"
        )
    out_dir = Path(out_dir)
    jsonl = out_dir / f"{name}.jsonl"
    n = write_jsonl(jsonl, (internvl_record(p, placeholders) for p in records))
    meta = out_dir / f"{name}_meta.json"
    root = os.path.abspath(out_dir)
    write_json(meta, {name: meta_entry(root, os.path.abspath(jsonl), n)})
    return jsonl, meta, n
