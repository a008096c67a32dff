"""Loader for ScanNet++ (v1 and v2) scene folders in the official layout (``docs/loaders.md``).

Files read, for a folder ``<data>/<scene_id>/``::

    scans/mesh_aligned_0.05.ply                 mesh in the aligned frame (metres, z up)
    scans/segments.json                         segIndices: one segment id per mesh vertex
    scans/segments_anno.json                    segGroups: objectId, label, segments, obb
    dslr/colmap/cameras.txt, images.txt         DSLR camera (OPENCV_FISHEYE) and world-to-camera
    dslr/nerfstudio/transforms.json             the same poses, nerfstudio convention (fallback)
    dslr/nerfstudio/transforms_undistorted.json pinhole poses of undistorted images (preferred)
    dslr/resized_images/*.JPG                   fisheye images (undistorted by the loader)
    dslr/resized_undistorted_images/ (v2), dslr/undistorted_images/ (toolkit output): pinhole
    iphone/pose_intrinsic_imu.json              per frame: aligned_pose (camera-to-world), intrinsic
    iphone/rgb/frame_XXXXXX.jpg, iphone/depth/frame_XXXXXX.png   (uint16 millimetres)

Fisheye DSLR images are undistorted to a pinhole camera (:mod:`spar3d.geometry.fisheye`) into
``undistort_dir`` before anything is drawn or projected on them.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from spar3d.geometry.camera import GL_TO_CV
from spar3d.geometry.fisheye import field_of_view_deg, pinhole_for_fisheye, remap, undistort_map
from spar3d.geometry.transforms import invert_pose
from spar3d.io import atomic_open
from spar3d.paths import check_component
from spar3d.scenes.labels import common_label
from spar3d.scenes.loaders import (
    LOADERS,
    LoaderOptions,
    SceneLoadError,
    frame_sort_key,
    image_size,
    option,
    parse_matrix,
    read_json,
    require_file,
)
from spar3d.scenes.model import Frame, Intrinsics, OrientedBox, Scene, SceneObject
from spar3d.scenes.scannet import read_mesh, read_seg_groups, read_segments, vertices_by_object

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]

MESH = "scans/mesh_aligned_0.05.ply"
SEGMENTS = "scans/segments.json"
ANNOTATION = "scans/segments_anno.json"
UNDISTORT_DIR = "dslr/spar3d_undistorted"
#: nerfstudio's world is COLMAP's with x and y swapped and z negated (ScanNet++
#: ``common/utils/nerfstudio.py``, ``convert_frames``); this matrix is its own inverse.
NERFSTUDIO_WORLD = np.array(
    [[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)


def nerfstudio_to_opencv(T_ns: F64) -> F64:
    """A nerfstudio ``transform_matrix`` as an OpenCV camera-to-world pose in the mesh frame."""
    return np.asarray(NERFSTUDIO_WORLD @ T_ns @ GL_TO_CV, dtype=np.float64)


def quat_to_matrix(qw: float, qx: float, qy: float, qz: float) -> F64:
    """Rotation matrix of a unit quaternion (Hamilton, scalar first, as COLMAP writes it)."""
    q = np.array([qw, qx, qy, qz], dtype=np.float64)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


# --- cameras --------------------------------------------------------------------------------


@dataclass
class Camera:
    """One intrinsic camera: pinhole ``K`` plus fisheye ``k1..k4`` (None for a pinhole)."""

    K: F64
    width: int
    height: int
    fisheye: F64 | None


def _lines(path: Path) -> list[str]:
    require_file(path, "COLMAP text file")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SceneLoadError(f"{path}: cannot read ({exc})") from exc


def read_colmap_cameras(path: Path) -> dict[int, Camera]:
    """``cameras.txt``: ``CAMERA_ID MODEL WIDTH HEIGHT PARAMS...`` (PINHOLE or OPENCV_FISHEYE)."""
    out: dict[int, Camera] = {}
    for lineno, line in enumerate(_lines(path), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        tok = line.split()
        where = f"{path}, line {lineno}"
        try:
            cid, model, w, h = int(tok[0]), tok[1], int(tok[2]), int(tok[3])
            p = [float(t) for t in tok[4:]]
        except (IndexError, ValueError) as exc:
            raise SceneLoadError(f"{where}: expected CAMERA_ID MODEL WIDTH HEIGHT PARAMS") from exc
        if model == "PINHOLE" and len(p) == 4:
            fx, fy, cx, cy, k = p[0], p[1], p[2], p[3], None
        elif model == "OPENCV_FISHEYE" and len(p) == 8:
            fx, fy, cx, cy, k = p[0], p[1], p[2], p[3], np.array(p[4:8])
        else:
            raise SceneLoadError(
                f"{where}: camera model {model} with {len(p)} parameters is not supported "
                "(PINHOLE: 4, OPENCV_FISHEYE: 8)"
            )
        K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
        out[cid] = Camera(K, w, h, k)
    return out


def read_colmap_images(path: Path) -> list[tuple[str, int, F64]]:
    """``images.txt``: ``(name, camera_id, T_world_cam)`` per image.

    Each image takes two lines: ``IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME`` (a
    world-to-camera rotation and translation) and its 2D points (possibly empty).
    """
    lines = _lines(path)
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            i += 1
            continue
        tok = line.split()
        try:
            q = [float(t) for t in tok[1:5]]
            t = np.array([float(v) for v in tok[5:8]])
            cid, name = int(tok[8]), " ".join(tok[9:])
        except (IndexError, ValueError) as exc:
            raise SceneLoadError(
                f"{path}, line {i + 1}: expected IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME"
            ) from exc
        T_cam_world = np.eye(4)
        T_cam_world[:3, :3] = quat_to_matrix(*q)
        T_cam_world[:3, 3] = t
        out.append((name, cid, invert_pose(T_cam_world)))
        i += 2  # the header and its points line
    return out


def read_transforms(path: Path) -> tuple[Camera, list[tuple[str, F64]]]:
    """A nerfstudio ``transforms.json``: camera and ``(file_path, T_world_cam)`` per frame."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise SceneLoadError(f"{path}: expected a JSON object")
    try:
        fx, fy = float(data["fl_x"]), float(data["fl_y"])
        cx, cy = float(data["cx"]), float(data["cy"])
        w, h = int(data["w"]), int(data["h"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SceneLoadError(f"{path}: needs numeric fl_x, fl_y, cx, cy, w, h ({exc})") from exc
    model = data.get("camera_model", "OPENCV_FISHEYE" if "k1" in data else "PINHOLE")
    k = None
    if model == "OPENCV_FISHEYE":
        try:
            k = np.array([float(data.get(f"k{i}", 0.0)) for i in range(1, 5)])
        except (TypeError, ValueError) as exc:
            raise SceneLoadError(f"{path}: fields k1..k4 must be numbers") from exc
    elif model != "PINHOLE":
        raise SceneLoadError(f"{path}: camera_model {model!r} not supported")
    K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    frames = []
    for key in ("frames", "test_frames"):
        for i, f in enumerate(data.get(key) or []):
            where = f"{path}: {key}[{i}]"
            if not isinstance(f, dict) or "file_path" not in f or "transform_matrix" not in f:
                raise SceneLoadError(f"{where}: needs 'file_path' and 'transform_matrix'")
            T_ns = parse_matrix(f["transform_matrix"], 4, f"{where}.transform_matrix")
            frames.append((Path(str(f["file_path"])).name, nerfstudio_to_opencv(T_ns)))
    return Camera(K, w, h, k), frames


# --- the loader ---------------------------------------------------------------------------


def read_obbs(path: Path) -> dict[int, OrientedBox]:
    """``objectId -> box`` from the ``obb`` of each ``segGroups`` entry that has one.

    ``normalizedAxes`` holds the three box axes as rows (the toolkit's ``semantics_2d.py`` takes
    ``reshape(3, 3).T`` as the box rotation), ``axesLengths`` the full extents along them.
    """
    data = read_json(path)
    out: dict[int, OrientedBox] = {}
    for i, g in enumerate(data.get("segGroups", []) if isinstance(data, dict) else []):
        obb = g.get("obb") if isinstance(g, dict) else None
        if not isinstance(obb, dict):
            continue
        out[int(g["objectId"])] = obb_to_box(obb, f"{path}: segGroups[{i}].obb")
    return out


def obb_to_box(obb: dict[str, Any], where: str) -> OrientedBox:
    """An ``{centroid, axesLengths, normalizedAxes}`` box (ScanNet++ and ARKitScenes)."""
    try:
        center = np.asarray(obb["centroid"], dtype=np.float64).reshape(3)
        size = np.asarray(obb["axesLengths"], dtype=np.float64).reshape(3)
        axes = np.asarray(obb["normalizedAxes"], dtype=np.float64).reshape(3, 3)
    except (KeyError, TypeError, ValueError) as exc:
        raise SceneLoadError(
            f"{where}: needs centroid (3), axesLengths (3) and normalizedAxes (9) ({exc})"
        ) from exc
    R = axes.T
    if not np.allclose(R.T @ R, np.eye(3), atol=1e-3):
        raise SceneLoadError(f"{where}.normalizedAxes: not orthonormal")
    if np.linalg.det(R) < 0:  # a left-handed axis set spans the same box
        R[:, 2] = -R[:, 2]
    return OrientedBox(center, size, R)


def _undistorted_path(image: Path, out_dir: Path) -> Path:
    return out_dir / image.name


def undistort_frames(
    cam: Camera, images: list[Path], out_dir: Path
) -> tuple[Intrinsics, list[Path | None]]:
    """Undistort fisheye ``images`` into ``out_dir`` (kept when already there); pinhole K."""
    from PIL import Image

    assert cam.fisheye is not None
    K_new = pinhole_for_fisheye(cam.K, cam.fisheye, cam.width, cam.height)
    record = {
        "K_fisheye": cam.K.tolist(),
        "k1_k4": cam.fisheye.tolist(),
        "K_pinhole": K_new.tolist(),
        "size": [cam.width, cam.height],
        "fov_deg": list(field_of_view_deg(K_new, cam.width, cam.height)),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / "camera.json"
    try:
        reuse = json.loads(marker.read_text(encoding="utf-8")) == record
    except (OSError, ValueError):  # absent or unreadable: undistort again
        reuse = False
    paths: list[Path | None] = []
    coords = None  # the resampling map, computed once for the camera
    for src in images:
        if not src.is_file():
            paths.append(None)
            continue
        dst = _undistorted_path(src, out_dir)
        if not (reuse and dst.is_file()):
            with Image.open(src) as im:
                arr = np.asarray(im.convert("RGB"))
            if arr.shape[:2] != (cam.height, cam.width):
                raise SceneLoadError(
                    f"{src}: image is {arr.shape[1]}x{arr.shape[0]}, camera says "
                    f"{cam.width}x{cam.height}"
                )
            if coords is None:
                coords = undistort_map(cam.K, cam.fisheye, K_new, cam.width, cam.height)
            buf = io.BytesIO()
            Image.fromarray(remap(arr, coords)).save(buf, format="JPEG", quality=95)
            with atomic_open(dst, "wb") as fh:
                fh.write(buf.getvalue())
        paths.append(dst)
    with atomic_open(marker, "w", encoding="utf-8") as fh:
        json.dump(record, fh, indent=1)
    return Intrinsics(K_new, cam.width, cam.height), paths


def dslr_frames(folder: Path, undistort_dir: Path) -> list[Frame]:
    """DSLR frames, pinhole, in the mesh frame (see ``docs/loaders.md`` for the order tried)."""
    dslr = folder / "dslr"
    undist_json = dslr / "nerfstudio" / "transforms_undistorted.json"
    if undist_json.is_file():  # toolkit output (v1) or shipped (v2): pinhole already
        cam, posed = read_transforms(undist_json)
        if cam.fisheye is not None:
            raise SceneLoadError(f"{undist_json}: expected a PINHOLE camera_model")
        image_dir = next(
            (d for d in (dslr / "resized_undistorted_images", dslr / "undistorted_images")
             if d.is_dir()),
            dslr / "resized_undistorted_images",
        )
        color = Intrinsics(cam.K, cam.width, cam.height)
        return [
            Frame(Path(n).stem, T, color, None, p if (p := image_dir / n).is_file() else None)
            for n, T in sorted(posed, key=lambda f: frame_sort_key(Path(f[0]).stem))
        ]
    colmap = dslr / "colmap"
    if (colmap / "images.txt").is_file():
        cams = read_colmap_cameras(colmap / "cameras.txt")
        rows = read_colmap_images(colmap / "images.txt")
        for name, cid, _T in rows:
            if cid not in cams:
                raise SceneLoadError(f"{colmap / 'images.txt'}: image {name} names camera {cid}, "
                                     f"not in cameras.txt")
        if len({cid for _, cid, _ in rows}) > 1:
            raise SceneLoadError(f"{colmap / 'images.txt'}: more than one camera")
        cam = cams[rows[0][1]] if rows else next(iter(cams.values()))
        posed = [(Path(n).name, T) for n, _cid, T in rows]
    else:
        cam, posed = read_transforms(require_file(dslr / "nerfstudio" / "transforms.json",
                                                  "DSLR poses (colmap/images.txt or "
                                                  "nerfstudio/transforms.json)"))
    posed.sort(key=lambda f: frame_sort_key(Path(f[0]).stem))
    sources = [dslr / "resized_images" / n for n, _ in posed]
    if cam.fisheye is not None:
        color, paths = undistort_frames(cam, sources, undistort_dir)
    else:
        color = Intrinsics(cam.K, cam.width, cam.height)
        paths = [p if p.is_file() else None for p in sources]
    return [
        Frame(Path(n).stem, T, color, None, p) for (n, T), p in zip(posed, paths, strict=True)
    ]


def iphone_frames(folder: Path) -> list[Frame]:
    """iPhone frames from ``pose_intrinsic_imu.json`` (``aligned_pose`` is camera-to-world)."""
    iphone = folder / "iphone"
    path = iphone / "pose_intrinsic_imu.json"
    data = read_json(path)
    if not isinstance(data, dict):
        raise SceneLoadError(f"{path}: expected an object keyed by frame name")
    frames = []
    names = sorted(data, key=lambda n: frame_sort_key(n.removeprefix("frame_")))
    first_rgb = next((p for n in names if (p := iphone / "rgb" / f"{n}.jpg").is_file()), None)
    first_depth = next((p for n in names if (p := iphone / "depth" / f"{n}.png").is_file()), None)
    rgb_size = image_size(first_rgb, (1920, 1440))
    depth_size = image_size(first_depth, (256, 192)) if first_depth else None
    for name in names:
        entry = data[name]
        where = f"{path}: {name}"
        check_component(name, "frame name", str(path))  # it becomes a file name below
        if not isinstance(entry, dict) or "aligned_pose" not in entry or "intrinsic" not in entry:
            raise SceneLoadError(f"{where}: needs 'aligned_pose' and 'intrinsic'")
        T = parse_matrix(entry["aligned_pose"], 4, f"{where}.aligned_pose")
        if not np.all(np.isfinite(T)):
            continue
        K = parse_matrix(entry["intrinsic"], 3, f"{where}.intrinsic")
        color = Intrinsics(K, *rgb_size)
        depth = color.scaled_to(*depth_size) if depth_size else None
        rgb, dep = iphone / "rgb" / f"{name}.jpg", iphone / "depth" / f"{name}.png"
        frames.append(
            Frame(name, T, color, depth, rgb if rgb.is_file() else None,
                  dep if dep.is_file() else None)
        )
    return frames


@dataclass(frozen=True)
class ScanNetPPOptions(LoaderOptions):
    """Options of the ``scannetpp`` loader (``docs/loaders.md``)."""

    loader: ClassVar[str] = "scannetpp"

    camera: Literal["auto", "dslr", "iphone"] = option(
        "auto", "camera stream: auto takes the DSLR when dslr/ has poses, else the iPhone")
    undistort_dir: Path | None = option(
        None, "where undistorted DSLR images go (default <scene>/dslr/spar3d_undistorted); "
        "reused while its camera.json matches")
    source: str = option("scannetpp", "dataset name recorded in the scene")


class ScanNetPPLoader:
    """ScanNet++ scene folders (``<data>/<scene_id>/scans``, ``dslr``, ``iphone``)."""

    name = "scannetpp"
    layout = "<scene>/scans/mesh_aligned_0.05.ply and <scene>/scans/segments_anno.json"
    options_type = ScanNetPPOptions

    @staticmethod
    def _folder(path: Path) -> Path:
        path = Path(path)
        if path.is_file():
            path = path.parent
        return path.parent if path.name == "scans" else path

    def detect(self, path: Path) -> bool:
        folder = self._folder(path)
        return (folder / MESH).is_file() or (folder / ANNOTATION).is_file()

    def load(
        self, path: Path, options: ScanNetPPOptions | None = None, *, load_mesh: bool = True
    ) -> Scene:
        """Load one ScanNet++ scene.

        Args:
            path: The scene folder (or a file in it, or its ``scans`` folder).
            options: :class:`ScanNetPPOptions` (None: the defaults).
            load_mesh: Keep the mesh faces (vertices are read either way).
        """
        o = options or ScanNetPPOptions()
        camera, undistort_dir, source = o.camera, o.undistort_dir, o.source
        folder = self._folder(Path(path))
        mesh = read_mesh(require_file(folder / MESH, "mesh (PLY)"), with_faces=load_mesh)
        seg = read_segments(require_file(folder / SEGMENTS, "segments file"), len(mesh.vertices))
        groups = read_seg_groups(require_file(folder / ANNOTATION, "annotation file"))
        boxes = read_obbs(folder / ANNOTATION)
        verts = vertices_by_object(seg, groups)
        objects = []
        for oid, raw, _segments in groups:
            ids = verts[oid]
            if oid in boxes:
                box = boxes[oid]
            elif len(ids):
                box = OrientedBox.from_points(mesh.vertices[ids])
            else:
                log.warning("%s: object %d (%s) has no vertices and no obb; skipped", folder, oid,
                            raw)
                continue
            objects.append(SceneObject(oid, common_label("scannetpp", raw), box, ids, raw))

        dslr_posed = (folder / "dslr" / "colmap" / "images.txt").is_file() or any(
            (folder / "dslr" / "nerfstudio" / n).is_file()
            for n in ("transforms.json", "transforms_undistorted.json")
        )
        use = camera if camera != "auto" else ("dslr" if dslr_posed else "iphone")
        if use == "dslr":
            out = Path(undistort_dir) if undistort_dir is not None else folder / UNDISTORT_DIR
            frames = dslr_frames(folder, out)
        else:
            frames = iphone_frames(folder)
        return Scene(folder.name, source, folder, objects, frames, mesh if load_mesh else None)


LOADERS.add(ScanNetPPLoader.name, ScanNetPPLoader())
