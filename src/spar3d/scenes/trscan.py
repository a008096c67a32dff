"""Loader for 3RScan scans in the official layout (``docs/loaders.md``), with EmbodiedScan's
9-DoF boxes attached when its infos pickle is given.

Files read, for a folder ``<scan_id>/`` (the toolkit's ``data_config.h`` / ``frame_config.h``)::

    labels.instances.annotated.v2.ply   mesh (metres, +z up) with per-vertex ``objectId``
    semseg.v2.json                      segGroups[*]: objectId, label
    sequence/_info.txt                  m_colorWidth/Height, m_depthWidth/Height,
                                        m_calibrationColorIntrinsic, m_calibrationDepthIntrinsic
    sequence/frame-XXXXXX.pose.txt      4x4 camera-to-world (RGB sensor), metres
    sequence/frame-XXXXXX.color.jpg     colour
    sequence/frame-XXXXXX.depth.pgm     uint16 millimetres, registered to the colour camera

``mesh.refined.v2.obj`` holds the same vertices and faces as the annotated PLY in v2 (the
toolkit's FAQ), so the PLY alone gives geometry and instances. The scan's own frame is kept as
the world unless ``embodiedscan=`` names an infos pickle: then its ``axis_align_matrix`` for
``3rscan/<scan_id>`` maps the scan into EmbodiedScan's aligned frame, where its boxes live.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from spar3d.geometry.transforms import transform_points
from spar3d.scenes.embodiedscan import aligned_entry, boxes_of_entry, replace_boxes
from spar3d.scenes.labels import common_label
from spar3d.scenes.loaders import (
    LOADERS,
    LoaderOptions,
    SceneLoadError,
    image_size,
    option,
    read_json,
    read_matrix_txt,
    require_file,
    scene_folder,
)
from spar3d.scenes.model import Frame, Intrinsics, OrientedBox, Scene, SceneObject
from spar3d.scenes.scannet import read_mesh, read_ply_property

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]
ANNOTATED = "labels.instances.annotated.v2.ply"
SEMSEG = "semseg.v2.json"
SEQUENCE = "sequence"
_FRAME = re.compile(r"^frame-(\d{6})\.pose\.txt$")


@dataclass(frozen=True)
class TRScanOptions(LoaderOptions):
    """Options of the ``3rscan`` loader (``docs/loaders.md``)."""

    loader: ClassVar[str] = "3rscan"

    embodiedscan: Path | None = option(
        None, "an EmbodiedScan infos pickle: its axis_align_matrix for 3rscan/<scan_id> aligns "
        "the scan and its 9-DoF boxes replace the matching objects' boxes", file=True)
    source: str = option("3rscan", "dataset name recorded in the scene")


def read_info(path: Path) -> dict[str, Intrinsics]:
    """``{"color": ..., "depth": ...}`` intrinsics from ``_info.txt``: ``key = value`` lines,
    ``m_calibration*Intrinsic`` a row-major 4x4 (``fx 0 cx 0 0 fy cy 0 ...``)."""
    require_file(path, "camera info (_info.txt)")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SceneLoadError(f"{path}: cannot read ({exc})") from exc
    values: dict[str, tuple[int, str]] = {}
    for lineno, line in enumerate(lines, start=1):
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = (lineno, value.strip())
    out = {}
    for cam in ("color", "depth"):
        size = []
        for dim in ("Width", "Height"):
            key = f"m_{cam}{dim}"
            if key not in values:
                raise SceneLoadError(f"{path}: missing {key}")
            lineno, text = values[key]
            try:
                size.append(int(text))
            except ValueError:
                raise SceneLoadError(f"{path}, line {lineno} ({key}): not an integer") from None
        key = f"m_calibration{cam.capitalize()}Intrinsic"
        if key not in values:
            raise SceneLoadError(f"{path}: missing {key}")
        lineno, text = values[key]
        try:
            m = [float(t) for t in text.split()]
        except ValueError:
            raise SceneLoadError(f"{path}, line {lineno} ({key}): not numbers") from None
        if len(m) != 16:
            raise SceneLoadError(f"{path}, line {lineno} ({key}): expected 16 numbers, "
                                 f"found {len(m)}")
        K = np.array([[m[0], 0.0, m[2]], [0.0, m[5], m[6]], [0.0, 0.0, 1.0]])
        out[cam] = Intrinsics(K, size[0], size[1])
    return out


def read_labels(path: Path) -> dict[int, str]:
    """``objectId -> label`` from ``semseg.v2.json``'s ``segGroups``."""
    data = read_json(path)
    groups = data.get("segGroups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        raise SceneLoadError(f"{path}: field 'segGroups' missing or not a list")
    out = {}
    for i, g in enumerate(groups):
        try:
            out[int(g["objectId"])] = str(g["label"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SceneLoadError(f"{path}: segGroups[{i}] needs objectId and label "
                                 f"({exc})") from exc
    return out


def read_frames(seq: Path, A: F64) -> list[Frame]:
    """Every ``frame-XXXXXX.pose.txt`` in ``seq``, frame order, with ``T_world_cam = A @ pose``;
    non-finite poses are skipped."""
    cams = read_info(seq / "_info.txt")
    frames = []
    for p in sorted(seq.glob("frame-*.pose.txt")):
        m = _FRAME.match(p.name)
        if m is None:
            continue
        T = read_matrix_txt(p)
        if not np.isfinite(T).all():
            continue
        stem = p.name[: -len(".pose.txt")]
        color, depth = seq / f"{stem}.color.jpg", seq / f"{stem}.depth.pgm"
        c, d = cams["color"], cams["depth"]
        if depth.is_file() and image_size(depth, (d.width, d.height)) != (d.width, d.height):
            raise SceneLoadError(f"{depth}: size differs from _info.txt's m_depthWidth x "
                                 f"m_depthHeight ({d.width}x{d.height})")
        frames.append(Frame(m.group(1), A @ T, c, d if depth.is_file() else None,
                            color if color.is_file() else None,
                            depth if depth.is_file() else None))
    return frames


class TRScanLoader:
    """3RScan scan folders (``<scan_id>/labels.instances.annotated.v2.ply``, ``sequence/``)."""

    name = "3rscan"
    layout = "<scan_id>/labels.instances.annotated.v2.ply and <scan_id>/sequence/_info.txt"
    options_type = TRScanOptions

    _folder = staticmethod(scene_folder)

    def detect(self, path: Path) -> bool:
        folder = self._folder(path)
        return (folder / ANNOTATED).is_file() and (folder / SEMSEG).is_file()

    def load(
        self, path: Path, options: TRScanOptions | None = None, *, load_mesh: bool = True
    ) -> Scene:
        """Load one scan.

        Args:
            path: The ``<scan_id>`` folder (or a file in it).
            options: :class:`TRScanOptions` (None: the defaults).
            load_mesh: Keep the mesh faces (vertices are read either way).
        """
        o = options or TRScanOptions()
        folder = self._folder(Path(path))
        sid = folder.name
        ply = require_file(folder / ANNOTATED, "annotated mesh (PLY)")
        mesh = read_mesh(ply, with_faces=load_mesh)
        ids = read_ply_property(ply, "vertex", "objectId", len(mesh.vertices))
        labels = read_labels(folder / SEMSEG)
        A, entry, where = np.eye(4), None, ""
        if o.embodiedscan is not None:
            A, entry, where = aligned_entry(o.embodiedscan, sid)
        mesh.vertices = transform_points(A, mesh.vertices)
        objects = []
        for oid in sorted(set(np.unique(ids).tolist()) - {0}):
            vids = np.flatnonzero(ids == oid)
            raw = labels.get(oid)
            if raw is None:
                log.warning("%s: objectId %d has no segGroups entry in %s; skipped", ply, oid,
                            SEMSEG)
                continue
            objects.append(SceneObject(oid, common_label("3rscan", raw),
                                       OrientedBox.from_points(mesh.vertices[vids]), vids, raw))
        if entry is not None:
            replace_boxes(objects, boxes_of_entry(entry, where))
        frames = read_frames(folder / SEQUENCE, A)
        return Scene(sid, o.source, folder, objects, frames, mesh if load_mesh else None, A,
                     label_set="3rscan")


LOADERS.add(TRScanLoader.name, TRScanLoader())
