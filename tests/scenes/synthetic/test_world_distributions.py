"""The world's random draws follow their stated parameters (``WorldParams``), apartments of several
rooms are valid, clutter rests on its surface, and the parameters are stored with the scenes.

Statistical checks use fixed seeds; each tolerance is several standard errors of the estimate
(stated beside it), so the tests are deterministic and still fail when a draw drifts.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from shapely.geometry import MultiPoint, box

from spar3d.scenes.synthetic import build_world, camera_trajectory
from spar3d.scenes.synthetic.layout import CLUTTER_HOSTS, SURFACE_CLUTTER, WALL_T
from spar3d.scenes.synthetic.params import DEFAULT_WORLD, WorldParams


def normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def footprint(b):
    return MultiPoint([tuple(c[:2]) for c in b.corners()]).convex_hull


# -- the draws ------------------------------------------------------------------------------------


def test_room_count_frequencies_match_the_weights():
    rng = np.random.default_rng(0)
    n = 6000
    counts = np.bincount([DEFAULT_WORLD.draw_n_rooms(rng) for _ in range(n)], minlength=4)[1:]
    p = np.array(DEFAULT_WORLD.rooms_weights) / sum(DEFAULT_WORLD.rooms_weights)
    # standard error of a share is at most 0.5 / sqrt(6000) = 0.0065: allow 0.025
    assert np.allclose(counts / n, p, atol=0.025), (counts / n, p)


def test_room_area_is_log_normal_with_the_stated_median_and_clip():
    p = DEFAULT_WORLD
    rng = np.random.default_rng(1)
    a = np.array([p.draw_room_area(rng) for _ in range(8000)])
    lo, hi = p.room_area_range_m2
    assert a.min() >= lo and a.max() <= hi
    assert abs(np.median(a) / p.room_area_median_m2 - 1) < 0.03  # SE of the median ~1.4 %
    # the share clipped at the lower bound is the log-normal's mass below it
    below = normal_cdf(math.log(lo / p.room_area_median_m2) / p.room_area_log_sd)
    assert abs(np.mean(a == lo) - below) < 0.015, (np.mean(a == lo), below)
    # between the clips, log-area quartiles sit at median * exp(+-0.674 sd)
    q1, q3 = np.quantile(np.log(a), (0.25, 0.75))
    assert abs((q3 - q1) / (2 * 0.6745) - p.room_area_log_sd) < 0.03


def test_room_sides_give_the_area_and_an_allowed_aspect_ratio():
    p = DEFAULT_WORLD
    rng = np.random.default_rng(2)
    for _ in range(500):
        w, d = p.draw_room_sides(rng)
        ratio = max(w, d) / min(w, d)
        assert p.room_aspect_range[0] - 1e-9 <= ratio <= p.room_aspect_range[1] + 1e-9
        assert p.room_area_range_m2[0] - 1e-9 <= w * d <= p.room_area_range_m2[1] + 1e-9


def test_object_count_is_poisson_in_the_area():
    p = DEFAULT_WORLD
    rng = np.random.default_rng(3)
    n = np.array([p.draw_n_objects(20.0, rng) for _ in range(4000)])
    lam = p.objects_per_m2 * 20.0  # 11: the clip at 5 and 30 moves the mean by < 0.03
    assert abs(n.mean() - lam) < 0.2  # SE sqrt(11 / 4000) = 0.05
    assert abs(n.var() / lam - 1) < 0.1


def test_eye_height_and_scale_follow_their_normals():
    p = DEFAULT_WORLD
    rng = np.random.default_rng(4)
    h = np.array([p.draw_eye_height(rng) for _ in range(6000)])
    assert h.min() >= p.eye_height_range_m[0] and h.max() <= p.eye_height_range_m[1]
    assert abs(h.mean() - p.eye_height_mean_m) < 0.01  # SE 0.002
    assert abs(h.std() / p.eye_height_sd_m - 1) < 0.06  # the 2.3-sd clip shrinks sd by ~3 %
    s = np.array([p.draw_scale(rng) for _ in range(6000)])
    assert abs(np.median(np.log(s))) < 0.006
    assert abs(np.std(np.log(s)) / p.scale_log_sd - 1) < 0.06


def test_parameters_check_their_ranges_and_round_trip_json():
    assert WorldParams.from_json(json.loads(json.dumps(DEFAULT_WORLD.to_json()))) == DEFAULT_WORLD
    with pytest.raises(ValueError, match="room_area_range_m2"):
        WorldParams(room_area_range_m2=(30.0, 10.0))
    with pytest.raises(ValueError, match="unknown world parameter"):
        WorldParams.from_json({"rooms": 3})


# -- worlds built from them ------------------------------------------------------------------


@pytest.fixture(scope="module")
def worlds():
    return [build_world(s) for s in range(60)]


def test_scene_floor_area_and_object_count_match_scannet_means(worlds):
    # ScanNet (Dai et al. 2017, table 2): 22.6 m2 of floor and 24.1 labelled objects per scan.
    # Over 60 scenes the SE of the mean area is ~2 m2 and of the object count ~2.
    area = np.mean([sum(r.area_m2 for r in w.rooms) for w in worlds])
    objects = np.mean([len(w.furniture()) for w in worlds])
    assert abs(area - 22.6) < 5.0, area
    assert abs(objects - 24.1) < 6.0, objects
    rooms = np.bincount([len(w.rooms) for w in worlds], minlength=4)[1:] / len(worlds)
    assert np.allclose(rooms, np.array(DEFAULT_WORLD.rooms_weights), atol=0.15), rooms


@pytest.fixture(scope="module")
def apartments():
    return [build_world(s, n_rooms=3) for s in range(6)]


def wall_rects(world):
    """Plan rectangles of the walls' solid parts (doorways left open)."""
    out = []
    for w in world.walls:
        p0, p1 = np.asarray(w.p0, float), np.asarray(w.p1, float)
        along = (p1 - p0) / np.linalg.norm(p1 - p0)
        spans = [(-WALL_T / 2, w.length + WALL_T / 2)]
        if w.doorway is not None:
            spans = [(-WALL_T / 2, w.doorway[0]), (w.doorway[1], w.length + WALL_T / 2)]
        for s0, s1 in spans:
            a, b = p0 + along * s0, p0 + along * s1
            half = np.abs(along[::-1]) * WALL_T / 2
            lo, hi = np.minimum(a, b) - half, np.maximum(a, b) + half
            out.append(box(lo[0], lo[1], hi[0], hi[1]))
    return out


