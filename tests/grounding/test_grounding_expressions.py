"""Referring expressions: each names exactly one object of the whole scene."""

from __future__ import annotations

from spar3d.grounding.expressions import plural, referring_expressions, unique_multiple
from spar3d.index.records import ObjectRecord
from spar3d.scenes.model import OrientedBox


def obj(oid, label, center, size=(1, 1, 1)):
    return ObjectRecord(oid, label, OrientedBox.axis_aligned(center, size))


def texts(objects, oid):
    return {e.text for e in referring_expressions(objects, oid)}


def test_unique_label():
    objs = [obj(1, "sofa", (0, 0, 0)), obj(2, "chair", (2, 0, 0)), obj(3, "chair", (4, 0, 0))]
    assert texts(objs, 1) == {"the sofa"}
    assert unique_multiple(objs, 1) == "unique" and unique_multiple(objs, 2) == "multiple"


def test_larger_and_smaller_of_two():
    objs = [obj(1, "table", (0, 0, 0), (2, 1, 1)), obj(2, "table", (5, 0, 0), (1, 1, 1))]
    assert "the larger of the two tables" in texts(objs, 1)
    assert "the smaller of the two tables" in texts(objs, 2)
    # volumes 1.2 vs 1: under the 1.3 ratio, no size expression
    objs = [obj(1, "table", (0, 0, 0), (1.2, 1, 1)), obj(2, "table", (5, 0, 0))]
    assert not {t for t in texts(objs, 1) if "larger" in t}


def test_tallest_of_three():
    objs = [obj(i, "lamp", (2 * i, 0, 0), (0.3, 0.3, h)) for i, h in ((1, 1.0), (2, 1.3), (3, 1.5))]
    assert "the tallest lamp" in texts(objs, 3)
    assert "the shortest lamp" in texts(objs, 1)
    assert texts(objs, 2) == set()  # in the middle, and no unique anchor in the scene


def test_relation_to_unique_anchor_with_margin():
    tv = obj(9, "tv", (0, 0, 1))
    chairs = [obj(1, "chair", (1, 0, 1)), obj(2, "chair", (2, 0, 1)), obj(3, "chair", (2.2, 0, 1))]
    objs = [tv, *chairs]
    assert "the chair closest to the tv" in texts(objs, 1)
    assert "the chair farthest from the tv" not in texts(objs, 3)  # 2.2 vs 2.0: within 0.3 m
    assert not any("tv" in t for t in texts(objs, 2))


def test_anchor_must_be_unique_and_not_structural():
    objs = [obj(1, "chair", (1, 0, 0)), obj(2, "chair", (4, 0, 0)),
            obj(3, "wall", (0, 0, 0)), obj(4, "bin", (0, 0, 0)), obj(5, "bin", (9, 0, 0))]  # fmt: skip
    assert texts(objs, 1) == set()
    assert referring_expressions(objs, 3) == []  # walls are never targets


def test_plural():
    words = ("table", "box", "shelf", "kitchen shelf", "city", "toy", "tv stand")
    assert [plural(w) for w in words] == [
        "tables", "boxes", "shelves", "kitchen shelves", "cities", "toys", "tv stands"
    ]  # fmt: skip


def test_catch_all_objects_are_never_targets_or_anchors():
    objs = [obj(1, "chair", (1, 0, 0)), obj(2, "chair", (4, 0, 0)), obj(3, "otherprop", (0, 0, 0))]
    assert texts(objs, 1) == {"the chair closest to the otherprop"}
    none = referring_expressions(objs, 1, catch_all=frozenset({"otherprop"}))
    assert none == [] and referring_expressions(objs, 3, catch_all=frozenset({"otherprop"})) == []
