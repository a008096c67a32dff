"""Making a folder of synthetic ScanNet-layout scenes, resumable, with a progress bar.

Each scene is a :mod:`spar3d.pipeline` job (``resumed`` when its done-marker matches the
settings, ``failed`` with the error, the other scenes still made)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from spar3d.errors import Spar3dError
from spar3d.pipeline import Resumed, SerialExecutor, run_jobs
from spar3d.scenes.synthetic.export import DONE_MARKER, write_scannet_scene
from spar3d.scenes.synthetic.world import build_world

#: Defaults of ``spar3d synth``: a scene in a few seconds on one CPU core.
DEFAULT_FRAMES = 120
DEFAULT_WIDTH = 320
DEFAULT_HEIGHT = 240


def scene_id(k: int) -> str:
    """Name of the k-th synthetic scene, ScanNet style: ``synth0000_00``."""
    return f"synth{k:04d}_00"


def scene_seed(seed: int, k: int) -> int:
    """Seed of scene ``k`` of a run seeded ``seed``: independent of how many scenes are made."""
    return int(np.random.SeedSequence([seed, k]).generate_state(1)[0])


def _params(seed: int, k: int, n_frames: int, width: int, height: int) -> dict[str, object]:
    s = scene_seed(seed, k)
    return {
        "scene_id": scene_id(k),
        "world_seed": s,
        "seed": s,
        "n_frames": n_frames,
        "width": width,
        "height": height,
    }


def is_complete(folder: Path, params: dict[str, object]) -> bool:
    """Whether ``folder`` holds a finished export made with ``params`` (its marker says so)."""
    marker = folder / DONE_MARKER
    if not marker.is_file():
        return False
    try:
        done = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return isinstance(done, dict) and all(done.get(k) == v for k, v in params.items())


def synthesize(
    out: str | Path,
    n_scenes: int,
    seed: int,
    n_frames: int = DEFAULT_FRAMES,
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
    progress: bool = True,
) -> list[Path]:
    """Write ``n_scenes`` synthetic scenes ``out/synth0000_00 ...`` in ScanNet layout.

    Scene k is built from ``scene_seed(seed, k)``, so it is the same whether 1 or 10 scenes are
    made. A scene whose done-marker matches these settings is skipped (resume after a stop).

    Returns:
        The scene folders, in order.
    """
    if n_scenes < 0 or n_frames < 1 or width < 1 or height < 1:
        raise ValueError(
            f"need n_scenes >= 0 and positive frames/size, got {n_scenes=}, {n_frames=}, {width=}, {height=}"
        )
    out = Path(out)
    folders: list[Path] = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    failed: dict[str, str] = {}
    with Progress(*columns, disable=not progress) as bar:
        scenes_task = bar.add_task("scenes", total=n_scenes)
        frames_task = bar.add_task("frames", total=n_frames)

        def make(k: int) -> Path | Resumed[Path]:
            params = _params(seed, k, n_frames, width, height)
            folder = out / scene_id(k)
            if is_complete(folder, params):
                return Resumed(folder)
            bar.reset(frames_task, total=n_frames, description=f"frames of {scene_id(k)}")
            s = scene_seed(seed, k)
            return write_scannet_scene(
                build_world(s), out, scene_id(k), n_frames, width, height, seed=s,
                on_frame=lambda: bar.advance(frames_task),
            )  # fmt: skip

        # Serial: the frame bar follows one scene at a time (scenes are independent, so a
        # failing one is reported after the others are made).
        for outcome in run_jobs(make, range(n_scenes), SerialExecutor()):
            if outcome.value is None:
                failed[scene_id(outcome.item)] = outcome.error
            else:
                folders.append(outcome.value)
            bar.advance(scenes_task)
    if failed:
        raise Spar3dError(f"{len(failed)} synthetic scene(s) failed: {failed}")
    return folders
