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

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from spar3d.geometry.transforms import invert_pose
from spar3d.scenes.labels import common_label
from spar3d.scenes.loaders import (
    LOADERS,
    LoaderOptions,
    SceneLoadError,
    image_size,
    option,
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


# --- sky direction: turning frames upright --------------------------------------------------

#: ``metadata.csv``'s ``sky_direction`` -> clockwise quarter turns that put the sky up, as the
#: toolkit's ``depth_upsampling/dataset.py`` (``rotate_image``) turns its images: Left ->
#: ``ROTATE_90_CLOCKWISE``, Right -> ``ROTATE_90_COUNTERCLOCKWISE``, Down -> ``ROTATE_180``.
CLOCKWISE_TURNS = {"Up": 0, "Left": 1, "Down": 2, "Right": 3}
UPRIGHT_DIR = "spar3d_upright"
#: One clockwise quarter turn of the image is a turn of the camera about its optical axis:
#: ``p_new = QUARTER @ p_old`` (new x = -old y, new y = old x, z kept).
QUARTER = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def find_metadata(folder: Path, given: Path | None) -> Path | None:
    """``metadata.csv`` of the dataset: ``given``, else beside the video folder or one up
    (``download_data.py`` writes ``<dir>/3dod/metadata.csv`` above ``3dod/<split>/<id>/``)."""
    if given is not None:
        return require_file(given, "metadata.csv")
    for cand in (folder.parent / "metadata.csv", folder.parent.parent / "metadata.csv"):
        if cand.is_file():
            return cand
    return None


def read_sky_direction(path: Path, video_id: str) -> str | None:
    """The ``sky_direction`` of ``video_id`` in ``metadata.csv`` (None when absent or NA)."""
    import csv

    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"video_id", "sky_direction"} - set(reader.fieldnames or [])
            if missing:
                raise SceneLoadError(f"{path}: header lacks column(s) {', '.join(sorted(missing))}")
            for lineno, row in enumerate(reader, start=2):
                raw_id = (row.get("video_id") or "").strip()
                try:
                    same = raw_id == video_id or (
                        video_id.isdigit() and float(raw_id) == float(video_id)
                    )
                except ValueError:
                    same = False
                if not same:
                    continue
                sky = (row.get("sky_direction") or "").strip()
                if sky in CLOCKWISE_TURNS:
                    return sky
                if sky in ("", "NA", "nan"):
                    return None
                raise SceneLoadError(
                    f"{path}, line {lineno} (sky_direction): {sky!r} is not one of "
                    f"{', '.join(CLOCKWISE_TURNS)} or NA"
                )
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SceneLoadError(f"{path}: cannot read ({exc})") from exc
    return None


