"""Loader for ARKitScenes 3DOD scene folders (``docs/loaders.md``).

Files read, for a folder ``<video_id>/``::

    <video_id>_3dod_annotation.json     data[*]: label, uid, segments.obbAligned (world boxes)
    <video_id>_3dod_mesh.ply            ARKit mesh (world frame, metres, z up)
    <video_id>_frames/lowres_wide.traj  per line: timestamp, axis-angle (3), translation (3)
    <video_id>_frames/lowres_wide/<video_id>_<timestamp>.png            colour
    <video_id>_frames/lowres_depth/<video_id>_<timestamp>.png           uint16 millimetres
    <video_id>_frames/lowres_wide_intrinsics/<video_id>_<timestamp>.pincam  w h fx fy cx cy

Each ``.traj`` line is the **world-to-camera** transform (``r_w_to_p``, ``t_w_to_p`` in the
toolkit's ``TrajStringToMatrix``, which inverts it into the camera-to-world pose it
back-projects depth with); the loader stores ``T_world_cam = inv([R(aa) | t])``. The boxes carry
no per-vertex annotation: an object's vertices are the mesh vertices inside its box.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spar3d.geometry.transforms import invert_pose
from spar3d.scenes.labels import common_label
from spar3d.scenes.loaders import (
    LOADERS,
    SceneLoadError,
    image_size,
    read_json,
    require_file,
    scene_folder,
)
from spar3d.scenes.model import Frame, Intrinsics, Scene, SceneObject
from spar3d.scenes.scannet import read_mesh
from spar3d.scenes.scannetpp import obb_to_box

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]
#: The toolkit matches a frame to a trajectory line within 5 ms (``tenFpsDataLoader``).
TIMESTAMP_TOLERANCE_S = 0.005


def axis_angle_to_matrix(aa: F64) -> F64:
    """Rodrigues' formula: rotation by ``|aa|`` radians about ``aa / |aa|``."""
    aa = np.asarray(aa, dtype=np.float64).reshape(3)
    theta = float(np.linalg.norm(aa))
    if theta < 1e-12:
        return np.eye(3)
    k = aa / theta
    Kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.asarray(np.eye(3) + np.sin(theta) * Kx + (1 - np.cos(theta)) * Kx @ Kx)


def read_traj(path: Path) -> list[tuple[float, F64]]:
    """``(timestamp, T_world_cam)`` per line of a ``.traj`` file."""
    require_file(path, "trajectory")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SceneLoadError(f"{path}: cannot read ({exc})") from exc
    out = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            v = [float(t) for t in line.split()]
        except ValueError as exc:
            raise SceneLoadError(f"{path}, line {lineno}: not numbers ({exc})") from exc
        if len(v) != 7:
            raise SceneLoadError(f"{path}, line {lineno}: expected 7 numbers (timestamp, "
                                 f"axis-angle, translation), found {len(v)}")
        T_cam_world = np.eye(4)
        T_cam_world[:3, :3] = axis_angle_to_matrix(np.array(v[1:4]))
        T_cam_world[:3, 3] = v[4:7]
        out.append((v[0], invert_pose(T_cam_world)))
    return out


def read_pincam(path: Path) -> tuple[F64, int, int]:
    """``(K, width, height)`` from a ``.pincam`` line ``w h fx fy cx cy``."""
    try:
        w, h, fx, fy, cx, cy = (float(t) for t in path.read_text(encoding="utf-8").split())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SceneLoadError(f"{path}: expected 'width height fx fy cx cy' ({exc})") from exc
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]]), int(w), int(h)


def _timestamp(name: str, video_id: str) -> str | None:
    stem = Path(name).stem
    prefix = f"{video_id}_"
    return stem[len(prefix):] if stem.startswith(prefix) else None


