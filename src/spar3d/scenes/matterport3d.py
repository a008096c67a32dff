"""Loader for Matterport3D regions in the official layout (``docs/loaders.md``), with
EmbodiedScan's 9-DoF boxes attached when its infos pickle is given.

A scene is one region of a house (as EmbodiedScan's ``matterport3d/<house>/<region>``)::

    <house>/region_segmentations/regionX.ply          mesh; faces carry face_material,
                                                      face_segment, face_category
    <house>/region_segmentations/regionX.fsegs.json   segIndices: one segment id per face
    <house>/region_segmentations/regionX.semseg.json  segGroups[*]: label, segments
    <house>/undistorted_camera_parameters/<house>.conf
        intrinsics_matrix fx 0 cx 0 fy cy 0 0 1
        scan <depth image> <color image> <camera-to-world, 16 values, row-major>
    <house>/undistorted_color_images/<pano>_i<camera>_<yaw>.jpg

The ``.conf`` poses take a canonical camera that looks along -z with +y up (OpenGL axes) into
the world: ``T_world_cam = T_conf @ diag(1, -1, -1, 1)`` in OpenCV axes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from spar3d.geometry.camera import GL_TO_CV
from spar3d.geometry.transforms import transform_points
from spar3d.scenes.embodiedscan import aligned_entry, boxes_of_entry, replace_boxes
from spar3d.scenes.labels import common_label
from spar3d.scenes.loaders import (
    LOADERS,
    LoaderOptions,
    SceneLoadError,
    image_size,
    option,
    parse_matrix,
    read_json,
    require_file,
)
from spar3d.scenes.model import Frame, Intrinsics, OrientedBox, Scene, SceneObject
from spar3d.scenes.scannet import read_mesh

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]
REGION_DIR = "region_segmentations"
DEFAULT_SIZE = (1280, 1024)


@dataclass(frozen=True)
class Matterport3DOptions(LoaderOptions):
    """Options of the ``matterport3d`` loader (``docs/loaders.md``)."""

    loader: ClassVar[str] = "matterport3d"

    embodiedscan: Path | None = option(
        None, "an EmbodiedScan infos pickle: its axis_align_matrix for "
        "matterport3d/<house>/<region> aligns the region and its 9-DoF boxes replace the "
        "matching objects' boxes", file=True)
    cameras: Literal["inside", "all"] = option(
        "inside", "which of the house's images the region keeps: those whose camera stands "
        "inside the region's bounding box (widened by 0.5 m), or all")
    source: str = option("matterport3d", "dataset name recorded in the scene")


def read_conf(path: Path) -> list[tuple[str, str, F64, F64]]:
    """``(depth name, color name, K, T_conf)`` per ``scan`` line of an undistorted ``.conf``;
    each takes the ``intrinsics_matrix`` above it."""
    require_file(path, "camera parameters (.conf)")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SceneLoadError(f"{path}: cannot read ({exc})") from exc
    K: F64 | None = None
    out = []
    for lineno, line in enumerate(lines, start=1):
        tok = line.split()
        if not tok:
            continue
        where = f"{path}, line {lineno} ({tok[0]})"
        if tok[0] == "intrinsics_matrix":
            K = parse_matrix(_numbers(tok[1:], where), 3, where)
        elif tok[0] == "scan":
            if len(tok) != 19:
                raise SceneLoadError(f"{where}: expected 'scan <depth> <color>' and 16 numbers, "
                                     f"found {len(tok) - 1} fields")
            if K is None:
                raise SceneLoadError(f"{where}: no intrinsics_matrix before it")
            T = parse_matrix(_numbers(tok[3:], where), 4, where)
            out.append((tok[1], tok[2], K, T))
    return out


def _numbers(tokens: list[str], where: str) -> list[float]:
    try:
        return [float(t) for t in tokens]
    except ValueError as exc:
        raise SceneLoadError(f"{where}: not numbers ({exc})") from exc


def read_groups(path: Path) -> list[tuple[int, str, list[int]]]:
    """``(object id, label, segment ids)`` per ``segGroups`` entry of ``regionX.semseg.json``
    (the id: ``objectId``, else ``id``, else the entry's position)."""
    data = read_json(path)
    groups = data.get("segGroups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        raise SceneLoadError(f"{path}: field 'segGroups' missing or not a list")
    out = []
    for i, g in enumerate(groups):
        try:
            oid = int(g.get("objectId", g.get("id", i)))
            out.append((oid, str(g["label"]), [int(x) for x in g["segments"]]))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise SceneLoadError(f"{path}: segGroups[{i}] needs label and integer segments "
                                 f"({exc})") from exc
    return out


def read_face_segments(path: Path, n_faces: int) -> NDArray[np.int64]:
    data = read_json(path)
    seg = data.get("segIndices") if isinstance(data, dict) else None
    try:
        arr = np.asarray(seg, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise SceneLoadError(f"{path}: segIndices must be integers ({exc})") from exc
    if len(arr) != n_faces:
        raise SceneLoadError(f"{path}: segIndices has {len(arr)} entries for {n_faces} faces")
    return arr


class Matterport3DLoader:
    """Matterport3D regions (``<house>/region_segmentations/regionX.ply`` ...)."""

    name = "matterport3d"
    layout = "<house>/region_segmentations/regionX.ply (+ .fsegs.json, .semseg.json)"
    options_type = Matterport3DOptions

    @staticmethod
    def _region(path: Path) -> Path | None:
        path = Path(path)
        if path.suffix == ".ply" and path.parent.name == REGION_DIR and path.is_file():
            return path
        return None

    def detect(self, path: Path) -> bool:
        ply = self._region(path)
        return ply is not None and ply.with_suffix(".semseg.json").is_file()

    def load(
        self, path: Path, options: Matterport3DOptions | None = None, *, load_mesh: bool = True
    ) -> Scene:
        """Load one region.

        Args:
            path: ``<house>/region_segmentations/regionX.ply``.
            options: :class:`Matterport3DOptions` (None: the defaults).
            load_mesh: Keep the mesh faces (vertices are read either way).
        """
        o = options or Matterport3DOptions()
        ply = self._region(Path(path))
        if ply is None:
            raise SceneLoadError(f"{path}: expected {self.layout}")
        house = ply.parent.parent
        region = ply.stem
        sid = f"{house.name}_{region}"
        mesh = read_mesh(ply, with_faces=True)
        assert mesh.faces is not None
        faces = mesh.faces
        face_seg = read_face_segments(ply.with_suffix(".fsegs.json"), len(faces))
        A, entry, where = np.eye(4), None, ""
        if o.embodiedscan is not None:
            A, entry, where = aligned_entry(o.embodiedscan, f"matterport3d/{house.name}/{region}")
        mesh.vertices = transform_points(A, mesh.vertices)
        objects = []
        for oid, raw, segments in read_groups(ply.with_suffix(".semseg.json")):
            vids = np.unique(faces[np.isin(face_seg, segments)].ravel())
            if len(vids) == 0:
                log.warning("%s: object %d (%s) has no faces; skipped", ply, oid, raw)
                continue
            objects.append(SceneObject(oid, common_label("matterport3d", raw),
                                       OrientedBox.from_points(mesh.vertices[vids]), vids, raw))
        if entry is not None:
            replace_boxes(objects, boxes_of_entry(entry, where))
        frames = self._frames(house, A, mesh.vertices, o.cameras)
        if not load_mesh:
            mesh.faces = None
        return Scene(sid, o.source, ply.parent, objects, frames, mesh if load_mesh else None, A,
                     label_set="matterport3d_raw")

    @staticmethod
    def _frames(house: Path, A: F64, vertices: F64, cameras: str) -> list[Frame]:
        conf = house / "undistorted_camera_parameters" / f"{house.name}.conf"
        lo, hi = vertices.min(axis=0) - 0.5, vertices.max(axis=0) + 0.5
        frames = []
        size: tuple[int, int] | None = None
        for _depth, color, K, T_conf in read_conf(conf):
            T = A @ T_conf @ GL_TO_CV
            if not np.isfinite(T).all():
                continue
            if cameras == "inside" and not np.all((T[:3, 3] >= lo) & (T[:3, 3] <= hi)):
                continue
            color_path = house / "undistorted_color_images" / color
            if size is None and color_path.is_file():
                size = image_size(color_path, DEFAULT_SIZE)
            w, h = size or DEFAULT_SIZE
            frames.append(Frame(Path(color).stem, T, Intrinsics(K, w, h), None,
                                color_path if color_path.is_file() else None))
        return frames


LOADERS.add(Matterport3DLoader.name, Matterport3DLoader())
