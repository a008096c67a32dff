"""Scoring a set of predictions: per-sample metrics, per-task means, levels and overall."""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .metrics import METRICS, MODES, Sample
from .records import read_samples, to_samples
from .tasks import LEVEL_NAMES, level_of, task_kind


@dataclass
class ScoreResult:
    """Scores of one run in one mode.

    Aggregates (``overall``, ``levels``, ``tasks``) are percentages 0-100; ``per_sample``
    scores are fractions in [0, 1]. A level with no task present is None.

    Attributes:
        mode: "compat" or "strict".
        overall: Mean of the per-task means.
        levels: Mean of the per-task means of each level ("Low", "Medium", "High").
        tasks: Per-task mean.
        n: Samples per task.
        failures: Failed requests (status != "ok") per task; they score 0 and count in ``n``.
        per_sample: ``(id, task, score)`` in input order (empty when scored with
            ``keep_ids=False``, see :func:`score_stream`).
        task_scores: Per-sample scores (0-1) of each task, in input order (what the bootstrap
            resamples); compact arrays, 8 bytes a sample.
    """

    mode: str
    overall: float | None
    levels: dict[str, float | None]
    tasks: dict[str, float]
    n: dict[str, int]
    failures: dict[str, int] = field(default_factory=dict)
    per_sample: list[tuple[Any, str, float]] = field(default_factory=list)
    task_scores: dict[str, Sequence[float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"mode", "overall", "levels", "tasks", "n"}``, scores 0-100."""
        return {
            "mode": self.mode,
            "overall": self.overall,
            "levels": dict(self.levels),
            "tasks": dict(self.tasks),
            "n": dict(self.n),
        }


def available_modes() -> list[str]:
    """Scoring modes: the built-in ``compat`` and ``strict``, then any mode a plugin registers
    in :data:`METRICS` for every kind (``numeric:<mode>``, ``choice:<mode>``, ``vci:<mode>``)."""
    by_mode: dict[str, set[str]] = defaultdict(set)
    for name in METRICS.names():
        kind, _, mode = name.partition(":")
        by_mode[mode].add(kind)
    kinds = {"numeric", "choice", "vci"}
    extra = sorted(m for m, k in by_mode.items() if kinds <= k and m not in MODES)
    return [*MODES, *extra]


def _check_mode(mode: str) -> None:
    if mode in MODES:
        return
    modes = available_modes()
    if mode not in modes:
        raise ValueError(f"unknown scoring mode {mode!r}; expected one of {', '.join(modes)}")


def sample_score(sample: Sample, mode: str) -> float:
    """Score of one sample in [0, 1]; a failed request scores 0 without being parsed."""
    if sample.failed:
        return 0.0
    return float(METRICS.get(f"{task_kind(sample.task)}:{mode}")(sample))


def aggregate(
    task_scores: Mapping[str, Sequence[float]], mode: str
) -> tuple[float | None, dict[str, float | None], dict[str, float]]:
    """Per-task means, levels and overall (all 0-100) from per-sample scores (0-1).

    Follows the published aggregation: tasks in sorted order; a task's score is its mean;
    overall is the plain mean of the task means; a level is the mean of the task means that
    :func:`level_of` puts in it (in compat mode view_change_infer is in no level).
    """
    _check_mode(mode)
    means = {t: float(np.mean(np.asarray(task_scores[t], dtype=np.float64)))
             for t in sorted(task_scores) if task_scores[t]}  # fmt: skip
    overall = sum(means.values()) / len(means) if means else None
    members: dict[str, list[float]] = {name: [] for name in LEVEL_NAMES}
    for task, value in means.items():
        level = level_of(task, mode)
        if level is not None:
            members[level].append(value)
    levels = {k: float(np.mean(v)) * 100.0 if v else None for k, v in members.items()}
    return (
        overall * 100.0 if overall is not None else None,
        levels,
        {t: v * 100.0 for t, v in means.items()},
    )


def score_stream(
    samples: Iterable[Sample], modes: Sequence[str] = ("compat",), keep_ids: bool = True
) -> list[ScoreResult]:
    """Score samples in one pass, in every mode of ``modes``, holding no sample.

    Memory grows by 8 bytes per sample and mode (the per-task score arrays the bootstrap needs),
    plus the ``(id, task, score)`` tuples when ``keep_ids``; 1 M predictions scored in both modes
    without ids stay far under 300 MB (``benchmarks/bench_score_memory.py``).
    """
    for mode in modes:
        _check_mode(mode)
    per_task: dict[str, dict[str, array[float]]] = {
        m: defaultdict(lambda: array("d")) for m in modes
    }
    failures: dict[str, int] = defaultdict(int)
    per_sample: dict[str, list[tuple[Any, str, float]]] = {m: [] for m in modes}
    for s in samples:
        for mode in modes:
            score = sample_score(s, mode)
            per_task[mode][s.task].append(score)
            if keep_ids:
                per_sample[mode].append((s.id, s.task, score))
        if s.failed:
            failures[s.task] += 1
    results = []
    for mode in modes:
        overall, levels, tasks = aggregate(per_task[mode], mode)
        results.append(
            ScoreResult(
                mode=mode,
                overall=overall,
                levels=levels,
                tasks=tasks,
                n={t: len(per_task[mode][t]) for t in tasks},
                failures={t: failures.get(t, 0) for t in tasks},
                per_sample=per_sample[mode],
                task_scores=dict(per_task[mode]),
            )
        )
    return results


def score_samples(samples: Iterable[Sample], mode: str = "compat") -> ScoreResult:
    """Score already-validated samples (see :func:`score_records`)."""
    return score_stream(samples, (mode,))[0]


def score_records(records: Iterable[Mapping[str, Any]], mode: str = "compat") -> ScoreResult:
    """Score prediction records.

    Args:
        records: Dicts with ``id``, ``task``, ``prediction``, ``answer`` and optionally
            ``question``, ``options``, ``status``.
        mode: "compat" (bit-for-bit the published scorer, quirks included) or "strict".

    Raises:
        ValueError: for an unknown mode, or a record with a missing field or unknown task
            (naming the record).
    """
    _check_mode(mode)
    return score_samples(to_samples(records), mode)


def score_file(path: str | Path, mode: str = "compat") -> ScoreResult:
    """Score a JSON Lines predictions file; errors name the file and line."""
    _check_mode(mode)
    return score_samples(read_samples(path), mode)
