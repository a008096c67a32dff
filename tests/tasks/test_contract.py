"""Contract test over EVERY registered task (tasks added later are covered automatically)."""

from __future__ import annotations

import json

import pytest

from spar3d.tasks import TASKS, create_task
from spar3d.tasks.schema import validate_sample
from spar3d.tasks.templates import MIN_PARAPHRASES, load_templates

ALL = sorted(TASKS.names())


@pytest.fixture(scope="module", params=ALL)
def generated(request, room_index):
    if TASKS.get(request.param).requires:
        pytest.skip(f"needs {TASKS.get(request.param).requires}, not in the plain-index fixture")
    task = create_task(request.param)
    n = 8 * len(task.spec.formats)
    samples, stats = task.generate(room_index, n, seed=7)
    return task, samples, stats


def test_registry_is_not_empty():
    assert len(ALL) >= 1


def test_every_format_is_produced_and_valid(generated):
    task, samples, stats = generated
    assert {s["meta"]["format"] for s in samples} == set(task.spec.formats)
    for s in samples:
        assert validate_sample(s) == [], (s["id"], validate_sample(s))
        assert s["type"] == task.spec.name
        assert s["meta"]["task_version"] == task.spec.version
    assert stats.total == len(samples)
    assert len({s["id"] for s in samples}) == len(samples)


def test_markers_match_spec(generated):
    task, samples, _ = generated
    declared = set(task.spec.markers)
    for s in samples:
        fields = {k for k in s if k.endswith(("_point", "_bbox")) or k.endswith("_list")}
        assert fields <= declared, (s["id"], fields - declared)
        if task.spec.views == "S":
            assert len(s["image"]) == 1
            assert "point_img_idx" not in s and "bbox_img_idx" not in s


def test_deterministic(generated, room_index):
    task, samples, _ = generated
    again, _ = create_task(task.spec.name).generate(room_index, len(samples), seed=7)
    assert json.dumps(again) == json.dumps(samples)
    other, _ = create_task(task.spec.name).generate(room_index, len(samples), seed=8)
    assert json.dumps(other) != json.dumps(samples)


def test_select_has_one_correct_option(generated):
    _, samples, _ = generated
    for s in samples:
        m = s["meta"]
        if m["format"] == "select":
            opts = m["options"]
            assert len(set(opts)) == len(opts) >= 2
            q = s["conversations"][0]["value"]
            for i, o in enumerate(opts):
                assert f"{'ABCD'[i]}. {o}" in q


@pytest.mark.parametrize("name", ALL)
def test_template_bank_size(name):
    spec = TASKS.get(name).spec
    bank = load_templates(spec.name, spec.formats, spec.placeholders)
    for fmt in spec.formats:
        ft = bank.formats[fmt]
        assert len(ft.questions) >= MIN_PARAPHRASES
        if fmt == "sentence":
            assert len(ft.answers) >= MIN_PARAPHRASES


def test_docs_catalog_is_current():
    """docs/tasks.md is generated from the registry: regenerate it when a task changes."""
    from pathlib import Path

    from spar3d.tasks.catalog import markdown

    path = Path(__file__).resolve().parents[2] / "docs" / "tasks.md"
    assert path.read_text(encoding="utf-8") == markdown(), (
        "docs/tasks.md is stale: run `spar3d tasks --markdown > docs/tasks.md`"
    )
