"""No-model reference points for the grounding benchmark, as eval backends.

* ``oracle`` (the shared backend) answers the ground truth: Acc@0.5 before refinement must be
  100, or lifting and the answer format disagree.
* ``random`` (the shared backend) answers a random view, a uniform (u, v), a uniform depth and
  size (:func:`random_answer`).
* ``ground-median``: a random shown view, the image centre (500, 500), the median depth of the
  objects that view sees and the scene's median object size -- what "pick a view, guess a
  typical distance" earns.
* ``ground-center``: a box of the scene's median object size at the centre of the room (the
  middle of the floor footprint, at the objects' median height), written in the shown view where
  that point projects nearest the image centre.

They read the scene statistics of the benchmark's ``context`` column (no fact of the target).
"""

from __future__ import annotations

import random as _random

import numpy as np

from spar3d.bench.eval.backends.base import BACKENDS, Request
from spar3d.bench.eval.backends.baselines import _AnswerFunctionBackend
from spar3d.geometry.transforms import world_to_cam
from spar3d.grounding.answer import GroundingAnswer
from spar3d.grounding.context import GroundingContext, parse_context


def random_answer(rng: _random.Random, n_views: int, depth_range: tuple[float, float]) -> str:
    """A uniform guess: view, (u, v) in 0-1000, depth in ``depth_range``, sizes 0.2-1.5 m."""
    frame = rng.randint(1, max(1, n_views))
    uv = (rng.uniform(0, 1000), rng.uniform(0, 1000))
    size = (rng.uniform(0.2, 1.5), rng.uniform(0.2, 1.5), rng.uniform(0.2, 1.5))
    return GroundingAnswer(frame, uv, rng.uniform(*depth_range), size).text()


def _context(request: Request) -> GroundingContext:
    raw = request.sample.extra.get("context")
    if not raw:
        raise LookupError(f"sample {request.sample.id}: no grounding context column")
    return parse_context(raw, f"sample {request.sample.id}")


def _median_size(ctx: GroundingContext) -> tuple[float, float, float]:
    w, h, length = (float(v) for v in ctx.raw.get("median_size_whl_m", (0.5, 0.5, 0.5)))
    return (w, h, length)


class GroundMedianBackend(_AnswerFunctionBackend):
    def __init__(self, seed: int, fallback_depth_m: float) -> None:
        self.seed = seed
        self.fallback_depth_m = fallback_depth_m

    def answer(self, request: Request) -> str:
        ctx = _context(request)
        rng = _random.Random(f"{self.seed}:{request.sample.id}")
        k = rng.randint(1, len(ctx.views))
        depth = ctx.views[k - 1].median_object_depth_m or self.fallback_depth_m
        return GroundingAnswer(k, (500.0, 500.0), depth, _median_size(ctx)).text()


@BACKENDS.register("ground-median")
def ground_median(seed: int = 0, fallback_depth_m: float = 2.0) -> GroundMedianBackend:
    """Grounding baseline: random view, image centre, the view's median object depth.

    Args:
        seed: Random seed (combined with each sample's id).
        fallback_depth_m: Depth used when the view sees no object.
    """
    return GroundMedianBackend(int(seed), float(fallback_depth_m))


class GroundCenterBackend(_AnswerFunctionBackend):
    def answer(self, request: Request) -> str:
        ctx = _context(request)
        center = np.asarray(ctx.raw.get("room_center", (0.0, 0.0, 1.0)), dtype=np.float64)
        best: tuple[float, int, float, float, float] | None = None
        for k, v in enumerate(ctx.views, 1):
            p = world_to_cam(v.T_world_cam, center)
            if p[2] <= 0.05:
                continue
            u = (
                (v.K[0, 0] * p[0] / p[2] + v.K[0, 1] * p[1] / p[2] + v.K[0, 2] + 0.5)
                * 1000
                / v.width
            )
            w = (v.K[1, 1] * p[1] / p[2] + v.K[1, 2] + 0.5) * 1000 / v.height
            off = float(np.hypot(u - 500.0, w - 500.0))
            if best is None or off < best[0]:
                best = (off, k, float(u), float(w), float(p[2]))
        if best is None:  # the room centre is behind every view: say so in view 1
            return GroundingAnswer(1, (500.0, 500.0), 1.0, _median_size(ctx)).text()
        _, k, u, w, z = best
        return GroundingAnswer(k, (u, w), z, _median_size(ctx)).text()


@BACKENDS.register("ground-center")
def ground_center() -> GroundCenterBackend:
    """Grounding baseline: a median-size box at the centre of the room."""
    return GroundCenterBackend()
