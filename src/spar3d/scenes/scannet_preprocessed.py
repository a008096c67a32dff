"""Loader for preprocessed ScanNet (VoteNet / mmdetection3d / EmbodiedScan style exports).

Per scene, in one data folder (e.g. ``scannet_instance_data/``)::

    <scene>_vert.npy                (N, 6) xyz + rgb (0-255)
    <scene>_ins_label.npy           (N,) instance id per point, 0 = unannotated
    <scene>_sem_label.npy           (N,) NYU40 id per point
    <scene>_bbox.npy                (K, 7) aligned boxes: centre, size, NYU40 id   [VoteNet]
    <scene>_aligned_bbox.npy        the same, mmdetection3d's name                 [mmdet3d]
    <scene>_axis_align_matrix.npy   (4, 4) raw -> aligned                          [mmdet3d]

plus an infos pickle (``*_infos_*.pkl`` in the data folder or its parent, or ``infos=``) whose
entry for the scene gives camera intrinsics, raw-frame camera-to-world poses, image paths and
the axis alignment. The key variants read are listed in ``docs/loaders.md``.

VoteNet writes ``_vert.npy`` already axis-aligned; mmdetection3d's exporter writes the raw
scan points (and keeps the matrix beside them). ``points_aligned=None`` picks by which files
are present; pass True/False to override. The result is a labelled point cloud
(``mesh.faces is None``) in the aligned frame.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from spar3d.geometry.transforms import transform_points
from spar3d.safe_pickle import load_plain_pickle
from spar3d.scenes.labels import find_label_map, nyu40_name, read_label_map
from spar3d.scenes.loaders import (
    LOADERS,
    LoaderOptions,
    SceneLoadError,
    frame_sort_key,
    image_size,
    option,
    parse_matrix,
    require_file,
)
from spar3d.scenes.model import Frame, Intrinsics, OrientedBox, Scene, SceneMesh, SceneObject
from spar3d.scenes.scannet import DEFAULT_COLOR_SIZE, DEFAULT_DEPTH_SIZE

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

INFOS_GLOB = "*infos*.pkl"


def entry_scene_id(entry: Any) -> str | None:
    """The scene id an infos entry describes, across the known info-file variants."""
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("sample_idx"), str):  # EmbodiedScan: "scannet/scene0000_00"
        return str(entry["sample_idx"]).rstrip("/").split("/")[-1]
    point_cloud = entry.get("point_cloud")
    if isinstance(point_cloud, dict) and "lidar_idx" in point_cloud:  # mmdet3d v1
        return str(point_cloud["lidar_idx"])
    lidar = entry.get("lidar_points")
    if isinstance(lidar, dict) and lidar.get("lidar_path"):  # mmdet3d v2: "<scene>.bin"
        return Path(str(lidar["lidar_path"])).stem
    if entry.get("pts_path"):
        return Path(str(entry["pts_path"])).stem
    return None


@lru_cache(maxsize=4)
def _infos_by_scene(path: str, mtime_ns: int) -> dict[str, dict[str, Any]]:
    data = load_plain_pickle(path)  # refuses code; UnsafeInputError / InputError name the file
    if isinstance(data, dict) and isinstance(data.get("data_list"), list):
        entries = data["data_list"]  # mmdet3d v2 / EmbodiedScan: {"metainfo", "data_list"}
    elif isinstance(data, dict) and isinstance(data.get("infos"), list):
        entries = data["infos"]
    elif isinstance(data, list):
        entries = data  # mmdet3d v1: a list of per-scene dicts
    else:
        raise SceneLoadError(
            f"{path}: expected a list of scene dicts (mmdet3d v1), an 'infos' list or a "
            f"'data_list' dict (mmdet3d v2, EmbodiedScan), got {type(data).__name__}"
        )
    out: dict[str, dict[str, Any]] = {}
    for entry in entries:
        sid = entry_scene_id(entry)
        if sid is not None:
            out.setdefault(sid, entry)
        if isinstance(entry, dict) and isinstance(entry.get("sample_idx"), str):
            # the full name too: Matterport3D regions ("matterport3d/<house>/region3") share
            # their last part across houses
            out.setdefault(str(entry["sample_idx"]).rstrip("/"), entry)
    return out


def find_infos_entry(
    scene_id: str, folder: Path, infos: str | Path | None
) -> tuple[dict[str, Any], Path]:
    """The infos entry for ``scene_id`` and the pickle it came from.

    Raises:
        SceneLoadError: No pickle was found or none holds the scene; names what was searched.
    """
    if infos is not None:
        candidates = [require_file(Path(infos), "infos pickle")]
    else:
        candidates = sorted(folder.glob(INFOS_GLOB)) + sorted(folder.parent.glob(INFOS_GLOB))
    for pkl in candidates:
        entry = _infos_by_scene(str(pkl), pkl.stat().st_mtime_ns).get(scene_id)
        if entry is not None:
            return entry, pkl
    if not candidates:
        raise SceneLoadError(
            f"{folder}: no infos pickle ({INFOS_GLOB}) here or in {folder.parent} "
            f"for scene {scene_id}; pass infos=<path> or infos=False for no frames"
        )
    names = ", ".join(str(p) for p in candidates)
    raise SceneLoadError(f"scene {scene_id} is in none of the infos pickles: {names}")


# --- camera views from an infos entry ------------------------------------------------------


def _matrix3(value: Any, where: str) -> F64:
    """A 3x3 K from a 3x3, 3x4 or 4x4 intrinsics value."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 3 or arr.shape[1] < 3:
        raise SceneLoadError(f"{where}: expected a 3x3 or 4x4 intrinsics matrix, got {arr.shape}")
    return arr[:3, :3].copy()


