"""The procedural world: counts, categories, non-overlap, support, boxes and subdivision."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import MultiPoint, Point

from spar3d.scenes.synthetic import build_world

SEEDS = range(20)
TABLE_TOPS = {"table", "desk", "coffee table"}


@pytest.fixture(scope="module")
def worlds():
    return [build_world(s) for s in SEEDS]


def footprint(box):
    """Plan-view polygon of an (upright) oriented box, from its corners."""
    return MultiPoint([tuple(c[:2]) for c in box.corners()]).convex_hull


def test_themed_object_count_per_room_is_within_the_stated_range(worlds):
    # without the real-scan clutter, each room holds its themed objects only: 5-30 by default
    lo, hi = worlds[0].params.objects_range
    assert (lo, hi) == (5, 30)
    for w in worlds[:8]:
        plain = build_world(w.seed, real_clutter=False)
        for r in range(len(plain.rooms)):
            n = sum(1 for o in plain.furniture() if o.room == r)
            assert lo <= n <= hi, (w.seed, r, n)


def test_real_clutter_adds_catch_all_and_keeps_the_rest(worlds):
    from spar3d.scenes.synthetic.world import build_world

    for w in worlds[:5]:
        plain = build_world(w.seed, real_clutter=False)
        assert [o.box.center.tolist() for o in plain.furniture()] == [
            o.box.center.tolist() for o in w.furniture()[: len(plain.furniture())]
        ]
        extra = w.furniture()[len(plain.furniture()) :]
        assert sum(o.label == "object" for o in extra) >= 1


def test_at_least_15_categories_across_20_seeds(worlds):
    labels = {o.label for w in worlds for o in w.furniture()}
    assert len(labels) >= 15, sorted(labels)
    assert {"bed", "chair", "table", "sofa", "door", "window", "picture"} <= labels


def test_floor_objects_do_not_overlap(worlds):
    for w in worlds:
        floor = [o for o in w.objects if o.kind == "floor"]
        polys = [footprint(o.box) for o in floor]
        for i in range(len(floor)):
            for j in range(i + 1, len(floor)):
                inter = polys[i].intersection(polys[j]).area
                assert inter < 1e-9, (w.seed, floor[i].label, floor[j].label, inter)


def test_floor_objects_stand_on_the_floor_inside_their_room(worlds):
    for w in worlds:
        for o in w.objects:
            if o.kind != "floor":
                continue
            assert abs(o.box.center[2] - o.box.size[2] / 2) < 1e-9, (w.seed, o.label)
            room = w.rooms[o.room]
            c = o.box.corners()
            assert c[:, 0].min() >= room.x0 and c[:, 0].max() <= room.x1, (w.seed, o.label)
            assert c[:, 1].min() >= room.y0 and c[:, 1].max() <= room.y1, (w.seed, o.label)


def test_objects_on_tables_rest_on_the_table_top(worlds):
    checked = 0
    for w in worlds:
        for o in w.objects:
            assert (o.kind == "top") == (o.support_id is not None), (w.seed, o.label)
            if o.support_id is None:
                continue
            host = w.objects[o.support_id]
            inside = footprint(host.box).buffer(1e-6)
            assert inside.contains(Point(o.box.center[:2])), (w.seed, o.label, host.label)
            if host.label in TABLE_TOPS:
                bottom = o.box.center[2] - o.box.size[2] / 2
                top = host.box.center[2] + host.box.size[2] / 2
                assert abs(bottom - top) < 0.01, (w.seed, o.label, host.label, bottom, top)
                checked += 1
    assert checked >= 5


def test_some_furniture_is_yaw_rotated(worlds):
    yaws = [o.box.yaw_rad for w in worlds for o in w.objects if o.kind == "floor"]
    off_axis = [
        y for y in yaws if min(abs(y - k * np.pi / 2) for k in range(-2, 3)) > np.radians(5)
    ]
    assert len(off_axis) >= 10


def test_wall_objects_touch_a_wall(worlds):
    for w in worlds:
        for o in w.objects:
            if o.kind != "wall":
                continue
            c = o.box.corners()
            gaps = []
            for seg in w.walls:
                horizontal = seg.p0[1] == seg.p1[1]
                line = seg.p0[1] if horizontal else seg.p0[0]
                coord = c[:, 1] if horizontal else c[:, 0]
                gaps.append(np.min(np.abs(coord - line)))
            # the box's back is on a wall's inner face: half a wall thickness from its line
            assert min(gaps) < 0.05 + 0.02, (w.seed, o.label, min(gaps))
        doors = [o for o in w.objects if o.label == "door"]
        assert doors and all(abs(d.box.center[2] - d.box.size[2] / 2) < 1e-9 for d in doors)


def test_object_vertices_lie_in_their_box_and_ids_match(worlds):
    w = worlds[3]
    for o in w.objects:
        v = w.vertices[w.instance_ids == o.instance_id]
        assert len(v), o.label
        local = (v - o.box.center) @ o.box.R_world_box
        assert np.all(np.abs(local) <= o.box.size / 2 + 1e-6), o.label
        # the box is tight: some vertex reaches each face
        assert np.allclose(np.abs(local).max(axis=0), o.box.size / 2, atol=1e-6), o.label
    assert {o.label for o in w.objects if o.kind == "structure"} == {"floor", "wall"}
    assert set(np.unique(w.instance_ids)) == set(range(len(w.objects))) | {-1}


def test_same_seed_same_world_and_room_option(worlds):
    again = build_world(5)
    assert np.array_equal(again.vertices, worlds[5].vertices)
    assert [o.label for o in again.objects] == [o.label for o in worlds[5].objects]
    other = worlds[6].vertices
    assert other.shape != again.vertices.shape or not np.array_equal(other, again.vertices)
    assert len(build_world(1, second_room=False).rooms) == 1
    assert len(build_world(1, second_room=True).rooms) == 2


def test_scene_conversion_keeps_objects_and_mesh(worlds):
    w = worlds[0]
    scene = w.to_scene("synth_test")
    assert scene.scene_id == "synth_test" and scene.source == "synthetic"
    assert len(scene.objects) == len(w.objects)
    chair = next(o for o in scene.objects if o.label != "floor" and o.label != "wall")
    assert np.array_equal(chair.vertex_ids, np.flatnonzero(w.instance_ids == chair.object_id))
    assert scene.mesh is not None and scene.mesh.faces is not None
    assert scene.mesh.faces.shape == w.faces.shape


def test_subdivision_reaches_face_count_and_keeps_attributes():
    coarse = build_world(2)
    fine = build_world(2, subdivide_to_faces=20_000)
    assert len(fine.faces) >= 20_000
    # a face never mixes instances or colours of different parts
    ids = fine.instance_ids[fine.faces]
    assert np.all(ids == ids[:, :1])
    for o in coarse.objects:
        a = coarse.vertices[coarse.instance_ids == o.instance_id]
        b = fine.vertices[fine.instance_ids == o.instance_id]
        assert len(b) >= len(a)
        assert np.allclose(a.min(0), b.min(0)) and np.allclose(a.max(0), b.max(0)), o.label
    # colours of new vertices are colours that existed before (midpoints of one-coloured edges)
    old = {tuple(c) for c in coarse.colors}
    assert {tuple(c) for c in fine.colors} <= old


def test_bad_object_range_is_rejected():
    with pytest.raises(ValueError, match="n_objects"):
        build_world(0, n_objects=(10, 5))


def test_catalog_entry_errors_name_the_entry():
    from spar3d.scenes.synthetic.catalog import _category

    good = {
        "size": {"w": [1, 2], "d": [1, 2], "h": [1, 2]},
        "placement": "floor",
        "builder": "table",
    }
    assert _category("thing", {**good, "colors": [[1, 2, 3]]}).size == ((1, 2), (1, 2), (1, 2))
    with pytest.raises(ValueError, match=r"categories\.thing.*'builder'"):
        _category("thing", {"size": good["size"], "placement": "floor", "colors": [[1, 2, 3]]})
    with pytest.raises(ValueError, match=r"categories\.thing: colours"):
        _category("thing", {**good, "colors": [[1, 2, 300]]})
