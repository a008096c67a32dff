"""ScanRefer annotations (Chen et al., ECCV 2020): reading them to ground real descriptions.

The released files (``ScanRefer_filtered_train.json``, ``ScanRefer_filtered_val.json``; see
github.com/daveredrum/ScanRefer, ``lib/dataset.py`` and ``benchmark/eval.py``) are ONE JSON list
of objects with the fields::

    {"scene_id": "scene0011_00", "object_id": "0", "object_name": "kitchen_cabinets",
     "ann_id": "0", "description": "this is a kitchen cabinet ...", "token": ["this", ...]}

``object_id`` is the ScanNet instance id (``objectId`` of ``<scene>.aggregation.json``, which
the ScanNet loader keeps as the object id) and ``ann_id`` numbers the descriptions of an object,
both as strings; ``object_name`` uses ``_`` for spaces. ``token`` is optional here. JSON Lines
files with the same fields are accepted too.

The "unique" / "multiple" split: ScanRefer calls a description unique when the target's class is
the only one of its class among the scene's annotated objects (its 18 ScanNet benchmark classes
plus "others", mapped from ``object_name`` with ``scannetv2-labels.combined.tsv``). spar3d counts
the scene index's objects with the target's label instead, which is the same split when the index
labels are those classes (``spar3d index --label-map`` with the nyu40 / benchmark column).

The grounding task ``ground_3d_scanrefer`` reads the file named by the environment variable
``SPAR3D_SCANREFER`` (several separated by ``os.pathsep``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from spar3d.errors import InputError

ENV_SCANREFER = "SPAR3D_SCANREFER"
FIELDS = ("scene_id", "object_id", "object_name", "ann_id", "description")


@dataclass(frozen=True)
class ScanReferAnnotation:
    """One description of one object."""

    scene_id: str
    object_id: int
    object_name: str
    ann_id: str
    description: str

    @property
    def label(self) -> str:
        """``object_name`` with spaces ("kitchen_cabinets" -> "kitchen cabinets")."""
        return self.object_name.replace("_", " ")


def _record(d: Any, where: str) -> ScanReferAnnotation:
    if not isinstance(d, dict):
        raise InputError(f"{where}: expected an object, got {type(d).__name__}")
    missing = [f for f in FIELDS if f not in d]
    if missing:
        raise InputError(f"{where}: missing field(s) {', '.join(missing)}")
    try:
        oid = int(str(d["object_id"]).strip())
    except ValueError:
        raise InputError(f"{where}: object_id {d['object_id']!r} is not an integer") from None
    desc = d["description"]
    if not isinstance(desc, str) or not desc.strip():
        raise InputError(f"{where}: description must be a non-empty string")
    return ScanReferAnnotation(
        str(d["scene_id"]), oid, str(d["object_name"]), str(d["ann_id"]), " ".join(desc.split())
    )


def load_scanrefer(path: str | Path) -> list[ScanReferAnnotation]:
    """Read a ScanRefer JSON list (or JSON Lines) file; errors name the file and entry."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: ScanRefer annotations file not found")
    text = p.read_text(encoding="utf-8")
    if p.suffix == ".jsonl":
        out = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    out.append(_record(json.loads(line), f"{p} line {n}"))
                except json.JSONDecodeError as exc:
                    raise InputError(f"{p} line {n}: not JSON ({exc.msg})") from None
        return out
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(doc, list):
        raise InputError(f"{p}: expected a JSON list of annotations")
    return [_record(d, f"{p} entry {i}") for i, d in enumerate(doc)]


@lru_cache(maxsize=8)
def _by_scene(path: str, mtime_ns: int) -> dict[str, list[ScanReferAnnotation]]:
    out: dict[str, list[ScanReferAnnotation]] = {}
    for a in load_scanrefer(path):
        out.setdefault(a.scene_id, []).append(a)
    return out


def scanrefer_files() -> list[Path]:
    """The existing files named by ``SPAR3D_SCANREFER``."""
    raw = os.environ.get(ENV_SCANREFER, "")
    return [Path(p) for p in raw.split(os.pathsep) if p.strip() and Path(p).is_file()]


def annotations_for(scene_id: str) -> list[ScanReferAnnotation]:
    """The scene's annotations from every ``SPAR3D_SCANREFER`` file, in (object, ann) order."""
    out: list[ScanReferAnnotation] = []
    for f in scanrefer_files():
        out.extend(_by_scene(str(f), f.stat().st_mtime_ns).get(scene_id, []))
    return sorted(out, key=lambda a: (a.object_id, a.ann_id))
