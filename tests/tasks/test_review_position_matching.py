"""position_matching select: the options' box shapes must not give the answer away.

The question states the red box's coordinates, so a text-only attacker can compare every option
with it: the same object seen from a nearby camera keeps roughly its size and aspect ratio, other
objects do not. Leaving out the red box's own copy (it never is the answer), the attacker picks the
option whose size and aspect ratio are closest to the red box's; chance for it is about 1/3.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from room_factory import random_index

from spar3d.tasks import create_task


@pytest.fixture(scope="module")
def big():
    return random_index(8, n_objects=45, n_cameras=60)


def _shape_gap(box: list[int], ref: list[int]) -> float:
    w, h = box[2] - box[0] + 1, box[3] - box[1] + 1
    rw, rh = ref[2] - ref[0] + 1, ref[3] - ref[1] + 1
    return abs(np.log(w / rw)) + abs(np.log(h / rh))


def test_review_shape_attacker_near_chance(big):
    samples, _ = create_task("position_matching").generate(big, 900, seed=5)
    sel = [s for s in samples if s["meta"]["format"] == "select"]
    assert len(sel) >= 200
    hits = 0
    for s in sel:
        ref = s["red_bbox"][0]
        opts = [json.loads(o) for o in s["meta"]["options"]]
        cands = [i for i, b in enumerate(opts) if b != ref] or list(range(len(opts)))
        pick = min(cands, key=lambda i: (_shape_gap(opts[i], ref), i))
        hits += int(pick == "ABCD".index(s["meta"]["correct_option"]))
    acc = hits / len(sel)
    # other objects' own boxes as wrong options let this attacker reach about 0.5
    assert acc < 0.42, acc
