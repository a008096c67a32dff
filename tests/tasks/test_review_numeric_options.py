"""Numeric options: the grid's own shape must not tell which option is the answer.

A grid step drawn as a fraction of the ANSWER leaks the answer: for each option ``x`` the ratio
``step / x`` must fall in the step range only when ``x`` is the answer, so an attacker that learns
the distribution of ``step / x`` for right and wrong options beats chance by far. These tests
train such an attacker on one half of many option sets and score it on the other half.
"""

from __future__ import annotations

import numpy as np

from spar3d.tasks.options import numeric_options


def _option_sets(
    n: int, seed: int, lo: float = 0.5, hi: float = 8.0
) -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        # log-uniform answers (depths / distances of indoor scenes)
        value = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        o = numeric_options(value, rng, decimals=1, minimum=0.1)
        out.append((np.array([float(x) for x in o.options]), o.correct_index))
    return out


def _ratio_features(vals: np.ndarray) -> np.ndarray:
    """``step / option`` of every option (the grid step is the smallest gap between options)."""
    step = np.diff(np.sort(vals)).min()
    return step / vals


def test_review_step_ratio_attacker_does_not_beat_chance():
    # answers 1-10 m: below 1 m the one-unit minimum step and the prior's edge leak a little
    # whatever the scheme (the answer range itself, not the grid shape)
    train, test = _option_sets(3000, 0, 1.0, 10.0), _option_sets(3000, 1, 1.0, 10.0)
    bins = np.linspace(0.0, 0.5, 51)
    right = np.ones(len(bins) + 1)  # Laplace smoothing
    wrong = np.ones(len(bins) + 1)
    for vals, k in train:
        idx = np.digitize(_ratio_features(vals), bins)
        for j, b in enumerate(idx):
            (right if j == k else wrong)[b] += 1
    like = (right / right.sum()) / (wrong / wrong.sum())
    hits = 0
    for vals, k in test:
        hits += int(np.argmax(like[np.digitize(_ratio_features(vals), bins)]) == k)
    acc = hits / len(test)
    # chance is 0.25; a step relative to the answer lets this attacker reach ~0.38
    assert acc < 0.32, acc


def test_review_smallest_in_range_shortcut_is_gone():
    """The simple rule "smallest option whose step/option ratio lies in 0.08-0.2" is no better
    than chance."""
    hits = 0
    sets = _option_sets(3000, 2)
    for vals, k in sets:
        r = _ratio_features(vals)
        cand = np.where((r >= 0.08) & (r <= 0.2))[0]
        pick = cand[np.argmin(vals[cand])] if len(cand) else int(np.argmin(vals))
        hits += int(pick == k)
    assert hits / len(sets) < 0.30, hits / len(sets)
