"""Typed task parameters: one frozen dataclass per task, types and ranges checked when made,
read from ``--task-param`` by field type, recorded typed in ``meta.task_params`` and hashed
whole into the run fingerprint."""

from __future__ import annotations

import dataclasses
import json
import pickle

import pytest

from spar3d.errors import ConfigError
from spar3d.generate import parse_task_params, run_config
from spar3d.tasks import TASKS, create_task
from spar3d.tasks.params import MultiViewParams, TaskParams, VideoParams
from spar3d.tasks.views import CoVisibleViews, FrameSequence, SingleImage, ViewTask

ALL = sorted(TASKS.names())


@pytest.mark.parametrize("name", ALL)
def test_every_task_has_a_frozen_typed_params_class(name):
    cls = TASKS.get(name)
    assert issubclass(cls.Params, TaskParams) and dataclasses.is_dataclass(cls.Params)
    p = cls.Params()
    assert cls.defaults == {f.name: getattr(p, f.name) for f in dataclasses.fields(p)}
    for f in dataclasses.fields(p):
        assert type(getattr(p, f.name)) is cls.Params.kind(f.name), (name, f.name)
    if dataclasses.fields(p):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(p, dataclasses.fields(p)[0].name, 1)
    if issubclass(cls, ViewTask):  # a strategy's own parameters are part of the task's
        assert issubclass(cls.Params, cls.views.params)
        want = {"S": SingleImage, "MV": CoVisibleViews, "V": FrameSequence}[cls.spec.views]
        assert isinstance(cls.views, want)


def test_multi_view_and_video_tasks_carry_their_strategy_fields():
    assert {"min_views", "max_views"} <= set(TASKS.get("depth_prediction_oc_mv").defaults)
    assert {"max_frames", "min_frames"} <= set(TASKS.get("distance_prediction_oo_video").defaults)
    assert not {"min_views", "max_frames"} & set(TASKS.get("depth_prediction_oc").defaults)


def test_values_are_coerced_to_the_field_type_and_ranges_checked():
    assert MultiViewParams(min_views=3.0, max_views=4).min_views == 3  # type: ignore[arg-type]
    assert type(MultiViewParams(min_views=3.0).min_views) is int  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="min_views: expected a whole number"):
        MultiViewParams(min_views=2.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_views: must be <= 5"):
        MultiViewParams(max_views=6)
    with pytest.raises(ConfigError, match="need min_views <= max_views, got 4 and 3"):
        MultiViewParams(min_views=4, max_views=3)
    with pytest.raises(ConfigError, match="min_frames: must be >= 1"):
        VideoParams(min_frames=0)
    with pytest.raises(ConfigError, match="must be a finite number"):
        create_task("distance_prediction_oo", {"min_distance_m": float("nan")})
    with pytest.raises(ConfigError, match=r"task depth_prediction_oc: min_depth_gap_m: must be >= 0"):
        create_task("depth_prediction_oc", {"min_depth_gap_m": -0.1})
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['min_views'\]"):
        create_task("depth_prediction_oc", {"min_views": 3})
    with pytest.raises(ConfigError, match="require_all_seen: expected true or false"):
        create_task("obj_count", {"require_all_seen": 2})


def test_task_param_items_are_read_by_field_type():
    names = ["obj_count", "depth_prediction_oc_mv", "distance_prediction_oo"]
    got = parse_task_params(
        ["obj_count.require_all_seen=false", "obj_count.min_instances=3",
         "distance_prediction_oo.min_distance_m=1.25"], names,
    )  # fmt: skip
    assert got == {
        "obj_count": {"require_all_seen": False, "min_instances": 3.0},
        "distance_prediction_oo": {"min_distance_m": 1.25},
    }
    task = create_task("obj_count", got["obj_count"])
    assert task.params.require_all_seen is False and type(task.params.min_instances) is int
    for items, msg in [
        (["obj_count.min_instances=2.5"], "--task-param 'obj_count.min_instances=2.5': "
         "obj_count.min_instances: expected a whole number"),
        (["obj_count.min_instances=many"], "obj_count.min_instances is a whole number (default 2)"),
        (["obj_count.require_all_seen=maybe"], "require_all_seen is true or false (default True)"),
        (["depth_prediction_oc_mv.min_views=1"], "depth_prediction_oc_mv.min_views: must be >= 2"),
        (["depth_prediction_oc_mv.min_views=4", "depth_prediction_oc_mv.max_views=3"],
         "'depth_prediction_oc_mv.min_views=4', 'depth_prediction_oc_mv.max_views=3': "
         "depth_prediction_oc_mv.need min_views <= max_views"),
        (["distance_prediction_oo.min_distance_m=inf"], "must be a finite number"),
    ]:  # fmt: skip
        with pytest.raises(ConfigError) as err:
            parse_task_params(items, names)
        assert msg in str(err.value), (items, str(err.value))
        assert str(err.value).startswith("--task-param ")


def test_overrides_are_typed_in_meta_and_every_field_is_fingerprinted(room_index):
    task = create_task("depth_prediction_oc_mv", {"min_views": 3.0, "min_depth_gap_m": 0.2})
    assert task.overrides == {"min_views": 3}  # the default-valued item is not an override
    samples, _ = task.generate(room_index, 3, seed=1)
    assert samples and all(
        json.dumps(s["meta"]["task_params"]) == '{"min_views": 3}' for s in samples
    )
    plain = create_task("depth_prediction_oc_mv")
    assert all("task_params" not in s["meta"] for s in plain.generate(room_index, 3, seed=1)[0])
    cfg = run_config([plain], 5, 0, False, True)
    # every field of the dataclass, defaults included, is what the fingerprint hashes
    assert cfg.params["tasks"][0][2] == dataclasses.asdict(plain.Params())
    assert cfg.digest() != run_config([task], 5, 0, False, True).digest()
    with_default_item = create_task("depth_prediction_oc_mv", {"min_depth_gap_m": 0.2})
    assert cfg.digest() == run_config([with_default_item], 5, 0, False, True).digest()


def test_a_plain_defaults_dict_still_declares_parameters():
    """Third-party tasks written against the dict API get a typed class made from it."""
    base = TASKS.get("depth_prediction_oc")

    class Plugin(base):  # type: ignore[misc, valid-type]
        defaults = {"min_depth_gap_m": 0.5, "rounds": 2}

    p = Plugin().params
    assert (p.min_depth_gap_m, p.rounds) == (0.5, 2) and type(p.rounds) is int
    assert Plugin({"rounds": 3.0}).overrides == {"rounds": 3}


def test_a_variant_gets_its_strategy_parameters_added():
    base = TASKS.get("distance_prediction_oo")

    class Variant(base):  # type: ignore[misc, valid-type]
        views = FrameSequence()

    assert issubclass(Variant.Params, VideoParams) and issubclass(Variant.Params, base.Params)
    assert Variant.defaults == {"max_frames": 32, "min_frames": 4, "min_distance_m": 0.3}
    with pytest.raises(ConfigError, match="min_frames: must be >= 1"):
        Variant({"min_frames": 0})


@pytest.mark.parametrize("name", ALL)
def test_every_task_pickles_with_its_parameters(name):
    """Process pools send tasks whole: made parameter classes must be importable by name."""
    if TASKS.get(name).requires:
        pytest.skip("needs external files to construct")
    task = create_task(name)
    again = pickle.loads(pickle.dumps(task))
    assert again.params == task.params and type(again.params) is type(task.params)
