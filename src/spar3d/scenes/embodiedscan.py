"""EmbodiedScan's 9-DoF boxes, read from its infos pickles, to replace axis-aligned boxes.

An EmbodiedScan infos pickle (``embodiedscan_infos_{train,val}.pkl``) is
``{"metainfo": {"categories": {name: id}, ...}, "data_list": [scene, ...]}``; each scene has
``sample_idx`` (``"scannet/scene0000_00"``, ``"3rscan/<id>"``, ``"matterport3d/<b>/<r>"``),
``axis_align_matrix`` and ``instances[*]`` with ``bbox_3d`` ``[cx, cy, cz, dx, dy, dz, a, b, c]``,
``bbox_label_3d`` and ``bbox_id``. Boxes are in the axis-aligned frame (its explorer draws them
over ``mesh.transform(axis_align_matrix)``), centred (``origin=(0.5, 0.5, 0.5)``), and turned
by ``euler_angles_to_matrix((a, b, c), "ZXY")`` = ``Rz(a) @ Rx(b) @ Ry(c)`` (pytorch3d's
convention, used by ``EulerDepthInstance3DBoxes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spar3d.scenes.loaders import SceneLoadError, require_file
from spar3d.scenes.model import OrientedBox, SceneObject
from spar3d.scenes.scannet_preprocessed import _infos_by_scene

F64 = NDArray[np.float64]


def euler_zxy_to_matrix(a: float, b: float, c: float) -> F64:
    """``Rz(a) @ Rx(b) @ Ry(c)``: EmbodiedScan's box rotation from its three angles."""
    ca, sa, cb, sb, cc, sc = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(c), np.sin(c)
    Rz = np.array([[ca, -sa, 0.0], [sa, ca, 0.0], [0.0, 0.0, 1.0]])
    Rx = np.array([[1.0, 0.0, 0.0], [0.0, cb, -sb], [0.0, sb, cb]])
    Ry = np.array([[cc, 0.0, sc], [0.0, 1.0, 0.0], [-sc, 0.0, cc]])
    return np.asarray(Rz @ Rx @ Ry)


@dataclass
class NineDofBox:
    """One EmbodiedScan instance: its id, category id (``bbox_label_3d``) and box (aligned)."""

    bbox_id: int
    label_id: int
    box: OrientedBox


def box_from_9dof(values: Any, where: str) -> OrientedBox:
    try:
        v = np.asarray(values, dtype=np.float64).reshape(9)
    except (TypeError, ValueError) as exc:
        raise SceneLoadError(f"{where}: bbox_3d must be 9 numbers ({exc})") from exc
    return OrientedBox(v[:3].copy(), np.abs(v[3:6]), euler_zxy_to_matrix(*v[6:9]))


def read_embodiedscan_boxes(pkl: str | Path, scene_id: str) -> list[NineDofBox]:
    """The 9-DoF boxes of ``scene_id`` (last part of ``sample_idx``) in an infos pickle.

    The pickle is read by the preprocessed-ScanNet loader's safe, cached infos reader.

    Raises:
        SceneLoadError: The pickle is unreadable or lacks the scene.
    """
    entry, where = infos_entry(pkl, scene_id)
    return boxes_of_entry(entry, where)


def infos_entry(pkl: str | Path, scene_id: str) -> tuple[dict[str, Any], str]:
    """The ``data_list`` entry of ``scene_id`` (last part of ``sample_idx``) and where it is
    (``"<pkl>: scene <id>"``, for messages)."""
    path = require_file(Path(pkl), "EmbodiedScan infos pickle")
    entry = _infos_by_scene(str(path), path.stat().st_mtime_ns).get(scene_id)
    if entry is None:
        raise SceneLoadError(f"{path}: no scene {scene_id} in data_list")
    return entry, f"{path}: scene {scene_id}"


def aligned_entry(pkl: str | Path, key: str) -> tuple[F64, dict[str, Any], str]:
    """``(axis_align_matrix, entry, where)`` for ``key`` (a scene id or a full ``sample_idx``
    such as ``matterport3d/<house>/region3``); identity when the entry has no alignment."""
    from spar3d.scenes.scannet_preprocessed import entry_axis_alignment

    entry, where = infos_entry(pkl, key)
    A = entry_axis_alignment(entry, where)
    return (np.eye(4) if A is None else A), entry, where


def boxes_of_entry(entry: dict[str, Any], where: str) -> list[NineDofBox]:
    """The ``instances`` of one EmbodiedScan infos entry as :class:`NineDofBox` es."""
    out = []
    for i, inst in enumerate(entry.get("instances") or []):
        w = f"{where}, instances[{i}]"
        if not isinstance(inst, dict) or "bbox_3d" not in inst:
            raise SceneLoadError(f"{w}: needs 'bbox_3d'")
        try:
            bbox_id, label_id = int(inst.get("bbox_id", i)), int(inst.get("bbox_label_3d", -1))
        except (TypeError, ValueError) as exc:
            raise SceneLoadError(f"{w}: bbox_id and bbox_label_3d must be integers") from exc
        out.append(NineDofBox(bbox_id, label_id, box_from_9dof(inst["bbox_3d"], w)))
    return out


def replace_boxes(objects: list[SceneObject], boxes: list[NineDofBox]) -> int:
    """Give each object the 9-DoF box whose centre is nearest its own (one-to-one).

    A pair is accepted when the centres are within ``max(0.25 m, half the object box's
    diagonal)``; matching is by geometry because EmbodiedScan's vocabulary and ids differ from
    the source's. Returns how many boxes were replaced.
    """
    pairs = []
    for k, obj in enumerate(objects):
        tol = max(0.25, 0.5 * float(np.linalg.norm(obj.box.size)))
        for j, b in enumerate(boxes):
            d = float(np.linalg.norm(obj.box.center - b.box.center))
            if d <= tol:
                pairs.append((d, k, j))
    used_obj: set[int] = set()
    used_box: set[int] = set()
    for _d, k, j in sorted(pairs):
        if k not in used_obj and j not in used_box:
            used_obj.add(k)
            used_box.add(j)
            objects[k].box = boxes[j].box
    return len(used_obj)
