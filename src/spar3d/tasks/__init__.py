"""Task engine: QA generation from a scene index (see :mod:`spar3d.tasks.base` for the API).

Importing this package imports every module in it, so each built-in task registers itself in
:data:`TASKS`; a new task family is a new module here (or a third-party entry point).
"""

from __future__ import annotations

import importlib
import pkgutil

from spar3d.tasks.base import (
    ChoiceAnswer,
    Facts,
    JudgeFacts,
    NumericAnswer,
    Reject,
    SceneView,
    Task,
    TaskSpec,
    TaskStats,
    derive_seed,
)
from spar3d.tasks.registry import TASKS, create_task, register_task, task_names

_INFRA = {
    "base",
    "registry",
    "templates",
    "options",
    "markers",
    "schema",
    "catalog",
    "common",
    "views",
}


def _import_task_modules() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name not in _INFRA and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_import_task_modules()

__all__ = [
    "TASKS",
    "ChoiceAnswer",
    "Facts",
    "JudgeFacts",
    "NumericAnswer",
    "Reject",
    "SceneView",
    "Task",
    "TaskSpec",
    "TaskStats",
    "create_task",
    "derive_seed",
    "register_task",
    "task_names",
]
