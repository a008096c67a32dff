"""The task registry: ``TASKS`` maps a task name to its :class:`~spar3d.tasks.base.Task` class.

Built-in tasks register on import of ``spar3d.tasks`` (every module of the package is imported).
Third-party packages add tasks through the ``spar3d.tasks`` entry-point group, pointing either at
a Task subclass (registered under the entry point's name) or at a module that registers on import.
"""

from __future__ import annotations

from spar3d.registry import Registry
from spar3d.tasks.base import Task

TASKS: Registry[type[Task]] = Registry("task", "spar3d.tasks")


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator registering a task under ``cls.spec.name``."""
    TASKS.add(cls.spec.name, cls)
    return cls


def task_names(names: str | list[str] | None = None) -> list[str]:
    """Resolve ``"all"`` / None / a comma-separated string / a list into registered names.

    Raises:
        spar3d.registry.RegistryError: for an unknown name (the message lists the known ones).
    """
    if names is None or names == "all" or names == ["all"]:
        return sorted(TASKS.names())
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    for n in names:
        TASKS.get(n)
    return list(dict.fromkeys(names))


def create_task(name: str, params: dict[str, float] | None = None) -> Task:
    """An instance of the registered task ``name``."""
    return TASKS.get(name)(params)
