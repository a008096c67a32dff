import numpy as np
import pytest

from spar3d.index import load_index, save_index
from spar3d.index.builder import IndexParams, build_index
from spar3d.scenes.model import SceneMesh

PARAMS = IndexParams(all_frames=True, render_width=640)


def test_visible_cube_has_hand_computed_box_and_depth(toy_scene):
    index = build_index(toy_scene, PARAMS)
    (image,) = index.images
    vis = image.visible_by_id()
    assert set(vis) == {1}, "only the cube in front is visible (wall excluded, others hidden)"
    cube = vis[1]
    # only the front face (y = 3.5, depth 3.5) is seen; its corners x = +-0.5, z = 0..1,
    # camera at z = 0.5: u = 319.5 + 500 * x / 3.5, v = 239.5 - 500 * (z - 0.5) / 3.5;
    # +0.5 turns pixel-centre coordinates into the pixel-edge box convention
    half = 500 * 0.5 / 3.5
    np.testing.assert_allclose(cube.bbox_xyxy, [320 - half, 240 - half, 320 + half, 240 + half])
    assert cube.depth_m == pytest.approx(4.0)  # z of the box centre
    assert cube.center_depth_m == pytest.approx(3.5, abs=1e-3)  # rendered front face
    assert cube.visible_fraction == pytest.approx(0.5)  # 4 of the 8 box vertices
    np.testing.assert_allclose(cube.center_uv, [319.5, 239.5], atol=1e-9)


def test_object_records_and_structure_excluded(toy_scene):
    index = build_index(toy_scene, PARAMS)
    recs = index.objects_by_id()
    assert set(recs) == {1, 2, 3}  # the wall occludes but is not an object record
    assert recs[1].image_indices == [0]
    assert recs[2].image_indices == []  # behind the wall
    assert recs[3].image_indices == []  # behind the camera


def test_wall_removed_reveals_hidden_object(toy_scene):
    toy_scene.objects = [o for o in toy_scene.objects if o.label != "wall"]
    keep = np.concatenate([o.vertex_ids for o in toy_scene.objects])
    remap = -np.ones(len(toy_scene.mesh.vertices), dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    faces = toy_scene.mesh.faces
    faces = remap[faces[(remap[faces] >= 0).all(axis=1)]]
    toy_scene.mesh = SceneMesh(toy_scene.mesh.vertices[keep], faces)
    for o in toy_scene.objects:
        o.vertex_ids = remap[o.vertex_ids]
    index = build_index(toy_scene, PARAMS)
    assert set(index.images[0].visible_by_id()) == {1, 2}


def test_min_area_rule(toy_scene):
    # the cube covers (142.86)^2 / (640 * 480) = 6.6 % of the image
    assert (
        build_index(toy_scene, IndexParams(all_frames=True, min_box_area_fraction=0.06))
        .images[0]
        .visible
    )
    assert (
        not build_index(toy_scene, IndexParams(all_frames=True, min_box_area_fraction=0.07))
        .images[0]
        .visible
    )


def test_depth_range_rule(toy_scene):
    assert (
        not build_index(toy_scene, IndexParams(all_frames=True, max_depth_m=3.0)).images[0].visible
    )


def test_low_render_resolution_keeps_full_resolution_boxes(toy_scene):
    full = build_index(toy_scene, PARAMS).images[0].visible[0]
    low = build_index(toy_scene, IndexParams(all_frames=True, render_width=80)).images[0].visible[0]
    np.testing.assert_allclose(low.bbox_xyxy, full.bbox_xyxy)


def test_point_cloud_splatting_matches_mesh(toy_scene):
    """The same scene as dense points without faces: the cube is seen, the far table is hidden."""
    rng = np.random.default_rng(0)
    pts = []
    n = 0
    for o in toy_scene.objects:
        # points on the box surface: sample in the box, push one coordinate to a face
        m = 20000 if o.label == "wall" else 3000
        u = rng.uniform(-0.5, 0.5, size=(m, 3))
        axis = rng.integers(0, 3, size=m)
        u[np.arange(m), axis] = np.sign(u[np.arange(m), axis]) * 0.5
        pts.append(o.box.center + u * o.box.size)
        o.vertex_ids = np.arange(n, n + m)
        n += m
    toy_scene.mesh = SceneMesh(np.concatenate(pts), None)
    index = build_index(toy_scene, IndexParams(all_frames=True, render_width=160))
    vis = index.images[0].visible_by_id()
    assert set(vis) == {1}
    half = 500 * 0.5 / 3.5
    np.testing.assert_allclose(
        vis[1].bbox_xyxy, [320 - half, 240 - half, 320 + half, 240 + half], atol=6
    )


def test_index_round_trip(tmp_path, toy_scene):
    toy_scene.root = tmp_path
    index = build_index(toy_scene, PARAMS)
    path = save_index(index)
    again = load_index(tmp_path)
    assert path.parent == tmp_path
    assert again.to_dict() == index.to_dict()
    assert again.images[0].visible[0].object_id == 1


def test_load_index_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="spar3d_index.json"):
        load_index(tmp_path)
    (tmp_path / "spar3d_index.json").write_text("{not json")
    with pytest.raises(ValueError, match="spar3d_index.json"):
        load_index(tmp_path)
