"""Reference points that need no model: ``random``, ``frequency``, ``oracle`` and ``origin``.

``oracle`` answers with the ground truth, so a strict-mode score below 100 means the scorer and
the data disagree somewhere.
"""

from __future__ import annotations

import hashlib
import json
import math
import random as _random
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from spar3d.bench.eval.backends.base import (
    BACKENDS,
    Backend,
    GenerationConfig,
    Outcome,
    Request,
    classify_text,
)
from spar3d.bench.scoring.choice import parse_options
from spar3d.bench.scoring.numbers import strict_number
from spar3d.bench.scoring.tasks import task_kind
from spar3d.bench.scoring.vci import AXES
from spar3d.io import read_jsonl
from spar3d.probe.answer import (
    PROBE_TASK,
    constant_answer,
    format_coords,
    is_probe_task,
    parse_truth,
    question_labels,
)


class _AnswerFunctionBackend(Backend):
    """A backend whose answer is a pure function of the sample (no I/O, never fails)."""

    def answer(self, request: Request) -> str:
        raise NotImplementedError

    def generate(self, requests: Sequence[Request], config: GenerationConfig) -> list[Outcome]:
        outcomes = []
        for request in requests:
            try:
                text = self.answer(request)
            except LookupError as exc:
                outcomes.append(Outcome("error", error=str(exc)))
            else:
                outcomes.append(Outcome(classify_text(text), text=text))
        return outcomes


def _probe_objects(request: Request) -> int:
    """How many objects a BEV probe request asks for (from its question's object list)."""
    n = len(question_labels(request.sample.question))
    if n == 0:
        raise LookupError(f"sample {request.sample.id}: the probe question lists no objects")
    return n


class OracleBackend(_AnswerFunctionBackend):
    def answer(self, request: Request) -> str:
        return request.sample.answer


@BACKENDS.register("oracle")
def oracle() -> OracleBackend:
    """Answers every question with its ground truth (a check that data and scorer agree)."""
    return OracleBackend()


class RandomBackend(_AnswerFunctionBackend):
    def __init__(
        self,
        seed: int,
        numeric_range: tuple[float, float],
        move_max_m: float,
        rotate_max_deg: float,
    ) -> None:
        self.seed = seed
        self.numeric_range = numeric_range
        self.move_max_m = move_max_m
        self.rotate_max_deg = rotate_max_deg

    def _rng(self, request: Request) -> _random.Random:
        # Seeded per sample, so answers do not depend on request order or concurrency.
        return _random.Random(f"{self.seed}:{request.sample.id}")

    def answer(self, request: Request) -> str:
        rng = self._rng(request)
        if is_probe_task(request.sample.task):
            # x across, y ahead within numeric_range: a uniform guess in front of the observer
            lo, hi = self.numeric_range
            n = _probe_objects(request)
            return format_coords([(rng.uniform(-hi, hi), rng.uniform(lo, hi)) for _ in range(n)])
        kind = task_kind(request.sample.task)
        if kind == "choice":
            letters = sorted(parse_options(request.sample.question)) or ["A", "B", "C", "D"]
            return rng.choice(letters)
        if kind == "numeric":
            lo, hi = self.numeric_range
            return f"{rng.uniform(lo, hi):.1f}"
        if kind == "grounding":
            from spar3d.grounding.baselines import random_answer

            return random_answer(rng, len(request.images), self.numeric_range)
        parts = []
        for pos, neg in AXES:  # one signed value per axis, written with its direction's key
            moving = pos.startswith("move")
            limit = self.move_max_m if moving else self.rotate_max_deg
            value = rng.uniform(-limit, limit)
            shown = f"{abs(value):.1f}" if moving else f"{abs(value):.0f}"
            parts.append(f"{pos if value >= 0 else neg}:{shown}")
        return ",".join(parts)


@BACKENDS.register("random")
def random(
    seed: int = 0,
    numeric_range: tuple[float, float] = (0.5, 5.0),
    move_max_m: float = 2.0,
    rotate_max_deg: float = 60.0,
) -> RandomBackend:
    """Uniform guesses: a letter among the question's options, a number, or a camera motion;
    for the BEV probe every object at x in [-hi, hi], y in ``numeric_range``.

    Args:
        seed: Random seed (combined with each sample's id).
        numeric_range: Metres, bounds of the uniform numeric guess (indoor depths and distances).
        move_max_m: Bound of each translation in a view-change guess.
        rotate_max_deg: Bound of each rotation in a view-change guess.
    """
    lo, hi = (float(v) for v in numeric_range)
    if not lo < hi:
        raise ValueError(f"random: numeric_range must be increasing, got {numeric_range}")
    return RandomBackend(int(seed), (lo, hi), float(move_max_m), float(rotate_max_deg))


