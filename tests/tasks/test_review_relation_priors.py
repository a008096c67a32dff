"""Relation select tasks: a text-only prior on the relation words must not beat chance.

The attacker never looks at an image. It learns, on one half of the select samples, how often
each word fills each slot (left/right, above/below, front/behind) of the CORRECT option, then on
the other half picks the option whose words are the most frequent. Cameras sit above most objects
and face them, so "below" and "front" dominate the raw answers; a task must keep such a word out
of the options' differences (or balance it), or this attacker wins.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from room_factory import random_index

from spar3d.tasks import create_task


@pytest.fixture(scope="module")
def big():
    return random_index(5, n_objects=45, n_cameras=60)


def _select(index, name: str, want: int = 320) -> list[dict]:
    task = create_task(name)
    samples, _ = task.generate(index, want * len(task.spec.formats), seed=7)
    sel = [s for s in samples if s["meta"]["format"] == "select"]
    assert len(sel) >= 200, (name, len(sel))
    return sel


def _slot_attack(train: list[dict], test: list[dict]) -> tuple[float, float]:
    """(attacker accuracy, chance) of the per-slot word-frequency attacker."""
    freq = Counter()
    for s in train:
        opts = s["meta"]["options"]
        right = opts["ABCD".index(s["meta"]["correct_option"])]
        for j, w in enumerate(right.split(", ")):
            freq[(j, w)] += 1
    hits = 0
    for s in test:
        opts = s["meta"]["options"]
        scores = [sum(freq[(j, w)] for j, w in enumerate(o.split(", "))) for o in opts]
        hits += int(int(np.argmax(scores)) == "ABCD".index(s["meta"]["correct_option"]))
    chance = float(np.mean([1 / len(s["meta"]["options"]) for s in test]))
    return hits / len(test), chance


@pytest.mark.parametrize(
    "name",
    [
        "obj_spatial_relation_oc_mv",
        "spatial_imagination_oc",
        "spatial_imagination_oc_mv",
        "obj_spatial_relation_oo",
        "spatial_imagination_oo",
    ],
)
def test_review_word_prior_attacker_near_chance(big, name):
    sel = _select(big, name)
    half = len(sel) // 2
    acc, chance = _slot_attack(sel[:half], sel[half:])
    assert acc < chance + 0.08, (name, acc, chance)