def sky_from_poses(frames: list[Frame]) -> str:
    """The direction most frames' poses give by the toolkit's ``rectify_im.py``
    (``decide_pose``): the world's +z seen from the camera (row 2 of ``T_world_cam``'s rotation)
    pointing to image up (-y), left (-x), down (+y) or right (+x)."""
    votes = dict.fromkeys(CLOCKWISE_TURNS, 0)
    names = ("Up", "Left", "Down", "Right")
    axes = np.array([[0.0, -1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    for f in frames:
        votes[names[int(np.argmax(axes @ f.T_world_cam[2, :3]))]] += 1
    return max(names, key=lambda n: votes[n])  # ties: the first (Up)


def resolve_sky_direction(folder: Path, o: ARKitScenesOptions, frames: list[Frame]) -> str:
    """``Up`` / ``Down`` / ``Left`` / ``Right``: the option, the video's ``metadata.csv`` row,
    or (no metadata) the poses' majority; ``none`` keeps the images as stored (``Up``)."""
    if o.sky_direction == "none":
        return "Up"
    if o.sky_direction != "auto":
        return o.sky_direction
    meta = find_metadata(folder, o.metadata)
    if meta is not None:
        sky = read_sky_direction(meta, folder.name)
        if sky is not None:
            return sky
        log.warning("%s: no sky_direction for video %s; deciding from the poses", meta,
                    folder.name)
    return sky_from_poses(frames) if frames else "Up"


def turn_intrinsics(intr: Intrinsics, turns: int) -> Intrinsics:
    """The intrinsics of the image turned ``turns`` quarter turns clockwise (pixel centres at
    integers: a clockwise turn maps pixel ``(x, y)`` of a ``W x H`` image to ``(H-1-y, x)``)."""
    K, w, h = intr.K.copy(), intr.width, intr.height
    for _ in range(turns % 4):
        fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
        K = np.array([[fy, 0.0, h - 1 - cy], [0.0, fx, cx], [0.0, 0.0, 1.0]])
        w, h = h, w
    return Intrinsics(K, w, h)


def turn_pose(T_world_cam: F64, turns: int) -> F64:
    """The pose of the camera turned with its image: ``T_world_cam @ [QUARTER^T]^turns``."""
    T = T_world_cam.copy()
    R = np.linalg.matrix_power(QUARTER, turns % 4)
    T[:3, :3] = T_world_cam[:3, :3] @ R.T
    return T


def _turn_image(src: Path, dst: Path, turns: int, reuse: bool) -> Path:
    from PIL import Image, UnidentifiedImageError

    from spar3d.io import atomic_open

    if reuse and dst.is_file():
        return dst
    try:
        with Image.open(src) as im:
            arr = np.asarray(im)
    except (OSError, UnidentifiedImageError) as exc:
        raise SceneLoadError(f"{src}: cannot read image ({exc})") from exc
    out = Image.fromarray(np.ascontiguousarray(np.rot90(arr, k=-turns)))
    buf = io.BytesIO()
    out.save(buf, format="PNG")  # lossless, uint16 depth kept
    with atomic_open(dst, "wb") as fh:
        fh.write(buf.getvalue())
    return dst


def upright_frames(frames: list[Frame], sky: str, out_dir: Path) -> list[Frame]:
    """Frames turned so that the sky is up: images written to ``out_dir`` (``lowres_wide/``,
    ``lowres_depth/``; kept while ``upright.json`` matches), intrinsics and poses turned with
    them."""
    import json

    from spar3d.io import write_json

    turns = CLOCKWISE_TURNS[sky]
    record = {"sky_direction": sky, "clockwise_quarter_turns": turns}
    marker = out_dir / "upright.json"
    try:
        reuse = json.loads(marker.read_text(encoding="utf-8")) == record
    except (OSError, ValueError):
        reuse = False
    out = []
    for f in frames:
        color_path = depth_path = None
        if f.color_path is not None and f.color_path.is_file():
            color_path = _turn_image(f.color_path, out_dir / "lowres_wide" / f.color_path.name,
                                     turns, reuse)
        if f.depth_path is not None and f.depth_path.is_file():
            depth_path = _turn_image(f.depth_path, out_dir / "lowres_depth" / f.depth_path.name,
                                     turns, reuse)
        out.append(Frame(f.frame_id, turn_pose(f.T_world_cam, turns),
                         turn_intrinsics(f.color, turns),
                         turn_intrinsics(f.depth, turns) if f.depth is not None else None,
                         color_path, depth_path))
    write_json(marker, record)
    return out


@dataclass(frozen=True)
class ARKitScenesOptions(LoaderOptions):
    """Options of the ``arkitscenes`` loader (``docs/loaders.md``)."""

    loader: ClassVar[str] = "arkitscenes"

    source: str = option("arkitscenes", "dataset name recorded in the scene")
    sky_direction: Literal["auto", "none", "Up", "Down", "Left", "Right"] = option(
        "auto", "where the sky is in the stored images; frames are turned so that it is up: "
        "auto reads the video's row of metadata.csv, else decides from the poses; none keeps "
        "the images as stored")
    metadata: Path | None = option(
        None, "the dataset's metadata.csv (default: beside the video folder or one folder up, "
        "where download_data.py puts it)", file=True)
    upright_dir: Path | None = option(
        None, "where turned images go (default <video_id>/<video_id>_frames/spar3d_upright)")


class ARKitScenesLoader:
    """ARKitScenes 3DOD folders (``<video_id>/<video_id>_3dod_annotation.json`` ...)."""

    name = "arkitscenes"
    layout = "<video_id>/<video_id>_3dod_annotation.json and <video_id>/<video_id>_3dod_mesh.ply"
    options_type = ARKitScenesOptions

    _folder = staticmethod(scene_folder)

    def detect(self, path: Path) -> bool:
        folder = self._folder(path)
        vid = folder.name
        return (folder / f"{vid}_3dod_annotation.json").is_file() or (
            folder / f"{vid}_3dod_mesh.ply"
        ).is_file()

    def load(
        self, path: Path, options: ARKitScenesOptions | None = None, *, load_mesh: bool = True
    ) -> Scene:
        """Load one 3DOD video folder.

        Args:
            path: The ``<video_id>`` folder (or a file in it).
            options: :class:`ARKitScenesOptions` (None: the defaults).
            load_mesh: Keep the mesh faces (vertices are read either way).
        """
        o = options or ARKitScenesOptions()
        source = o.source
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
        sky = resolve_sky_direction(folder, o, frames)
        if CLOCKWISE_TURNS[sky]:
            out = o.upright_dir or folder / f"{vid}_frames" / UPRIGHT_DIR
            frames = upright_frames(frames, sky, out)
        if not load_mesh:
            mesh.faces = None
        return Scene(vid, source, folder, objects, frames, mesh if load_mesh else None)


LOADERS.add(ARKitScenesLoader.name, ARKitScenesLoader())