def test_apartments_are_rooms_in_a_row_joined_by_doorways(apartments):
    for w in apartments:
        assert len(w.rooms) == 3
        for a, b in zip(w.rooms[:-1], w.rooms[1:], strict=True):
            assert abs(a.x1 - b.x0) < 1e-12 and a.y0 == b.y0 == 0.0
        doors = [s for s in w.walls if s.doorway is not None]
        assert sorted(s.p0[0] for s in doors) == pytest.approx([r.x0 for r in w.rooms[1:]])
        for s in doors:  # the opening fits the wall both rooms share
            shared = min(r.y1 for r in w.rooms if abs(r.x0 - s.p0[0]) < 1e-9
                         or abs(r.x1 - s.p0[0]) < 1e-9)
            assert 0.3 - 1e-9 <= s.doorway[0] < s.doorway[1] <= shared - 0.3 + 1e-9


def test_no_object_overlaps_a_wall_or_another_floor_object(apartments):
    for w in apartments:
        walls = wall_rects(w)
        placed = [o for o in w.objects if o.kind in ("floor", "top")]
        for o in placed:
            fp = footprint(o.box)
            for wr in walls:
                assert fp.intersection(wr).area < 1e-9, (w.seed, o.label)
        floor = [footprint(o.box) for o in w.objects if o.kind == "floor"]
        for i in range(len(floor)):
            for j in range(i + 1, len(floor)):
                assert floor[i].intersection(floor[j]).area < 1e-9, (w.seed, i, j)


def test_cameras_stay_inside_rooms_at_drawn_heights(apartments):
    p = DEFAULT_WORLD
    means = []
    for k, w in enumerate(apartments):
        for seed in range(5):
            poses = camera_trajectory(w, 30, 100 * k + seed, 80, 60)
            c = np.array([T[:3, 3] for T in poses])
            inside = [any(r.x0 + WALL_T / 2 < x < r.x1 - WALL_T / 2
                          and r.y0 + WALL_T / 2 < y < r.y1 - WALL_T / 2 for r in w.rooms)
                      or any(s.doorway is not None and abs(x - s.p0[0]) <= WALL_T / 2 + 0.5
                             and s.doorway[0] < y < s.doorway[1] for s in w.walls)
                      for x, y in c[:, :2]]
            assert all(inside), (w.seed, seed)
            # one height per walk plus a bob of at most 5 cm
            assert np.ptp(c[:, 2]) <= 0.1 + 1e-9
            assert p.eye_height_range_m[0] - 0.05 <= c[:, 2].mean() <= p.eye_height_range_m[1] + 0.05
            means.append(c[:, 2].mean())
    # 30 walks: the mean height's SE is 0.15 / sqrt(30) = 0.03
    assert abs(np.mean(means) - p.eye_height_mean_m) < 0.1


def test_surface_clutter_rests_on_its_host_top(worlds):
    placed = 0
    for w in worlds[:30]:
        for o in w.objects:
            if o.label not in SURFACE_CLUTTER or o.support_id is None:
                continue
            host = w.objects[o.support_id]
            assert host.label in CLUTTER_HOSTS or o.label in ("book", "box"), host.label
            if host.label not in CLUTTER_HOSTS:
                continue
            bottom = o.box.center[2] - o.box.size[2] / 2
            top = host.box.center[2] + host.box.size[2] / 2
            assert abs(bottom - top) < 1e-6, (w.seed, o.label, host.label, bottom, top)
            assert footprint(host.box).buffer(1e-6).contains(footprint(o.box)), (w.seed, o.label)
            placed += 1
    assert placed >= 40, placed  # ~1.5 per host were asked for; some do not fit


def test_synthesize_stores_the_world_parameters(tmp_path):
    from spar3d.scenes.synthetic import synthesize

    params = WorldParams(rooms_weights=(0.0, 1.0))
    (scene,) = synthesize(tmp_path, 1, seed=3, n_frames=3, width=32, height=24, progress=False,
                          world=params)
    done = json.loads((scene / "synth_done.json").read_text())
    assert WorldParams.from_json(done["world_params"]) == params
    assert done["world_params"]["rooms_weights"] == [0.0, 1.0]
