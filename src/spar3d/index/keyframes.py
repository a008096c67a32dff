"""Keyframe selection by camera pose (SPAR appendix 7.3).

A frame is redundant when some already kept frame is both closer than ``translation_m`` (camera
centres) and rotated by less than ``rotation_deg`` (theta = arccos((trace(R_i^T R_j) - 1) / 2)).
Every other frame is kept. Frames are visited in capture order, so the first frame is always kept.

The paper's text lost its threshold values; the defaults below are ours, chosen so that a ScanNet
capture (30 fps, exported every frame) keeps roughly one frame in ten, the fraction the paper
reports. Structured3D views are sparse already and are not filtered (``KEYFRAME_PRESETS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spar3d.errors import check_number


@dataclass(frozen=True)
class KeyframeParams:
    """Thresholds of the keyframe rule.

    Attributes:
        translation_m: Frames whose camera centres are at least this far from every kept frame
            are kept without looking at rotation.
        rotation_deg: A frame near a kept one is still kept when it is rotated by more than this
            from every near kept frame.
    """

    translation_m: float = 0.25
    rotation_deg: float = 15.0

    def __post_init__(self) -> None:
        check_number("keyframe translation_m", self.translation_m, minimum=0)
        check_number("keyframe rotation_deg", self.rotation_deg, minimum=0, maximum=180)


KEYFRAME_PRESETS: dict[str, KeyframeParams | None] = {
    "scannet": KeyframeParams(0.25, 15.0),
    "synthetic": KeyframeParams(0.25, 15.0),
    "scannetpp": KeyframeParams(0.5, 20.0),
    "structured3d": None,  # no filtering: views are sparse already
    "arkitscenes": KeyframeParams(0.25, 15.0),  # hand-held 10 fps video, like ScanNet's
}

#: How point-cloud scenes (no faces) decide visibility, per source (``IndexParams``'s
#: ``pointcloud_visibility="auto"``). Structured3D ships each view's depth and instance images:
#: an object is seen in a view iff its instance id is in the view's instance image, which is
#: exact (nothing is rendered), and its points are checked against both images.
PointcloudVisibility = Literal["splat", "depth", "instance"]
POINTCLOUD_VISIBILITY_PRESETS: dict[str, PointcloudVisibility] = {"structured3d": "instance"}


def select_keyframes(T_world_cams: ArrayLike, params: KeyframeParams | None = None) -> list[int]:
    """Indices of the frames to keep, ascending.

    Args:
        T_world_cams: ``(N, 4, 4)`` camera-to-world poses in capture order.
        params: Thresholds; None keeps every frame.
    """
    poses = np.asarray(T_world_cams, dtype=np.float64)
    n = len(poses)
    if params is None or n == 0:
        return list(range(n))
    centers = poses[:, :3, 3]
    rots = poses[:, :3, :3]
    # cos(theta) < cos(threshold)  <=>  theta > threshold; trace(R_k^T R_i) = sum(R_k * R_i)
    cos_thr = np.cos(np.radians(params.rotation_deg))
    kept_idx = np.empty(n, dtype=np.int64)
    kept_c = np.empty((n, 3))
    kept_r = np.empty((n, 9))
    m = 0
    for i in range(n):
        if m:
            d2 = np.sum((kept_c[:m] - centers[i]) ** 2, axis=1)
            near = d2 < params.translation_m**2
            if near.any():
                cos_theta = (kept_r[:m][near] @ rots[i].ravel() - 1.0) / 2.0
                if (cos_theta > cos_thr).any():
                    continue  # a near kept frame looks the same way: redundant
        kept_idx[m] = i
        kept_c[m] = centers[i]
        kept_r[m] = rots[i].ravel()
        m += 1
    return [int(k) for k in kept_idx[:m]]


def keyframe_mask(
    T_world_cams: ArrayLike, params: KeyframeParams | None = None
) -> NDArray[np.bool_]:
    """Boolean ``(N,)`` mask form of :func:`select_keyframes`."""
    poses = np.asarray(T_world_cams)
    mask = np.zeros(len(poses), dtype=bool)
    mask[select_keyframes(poses, params)] = True
    return mask
