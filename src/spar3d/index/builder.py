"""Build a scene's index: keyframes, per-view visible objects with 2D boxes, object records
(SPAR appendix 7.3-7.4).

Visibility rules for an object in a keyframe (thresholds in :class:`IndexParams`):

1. the fraction of its vertices that are visible exceeds ``min_visible_fraction``;
2. the 2D box of its visible vertices, projected into the full-size image and clipped to it,
   covers at least ``min_box_area_fraction`` of the image;
3. the median depth of its visible vertices lies in ``[min_depth_m, max_depth_m]``.

From the same render, every pixel knows which object's surface it shows (the instance map). Each
visible object records where a point marker may be drawn (``marker_uv``): its projected 3D centre
when that pixel shows the object, else the object's visible pixel nearest to the projected centre
(None when the object has no usable pixel: one whose 4 neighbours show the object too). Each image
also lists the objects that are *noticeable* in it (``noticeable``): at least
``noticeable_pixel_fraction`` of the image shows them, a bar far below the rules above; a label
named without a marker must be unique among them.

Ray casting runs at a reduced resolution (``render_width`` pixels wide) for speed; 2D boxes are
computed from vertex projections at full resolution, so they keep full precision.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from spar3d.errors import check_choice, check_number
from spar3d.geometry.camera import project
from spar3d.geometry.raycast import RAYCASTERS, make_raycaster
from spar3d.geometry.transforms import world_to_cam
from spar3d.index.keyframes import (
    KEYFRAME_PRESETS,
    POINTCLOUD_VISIBILITY_PRESETS,
    KeyframeParams,
    select_keyframes,
)
from spar3d.index.records import ImageRecord, ObjectRecord, SceneIndex, VisibleObject
from spar3d.index.visibility import (
    ViewVisibility,
    instance_visibility,
    mesh_visibility,
    splat_visibility,
)
from spar3d.pipeline import RunConfig
from spar3d.scenes.model import Frame, Scene, SceneObject

if TYPE_CHECKING:
    from spar3d.scenes.loaders import LoaderOptions

F64 = NDArray[np.float64]

STRUCTURE_LABELS = ("wall", "floor", "ceiling")
# Class names that say "some object" rather than what it is: such objects are indexed (they
# occlude and are noticed) but never named in a question. ScanNet's NYU40 catch-alls first.
CATCH_ALL_LABELS = (
    "otherprop", "otherfurniture", "otherstructure", "object", "objects", "unknown", "other",
    "misc", "clutter", "stuff", "unlabeled", "unlabelled", "unannotated", "void", "remove",
)  # fmt: skip


@dataclass
class IndexParams:
    """Settings of the scene index; stored in the index file so results say how they were made.

    Attributes:
        keyframes: Keyframe thresholds; None takes the source's preset (``KEYFRAME_PRESETS``).
        all_frames: Keep every frame (no keyframe selection).
        render_width: Width of the visibility render; height follows the aspect ratio.
        backend: Ray-casting backend (``"embree"`` or ``"open3d"``).
        min_visible_fraction: Rule 1 threshold.
        min_box_area_fraction: Rule 2 threshold, as a fraction of the image area.
        min_depth_m: Rule 3 lower bound.
        max_depth_m: Rule 3 upper bound.
        exclude_labels: Labels that occlude but are not indexed as objects.
        pointcloud_visibility: For scenes without faces: ``"splat"`` (z-buffer of the points),
            ``"depth"`` (depth frames, falling back to splatting where a frame has none),
            ``"instance"`` (each view's depth and instance images, exact: see
            :func:`~spar3d.index.visibility.instance_visibility`; falls back to ``"depth"``
            where a frame has no instance image), or ``"auto"``: the source's preset
            (``POINTCLOUD_VISIBILITY_PRESETS``), else splat.
        footprint_voxel_m: Cell size of the top-down footprint kept for room-size questions.
        noticeable_pixel_fraction: Share of the image an object's visible pixels must cover to
            count as noticeable (for the uniqueness of labels named without a marker).
        catch_all_labels: Labels that are indexed but never named in a question (compared in
            lower case).
    """

    keyframes: KeyframeParams | None = None
    all_frames: bool = False
    render_width: int = 320
    backend: str = "embree"
    min_visible_fraction: float = 0.1
    min_box_area_fraction: float = 0.002
    min_depth_m: float = 0.1
    max_depth_m: float = 10.0
    exclude_labels: tuple[str, ...] = STRUCTURE_LABELS
    pointcloud_visibility: str = "auto"
    footprint_voxel_m: float = 0.1
    noticeable_pixel_fraction: float = 0.0005
    catch_all_labels: tuple[str, ...] = CATCH_ALL_LABELS

    def __post_init__(self) -> None:
        check_number("render_width", self.render_width, minimum=8, maximum=8192)
        RAYCASTERS.get(self.backend)  # unknown name: RegistryError listing the known ones
        check_number("min_visible_fraction", self.min_visible_fraction, minimum=0, maximum=1)
        check_number("min_box_area_fraction", self.min_box_area_fraction, minimum=0, maximum=1)
        check_number("min_depth_m", self.min_depth_m, minimum=0)
        check_number(
            "max_depth_m", self.max_depth_m, minimum=self.min_depth_m, exclusive_minimum=True
        )
        check_choice(
            "pointcloud_visibility", self.pointcloud_visibility,
            ("auto", "splat", "depth", "instance"),
        )  # fmt: skip
        check_number(
            "footprint_voxel_m", self.footprint_voxel_m, minimum=0, exclusive_minimum=True
        )
        check_number(
            "noticeable_pixel_fraction", self.noticeable_pixel_fraction, minimum=0, maximum=1
        )

    def keyframe_params(self, source: str) -> KeyframeParams | None:
        if self.all_frames:
            return None
        if self.keyframes is not None:
            return self.keyframes
        return KEYFRAME_PRESETS.get(source, KeyframeParams())

    def pointcloud_mode(self, source: str) -> str:
        if self.pointcloud_visibility != "auto":
            return self.pointcloud_visibility
        return POINTCLOUD_VISIBILITY_PRESETS.get(source, "splat")


@dataclass
class IndexStats:
    """Timings and counts of one build."""

    seconds: dict[str, float] = field(default_factory=dict)


def _object_vertex_ids(scene: Scene, obj: SceneObject) -> NDArray[np.int64]:
    if obj.vertex_ids is not None:
        return np.asarray(obj.vertex_ids, dtype=np.int64)
    # no per-vertex annotation: the scene points inside the object's box stand in for it
    assert scene.mesh is not None
    local = (scene.mesh.vertices - obj.box.center) @ obj.box.R_world_box
    inside = np.all(np.abs(local) <= obj.box.size / 2.0 + 1e-6, axis=1)
    return np.flatnonzero(inside)


def _read_depth_m(frame: Frame, width: int, height: int) -> F64 | None:
    if frame.depth_path is None or not Path(frame.depth_path).is_file():
        return None
    from PIL import Image

    with Image.open(frame.depth_path) as im:
        im = im.resize((width, height), Image.Resampling.NEAREST)
        return np.asarray(im, dtype=np.float64) / 1000.0


def _read_instance(frame: Frame, position: dict[int, int]) -> NDArray[np.int64] | None:
    """The frame's instance image (pixel = ``object_id``) at full resolution, as object
    positions (``position``), -1 for pixels of no indexed object; None without one."""
    if frame.instance_path is None or not Path(frame.instance_path).is_file():
        return None
    from PIL import Image

    with Image.open(frame.instance_path) as im:
        ids = np.asarray(im).astype(np.int64)
    uniq, inverse = np.unique(ids, return_inverse=True)
    lut = np.array([position.get(int(u), -1) for u in uniq], dtype=np.int64)
    return lut[inverse].reshape(ids.shape)


def _footprint(vertices: F64, voxel_m: float) -> F64:
    cells = np.unique(np.floor(vertices[:, :2] / voxel_m).astype(np.int64), axis=0)
    return np.asarray((cells + 0.5) * voxel_m, dtype=np.float64)


def _group_extents(keys: NDArray[np.int64], values: F64) -> tuple[NDArray[np.int64], F64, F64, F64]:
    """Per key: unique keys, min ``(k, d)``, max ``(k, d)`` and median of column 2 of values."""
    order = np.argsort(keys, kind="stable")
    k, v = keys[order], values[order]
    uniq, start = np.unique(k, return_index=True)
    vmin = np.minimum.reduceat(v, start, axis=0)
    vmax = np.maximum.reduceat(v, start, axis=0)
    bounds = np.append(start, len(k))
    med = np.array([np.median(v[a:b, 2]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    return uniq, vmin, vmax, med


def build_index(scene: Scene, params: IndexParams | None = None) -> SceneIndex:
    """Build the index of a loaded scene (its mesh or point cloud must be loaded).

    Raises:
        ValueError: when the scene has no mesh, no frames, or no objects with vertices.
    """
    params = params or IndexParams()
    if scene.mesh is None:
        raise ValueError(f"{scene.scene_id}: scene has no mesh or point cloud loaded")
    if not scene.frames:
        raise ValueError(f"{scene.scene_id}: scene has no frames with a valid pose")
    t0 = time.perf_counter()
    verts = scene.mesh.vertices
    n_verts = len(verts)

    objects = [o for o in scene.objects if o.label.lower() not in params.exclude_labels]
    vertex_obj = np.full(n_verts, -1, dtype=np.int64)
    counts = np.zeros(len(objects), dtype=np.int64)
    for k, obj in enumerate(objects):
        vids = _object_vertex_ids(scene, obj)
        vertex_obj[vids] = k
        counts[k] = len(vids)

    poses = np.stack([f.T_world_cam for f in scene.frames])
    kf = select_keyframes(poses, params.keyframe_params(scene.source))
    t_kf = time.perf_counter()

    caster = None
    face_obj = None
    if scene.mesh.faces is not None:
        caster = make_raycaster(verts, scene.mesh.faces, params.backend)
        face_obj = vertex_obj[scene.mesh.faces[:, 0]] if len(scene.mesh.faces) else None

    images: list[ImageRecord] = []
    seen_by: list[list[int]] = [[] for _ in objects]
    position = {o.object_id: k for k, o in enumerate(objects)}
    for image_index, fi in enumerate(kf):
        frame = scene.frames[fi]
        W, H = frame.color.width, frame.color.height
        rw = min(params.render_width, W)
        scale = rw / W
        rh = max(1, round(H * scale))
        K_render = frame.color.scaled_to(rw, rh).K
        vis: ViewVisibility
        if caster is not None and scene.mesh.faces is not None:
            vis = mesh_visibility(
                caster, scene.mesh.faces, n_verts, K_render, rw, rh, frame.T_world_cam, scale,
                face_label=face_obj,
            )  # fmt: skip
        else:
            mode = params.pointcloud_mode(scene.source)
            depth = _read_depth_m(frame, rw, rh) if mode in ("depth", "instance") else None
            labels = _read_instance(frame, position) if mode == "instance" else None
            if depth is not None and labels is not None:
                vis = instance_visibility(
                    verts, K_render, rw, rh, frame.T_world_cam, scale, depth_frame_m=depth,
                    instance_full=labels, vertex_label=vertex_obj,
                )  # fmt: skip
            else:
                vis = splat_visibility(
                    verts, K_render, rw, rh, frame.T_world_cam, scale, depth_frame_m=depth,
                    vertex_label=vertex_obj,
                )  # fmt: skip
        visible = _visible_objects(verts, vertex_obj, counts, objects, vis, frame, params)
        noticeable = _noticeable(vis.pixel_owner, objects, params.noticeable_pixel_fraction)
        for v in visible:
            seen_by[position[v.object_id]].append(image_index)
        images.append(
            ImageRecord(
                index=image_index,
                frame_id=frame.frame_id,
                color_path=_rel(frame.color_path, scene.root),
                depth_path=_rel(frame.depth_path, scene.root) if frame.depth_path else None,
                width=W,
                height=H,
                K=frame.color.K,
                T_world_cam=frame.T_world_cam,
                visible=visible,
                noticeable=noticeable,
            )
        )
    t_vis = time.perf_counter()

    records = [
        ObjectRecord(o.object_id, o.label, o.box, seen_by[k], int(counts[k]))
        for k, o in enumerate(objects)
    ]
    floor_ids = [
        o.vertex_ids
        for o in scene.objects
        if o.label.lower() == "floor" and o.vertex_ids is not None and len(o.vertex_ids)
    ]
    if floor_ids:
        floor_z = float(np.median(verts[np.concatenate(floor_ids), 2]))
    else:
        floor_z = float(np.percentile(verts[:, 2], 1.0))
    stored = stored_params(params, scene.source, scene.loader, scene.loader_options)
    stored["fingerprint"] = index_run_config(
        params, scene.source, scene.loader, scene.loader_options
    ).digest()
    stored["timings_s"] = {
        "keyframes": round(t_kf - t0, 3),
        "visibility": round(t_vis - t_kf, 3),
    }
    return SceneIndex(
        scene_id=scene.scene_id,
        source=scene.source,
        scene_dir=scene.root,
        images=images,
        objects=records,
        footprint_xy=_footprint(verts, params.footprint_voxel_m),
        footprint_voxel_m=params.footprint_voxel_m,
        floor_z=floor_z,
        params=stored,
        num_frames_total=len(scene.frames),
        label_set=scene.label_set,
    )


#: Bumped when what an index holds changes for the same inputs (old indexes are then rebuilt).
INDEX_VERSION = 1


def stored_params(
    params: IndexParams,
    source: str,
    loader: str = "",
    options: LoaderOptions | None = None,
) -> dict[str, Any]:
    """The parameters as an index file stores them (keyframe preset of ``source`` resolved),
    with the loader that read the scene and its options (``{"name", "options"}``)."""
    stored = asdict(params)
    stored["keyframes"] = asdict(kp) if (kp := params.keyframe_params(source)) else None
    stored["exclude_labels"] = list(params.exclude_labels)
    stored["catch_all_labels"] = list(params.catch_all_labels)
    # ``auto`` resolved for the source (what a scene without faces is indexed with)
    stored["pointcloud_visibility"] = params.pointcloud_mode(source)
    stored["loader"] = {"name": loader, "options": options.to_dict() if options else {}}
    return stored


def index_run_config(
    params: IndexParams, source: str, loader: str = "", options: LoaderOptions | None = None
) -> RunConfig:
    """Everything an index depends on besides the scene's files: its parameters, the loader and
    its options, and the content of the files those options name (a label map, an infos
    pickle, ...). Its digest is stored as ``params["fingerprint"]``; an existing index is reused
    only when it equals the requested one's."""
    return RunConfig(
        "index",
        INDEX_VERSION,
        stored_params(params, source, loader, options),
        files=options.files() if options else (),
    )


