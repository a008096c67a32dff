"""Turning prediction records (dicts, JSON Lines) into :class:`Sample` objects, with clear errors."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .metrics import Sample
from .tasks import task_kind

REQUIRED_FIELDS: tuple[str, ...] = ("id", "task", "prediction", "answer")


def _text(value: Any) -> str:
    # None (a backend that returned nothing) reads as an empty response; numbers as their text.
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def to_sample(record: Mapping[str, Any], where: str = "record") -> Sample:
    """Validate one prediction record and build its :class:`Sample`.

    Args:
        record: A dict with ``id``, ``task``, ``prediction``, ``answer`` and optionally
            ``question``, ``options`` and ``status`` (anything but "ok" marks a failed request;
            its ``prediction`` may then be missing).
        where: How to name the record in errors, e.g. ``"preds.jsonl:12"``.

    Raises:
        ValueError: naming ``where`` and the field that is missing or wrong.
    """
    if not isinstance(record, Mapping):
        raise ValueError(f"{where}: expected a JSON object, got {type(record).__name__}")
    status = record.get("status", "ok")
    failed = status != "ok"
    for name in REQUIRED_FIELDS:
        if name not in record and not (failed and name == "prediction"):
            raise ValueError(f"{where}: missing field {name!r}")
    task = record["task"]
    try:
        task_kind(task)
    except (KeyError, TypeError):
        raise ValueError(f"{where}: field 'task' has unknown task {task!r}") from None
    options = record.get("options")
    if options is not None and not isinstance(options, (list, tuple)):
        raise ValueError(f"{where}: field 'options' must be a list, got {type(options).__name__}")
    return Sample(
        id=record["id"],
        task=task,
        prediction="" if failed else _text(record.get("prediction")),
        answer=_text(record["answer"]),
        question=_text(record.get("question")),
        options=tuple(_text(o) for o in options) if options else None,
        failed=failed,
    )


def to_samples(records: Iterable[Mapping[str, Any]]) -> Iterator[Sample]:
    """Validate records in order; errors name the record's position (1-based) and its id."""
    for i, record in enumerate(records, start=1):
        ident = record.get("id") if isinstance(record, Mapping) else None
        yield to_sample(record, f"record {i}" + (f" (id {ident!r})" if ident is not None else ""))


def read_samples(path: str | Path) -> Iterator[Sample]:
    """Samples from a JSON Lines file; errors name the file and line number."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: malformed JSON ({exc.msg})") from None
            yield to_sample(record, where)
