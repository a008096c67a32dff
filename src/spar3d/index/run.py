"""Index many scene folders: resume (skip folders whose index exists), report broken scenes."""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spar3d.errors import InputError
from spar3d.index.builder import IndexParams, build_index
from spar3d.index.records import (
    INDEX_FILENAME,
    SceneIndex,
    index_file_for,
    load_index,
    save_index,
)


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
    loader_opts: dict[str, Any] | None = None,
) -> IndexOutcome:
    """Load one scene, build its index and save it next to the scene (see
    :func:`index_dir_for`); image paths in it are relative to the index file's folder."""
    from spar3d.scenes.loaders import load_scene

    scene_dir = Path(scene_dir)
    t0 = time.perf_counter()
    try:
        cached = index_file_for(scene_dir)
    except InputError:  # a file inside a scene folder: the loader decides
        cached = scene_dir.parent / INDEX_FILENAME
    if not force and cached.is_file():
        return IndexOutcome(cached.parent, "cached", load_index(cached), time.perf_counter() - t0)
    scene = load_scene(scene_dir, loader=loader, **(loader_opts or {}))
    index = build_index(scene, params)
    target = index_dir_for(scene_dir, scene.scene_id)
    if target.resolve() != Path(scene.root).resolve():
        _rebase_paths(index, Path(scene.root), target)
    save_index(index, target / INDEX_FILENAME)
    return IndexOutcome(target, "built", index, time.perf_counter() - t0)


def index_dir_for(scene_path: Path, scene_id: str) -> Path:
    """Folder the index of ``scene_path`` lives in: the scene folder itself, or, for layouts that
    keep many scenes in one folder (preprocessed ScanNet: a ``<dir>/<scene>`` prefix or a
    ``<dir>/<scene>_vert.npy`` file), ``<dir>/<scene>/``."""
    if scene_path.is_dir():
        return scene_path
    return scene_path.parent / scene_id


def _rebase_paths(index: SceneIndex, old_root: Path, new_root: Path) -> None:
    """Image paths stay valid when the index is saved away from the scene's data folder."""
    index.scene_dir = new_root
    old, new = Path(old_root).absolute(), Path(new_root).absolute()
    for im in index.images:
        for attr in ("color_path", "depth_path"):
            rel = getattr(im, attr)
            if rel:
                setattr(im, attr, Path(os.path.relpath(old / rel, new)).as_posix())


def _index_one(
    scene_dir: str | Path,
    params: IndexParams | None,
    loader: str | None,
    force: bool,
    loader_opts: dict[str, Any] | None = None,
) -> IndexOutcome:
    t0 = time.perf_counter()
    try:
        return index_scene_dir(
            scene_dir, params, loader=loader, force=force, loader_opts=loader_opts
        )
    except Exception as exc:  # one broken scene must not stop the others
        msg = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, (ValueError, FileNotFoundError, KeyError)):
            msg += "\n" + traceback.format_exc(limit=3)
        return IndexOutcome(Path(scene_dir), "failed", None, time.perf_counter() - t0, msg)


def index_scene_dirs(
    scene_dirs: Sequence[str | Path],
    params: IndexParams | None = None,
    *,
    loader: str | None = None,
    force: bool = False,
    progress: bool = True,
    workers: int = 1,
    loader_opts: dict[str, Any] | None = None,
) -> list[IndexOutcome]:
    """Index every folder; a failing scene is reported in its outcome and the others go on.

    Args:
        workers: Processes to index scenes in parallel (1 = in this process). Outcomes keep the
            order of ``scene_dirs`` either way.
        loader_opts: Options passed to the loader (``infos=``, ``image_root=``, ...; see
            ``docs/loaders.md``).
    """
    from rich.progress import Progress

    outcomes: list[IndexOutcome | None] = [None] * len(scene_dirs)
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("indexing scenes", total=len(scene_dirs))
        if workers <= 1:
            for i, d in enumerate(scene_dirs):
                outcomes[i] = _index_one(d, params, loader, force, loader_opts)
                bar.advance(task)
        else:
            from concurrent.futures import ProcessPoolExecutor, as_completed

            from spar3d.procs import die_with_parent

            with ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent) as pool:
                futures = {
                    pool.submit(_index_one, d, params, loader, force, loader_opts): i
                    for i, d in enumerate(scene_dirs)
                }
                for fut in as_completed(futures):
                    outcomes[futures[fut]] = fut.result()
                    bar.advance(task)
    return [o for o in outcomes if o is not None]
