import numpy as np
import pytest

from spar3d.geometry.camera import (
    box2d_to_norm1000,
    norm1000_to_uv,
    pixel_rays_cam,
    project,
    unproject,
    uv_to_norm1000,
)
from spar3d.geometry.transforms import (
    cam_to_world,
    invert_pose,
    look_at,
    rotation_angle_deg,
    world_to_cam,
)

K = np.array([[500.0, 0.0, 319.5], [0.0, 500.0, 239.5], [0.0, 0.0, 1.0]])


def test_project_hand_computed():
    # camera at the origin looking along world +y: cam x = world x, cam y = -world z, cam z = world y
    T = look_at([0, 0, 0], [0, 1, 0])
    p_cam = world_to_cam(T, np.array([[0.5, 3.0, 0.2]]))
    np.testing.assert_allclose(p_cam, [[0.5, -0.2, 3.0]], atol=1e-12)
    uv, depth = project(K, p_cam)
    np.testing.assert_allclose(uv, [[500 * 0.5 / 3 + 319.5, 500 * -0.2 / 3 + 239.5]])
    assert depth[0] == pytest.approx(3.0)


def test_unproject_inverts_project():
    rng = np.random.default_rng(0)
    p = rng.uniform([-2, -2, 0.5], [2, 2, 8], size=(50, 3))
    uv, z = project(K, p)
    np.testing.assert_allclose(unproject(K, uv, z), p, atol=1e-9)


def test_points_behind_camera_are_nan():
    uv, z = project(K, np.array([[0.0, 0.0, -1.0]]))
    assert np.isnan(uv).all() and z[0] == -1.0


def test_pose_inverse_and_round_trip():
    T = look_at([1, 2, 1.5], [3, -1, 0.5])
    np.testing.assert_allclose(T @ invert_pose(T), np.eye(4), atol=1e-12)
    p = np.array([[0.3, 0.1, 2.0]])
    np.testing.assert_allclose(world_to_cam(T, cam_to_world(T, p)), p, atol=1e-12)
    # the camera's +z looks at the target
    target_cam = world_to_cam(T, np.array([3.0, -1.0, 0.5]))
    assert abs(target_cam[0]) < 1e-9 and abs(target_cam[1]) < 1e-9 and target_cam[2] > 0


def test_look_at_parallel_up_raises():
    with pytest.raises(ValueError):
        look_at([0, 0, 0], [0, 0, 5])


def test_rotation_angle():
    a = np.radians(30)
    Rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    assert rotation_angle_deg(np.eye(3), Rz) == pytest.approx(30.0)


def test_norm1000():
    # pixel edges map to 0 and 1000; the image centre to 500
    assert uv_to_norm1000([[-0.5, -0.5]], 640, 480).tolist() == [[0, 0]]
    assert uv_to_norm1000([[639.5, 479.5]], 640, 480).tolist() == [[1000, 1000]]
    assert uv_to_norm1000([[319.5, 239.5]], 640, 480).tolist() == [[500, 500]]
    # x by width, y by height
    assert uv_to_norm1000([[63.5, 47.5]], 640, 480).tolist() == [[100, 100]]
    np.testing.assert_allclose(norm1000_to_uv([[100, 100]], 640, 480), [[63.5, 47.5]])
    assert box2d_to_norm1000([64, 48, 320, 240], 640, 480).tolist() == [100, 100, 500, 500]


def test_pixel_rays_through_centres():
    rays = pixel_rays_cam(K, 640, 480)
    assert rays.shape == (640 * 480, 3)
    # pixel (319.5, 239.5) is not a pixel centre; pixel (0, 0) is at u = 0
    np.testing.assert_allclose(rays[0], [-319.5 / 500, -239.5 / 500, 1.0])