def read_frames(frames_dir: Path, video_id: str) -> list[Frame]:
    """Frames of ``lowres_wide``, in timestamp order, with their nearest trajectory pose."""
    traj = read_traj(frames_dir / "lowres_wide.traj")
    if not traj:
        raise SceneLoadError(f"{frames_dir / 'lowres_wide.traj'}: empty trajectory")
    times = np.array([t for t, _ in traj])
    wide = frames_dir / "lowres_wide"
    if not wide.is_dir():
        raise SceneLoadError(f"{wide}: missing colour folder")
    stamps = sorted(
        (ts for p in wide.glob("*.png") if (ts := _timestamp(p.name, video_id)) is not None),
        key=float,
    )
    frames = []
    skipped = 0
    for ts in stamps:
        t = float(ts)
        j = int(np.argmin(np.abs(times - t)))
        if abs(times[j] - t) > TIMESTAMP_TOLERANCE_S:
            skipped += 1
            continue
        pincam = frames_dir / "lowres_wide_intrinsics" / f"{video_id}_{ts}.pincam"
        if not pincam.is_file():  # the toolkit also tries +-1 ms
            for d in (-0.001, 0.001):
                alt = pincam.with_name(f"{video_id}_{t + d:.3f}.pincam")
                if alt.is_file():
                    pincam = alt
                    break
        K, w, h = read_pincam(require_file(pincam, "intrinsics (.pincam)"))
        color_path = wide / f"{video_id}_{ts}.png"
        depth_path = frames_dir / "lowres_depth" / f"{video_id}_{ts}.png"
        color = Intrinsics(K, w, h)
        depth = None
        if depth_path.is_file():
            depth = color.scaled_to(*image_size(depth_path, (w, h)))
        frames.append(Frame(ts, traj[j][1], color, depth, color_path,
                            depth_path if depth_path.is_file() else None))
    if skipped:
        log.info("%s: %d frame(s) without a trajectory pose within %.0f ms; skipped", frames_dir,
                 skipped, TIMESTAMP_TOLERANCE_S * 1000)
    return frames


def read_annotation(path: Path) -> list[tuple[int, str, Any]]:
    """``(object_id, raw label, box)`` per ``data`` entry; ids are the entries' order."""
    data = read_json(path)
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise SceneLoadError(f"{path}: field 'data' missing or not a list")
    out = []
    for i, e in enumerate(entries):
        where = f"{path}: data[{i}]"
        if not isinstance(e, dict) or "label" not in e:
            raise SceneLoadError(f"{where}: needs 'label'")
        seg = e.get("segments")
        obb = seg.get("obbAligned") if isinstance(seg, dict) else None
        if not isinstance(obb, dict):
            raise SceneLoadError(f"{where}: needs segments.obbAligned")
        out.append((i, str(e["label"]), obb_to_box(obb, f"{where}.segments.obbAligned")))
    return out


class ARKitScenesLoader:
    """ARKitScenes 3DOD folders (``<video_id>/<video_id>_3dod_annotation.json`` ...)."""

    name = "arkitscenes"
    layout = "<video_id>/<video_id>_3dod_annotation.json and <video_id>/<video_id>_3dod_mesh.ply"

    _folder = staticmethod(scene_folder)

    def detect(self, path: Path) -> bool:
        folder = self._folder(path)
        vid = folder.name
        return (folder / f"{vid}_3dod_annotation.json").is_file() or (
            folder / f"{vid}_3dod_mesh.ply"
        ).is_file()

    def load(
        self, path: Path, *, load_mesh: bool = True, source: str = "arkitscenes", **opts: Any
    ) -> Scene:
        """Load one 3DOD video folder.

        Args:
            path: The ``<video_id>`` folder (or a file in it).
            load_mesh: Keep the mesh faces (vertices are read either way).
            source: Dataset name recorded in the scene.
        """
        if opts:
            raise TypeError(f"arkitscenes loader: unknown option(s) {', '.join(sorted(opts))}")
        folder = self._folder(Path(path))
        vid = folder.name
        mesh = read_mesh(require_file(folder / f"{vid}_3dod_mesh.ply", "mesh (PLY)"),
                         with_faces=True)
        objects = []
        for oid, raw, box in read_annotation(folder / f"{vid}_3dod_annotation.json"):
            local = (mesh.vertices - box.center) @ box.R_world_box
            ids = np.flatnonzero(np.all(np.abs(local) <= box.size / 2.0 + 1e-6, axis=1))
            objects.append(SceneObject(oid, common_label("arkitscenes", raw), box,
                                       ids.astype(np.int64), raw))
        frames = read_frames(folder / f"{vid}_frames", vid)
        if not load_mesh:
            mesh.faces = None
        return Scene(vid, source, folder, objects, frames, mesh if load_mesh else None)


LOADERS.add(ARKitScenesLoader.name, ARKitScenesLoader())
