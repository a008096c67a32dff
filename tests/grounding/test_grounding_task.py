"""The grounding tasks in the engine, and the ScanRefer reader, on the hand-built room."""

from __future__ import annotations

import json

import numpy as np
import pytest
from room_factory import make_index

from spar3d.errors import InputError
from spar3d.grounding.answer import GroundingAnswer, parse_answer
from spar3d.grounding.boxes import box_iou_3d
from spar3d.grounding.context import parse_context
from spar3d.grounding.scanrefer import ENV_SCANREFER, load_scanrefer
from spar3d.tasks import create_task


@pytest.fixture(scope="module")
def room():
    return make_index()


@pytest.fixture(scope="module")
def samples(room):
    return create_task("ground_3d").generate(room, 60, seed=3)[0]


def test_answers_lift_onto_the_target(samples, room):
    assert len(samples) >= 30
    objs = room.objects_by_id()
    for s in samples:
        ctx = parse_context(s["meta"]["quantities"])
        a = parse_answer(s["conversations"][1]["value"], len(ctx.views))
        assert isinstance(a, GroundingAnswer)
        assert 3 <= len(ctx.views) == len(s["image"]) <= 5
        target = objs[s["meta"]["object_ids"][0]]
        assert box_iou_3d(ctx.lift(a), target.box) > 0.9, s["id"]
        # the chosen view is one of the shown views that sees the target
        image = s["meta"]["image_indices"][a.frame - 1]
        assert target.object_id in {v.object_id for v in room.images[image].visible}
        assert [v.frame_id for v in ctx.views] == s["meta"]["frames"]


def test_expressions_are_unambiguous_in_3d(samples, room):
    # checked here with plain numpy over every object of the room, not only the shown views
    objs = room.objects
    for s in samples:
        q = s["meta"]["quantities"]
        target = q["target_id"]
        same = [o for o in objs if o.label == q["label"]]
        text = q["expression"]
        if q["expression_kind"] == "label":
            assert len(same) == 1 and text == f"the {q['label']}"
        elif q["expression_kind"] == "relation":
            anchor = next(o for o in objs if o.object_id == q["anchor_id"])
            assert sum(o.label == anchor.label for o in objs) == 1
            d = {o.object_id: np.linalg.norm(o.box.center - anchor.box.center) for o in same}
            pick = min(d, key=d.get) if "closest" in text else max(d, key=d.get)
            assert pick == target
        else:
            key = (lambda o: np.prod(o.box.size)) if q["expression_kind"] == "size" else (
                lambda o: o.box.size[2])  # fmt: skip
            big = any(w in text for w in ("larger", "largest", "taller", "tallest"))
            pick = (max if big else min)(same, key=key)
            assert pick.object_id == target


def test_prompt_states_the_format_and_no_markers(samples):
    for s in samples:
        q = s["conversations"][0]["value"]
        if s["meta"]["format"] == "fill":
            assert "answer exactly as: frame k; (u, v); depth d m; size (w, h, l) m" in q
        else:  # sentence: the same rules, a free answer (parsed in test_answers_lift_...)
            assert "say in which frame k it is" in q and "0-1000 scale" in q
        assert s["meta"]["quantities"]["expression"] in q
        assert not any(k.endswith(("_point", "_bbox")) for k in s)


def test_splits(samples):
    splits = {s["meta"]["quantities"]["split"] for s in samples}
    assert splits == {"unique", "multiple"}
    for s in samples:
        q = s["meta"]["quantities"]
        assert (q["split"] == "multiple") == (q["label"] == "chair")  # two chairs in the room


SCANREFER = [
    {"scene_id": "room0000_00", "object_id": "3", "object_name": "sofa", "ann_id": "0",
     "description": "this is a long grey sofa. it is against the wall.",
     "token": ["this", "is", "a", "long", "grey", "sofa"]},
    {"scene_id": "room0000_00", "object_id": "2", "object_name": "chair", "ann_id": "0",
     "description": "a wooden chair next to the cabinet .", "token": []},
    {"scene_id": "room0000_00", "object_id": "2", "object_name": "chair", "ann_id": "1",
     "description": "the chair  near the\\n lamp", "token": []},
    {"scene_id": "room0000_00", "object_id": "77", "object_name": "kitchen_cabinets",
     "ann_id": "0", "description": "not in this index", "token": []},
    {"scene_id": "scene0999_00", "object_id": "1", "object_name": "table", "ann_id": "0",
     "description": "another scene", "token": []},
]  # fmt: skip


def test_scanrefer_reader(tmp_path):
    p = tmp_path / "ScanRefer_filtered_val.json"
    p.write_text(json.dumps(SCANREFER))
    anns = load_scanrefer(p)
    assert len(anns) == 5
    assert anns[0].object_id == 3 and anns[0].ann_id == "0" and anns[3].label == "kitchen cabinets"
    q = tmp_path / "a.jsonl"
    q.write_text("\n".join(json.dumps(d) for d in SCANREFER))
    assert load_scanrefer(q) == anns


def test_scanrefer_reader_errors(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps([{"scene_id": "s", "object_id": "x", "object_name": "a",
                              "ann_id": "0", "description": "d"}]))  # fmt: skip
    with pytest.raises(InputError, match="entry 0: object_id 'x' is not an integer"):
        load_scanrefer(p)
    p.write_text(json.dumps([{"scene_id": "s"}]))
    with pytest.raises(InputError, match="entry 0: missing field"):
        load_scanrefer(p)
    p.write_text("{not json")
    with pytest.raises(InputError, match="not JSON"):
        load_scanrefer(p)


def test_scanrefer_task(tmp_path, monkeypatch, room):
    p = tmp_path / "ScanRefer_filtered_val.json"
    p.write_text(json.dumps(SCANREFER))
    task = create_task("ground_3d_scanrefer")
    monkeypatch.delenv(ENV_SCANREFER, raising=False)
    out, stats = task.generate(room, 10, seed=0)
    assert out == [] and stats.rejected["skipped_no_scanrefer"] == 1
    monkeypatch.setenv(ENV_SCANREFER, str(p))
    out, stats = task.generate(room, 10, seed=0)
    assert stats.rejected["target_not_in_index"] == 1
    by_ann = {(s["meta"]["quantities"]["target_id"], s["meta"]["quantities"]["ann_id"]): s
              for s in out}  # fmt: skip
    assert set(by_ann) == {(3, "0"), (2, "0"), (2, "1")}  # each description once
    sofa, chair = by_ann[(3, "0")], by_ann[(2, "1")]
    assert sofa["meta"]["quantities"]["split"] == "unique"
    assert chair["meta"]["quantities"]["split"] == "multiple"
    assert '"the chair near the\\n lamp"' in chair["conversations"][0]["value"]
    for s in out:
        ctx = parse_context(s["meta"]["quantities"])
        a = parse_answer(s["conversations"][1]["value"], len(ctx.views))
        assert isinstance(a, GroundingAnswer)
        assert box_iou_3d(ctx.lift(a), ctx.target_box) > 0.9