def _rel(path: Path | None, root: Path) -> str:
    """``path`` relative to the scene folder (``../`` where it lies elsewhere), whatever the
    current directory: both are made absolute first."""
    if path is None:
        return ""
    return Path(os.path.relpath(Path(path).absolute(), Path(root).absolute())).as_posix()


def _visible_objects(
    verts: F64,
    vertex_obj: NDArray[np.int64],
    counts: NDArray[np.int64],
    objects: list[SceneObject],
    vis: ViewVisibility,
    frame: Frame,
    params: IndexParams,
) -> list[VisibleObject]:
    W, H = frame.color.width, frame.color.height
    vv = np.flatnonzero(vis.vertex_visible & (vertex_obj >= 0))
    if len(vv) == 0:
        return []
    obj_of = vertex_obj[vv]
    frac = np.bincount(obj_of, minlength=len(objects)) / np.maximum(counts, 1)
    keep = frac[obj_of] > params.min_visible_fraction
    vv, obj_of = vv[keep], obj_of[keep]
    if len(vv) == 0:
        return []
    p_cam = world_to_cam(frame.T_world_cam, verts[vv])
    front = p_cam[:, 2] > 1e-3
    vv, obj_of, p_cam = vv[front], obj_of[front], p_cam[front]
    if len(vv) == 0:
        return []
    uv, z = project(frame.color.K, p_cam)
    # pixel-centre coordinates -> pixel-edge coordinates, clipped to the image
    uvz = np.column_stack([np.clip(uv[:, 0] + 0.5, 0, W), np.clip(uv[:, 1] + 0.5, 0, H), z])
    uniq, vmin, vmax, med_z = _group_extents(obj_of, uvz)
    min_area = params.min_box_area_fraction * W * H
    h_r, w_r = vis.depth_m.shape
    markers = _MarkerPixels(vis.pixel_owner)
    out: list[VisibleObject] = []
    for k, lo, hi, mz in zip(uniq, vmin, vmax, med_z, strict=True):
        if vis.boxes is not None:  # an instance image: seen iff it shows the object
            if int(k) not in vis.boxes:
                continue
            x1, y1, x2, y2 = vis.boxes[int(k)]
            lo, hi = np.array([x1, y1]), np.array([x2, y2])
        area = (hi[0] - lo[0]) * (hi[1] - lo[1])
        if area < min_area or not (params.min_depth_m <= mz <= params.max_depth_m):
            continue
        obj = objects[int(k)]
        c_cam = world_to_cam(frame.T_world_cam, obj.box.center)
        c_uv, _ = project(frame.color.K, c_cam[None])
        cu, cv = float(c_uv[0, 0]), float(c_uv[0, 1])
        center_depth = 0.0
        if np.isfinite(cu) and np.isfinite(cv):
            col = int(np.floor((cu + 0.5) * vis.scale))
            row = int(np.floor((cv + 0.5) * vis.scale))
            if 0 <= col < w_r and 0 <= row < h_r:
                center_depth = float(vis.depth_m[row, col])
        out.append(
            VisibleObject(
                object_id=obj.object_id,
                bbox_xyxy=(float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])),
                visible_fraction=float(frac[k]),
                depth_m=float(c_cam[2]),
                center_uv=(cu, cv),
                center_depth_m=center_depth,
                marker_uv=markers.place(int(k), cu, cv, vis.scale),
            )
        )
    return out


