"""Strict mode fixes each published quirk, and diff_modes names the quirk behind a difference."""

from __future__ import annotations

import pytest

from spar3d.bench.scoring import QUIRKS, diff_modes, level_of, score_records
from spar3d.bench.scoring.choice import extract_letter, parse_options
from spar3d.bench.scoring.numbers import strict_number
from spar3d.bench.scoring.vci import strict_pairs


def _one(task: str, prediction, answer: str, mode: str, **extra) -> float:
    record = {"id": 0, "task": task, "prediction": prediction, "answer": answer, **extra}
    return score_records([record], mode=mode).per_sample[0][2]


def test_empty_prediction_no_longer_scores_on_choice_tasks() -> None:
    assert _one("position_matching", "", "B", "compat") == 1.0
    assert _one("position_matching", "", "B", "strict") == 0.0


def test_first_character_rule_is_gone() -> None:
    # "Answer: B" starts with "a"; only compat accepts it for answer A
    assert _one("obj_spatial_relation_oo", "Answer: B", "A", "compat") == 1.0
    assert _one("obj_spatial_relation_oo", "Answer: B", "A", "strict") == 0.0
    assert _one("obj_spatial_relation_oo", "Answer: B", "B", "strict") == 1.0


@pytest.mark.parametrize(
    ("text", "letter"),
    [("B", "B"), ("b", "B"), ("B.", "B"), ("(B)", "B"), ("B. chair", "B"), ("(B) chair", "B"),
     ("Answer: B", "B"), ("the answer is B", "B"), ("The answer is (B).", "B"), ("Option B", "B"),
     ("First I thought A; the answer is C", "C"), ("the answer is a chair", None), ("", None)],
)  # fmt: skip
def test_letter_patterns(text: str, letter: str | None) -> None:
    assert extract_letter(text)[0] == letter


def test_options_parsed_from_question_text() -> None:
    q = "Depth of the cup? A. 2.2; B. 2.3; C. 2.1; D. 1.4. Your answer can only include A, B, C or D."
    assert parse_options(q) == {"A": "2.2", "B": "2.3", "C": "2.1", "D": "1.4"}
    assert _one("camera_motion_infer", "2.1", "C", "strict", question=q) == 1.0
    assert _one("camera_motion_infer", "2.1", "C", "compat", question=q) == 0.0


@pytest.mark.parametrize(
    ("text", "metres"),
    [("-1.5", -1.5), ("1,5 m", 1.5), ("150 cm", 1.5), ("1500 mm", 1.5), ("0.0015 km", 1.5),
     ("about 1.5 metres", 1.5), ("\u22121.5 m", -1.5), ("1,500 mm", 1.5)],
)  # fmt: skip
def test_strict_numbers_read_sign_comma_and_units(text: str, metres: float) -> None:
    q = strict_number(text, "depth_prediction_oc")
    assert q is not None and q.value == pytest.approx(metres)


def test_strict_vci_is_relative_to_ground_truth() -> None:
    answer = "move_right:2,move_up:0,move_forward:0,rotate_right:0,rotate_up:0"
    # prediction 1: |1-2|/2 = 0.5 -> 0.1 (strict); |2-1|/1 = 1 -> 0 (compat); other axes 0 = 0
    assert _one("view_change_infer", "move_right:1", answer, "strict") == pytest.approx(4.1 / 5)
    assert _one("view_change_infer", "move_right:1", answer, "compat") == pytest.approx(4.0 / 5)


def test_strict_vci_key_spellings() -> None:
    assert strict_pairs("move right: 1, Move-Up: 2, move back: 3, turn left: 4") == {
        "move_right": 1.0,
        "move_up": 2.0,
        "move_backward": 3.0,
        "rotate_left": 4.0,
    }


def test_levels_compat_drops_vci_strict_keeps_it() -> None:
    assert level_of("view_change_infer", "compat") is None
    assert level_of("view_change_infer", "strict") == "Medium"
    assert level_of("position_matching", "compat") == "Medium"
    assert level_of("depth_prediction_oo_mv", "compat") == "Low"
    assert level_of("spatial_imagination_oo_mv", "compat") == "High"


def test_diff_modes_names_the_quirk() -> None:
    a = "move_right:2,move_forward:4,rotate_left:10"
    records = [
        ("position_matching", "", "A", "empty-prediction"),
        ("distance_infer_center_oo", "pan", "Cooking pan", "substring-of-answer"),
        ("obj_spatial_relation_oo", "Answer: B", "A", "first-character"),
        ("camera_motion_infer", "The answer is B", "B", "letter-not-extracted"),
        ("depth_prediction_oc", "-4.0", "4.0", "negative-sign"),
        ("depth_prediction_oc", "4,5", "4.0", "decimal-comma"),
        ("depth_prediction_oc", "400 cm", "4.0", "unit"),
        ("depth_prediction_oc_mv", "five", "-1", "mv-missing-number"),
        ("view_change_infer", "move_right:2m", a, "vci-parse-failure"),
        ("view_change_infer", "move right:2,move forward:4,rotate left:10", a, "vci-key-spelling"),
        ("view_change_infer", "move_right:2,move_back:-4,rotate_left:10", a, "vci-back-vs-backward"),
        ("view_change_infer", "move_right:4,move_forward:4,rotate_left:10", a,
         "vci-relative-to-prediction"),
        ("position_matching", "A", "A", None),  # same score in both modes: not listed
    ]  # fmt: skip
    rows = [
        {"id": i, "task": t, "prediction": p, "answer": ans}
        for i, (t, p, ans, _) in enumerate(records)
    ]
    diffs = {d.id: d for d in diff_modes(rows)}
    for i, (_, _, _, quirk) in enumerate(records):
        if quirk is None:
            assert i not in diffs
        else:
            assert diffs[i].quirk == quirk, records[i]
            assert diffs[i].compat != diffs[i].strict
            assert quirk in QUIRKS
