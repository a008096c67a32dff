"""The scene model every loader produces and every later stage reads.

Frames and units (see ``docs/conventions.md``):

* world frame: metres, +z up (ScanNet's axis-aligned frame when an ``axisAlignment`` is given);
* camera frame: OpenCV (+x right, +y down, +z forward);
* ``T_world_cam``: 4x4 camera-to-world pose, ``p_world = T_world_cam @ p_cam``;
* ``K``: 3x3 pinhole intrinsics in pixels for one image size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from spar3d.geometry.boxes import ArrayLike3, OrientedBox

if TYPE_CHECKING:
    from spar3d.scenes.loaders import LoaderOptions

F64 = NDArray[np.float64]
__all__ = ["ArrayLike3", "Frame", "Intrinsics", "OrientedBox", "Scene", "SceneMesh", "SceneObject"]


@dataclass
class SceneObject:
    """One annotated instance.

    Attributes:
        object_id: Instance id as the dataset numbers it.
        label: Category name after label mapping (e.g. ``"chair"``).
        box: Oriented 3D box in world coordinates.
        vertex_ids: ``(M,) int64`` indices into ``Scene.mesh.vertices`` that belong to it, or None.
        raw_label: The label as written in the annotation, before mapping.
    """

    object_id: int
    label: str
    box: OrientedBox
    vertex_ids: NDArray[np.int64] | None = None
    raw_label: str = ""

    @property
    def center(self) -> F64:
        return self.box.center


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics for one image size.

    Attributes:
        K: ``(3, 3) float64`` pixel intrinsics (fx, fy, cx, cy).
        width: Image width in pixels.
        height: Image height in pixels.
    """

    K: F64
    width: int
    height: int

    def scaled_to(self, width: int, height: int) -> Intrinsics:
        """The same camera at another resolution (pixel-centre convention preserved)."""
        sx, sy = width / self.width, height / self.height
        K = self.K.copy()
        K[0, 0] *= sx
        K[0, 2] = (K[0, 2] + 0.5) * sx - 0.5
        K[1, 1] *= sy
        K[1, 2] = (K[1, 2] + 0.5) * sy - 0.5
        return Intrinsics(K, width, height)


@dataclass
class Frame:
    """One camera view.

    Attributes:
        frame_id: The frame's name in its dataset (``"543"`` for ``color/543.jpg``).
        T_world_cam: ``(4, 4) float64`` camera-to-world pose in the scene's world frame.
        color: Intrinsics of the colour image.
        depth: Intrinsics of the depth image, when there is one.
        color_path: Path to the colour image, or None.
        depth_path: Path to the uint16-millimetre depth PNG, or None.
        instance_path: Path to an instance image of the colour view whose pixel values are the
            scene's ``object_id`` s (any other value: no object), or None. Structured3D ships
            one per view; the index then decides visibility from it (exact).
    """

    frame_id: str
    T_world_cam: F64
    color: Intrinsics
    depth: Intrinsics | None = None
    color_path: Path | None = None
    depth_path: Path | None = None
    instance_path: Path | None = None

    @property
    def camera_center(self) -> F64:
        return np.asarray(self.T_world_cam[:3, 3], dtype=np.float64)


@dataclass
class SceneMesh:
    """The scene surface: a triangle mesh, or a point cloud when ``faces`` is None.

    Attributes:
        vertices: ``(N, 3) float64`` world coordinates, metres.
        faces: ``(F, 3) int64`` vertex indices, or None for a point cloud.
        colors: ``(N, 3) uint8`` per-vertex RGB, or None.
    """

    vertices: F64
    faces: NDArray[np.int64] | None = None
    colors: NDArray[np.uint8] | None = None

    @property
    def is_point_cloud(self) -> bool:
        return self.faces is None


@dataclass
class Scene:
    """A 3D-annotated scene as every loader returns it.

    Attributes:
        scene_id: e.g. ``"scene0000_00"``.
        source: Dataset name (``"scannet"``, ``"scannetpp"``, ``"structured3d"``, ``"synthetic"``).
        root: Folder the scene was read from.
        objects: Annotated instances.
        frames: Camera views with valid poses, in capture order.
        mesh: Scene surface, or None when not loaded.
        T_aligned_raw: ``(4, 4)`` the axis alignment applied to the raw scan (identity if none).
        label_set: Which names ``SceneObject.label`` holds (``"scannet_category"`` for ScanNet's
            fine raw categories, ``"scannet200"``, ``"nyu40"``, ``"synthetic"``, ...).
        loader: The loader that read it (set by ``load_scene``; the scene index records it).
        loader_options: That loader's typed options (recorded and fingerprinted likewise).
    """

    scene_id: str
    source: str
    root: Path
    objects: list[SceneObject] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    mesh: SceneMesh | None = None
    T_aligned_raw: F64 = field(default_factory=lambda: np.eye(4))
    label_set: str = ""
    loader: str = ""
    loader_options: LoaderOptions | None = None

    def object_by_id(self, object_id: int) -> SceneObject:
        for obj in self.objects:
            if obj.object_id == object_id:
                return obj
        raise KeyError(f"{self.scene_id}: no object with id {object_id}")
