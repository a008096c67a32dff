"""The frame sequence every video task of a scene shows, and what each frame sees.

A scene's "video" is its keyframes in capture order, evenly subsampled to at most ``max_frames``
(SPAR-7M video samples hold 32 frames, ``video_color/``); a scene with fewer than ``min_frames``
keyframes has no video and gives no video sample. Every video task of a scene uses the same
sequence, so it is what ``video_idx.txt`` lists. Positions in the sequence (0-based) are what the
``*_img_idx`` marker fields hold; question and answer texts number frames from 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spar3d.index.records import SceneIndex
from spar3d.tasks.base import (
    ChoiceAnswer,
    Facts,
    NumericAnswer,
    SceneView,
    Task,
    TaskSpec,
    TaskStats,
)
from spar3d.tasks.markers import Markers

VIDEO_DIR = "video_color"
VIDEO_DEFAULTS: dict[str, float] = {"max_frames": 32.0, "min_frames": 4.0}


def even_positions(n: int, m: int) -> list[int]:
    """``min(n, m)`` evenly spaced positions in ``range(n)``, first and last kept (``m >= 1``)."""
    if m < 1:
        raise ValueError(f"the number of frames must be >= 1, got {m}")
    if n <= m:
        return list(range(n))
    # spacing >= 1 keeps the rounded positions distinct
    return [int(i) for i in np.round(np.linspace(0, n - 1, m))]


def video_frames(index: SceneIndex, max_frames: int = 32, min_frames: int = 4) -> list[int]:
    """Image-record indices of the scene's video: evenly spaced keyframes, first and last kept.

    Returns an empty list when the scene has fewer than ``min_frames`` keyframes.
    """
    n = len(index.images)
    if n < max(1, min_frames):
        return []
    return even_positions(n, max_frames)


def frame_text(positions: Sequence[int]) -> str:
    """0-based positions as 1-based frame numbers: ``[1]`` -> "frame 2", ``[0, 3, 4]`` -> "frames
    1, 4 and 5"."""
    nums = [str(p + 1) for p in positions]
    if len(nums) == 1:
        return f"frame {nums[0]}"
    return "frames " + ", ".join(nums[:-1]) + " and " + nums[-1]


def and_list(items: Sequence[str]) -> str:
    """``["a", "b", "c"]`` -> "a, b and c"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def video_spec(
    name: str,
    relation: str,
    formats: tuple[str, ...],
    markers: tuple[str, ...],
    placeholders: tuple[str, ...],
    description: str,
    version: int = 1,
) -> TaskSpec:
    """The TaskSpec of a video task (views "V"; SPAR-Bench has no video task: no level)."""
    return TaskSpec(
        name=name,
        version=version,
        views="V",
        relation=relation,
        formats=formats,
        markers=markers,
        placeholders=placeholders,
        description=description,
    )


@dataclass
class Video:
    """A scene's video.

    Attributes:
        images: Image-record indices, capture order.
        appearances: Object id -> positions (0-based, ascending) of the frames that see it.
    """

    images: list[int]
    appearances: dict[int, list[int]] = field(default_factory=dict)

    @property
    def seen(self) -> list[int]:
        """Ids of the objects seen in at least one frame, ascending."""
        return sorted(self.appearances)


def unique_label_ids(scene: SceneView) -> set[int]:
    """Ids of the objects whose label no other object of the scene has (safe to name alone)."""
    count: dict[str, int] = {}
    for o in scene.objects.values():
        count[o.label] = count.get(o.label, 0) + 1
    return {oid for oid, o in scene.objects.items() if count[o.label] == 1}


class VideoTask(Task):
    """Base of the video tasks: the scene's video, object appearances, and the Facts shape."""

    defaults = dict(VIDEO_DEFAULTS)
    center_note = False
    _video_cache: tuple[SceneView, Video] | None = None  # the last scene's video

    def generate(self, index: Any, n: int, seed: int) -> tuple[list[dict[str, Any]], TaskStats]:
        """The engine's loop, or no sample with the reason ``too_few_frames`` when the scene has
        fewer than ``min_frames`` keyframes."""
        scene = index if isinstance(index, SceneView) else SceneView(index)
        if not self.video(scene).images:
            stats = TaskStats()
            stats.rejected["too_few_frames"] += 1
            return [], stats
        return super().generate(scene, n, seed)

    def video(self, scene: SceneView) -> Video:
        """The scene's video (cached for the last scene seen)."""
        if self._video_cache is not None and self._video_cache[0] is scene:
            return self._video_cache[1]
        images = video_frames(
            scene.index, int(self.params["max_frames"]), int(self.params["min_frames"])
        )
        appearances: dict[int, list[int]] = {}
        for pos, i in enumerate(images):
            for oid in scene.visible_ids(i):
                appearances.setdefault(oid, []).append(pos)
        video = Video(images, appearances)
        self._video_cache = (scene, video)
        return video

    def facts(
        self,
        video: Video,
        object_ids: Sequence[int],
        values: dict[str, str],
        answer: NumericAnswer | ChoiceAnswer,
        quantities: dict[str, Any],
        markers: Markers | None = None,
    ) -> Facts:
        """Facts of a video sample: every frame of the video, under ``video_color/``."""
        return Facts(
            images=list(video.images),
            object_ids=[int(o) for o in object_ids],
            values=values,
            answer=answer,
            markers=markers or Markers(),
            quantities={"video_frames": len(video.images), **quantities},
            image_dir=VIDEO_DIR,
        )


def draw_seen(
    video: Video, rng: np.random.Generator, k: int, among: set[int] | None = None
) -> list[int] | None:
    """``k`` distinct objects seen in the video (optionally restricted to ``among``), or None."""
    pool = [o for o in video.seen if among is None or o in among]
    if len(pool) < k:
        return None
    return [pool[int(j)] for j in rng.choice(len(pool), size=k, replace=False)]


def draw_frame(video: Video, rng: np.random.Generator, object_id: int) -> int:
    """A random position among the frames that see the object."""
    frames = video.appearances[object_id]
    return frames[int(rng.integers(len(frames)))]
