"""Index many scene folders: resume (skip folders whose index exists), report broken scenes."""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spar3d.index.builder import IndexParams, build_index
from spar3d.index.records import INDEX_FILENAME, SceneIndex, load_index, save_index


@dataclass
class IndexOutcome:
    """What happened to one scene folder.

    Attributes:
        scene_dir: The folder.
        status: ``"built"``, ``"cached"`` (index already there) or ``"failed"``.
        index: The index (None when failed).
        seconds: Wall time spent on this scene.
        error: The error message when failed.
    """

    scene_dir: Path
    status: str
    index: SceneIndex | None = None
    seconds: float = 0.0
    error: str = ""


def index_scene_dir(
    scene_dir: str | Path,
    params: IndexParams | None = None,
    *,
    loader: str | None = None,
    force: bool = False,
) -> IndexOutcome:
    """Load one scene, build its index and save it next to the scene."""
    from spar3d.scenes.loaders import load_scene

    scene_dir = Path(scene_dir)
    t0 = time.perf_counter()
    if not force and (scene_dir / INDEX_FILENAME).is_file():
        return IndexOutcome(scene_dir, "cached", load_index(scene_dir), time.perf_counter() - t0)
    scene = load_scene(scene_dir, loader=loader)
    index = build_index(scene, params)
    save_index(index, scene_dir / INDEX_FILENAME)
    return IndexOutcome(scene_dir, "built", index, time.perf_counter() - t0)


def index_scene_dirs(
    scene_dirs: Sequence[str | Path],
    params: IndexParams | None = None,
    *,
    loader: str | None = None,
    force: bool = False,
    progress: bool = True,
) -> list[IndexOutcome]:
    """Index every folder; a failing scene is reported in its outcome and the others go on."""
    from rich.progress import Progress

    outcomes: list[IndexOutcome] = []
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("indexing scenes", total=len(scene_dirs))
        for d in scene_dirs:
            t0 = time.perf_counter()
            try:
                outcomes.append(index_scene_dir(d, params, loader=loader, force=force))
            except Exception as exc:  # one broken scene must not stop the others
                msg = f"{type(exc).__name__}: {exc}"
                if not isinstance(exc, (ValueError, FileNotFoundError, KeyError)):
                    msg += "\n" + traceback.format_exc(limit=3)
                outcomes.append(
                    IndexOutcome(Path(d), "failed", None, time.perf_counter() - t0, msg)
                )
            bar.advance(task)
    return outcomes
