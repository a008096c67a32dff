"""Typed task parameters: one frozen dataclass per task (or family), checked when it is made.

A task declares ``Params``, a frozen subclass of :class:`TaskParams` whose fields are its knobs
with their types and defaults; ``__post_init__`` checks ranges and raises
:class:`spar3d.errors.ConfigError` naming the field. The task reads ``self.params.<field>``.
``spar3d generate --task-param task.key=value`` reads a value as the field's type
(:meth:`TaskParams.parse`); the fields set to other than their default are recorded in each
sample's ``meta.task_params`` and every field enters the run fingerprint
(:func:`spar3d.generate.run_config`), as :class:`spar3d.index.builder.IndexParams` is stored in the
index it made. The view strategies bring their own fields (:class:`MultiViewParams`,
:class:`VideoParams`); a family's variants combine them with the question's by inheritance.
"""

from __future__ import annotations

import sys
from dataclasses import MISSING, Field, asdict, dataclass, field, fields, make_dataclass
from typing import Any

from spar3d.errors import ConfigError, check_number

_TYPES: dict[str, type] = {"int": int, "float": float, "bool": bool}


def knob(
    default: Any, *, minimum: float | None = None, maximum: float | None = None,
    above: float | None = None,
) -> Any:  # fmt: skip
    """A parameter field: its default and the range :class:`TaskParams` checks (``minimum`` /
    ``maximum`` inclusive, ``above`` exclusive)."""
    return field(default=default, metadata={"minimum": minimum, "maximum": maximum, "above": above})


@dataclass(frozen=True)
class TaskParams:
    """Base of every task's parameters (none here). Fields are ``int``, ``float`` or ``bool``;
    values are coerced to the declared type (an integral float to ``int``, ``1``/``0`` to
    ``bool``) and must be finite."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = self._coerce(f.name, getattr(self, f.name))
            object.__setattr__(self, f.name, value)
            _check_bounds(f, value)

    @classmethod
    def kind(cls, name: str) -> type:
        """The declared type of field ``name`` (``int``, ``float`` or ``bool``)."""
        f = {f.name: f for f in fields(cls)}[name]
        t = f.type if isinstance(f.type, type) else _TYPES.get(str(f.type))
        if t is None:
            raise TypeError(f"{cls.__name__}.{name}: type {f.type!r} is not int, float or bool")
        return t

    def _coerce(self, name: str, value: Any) -> Any:
        kind = self.kind(name)
        if kind is bool:
            if isinstance(value, bool) or value in (0, 1):
                return bool(value)
            raise ConfigError(f"{name}: expected true or false, got {value!r}")
        v = check_number(name, value)
        if kind is int:
            if v != int(v):
                raise ConfigError(f"{name}: expected a whole number, got {value!r}")
            return int(v)
        return v

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every field's default, by name (what ``spar3d tasks`` lists)."""
        return {f.name: f.default for f in fields(cls) if f.default is not MISSING}

    @classmethod
    def parse(cls, name: str, text: str) -> Any:
        """``text`` read as field ``name``'s type (``true``/``false`` for booleans).

        Raises:
            ConfigError: saying what the field takes and its default.
        """
        kind, default = cls.kind(name), cls.defaults()[name]
        raw = text.strip().lower()
        if kind is bool:
            table = {"true": True, "false": False, "1": True, "0": False}
            if raw not in table:
                raise ConfigError(f"{name} is true or false (default {default}), got {text!r}")
            return table[raw]
        try:
            value = float(raw)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise ConfigError(f"{name} is {what} (default {default:g}), got {text!r}") from None
        return value

    def as_dict(self) -> dict[str, Any]:
        """Every field and its value (what the run fingerprint hashes)."""
        return asdict(self)

    def overrides(self) -> dict[str, Any]:
        """The fields set to other than their default, sorted by name (``meta.task_params``)."""
        d = self.defaults()
        return {k: v for k, v in sorted(self.as_dict().items()) if v != d.get(k, MISSING)}


def _check_bounds(f: Field[Any], value: Any) -> None:
    m = f.metadata
    if m.get("above") is not None:
        check_number(f.name, value, minimum=m["above"], exclusive_minimum=True)
    check_number(f.name, value, minimum=m.get("minimum"), maximum=m.get("maximum"))


def check_range(lo_name: str, lo: float, hi_name: str, hi: float) -> None:
    """``ConfigError`` unless ``lo <= hi`` (a ``min_*`` / ``max_*`` pair)."""
    if lo > hi:
        raise ConfigError(f"need {lo_name} <= {hi_name}, got {lo:g} and {hi:g}")


@dataclass(frozen=True)
class MultiViewParams(TaskParams):
    """Views of a multi-view sample: ``min_views``..``max_views`` images (2-5)."""

    min_views: int = knob(2, minimum=2, maximum=5)
    max_views: int = knob(3, minimum=2, maximum=5)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range("min_views", self.min_views, "max_views", self.max_views)


@dataclass(frozen=True)
class VideoParams(TaskParams):
    """The scene's video: at most ``max_frames`` keyframes; none under ``min_frames``."""

    max_frames: int = knob(32, minimum=1)
    min_frames: int = knob(4, minimum=1)


def _publish(cls: type[TaskParams], module: str) -> type[TaskParams]:
    """Name a made class in ``module`` so that it pickles (process pools send tasks whole)."""
    cls.__module__ = module
    cls.__qualname__ = cls.__name__
    setattr(sys.modules[module], cls.__name__, cls)
    return cls


_COMBINED: dict[tuple[type[TaskParams], type[TaskParams]], type[TaskParams]] = {}


def with_fields_of(params: type[TaskParams], other: type[TaskParams]) -> type[TaskParams]:
    """``params`` with ``other``'s fields too (a family variant's parameters: the question's
    plus its view strategy's), as a frozen dataclass deriving from both; one class per pair,
    named in ``params``' module (``MinDistanceParams`` + ``VideoParams`` ->
    ``MinDistanceVideoParams``)."""
    if issubclass(other, params):
        return other
    made = _COMBINED.get((params, other))
    if made is None:
        name = params.__name__.removesuffix("Params") + other.__name__
        made = dataclass(frozen=True)(type(name, (params, other), {}))
        _COMBINED[(params, other)] = made = _publish(made, params.__module__)
    return made


def params_from_defaults(name: str, defaults: dict[str, Any], module: str) -> type[TaskParams]:
    """A :class:`TaskParams` class made from a plain ``defaults`` dict (a third-party task that
    declares ``defaults`` instead of ``Params``): each field typed as its default's type; named
    ``name`` in ``module`` (the task's) so that it pickles."""
    spec = [
        (k, type(v) if isinstance(v, (bool, int, float)) else float, v) for k, v in defaults.items()
    ]
    return _publish(make_dataclass(name, spec, bases=(TaskParams,), frozen=True), module)
