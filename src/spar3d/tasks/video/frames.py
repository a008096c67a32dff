"""Wording and specs of the video tasks.

The video itself -- a scene's keyframes in capture order, evenly subsampled to at most
``max_frames`` (SPAR-7M video samples hold 32 frames, ``video_color/``), none when the scene has
fewer than ``min_frames`` -- is drawn by :class:`spar3d.tasks.views.FrameSequence` and kept by the
scene, so every video task of a scene shows the same sequence (what ``video_idx.txt`` lists).
Positions in the sequence (0-based) are what the ``*_img_idx`` marker fields hold; question and
answer texts number frames from 1.
"""

from __future__ import annotations

from collections.abc import Sequence

from spar3d.tasks.base import TaskSpec


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