def _noticeable(
    owner: NDArray[np.int64], objects: list[SceneObject], min_fraction: float
) -> list[int]:
    """Ids of the objects whose visible pixels cover at least ``min_fraction`` of the render."""
    n_px = np.bincount(owner[owner >= 0].ravel(), minlength=len(objects))
    need = max(1.0, min_fraction * owner.size)
    return sorted(objects[int(k)].object_id for k in np.flatnonzero(n_px >= need))


class _MarkerPixels:
    """Where a point marker of each object may go, from the render's instance map.

    A pixel is usable for an object when it and its 4 neighbours show that object (edges of the
    render count as the pixel's own value), so the drawn point sits on the object's surface with
    a pixel of margin on every side.
    """

    def __init__(self, owner: NDArray[np.int64]) -> None:
        p = np.pad(owner, 1, mode="edge")
        same = (
            (p[:-2, 1:-1] == owner) & (p[2:, 1:-1] == owner)
            & (p[1:-1, :-2] == owner) & (p[1:-1, 2:] == owner)
        )  # fmt: skip
        usable = np.where(same, owner, -1)
        self.usable = usable
        flat = usable.ravel()
        idx = np.flatnonzero(flat >= 0)
        order = np.argsort(flat[idx], kind="stable")
        idx = idx[order]
        labels = flat[idx]  # sorted: groups start where the label changes (no second sort)
        starts = np.flatnonzero(np.diff(labels, prepend=labels[:1] - 1))
        keys = labels[starts]
        bounds = np.append(starts, len(idx))
        self._pixels = {
            int(k): idx[a:b] for k, a, b in zip(keys, bounds[:-1], bounds[1:], strict=True)
        }
        self._w = owner.shape[1]

    def place(self, k: int, cu: float, cv: float, scale: float) -> tuple[float, float] | None:
        """Full-resolution ``(u, v)`` for object ``k`` whose 3D centre projects to ``(cu, cv)``:
        the centre itself when its render pixel is usable, else the centre of the usable render
        pixel nearest to it; None when the object has no usable pixel."""
        pix = self._pixels.get(k)
        if pix is None:
            return None
        if not (np.isfinite(cu) and np.isfinite(cv)):
            cu, cv = 0.0, 0.0  # (cannot happen for a visible object in front of the camera)
        # render pixel coordinates (pixel centres at integers) of the projected centre
        x, y = (cu + 0.5) * scale - 0.5, (cv + 0.5) * scale - 0.5
        h, w = self.usable.shape
        col, row = int(np.floor(x + 0.5)), int(np.floor(y + 0.5))
        if 0 <= col < w and 0 <= row < h and self.usable[row, col] == k:
            return (cu, cv)
        rows, cols = pix // self._w, pix % self._w
        j = int(np.argmin((cols - x) ** 2 + (rows - y) ** 2))
        return ((cols[j] + 0.5) / scale - 0.5, (rows[j] + 0.5) / scale - 0.5)
