"""Scoring BEV probe answers: average position error (APE) per object, overall and by distance.

Every object asked for ends in one status:

| status | meaning |
|---|---|
| ``ok`` | the answer gave its ``(x, y)`` |
| ``missing`` | the answer does not name it (this includes an answer that names no object at all) |
| ``malformed`` | the answer names it without two numbers |
| ``failed`` | the request failed (status ``error``): no answer arrived |

An object's APE is the Euclidean distance in metres between predicted and true BEV ``(x, y)``.
Objects without a readable prediction are never dropped silently: they are counted per status
and per distance bin, and with the default policy ``missing="origin"`` they are scored as if
placed at the origin (the answer that carries no information), so every object asked for is in
the mean; ``missing="exclude"`` scores only the objects read (the counts still show the rest).
An object's distance is ``hypot(x, y)`` of its true position (metres from the main view on the
floor), binned as in the paper: 0-1, 1-2, 2-3, 3-5, 5-7, 7-10, >10 m. Statistics: mean, median
(P50) and 90th percentile (P90, linear interpolation) of the APEs.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spar3d.errors import ConfigError, InputError
from spar3d.probe.answer import is_probe_task, parse_answer, parse_truth
from spar3d.probe.build import BIN_LABELS, distance_bin

OBJECT_STATUSES: tuple[str, ...] = ("ok", "missing", "malformed", "failed")
MISSING_POLICIES: tuple[str, ...] = ("origin", "exclude")


@dataclass(frozen=True)
class ObjectScore:
    """One object of one probe row.

    Attributes:
        id: The row's id.
        row: Position of the row among the scored rows (the bootstrap resamples rows).
        index: The object's index in the row (``object<index>``).
        status: One of :data:`OBJECT_STATUSES`.
        truth: True ``(x, y)`` metres.
        prediction: Predicted ``(x, y)``, or None when not read.
        ape: Position error in metres; None when the object is excluded by the policy.
        distance_m: ``hypot`` of the true position.
        bin: Its distance bin.
    """

    id: Any
    row: int
    index: int
    status: str
    truth: tuple[float, float]
    prediction: tuple[float, float] | None
    ape: float | None
    distance_m: float
    bin: str


@dataclass(frozen=True)
class ApeStats:
    """APE statistics of a set of objects (None when no object is scored)."""

    n: int
    mean: float | None
    p50: float | None
    p90: float | None

    @staticmethod
    def of(values: Iterable[float]) -> ApeStats:
        x = np.asarray(list(values), dtype=np.float64)
        if x.size == 0:
            return ApeStats(0, None, None, None)
        p50, p90 = np.quantile(x, [0.5, 0.9])
        return ApeStats(int(x.size), float(x.mean()), float(p50), float(p90))

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "p50": self.p50, "p90": self.p90}


@dataclass
class ProbeResult:
    """Scores of one run on the probe.

    Attributes:
        policy: How unread objects are scored (``origin`` or ``exclude``).
        objects: Every object asked for, in row order.
        rows: Probe rows scored.
        row_status: Rows per response status (``ok``, ``error``, ``empty``, ``truncated``, ...)
            plus ``unparseable`` for responses in which no object could be read.
        rules: Rows per reading rule (``named``, ``labels``, ``ordered``, ``none``).
        extra_names: Object names in answers beyond the ones asked for.
        skipped: Records of other tasks that were not scored, per task.
    """

    policy: str
    objects: list[ObjectScore] = field(default_factory=list)
    rows: int = 0
    row_status: dict[str, int] = field(default_factory=dict)
    rules: dict[str, int] = field(default_factory=dict)
    extra_names: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def overall(self) -> ApeStats:
        return ApeStats.of(o.ape for o in self.objects if o.ape is not None)

    @property
    def bins(self) -> dict[str, ApeStats]:
        return {
            b: ApeStats.of(o.ape for o in self.objects if o.bin == b and o.ape is not None)
            for b in BIN_LABELS
        }

    def status_counts(self, bin_label: str | None = None) -> dict[str, int]:
        """Objects per status, over all objects or one distance bin."""
        c = Counter(o.status for o in self.objects if bin_label is None or o.bin == bin_label)
        return {s: c.get(s, 0) for s in OBJECT_STATUSES}

    def to_dict(self) -> dict[str, Any]:
        """Everything but the per-object list, JSON-ready."""
        return {
            "policy": self.policy,
            "rows": self.rows,
            "objects": len(self.objects),
            "overall": self.overall.to_dict(),
            "bins": {b: s.to_dict() for b, s in self.bins.items()},
            "object_status": self.status_counts(),
            "object_status_by_bin": {b: self.status_counts(b) for b in BIN_LABELS},
            "row_status": dict(self.row_status),
            "rules": dict(self.rules),
            "extra_names": self.extra_names,
            "skipped": dict(self.skipped),
        }


def _failed(record: Mapping[str, Any]) -> bool:
    # Same rule as the SPAR-Bench scorer: in the eval runner's records only "error" is a failed
    # request; elsewhere any status other than "ok" is.
    status = record.get("status", "ok")
    return status == "error" if "raw" in record else status not in (None, "ok")


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


def score_probe_records(
    records: Iterable[Mapping[str, Any]], missing: str = "origin", where: str = "record"
) -> ProbeResult:
    """Score probe prediction records.

    Args:
        records: Dicts with ``id``, ``task``, ``answer`` and ``raw`` (the eval runner's
            ``predictions.jsonl``) or ``prediction``; optionally ``question`` (its labels allow
            the ``labels`` reading) and ``status``. Records of other tasks are skipped and
            counted.
        missing: ``origin`` or ``exclude`` (see the module docstring).
        where: How to name records in errors (``"preds.jsonl"``: lines are appended).

    Raises:
        ConfigError: An unknown policy.
        InputError: A record without ``id``/``task``/``answer``, or a ground truth not in the
            probe's answer format, naming the record.
    """
    if missing not in MISSING_POLICIES:
        raise ConfigError(f"missing policy must be one of {MISSING_POLICIES}, got {missing!r}")
    result = ProbeResult(policy=missing)
    row_status: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for k, record in enumerate(records, start=1):
        name = f"{where} {k}" if not where.endswith(".jsonl") else f"{where}:{k}"
        if not isinstance(record, Mapping):
            raise InputError(f"{name}: expected a JSON object, got {type(record).__name__}")
        lacking = [f for f in ("id", "task", "answer") if f not in record]
        if lacking:
            raise InputError(f"{name}: missing field {lacking[0]!r}")
        if not is_probe_task(str(record["task"])):
            skipped[str(record["task"])] += 1
            continue
        question = _text(record.get("question"))
        try:
            truth = parse_truth(_text(record["answer"]), question, f"{name} (id {record['id']})")
        except ValueError as exc:
            raise InputError(str(exc)) from None
        n = len(truth.coords)
        failed = _failed(record)
        text = "" if failed else _text(record.get("raw", record.get("prediction")))
        parsed = parse_answer(text, n, truth.labels)
        status = str(record.get("status", "ok"))
        if not failed and not parsed.coords and status in ("ok", "truncated"):
            status = "unparseable"
        row_status[status] += 1
        rules[parsed.rule] += 1
        result.extra_names += len(parsed.extra)
        malformed = set(parsed.malformed)
        row = result.rows
        for i, (tx, ty) in enumerate(truth.coords):
            pred = parsed.coords.get(i)
            if failed:
                obj_status = "failed"
            elif pred is not None:
                obj_status = "ok"
            else:
                obj_status = "malformed" if i in malformed else "missing"
            scored = pred if pred is not None else ((0.0, 0.0) if missing == "origin" else None)
            ape = None if scored is None else math.hypot(scored[0] - tx, scored[1] - ty)
            distance = math.hypot(tx, ty)
            result.objects.append(
                ObjectScore(record["id"], row, i, obj_status, (tx, ty), pred, ape, distance,
                            distance_bin(distance))
            )  # fmt: skip
        result.rows += 1
    result.row_status = dict(row_status)
    result.rules = dict(rules)
    result.skipped = dict(skipped)
    return result


def read_probe_records(path: str | Path) -> tuple[list[dict[str, Any]], str]:
    """Records and their name from a run folder (its ``predictions.jsonl``), a JSON Lines file,
    or a probe benchmark (its Parquet file or folder: rows with ``id, task, question, answer``)."""
    from spar3d.io import read_jsonl

    path = Path(path)
    if path.is_dir() and not (path / "predictions.jsonl").is_file():
        from spar3d.bench.eval.dataset import bench_files

        try:
            files = bench_files(path)
        except FileNotFoundError as exc:
            raise InputError(f"{path}: neither a run folder nor a benchmark ({exc})") from None
        return _parquet_rows(files), str(path)
    if path.suffix == ".parquet":
        return _parquet_rows([path]), str(path)
    if path.is_dir():
        path = path / "predictions.jsonl"
    if not path.is_file():
        raise InputError(f"{path}: no predictions file")
    try:
        return list(read_jsonl(path)), str(path)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _parquet_rows(files: list[Path]) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    columns = ["id", "task", "question", "answer"]
    return [r for f in files for r in pq.read_table(f, columns=columns).to_pylist()]


def baseline_records(records: Iterable[Mapping[str, Any]], name: str, distance_m: float = 0.0
                     ) -> list[dict[str, Any]]:  # fmt: skip
    """The records a constant baseline would produce: every object at ``(0, 0)`` (``origin``)
    or at ``(0, distance_m)`` (``median_ahead``); used for the reference rows of a report."""
    from spar3d.probe.answer import constant_answer

    point = (0.0, 0.0) if name == "origin" else (0.0, float(distance_m))
    out = []
    for r in records:
        if not is_probe_task(str(r.get("task"))):
            continue
        n = len(parse_truth(_text(r["answer"])).coords)
        out.append({"id": r["id"], "task": r["task"], "answer": r["answer"],
                    "prediction": constant_answer(n, point)})  # fmt: skip
    return out


def median_distance(records: Iterable[Mapping[str, Any]]) -> float:
    """Median true BEV distance of every object in probe records (the ``median_ahead`` prior)."""
    d = [
        math.hypot(x, y)
        for r in records
        if is_probe_task(str(r.get("task")))
        for x, y in parse_truth(_text(r["answer"])).coords
    ]
    if not d:
        raise InputError("no probe records to take a median distance from")
    return float(np.median(d))


__all__ = [
    "MISSING_POLICIES",
    "OBJECT_STATUSES",
    "ApeStats",
    "ObjectScore",
    "ProbeResult",
    "baseline_records",
    "median_distance",
    "read_probe_records",
    "score_probe_records",
]
