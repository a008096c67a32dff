"""Turning prediction records (dicts, JSON Lines) into :class:`Sample` objects, with clear errors.

Every input goes through one adapter of :mod:`spar3d.bench.scoring.adapters` (chosen by name or
detected as documented there); this module keeps the dict-level entry points.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from spar3d.errors import InputError

from .adapters import ADAPTERS, detect_format, read_predictions
from .metrics import Sample

REQUIRED_FIELDS: tuple[str, ...] = ("id", "task", "prediction", "answer")


def to_sample(record: Mapping[str, Any], where: str | None = None, fmt: str = "auto") -> Sample:
    """Validate one prediction record and build its :class:`Sample`.

    Args:
        record: A dict in one of the formats of :mod:`~spar3d.bench.scoring.adapters`
            (``records``: ``id``, ``task``, ``prediction``, ``answer`` and optionally
            ``question``, ``options``, ``status``; ``spar3d-run``: the eval runner's lines).
        where: How to name the record in errors, e.g. ``"preds.jsonl:12"``.
        fmt: Adapter name, or ``auto`` to detect it from the record's keys.

    Raises:
        InputError: naming ``where`` and the field that is missing or wrong.
    """
    place = where or "record"
    name = detect_format(record, place) if fmt == "auto" else fmt
    return ADAPTERS.get(name)(record, place, {}).to_sample()


def to_samples(records: Iterable[Mapping[str, Any]], fmt: str = "auto") -> Iterator[Sample]:
    """Validate records in order (one format, detected from the first); errors name the record's
    position (1-based) and its id; a repeated id is refused."""
    seen: dict[Any, int] = {}
    for i, record in enumerate(records, start=1):
        ident = record.get("id") if isinstance(record, Mapping) else None
        where = f"record {i}" + (f" (id {ident!r})" if ident is not None else "")
        if fmt == "auto":
            fmt = detect_format(record, where)
        sample = to_sample(record, where, fmt)
        key = (type(sample.id).__name__, sample.id)
        if key in seen:
            raise InputError(f"{where}: duplicate id {sample.id!r} (first at record {seen[key]})")
        seen[key] = i
        yield sample


def read_samples(
    path: str | Path, fmt: str = "auto", bench: str | Path | None = None
) -> Iterator[Sample]:
    """Samples from a JSON Lines file (streamed); errors name the file and line number."""
    return (r.to_sample() for r in read_predictions(path, fmt, bench))
