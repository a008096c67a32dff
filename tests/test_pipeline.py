"""spar3d.pipeline: executors, typed outcomes, the completion marker and the run configuration."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from spar3d.errors import ConfigError, InputError
from spar3d.pipeline import (
    JobOutcome,
    Resumed,
    RunConfig,
    make_executor,
    marker_path,
    read_marker,
    run_job,
    run_jobs,
    write_marker,
)


def _job(x: int) -> int | Resumed[int]:
    """Module-level (picklable): fails on 3, 'resumes' on 5, squares otherwise."""
    if x == 3:
        raise InputError("item 3: bad field 'answer'")
    if x == 4:
        raise RuntimeError("boom")
    if x == 5:
        return Resumed(25)
    return x * x


def test_run_job_types_the_outcome() -> None:
    ok = run_job(_job, 2)
    assert ok == JobOutcome(2, "ok", 4, "", ok.seconds) and ok.seconds >= 0
    assert run_job(_job, 5).status == "resumed" and run_job(_job, 5).value == 25
    bad = run_job(_job, 3)
    assert bad.status == "failed" and bad.value is None and not bad.ok
    assert bad.error == "InputError: item 3: bad field 'answer'"  # input errors: no traceback
    internal = run_job(_job, 4)
    assert internal.error.startswith("RuntimeError: boom\nTraceback")


@pytest.mark.parametrize(("name", "workers"), [("serial", 1), ("process", 1), ("process", 2)])
def test_executors_keep_input_order_and_go_on_after_a_failure(name: str, workers: int) -> None:
    items = [6, 3, 1, 5, 4, 2]
    out = list(run_jobs(_job, items, make_executor(name, workers)))
    assert [o.item for o in out] == items
    assert [o.status for o in out] == ["ok", "failed", "ok", "resumed", "failed", "ok"]
    assert [o.value for o in out] == [36, None, 1, 25, None, 4]


def test_ray_executor_matches_serial() -> None:
    pytest.importorskip("ray")
    items = ["6", "x", "1", "12"]  # int(): a job ray workers can import (not this test module)
    ray_out = [(o.item, o.status, o.value) for o in run_jobs(int, items, make_executor("ray", 2))]
    assert ray_out == [("6", "ok", 6), ("x", "failed", None), ("1", "ok", 1), ("12", "ok", 12)]


def test_unknown_executor_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="executor must be one of serial, process, ray"):
        make_executor("dask")


def test_run_config_hashes_parameters_and_file_contents(tmp_path: Path) -> None:
    guide = tmp_path / "guide.jsonl"
    guide.write_text("a\n")
    base = RunConfig("generate", 1, {"seed": 0, "tasks": [["t", 1, {"k": 0.5}]]}, (str(guide),))
    same = RunConfig("generate", 1, {"tasks": [["t", 1, {"k": 0.5}]], "seed": 0}, (str(guide),))
    assert base.digest() == same.digest()  # key order does not matter
    knob = RunConfig("generate", 1, {"seed": 0, "tasks": [["t", 1, {"k": 0.6}]]}, (str(guide),))
    assert knob.digest() != base.digest()
    assert RunConfig("generate", 2, base.params, base.files).digest() != base.digest()
    before = base.digest()
    guide.write_text("b\n")  # same path, other content: another configuration
    assert base.digest() != before


def test_marker_round_trip_and_stale_or_torn_markers(tmp_path: Path) -> None:
    marker = marker_path(tmp_path / "scene0")
    assert marker.name == "scene0.done.json"
    write_marker(marker, "abc", {"scene_id": "s0", "size": 3})
    assert read_marker(marker, "abc") == {"config": "abc", "scene_id": "s0", "size": 3}
    assert read_marker(marker, "abc", scene_id="s0") is not None
    assert read_marker(marker, "abc", scene_id="s1") is None
    assert read_marker(marker, "other") is None
    assert read_marker(marker, "abc", lambda d: d["size"] == 4) is None
    marker.write_text('{"config": "abc", "scene')  # torn by a kill
    assert read_marker(marker, "abc") is None
    assert read_marker(tmp_path / "absent.done.json", "abc") is None


def test_generate_fingerprint_covers_task_parameters_and_environment_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spar3d.generate import run_config
    from spar3d.tasks import create_task
    from spar3d.tasks.video.nav import ENV_GUIDE

    depth = create_task("depth_prediction_oc")
    knob = next(iter(depth.defaults))
    changed = type(depth)({knob: getattr(depth.params, knob) + 1.0})
    assert run_config([depth], 5, 0, False, True).digest() != run_config(
        [changed], 5, 0, False, True
    ).digest()

    guide = tmp_path / "rxr_guide.jsonl"
    guide.write_text(json.dumps({"instruction_id": 1}) + "\n")
    monkeypatch.setenv(ENV_GUIDE, str(guide))
    nav = create_task("nav_video")
    cfg = run_config([nav], 5, 0, False, True)
    assert cfg.files == (str(guide),)
    first = cfg.digest()
    guide.write_text(json.dumps({"instruction_id": 2}) + "\n")
    assert cfg.digest() != first
    monkeypatch.setenv(ENV_GUIDE, os.pathsep)  # no guide: no file in the configuration
    assert run_config([nav], 5, 0, False, True).files == ()
