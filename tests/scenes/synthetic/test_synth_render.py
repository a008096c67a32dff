"""Rendering: depth checked against brute-force ray/triangle intersection and a hand-built box."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from spar3d.geometry.boxes import OrientedBox
from spar3d.geometry.transforms import look_at
from spar3d.scenes.synthetic import build_world, camera_trajectory, render_frame
from spar3d.scenes.synthetic.layout import Room
from spar3d.scenes.synthetic.render import default_intrinsics, make_world_caster
from spar3d.scenes.synthetic.world import SyntheticWorld, WorldObject

W, H = 64, 48


def brute_force_depth(vertices, faces, K, T_world_cam, uv):
    """Camera z of the nearest triangle hit along each pixel's ray (Moller-Trumbore, numpy)."""
    R, t = T_world_cam[:3, :3], T_world_cam[:3, 3]
    out = np.zeros(len(uv))
    tri = vertices[faces]
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    for k, (u, v) in enumerate(uv):
        d_cam = np.array([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], 1.0])
        d = R @ d_cam
        p = np.cross(d, e2)
        det = np.einsum("ij,ij->i", e1, p)
        ok = np.abs(det) > 1e-12
        inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        s = t - tri[:, 0]
        a = np.einsum("ij,ij->i", s, p) * inv
        q = np.cross(s, e1)
        b = (q @ d) * inv
        dist = np.einsum("ij,ij->i", e2, q) * inv
        hit = ok & (a >= 0) & (b >= 0) & (a + b <= 1) & (dist > 1e-6)
        # d has camera z = 1, so the ray parameter is the camera-frame depth
        out[k] = dist[hit].min() if hit.any() else 0.0
    return out


@pytest.mark.parametrize("seed", [0, 7])
def test_depth_matches_independent_ray_triangle_intersection(seed):
    world = build_world(seed)
    poses = camera_trajectory(world, 12, seed, W, H)
    K = default_intrinsics(W, H)
    caster = make_world_caster(world)
    rng = np.random.default_rng(seed)
    for T in poses[::4]:
        rgb, depth_mm = render_frame(world, caster, K, W, H, T)
        assert rgb.shape == (H, W, 3) and rgb.dtype == np.uint8
        assert depth_mm.shape == (H, W) and depth_mm.dtype == np.uint16
        uv = np.stack([rng.integers(0, W, 40), rng.integers(0, H, 40)], axis=1)
        expected = brute_force_depth(world.vertices, world.faces, K, T, uv)
        got = depth_mm[uv[:, 1], uv[:, 0]] / 1000.0
        # pixels exactly on an edge between two faces can go either way; they agree in depth anyway
        assert np.all(np.abs(got - expected) < 0.01), np.abs(got - expected).max()
        assert np.all(expected > 0)  # a closed room: every ray hits something


def one_box_world(center, size, color=(200, 100, 50), light=(0.0, 0.0, 1.5)):
    m = trimesh.creation.box(extents=size)
    v = np.asarray(m.vertices) + np.asarray(center)
    f = np.asarray(m.faces, np.int64)
    obj = WorldObject(0, "box", OrientedBox.axis_aligned(center, size), "floor", 0)
    return SyntheticWorld(
        seed=0,
        vertices=v,
        faces=f,
        colors=np.tile(np.array(color, np.uint8), (len(v), 1)),
        instance_ids=np.zeros(len(v), np.int64),
        objects=[obj],
        rooms=[Room(-10, -10, 10, 10, 3.0, "office")],
        walls=[],
        lights=np.array([light], float),
    )


def test_one_box_in_front_of_the_camera_gives_hand_computed_depth():
    # camera at (0, 0, 1.5) looking along +x; a 1 m cube centred 3 m ahead: its face is at x = 2.5
    world = one_box_world((3.0, 0.0, 1.5), (1.0, 1.0, 1.0))
    K = np.array([[50.0, 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]])
    T = look_at((0, 0, 1.5), (5, 0, 1.5))
    rgb, depth_mm = render_frame(world, make_world_caster(world), K, W, H, T)
    # the face spans |y|, |z - 1.5| <= 0.5 at 2.5 m: |u - 31.5|, |v - 23.5| <= 50 * 0.5 / 2.5 = 10 px
    u, v = np.meshgrid(np.arange(W), np.arange(H))
    inside = (np.abs(u - 31.5) < 10) & (np.abs(v - 23.5) < 10)
    outside = (np.abs(u - 31.5) > 10) | (np.abs(v - 23.5) > 10)
    assert np.all(depth_mm[inside] == 2500)
    assert np.all(depth_mm[outside] == 0)
    assert np.all(rgb[outside] == 0)
    # the light sits on the optical axis: the face centre is lit head-on, so it keeps its colour
    assert np.all(np.abs(rgb[23, 31].astype(int) - (200, 100, 50)) <= 1)
    # towards the face's edge the light comes in obliquely: darker, never brighter
    assert rgb[23, 40, 0] < rgb[23, 31, 0]


def test_depth_is_camera_z_not_ray_length():
    # a wall 2 m ahead filling the view: every pixel has depth 2.000 m although off-axis rays are longer
    world = one_box_world((2.05, 0.0, 1.5), (0.1, 40.0, 40.0))
    K = default_intrinsics(W, H)
    T = look_at((0, 0, 1.5), (1, 0, 1.5))
    _, depth_mm = render_frame(world, make_world_caster(world), K, W, H, T)
    assert np.all(depth_mm == 2000)
