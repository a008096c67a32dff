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


def test_presets_resolve_by_kind_of_model():
    from spar3d.bench.eval import make_backend
    from spar3d.bench.eval.prompts import PRESETS, resolve_preset
    from spar3d.errors import ConfigError

    # spar-paper: the API wording for a commercial API host, lmms-eval's default otherwise.
    api = make_backend("openai", model="gpt-4o", base_url="https://api.openai.com/v1")
    local = make_backend("openai", model="qwen", base_url="http://localhost:8000/v1")
    assert api.api_model and not local.api_model
    numeric = "depth_prediction_oc"
    for backend, sentence in ((api, NUMERIC_API), (local, NUMERIC)):
        cfg = PromptConfig.for_backend("spar-paper", backend.api_model)
        assert build_prompt(numeric, "Q?", cfg) == f"\nQ?\n{sentence}"
        assert cfg.to_dict()["requested_preset"] == "spar-paper"
    # lmms-eval and api are fixed whatever the model
    assert resolve_preset("lmms-eval", True) is PRESETS["lmms-eval"]
    assert resolve_preset("api", False).numeric_post == NUMERIC_API
    with pytest.raises(ConfigError, match="unknown preset 'vlmevalkit'"):
        resolve_preset("vlmevalkit", False)
