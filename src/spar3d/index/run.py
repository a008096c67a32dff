"""Index many scene folders through :mod:`spar3d.pipeline`: resume (reuse an index made with the
same parameters), report broken scenes, any executor."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spar3d.errors import InputError
from spar3d.index.builder import IndexParams, build_index, index_run_config
from spar3d.index.records import (
    INDEX_FILENAME,
    SceneIndex,
    index_file_for,
    load_index,
    save_index,
)
from spar3d.io import output_lock, remove_temps_of
from spar3d.pipeline import Resumed, make_executor, run_jobs

if TYPE_CHECKING:
    from spar3d.scenes.loaders import LoaderOptions


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
    :func:`index_dir_for`); image paths in it are relative to the index file's folder.

    An index already there is reused (``cached``) when its fingerprint (parameters, loader,
    loader options and the files they name: :func:`index_run_config`) equals the requested
    one's; otherwise, or with ``force``, it is rebuilt.
    """
    t0 = time.perf_counter()
    result = _index_job(scene_dir, params=params or IndexParams(), loader=loader, force=force,
                        loader_opts=loader_opts)  # fmt: skip
    status, (target, index) = (
        ("cached", result.value) if isinstance(result, Resumed) else ("built", result)
    )
    return IndexOutcome(target, status, index, time.perf_counter() - t0)


def _index_job(
    scene_dir: str | Path,
    *,
    params: IndexParams,
    loader: str | None,
    force: bool,
    loader_opts: dict[str, Any] | None = None,
) -> tuple[Path, SceneIndex] | Resumed[tuple[Path, SceneIndex]]:
    from spar3d.scenes.loaders import resolve_loader

    scene_dir = Path(scene_dir)
    chosen, options = resolve_loader(scene_dir, loader, loader_opts, origin="--loader-opt")
    try:
        cached = index_file_for(scene_dir)
    except InputError:  # a file inside a scene folder: the loader decides
        cached = scene_dir.parent / INDEX_FILENAME
    # One writer per scene: a second run indexing the same scene waits for the first, then
    # reuses its index; temporaries a killed run left are removed under the lock.
    with output_lock(cached.parent, "spar3d index", clean=False, wait=_note_waiting(scene_dir)):
        remove_temps_of(cached)
        return _index_locked(scene_dir, cached, params, chosen.name, options, force)


def _note_waiting(scene_dir: Path) -> Callable[[str], None]:
    def note(holder: str) -> None:
        print(f"{scene_dir}: waiting for another run indexing this scene ({holder})",
              file=sys.stderr, flush=True)  # fmt: skip

    return note


def _index_locked(
    scene_dir: Path,
    cached: Path,
    params: IndexParams,
    loader: str,
    options: LoaderOptions,
    force: bool,
) -> tuple[Path, SceneIndex] | Resumed[tuple[Path, SceneIndex]]:
    from spar3d.scenes.loaders import load_scene

    if not force and cached.is_file():
        existing = load_index(cached)
        wanted = index_run_config(params, existing.source, loader, options).digest()
        if existing.params.get("fingerprint") == wanted:
            return Resumed((cached.parent, existing))
    scene = load_scene(scene_dir, loader, options=options)
    index = build_index(scene, params)
    target = index_dir_for(scene_dir, scene.scene_id)
    if target.resolve() != Path(scene.root).resolve():
        _rebase_paths(index, Path(scene.root), target)
    if target != cached.parent:
        remove_temps_of(target / INDEX_FILENAME)
    save_index(index, target / INDEX_FILENAME)
    return target, index


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


def index_scene_dirs(
    scene_dirs: Sequence[str | Path],
    params: IndexParams | None = None,
    *,
    loader: str | None = None,
    force: bool = False,
    progress: bool = True,
    workers: int = 1,
    loader_opts: dict[str, Any] | None = None,
    executor: str = "process",
) -> list[IndexOutcome]:
    """Index every folder; a failing scene is reported in its outcome and the others go on.

    Args:
        workers: Scenes indexed in parallel (1 = in this process). Outcomes keep the order of
            ``scene_dirs`` either way.
        loader_opts: The loader's options by name (``{"infos": "x.pkl"}``, text or typed
            values), parsed by each scene's loader into its typed options (``docs/loaders.md``).
        executor: ``process``, ``serial`` or ``ray`` (see :mod:`spar3d.pipeline`).
    """
    job = partial(_index_job, params=params or IndexParams(), loader=loader, force=force,
                  loader_opts=loader_opts)  # fmt: skip
    runner = make_executor(executor, workers)
    out = []
    for o in run_jobs(job, list(scene_dirs), runner, label="indexing scenes", progress=progress):
        if o.value is None:
            out.append(IndexOutcome(Path(o.item), "failed", None, o.seconds, o.error))
        else:
            target, index = o.value
            out.append(IndexOutcome(target, _STATUS[o.status], index, o.seconds))
    return out


_STATUS = {"ok": "built", "resumed": "cached"}
