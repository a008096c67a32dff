"""Library entry point of QA generation: scene folders in, a SPAR-7M tree out.

``generate`` loads each scene's index (``spar3d.index.load_index``), runs the chosen tasks with a
seed derived from (seed, scene, task), writes the images the samples use and the scene's QA rows
to a shard in a work folder, then assembles the QA files from the shards and returns a
:class:`GenerateSummary`. Shards carry a marker with the settings, so an interrupted run resumes
where it stopped. A scene that fails (missing index, missing image, ...) is reported in the
summary and does not stop the others.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from rich.table import Table

from spar3d.data.layout import scene_images_dir
from spar3d.errors import ConfigError
from spar3d.index.records import INDEX_FILENAME, SceneIndex, index_file_for, load_index
from spar3d.io import clean_stale_temps, locks_output
from spar3d.pipeline import (
    Resumed,
    RunConfig,
    file_sha256,
    make_executor,
    marker_path,
    read_marker,
    run_jobs,
    write_marker,
)
from spar3d.tasks import SceneView, Task, TaskStats, create_task, task_names
from spar3d.writers.spar7m import (
    ShardGroups,
    assemble_qa_files,
    frames_used,
    write_scene_images,
    write_scene_shard,
)


@dataclass
class GenerateSummary:
    """What a generation run produced.

    Attributes:
        tasks: Counters per task (generated per format, rejected per reason).
        scenes_ok: Scene ids that produced samples.
        scenes_failed: Scene folder -> error message.
        scenes_resumed: Scene ids whose shard an earlier run had finished (not regenerated).
        files: QA files written.
        seconds: Wall time.
        missing_depth: Scene id -> frames written without a depth image (``rgbd`` runs).
        zero_samples: Task -> {why it produced no sample on a scene: number of scenes}.
    """

    tasks: dict[str, TaskStats] = field(default_factory=dict)
    scenes_ok: list[str] = field(default_factory=list)
    scenes_failed: dict[str, str] = field(default_factory=dict)
    scenes_resumed: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    missing_depth: dict[str, int] = field(default_factory=dict)
    zero_samples: dict[str, Counter[str]] = field(default_factory=dict)

    def warnings(self) -> list[str]:
        """One line per kind of problem worth a user's attention (each said once)."""
        out = []
        if self.missing_depth:
            n = sum(self.missing_depth.values())
            out.append(
                f"{n} frame(s) in {len(self.missing_depth)} scene(s) have no depth image "
                f"({', '.join(sorted(self.missing_depth))}): written without depth; the "
                f"samples' 'depth' entries for them are null"
            )
        return out

    @property
    def total(self) -> int:
        return sum(s.total for s in self.tasks.values())

    def table(self) -> Table:
        """A rich table: one row per task with counts per format and rejections by reason."""
        t = Table(
            title=f"{self.total} QA from {len(self.scenes_ok)} scene(s) in {self.seconds:.1f}s"
        )
        t.add_column("task", no_wrap=True)
        for col in ("generated", "per format", "rejected (by reason)", "0 samples (scenes: why)"):
            t.add_column(col)
        for name, st in self.tasks.items():
            per_fmt = ", ".join(f"{k} {v}" for k, v in st.generated.items())
            rej = ", ".join(f"{k} {v}" for k, v in st.rejected.most_common())
            zero = ", ".join(f"{v}: {k}" for k, v in self.zero_samples.get(name, Counter()).items())
            t.add_row(name, str(st.total), per_fmt, rej or "-", zero or "-")
        return t

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "seconds": round(self.seconds, 3),
            "scenes_ok": self.scenes_ok,
            "scenes_failed": self.scenes_failed,
            "scenes_resumed": self.scenes_resumed,
            "files": [str(p) for p in self.files],
            "tasks": {
                n: {"generated": dict(s.generated), "rejected": dict(s.rejected)}
                for n, s in self.tasks.items()
            },
            "missing_depth": self.missing_depth,
            "zero_samples": {n: dict(c) for n, c in self.zero_samples.items()},
        }


ZERO_REASONS = {
    "no_candidate": "no candidate (too few images, objects or co-visible views)",
    "too_few_frames": "too few frames for a video",
}


def zero_sample_reason(stats: TaskStats) -> str:
    """Why a task produced no sample on a scene: its most frequent rejection, in words."""
    reasons = Counter({k: v for k, v in stats.rejected.items() if k != "duplicate"})
    if not reasons:
        return "no candidate"
    top = reasons.most_common(1)[0][0]
    return ZERO_REASONS.get(top, f"every candidate rejected (mostly {top})")


WORK_DIR = ".spar3d_work"
SHARD_FORMAT = 2  # bump when the shard or marker layout changes: old shards are then regenerated


def run_config(
    tasks: Sequence[Task], per_task: int, seed: int, rgbd: bool, keep_meta: bool
) -> RunConfig:
    """Everything besides the scene index that decides a scene's shard: the tasks with their
    versions and parameters, the files they read from the environment, and the settings."""
    return RunConfig(
        "generate",
        SHARD_FORMAT,
        {
            "tasks": [[t.spec.name, t.spec.version, t.params.as_dict()] for t in tasks],
            "per_task": per_task,
            "seed": seed,
            "rgbd": rgbd,
            "keep_meta": keep_meta,
        },
        files=tuple(sorted({str(f) for t in tasks for f in t.input_files()})),
    )


