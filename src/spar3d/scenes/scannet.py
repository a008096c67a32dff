"""Loader for ScanNet v2 scans as exported by the ScanNet SensReader (``docs/loaders.md``).

Files read, for a folder ``<scene>/``::

    <scene>_vh_clean_2.ply                     mesh (vertices + colours; faces when load_mesh)
    <scene>.aggregation.json                   segGroups: objectId, label, segments
    <scene>_vh_clean_2.0.010000.segs.json      segIndices: one segment id per mesh vertex
    <scene>.txt                                axisAlignment = 16 numbers (optional: identity)
    <scene>_obb.json                           oriented boxes, aligned frame (optional)
    pose/<i>.txt                               4x4 camera-to-world, raw scan frame
    color/<i>.jpg, depth/<i>.png               images (paths recorded, headers read once)
    intrinsic/intrinsic_color.txt              4x4 (3x3 used)
    intrinsic/intrinsic_depth.txt              4x4 (required when depth/ exists)
    scannetv2-labels.combined.tsv              label map (scene folder or its parent; optional)

The returned scene lives in the axis-aligned frame ``A`` (``Scene.T_aligned_raw``): mesh
vertices are ``A @ v_raw`` and poses ``T_world_cam = A @ T_raw_cam``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from spar3d.geometry.transforms import transform_points
from spar3d.scenes.labels import find_label_map, read_label_map
from spar3d.scenes.loaders import (
    LOADERS,
    LoaderOptions,
    SceneLoadError,
    frame_sort_key,
    image_size,
    option,
    parse_matrix,
    read_json,
    read_matrix_txt,
    require_file,
    scene_folder,
)
from spar3d.scenes.model import (
    Frame,
    Intrinsics,
    OrientedBox,
    Scene,
    SceneMesh,
    SceneObject,
)

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

# SensReader export sizes, used when no image is on disk to read a header from.
DEFAULT_COLOR_SIZE = (1296, 968)
DEFAULT_DEPTH_SIZE = (640, 480)


def scene_files(folder: Path) -> dict[str, Path]:
    """The expected paths of a ScanNet scene folder, keyed by role."""
    sid = folder.name
    return {
        "mesh": folder / f"{sid}_vh_clean_2.ply",
        "aggregation": folder / f"{sid}.aggregation.json",
        "segs": folder / f"{sid}_vh_clean_2.0.010000.segs.json",
        "meta": folder / f"{sid}.txt",
        "obb": folder / f"{sid}_obb.json",
        "pose": folder / "pose",
        "color": folder / "color",
        "depth": folder / "depth",
        "intrinsic_color": folder / "intrinsic" / "intrinsic_color.txt",
        "intrinsic_depth": folder / "intrinsic" / "intrinsic_depth.txt",
    }


# --- individual files --------------------------------------------------------------------


def read_mesh(path: Path, *, with_faces: bool) -> SceneMesh:
    """Read the PLY surface in raw scan coordinates (vertex order kept as in the file)."""
    import trimesh

    require_file(path, "mesh")
    try:
        geom = trimesh.load(str(path), file_type="ply", process=False)
    except Exception as exc:  # trimesh raises many types for a bad file
        raise SceneLoadError(f"{path}: cannot read PLY ({exc})") from exc
    colors: NDArray[np.uint8] | None = None
    faces: I64 | None = None
    if isinstance(geom, trimesh.Trimesh):
        visual = geom.visual
        if isinstance(visual, trimesh.visual.ColorVisuals) and visual.kind == "vertex":
            colors = np.asarray(visual.vertex_colors, dtype=np.uint8)[:, :3]
        if with_faces and len(geom.faces):
            faces = np.asarray(geom.faces, dtype=np.int64)
    elif isinstance(geom, trimesh.PointCloud):  # a PLY without faces
        if len(geom.colors):
            colors = np.asarray(geom.colors, dtype=np.uint8)[:, :3]
    else:
        raise SceneLoadError(f"{path}: PLY holds no single mesh or point cloud")
    vertices = np.asarray(geom.vertices, dtype=np.float64)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or len(vertices) == 0:
        raise SceneLoadError(f"{path}: PLY has no vertices")
    return SceneMesh(vertices=vertices, faces=faces, colors=colors)


def read_ply_property(path: Path, element: str, name: str, count: int) -> I64:
    """One integer property of a PLY element (``vertex`` / ``face``), ``count`` values: the
    extra columns datasets add (3RScan's ``objectId``, Matterport3D's ``face_segment``)."""
    import trimesh

    require_file(path, "PLY")
    try:
        geom = trimesh.load(str(path), file_type="ply", process=False)
        values = np.asarray(geom.metadata["_ply_raw"][element]["data"][name]).reshape(-1)
    except (KeyError, TypeError, ValueError) as exc:
        raise SceneLoadError(f"{path}: no per-{element} {name} property ({exc})") from exc
    except Exception as exc:  # trimesh raises many types for a bad file
        raise SceneLoadError(f"{path}: cannot read PLY ({exc})") from exc
    if len(values) != count:
        raise SceneLoadError(f"{path}: {len(values)} {name} values for {count} {element}s")
    return values.astype(np.int64)


def read_axis_alignment(path: Path) -> F64:
    """The ``axisAlignment`` 4x4 (raw -> aligned) from ``<scene>.txt``; identity if absent."""
    if not path.is_file():
        return np.eye(4)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SceneLoadError(f"{path}: cannot read ({exc})") from exc
    for lineno, line in enumerate(lines, start=1):
        key, sep, value = line.partition("=")
        if sep and key.strip() == "axisAlignment":
            where = f"{path}, line {lineno} (axisAlignment)"
            try:
                numbers = [float(t) for t in value.split()]
            except ValueError as exc:
                raise SceneLoadError(f"{where}: not numbers ({exc})") from exc
            A = parse_matrix(numbers, 4, where)
            if not np.all(np.isfinite(A)):
                raise SceneLoadError(f"{where}: non-finite entries")
            return A
    return np.eye(4)


def read_segments(path: Path, n_vertices: int) -> I64:
    """``(N,) int64`` segment id per mesh vertex from the ``segIndices`` field."""
    data = read_json(path)
    seg = data.get("segIndices") if isinstance(data, dict) else None
    if not isinstance(seg, list):
        raise SceneLoadError(f"{path}: field 'segIndices' missing or not a list")
    if len(seg) != n_vertices:
        raise SceneLoadError(
            f"{path}: 'segIndices' has {len(seg)} entries but the mesh has {n_vertices} vertices"
        )
    try:
        return np.asarray(seg, dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise SceneLoadError(f"{path}: 'segIndices' must hold integers ({exc})") from exc


def read_seg_groups(path: Path) -> list[tuple[int, str, list[int]]]:
    """``(objectId, label, segments)`` per entry of ``segGroups``, validated."""
    data = read_json(path)
    groups = data.get("segGroups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        raise SceneLoadError(f"{path}: field 'segGroups' missing or not a list")
    out: list[tuple[int, str, list[int]]] = []
    seen: set[int] = set()
    for i, g in enumerate(groups):
        where = f"{path}: segGroups[{i}]"
        if not isinstance(g, dict):
            raise SceneLoadError(f"{where} is not an object")
        for key in ("objectId", "label", "segments"):
            if key not in g:
                raise SceneLoadError(f"{where} lacks field '{key}'")
        oid, label, segments = g["objectId"], g["label"], g["segments"]
        if not isinstance(oid, int) or isinstance(oid, bool):
            raise SceneLoadError(f"{where}.objectId must be an integer, got {oid!r}")
        if oid in seen:
            raise SceneLoadError(f"{where}.objectId {oid} appears twice")
        if not isinstance(label, str):
            raise SceneLoadError(f"{where}.label must be a string, got {label!r}")
        if not isinstance(segments, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in segments
        ):
            raise SceneLoadError(f"{where}.segments must be a list of integers")
        seen.add(oid)
        out.append((oid, label, segments))
    return out


def read_obb(path: Path) -> dict[int, tuple[str, OrientedBox]]:
    """``objectId -> (label, box)`` from an ``<scene>_obb.json`` (aligned frame)."""
    data = read_json(path)
    objects = data.get("objects") if isinstance(data, dict) else None
    if not isinstance(objects, list):
        raise SceneLoadError(f"{path}: field 'objects' missing or not a list")
    out: dict[int, tuple[str, OrientedBox]] = {}
    for i, o in enumerate(objects):
        where = f"{path}: objects[{i}]"
        if not isinstance(o, dict):
            raise SceneLoadError(f"{where} is not an object")
        for key in ("objectId", "center", "size", "R_world_box"):
            if key not in o:
                raise SceneLoadError(f"{where} lacks field '{key}'")
        try:
            center = np.asarray(o["center"], dtype=np.float64).reshape(3)
            size = np.asarray(o["size"], dtype=np.float64).reshape(3)
        except (TypeError, ValueError) as exc:
            raise SceneLoadError(f"{where}: center and size must be 3 numbers ({exc})") from exc
        R = parse_matrix(o["R_world_box"], 3, f"{where}.R_world_box")
        if not np.allclose(R.T @ R, np.eye(3), atol=1e-4) or np.linalg.det(R) < 0:
            raise SceneLoadError(f"{where}.R_world_box is not a rotation matrix")
        if np.any(size < 0) or not np.all(np.isfinite(center)):
            raise SceneLoadError(f"{where}: size must be >= 0 and center finite")
        out[int(o["objectId"])] = (str(o.get("label", "")), OrientedBox(center, size, R))
    return out


def vertices_by_object(
    seg_per_vertex: I64, groups: list[tuple[int, str, list[int]]]
) -> dict[int, I64]:
    """``objectId -> (M,) int64`` sorted vertex ids: the union of the object's segments."""
    order = np.argsort(seg_per_vertex, kind="stable")
    sorted_seg = seg_per_vertex[order]
    out: dict[int, I64] = {}
    for oid, _label, segments in groups:
        segs = np.unique(np.asarray(segments, dtype=np.int64))
        lo = np.searchsorted(sorted_seg, segs, side="left")
        hi = np.searchsorted(sorted_seg, segs, side="right")
        parts = [order[a:b] for a, b in zip(lo, hi, strict=True) if b > a]
        ids = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        out[oid] = np.sort(ids).astype(np.int64)
    return out


