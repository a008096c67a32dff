"""Navigation instructions with missing action words (SPAR appx 7.5 "Navigation", RxR).

Needs two things this project cannot ship:

* Matterport3D frames in the scene index: a scene whose ``scene_id`` is the Matterport3D scan id
  (or starts with ``<scan>_``) and whose frame ids start with the panorama (viewpoint) id, as the
  undistorted Matterport3D images are named (``<viewpoint>_i<camera>_<yaw>``);
* RxR guide annotations (``rxr_<split>_guide.jsonl.gz``, Ku et al. 2020), given by the
  environment variable ``SPAR3D_RXR_GUIDE`` (several files separated by ``os.pathsep``). Each line
  holds at least ``instruction_id``, ``scan``, ``path`` (viewpoint ids), ``language`` and
  ``instruction``. English instructions only (``en-US``, ``en-IN``): the action vocabulary is
  English.

Without them the task is skipped: it produces no sample, counts the reason under ``rejected``
(``skipped_no_rxr_guide``, ``skipped_no_rxr_instructions_for_scan``,
``skipped_no_matterport_frames``) and logs what is missing once. With them, each sample shows one
frame per path viewpoint -- the one facing the next viewpoint -- and the instruction with up to
``max_masked`` action words (turn, left, right, straight, ...) blanked as ``___``; the answer
gives the missing words in order.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from spar3d.index.records import SceneIndex
from spar3d.tasks.base import ChoiceAnswer, Facts, Reject, SceneView, TaskStats
from spar3d.tasks.params import VideoParams, check_range, knob
from spar3d.tasks.registry import register_task
from spar3d.tasks.video.frames import video_spec
from spar3d.tasks.views import Video, VideoTask, even_positions

log = logging.getLogger(__name__)

ENV_GUIDE = "SPAR3D_RXR_GUIDE"
BLANK = "___"
# words that carry the action / direction of a step ("turn left", "go straight ahead", ...)
ACTION_WORDS = frozenset(
    [
        "left",
        "right",
        "straight",
        "ahead",
        "forward",
        "forwards",
        "backward",
        "backwards",
        "back",
        "around",
        "turn",
        "turning",
        "upstairs",
        "downstairs",
        "stop",
    ]
)
_TOKEN = re.compile(r"^(\W*)([A-Za-z]+)(\W*)$")


@dataclass(frozen=True)
class RxrInstruction:
    """One RxR guide annotation (the fields this task reads)."""

    instruction_id: int
    scan: str
    path: tuple[str, ...]
    language: str
    instruction: str


def _record(d: Any, where: str) -> RxrInstruction:
    if not isinstance(d, dict):
        raise ValueError(f"{where}: expected a JSON object")
    missing = [
        k for k in ("instruction_id", "scan", "path", "language", "instruction") if k not in d
    ]
    if missing:
        raise ValueError(f"{where}: missing field(s) {missing}")
    path = d["path"]
    if not isinstance(path, list) or not all(isinstance(p, str) for p in path) or len(path) < 2:
        raise ValueError(f"{where}: 'path' must be a list of >= 2 viewpoint ids")
    return RxrInstruction(
        int(d["instruction_id"]), str(d["scan"]), tuple(path), str(d["language"]),
        str(d["instruction"]),
    )  # fmt: skip


def load_rxr_guide(path: str | Path) -> list[RxrInstruction]:
    """Read an RxR guide annotations file (JSON Lines, optionally gzipped).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: a line is not JSON or lacks a field (the message names file and line).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: RxR guide annotations file not found")
    opener = gzip.open if p.suffix == ".gz" else open
    out = []
    with opener(p, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{p} line {n}: not JSON ({exc.msg})") from None
            out.append(_record(d, f"{p} line {n}"))
    return out


@lru_cache(maxsize=8)
def _by_scan(path: str, mtime_ns: int) -> dict[str, list[RxrInstruction]]:
    out: dict[str, list[RxrInstruction]] = {}
    for r in load_rxr_guide(path):
        if r.language.lower().startswith("en"):
            out.setdefault(r.scan, []).append(r)
    return out


def guide_files(paths: list[Path] | None = None) -> list[Path]:
    """The existing files among ``paths`` (``generate --rxr-guide``), or named by
    ``SPAR3D_RXR_GUIDE`` when ``paths`` is None."""
    if paths is not None:
        return [Path(p) for p in paths if Path(p).is_file()]
    raw = os.environ.get(ENV_GUIDE, "")
    return [Path(p) for p in raw.split(os.pathsep) if p.strip() and Path(p).is_file()]


def instructions_for(scene_id: str, paths: list[Path] | None = None) -> list[RxrInstruction]:
    """English RxR instructions of the scan the scene belongs to, by instruction id."""
    found: dict[int, RxrInstruction] = {}
    for f in guide_files(paths):
        for scan, recs in _by_scan(str(f), f.stat().st_mtime_ns).items():
            if scene_id == scan or scene_id.startswith(scan + "_"):
                found.update((r.instruction_id, r) for r in recs)
    return [found[k] for k in sorted(found)]


def action_slots(instruction: str) -> list[int]:
    """Indices of the whitespace tokens whose word is an action word."""
    out = []
    for i, tok in enumerate(instruction.split()):
        m = _TOKEN.match(tok)
        if m and m.group(2).lower() in ACTION_WORDS:
            out.append(i)
    return out


def mask_words(instruction: str, slots: list[int]) -> tuple[str, list[str]]:
    """The instruction with the words at token ``slots`` replaced by ``___`` (punctuation kept),
    and the removed words in order."""
    tokens = instruction.split()
    words = []
    for i in sorted(slots):
        m = _TOKEN.match(tokens[i])
        if m is None:
            raise ValueError(f"token {i} ({tokens[i]!r}) is not a word")
        words.append(m.group(2))
        tokens[i] = m.group(1) + BLANK + m.group(3)
    return " ".join(tokens), words


def _frames_of(index: SceneIndex, viewpoint: str) -> list[int]:
    return [
        im.index
        for im in index.images
        if im.frame_id == viewpoint or im.frame_id.startswith(viewpoint + "_")
    ]


def path_frames(index: SceneIndex, path: tuple[str, ...]) -> list[int] | None:
    """One image per viewpoint of the path: the one whose viewing direction (top-down) points
    most toward the next viewpoint (toward the last step's direction at the end); None when a
    viewpoint has no frame."""
    groups = [_frames_of(index, vp) for vp in path]
    if any(not g for g in groups):
        return None
    centres = [np.mean([index.images[i].T_world_cam[:3, 3] for i in g], axis=0) for g in groups]
    out = []
    for k, g in enumerate(groups):
        step = centres[k + 1] - centres[k] if k + 1 < len(groups) else centres[k] - centres[k - 1]
        step_xy = step[:2] / max(float(np.linalg.norm(step[:2])), 1e-9)
        fwd = [index.images[i].T_world_cam[:2, 2] for i in g]
        score = [float(f @ step_xy) / max(float(np.linalg.norm(f)), 1e-9) for f in fwd]
        out.append(g[int(np.argmax(score))])
    return out


@dataclass(frozen=True)
class NavParams(VideoParams):
    """A path's frames: at least ``min_frames``; ``min_masked``..``max_masked`` action words
    masked per instruction."""

    min_frames: int = knob(2, minimum=1)
    min_masked: int = knob(1, minimum=1)
    max_masked: int = knob(3, minimum=1)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range("min_masked", self.min_masked, "max_masked", self.max_masked)


@register_task
class NavVideo(VideoTask):
    """Fill in the missing action words of an RxR instruction, given the frames along its path."""

    requires = ("rxr", "matterport3d")  # data the plain scene index does not hold
    spec = video_spec(
        "nav_video",
        "-",
        ("sentence",),
        (),
        placeholders=("instruction_masked", "missing", "num_missing", "instruction"),
        description=(
            "RxR navigation instruction (English) with up to max_masked action words blanked; "
            "frames along the path (Matterport3D); answer: the missing words in order. Needs "
            f"{ENV_GUIDE} and a Matterport3D scene index, otherwise skipped"
        ),
    )
    Params = NavParams
    guide_paths: list[Path] | None = None  # RxR guide files; None: SPAR3D_RXR_GUIDE

    def input_files(self) -> list[Path]:
        """The RxR guide files this task reads (part of ``generate``'s resume fingerprint)."""
        return guide_files(self.guide_paths)

    def unavailable(self, scene: SceneView) -> str | None:
        """What is missing for this scene (a message naming it), or None when the task can run."""
        why = self.skip_reason(scene)
        return None if why is None else why[1]

    def skip_reason(self, scene: SceneView) -> tuple[str, str] | None:
        """``(reason tag, message)`` when the data the task needs is missing, else None."""
        if not guide_files(self.guide_paths):
            return (
                "skipped_no_rxr_guide",
                "RxR guide annotations not found: pass --rxr-guide or set "
                f"{ENV_GUIDE} to rxr_<split>_guide.jsonl(.gz)",
            )
        recs = instructions_for(scene.scene_id, self.guide_paths)
        if not recs:
            return (
                "skipped_no_rxr_instructions_for_scan",
                f"no English RxR instruction for scan {scene.scene_id!r} in {ENV_GUIDE} files",
            )
        if not any(_frames_of(scene.index, vp) for r in recs for vp in r.path):
            return (
                "skipped_no_matterport_frames",
                f"scene {scene.scene_id!r} has no Matterport3D panorama frames "
                "(frame ids '<viewpoint>_...') for its RxR paths",
            )
        return None

    def generate(self, index: Any, n: int, seed: int) -> tuple[list[dict[str, Any]], TaskStats]:
        scene = index if isinstance(index, SceneView) else SceneView(index)
        why = self.skip_reason(scene)
        if why is None:
            return super().generate(scene, n, seed)
        tag, message = why
        if tag == "skipped_no_rxr_guide":
            _warn_once(message)
        else:
            log.debug("nav_video skipped: %s", message)
        stats = TaskStats()
        stats.rejected[tag] += 1
        return [], stats

    def propose(self, scene: SceneView, rng: Any) -> tuple[int, tuple[int, ...]] | None:
        recs = instructions_for(scene.scene_id, self.guide_paths)
        if not recs:
            return None
        r = recs[int(rng.integers(len(recs)))]
        slots = action_slots(r.instruction)
        k = min(
            len(slots), int(rng.integers(self.params.min_masked, self.params.max_masked + 1))
        )
        if k < self.params.min_masked:
            return (r.instruction_id, ())
        picked = sorted(int(slots[int(j)]) for j in rng.choice(len(slots), size=k, replace=False))
        return (r.instruction_id, tuple(picked))

    def compute(self, scene: SceneView, key: tuple[int, tuple[int, ...]]) -> Facts:
        instruction_id, slots = key
        if not slots:
            raise Reject("too_few_action_words")
        rec = next(
            r
            for r in instructions_for(scene.scene_id, self.guide_paths)
            if r.instruction_id == instruction_id
        )
        frames = path_frames(scene.index, rec.path)
        if frames is None:
            raise Reject("path_frames_missing")
        if len(frames) > self.params.max_frames:  # evenly spaced along the path, ends kept
            frames = [
                frames[i] for i in even_positions(len(frames), int(self.params.max_frames))
            ]
        if len(frames) < self.params.min_frames:
            raise Reject("too_few_frames")
        masked, words = mask_words(rec.instruction, list(slots))
        return self.facts(
            Video(frames),
            [],
            {
                "instruction_masked": masked,
                "missing": ", ".join(words),
                "num_missing": str(len(words)),
                "instruction": rec.instruction,
            },
            ChoiceAnswer(", ".join(words)),
            {
                "instruction_id": rec.instruction_id,
                "language": rec.language,
                "path": list(rec.path),
                "masked_tokens": list(slots),
                "missing_words": words,
            },
        )


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning("nav_video skipped: %s", message)
