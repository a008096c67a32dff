"""A third-party task added through the ``spar3d.tasks`` entry-point group, with its own templates."""

from __future__ import annotations

import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from spar3d.tasks import SceneView
from spar3d.tasks.registry import TASKS, create_task

PLUGIN = """
from dataclasses import replace

from spar3d.tasks.depth import DepthPredictionOC


class MyDepth(DepthPredictionOC):
    spec = replace(DepthPredictionOC.spec, name="my_plugin_depth", formats=("fill",))
    templates_package = "my_spar3d_plugin"
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    pkg = tmp_path / "my_spar3d_plugin"
    (pkg / "templates").mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    src = (
        Path(__file__).resolve().parents[2] / "src/spar3d/tasks/templates/depth_prediction_oc.yaml"
    )
    text = src.read_text().replace("task: depth_prediction_oc", "task: my_plugin_depth")
    (pkg / "templates" / "my_plugin_depth.yaml").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = metadata.EntryPoint("my_plugin_depth", "my_spar3d_plugin:MyDepth", "spar3d.tasks")
    real = metadata.entry_points

    def fake(**kw):
        return [ep] if kw.get("group") == "spar3d.tasks" else real(**kw)

    monkeypatch.setattr(metadata, "entry_points", fake)
    monkeypatch.setattr(TASKS, "_entry_points_loaded", False)
    yield
    TASKS._items.pop("my_plugin_depth", None)
    sys.modules.pop("my_spar3d_plugin", None)


def test_entry_point_task_is_listed_and_generates(plugin, room_index):
    assert "my_plugin_depth" in TASKS.names()
    task = create_task("my_plugin_depth")
    samples, stats = task.generate(SceneView(room_index), 4, seed=0)
    assert samples and all(s["type"] == "my_plugin_depth" for s in samples)
    assert all(s["meta"]["format"] == "fill" for s in samples)
    assert sum(stats.generated.values()) == len(samples)


def test_missing_plugin_templates_name_the_file(plugin, tmp_path):
    (tmp_path / "my_spar3d_plugin" / "templates" / "my_plugin_depth.yaml").unlink()
    from spar3d.tasks.templates import TemplateError, load_templates

    load_templates.cache_clear()
    with pytest.raises(TemplateError, match="my_spar3d_plugin/templates/my_plugin_depth.yaml"):
        create_task("my_plugin_depth")
