"""One small registry mechanism, reused for loaders, tasks, model backends and metrics.

Third-party components register through an entry-point group (``spar3d.<kind>``), loaded lazily
the first time a registry is queried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from spar3d.errors import Spar3dError

T = TypeVar("T")


class RegistryError(Spar3dError, KeyError):
    """Raised for an unknown or duplicate registry name (a ``LookupError``)."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """A name -> component mapping with a decorator and entry-point discovery.

    Args:
        kind: Human-readable kind ("task", "loader", ...), used in error messages.
        entry_point_group: Entry-point group scanned for third-party components.
    """

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._items: dict[str, T] = {}
        self._entry_points_loaded = False

    def register(self, name: str, *, replace: bool = False) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name``."""

        def deco(obj: T) -> T:
            self.add(name, obj, replace=replace)
            return obj

        return deco

    def add(self, name: str, obj: T, *, replace: bool = False) -> None:
        if name in self._items and not replace and self._items[name] is not obj:
            raise RegistryError(f"{self.kind} {name!r} is already registered")
        self._items[name] = obj

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded or self.entry_point_group is None:
            return
        self._entry_points_loaded = True
        from importlib import metadata  # imported here: it costs ~10 ms at start-up

        for ep in metadata.entry_points(group=self.entry_point_group):
            obj = ep.load()
            # An entry point may point at the component itself or at a module that registers
            # itself on import; only the former needs adding here.
            if not hasattr(obj, "__path__") and ep.name not in self._items:
                self._items[ep.name] = obj

    def get(self, name: str) -> T:
        self._load_entry_points()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "(none)"
            raise RegistryError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        self._load_entry_points()
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> list[tuple[str, T]]:
        self._load_entry_points()
        return list(self._items.items())
