"""Reading predictions made by spar3d or by other harnesses, each through an explicit adapter.

Every adapter turns one line of its format into the **prediction record**, the one typed shape
scoring reads (:class:`PredictionRecord`, schema ``spar3d.prediction/1``):

========== ===============================================================================
field      meaning
========== ===============================================================================
id         the benchmark row's id
task       SPAR-Bench task name
response   the model's raw text, scored as is (both modes re-read it); "" when none arrived
answer     ground truth
question   question text (strict mode reads the options from it); may be ""
failed     the request failed (no response arrived): scores 0 in every mode
========== ===============================================================================

Adapters (``spar3d score --format NAME``; registry :data:`ADAPTERS`, entry-point group
``spar3d.prediction_formats``):

- ``spar3d-run``: ``predictions.jsonl`` of ``spar3d eval`` (has ``raw`` and ``status``); only
  status ``error`` is a failed request, the response is ``raw``.
- ``records``: any JSONL with ``id, task, prediction, answer`` (+ ``question``, ``options``,
  ``status``: anything but "ok" is a failed request).
- ``lmms-eval``: a ``--log_samples`` file of lmms-eval (``<date>_samples_<task>.jsonl``, lines
  built in ``lmms_eval/evaluator.py``: ``doc_id, doc, target, arguments, resps,
  filtered_resps, ...``); the response is ``filtered_resps[0]`` (what lmms-eval's
  ``process_results`` scored), id, task and question come from ``doc``, the answer from
  ``target`` (``doc_to_target: answer``).
- ``plain``: ``{id, prediction}`` only; task, question and answer are joined from the benchmark
  (``--bench``) by id.

Detection (``--format auto``, the default) reads the first non-blank line: ``doc_id`` and
``filtered_resps`` mean ``lmms-eval``; ``raw`` and ``status`` mean ``spar3d-run``; ``task``
means ``records``; ``id`` and ``prediction`` without ``task`` mean ``plain``. Anything else is an
:class:`~spar3d.errors.InputError` naming the file, the line and the keys found.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spar3d.errors import InputError
from spar3d.io import read_jsonl_numbered
from spar3d.registry import Registry

from .metrics import METRICS, Sample
from .tasks import task_kind

SCHEMA = "spar3d.prediction/1"


@dataclass(frozen=True)
class PredictionRecord:
    """One prediction, whatever produced it (see the module docstring)."""

    id: Any
    task: str
    response: str
    answer: str
    question: str = ""
    failed: bool = False
    options: tuple[str, ...] | None = None
    context: str | None = None  # what a grounding answer is lifted with (bench ``context``)

    def to_sample(self) -> Sample:
        return Sample(
            id=self.id,
            task=self.task,
            prediction="" if self.failed else self.response,
            answer=self.answer,
            question=self.question,
            options=self.options,
            failed=self.failed,
            context=self.context,
        )


#: ``adapter(obj, where, context) -> PredictionRecord``; ``context`` holds e.g. the bench rows.
Adapter = Callable[[Mapping[str, Any], str, Mapping[str, Any]], PredictionRecord]
ADAPTERS: Registry[Adapter] = Registry("prediction format", "spar3d.prediction_formats")


def _text(value: Any, field: str, where: str, *, required: bool = True) -> str:
    """A string field; ``None`` is missing (never the text "None"), numbers become their text."""
    if value is None:
        if required:
            raise InputError(f"{where}: field {field!r} is null")
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise InputError(f"{where}: field {field!r} must be a string, got {type(value).__name__}")


def _task(value: Any, where: str) -> str:
    try:
        kind = task_kind(value)
    except (KeyError, TypeError):
        raise InputError(f"{where}: field 'task' has unknown task {value!r}") from None
    if f"{kind}:compat" not in METRICS:  # a benchmark with its own scorer (the BEV probe)
        raise InputError(
            f"{where}: field 'task': {value!r} is not scored here (its benchmark has its own "
            "scorer; for the BEV probe: spar3d probe score)"
        )
    return str(value)


def _need(obj: Mapping[str, Any], names: tuple[str, ...], where: str) -> None:
    for name in names:
        if name not in obj:
            raise InputError(f"{where}: missing field {name!r}")


def _options(obj: Mapping[str, Any], where: str) -> tuple[str, ...] | None:
    options = obj.get("options")
    if options is None:
        return None
    if not isinstance(options, (list, tuple)):
        raise InputError(f"{where}: field 'options' must be a list, got {type(options).__name__}")
    return tuple(_text(o, "options", where) for o in options)


@ADAPTERS.register("spar3d-run")
def from_run(obj: Mapping[str, Any], where: str, context: Mapping[str, Any]) -> PredictionRecord:
    """A line of ``spar3d eval``'s ``predictions.jsonl``."""
    _need(obj, ("id", "task", "answer", "status"), where)
    failed = obj["status"] == "error"
    return PredictionRecord(
        id=obj["id"],
        task=_task(obj["task"], where),
        response="" if failed else _text(obj.get("raw"), "raw", where, required=False),
        answer=_text(obj["answer"], "answer", where),
        question=_text(obj.get("question"), "question", where, required=False),
        failed=failed,
        options=_options(obj, where),
        context=_text(obj.get("context"), "context", where, required=False) or None,
    )