def _existing(folder: Path, wanted: dict[str, str]) -> dict[str, Path | None]:
    """``key -> folder / filename`` for the files that exist, None for the others."""
    present = {e.name for e in os.scandir(folder) if e.is_file()} if folder.is_dir() else set()
    return {k: folder / name if name in present else None for k, name in wanted.items()}


def read_frames(files: dict[str, Path], T_aligned_raw: F64) -> list[Frame]:
    """Frames with finite poses, sorted numerically, poses mapped into the aligned frame."""
    pose_dir = files["pose"]
    if not pose_dir.is_dir():
        raise SceneLoadError(f"{pose_dir}: missing pose folder")
    K_color = read_matrix_txt(files["intrinsic_color"])[:3, :3]
    has_depth = files["depth"].is_dir()
    K_depth = read_matrix_txt(files["intrinsic_depth"])[:3, :3] if has_depth else None

    names = sorted((p.stem for p in pose_dir.glob("*.txt")), key=frame_sort_key)
    # One directory listing per image folder instead of a stat per frame (scans have ~5k).
    color_paths = _existing(files["color"], {n: f"{n}.jpg" for n in names})
    depth_paths = _existing(files["depth"], {n: f"{n}.png" for n in names})
    first_color = next((p for p in color_paths.values() if p is not None), None)
    first_depth = next((p for p in depth_paths.values() if p is not None), None)
    color = Intrinsics(K_color, *image_size(first_color, DEFAULT_COLOR_SIZE))
    depth = None
    if K_depth is not None:
        depth = Intrinsics(K_depth, *image_size(first_depth, DEFAULT_DEPTH_SIZE))

    frames: list[Frame] = []
    skipped = 0
    for name in names:
        T_raw_cam = read_matrix_txt(pose_dir / f"{name}.txt")
        if not np.all(np.isfinite(T_raw_cam)):
            skipped += 1  # SensReader writes -inf poses where tracking failed
            continue
        frames.append(
            Frame(
                frame_id=name,
                T_world_cam=T_aligned_raw @ T_raw_cam,
                color=color,
                depth=depth,
                color_path=color_paths[name],
                depth_path=depth_paths[name],
            )
        )
    if skipped:
        log.info("%s: skipped %d frame(s) with non-finite poses", pose_dir, skipped)
    return frames


