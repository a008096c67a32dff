"""Fixtures of the video-task tests; the factories live in ``video_factory.py``."""

from __future__ import annotations

import pytest
from video_factory import make_handset_index, make_video_room

from spar3d.index.records import SceneIndex


@pytest.fixture(scope="session")
def video_room() -> SceneIndex:
    return make_video_room()


@pytest.fixture(scope="session")
def handset_index() -> SceneIndex:
    return make_handset_index()