def _train_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    files = (
        sorted(p for p in path.rglob("*") if p.suffix in {".parquet", ".jsonl", ".json"})
        if path.is_dir()
        else [path]
    )
    if not files:
        raise FileNotFoundError(f"{path}: no .parquet/.jsonl/.json training files")
    for file in files:
        if file.suffix == ".parquet":
            import pyarrow.parquet as pq

            names = pq.ParquetFile(file).schema_arrow.names
            columns = [c for c in ("task", "type", "answer", "conversations") if c in names]
            for i, row in enumerate(pq.read_table(file, columns=columns).to_pylist()):
                yield f"{file} row {i}", row
        elif file.suffix == ".jsonl":
            for i, row in enumerate(read_jsonl(file)):
                yield f"{file} line {i + 1}", row
        else:
            rows = json.loads(file.read_text(encoding="utf-8"))
            if not isinstance(rows, list):
                raise ValueError(f"{file}: expected a JSON list of samples")
            for i, row in enumerate(rows):
                yield f"{file} item {i}", row


def _task_and_answer(row: dict[str, Any], where: str) -> tuple[str, str]:
    """Task and answer of a bench-style row or a SPAR-7M sample (``type`` + ``conversations``)."""
    task = row.get("task") or row.get("type")
    answer = row.get("answer")
    if answer is None and row.get("conversations"):
        answers = [t.get("value") for t in row["conversations"] if t.get("from") == "gpt"]
        answer = answers[-1] if answers else None
    if not task or answer is None:
        raise ValueError(f"{where}: needs 'task' (or 'type') and 'answer' (or a gpt turn)")
    return str(task), str(answer)


def learn_frequent_answers(path: str | Path, round_digits: int = 1) -> dict[str, str]:
    """The most common answer per task in a training split.

    Numeric tasks count answers rounded to ``round_digits`` decimals; other tasks count the
    answer string as is. Ties go to the answer seen first. For the BEV probe the value is the
    median distance of the training objects (metres, as text).
    """
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    probe_distances: list[float] = []
    for where, row in _train_rows(Path(path)):
        task, answer = _task_and_answer(row, where)
        if is_probe_task(task):
            probe_distances += [math.hypot(x, y) for x, y in parse_truth(answer, "", where).coords]
            continue
        try:
            numeric = task_kind(task) == "numeric"
        except KeyError:
            numeric = False  # a training task that is not in the benchmark: counted, never used
        if numeric:
            quantity = strict_number(answer, task)
            if quantity is None:
                raise ValueError(f"{where}: numeric task {task} has no number in {answer!r}")
            answer = f"{round(quantity.value, round_digits):.{round_digits}f}"
        counts[task][answer.strip()] += 1
    answers = {task: c.most_common(1)[0][0] for task, c in counts.items()}
    if probe_distances:  # the probe's prior: every object at the median distance, straight ahead
        answers[PROBE_TASK] = f"{statistics.median(probe_distances):.2f}"
    return answers


class FrequencyBackend(_AnswerFunctionBackend):
    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    def answer(self, request: Request) -> str:
        task = request.sample.task
        if task not in self.answers:
            raise LookupError(f"frequency: no training answers for task {task}")
        if is_probe_task(task):
            return constant_answer(_probe_objects(request), (0.0, float(self.answers[task])))
        return self.answers[task]


class OriginBackend(_AnswerFunctionBackend):
    def answer(self, request: Request) -> str:
        if not is_probe_task(request.sample.task):
            raise LookupError(f"origin: answers only BEV probe rows, not {request.sample.task}")
        return constant_answer(_probe_objects(request), (0.0, 0.0))


@BACKENDS.register("origin")
def origin() -> OriginBackend:
    """BEV probe baseline: every object at the origin (the first camera's floor point)."""
    return OriginBackend()


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.read_bytes())
    return digest.hexdigest()


@BACKENDS.register("frequency")
def frequency(train: str, round_digits: int = 1) -> FrequencyBackend:
    """Answers every question of a task with that task's most common training answer; on the
    BEV probe, every object at the training objects' median distance straight ahead, ``(0, d)``.

    Args:
        train: A training split: Parquet with ``task``/``answer`` columns, SPAR-7M JSONL
            (``type`` + ``conversations``), a JSON list, or a folder of such files.
        round_digits: Decimals numeric answers are rounded to before counting.
    """
    path = Path(train)
    backend = FrequencyBackend(learn_frequent_answers(path, int(round_digits)))
    # The file's content, not only its name, decides the answers; cache keys must see it.
    backend.revision = _file_digest(path)
    return backend
