"""Camera motion inference (SPAR appx 7.5 "Camera pose"): where the second camera appears in the first image.

Two views sharing a visible object. The second camera's centre goes into the first camera's frame
and is projected with the first image's intrinsics; it is kept when it lies in front of the camera
(depth >= ``min_depth_m``) and inside the image. The answer is its 0-1000 position ``(x, y)`` and
its depth (z in the first camera's frame, metres, one decimal).

Wrong options for ``select`` are where OTHER keyframes' cameras appear in the first image (in
front, inside, at least ``min_option_gap`` 0-1000 units from the answer, sharing an object with
the first view as the answer's keyframe does), so they follow the answers' own distribution and no position or depth prior singles out the right one. When fewer
than three exist, synthetic ones are added, drawn with a generator seeded by the key (the
engine's generator is not available to ``compute``): positions anywhere in the image away from
the answer, depths on a geometric grid whose rank among the four options is uniform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spar3d.geometry.camera import project, uv_to_norm1000
from spar3d.geometry.transforms import world_to_cam
from spar3d.tasks.base import ChoiceAnswer, Facts, Reject, SceneView, Task, TaskSpec
from spar3d.tasks.common import metres
from spar3d.tasks.params import TaskParams, knob
from spar3d.tasks.registry import register_task
from spar3d.tasks.views import covisible, draw_pair

N_DISTRACTORS = 3


def option_text(xy: tuple[int, int], depth_m: float) -> str:
    return f"Image Coor: ({xy[0]}, {xy[1]}), Depth: {metres(depth_m)} meters"


def distractors(
    key: tuple[int, int], xy: tuple[int, int], depth_m: float, min_gap: float
) -> list[tuple[tuple[int, int], float]]:
    """``N_DISTRACTORS`` wrong (position, depth) pairs, deterministic for a key."""
    rng = np.random.default_rng([int(k) for k in key])
    below = int(rng.integers(N_DISTRACTORS + 1))  # options with a smaller depth than the answer
    step = float(rng.uniform(1.2, 1.6))
    ks = [-k for k in range(1, below + 1)] + list(range(1, N_DISTRACTORS - below + 1))
    out = []
    for k in ks:
        while True:
            cand = rng.integers(0, 1001, size=2)
            if np.hypot(cand[0] - xy[0], cand[1] - xy[1]) >= min_gap:
                break
        out.append(((int(cand[0]), int(cand[1])), max(0.1, depth_m * step**k)))
    return out


def cameras_in_view(
    scene: SceneView, i: int, min_depth_m: float
) -> dict[int, tuple[tuple[int, int], float]]:
    """Keyframes whose camera centre lies in front of camera ``i`` and inside image ``i``:
    ``{k: ((x, y) in 0-1000, depth_m)}``."""
    im = scene.image(i)
    centres = np.stack([other.T_world_cam[:3, 3] for other in scene.index.images])
    uv, z = project(im.K, world_to_cam(im.T_world_cam, centres))
    out = {}
    for k in range(len(centres)):
        u, v = uv[k]
        if k == i or not z[k] >= min_depth_m:
            continue
        if -0.5 <= u <= im.width - 0.5 and -0.5 <= v <= im.height - 0.5:
            x, y = (int(c) for c in uv_to_norm1000((u, v), im.width, im.height))
            out[k] = ((x, y), float(z[k]))
    return out


@dataclass(frozen=True)
class CameraMotionParams(TaskParams):
    """``min_depth_m``: least depth of a camera shown as an option; ``min_option_gap``: least
    distance between options (0-1000 image units)."""

    min_depth_m: float = knob(0.1, minimum=0)
    min_option_gap: float = knob(150.0, minimum=0)


@register_task
class CameraMotionInfer(Task):
    """The second image's camera centre as seen in the first image: (x, y) and depth."""

    spec = TaskSpec(
        name="camera_motion_infer",
        version=2,
        views="MV",
        relation="OC",
        formats=("fill", "select", "sentence"),
        markers=(),
        placeholders=("x", "y", "depth"),
        description=(
            "the second image's camera centre projected into the first image: (x, y) in 0-1000 "
            "and its depth (z in the first camera's frame, m); kept only when inside the image"
        ),
    )
    Params = CameraMotionParams
    center_note = False  # the question is about boxes / cameras, not object centres

    def propose(self, scene: SceneView, rng: Any) -> Any:
        return draw_pair(scene, rng)

    def compute(self, scene: SceneView, key: Any) -> Facts:
        i, j = key
        im1 = scene.image(i)
        c2_cam1 = world_to_cam(im1.T_world_cam, scene.image(j).T_world_cam[:3, 3])
        depth = float(c2_cam1[2])
        if depth < self.params.min_depth_m:
            raise Reject("camera_behind")
        uv = project(im1.K, c2_cam1[None])[0][0]
        inside = -0.5 <= uv[0] <= im1.width - 0.5 and -0.5 <= uv[1] <= im1.height - 0.5
        if not inside:
            raise Reject("camera_outside_image")
        x, y = (int(v) for v in uv_to_norm1000(uv, im1.width, im1.height))
        gap = self.params.min_option_gap
        correct = option_text((x, y), depth)
        # wrong options come from the answers' own population: keyframes that share an object
        # with the first view (others are farther off and show as the nearer options)
        shares = set(covisible(scene, i))
        wrong = [
            (xy, d)
            for k, (xy, d) in sorted(cameras_in_view(scene, i, self.params.min_depth_m).items())
            if k != j and k in shares and np.hypot(xy[0] - x, xy[1] - y) >= gap
        ]
        if len(wrong) < N_DISTRACTORS:
            wrong += distractors(key, (x, y), depth, gap)[: N_DISTRACTORS - len(wrong)]
        texts = tuple(t for t in dict.fromkeys(option_text(p, d) for p, d in wrong) if t != correct)
        return Facts(
            images=[i, j],
            object_ids=[],
            values={"x": str(x), "y": str(y), "depth": metres(depth)},
            answer=ChoiceAnswer(correct, texts),
            quantities={
                "camera2_in_cam1": [float(v) for v in c2_cam1],
                "uv_px": [float(v) for v in uv],
                "xy_norm1000": [x, y],
                "depth_m": depth,
            },
        )
