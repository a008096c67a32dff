"""The ScanNet loader on a scan folder written by the synthetic world's exporter.

The world is the ground truth: it is built in the aligned frame, the exporter stores the mesh
and poses in a randomly turned and shifted raw frame, and the loader must undo that.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spar3d.scenes.loaders import load_scene
from spar3d.scenes.synthetic import build_world
from spar3d.scenes.synthetic.export import write_scannet_scene


def test_synthesized_scan_loads_with_its_oriented_boxes(tmp_path: Path) -> None:
    world = build_world(3, n_objects=(2, 3), second_room=False)
    folder = write_scannet_scene(world, tmp_path, "synth0000_00", 3, width=64, height=48, seed=1)
    scene = load_scene(folder)

    assert len(scene.objects) == len(world.objects)
    assert not np.allclose(scene.T_aligned_raw, np.eye(4))  # the exporter turned the scan
    assert scene.mesh is not None
    np.testing.assert_allclose(scene.mesh.vertices, world.vertices, atol=1e-4)  # float32 file
    # the boxes are the obb file's (world boxes), rotation included, not vertex AABBs
    obb = json.loads((folder / "synth0000_00_obb.json").read_text())["objects"]
    assert {o["objectId"] for o in obb} == {o.object_id for o in scene.objects}
    for o in obb:
        box = scene.object_by_id(o["objectId"]).box
        np.testing.assert_allclose(box.center, o["center"])
        np.testing.assert_allclose(box.size, o["size"])
        np.testing.assert_allclose(box.R_world_box, o["R_world_box"])
    # seed 3 has turned objects (a window, a fridge): their vertex AABB would have R = I
    turned = [o for o in scene.objects if not np.allclose(o.box.R_world_box, np.eye(3))]
    assert len(turned) >= 1
    by_id = {w.instance_id: w for w in world.objects}
    for obj in scene.objects:
        np.testing.assert_allclose(obj.box.center, by_id[obj.object_id].box.center, atol=1e-9)
        np.testing.assert_allclose(obj.box.R_world_box, by_id[obj.object_id].box.R_world_box)
    # three frames, one written as -inf
    assert len(scene.frames) == 2


def test_synthetic_folder_is_tagged_synthetic_source(tmp_path):
    from spar3d.scenes.loaders import load_scene
    from spar3d.scenes.synthetic import build_world
    from spar3d.scenes.synthetic.export import write_scannet_scene

    folder = write_scannet_scene(build_world(3), tmp_path, "synth0003_00", 4, 32, 24, seed=3)
    assert load_scene(folder, load_mesh=False).source == "synthetic"
    assert load_scene(folder, load_mesh=False, source="scannet").source == "scannet"
