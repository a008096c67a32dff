"""The naming rules on hand-made cases: marker placement from an instance map, the uniqueness of
named-only labels among noticeable objects, catch-all labels, colours in sentence answers."""

from __future__ import annotations

import numpy as np
import pytest

from spar3d.index.builder import _MarkerPixels, _noticeable
from spar3d.index.records import ImageRecord, ObjectRecord, SceneIndex, VisibleObject
from spar3d.scenes.model import OrientedBox, SceneObject
from spar3d.tasks.base import (
    ChoiceAnswer,
    Facts,
    Reject,
    SceneView,
    _answer_values,
    check_named_objects,
)
from spar3d.tasks.depth import depth_difference_facts
from spar3d.tasks.markers import Markers


def test_marker_stays_on_a_visible_centre_and_moves_off_a_hidden_one() -> None:
    owner = np.full((10, 20), -1)
    owner[2:9, 2:12] = 0  # object 0: a big block
    owner[4:7, 5:8] = 1  # object 1 in front of it, covering 0's middle
    owner[0, 19] = 2  # object 2: one lone pixel, no usable neighbourhood
    m = _MarkerPixels(owner)
    # render at half the image size: image pixel (u, v) <-> render ((u + .5) / 2 - .5, ...)
    on_1 = (2 * 6 + 0.5, 2 * 5 + 0.5)  # image coords of render pixel (6, 5): object 1, inside
    assert m.place(1, *on_1, 0.5) == on_1
    moved = m.place(0, *on_1, 0.5)  # object 0's centre is hidden by object 1
    assert moved is not None and moved != on_1
    col, row = (moved[0] + 0.5) * 0.5 - 0.5, (moved[1] + 0.5) * 0.5 - 0.5
    assert col == int(col) and row == int(row)  # a render pixel centre
    col, row = int(col), int(row)
    assert (owner[row - 1 : row + 2, col] == 0).all() and (owner[row, col - 1 : col + 2] == 0).all()
    # usable pixels of 0 near render (6, 5): (4, 5) is not (its right neighbour shows 1); the
    # nearest are (4, 3) and (4, 7) at squared distance 8; the first in row order wins
    assert (col, row) == (4, 3)
    assert m.place(2, 38.0, 0.0, 0.5) is None
    assert m.place(7, 1.0, 1.0, 0.5) is None  # not in the render at all
    objs = [
        SceneObject(10 + k, "x", OrientedBox.axis_aligned((0, 0, 0), (1, 1, 1))) for k in range(3)
    ]
    assert _noticeable(owner, objs, 9 / owner.size) == [10, 11]  # 2 has 1 pixel < 9


def _index(labels: dict[int, str], visible: list[int], noticeable: list[int],
           params: dict | None = None) -> SceneIndex:  # fmt: skip
    box = OrientedBox.axis_aligned((0, 0, 1), (0.5, 0.5, 0.5))
    vis = [VisibleObject(o, (0, 0, 10, 10), 0.5, 2.0, (5, 5), 2.0, (5, 5)) for o in visible]
    im = ImageRecord(0, "0", "c.jpg", None, 100, 80, np.eye(3), np.eye(4), vis, noticeable)
    return SceneIndex("s", "toy", ".", [im], [ObjectRecord(o, lab, box) for o, lab in labels.items()],
                      params=params or {})  # fmt: skip


def _facts(ids: list[int], marked: dict[int, str]) -> Facts:
    m = Markers()
    for o, color in marked.items():
        m.point(color, [1, 1], 0, obj=o)
    return Facts([0], ids, {}, ChoiceAnswer("x"), m)


def test_named_only_label_must_be_unique_among_noticeable_objects() -> None:
    # chair 1 and table 2 are subjects; a second chair 3 is only noticeable (small visible part)
    view = SceneView(_index({1: "chair", 2: "table", 3: "chair"}, [1, 2], [1, 2, 3]))
    with pytest.raises(Reject, match="ambiguous_label"):
        check_named_objects(view, _facts([1, 2], {}))
    check_named_objects(view, _facts([1, 2], {1: "red"}))  # the chair is marked: fine
    check_named_objects(view, _facts([1, 2], {1: "red", 2: "blue"}))
    with pytest.raises(Reject, match="ambiguous_label"):  # two roles, one named only
        check_named_objects(SceneView(_index({1: "chair", 2: "chair"}, [1, 2], [1, 2])),
                            _facts([1, 2], {1: "red"}))  # fmt: skip
    check_named_objects(view, _facts([1, 3], {}), label_is_subject=True)  # counting: exempt


def test_catch_all_objects_are_seen_but_never_named() -> None:
    ix = _index({1: "chair", 2: "otherprop", 3: "Object"}, [1, 2, 3], [1, 2, 3])
    view = SceneView(ix)
    assert view.visible_ids(0) == [1]
    with pytest.raises(Reject, match="catch_all_label"):
        check_named_objects(view, _facts([1, 3], {1: "red", 3: "blue"}))
    # the list is the index's: another list changes what is named
    view2 = SceneView(_index({1: "chair", 2: "otherprop"}, [1, 2], [1, 2],
                             {"catch_all_labels": ["chair"]}))  # fmt: skip
    assert view2.visible_ids(0) == [2]


def test_sentence_answers_keep_the_colours_of_same_label_objects() -> None:
    f = _facts([5, 6, 7], {5: "red", 6: "blue", 7: "green"})
    values = {"label_A": "lamp", "label_B": "chair", "label_C": "chair"}
    out = _answer_values(f, values)
    assert out is not None
    assert (out["label_A"], out["label_B"], out["label_C"]) == (
        "lamp", "chair (blue point)", "chair (green point)",
    )  # fmt: skip
    assert _answer_values(f, {**values, "label_C": "sofa"}) is None
    d = depth_difference_facts([0], (5, 6, 7), ("lamp", "chair", "chair"), (1.0, 3.0, 2.0),
                               Markers(), {})  # fmt: skip
    assert (
        d.values["farther"] == "chair (blue point)" and d.values["nearer"] == "chair (green point)"
    )
