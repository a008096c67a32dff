"""Shared fixtures: tiny scenes built in code so expected values can be checked by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from spar3d.geometry.boxes import OrientedBox
from spar3d.geometry.transforms import look_at
from spar3d.scenes.model import Frame, Intrinsics, Scene, SceneMesh, SceneObject

# 640x480 camera with f = 500 px and the principal point at the image centre
K_640 = np.array([[500.0, 0.0, 319.5], [0.0, 500.0, 239.5], [0.0, 0.0, 1.0]])


def scene_from_boxes(
    boxes: list[tuple[int, str, tuple[float, float, float], tuple[float, float, float]]],
    poses: list[np.ndarray],
    root: Path = Path("."),
) -> Scene:
    """A scene whose mesh is the union of axis-aligned boxes (id, label, centre, size)."""
    verts, faces, objects = [], [], []
    offset = 0
    for oid, label, center, size in boxes:
        m = trimesh.creation.box(extents=size)
        v = np.asarray(m.vertices) + np.asarray(center)
        verts.append(v)
        faces.append(np.asarray(m.faces) + offset)
        objects.append(
            SceneObject(
                oid,
                label,
                OrientedBox.axis_aligned(center, size),
                np.arange(offset, offset + len(v)),
            )
        )
        offset += len(v)
    intr = Intrinsics(K_640.copy(), 640, 480)
    frames = [Frame(str(i), T, intr) for i, T in enumerate(poses)]
    mesh = SceneMesh(np.concatenate(verts), np.concatenate(faces).astype(np.int64))
    return Scene("toy0000_00", "toy", root, objects, frames, mesh)


@pytest.fixture
def toy_scene() -> Scene:
    """Camera at (0, 0, 0.5) looking along +y; a 1 m cube centred 4 m ahead (id 1, visible);
    a wall at y = 6 (id 9, label wall); a cube behind the wall (id 2, hidden); a cube behind the
    camera (id 3)."""
    T = look_at([0.0, 0.0, 0.5], [0.0, 1.0, 0.5])
    return scene_from_boxes(
        [
            (1, "chair", (0.0, 4.0, 0.5), (1.0, 1.0, 1.0)),
            (9, "wall", (0.0, 6.05, 1.5), (12.0, 0.1, 3.0)),
            (2, "table", (1.5, 8.0, 0.5), (1.0, 1.0, 1.0)),
            (3, "sofa", (0.0, -3.0, 0.5), (1.0, 1.0, 1.0)),
        ],
        [T],
    )


@pytest.fixture(scope="session")
def generated_spar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SPAR-7M tree made by the real pipeline: one synthetic scene, indexed, every task that
    runs without external files, 2 samples per task (about 60 samples; under a second)."""
    from spar3d.generate import generate
    from spar3d.index.run import index_scene_dirs
    from spar3d.scenes.synthetic.params import ONE_ROOM
    from spar3d.scenes.synthetic.synthesize import synthesize

    base = tmp_path_factory.mktemp("generated")
    dirs = synthesize(base / "scenes", 1, 0, 40, 160, 120, progress=False, world=ONE_ROOM)
    index_scene_dirs(dirs, progress=False)
    generate(dirs, base / "spar", split="train", per_task=2, seed=0, progress=False)
    return base / "spar"
