from __future__ import annotations

import pytest

from spar3d.bench.eval.prompts import PromptConfig, build_prompt

# The sentences, typed from SCORING.md.
NUMERIC = "Please answer the question using a single word or phrase."
NUMERIC_API = "Do not response anything other than a single number!"
LETTER = "Answer with the option's letter from the given choices directly."
BOXES = (
    "The values represent the bounding box coordinates normalized to a 0-1000 scale, with the "
    "top-left corner as the origin of the image."
)


def test_numeric_prompt_and_api_variant():
    assert build_prompt("depth_prediction_oc", "Q?") == f"\nQ?\n{NUMERIC}"
    api = PromptConfig(numeric_post="api")
    assert build_prompt("distance_prediction_oo_mv", "Q?", api) == f"\nQ?\n{NUMERIC_API}"


def test_choice_prompt_extra_sentence_only_for_box_tasks():
    assert build_prompt("obj_spatial_relation_oo", "Q?") == f"\nQ?\n\n{LETTER}"
    for task in ("position_matching", "camera_motion_infer"):
        assert build_prompt(task, "Q?") == f"\nQ?\n{BOXES}\n{LETTER}"


def test_vci_prompt_has_empty_suffixes_and_pre_prompt():
    cfg = PromptConfig(pre_prompt="You are a helpful assistant.")
    assert build_prompt("view_change_infer", "Q?", cfg) == "You are a helpful assistant.\nQ?\n\n"
    assert build_prompt("depth_prediction_oc", "Q?", cfg).startswith(
        "You are a helpful assistant.\nQ?"
    )


def test_bad_task_and_variant():
    with pytest.raises(KeyError, match="not_a_task"):
        build_prompt("not_a_task", "Q?")
    with pytest.raises(ValueError, match="numeric_post"):
        PromptConfig(numeric_post="gpt")  # type: ignore[arg-type]
