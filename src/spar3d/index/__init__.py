"""Scene index: keyframes, per-view visibility, image records and object records (SPAR appx 7.3-7.4)."""

from spar3d.index.records import (
    INDEX_FILENAME,
    ImageRecord,
    ObjectRecord,
    SceneIndex,
    VisibleObject,
    load_index,
    save_index,
)

__all__ = [
    "INDEX_FILENAME",
    "ImageRecord",
    "ObjectRecord",
    "SceneIndex",
    "VisibleObject",
    "load_index",
    "save_index",
]
