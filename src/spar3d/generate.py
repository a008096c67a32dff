"""Library entry point of QA generation: scene folders in, a SPAR-7M tree out.

``generate`` loads each scene's index (``spar3d.index.load_index``), runs the chosen tasks with a
seed derived from (seed, scene, task), writes the QA files and the images the samples use, and
returns a :class:`GenerateSummary`. A scene that fails (missing index, missing image, ...) is
reported in the summary and does not stop the others.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from rich.table import Table

from spar3d.index.records import SceneIndex, load_index
from spar3d.tasks import SceneView, Task, TaskStats, create_task, task_names
from spar3d.writers.spar7m import frames_used, write_qa_files, write_scene_images


@dataclass
class GenerateSummary:
    """What a generation run produced.

    Attributes:
        tasks: Counters per task (generated per format, rejected per reason).
        scenes_ok: Scene ids that produced samples.
        scenes_failed: Scene folder -> error message.
        files: QA files written.
        seconds: Wall time.
    """

    tasks: dict[str, TaskStats] = field(default_factory=dict)
    scenes_ok: list[str] = field(default_factory=list)
    scenes_failed: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(s.total for s in self.tasks.values())

    def table(self) -> Table:
        """A rich table: one row per task with counts per format and rejections by reason."""
        t = Table(
            title=f"{self.total} QA from {len(self.scenes_ok)} scene(s) in {self.seconds:.1f}s"
        )
        t.add_column("task", no_wrap=True)
        for col in ("generated", "per format", "rejected (by reason)"):
            t.add_column(col)
        for name, st in self.tasks.items():
            per_fmt = ", ".join(f"{k} {v}" for k, v in st.generated.items())
            rej = ", ".join(f"{k} {v}" for k, v in st.rejected.most_common())
            t.add_row(name, str(st.total), per_fmt, rej or "-")
        return t

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "seconds": round(self.seconds, 3),
            "scenes_ok": self.scenes_ok,
            "scenes_failed": self.scenes_failed,
            "files": [str(p) for p in self.files],
            "tasks": {
                n: {"generated": dict(s.generated), "rejected": dict(s.rejected)}
                for n, s in self.tasks.items()
            },
        }


def _scene_job(
    scene_dir: str | Path,
    *,
    out_root: str | Path,
    tasks: Sequence[Task],
    per_task: int,
    seed: int,
    rgbd: bool,
) -> tuple[str, str, list[dict[str, Any]], dict[str, TaskStats]] | str:
    """Generate one scene and copy its images; an error comes back as its message."""
    try:
        index = load_index(scene_dir)
        samples, stats = generate_scene(index, tasks, per_task, seed)
        write_scene_images(out_root, index, frames_used(samples, index.scene_id), rgbd=rgbd)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return index.source, index.scene_id, samples, stats


def _run_scenes(
    job: Callable[[str | Path], Any], scene_dirs: Sequence[str | Path], workers: int, progress: bool
) -> Iterator[tuple[str | Path, Any]]:
    """``(scene_dir, job(scene_dir))`` in input order, in this process or a process pool."""
    from rich.progress import Progress

    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("generating scenes", total=len(scene_dirs))
        if workers <= 1:
            results: Iterator[Any] = map(job, scene_dirs)
        else:
            from concurrent.futures import ProcessPoolExecutor

            pool = ProcessPoolExecutor(max_workers=workers)
            results = pool.map(job, scene_dirs)
        try:
            for scene_dir, result in zip(scene_dirs, results, strict=True):
                bar.advance(task)
                yield scene_dir, result
        finally:
            if workers > 1:
                pool.shutdown()


def generate_scene(
    index: SceneIndex, tasks: Sequence[Task], per_task: int, seed: int
) -> tuple[list[dict[str, Any]], dict[str, TaskStats]]:
    """Samples of every task for one scene, in memory (no files written)."""
    scene = SceneView(index)
    samples: list[dict[str, Any]] = []
    stats: dict[str, TaskStats] = {}
    for task in tasks:
        s, st = task.generate(scene, per_task, seed)
        samples += s
        stats[task.spec.name] = st
    return samples, stats


def generate(
    scene_dirs: Sequence[str | Path],
    out_root: str | Path,
    *,
    split: str = "train",
    tasks: str | list[str] | None = "all",
    per_task: int = 50,
    seed: int = 0,
    rgbd: bool = False,
    keep_meta: bool = True,
    workers: int = 1,
    progress: bool = False,
) -> GenerateSummary:
    """Generate QA for scenes and write the SPAR-7M layout under ``out_root``.

    Args:
        scene_dirs: Scene folders (each holding ``spar3d_index.json``) or index files.
        out_root: Output root; files go to ``<out_root>/<source>/...``.
        split: ``train`` or ``val``.
        tasks: ``"all"``, a comma-separated string or a list of task names.
        per_task: Samples per task per scene, spread round-robin over the task's formats.
        seed: Global seed; each (scene, task) derives its own stream from it.
        rgbd: Also write depth images, poses and intrinsics, and ``depth`` sample fields.
        keep_meta: Keep the ``meta`` provenance field in the written samples.
        workers: Scenes generated in parallel processes; the output is the same for any value
            (samples are merged in ``scene_dirs`` order).
        progress: Show a progress bar over scenes.
    """
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    if per_task < 1:
        raise ValueError(f"per_task must be >= 1, got {per_task}")
    t0 = time.perf_counter()
    task_objs = [create_task(n) for n in task_names(tasks)]
    summary = GenerateSummary(tasks={t.spec.name: TaskStats() for t in task_objs})
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    job = partial(_scene_job, out_root=out_root, tasks=task_objs, per_task=per_task, seed=seed,
                  rgbd=rgbd)  # fmt: skip
    for scene_dir, result in _run_scenes(job, scene_dirs, workers, progress):
        if isinstance(result, str):  # one broken scene must not stop the others
            summary.scenes_failed[str(scene_dir)] = result
            continue
        source, scene_id, samples, stats = result
        for name, st in stats.items():
            summary.tasks[name].merge(st)
        by_source[source] += samples
        summary.scenes_ok.append(scene_id)
    for source, samples in sorted(by_source.items()):
        summary.files += write_qa_files(
            out_root, source, split, samples, rgbd=rgbd, keep_meta=keep_meta
        )
    summary.seconds = time.perf_counter() - t0
    return summary
