"""Image and object records of a scene index, and their JSON file (``spar3d_index.json``).

The file is documented in ``docs/index_format.md``. It holds everything later stages need, so the
task engine reloads it without the mesh: cameras, visible objects with 2D boxes per image, object
boxes and labels, and a voxel-downsampled top-down footprint of the scene for room-size questions.
All coordinates follow ``docs/conventions.md`` (world metres z-up, OpenCV cameras,
``T_world_cam`` camera-to-world, pixel boxes ``x1, y1, x2, y2`` in pixel-edge coordinates).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spar3d.errors import InputError
from spar3d.geometry.boxes import OrientedBox
from spar3d.io import write_json
from spar3d.paths import check_component

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]
INDEX_FILENAME = "spar3d_index.json"
# 2: visible objects carry ``marker_uv`` and images ``noticeable`` (from the instance map)
INDEX_VERSION = 2


def _r(x: float, nd: int = 5) -> float:
    return round(float(x), nd)


@dataclass
class VisibleObject:
    """One object as seen in one image.

    Attributes:
        object_id: Instance id.
        bbox_xyxy: 2D box of its visible pixels, pixel-edge coordinates ``(x1, y1, x2, y2)``.
        visible_fraction: Fraction of the object's vertices that are visible in this view.
        depth_m: Camera-frame z of the object's 3D box centre.
        center_uv: Pixel ``(u, v)`` of the projected 3D box centre (may fall outside the image).
        center_depth_m: Rendered depth at the projected centre pixel (0 if outside / nothing hit).
        marker_uv: Pixel ``(u, v)`` where a point marker of the object is drawn: ``center_uv``
            when the render shows the object there, else the object's visible pixel nearest to
            it; None when no pixel of the object is usable (no point marker possible).
    """

    object_id: int
    bbox_xyxy: tuple[float, float, float, float]
    visible_fraction: float
    depth_m: float
    center_uv: tuple[float, float]
    center_depth_m: float = 0.0
    marker_uv: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "object_id": int(self.object_id),
            "bbox_xyxy": [_r(v, 2) for v in self.bbox_xyxy],
            "visible_fraction": _r(self.visible_fraction, 4),
            "depth_m": _r(self.depth_m),
            "center_uv": [_r(v, 2) for v in self.center_uv],
            "center_depth_m": _r(self.center_depth_m),
            "marker_uv": None if self.marker_uv is None else [_r(v, 2) for v in self.marker_uv],
        }

    @staticmethod
    def from_dict(d: dict[str, Any], legacy: bool = False) -> VisibleObject:
        center = tuple(float(v) for v in d["center_uv"])
        marker = d.get("marker_uv")
        return VisibleObject(
            int(d["object_id"]),
            tuple(float(v) for v in d["bbox_xyxy"]),  # type: ignore[arg-type]
            float(d["visible_fraction"]),
            float(d["depth_m"]),
            center,  # type: ignore[arg-type]
            float(d.get("center_depth_m", 0.0)),
            # an index without instance maps (version 1): the projected centre, unchecked
            center if legacy else None if marker is None else tuple(float(v) for v in marker),  # type: ignore[arg-type]
        )


@dataclass
class ImageRecord:
    """One keyframe.

    Attributes:
        index: Position among the scene's keyframes (capture order), 0-based.
        frame_id: Frame name in the dataset (``"543"``).
        color_path: Colour image path relative to the scene folder (``"color/543.jpg"``).
        depth_path: Depth image path relative to the scene folder, or None.
        width: Colour image width in pixels.
        height: Colour image height in pixels.
        K: ``(3, 3)`` intrinsics of the colour image.
        T_world_cam: ``(4, 4)`` camera-to-world pose.
        visible: Objects visible in this view (question subjects).
        noticeable: Ids of every object with a noticeable visible part in this view (a far
            lower bar than ``visible``; catch-all objects included), ascending.
    """

    index: int
    frame_id: str
    color_path: str
    depth_path: str | None
    width: int
    height: int
    K: F64
    T_world_cam: F64
    visible: list[VisibleObject] = field(default_factory=list)
    noticeable: list[int] = field(default_factory=list)

    def visible_by_id(self) -> dict[int, VisibleObject]:
        return {v.object_id: v for v in self.visible}

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "frame_id": self.frame_id,
            "color_path": self.color_path,
            "depth_path": self.depth_path,
            "width": self.width,
            "height": self.height,
            "K": [[_r(v, 6) for v in row] for row in self.K],
            "T_world_cam": [[_r(v, 8) for v in row] for row in self.T_world_cam],
            "visible": [v.to_dict() for v in self.visible],
            "noticeable": [int(i) for i in self.noticeable],
        }

    @staticmethod
    def from_dict(d: dict[str, Any], legacy: bool = False) -> ImageRecord:
        visible = [VisibleObject.from_dict(v, legacy) for v in d.get("visible", [])]
        noticeable = d.get("noticeable")
        if noticeable is None:  # version 1: only the visible objects are known
            noticeable = sorted(v.object_id for v in visible)
        return ImageRecord(
            int(d["index"]),
            str(d["frame_id"]),
            str(d["color_path"]),
            d.get("depth_path"),
            int(d["width"]),
            int(d["height"]),
            np.asarray(d["K"], dtype=np.float64),
            np.asarray(d["T_world_cam"], dtype=np.float64),
            visible,
            [int(i) for i in noticeable],
        )


@dataclass
class ObjectRecord:
    """One annotated object.

    Attributes:
        object_id: Instance id.
        label: Category name.
        box: Oriented 3D box in world coordinates (``box.center`` is "the 3D center point").
        image_indices: Indices of the image records that see it, ascending.
        num_vertices: How many mesh vertices / points belong to it.
    """

    object_id: int
    label: str
    box: OrientedBox
    image_indices: list[int] = field(default_factory=list)
    num_vertices: int = 0

    @property
    def center(self) -> F64:
        return self.box.center

    def to_dict(self) -> dict[str, Any]:
        b = self.box.to_dict()
        return {
            "object_id": int(self.object_id),
            "label": self.label,
            "center": [_r(v) for v in b["center"]],
            "size": [_r(v) for v in b["size"]],
            "R_world_box": [[_r(v, 6) for v in row] for row in self.box.R_world_box],
            "image_indices": [int(i) for i in self.image_indices],
            "num_vertices": int(self.num_vertices),
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> ObjectRecord:
        return ObjectRecord(
            int(d["object_id"]),
            str(d["label"]),
            OrientedBox.from_dict(d),
            [int(i) for i in d.get("image_indices", [])],
            int(d.get("num_vertices", 0)),
        )


@dataclass
class SceneIndex:
    """Everything the task engine needs from one scene.

    Attributes:
        scene_id: Scene name.
        source: Dataset name (``scannet``, ``synthetic``, ...).
        scene_dir: Folder of the scene (image paths are relative to it).
        images: Keyframe image records in capture order.
        objects: Object records.
        footprint_xy: ``(M, 2)`` centres of occupied ``footprint_voxel_m`` cells of the scene
            points seen from above (room-size questions).
        footprint_voxel_m: Cell size of ``footprint_xy``.
        floor_z: Height of the floor (low percentile of scene points), metres.
        params: The settings that produced the index (thresholds, resolution, backend).
        num_frames_total: Frames with a valid pose before keyframe selection.
        label_set: Which names the labels are (``Scene.label_set``; "" when unknown).
        version: ``spar3d_index_version`` of the file it was read from.
    """

    scene_id: str
    source: str
    scene_dir: Path
    images: list[ImageRecord] = field(default_factory=list)
    objects: list[ObjectRecord] = field(default_factory=list)
    footprint_xy: F64 = field(default_factory=lambda: np.zeros((0, 2)))
    footprint_voxel_m: float = 0.1
    floor_z: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    num_frames_total: int = 0
    label_set: str = ""
    version: int = INDEX_VERSION

    def object_by_id(self, object_id: int) -> ObjectRecord:
        for o in self.objects:
            if o.object_id == object_id:
                return o
        raise KeyError(f"{self.scene_id}: no object {object_id} in the index")

    def objects_by_id(self) -> dict[int, ObjectRecord]:
        return {o.object_id: o for o in self.objects}

    def to_dict(self) -> dict[str, Any]:
        return {
            "spar3d_index_version": INDEX_VERSION,
            "scene_id": self.scene_id,
            "source": self.source,
            "label_set": self.label_set,
            "num_frames_total": self.num_frames_total,
            "params": self.params,
            "floor_z": _r(self.floor_z),
            "footprint_voxel_m": self.footprint_voxel_m,
            "footprint_xy": [[_r(v, 3) for v in p] for p in self.footprint_xy],
            "images": [im.to_dict() for im in self.images],
            "objects": [o.to_dict() for o in self.objects],
        }

    @staticmethod
    def from_dict(d: dict[str, Any], scene_dir: Path) -> SceneIndex:
        version = int(d.get("spar3d_index_version", 1))
        legacy = version < 2
        if legacy:
            log.warning(
                "%s: index version %d has no instance maps: point markers are not checked "
                "against the visible surface; rebuild it with `spar3d index --force`",
                scene_dir, version,
            )  # fmt: skip
        return SceneIndex(
            scene_id=str(d["scene_id"]),
            source=str(d["source"]),
            scene_dir=scene_dir,
            images=[ImageRecord.from_dict(x, legacy) for x in d["images"]],
            objects=[ObjectRecord.from_dict(x) for x in d["objects"]],
            footprint_xy=np.asarray(d.get("footprint_xy", []), dtype=np.float64).reshape(-1, 2),
            footprint_voxel_m=float(d.get("footprint_voxel_m", 0.1)),
            floor_z=float(d.get("floor_z", 0.0)),
            params=dict(d.get("params", {})),
            num_frames_total=int(d.get("num_frames_total", 0)),
            label_set=str(d.get("label_set", "")),
            version=version,
        )


def save_index(index: SceneIndex, path: str | Path | None = None) -> Path:
    """Write the index atomically (default: ``<scene_dir>/spar3d_index.json``)."""
    out = Path(path) if path is not None else Path(index.scene_dir) / INDEX_FILENAME
    write_json(out, index.to_dict(), indent=None)
    return out


POINT_FILE_SUFFIX = "_vert.npy"  # preprocessed ScanNet: <dir>/<scene>_vert.npy


def index_file_for(path: str | Path) -> Path:
    """The ``spar3d_index.json`` of any path form ``spar3d index`` accepts.

    A scene folder holds its index; a preprocessed ScanNet scene given as
    ``<dir>/<scene>_vert.npy`` or as the prefix ``<dir>/<scene>`` has it in ``<dir>/<scene>/``;
    a Matterport3D region ``<house>/region_segmentations/regionX.ply`` in
    ``region_segmentations/<house>_regionX/``; an index file is itself. Any other file is an error (it is not read).

    Raises:
        InputError: A file that is neither an index nor a point file.
    """
    p = Path(path)
    if p.is_dir():
        return p / INDEX_FILENAME
    if p.name.endswith(POINT_FILE_SUFFIX):
        return p.parent / p.name[: -len(POINT_FILE_SUFFIX)] / INDEX_FILENAME
    if p.suffix == ".ply" and p.parent.name == "region_segmentations":  # a Matterport3D region
        return p.parent / f"{p.parent.parent.name}_{p.stem}" / INDEX_FILENAME
    if p.is_file() and p.suffix != ".json":
        raise InputError(
            f"{p}: not a scene index; give a scene folder, {INDEX_FILENAME} or a "
            f"<scene>{POINT_FILE_SUFFIX} file"
        )
    return p


def load_index(path: str | Path) -> SceneIndex:
    """Load an index from any path form of :func:`index_file_for`.

    Image paths in the index are relative to the folder of the index file; ``scene_dir`` is that
    folder as an absolute path, so the index works from any current directory.

    Raises:
        FileNotFoundError: No index there (the message says how to build it).
        InputError: Not an index file, malformed JSON or missing fields.
    """
    p = index_file_for(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no scene index; build it with `spar3d index {path}`")
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: malformed index JSON ({exc.msg} at line {exc.lineno})") from None
    except UnicodeDecodeError:
        raise InputError(f"{p}: not a scene index (not UTF-8 JSON text)") from None
    if not isinstance(d, dict) or "images" not in d or "objects" not in d:
        raise InputError(f"{p}: not a spar3d index (missing 'images' or 'objects')")
    for key in ("images", "objects"):
        if not isinstance(d[key], list) or not all(isinstance(x, dict) for x in d[key]):
            raise InputError(f"{p}: field {key!r} must be a list of JSON objects")
    try:
        index = SceneIndex.from_dict(d, p.parent.resolve())
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        what = f"missing field {exc}" if isinstance(exc, KeyError) else f"{exc}"
        raise InputError(f"{p}: malformed index: {what}") from None
    # names that become output folders and files: plain components, whatever the file says
    check_component(index.scene_id, "scene_id", str(p))
    check_component(index.source, "source", str(p))
    for im in index.images:
        check_component(im.frame_id, "frame_id", str(p))
    return index
