"""Fixtures of the BEV probe tests; the hand-built scene lives in ``probe_scene.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
from probe_scene import make_probe_scene


@pytest.fixture
def probe_scene(tmp_path: Path) -> Path:
    return make_probe_scene(tmp_path / "scenes")