@ADAPTERS.register("records")
def from_records(
    obj: Mapping[str, Any], where: str, context: Mapping[str, Any]
) -> PredictionRecord:
    """``{id, task, prediction, answer}`` (+ ``question``, ``options``, ``status``)."""
    failed = obj.get("status", "ok") != "ok"
    _need(
        obj, ("id", "task", "answer") if failed else ("id", "task", "prediction", "answer"), where
    )
    return PredictionRecord(
        id=obj["id"],
        task=_task(obj["task"], where),
        response="" if failed else _text(obj["prediction"], "prediction", where, required=False),
        answer=_text(obj["answer"], "answer", where),
        question=_text(obj.get("question"), "question", where, required=False),
        failed=failed,
        options=_options(obj, where),
    )


def _first_response(value: Any, where: str) -> str:
    # filtered_resps holds one entry per request; generate_until gives a string (or a list of
    # strings when a filter keeps several).
    while isinstance(value, list):
        if not value:
            return ""
        value = value[0]
    return _text(value, "filtered_resps", where, required=False)


@ADAPTERS.register("lmms-eval")
def from_lmms_eval(
    obj: Mapping[str, Any], where: str, context: Mapping[str, Any]
) -> PredictionRecord:
    """A line of an lmms-eval ``--log_samples`` file (task ``sparbench`` or an exported one)."""
    _need(obj, ("doc", "filtered_resps"), where)
    doc = obj["doc"]
    if not isinstance(doc, Mapping):
        raise InputError(f"{where}: field 'doc' must be an object")
    _need(doc, ("id", "task"), f"{where} doc")
    answer = obj.get("target", doc.get("answer"))
    return PredictionRecord(
        id=doc["id"],
        task=_task(doc["task"], f"{where} doc"),
        response=_first_response(obj["filtered_resps"], where),
        answer=_text(answer, "target", where),
        question=_text(doc.get("question"), "question", f"{where} doc", required=False),
    )


@ADAPTERS.register("plain")
def from_plain(obj: Mapping[str, Any], where: str, context: Mapping[str, Any]) -> PredictionRecord:
    """``{id, prediction}``; the rest comes from the benchmark (``context["bench"]``)."""
    _need(obj, ("id", "prediction"), where)
    bench = context.get("bench")
    if bench is None:
        raise InputError(f"{where}: {{id, prediction}} lines need the benchmark: pass --bench")
    row = bench.get(obj["id"])
    if row is None:
        raise InputError(f"{where}: id {obj['id']!r} is not in the benchmark")
    return PredictionRecord(
        id=obj["id"],
        task=row["task"],
        response=_text(obj["prediction"], "prediction", where, required=False),
        answer=row["answer"],
        question=row["question"],
    )


def detect_format(obj: Any, where: str) -> str:
    """The adapter name for a first line (see the module docstring)."""
    if not isinstance(obj, Mapping):
        raise InputError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    keys = set(obj)
    if {"doc_id", "filtered_resps"} <= keys:
        return "lmms-eval"
    if {"raw", "status"} <= keys:
        return "spar3d-run"
    if "task" in keys:
        return "records"
    if {"id", "prediction"} <= keys:
        return "plain"
    raise InputError(
        f"{where}: cannot tell the predictions format from the keys {sorted(keys)}; "
        "pass --format spar3d-run|records|lmms-eval|plain"
    )


def bench_rows(path: str | Path) -> dict[Any, dict[str, str]]:
    """``id -> {task, question, answer}`` of a benchmark (Parquet file or folder), no images."""
    import pyarrow.parquet as pq

    from spar3d.bench.eval.dataset import bench_files

    rows: dict[Any, dict[str, str]] = {}
    for file in bench_files(path):
        table = pq.read_table(file, columns=["id", "task", "question", "answer"])
        for i, row in enumerate(table.to_pylist()):
            where = f"{file} row {i}"
            rows[row["id"]] = {
                "task": _task(row["task"], where),
                "question": _text(row["question"], "question", where, required=False),
                "answer": _text(row["answer"], "answer", where),
            }
    return rows


def read_predictions(
    path: str | Path, fmt: str = "auto", bench: str | Path | None = None
) -> Iterator[PredictionRecord]:
    """Stream the records of a predictions file through its adapter, refusing repeated ids.

    Args:
        path: A JSON Lines file.
        fmt: An adapter name from :data:`ADAPTERS`, or ``auto`` (detected from the first line).
        bench: The benchmark, needed by ``plain`` (joined by id).

    Raises:
        InputError: Malformed JSON, a field missing or of the wrong type, an unknown task, an
            undetectable format, or an id seen before (naming both lines).
    """
    path = Path(path)
    context: dict[str, Any] = {"bench": bench_rows(bench) if bench is not None else None}
    adapter: Adapter | None = None if fmt == "auto" else ADAPTERS.get(fmt)
    seen: set[Any] = set()  # ids only (a set of 1 M ints is ~60 MB); lines are found on error
    for lineno, obj in read_jsonl_numbered(path):
        where = f"{path}:{lineno}"
        if adapter is None:
            adapter = ADAPTERS.get(detect_format(obj, where))
        record = adapter(obj, where, context)
        if not _hashable(record.id):
            raise InputError(f"{where}: field 'id' must be a string or number")
        if record.id in seen:
            first = _first_line_with_id(path, adapter, context, record.id)
            raise InputError(
                f"{where}: duplicate id {record.id!r} (first at line {first}); "
                "each sample may be scored once"
            )
        seen.add(record.id)
        yield record
    if not seen:
        raise InputError(f"{path}: no predictions in the file")


def _first_line_with_id(
    path: Path, adapter: Adapter, context: Mapping[str, Any], ident: Any
) -> int:
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if line.strip() and adapter(json.loads(line), "", context).id == ident:
                return lineno
    return 0


def _hashable(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)
