"""Refinement by matching to proposals, and the proposals file formats."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spar3d.errors import InputError
from spar3d.grounding.boxes import Proposal, cost_matrix, load_proposals, refine
from spar3d.scenes.model import OrientedBox


def aa(center, size=(1, 1, 1)):
    return OrientedBox.axis_aligned(center, size)


PROPS = [Proposal(aa((0, 0, 0))), Proposal(aa((3, 0, 0))), Proposal(aa((0, 5, 0)))]


def test_cost_by_hand():
    # a unit cube shifted by 0.5 from proposal 0: IoU 1/3, distance 0.5 -> (1 - 1/3) + 0.5 / 1
    cost = cost_matrix([aa((0.5, 0, 0))], PROPS, max_center_dist_m=1.0)
    assert cost[0, 0] == pytest.approx(2 / 3 + 0.5)
    assert np.isinf(cost[0, 1]) and np.isinf(cost[0, 2])  # no overlap and farther than 1 m


def test_nearest_snaps_and_far_predictions_are_kept():
    pred_near, pred_far = aa((2.6, 0.2, 0), (1.2, 1, 1)), aa((10, 10, 0))
    (b1, j1), (b2, j2) = refine([pred_near, pred_far], PROPS)
    assert j1 == 1 and b1 is PROPS[1].box
    assert j2 is None and b2 is pred_far


def test_candidate_by_distance_without_overlap():
    # no overlap with proposal 0 but its centre is 0.9 m away: still a candidate
    ((box, j),) = refine([aa((0, 0, 1.9), (0.5, 0.5, 0.5))], PROPS, max_center_dist_m=1.0)
    assert j is None  # 1.9 m away
    ((box, j),) = refine([aa((0, 0, 0.9), (0.2, 0.2, 0.2))], PROPS, max_center_dist_m=1.0)
    assert j == 0


def test_hungarian_is_one_to_one():
    # both predictions are cheapest on proposal 0; one-to-one gives the second one proposal 1
    preds = [aa((0.1, 0, 0)), aa((0.9, 0, 0))]
    nearest = [j for _, j in refine(preds, PROPS, assignment="nearest", max_center_dist_m=3.0)]
    hungarian = [j for _, j in refine(preds, PROPS, assignment="hungarian", max_center_dist_m=3.0)]
    assert nearest == [0, 0]
    assert hungarian == [0, 1]


def test_load_json_and_npz(tmp_path):
    doc = {"scene0000_00": [{"center": [1, 2, 0.5], "size": [1, 2, 1], "yaw": 0.3,
                             "label": "table"}, {"center": [0, 0, 0], "size": [1, 1, 1]}]}  # fmt: skip
    p = tmp_path / "p.json"
    p.write_text(json.dumps(doc))
    props = load_proposals(p)["scene0000_00"]
    assert len(props) == 2 and props[0].label == "table"
    assert props[0].box.yaw_rad == pytest.approx(0.3)
    q = tmp_path / "p.npz"
    np.savez(q, scene0000_00=np.array([[1, 2, 0.5, 1, 2, 1], [0, 0, 0, 1, 1, 1]], float))
    props2 = load_proposals(q)["scene0000_00"]
    assert props2[0].box.center.tolist() == [1, 2, 0.5] and props2[0].box.size.tolist() == [1, 2, 1]
    r = tmp_path / "r.npz"
    np.savez(r, s=np.array([[0, 0, 0, 1, 1, 1, np.pi / 2]]))
    assert load_proposals(r)["s"][0].box.yaw_rad == pytest.approx(np.pi / 2)


def test_bad_proposals_name_the_problem(tmp_path):
    p = tmp_path / "p.json"
    p.write_text(json.dumps({"s": [{"center": [0, 0, 0]}]}))
    with pytest.raises(InputError, match="box 0: missing field 'size'"):
        load_proposals(p)
    p.write_text(json.dumps({"s": [{"center": [0, 0, 0], "size": [1, -1, 1]}]}))
    with pytest.raises(InputError, match="size positive"):
        load_proposals(p)
    q = tmp_path / "o.npz"
    np.savez(q, s=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(InputError, match="not a plain numeric"):
        load_proposals(q)
    r = tmp_path / "r.npz"
    np.savez(r, s=np.zeros((2, 5)))
    with pytest.raises(InputError, match=r"\(N, 6\) or \(N, 7\)"):
        load_proposals(r)
    with pytest.raises(InputError, match="not found"):
        load_proposals(tmp_path / "absent.json")