def settings_digest(
    tasks: Sequence[Task], per_task: int, seed: int, rgbd: bool, keep_meta: bool
) -> str:
    """Digest of :func:`run_config` (what a shard's completion marker records)."""
    return run_config(tasks, per_task, seed, rgbd, keep_meta).digest()


def parse_task_params(items: Sequence[str], names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``["task.key=value", ...]`` -> ``{task: {key: value}}``, each value read as the type of the
    field of the task's ``Params`` dataclass (numbers; ``true``/``false`` for switches) and the
    whole set checked by making that dataclass (ranges).

    Raises:
        ConfigError: naming ``--task-param`` and the item (unknown task or key, not a number,
            out of range, a task not selected by ``--tasks``).
    """
    from spar3d.registry import RegistryError
    from spar3d.tasks import TASKS

    out: dict[str, dict[str, Any]] = {}
    given: dict[str, list[str]] = {}
    for item in items:
        head, sep, raw = item.partition("=")
        task, dot, key = head.strip().partition(".")
        if not sep or not dot or not task or not key:
            raise ConfigError(f"--task-param {item!r}: expected task.key=value")
        try:
            cls = TASKS.get(task)
        except RegistryError as exc:
            raise ConfigError(f"--task-param {item!r}: {exc}") from None
        if task not in names:
            raise ConfigError(f"--task-param {item!r}: task {task} is not among --tasks")
        if key not in cls.defaults:
            raise ConfigError(
                f"--task-param {item!r}: {task} has no parameter {key!r}; it declares "
                f"{', '.join(sorted(cls.defaults)) or 'none'}"
            )
        try:
            value = cls.Params.parse(key, raw)
        except ConfigError as exc:
            raise ConfigError(f"--task-param {item!r}: {task}.{exc}") from None
        out.setdefault(task, {})[key] = value
        given.setdefault(task, []).append(item)
    for task, values in out.items():
        try:
            TASKS.get(task).Params(**values)
        except ConfigError as exc:
            items_text = ", ".join(repr(i) for i in given[task])
            raise ConfigError(f"--task-param {items_text}: {task}.{exc}") from None
    return out


def _index_path(scene_dir: str | Path) -> Path:
    return index_file_for(scene_dir)


def shard_name(scene_dir: str | Path) -> str:
    """Work-folder name of a scene: its folder name plus a hash of its absolute path."""
    p = Path(scene_dir).resolve()
    tag = hashlib.sha1(str(p).encode()).hexdigest()[:12]
    name = p.name if p.name != INDEX_FILENAME else p.parent.name
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '_', name)}-{tag}"


def _stats_to_json(stats: dict[str, TaskStats]) -> dict[str, Any]:
    return {
        n: {"generated": dict(s.generated), "rejected": dict(s.rejected), "attempts": s.attempts}
        for n, s in stats.items()
    }


def _stats_from_json(d: dict[str, Any]) -> dict[str, TaskStats]:
    return {
        n: TaskStats(Counter(s["generated"]), Counter(s["rejected"]), int(s["attempts"]))
        for n, s in d.items()
    }


def _finished_marker(
    marker: Path, shard: Path, settings: str, index_sha: str, out_root: str | Path
) -> dict | None:
    """The marker of a complete shard made from the same index and settings, else None."""

    def complete(done: dict[str, Any]) -> bool:
        size = sum(length for _, length, _ in done["groups"].values())
        return shard.stat().st_size == size and scene_images_dir(
            out_root, done["source"], done["scene_id"]
        ).is_dir()

    return read_marker(marker, settings, complete, index_sha256=index_sha)


def _scene_job(
    scene_dir: str | Path,
    *,
    out_root: str | Path,
    work: Path,
    tasks: Sequence[Task],
    per_task: int,
    seed: int,
    rgbd: bool,
    keep_meta: bool,
    settings: str,
) -> dict[str, Any] | Resumed[dict[str, Any]]:
    """Generate one scene into its shard and copy its images, unless an earlier run already did.

    Returns the scene's marker (source, scene id, shard groups, stats), wrapped in
    :class:`~spar3d.pipeline.Resumed` when an earlier run's shard was reused. The marker is
    written after the shard and images, so a run killed mid-scene leaves no marker and the scene
    is regenerated. Errors propagate (``run_jobs`` reports them per scene).
    """
    name = shard_name(scene_dir)
    shard, marker = work / f"{name}.jsonl", marker_path(work / name)
    index_file = _index_path(scene_dir)
    if not index_file.is_file():
        load_index(scene_dir)  # raises its "no scene index; build it with ..." error
    index_sha = file_sha256(index_file)
    done = _finished_marker(marker, shard, settings, index_sha, out_root)
    if done is not None:
        return Resumed(done)
    index = load_index(scene_dir)
    samples, stats = generate_scene(index, tasks, per_task, seed)
    missing: set[str] = set()
    write_scene_images(
        out_root, index, frames_used(samples, index.scene_id), rgbd=rgbd, missing_depth=missing
    )
    groups = write_scene_shard(
        shard, samples, rgbd=rgbd, keep_meta=keep_meta, missing_depth=missing
    )
    done = {
        "scene_dir": str(scene_dir),
        "source": index.source,
        "scene_id": index.scene_id,
        "index_sha256": index_sha,
        "shard": shard.name,
        "groups": groups,
        "stats": _stats_to_json(stats),
        "missing_depth": len(missing),
    }
    write_marker(marker, settings, done)
    return {"config": settings, **done}


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


@locks_output("out_root", "spar3d generate", clean=False)
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
    keep_work: bool = False,
    executor: str = "process",
    task_params: dict[str, dict[str, Any]] | None = None,
    rxr_guide: Sequence[str | Path] | None = None,
) -> GenerateSummary:
    """Generate QA for scenes and write the SPAR-7M layout under ``out_root``.

    Each scene's rows go to a shard ``<out_root>/.spar3d_work/<split>/<scene>-<hash>.jsonl``
    with a ``.done.json`` marker (settings hash, index hash, stats); the QA files are then
    assembled by streaming over the shards in ``scene_dirs`` order, so memory does not grow with
    the number of scenes. A rerun after an interruption or a failed scene reuses every shard made
    from the same index file and settings; the files are byte-identical to an uninterrupted run.

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
        keep_work: Keep the work folder after a run where every scene succeeded (it is always
            kept when a scene failed, so that the rerun resumes).
        executor: ``process`` (this process, or a process pool when ``workers > 1``),
            ``serial`` or ``ray`` (ray tasks on the running cluster, or a local one with
            ``workers`` CPUs; ``out_root`` must be reachable from every node); see
            :mod:`spar3d.pipeline`. The output is the same.
        task_params: Parameter overrides per task (``{"obj_count": {"min_instances": 3}}``,
            see :func:`parse_task_params`); recorded in each sample's ``meta.task_params`` and in
            the resume fingerprint.
        rxr_guide: RxR guide annotation files for ``nav_video`` (default: the
            ``SPAR3D_RXR_GUIDE`` environment variable); part of the resume fingerprint.
    """
    if split not in ("train", "val"):
        raise ConfigError(f"split must be 'train' or 'val', got {split!r}")
    if per_task < 1:
        raise ConfigError(f"per_task must be >= 1, got {per_task}")
    runner = make_executor(executor, workers)
    t0 = time.perf_counter()
    names = task_names(tasks)
    unknown = set(task_params or {}) - set(names)
    if unknown:
        raise ConfigError(f"task_params for task(s) not selected: {sorted(unknown)}")
    task_objs = [create_task(n, (task_params or {}).get(n)) for n in names]
    if rxr_guide is not None:
        for t in task_objs:
            if hasattr(t, "guide_paths"):
                t.guide_paths = [Path(p) for p in rxr_guide]
    summary = GenerateSummary(tasks={t.spec.name: TaskStats() for t in task_objs})
    work = Path(out_root) / WORK_DIR / split
    clean_stale_temps(work)
    job = partial(
        _scene_job, out_root=out_root, work=work, tasks=task_objs, per_task=per_task, seed=seed,
        rgbd=rgbd, keep_meta=keep_meta,
        settings=settings_digest(task_objs, per_task, seed, rgbd, keep_meta),
    )  # fmt: skip
    by_source: dict[str, list[tuple[Path, ShardGroups]]] = defaultdict(list)
    image_dirs: set[Path] = set()
    for outcome in run_jobs(job, scene_dirs, runner, label="generating scenes", progress=progress):
        done = outcome.value
        if done is None:  # one broken scene must not stop the others
            summary.scenes_failed[str(outcome.item)] = outcome.error
            continue
        for name, st in _stats_from_json(done["stats"]).items():
            summary.tasks[name].merge(st)
            if st.total == 0:
                summary.zero_samples.setdefault(name, Counter())[zero_sample_reason(st)] += 1
        if done.get("missing_depth"):
            summary.missing_depth[done["scene_id"]] = int(done["missing_depth"])
        by_source[done["source"]].append((work / done["shard"], done["groups"]))
        image_dirs.add(scene_images_dir(out_root, done["source"], done["scene_id"]))
        summary.scenes_ok.append(done["scene_id"])
        if outcome.status == "resumed":
            summary.scenes_resumed.append(done["scene_id"])
    for folder in image_dirs:  # every worker is done: drop temporaries a killed run left
        clean_stale_temps(folder)
    for source, shards in sorted(by_source.items()):
        summary.files += assemble_qa_files(out_root, source, split, shards)
    if not keep_work and not summary.scenes_failed and work.is_dir():
        shutil.rmtree(work)
        with contextlib.suppress(OSError):  # other splits may still have work in progress
            work.parent.rmdir()
    summary.seconds = time.perf_counter() - t0
    return summary
