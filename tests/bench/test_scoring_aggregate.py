"""Aggregation (task means, levels, overall), input validation and robustness of the scorer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spar3d.bench.scoring import ALL_TASKS, METRICS, score_file, score_records

VCI = "move_right:2,move_forward:4,rotate_left:10"


def hand_records() -> list[dict]:
    """Seven tasks with per-sample scores that are 0 or 1 in both modes (see comments)."""
    rows = [
        ("depth_prediction_oc", "4.0", "4.0"),  # 1
        ("depth_prediction_oc", "", "4.0"),  # 0  -> mean 0.5
        ("distance_prediction_oc", "2", "2.0"),  # 1  -> 1.0
        ("position_matching", "A", "A"),  # 1
        ("position_matching", "B", "A"),  # 0  -> 0.5
        ("camera_motion_infer", "A", "A"),
        ("camera_motion_infer", "A", "A"),
        ("camera_motion_infer", "A", "A"),
        ("camera_motion_infer", "B", "A"),  # 3 of 4 ok, plus one failure below -> 3/5
        ("view_change_infer", VCI, VCI),  # 1.0
        ("obj_spatial_relation_oo", "B", "A"),  # 0.0
        ("spatial_imagination_oc", "A", "A"),  # 1.0
    ]
    records = [
        {"id": i, "task": t, "prediction": p, "answer": a} for i, (t, p, a) in enumerate(rows)
    ]
    records.append(
        {
            "id": 99,
            "task": "camera_motion_infer",
            "prediction": "A",
            "answer": "A",
            "status": "error",
        }
    )
    return records


def test_aggregation_by_hand() -> None:
    compat = score_records(hand_records(), "compat")
    strict = score_records(hand_records(), "strict")
    for r in (compat, strict):
        assert r.tasks["depth_prediction_oc"] == pytest.approx(50.0)
        assert r.tasks["camera_motion_infer"] == pytest.approx(60.0)
        # overall = (0.5 + 1 + 0.5 + 0.6 + 1 + 0 + 1) / 7
        assert r.overall == pytest.approx(460.0 / 7)
        assert r.levels["Low"] == pytest.approx(75.0)  # (0.5 + 1) / 2
        assert r.levels["High"] == pytest.approx(50.0)  # (0 + 1) / 2
        assert r.n["camera_motion_infer"] == 5
        assert r.failures["camera_motion_infer"] == 1
        assert r.failures["depth_prediction_oc"] == 0
    assert compat.levels["Medium"] == pytest.approx(55.0)  # (0.5 + 0.6) / 2: VCI left out
    assert strict.levels["Medium"] == pytest.approx(70.0)  # (0.5 + 0.6 + 1.0) / 3
    d = compat.to_dict()
    assert set(d) == {"mode", "overall", "levels", "tasks", "n"}
    assert d["mode"] == "compat" and d["n"]["position_matching"] == 2
    json.dumps(d)  # JSON-serialisable


def test_missing_level_is_none() -> None:
    r = score_records([{"id": 1, "task": "position_matching", "prediction": "A", "answer": "A"}])
    assert r.levels == {"Low": None, "Medium": 100.0, "High": None}
    assert r.overall == 100.0


def test_score_file_matches_records(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in hand_records()) + "\n\n", encoding="utf-8")
    assert score_file(path, "strict").to_dict() == score_records(hand_records(), "strict").to_dict()


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"id": 1, "task": "position_matching", "prediction": "A", "answer": "A"}\n{oops\n'
    )
    with pytest.raises(ValueError, match=r"p\.jsonl:2: malformed JSON"):
        score_file(path)


def test_missing_field_names_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('\n{"id": 1, "task": "position_matching", "prediction": "A"}\n')
    with pytest.raises(ValueError, match=r"p\.jsonl:2: missing field 'answer'"):
        score_file(path)


def test_unknown_task_and_mode_are_errors() -> None:
    with pytest.raises(ValueError, match="record 1 .*unknown task 'room_size'"):
        score_records([{"id": 5, "task": "room_size", "prediction": "1", "answer": "1"}])
    with pytest.raises(ValueError, match="unknown scoring mode"):
        score_records([], mode="lenient")


def test_failed_request_may_omit_prediction() -> None:
    r = score_records([{"id": 1, "task": "position_matching", "answer": "A", "status": "error"}])
    assert r.tasks["position_matching"] == 0.0 and r.failures["position_matching"] == 1


ODD = ["", "   ", "\n\t", None, "five", "\u00e9\u4e2d\U0001f600", "A" * 100_000, "1" * 100_000,
       "9.9" * 30_000, ":" * 1000, "," * 1000, "((((((", "\x00", "move_right:" * 5000,
       "-" * 50_000, "nan", "inf", 12.5]  # fmt: skip


@pytest.mark.parametrize("mode", ["compat", "strict"])
def test_never_crashes_on_odd_predictions(mode: str) -> None:
    answers = {"view_change_infer": VCI}
    records = [
        {
            "id": i,
            "task": t,
            "prediction": p,
            "answer": answers.get(t, "A" if "_infer" in t else "2.0"),
        }
        for i, (t, p) in enumerate((t, p) for t in ALL_TASKS for p in ODD)
    ]
    result = score_records(records, mode)
    assert len(result.per_sample) == len(records)
    assert all(0.0 <= s <= 1.0 for _, _, s in result.per_sample)
    # A prediction that is not text is a malformed record: a named error, not "['A']" scored.
    bad = {"id": 1, "task": "position_matching", "prediction": ["A"], "answer": "A"}
    with pytest.raises(ValueError, match=r"record 1 \(id 1\): field 'prediction' must be"):
        score_records([bad], mode)


def test_metrics_registry_has_every_kind_and_mode() -> None:
    for kind in ("numeric", "choice", "vci"):
        for mode in ("compat", "strict"):
            assert callable(METRICS.get(f"{kind}:{mode}"))


def test_eval_runner_records_are_scored_on_raw_text() -> None:
    # the runner stores its strict extraction in "prediction" and the response in "raw"
    base = {"task": "position_matching", "answer": "A", "question": "Q? A. x; B. y."}
    records = [
        {**base, "id": 1, "prediction": "", "raw": "", "status": "unparseable"},  # compat: 1
        {**base, "id": 2, "prediction": "B", "raw": "The answer is B", "status": "ok"},  # 0
        {**base, "id": 3, "prediction": "", "raw": "A", "status": "error"},  # failed: 0
    ]
    compat = score_records(records, "compat")
    assert [s for _, _, s in compat.per_sample] == [1.0, 0.0, 0.0]
    assert compat.failures["position_matching"] == 1
    strict = score_records(records, "strict")
    assert [s for _, _, s in strict.per_sample] == [0.0, 0.0, 0.0]
