"""The OpenCV fisheye model and its undistortion, checked against closed forms.

Expected values come from the model's defining formula evaluated here with plain numpy
(theta = atan(r), theta_d = theta (1 + k1 theta^2 + ...)), and from inverting it by bisection,
not from the module's own Newton inverse.
"""

from __future__ import annotations

import numpy as np

from spar3d.geometry.fisheye import (
    distort_normalized,
    field_of_view_deg,
    fisheye_rays,
    pinhole_for_fisheye,
    project_fisheye,
    undistort_image,
    undistort_normalized,
)

K = np.array([[120.0, 0.0, 160.0], [0.0, 118.0, 121.0], [0.0, 0.0, 1.0]])
COEFFS = np.array([-0.03, 0.004, -0.0015, 0.0002])


def _theta_d(theta: np.ndarray) -> np.ndarray:
    k1, k2, k3, k4 = COEFFS
    return theta * (1 + k1 * theta**2 + k2 * theta**4 + k3 * theta**6 + k4 * theta**8)


def _bisect_theta(theta_d: np.ndarray) -> np.ndarray:
    lo, hi = np.zeros_like(theta_d), np.full_like(theta_d, 1.55)
    for _ in range(80):
        mid = (lo + hi) / 2
        below = _theta_d(mid) < theta_d
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return (lo + hi) / 2


def test_projection_follows_the_opencv_fisheye_formula() -> None:
    # a point 50 degrees off axis, in the direction 30 degrees below +x
    theta, phi = np.radians(50.0), np.radians(30.0)
    p = np.array([[np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)]])
    td = _theta_d(np.array([theta]))[0]
    expected = [K[0, 0] * td * np.cos(phi) + K[0, 2], K[1, 1] * td * np.sin(phi) + K[1, 2]]
    np.testing.assert_allclose(project_fisheye(K, COEFFS, p)[0], expected, atol=1e-9)


def test_undistort_normalized_inverts_the_model() -> None:
    rng = np.random.default_rng(0)
    ab = rng.uniform(-2.5, 2.5, size=(500, 2))  # up to ~74 degrees off axis
    xy = distort_normalized(ab, COEFFS)
    np.testing.assert_allclose(undistort_normalized(xy, COEFFS), ab, atol=1e-9)
    # and against an independent bisection on theta
    theta = _bisect_theta(np.hypot(xy[:, 0], xy[:, 1]))
    np.testing.assert_allclose(np.hypot(ab[:, 0], ab[:, 1]), np.tan(theta), rtol=1e-9)


def test_fisheye_rays_hit_their_own_pixels() -> None:
    w, h = 32, 24
    K_small = np.array([[30.0, 0.0, 16.0], [0.0, 29.0, 12.0], [0.0, 0.0, 1.0]])
    rays = fisheye_rays(K_small, COEFFS, w, h)
    uv = project_fisheye(K_small, COEFFS, rays)
    v, u = np.mgrid[0:h, 0:w]
    np.testing.assert_allclose(uv, np.column_stack([u.ravel(), v.ravel()]), atol=1e-8)


def test_pinhole_keeps_no_empty_pixels_on_the_axes_and_centres_the_image() -> None:
    w, h = 320, 240
    K_new = pinhole_for_fisheye(K, COEFFS, w, h)
    assert K_new[0, 2] == w / 2 and K_new[1, 2] == h / 2
    assert np.isclose(K_new[0, 0] / K_new[1, 1], K[0, 0] / K[1, 1])  # aspect kept
    # the four edge midpoints of the output image map inside the fisheye image
    mids = np.array([[0.0, h / 2], [w - 1.0, h / 2], [w / 2, 0.0], [w / 2, h - 1.0]])
    ab = (mids - K_new[:2, 2]) / np.diag(K_new)[:2]
    theta = np.arctan(np.hypot(ab[:, 0], ab[:, 1]))
    td = _theta_d(theta)
    scale = td / np.hypot(ab[:, 0], ab[:, 1])
    src = ab * scale[:, None] * np.diag(K)[:2] + K[:2, 2]
    assert np.all(src[:, 0] >= -0.5) and np.all(src[:, 0] <= w - 0.5 + 1e-6)
    assert np.all(src[:, 1] >= -0.5) and np.all(src[:, 1] <= h - 0.5 + 1e-6)
    # and at least one of them is on the border: the view is as wide as that allows
    on_border = np.isclose(src[:, 0], 0, atol=1.0) | np.isclose(src[:, 0], w - 1, atol=1.0)
    on_border |= np.isclose(src[:, 1], 0, atol=1.0) | np.isclose(src[:, 1], h - 1, atol=1.0)
    assert on_border.any()
    hfov, vfov = field_of_view_deg(K_new, w, h)
    assert np.isclose(hfov, np.degrees(2 * np.arctan(w / 2 / K_new[0, 0])))
    assert 60 < vfov < hfov < 180


def test_undistorted_image_samples_the_fisheye_where_the_model_says() -> None:
    # the fisheye image shows a smooth function of the viewing direction; after undistortion
    # each pixel must show the value of its own pinhole direction
    w, h = 160, 120
    Kf = np.array([[60.0, 0.0, 80.0], [0.0, 60.0, 60.0], [0.0, 0.0, 1.0]])

    def pattern(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return 128 + 60 * np.sin(2.0 * a) + 50 * np.cos(1.5 * b)

    v, u = np.mgrid[0:h, 0:w].astype(float)
    xy = np.stack([(u - Kf[0, 2]) / Kf[0, 0], (v - Kf[1, 2]) / Kf[1, 1]], -1).reshape(-1, 2)
    theta = _bisect_theta(np.hypot(xy[:, 0], xy[:, 1]))
    r_d = np.maximum(np.hypot(xy[:, 0], xy[:, 1]), 1e-12)
    ab = xy * (np.tan(theta) / r_d)[:, None]
    fish = np.clip(np.rint(pattern(ab[:, 0], ab[:, 1])), 0, 255).astype(np.uint8).reshape(h, w)
    K_new = pinhole_for_fisheye(Kf, COEFFS, w, h)
    out = undistort_image(fish, Kf, COEFFS, K_new).astype(float)
    a = (u - K_new[0, 2]) / K_new[0, 0]
    b = (v - K_new[1, 2]) / K_new[1, 1]
    expected = pattern(a, b)
    inner = (slice(2, -2), slice(2, -2))
    err = np.abs(out[inner] - expected[inner])
    assert np.median(err) < 1.0 and np.percentile(err, 99) < 4.0