# --- the loader ---------------------------------------------------------------------------

_REQUIRED = {"mesh": "mesh (PLY)", "aggregation": "aggregation file", "segs": "segments file"}


@dataclass(frozen=True)
class ScanNetOptions(LoaderOptions):
    """Options of the ``scannet`` loader (``docs/loaders.md``)."""

    loader: ClassVar[str] = "scannet"

    label_map: Path | None = option(
        None, "a scannetv2-labels.combined.tsv; default: looked for in the scene folder and its "
        "parent (raw labels when there is none)", file=True)
    label_column: Literal["category", "nyu40class"] = option(
        "category", "the TSV column labels are mapped to")
    obb: Path | None = option(
        None, "an oriented-box JSON; default <scene>_obb.json when present", file=True)
    source: str | None = option(
        None, "dataset name recorded in the scene; default synthetic for folders written by "
        "spar3d synth (they hold synth_done.json), else scannet")
    embodiedscan: Path | None = option(
        None, "an EmbodiedScan infos pickle whose 9-DoF boxes replace the matching objects' "
        "boxes", file=True)


class ScanNetLoader:
    """ScanNet v2 scan folders (SensReader export plus annotation files)."""

    name = "scannet"
    layout = "<scene>/<scene>_vh_clean_2.ply and <scene>/<scene>.aggregation.json"
    options_type = ScanNetOptions

    _folder = staticmethod(scene_folder)

    def detect(self, path: Path) -> bool:
        files = scene_files(self._folder(Path(path)))
        return files["mesh"].is_file() or files["aggregation"].is_file()

    def load(
        self, path: Path, options: ScanNetOptions | None = None, *, load_mesh: bool = True
    ) -> Scene:
        """Load one scan folder.

        Args:
            path: The scene folder (or a file inside it).
            options: :class:`ScanNetOptions` (None: the defaults).
            load_mesh: Return the mesh; when False ``Scene.mesh`` is None (vertices are still
                read, because boxes and ``vertex_ids`` need them).
        """
        o = options or ScanNetOptions()
        label_map, label_column, obb, embodiedscan = (
            o.label_map, o.label_column, o.obb, o.embodiedscan
        )  # fmt: skip
        folder = self._folder(Path(path).absolute())  # its parent may hold the label map
        files = scene_files(folder)
        for role, what in _REQUIRED.items():
            require_file(files[role], what)

        mesh = read_mesh(files["mesh"], with_faces=load_mesh)
        groups = read_seg_groups(files["aggregation"])
        seg_per_vertex = read_segments(files["segs"], len(mesh.vertices))
        A = read_axis_alignment(files["meta"])
        mesh.vertices = transform_points(A, mesh.vertices)

        tsv = Path(label_map) if label_map is not None else find_label_map([folder, folder.parent])
        mapping = read_label_map(require_file(tsv, "label map"), label_column) if tsv else {}

        obb_path = Path(obb) if obb is not None else files["obb"]
        if obb is not None:
            require_file(obb_path, "oriented-box file")
        boxes = read_obb(obb_path) if obb_path.is_file() else {}

        verts = vertices_by_object(seg_per_vertex, groups)
        objects: list[SceneObject] = []
        for oid, raw, _segments in groups:
            ids = verts[oid]
            if oid in boxes:
                box = boxes[oid][1]
            elif len(ids):
                box = OrientedBox.from_points(mesh.vertices[ids])
            else:
                log.warning("%s: object %d (%s) has no vertices; skipped", folder, oid, raw)
                continue
            objects.append(SceneObject(oid, mapping.get(raw, raw), box, ids, raw_label=raw))
        known = {o.object_id for o in objects}
        for oid, (raw, box) in sorted(boxes.items()):
            if oid not in known:  # a box with no segments: keep it, without vertices
                objects.append(SceneObject(oid, mapping.get(raw, raw), box, None, raw_label=raw))
        if embodiedscan is not None:
            from spar3d.scenes.embodiedscan import read_embodiedscan_boxes, replace_boxes

            replace_boxes(objects, read_embodiedscan_boxes(embodiedscan, folder.name))

        return Scene(
            scene_id=folder.name,
            source=o.source or ("synthetic" if (folder / "synth_done.json").is_file() else "scannet"),
            root=folder,
            objects=objects,
            frames=read_frames(files, A),
            mesh=mesh if load_mesh else None,
            T_aligned_raw=A,
            label_set=("scannet_" + label_column) if tsv else "scannet_raw",
        )


LOADERS.add(ScanNetLoader.name, ScanNetLoader())
