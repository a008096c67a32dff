"""Option positions and judge answers carry no signal: chi-square on >= 400 select samples."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from room_factory import random_index
from scipy.stats import chisquare

from spar3d.tasks import create_task


@pytest.fixture(scope="module")
def big():
    return random_index(11, n_objects=45, n_cameras=60)


def select_samples(index, name, want=420):
    task = create_task(name)
    n = want * len(task.spec.formats)
    samples, _ = task.generate(index, n, seed=2)
    sel = [s for s in samples if s["meta"]["format"] == "select"]
    assert len(sel) >= 400, (name, len(sel))
    return sel


@pytest.mark.parametrize("name", ["depth_prediction_oc", "distance_prediction_oo"])
def test_numeric_letter_position_uniform(big, name):
    sel = select_samples(big, name)
    counts = Counter(s["conversations"][1]["value"] for s in sel)
    obs = [counts[c] for c in "ABCD"]
    assert chisquare(obs).pvalue > 0.001, obs
    # the answer's rank among the sorted option values is uniform as well
    ranks = Counter()
    for s in sel:
        vals = [float(o) for o in s["meta"]["options"]]
        ranks[sorted(vals).index(vals["ABCD".index(s["conversations"][1]["value"])])] += 1
    assert chisquare([ranks[i] for i in range(4)]).pvalue > 0.001, ranks


@pytest.mark.parametrize("name", ["distance_infer_center_oo", "obj_spatial_relation_oo"])
def test_choice_letter_position_uniform(big, name):
    sel = select_samples(big, name)
    by_n: dict[int, Counter] = {}
    for s in sel:
        by_n.setdefault(len(s["meta"]["options"]), Counter())[s["conversations"][1]["value"]] += 1
    tested = 0
    for n, counts in by_n.items():
        if sum(counts.values()) >= 100:
            obs = [counts[c] for c in "ABCD"[:n]]
            assert chisquare(obs).pvalue > 0.001, (n, obs)
            tested += 1
    assert tested


def test_judge_balanced(big):
    task = create_task("obj_spatial_relation_oo")
    samples, _ = task.generate(big, 600, seed=4)
    judge = [s["conversations"][1]["value"] for s in samples if s["meta"]["format"] == "judge"]
    assert abs(judge.count("Yes") - judge.count("No")) <= 1
    assert len(judge) >= 150
    # the truth does not follow from the relation word asked about
    words = Counter()
    for s in samples:
        if s["meta"]["format"] == "judge":
            words[s["meta"]["judge_truth"]] += 1
    assert words[True] and words[False]


def test_numeric_options_near_answer(big):
    for s in select_samples(big, "depth_prediction_oc"):
        vals = np.array([float(o) for o in s["meta"]["options"]])
        ans = vals["ABCD".index(s["conversations"][1]["value"])]
        # grid step <= 20 % of the answer (+ rounding), at most 3 steps away
        assert np.all(np.abs(vals - ans) <= 3 * max(0.1, 0.2 * ans + 0.07) + 1e-9)
