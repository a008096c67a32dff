"""Loader for Structured3D scenes (perspective renderings and 3D boxes), ``docs/loaders.md``.

Files read, for a folder ``scene_<id>/``::

    bbox_3d.json                                       [{ID, basis, coeffs, centroid}], millimetres
    2D_rendering/<room>/perspective/full/<pos>/
        rgb_rawlight.png                               colour
        depth.png                                      uint16 millimetres, 0 = no reading
        instance.png                                   uint16 instance ID (= bbox ID), 65535 = none
        semantic.png                                   uint8 NYU40 id
        camera_pose.txt                                vx vy vz tx ty tz ux uy uz xfov yfov 1

There is no mesh. The surface is the point cloud of every view's depth, back-projected (one
point per ``stride`` pixels along each axis, default 8), each point labelled by its instance
pixel. Each frame keeps its ``instance.png`` (``Frame.instance_path``), and the index decides
visibility from each view's depth and instance images (``pointcloud_visibility="instance"``,
the source's preset): an object is seen in a view iff its id is in the view's instance image,
which is exact, with its 2D box from those pixels and its points checked against both images.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from spar3d.errors import check_number
from spar3d.geometry.camera import unproject
from spar3d.geometry.transforms import cam_to_world
from spar3d.scenes.labels import common_label, nyu40_name
from spar3d.scenes.loaders import (
    LOADERS,
    LoaderOptions,
    SceneLoadError,
    frame_sort_key,
    image_size,
    option,
    read_json,
    require_file,
    scene_folder,
)
from spar3d.scenes.model import Frame, Intrinsics, OrientedBox, Scene, SceneMesh, SceneObject

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]
MM = 1000.0  # Structured3D stores positions and depth in millimetres
BACKGROUND = 65535  # instance.png value of pixels with no instance
VIEW_DIR = "perspective/full"
STRUCTURE_NYU40 = {1: "wall", 2: "floor", 22: "ceiling"}


def read_camera_pose(path: Path, width: int, height: int) -> tuple[F64, F64]:
    """``(T_world_cam, K)`` from ``camera_pose.txt`` (world in metres, OpenCV camera).

    The toolkit (``misc/utils.py``, ``parse_camera_info``) builds ``W = towards``,
    ``U = W x up``, ``V = -(W x U)`` and projects ``x = U.p, y = -V.p, z = W.p`` with
    ``cx = width / 2``, ``fx = cx / tan(xfov)``: so the OpenCV axes are ``U`` (right),
    ``W x U`` (down) and ``W`` (forward).
    """
    require_file(path, "camera pose")
    try:
        v = [float(t) for t in path.read_text(encoding="utf-8").split()]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SceneLoadError(f"{path}: not a line of numbers ({exc})") from exc
    if len(v) < 11:
        raise SceneLoadError(f"{path}: expected 'vx vy vz tx ty tz ux uy uz xfov yfov 1', "
                             f"found {len(v)} numbers")
    eye, towards, up = np.array(v[0:3]), np.array(v[3:6]), np.array(v[6:9])
    xfov, yfov = v[9], v[10]
    w = towards / np.linalg.norm(towards)
    u = np.cross(w, up)
    if np.linalg.norm(u) < 1e-9 or not (0 < xfov < np.pi / 2 and 0 < yfov < np.pi / 2):
        raise SceneLoadError(f"{path}: towards is parallel to up, or a half field of view is "
                             "outside (0, pi/2)")
    u /= np.linalg.norm(u)
    T = np.eye(4)
    T[:3, :3] = np.column_stack([u, np.cross(w, u), w])
    T[:3, 3] = eye / MM
    cx, cy = width / 2.0, height / 2.0
    K = np.array([[cx / np.tan(xfov), 0.0, cx], [0.0, cy / np.tan(yfov), cy], [0.0, 0.0, 1.0]])
    return T, K


def read_boxes(path: Path) -> dict[int, OrientedBox]:
    """``ID -> box`` from ``bbox_3d.json``: ``basis`` rows are the box axes, ``coeffs`` the
    half extents along them (SUN RGB-D style), ``centroid`` the centre; millimetres."""
    data = read_json(path)
    if not isinstance(data, list):
        raise SceneLoadError(f"{path}: expected a list of boxes")
    out: dict[int, OrientedBox] = {}
    for i, b in enumerate(data):
        where = f"{path}: [{i}]"
        try:
            bid = int(b["ID"])
            basis = np.asarray(b["basis"], dtype=np.float64).reshape(3, 3)
            coeffs = np.abs(np.asarray(b["coeffs"], dtype=np.float64).reshape(3))
            centroid = np.asarray(b["centroid"], dtype=np.float64).reshape(3)
        except (KeyError, TypeError, ValueError) as exc:
            raise SceneLoadError(f"{where}: needs ID, basis (3x3), coeffs (3), centroid (3) "
                                 f"({exc})") from exc
        R = basis.T.copy()
        norms = np.linalg.norm(R, axis=0)
        if np.any(norms < 1e-9):
            raise SceneLoadError(f"{where}.basis: a zero axis")
        R /= norms
        if np.linalg.det(R) < 0:  # SUN RGB-D bases may be left-handed: same box
            R[:, 2] = -R[:, 2]
        out[bid] = OrientedBox(centroid / MM, 2.0 * coeffs / MM, R)
    return out


def _read_png(path: Path) -> NDArray[Any]:
    from PIL import Image, UnidentifiedImageError

    require_file(path, "image")
    try:
        with Image.open(path) as im:
            return np.asarray(im)
    except (OSError, UnidentifiedImageError) as exc:
        raise SceneLoadError(f"{path}: cannot read image ({exc})") from exc


def read_instance_png(path: Path, boxes: dict[int, OrientedBox]) -> NDArray[np.int64]:
    """An ``instance.png``: one 16-bit channel of instance ids, 65535 = background
    (``data_organization.md``); every other id should be a ``bbox_3d.json`` ``ID``
    (``visualize_bbox.py`` looks each one up there), ids without a box are logged."""
    arr = _read_png(path)
    if arr.ndim != 2 or arr.dtype.kind not in "ui" or arr.dtype.itemsize < 2:
        raise SceneLoadError(f"{path}: expected a single-channel 16-bit PNG of instance ids, "
                             f"got {arr.dtype} with shape {arr.shape}")
    ids = arr.astype(np.int64)
    stray = sorted(set(np.unique(ids).tolist()) - set(boxes) - {BACKGROUND})
    if stray:
        log.warning("%s: instance id(s) %s have no box in bbox_3d.json; treated as background",
                    path, ", ".join(map(str, stray[:10])))
    return ids


def view_dirs(folder: Path) -> list[tuple[str, Path]]:
    """``(frame_id, position folder)`` of every perspective view, rooms and positions sorted."""
    out = []
    rendering = folder / "2D_rendering"
    for room in sorted((p for p in rendering.iterdir() if p.is_dir()),
                       key=lambda p: frame_sort_key(p.name)):
        full = room / VIEW_DIR
        if not full.is_dir():
            continue
        for pos in sorted((p for p in full.iterdir() if p.is_dir()),
                          key=lambda p: frame_sort_key(p.name)):
            if (pos / "camera_pose.txt").is_file():
                out.append((f"{room.name}_{pos.name}", pos))
    return out


@dataclass(frozen=True)
class Structured3DOptions(LoaderOptions):
    """Options of the ``structured3d`` loader (``docs/loaders.md``)."""

    loader: ClassVar[str] = "structured3d"

    stride: int = option(8, "back-project one depth pixel in stride along each image axis")
    source: str = option("structured3d", "dataset name recorded in the scene")

    def validate(self) -> None:
        check_number(self.option_name("stride"), self.stride, minimum=1, maximum=1024)


class Structured3DLoader:
    """Structured3D scene folders (``scene_<id>/bbox_3d.json`` + ``2D_rendering``)."""

    name = "structured3d"
    layout = "scene_<id>/bbox_3d.json and scene_<id>/2D_rendering/<room>/perspective/full/<pos>/"
    options_type = Structured3DOptions

    _folder = staticmethod(scene_folder)

    def detect(self, path: Path) -> bool:
        folder = self._folder(path)
        return (folder / "bbox_3d.json").is_file() and (folder / "2D_rendering").is_dir()

    def load(
        self, path: Path, options: Structured3DOptions | None = None, *, load_mesh: bool = True
    ) -> Scene:
        """Load one scene.

        Args:
            path: The ``scene_<id>`` folder.
            options: :class:`Structured3DOptions` (None: the defaults).
            load_mesh: Keep the point cloud as ``Scene.mesh`` (it is built either way: objects'
                ``vertex_ids`` index it).
        """
        o = options or Structured3DOptions()
        stride, source = o.stride, o.source
        folder = self._folder(Path(path))
        boxes = read_boxes(require_file(folder / "bbox_3d.json", "box file"))
        views = view_dirs(folder)
        if not views:
            raise SceneLoadError(f"{folder / '2D_rendering'}: no perspective views "
                                 f"(<room>/{VIEW_DIR}/<pos>/camera_pose.txt)")
        frames: list[Frame] = []
        pts, cols, inst, sem = [], [], [], []
        for frame_id, pos in views:
            rgb_path, depth_path = pos / "rgb_rawlight.png", pos / "depth.png"
            w, h = image_size(depth_path if depth_path.is_file() else rgb_path, (1280, 720))
            T, K = read_camera_pose(pos / "camera_pose.txt", w, h)
            intr = Intrinsics(K, w, h)
            instance_path = pos / "instance.png"
            frames.append(Frame(frame_id, T, intr, intr if depth_path.is_file() else None,
                                rgb_path if rgb_path.is_file() else None,
                                depth_path if depth_path.is_file() else None,
                                instance_path if instance_path.is_file() else None))
            if not depth_path.is_file():
                continue
            depth = _read_png(depth_path).astype(np.float64) / MM
            ins = read_instance_png(require_file(instance_path, "instance image"), boxes)
            se = _read_png(require_file(pos / "semantic.png", "semantic image")).astype(np.int64)
            rgb = _read_png(rgb_path)[..., :3] if rgb_path.is_file() else None
            for name, arr in (("instance.png", ins), ("semantic.png", se)):
                if arr.shape[:2] != depth.shape:
                    raise SceneLoadError(f"{pos / name}: size {arr.shape[1]}x{arr.shape[0]} "
                                         f"differs from depth.png's {w}x{h}")
            sub = (slice(stride // 2, None, stride), slice(stride // 2, None, stride))
            v, u = np.mgrid[0:h, 0:w][:, sub[0], sub[1]]
            d = depth[sub]
            ok = d > 0
            p_cam = unproject(K, np.column_stack([u[ok], v[ok]]).astype(np.float64), d[ok])
            pts.append(cam_to_world(T, p_cam))
            inst.append(ins[sub][ok])
            sem.append(se[sub][ok] if se.ndim == 2 else se[sub][..., 0][ok])
            cols.append(rgb[sub][ok] if rgb is not None and rgb.shape[:2] == depth.shape
                        else np.full((int(ok.sum()), 3), 128, np.uint8))
        if not pts:
            raise SceneLoadError(f"{folder}: no view has a depth.png to build the surface from")
        points = np.concatenate(pts)
        instance = np.concatenate(inst)
        semantic = np.concatenate(sem)
        objects = self._objects(folder, boxes, points, instance, semantic)
        mesh = SceneMesh(points, None, np.concatenate(cols).astype(np.uint8))
        return Scene(folder.name, source, folder, objects, frames, mesh if load_mesh else None)

    @staticmethod
    def _objects(
        folder: Path,
        boxes: dict[int, OrientedBox],
        points: F64,
        instance: NDArray[np.int64],
        semantic: NDArray[np.int64],
    ) -> list[SceneObject]:
        objects = []
        order = np.argsort(instance, kind="stable")
        ids, starts, counts = np.unique(instance[order], return_index=True, return_counts=True)
        members = {int(i): np.sort(order[s:s + c]) for i, s, c in zip(ids, starts, counts,
                                                                      strict=True)}
        for bid, box in sorted(boxes.items()):
            idx = members.get(bid)
            if idx is None:
                log.info("%s: box %d is seen in no view (no label); skipped", folder, bid)
                continue
            # depth against instance: the pixels of an id, lifted by their depth, lie in its box
            local = np.abs((points[idx] - box.center) @ box.R_world_box)
            inside = np.all(local <= box.size / 2.0 * 1.05 + 0.05, axis=1).mean()
            if inside < 0.5:
                log.warning("%s: only %.0f%% of the pixels of instance %d lie in its "
                            "bbox_3d.json box (depth and instance images disagree with it)",
                            folder, 100 * inside, bid)
            nyu = int(np.bincount(semantic[idx].clip(0)).argmax())
            raw = nyu40_name(nyu)
            objects.append(SceneObject(bid, common_label("structured3d", raw), box, idx, raw))
        # structure (no instance): one object per wall / floor / ceiling class, point AABBs
        rest = np.flatnonzero(~np.isin(instance, list(boxes)))
        next_id = max(list(boxes) + [0]) + 1
        for nyu, name in STRUCTURE_NYU40.items():
            idx = rest[semantic[rest] == nyu]
            if len(idx):
                objects.append(SceneObject(next_id, name, OrientedBox.from_points(points[idx]),
                                           idx, name))
                next_id += 1
        return objects


LOADERS.add(Structured3DLoader.name, Structured3DLoader())
