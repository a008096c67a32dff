"""Turning prediction records (dicts, JSON Lines) into :class:`Sample` objects, with clear errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from .metrics import METRICS, Sample
from .tasks import task_kind

REQUIRED_FIELDS: tuple[str, ...] = ("id", "task", "prediction", "answer")


def _text(value: Any) -> str:
    # None (a backend that returned nothing) reads as an empty response; numbers as their text.
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def to_sample(record: Mapping[str, Any], where: str | None = None) -> Sample:
    """Validate one prediction record and build its :class:`Sample`.

    Args:
        record: A dict with ``id``, ``task``, ``prediction``, ``answer`` and optionally
            ``question``, ``options`` and ``status`` (anything but "ok" marks a failed request;
            its ``prediction`` may then be missing). A record of the eval runner (one with a
            ``raw`` field) is scored on ``raw``, and only status "error" marks it failed.
        where: How to name the record in errors, e.g. ``"preds.jsonl:12"`` (callers that
            loop add it on error instead, so the happy path builds no strings).

    Raises:
        ValueError: naming ``where`` and the field that is missing or wrong.
    """
    if where is not None:
        return _located(record, lambda: where)
    if not isinstance(record, dict) and not isinstance(record, Mapping):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    status = record.get("status", "ok")
    from_runner = "raw" in record
    # The eval runner's predictions.jsonl keeps the response in ``raw`` and its own strict
    # extraction in ``prediction``; its statuses truncated/unparseable/empty describe a response
    # that did arrive (lmms-eval would score it), so there only "error" is a failed request.
    failed = status == "error" if from_runner else status != "ok"
    for name in REQUIRED_FIELDS:
        if name not in record and not ((failed or from_runner) and name == "prediction"):
            raise ValueError(f"missing field {name!r}")
    task = record["task"]
    try:
        kind = task_kind(task)
    except (KeyError, TypeError):
        raise ValueError(f"field 'task' has unknown task {task!r}") from None
    if f"{kind}:compat" not in METRICS:  # a benchmark with its own scorer (the BEV probe)
        raise ValueError(
            f"field 'task': {task!r} is not scored here (its benchmark has its own scorer; "
            "for the BEV probe: spar3d probe score)"
        )
    options = record.get("options")
    if options is not None and not isinstance(options, (list, tuple)):
        raise ValueError(f"field 'options' must be a list, got {type(options).__name__}")
    return Sample(
        id=record["id"],
        task=task,
        prediction="" if failed else _text(record.get("raw" if from_runner else "prediction")),
        answer=_text(record["answer"]),
        question=_text(record.get("question")),
        options=tuple(_text(o) for o in options) if options else None,
        failed=failed,
        context=_text(record["context"]) if record.get("context") else None,
    )


def _located(record: Any, locate: Callable[[], str]) -> Sample:
    # The location string is built only when there is an error to report.
    try:
        return to_sample(record)
    except ValueError as exc:
        raise ValueError(f"{locate()}: {exc}") from None


def _describe(i: int, record: Any) -> str:
    ident = record.get("id") if isinstance(record, Mapping) else None
    return f"record {i}" + (f" (id {ident!r})" if ident is not None else "")


def _at_line(path: Path, lineno: int) -> str:
    return f"{path}:{lineno}"


def to_samples(records: Iterable[Mapping[str, Any]]) -> Iterator[Sample]:
    """Validate records in order; errors name the record's position (1-based) and its id."""
    for i, record in enumerate(records, start=1):
        yield _located(record, partial(_describe, i, record))


def read_samples(path: str | Path) -> Iterator[Sample]:
    """Samples from a JSON Lines file; errors name the file and line number."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: malformed JSON ({exc.msg})") from None
            yield _located(record, partial(_at_line, path, lineno))
