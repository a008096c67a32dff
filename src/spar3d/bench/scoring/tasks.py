"""The 20 SPAR-Bench tasks by scoring kind and level, read from :mod:`spar3d.task_table`.

Facts from the published scorer (lmms-eval ``sparbench``), see ``docs/scoring.md``. The table is
the single source; this module names its SPAR-Bench slices and the compat-mode level lookup.
"""

from __future__ import annotations

from typing import Literal

from spar3d.task_table import LEVEL_NAMES, SPAR_BENCH, bench_row, bench_tasks, task_row

Kind = Literal["numeric", "choice", "vci"]

#: Numeric answers scored by mean relative accuracy (MRA). Single-view first, then ``_mv``.
NUMERIC_TASKS: tuple[str, ...] = bench_tasks(SPAR_BENCH, kind="numeric")

#: Multiple-choice answers (an option letter) scored by accuracy.
CHOICE_TASKS: tuple[str, ...] = bench_tasks(SPAR_BENCH, kind="choice")

#: View-change inference: five signed camera-motion axes, MRA per axis.
VCI_TASKS: tuple[str, ...] = bench_tasks(SPAR_BENCH, kind="vci")

ALL_TASKS: tuple[str, ...] = NUMERIC_TASKS + CHOICE_TASKS + VCI_TASKS

#: Level membership as the paper defines it (strict mode uses it as is).
LEVELS: dict[str, tuple[str, ...]] = {
    level: bench_tasks(SPAR_BENCH, level=level) for level in LEVEL_NAMES
}

#: The metric suffix the published scorer appends to each task's result key. Its level lookup
#: drops only the last "_"-separated part of that key, which is why VCI falls out of every level.
_METRIC_SUFFIX: dict[str, str] = {
    "numeric": "MRA:.5:.95:.05",
    "choice": "accuracy",
    "vci": "vci_metric",
}


def task_kind(task: str) -> str:
    """The scoring kind of ``task``; a ``KeyError`` naming the task when it has none."""
    kind = bench_row(task).kind
    assert kind is not None  # a benchmark row always has a kind
    return kind


def is_multi_view(task: str) -> bool:
    """True for the ``_mv`` variants (the published number extraction takes the last number)."""
    return task.endswith("_mv")


def level_of(task: str, mode: str) -> str | None:
    """The level a task's score is averaged into, or None.

    In ``compat`` mode this reproduces the published lookup: the result key is
    ``<task>_<metric suffix>`` and only its last "_" part is dropped, so
    ``view_change_infer_vci_metric`` becomes ``view_change_infer_vci`` and matches no level.
    """
    suffix = _METRIC_SUFFIX.get(task_kind(task))
    if mode == "compat" and suffix is not None:
        task = f"{task}_{suffix}".rsplit("_", 1)[0]
    row = task_row(task)
    return row.level if row is not None and row.benchmark is not None else None
