"""Fixtures of the task-engine tests; the factory lives in ``room_factory.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
from room_factory import make_index, write_scene_dir

from spar3d.index.records import SceneIndex


@pytest.fixture(scope="session")
def room_index() -> SceneIndex:
    return make_index()


@pytest.fixture
def scene_dir(tmp_path: Path) -> Path:
    return write_scene_dir(tmp_path)
