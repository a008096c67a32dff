"""Engine pieces: seeds, templates, options, markers, schema."""

from __future__ import annotations

import numpy as np
import pytest

from spar3d.tasks import derive_seed
from spar3d.tasks.markers import Markers
from spar3d.tasks.options import choice_options, numeric_options
from spar3d.tasks.schema import validate_sample
from spar3d.tasks.templates import Template, TemplateError, fill


def test_derive_seed_is_stable_and_distinct():
    # blake2b of "0\x1fsceneA\x1ftaskX", 8 bytes little-endian, >> 1: fixed across processes
    import hashlib

    d = hashlib.blake2b(b"0\x1fsceneA\x1ftaskX", digest_size=8).digest()
    assert derive_seed(0, "sceneA", "taskX") == int.from_bytes(d, "little") >> 1
    assert derive_seed(0, "sceneA", "taskX") != derive_seed(0, "sceneA", "taskY")
    assert derive_seed(0, "sceneA", "taskX") != derive_seed(1, "sceneA", "taskX")


def test_fill_names_template_on_missing_value():
    t = Template("q9", "The [label_A] at [depth_A] m.")
    assert fill(t, {"label_A": "chair", "depth_A": "1.5"}) == "The chair at 1.5 m."
    with pytest.raises(TemplateError, match=r"depth_prediction_oc/fill/q9.*\[depth_A\]"):
        fill(t, {"label_A": "chair"}, "depth_prediction_oc/fill/")


def test_numeric_options_properties():
    rng = np.random.default_rng(0)
    for value in [0.14, 0.35, 1.0, 2.46, 7.9]:
        for _ in range(200):
            o = numeric_options(value, rng, decimals=1, minimum=0.1)
            assert len(o.options) == 4
            assert len(set(o.options)) == 4
            assert o.options[o.correct_index] == f"{round(value, 1):.1f}"
            for x in o.options:
                assert x == f"{float(x):.1f}" and float(x) >= 0.1 - 1e-9


def test_numeric_options_rank_is_not_fixed():
    rng = np.random.default_rng(1)
    ranks = []
    for _ in range(400):
        o = numeric_options(3.0, rng)
        vals = sorted(float(x) for x in o.options)
        ranks.append(vals.index(3.0))
    counts = np.bincount(ranks, minlength=4)
    assert counts.min() > 60  # each of the 4 ranks gets roughly a quarter


def test_choice_options_distinct_and_correct():
    rng = np.random.default_rng(2)
    for _ in range(100):
        o = choice_options(
            "left, above, ", ["right, above, ", "left, below, ", "left, above, "], rng
        )
        assert o.options[o.correct_index] == "left, above, "
        assert len(set(o.options)) == len(o.options) == 3
    with pytest.raises(ValueError):
        choice_options("a", ["a"], rng)


def test_markers_fields_single_and_multi():
    m = Markers().point("red", [1, 2], 0).point("blue", [3, 4], 1).bbox("green", [1, 2, 3, 4], 1)
    assert m.to_fields(multi_image=False) == {
        "red_point": [[1, 2]],
        "blue_point": [[3, 4]],
        "green_bbox": [[1, 2, 3, 4]],
    }
    f = m.to_fields(multi_image=True)
    assert f["point_img_idx"] == [[0, 1]] and f["bbox_img_idx"] == [[1]]
    with pytest.raises(ValueError):
        Markers().point("red", [0, 0]).point("red", [1, 1])


def _sample(**over):
    s = {
        "id": "scene0_3",
        "conversations": [{"from": "human", "value": "Q?"}, {"from": "gpt", "value": "1.5"}],
        "image": ["scene0/image_color/10.jpg"],
        "type": "t",
        "red_point": [[10, 20]],
    }
    s.update(over)
    return s


def test_schema_validator_catches_problems():
    assert validate_sample(_sample(), require_meta=False) == []
    assert validate_sample(_sample(red_point=[[10, 2000]]), require_meta=False)
    assert validate_sample(_sample(id="scene0"), require_meta=False)
    assert validate_sample(_sample(image=["10.jpg"]), require_meta=False)
    bad_conv = [{"from": "human", "value": "the [label_A]"}, {"from": "gpt", "value": "x"}]
    assert validate_sample(_sample(conversations=bad_conv), require_meta=False)
    assert validate_sample(_sample(purple_point=[[1, 1]]), require_meta=False)
    assert validate_sample(_sample())  # meta required by default