def _views(entry: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """Per image: ``img``, ``depth`` (or None), ``T_raw_cam``, ``K`` and ``K_depth``."""
    if isinstance(entry.get("images"), list):  # EmbodiedScan
        K_scene = entry.get("cam2img")
        K_depth_scene = entry.get("depth_cam2img")
        views = []
        for i, im in enumerate(entry["images"]):
            w = f"{where}.images[{i}]"
            if not isinstance(im, dict) or "img_path" not in im or "cam2global" not in im:
                raise SceneLoadError(f"{w}: needs 'img_path' and 'cam2global'")
            K = im.get("cam2img", K_scene)
            if K is None:
                raise SceneLoadError(f"{w}: no 'cam2img' here or on the scene")
            views.append(
                {
                    "img": str(im["img_path"]),
                    "depth": str(im["depth_path"]) if im.get("depth_path") else None,
                    "T_raw_cam": parse_matrix(im["cam2global"], 4, f"{w}.cam2global"),
                    "K": _matrix3(K, f"{w}.cam2img"),
                    "K_depth": None
                    if K_depth_scene is None
                    else _matrix3(K_depth_scene, f"{where}.depth_cam2img"),
                }
            )
        return views
    # mmdet3d v1 ("intrinsics", "extrinsics") and NeRF-Det v2 ("cam2img", "lidar2cam"); in both
    # the per-image matrices are raw-frame camera-to-world poses.
    paths = entry.get("img_paths")
    key_pose = "extrinsics" if "extrinsics" in entry else "lidar2cam"
    key_K = "intrinsics" if "intrinsics" in entry else "cam2img"
    poses = entry.get(key_pose)
    if paths is None or poses is None or entry.get(key_K) is None:
        raise SceneLoadError(
            f"{where}: needs 'img_paths', 'extrinsics' (or 'lidar2cam') and 'intrinsics' "
            f"(or 'cam2img'), or an EmbodiedScan 'images' list"
        )
    if len(paths) != len(poses):
        raise SceneLoadError(f"{where}: {len(paths)} img_paths but {len(poses)} {key_pose}")
    K = _matrix3(entry[key_K], f"{where}.{key_K}")
    return [
        {
            "img": str(p),
            "depth": None,
            "T_raw_cam": parse_matrix(T, 4, f"{where}.{key_pose}[{i}]"),
            "K": K,
            "K_depth": None,
        }
        for i, (p, T) in enumerate(zip(paths, poses, strict=True))
    ]


def entry_axis_alignment(entry: dict[str, Any], where: str) -> F64 | None:
    """``axis_align_matrix`` from ``annos`` (mmdet3d v1) or the entry itself (v2)."""
    annos = entry.get("annos")
    value = annos.get("axis_align_matrix") if isinstance(annos, dict) else None
    if value is None:
        value = entry.get("axis_align_matrix")
    return None if value is None else parse_matrix(value, 4, f"{where}.axis_align_matrix")


def _resolve(rel: str | None, bases: list[Path]) -> Path | None:
    """The first ``base / rel`` that exists, else the first candidate (the image may be absent)."""
    if rel is None:
        return None
    if Path(rel).is_absolute():
        return Path(rel)
    candidates = [base / rel for base in bases]
    return next((c for c in candidates if c.is_file()), candidates[0])


def frames_from_entry(
    entry: dict[str, Any], pkl: Path, folder: Path, A: F64, image_root: Path | None
) -> list[Frame]:
    """Frames with finite poses, in the aligned frame (``A @ T_raw_cam``), sorted by name."""
    where = f"{pkl}: scene {entry_scene_id(entry)}"
    bases = ([image_root] if image_root else []) + [pkl.parent, pkl.parent.parent, folder]
    frames: list[Frame] = []
    for v in _views(entry, where):
        T_raw_cam = v["T_raw_cam"]
        if not np.all(np.isfinite(T_raw_cam)):
            continue  # tracking failures: ScanNet writes -inf poses
        color_path = _resolve(v["img"], bases)
        depth_path = _resolve(v["depth"], bases)
        color = Intrinsics(v["K"], *image_size(color_path, DEFAULT_COLOR_SIZE))
        depth = None
        if depth_path is not None:
            K_depth = v["K_depth"] if v["K_depth"] is not None else v["K"]
            depth = Intrinsics(K_depth, *image_size(depth_path, DEFAULT_DEPTH_SIZE))
        frames.append(
            Frame(
                frame_id=Path(v["img"]).stem,
                T_world_cam=A @ T_raw_cam,
                color=color,
                depth=depth,
                color_path=color_path if color_path and color_path.is_file() else None,
                depth_path=depth_path if depth_path and depth_path.is_file() else None,
            )
        )
    frames.sort(key=lambda f: frame_sort_key(f.frame_id))
    return frames


# --- points, instances and boxes ----------------------------------------------------------


def _load_npy(path: Path, what: str) -> NDArray[Any]:
    require_file(path, what)
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise SceneLoadError(f"{path}: cannot read .npy ({exc})") from exc


def _points_by_instance(ins: I64) -> dict[int, I64]:
    """``instance id -> (M,) point indices`` for ids > 0 (0 marks unannotated points)."""
    order = np.argsort(ins, kind="stable")
    ids, starts, counts = np.unique(ins[order], return_index=True, return_counts=True)
    return {
        int(i): np.sort(order[s : s + c])
        for i, s, c in zip(ids, starts, counts, strict=True)
        if i > 0
    }


def match_boxes(
    centers: dict[int, F64], classes: dict[int, int], boxes: F64
) -> dict[int, OrientedBox]:
    """Assign box rows to instances of the same NYU40 class, nearest centre first.

    A pair is accepted when the centres are within ``max(0.25 m, half the box diagonal)``;
    each row and each instance is used at most once. All-zero rows (instances that had no
    points at export time) are ignored.
    """
    pairs = []
    for r, row in enumerate(boxes):
        if not np.any(row[:6]):
            continue
        tol = max(0.25, 0.5 * float(np.linalg.norm(row[3:6])))
        for iid, c in centers.items():
            if classes[iid] == int(round(row[6])):
                d = float(np.linalg.norm(c - row[:3]))
                if d <= tol:
                    pairs.append((d, r, iid))
    out: dict[int, OrientedBox] = {}
    used_rows: set[int] = set()
    for _d, r, iid in sorted(pairs):
        if r not in used_rows and iid not in out:
            used_rows.add(r)
            out[iid] = OrientedBox.axis_aligned(boxes[r, :3], boxes[r, 3:6])
    return out


def _colors(vert: NDArray[Any]) -> NDArray[np.uint8] | None:
    if vert.shape[1] < 6:
        return None
    rgb = np.asarray(vert[:, 3:6], dtype=np.float64)
    if len(rgb) and rgb.max() <= 1.0:  # some exports store colours in 0..1
        rgb = rgb * 255.0
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class ScanNetPreprocessedOptions(LoaderOptions):
    """Options of the ``scannet_preprocessed`` loader (``docs/loaders.md``)."""

    loader: ClassVar[str] = "scannet_preprocessed"

    infos: Path | bool | None = option(
        None, "the infos pickle; none: search *infos*.pkl beside the data and one folder up; "
        "false: load no frames", file=True)
    points_aligned: bool | None = option(
        None, "whether _vert.npy is already axis-aligned; none: decided by the files present "
        "(mmdet3d's _axis_align_matrix.npy / _aligned_bbox.npy mean raw points)")
    image_root: Path | None = option(
        None, "folder the infos' image paths are relative to; default: the pickle's folder, its "
        "parent, then the data folder, first that has the file")
    sem_labels: Literal["nyu40", "scannet200"] = option(
        "nyu40", "what _sem_label.npy holds: NYU40 ids, or ScanNet label ids (mmdet3d's "
        "--scannet200 export) named by the TSV's category column")
    label_map: Path | None = option(
        None, "the scannetv2-labels.combined.tsv for sem_labels=scannet200; default: looked "
        "for in the data folder and the two above it", file=True)
    source: str = option("scannet", "dataset name recorded in the scene")


class ScanNetPreprocessedLoader:
    """Preprocessed ScanNet: per-scene ``.npy`` arrays plus an infos pickle for cameras."""

    name = "scannet_preprocessed"
    layout = "<dir>/<scene>_vert.npy (+ _ins_label.npy, _sem_label.npy) and *infos*.pkl"
    options_type = ScanNetPreprocessedOptions

    @staticmethod
    def locate(path: Path) -> tuple[Path, str] | None:
        """``(data folder, scene id)`` for a ``_vert.npy`` file, a scene folder or a prefix."""
        path = Path(path)
        if path.is_file() and path.name.endswith("_vert.npy"):
            return path.parent, path.name[: -len("_vert.npy")]
        if path.is_dir() and (path / f"{path.name}_vert.npy").is_file():
            return path, path.name
        if (path.parent / f"{path.name}_vert.npy").is_file():
            return path.parent, path.name
        return None

    def detect(self, path: Path) -> bool:
        return self.locate(path) is not None

    def load(
        self,
        path: Path,
        options: ScanNetPreprocessedOptions | None = None,
        *,
        load_mesh: bool = True,
    ) -> Scene:
        """Load one preprocessed scene.

        Args:
            path: ``<dir>/<scene>_vert.npy``, ``<dir>/<scene>`` (a prefix) or a folder
                ``<scene>/`` holding ``<scene>_vert.npy``.
            options: :class:`ScanNetPreprocessedOptions` (None: the defaults).
            load_mesh: Return the point cloud as ``Scene.mesh`` (faces None); when False the
                mesh is None (points are still read for the boxes).
        """
        o = options or ScanNetPreprocessedOptions()
        infos, points_aligned, image_root, sem_labels, label_map = (
            o.infos, o.points_aligned, o.image_root, o.sem_labels, o.label_map
        )  # fmt: skip
        located = self.locate(Path(path).absolute())  # ".." and parents must mean something
        if located is None:
            raise SceneLoadError(f"{path}: no <scene>_vert.npy found ({self.layout})")
        folder, sid = located
        stem = folder / sid
        vert, ins, sem = _read_arrays(stem)

        entry: dict[str, Any] | None = None
        pkl: Path | None = None
        if infos is not False:
            entry, pkl = find_infos_entry(sid, folder, None if infos is True else infos)
        A_file = Path(f"{stem}_axis_align_matrix.npy")
        A = entry_axis_alignment(entry, f"{pkl}: scene {sid}") if entry is not None else None
        if A is None and A_file.is_file():
            A = parse_matrix(_load_npy(A_file, "axis alignment"), 4, str(A_file))
        A = np.eye(4) if A is None else A

        if points_aligned is None:
            # mmdet3d's exporter (the one that writes these two files) saves raw points
            points_aligned = not (A_file.is_file() or Path(f"{stem}_aligned_bbox.npy").is_file())
        xyz = np.asarray(vert[:, :3], dtype=np.float64)
        if not points_aligned:
            xyz = transform_points(A, xyz)

        frames = []
        if entry is not None and pkl is not None:
            root = Path(image_root) if image_root is not None else None
            frames = frames_from_entry(entry, pkl, folder, A, root)
        mesh = SceneMesh(xyz, None, _colors(vert)) if load_mesh else None
        names: Callable[[int], str] = nyu40_name
        if sem_labels == "scannet200":  # (else NYU40 ids)
            tsv = label_map or find_label_map([folder, folder.parent, folder.parent.parent])
            if tsv is None:
                raise SceneLoadError(
                    f"{folder}: sem_labels=scannet200 needs scannetv2-labels.combined.tsv "
                    f"(here or two folders up, or label_map=<path>)"
                )
            by_id = read_label_map(require_file(Path(tsv), "label map"), "category", key="id")

            def names(i: int) -> str:
                return by_id.get(str(int(i)), f"scannet_{int(i)}")
        objects = _objects(xyz, ins, sem, _read_boxes(stem), names)
        if entry is not None and isinstance(entry.get("instances"), list) and entry["instances"]:
            # EmbodiedScan infos: its 9-DoF boxes replace the axis-aligned ones they match
            from spar3d.scenes.embodiedscan import boxes_of_entry, replace_boxes

            replace_boxes(objects, boxes_of_entry(entry, f"{pkl}: scene {sid}"))
        return Scene(sid, o.source, folder, objects, frames, mesh, A, label_set=sem_labels)


def _read_arrays(stem: Path) -> tuple[NDArray[Any], I64, I64]:
    """Points ``(N, >=3)``, instance ids ``(N,)`` and NYU40 ids ``(N,)``, checked for length."""
    vert = _load_npy(Path(f"{stem}_vert.npy"), "point file")
    if vert.ndim != 2 or vert.shape[1] < 3:
        raise SceneLoadError(f"{stem}_vert.npy: expected (N, >=3) points, got {vert.shape}")
    labels = []
    for kind in ("ins", "sem"):
        p = Path(f"{stem}_{kind}_label.npy")
        arr = _load_npy(p, f"{kind} label file").astype(np.int64).reshape(-1)
        if len(arr) != len(vert):
            raise SceneLoadError(f"{p}: {len(arr)} labels for {len(vert)} points")
        labels.append(arr)
    return vert, labels[0], labels[1]


def _read_boxes(stem: Path) -> F64 | None:
    """``(K, 7)`` boxes from ``_bbox.npy`` (VoteNet) or ``_aligned_bbox.npy`` (mmdet3d)."""
    for path in (Path(f"{stem}_bbox.npy"), Path(f"{stem}_aligned_bbox.npy")):
        if path.is_file():
            boxes = np.asarray(_load_npy(path, "box file"), dtype=np.float64)
            if boxes.size == 0:
                return None
            if boxes.ndim != 2 or boxes.shape[1] < 7:
                raise SceneLoadError(f"{path}: expected (K, 7) boxes, got {boxes.shape}")
            return boxes
    return None


def _objects(
    xyz: F64, ins: I64, sem: I64, boxes: F64 | None, names: Any = nyu40_name
) -> list[SceneObject]:
    """One object per instance id > 0, labelled by its majority NYU40 id, boxed by the box
    file where a row matches and by the AABB of its aligned points otherwise."""
    instances = _points_by_instance(ins)
    classes = {i: int(np.bincount(sem[idx].clip(0)).argmax()) for i, idx in instances.items()}
    aabbs = {i: OrientedBox.from_points(xyz[idx]) for i, idx in instances.items()}
    matched = (
        {}
        if boxes is None
        else match_boxes({i: b.center for i, b in aabbs.items()}, classes, boxes)
    )
    return [
        SceneObject(
            object_id=i,
            label=names(classes[i]),
            box=matched.get(i, aabbs[i]),
            vertex_ids=idx,
            raw_label=names(classes[i]),
        )
        for i, idx in instances.items()
    ]


LOADERS.add(ScanNetPreprocessedLoader.name, ScanNetPreprocessedLoader())
