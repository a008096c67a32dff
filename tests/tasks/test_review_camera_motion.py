"""camera_motion_infer select: wrong options come from the answers' own population.

The answer is a keyframe that shares an object with the first view; a wrong option taken from a
keyframe that shares nothing with it is drawn from another population (on SPAR-like trajectories
those cameras sit elsewhere in depth), so "the deepest option" beat chance (0.42 vs 0.25 on 200
synthetic-scene samples). Recomputed here with test-side numpy: every real-camera wrong option
must be the projection of a co-visible keyframe.
"""

from __future__ import annotations

import numpy as np
from room_factory import random_index

from spar3d.tasks import create_task


def _option(T_world_cam1, K, width, height, centre) -> str:
    R, t = T_world_cam1[:3, :3], T_world_cam1[:3, 3]
    p = R.T @ (centre - t)
    u, v = K[0, 0] * p[0] / p[2] + K[0, 2], K[1, 1] * p[1] / p[2] + K[1, 2]
    x, y = round((u + 0.5) * 1000 / width), round((v + 0.5) * 1000 / height)
    return f"Image Coor: ({x}, {y}), Depth: {round(p[2], 1):.1f} meters"


def test_review_wrong_options_are_covisible_keyframes():
    index = random_index(9, n_objects=30, n_cameras=80)
    seen = [{v.object_id for v in im.visible} for im in index.images]
    samples, _ = create_task("camera_motion_infer").generate(index, 600, seed=1)
    sel = [s for s in samples if s["meta"]["format"] == "select"]
    assert len(sel) >= 60
    checked = 0
    for s in sel:
        i, j = s["meta"]["image_indices"]
        im = index.images[i]
        T, K = np.asarray(im.T_world_cam), np.asarray(im.K)
        foreign = set()
        for k, other in enumerate(index.images):
            if k in (i, j) or seen[k] & seen[i]:
                continue
            c = np.asarray(other.T_world_cam)[:3, 3]
            if (T[:3, :3].T @ (c - T[:3, 3]))[2] > 0.1:
                foreign.add(_option(T, K, im.width, im.height, c))
        checked += len(foreign)
        assert not foreign & set(s["meta"]["options"]), s["id"]
    assert checked > 0  # the fixture has in-front cameras that share nothing with the view
