"""Index many scene folders through :mod:`spar3d.pipeline`: resume (reuse an index made with the
same parameters), report broken scenes, any executor."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from spar3d.index.builder import IndexParams, build_index, stored_params
from spar3d.index.records import INDEX_FILENAME, SceneIndex, load_index, save_index
from spar3d.pipeline import Resumed, make_executor, run_jobs


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
    """Load one scene, build its index and save it next to the scene.

    An index already there is reused (``cached``) when it was made with the same parameters
    (its stored ``params``, timings aside); otherwise, or with ``force``, it is rebuilt.
    """
    t0 = time.perf_counter()
    result = _index_job(scene_dir, params=params or IndexParams(), loader=loader, force=force)
    status, (target, index) = (
        ("cached", result.value) if isinstance(result, Resumed) else ("built", result)
    )
    return IndexOutcome(target, status, index, time.perf_counter() - t0)


def _index_job(
    scene_dir: str | Path, *, params: IndexParams, loader: str | None, force: bool
) -> tuple[Path, SceneIndex] | Resumed[tuple[Path, SceneIndex]]:
    from spar3d.scenes.loaders import load_scene

    scene_dir = Path(scene_dir)
    cached = scene_dir if scene_dir.is_dir() else index_dir_for(scene_dir, _scene_id_of(scene_dir))
    if not force and (cached / INDEX_FILENAME).is_file():
        existing = load_index(cached)
        stored = {k: v for k, v in existing.params.items() if k != "timings_s"}
        if stored == json.loads(json.dumps(stored_params(params, existing.source))):
            return Resumed((cached, existing))
    scene = load_scene(scene_dir, loader=loader)
    index = build_index(scene, params)
    target = index_dir_for(scene_dir, scene.scene_id)
    if target.resolve() != Path(scene.root).resolve():
        _rebase_paths(index, Path(scene.root), target)
    save_index(index, target / INDEX_FILENAME)
    return target, index


def _scene_id_of(path: Path) -> str:
    name = path.name
    return name[: -len("_vert.npy")] if name.endswith("_vert.npy") else name


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
    for im in index.images:
        for attr in ("color_path", "depth_path"):
            rel = getattr(im, attr)
            if rel:
                setattr(im, attr, Path(os.path.relpath(old_root / rel, new_root)).as_posix())


def index_scene_dirs(
    scene_dirs: Sequence[str | Path],
    params: IndexParams | None = None,
    *,
    loader: str | None = None,
    force: bool = False,
    progress: bool = True,
    workers: int = 1,
    executor: str = "process",
) -> list[IndexOutcome]:
    """Index every folder; a failing scene is reported in its outcome and the others go on.

    Args:
        workers: Scenes indexed in parallel (1 = in this process). Outcomes keep the order of
            ``scene_dirs`` either way.
        executor: ``process``, ``serial`` or ``ray`` (see :mod:`spar3d.pipeline`).
    """
    job = partial(_index_job, params=params or IndexParams(), loader=loader, force=force)
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
