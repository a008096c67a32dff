"""Category names: the NYU40 table and ScanNet's ``scannetv2-labels.combined.tsv`` mapping.

ScanNet annotations carry free-text "raw" labels (``"office chair"``); the combined TSV maps
each raw label to a cleaned ``category`` (``"office chair"``), an ``nyu40id`` and an
``nyu40class`` (``"chair"``). Preprocessed exports (VoteNet / mmdetection3d) keep only the
NYU40 ids, which :data:`NYU40_NAMES` turns back into names.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from spar3d.scenes.loaders import SceneLoadError

LABEL_MAP_FILENAME = "scannetv2-labels.combined.tsv"
LABEL_COLUMNS = ("category", "nyu40class")

# NYU40 class names by id, as in the ``nyu40class`` column of ScanNet's combined TSV, with its
# "refridgerator" typo corrected so names read as English.
NYU40_NAMES: dict[int, str] = {
    1: "wall",
    2: "floor",
    3: "cabinet",
    4: "bed",
    5: "chair",
    6: "sofa",
    7: "table",
    8: "door",
    9: "window",
    10: "bookshelf",
    11: "picture",
    12: "counter",
    13: "blinds",
    14: "desk",
    15: "shelves",
    16: "curtain",
    17: "dresser",
    18: "pillow",
    19: "mirror",
    20: "floor mat",
    21: "clothes",
    22: "ceiling",
    23: "books",
    24: "refrigerator",
    25: "television",
    26: "paper",
    27: "towel",
    28: "shower curtain",
    29: "box",
    30: "whiteboard",
    31: "person",
    32: "night stand",
    33: "toilet",
    34: "sink",
    35: "lamp",
    36: "bathtub",
    37: "bag",
    38: "otherstructure",
    39: "otherfurniture",
    40: "otherprop",
}

_SPELLING_FIXES = {"refridgerator": "refrigerator"}


def nyu40_name(nyu40_id: int) -> str:
    """Name of an NYU40 id; ids outside 1..40 (0 is "unannotated") get ``"nyu40_<id>"``."""
    return NYU40_NAMES.get(int(nyu40_id), f"nyu40_{int(nyu40_id)}")


def read_label_map(
    path: str | Path, column: str = "category", key: str = "raw_category"
) -> dict[str, str]:
    """Read ``key -> column`` from a ScanNet combined-labels TSV.

    Args:
        path: The ``scannetv2-labels.combined.tsv`` file (tab-separated, header row).
        column: Target column, ``"category"`` or ``"nyu40class"``.
        key: Source column: ``"raw_category"`` (aggregation labels) or ``"id"`` (the ScanNet
            label ids that ScanNet200 and mmdetection3d's ``--scannet200`` export use).

    Returns:
        Mapping from raw label to mapped name; rows with an empty target are left out.

    Raises:
        SceneLoadError: The file cannot be read or lacks the needed columns.
    """
    if column not in LABEL_COLUMNS:
        raise ValueError(f"label column must be one of {LABEL_COLUMNS}, got {column!r}")
    path = Path(path)
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t")
            fields = reader.fieldnames or []
            missing = [c for c in (key, column) if c not in fields]
            if missing:
                raise SceneLoadError(f"{path}: header lacks column(s) {', '.join(missing)}")
            mapping: dict[str, str] = {}
            for row in reader:
                raw, target = (row.get(key) or "").strip(), (row.get(column) or "")
                target = target.strip()
                if raw and target:
                    mapping[raw] = _SPELLING_FIXES.get(target, target)
    except OSError as exc:
        raise SceneLoadError(f"{path}: cannot read label map ({exc})") from exc
    return mapping


def find_label_map(folders: Iterable[Path]) -> Path | None:
    """The first ``scannetv2-labels.combined.tsv`` found in ``folders``, or None."""
    for folder in folders:
        candidate = Path(folder) / LABEL_MAP_FILENAME
        if candidate.is_file():
            return candidate
    return None


# --- a common vocabulary across sources ----------------------------------------------------

#: Per-source renames into the common vocabulary (ScanNet's ``category`` names, lower case).
#: Every label is first lower-cased, stripped, and has ``_`` replaced by a space; a label not in
#: its source's table is kept as it then reads. The raw label is always kept beside it
#: (``SceneObject.raw_label``). See ``docs/loaders.md`` ("Label maps").
COMMON_LABELS: dict[str, dict[str, str]] = {
    # ARKitScenes 3DOD's 17 classes (threedod/benchmark_scripts/utils/taxonomy.py)
    "arkitscenes": {"tv monitor": "tv", "washer": "washing machine"},
    # ScanNet++ raw labels are free text in ScanNet's style already (lower case, spaces)
    "scannetpp": {},
    # Structured3D (and preprocessed exports) carry NYU40 names already
    "structured3d": {},
}


def common_label(source: str, raw: str) -> str:
    """``raw`` in the common vocabulary of :data:`COMMON_LABELS` for ``source``."""
    label = " ".join(str(raw).replace("_", " ").strip().lower().split())
    return COMMON_LABELS.get(source, {}).get(label, label)
