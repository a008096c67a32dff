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

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spar3d.scenes.loaders import SceneLoadError, require_file
from spar3d.scenes.model import OrientedBox, SceneObject
from spar3d.scenes.scannet_preprocessed import _PlainDataUnpickler, entry_scene_id

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
    """One EmbodiedScan instance: its id, category name and box (aligned frame)."""

    bbox_id: int
    label: str
    box: OrientedBox


def box_from_9dof(values: Any, where: str) -> OrientedBox:
    try:
        v = np.asarray(values, dtype=np.float64).reshape(9)
    except (TypeError, ValueError) as exc:
        raise SceneLoadError(f"{where}: bbox_3d must be 9 numbers ({exc})") from exc
    return OrientedBox(v[:3].copy(), np.abs(v[3:6]), euler_zxy_to_matrix(*v[6:9]))


def read_embodiedscan_boxes(pkl: str | Path, scene_id: str) -> list[NineDofBox]:
    """The 9-DoF boxes of ``scene_id`` (last part of ``sample_idx``) in an infos pickle.

    Raises:
        SceneLoadError: The pickle is unreadable, not EmbodiedScan's, or lacks the scene.
    """
    path = require_file(Path(pkl), "EmbodiedScan infos pickle")
    try:
        with open(path, "rb") as fh:
            data = _PlainDataUnpickler(fh).load()
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError) as exc:
        raise SceneLoadError(f"{path}: cannot read infos pickle ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("data_list"), list):
        raise SceneLoadError(f"{path}: expected {{'metainfo', 'data_list'}} (EmbodiedScan)")
    cats = (data.get("metainfo") or {}).get("categories") or {}
    names = {int(v): str(k) for k, v in cats.items()} if isinstance(cats, dict) else {}
    for entry in data["data_list"]:
        if entry_scene_id(entry) != scene_id:
            continue
        out = []
        for i, inst in enumerate(entry.get("instances") or []):
            where = f"{path}: scene {scene_id}, instances[{i}]"
            if not isinstance(inst, dict) or "bbox_3d" not in inst:
                raise SceneLoadError(f"{where}: needs 'bbox_3d'")
            label_id = int(inst.get("bbox_label_3d", -1))
            out.append(
                NineDofBox(
                    int(inst.get("bbox_id", i)),
                    names.get(label_id, f"embodiedscan_{label_id}"),
                    box_from_9dof(inst["bbox_3d"], where),
                )
            )
        return out
    raise SceneLoadError(f"{path}: no scene {scene_id} in data_list")


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
