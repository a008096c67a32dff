"""Run a backend over SPAR-Bench: cached, resumable, with a progress bar, then score.

The run folder holds:

- ``config.json``: backend name, settings and revision (never a secret), prompt and generation
  config, benchmark path and revision, limit.
- ``cache.jsonl``: every raw answer as it arrives (see :mod:`spar3d.bench.eval.cache`).
- ``predictions.jsonl``: one line per selected sample, in benchmark order.
- ``timings.json`` and ``scores.json`` (both scoring modes, per-sample scores, PARTIAL flag).
- ``.spar3d.lock``: held while a run writes (a second run into the folder is refused).

Before asking anything the backend's :meth:`~Backend.preflight` runs (server reachable, key
accepted, model served, the largest image count accepted). During the run the first failure of
each kind is printed as it happens, and ``fail_fast`` identical client errors (HTTP 4xx: the
request itself is refused, asking again cannot help) stop the run with that error.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from spar3d.bench.eval.backends.base import Backend, GenerationConfig, Outcome, Request
from spar3d.bench.eval.cache import AnswerCache, cache_key
from spar3d.bench.eval.dataset import BenchSample, bench_revision, load_bench
from spar3d.bench.eval.extract import extract_answer
from spar3d.bench.eval.prompts import DEFAULT_PRESET, PromptConfig, build_prompt
from spar3d.errors import BackendError, ConfigError
from spar3d.io import output_lock, write_json, write_jsonl
from spar3d.probe.answer import PROBE_MAX_NEW_TOKENS, is_probe_task
from spar3d.progress import Progress

SCORING_MODES = ("compat", "strict")


@dataclass
class RunResult:
    """Summary of one :func:`evaluate` call.

    Attributes:
        run_dir: The run folder.
        n_bench: Rows in the benchmark.
        n_selected: Rows this run covers (fewer with ``limit``).
        requested: Requests sent to the backend in this call (cache misses and retries).
        from_cache: Selected samples answered from the cache.
        status_counts: Samples per outcome status.
        failures: Failed requests (status ``error``) per task.
        partial: True when some benchmark rows have no answer (``limit``) or a request failed;
            the scores then do not describe the whole benchmark.
        scores: ``{mode: ScoreResult.to_dict()}`` of the SPAR-Bench rows.
        probe: APE scores of the BEV probe rows (:meth:`spar3d.probe.score.ProbeResult.to_dict`),
            or None when the benchmark has none.
        errors: Failed requests by kind (:func:`error_kind`): ``{"count", "first", "id",
            "task"}``, the first message of each kind and where it happened.
        notes: What the preflight reported (e.g. a server that does not list its models).
        prompt: The prompt settings used (preset, its text and source).
    """

    run_dir: Path
    n_bench: int
    n_selected: int
    requested: int
    from_cache: int
    status_counts: dict[str, int]
    failures: dict[str, int]
    partial: bool
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)
    probe: dict[str, Any] | None = None
    errors: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    prompt: dict[str, Any] = field(default_factory=dict)

    @property
    def n_failed(self) -> int:
        return sum(self.failures.values())

    @property
    def n_answered(self) -> int:
        return self.n_selected - self.n_failed


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def error_kind(message: str) -> str:
    """The kind of a failure: its message without the retry count, numbers masked.

    ``HTTP 400: At most 1 image(s) ... You provided 3`` and ``... You provided 2`` are one kind
    (the status code is kept); a timeout and a refused connection are two.
    """
    head = message.split(" (after ", 1)[0]
    status = re.match(r"HTTP \d{3}: ", head)
    prefix = status.group(0) if status else ""
    return (prefix + _NUMBER.sub("#", head[len(prefix) :]))[:160]


def _client_error(outcome: Outcome) -> bool:
    code = outcome.meta.get("http_status") if outcome.status == "error" else None
    return isinstance(code, int) and 400 <= code < 500 and code not in (408, 409, 429)


@dataclass
class _Failures:
    """Failures seen while asking: the first of each kind is printed as it arrives."""

    bar: Progress
    fail_fast: int
    max_images: int = 0  # the benchmark's largest image count, for the image-limit hint
    seen: Counter[str] = field(default_factory=Counter)
    client: Counter[str] = field(default_factory=Counter)
    stop: str | None = None

    def add(self, item: _Item, outcome: Outcome) -> None:
        from rich.markup import escape

        kind = error_kind(outcome.error or "error")
        self.seen[kind] += 1
        if self.seen[kind] == 1:
            self.bar.print(
                f"[red]request failed[/] (sample {item.sample.id}, {item.sample.task}): "
                + escape(outcome.error or "")
            )
        if _client_error(outcome):
            self.client[kind] += 1
            if self.fail_fast and self.client[kind] >= self.fail_fast and self.stop is None:
                from spar3d.bench.eval.backends.openai import error_hint

                hint = error_hint(outcome.error or "", self.max_images or len(item.sample.images))
                self.stop = (
                    f"stopped after {self.client[kind]} identical client errors: {outcome.error}"
                    + (f"; {hint}" if hint else "")
                    + " (answers so far are cached; --fail-fast 0 keeps going)"
                )


@dataclass
class _Item:
    key: str
    sample: BenchSample
    prompt: str


def _select(
    samples: list[BenchSample], limit: int | None, limit_per_task: int | None
) -> list[BenchSample]:
    """The samples a run covers, in benchmark order."""
    if limit_per_task is not None:
        seen: Counter[str] = Counter()
        kept = []
        for sample in samples:
            seen[sample.task] += 1
            if seen[sample.task] <= limit_per_task:
                kept.append(sample)
        samples = kept
    return samples if limit is None else samples[:limit]


def _batches(items: Sequence[_Item], size: int) -> Iterator[list[_Item]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _call(backend: Backend, batch: list[_Item], config: GenerationConfig) -> list[Outcome]:
    requests = [Request(i.sample, i.prompt, i.sample.images) for i in batch]
    start = time.perf_counter()
    try:
        outcomes = backend.generate(requests, config)
    except Exception as exc:  # a backend bug must not take the other samples down with it
        return [Outcome("error", error=f"{type(exc).__name__}: {exc}") for _ in batch]
    if len(outcomes) != len(batch):
        message = f"backend returned {len(outcomes)} outcomes for {len(batch)} requests"
        return [Outcome("error", error=message) for _ in batch]
    elapsed = time.perf_counter() - start
    for outcome in outcomes:
        if not outcome.latency_s:
            outcome.latency_s = elapsed / len(batch)
    return outcomes


def _ask(
    backend: Backend,
    todo: list[_Item],
    cache: AnswerCache,
    config: GenerationConfig,
    concurrency: int,
    bar: Progress,
    failures: _Failures,
) -> list[float]:
    """Send ``todo`` in batches, ``concurrency`` at a time; every answer is cached on arrival.

    Stops submitting (and lets the batches in flight finish) once ``failures.stop`` is set.
    """
    latencies: list[float] = []
    failed = 0
    if backend.sort_batches and backend.batch_size > 1:
        # Padding-aware batching: neighbours in a batch have the same image count and similar
        # prompt lengths (answers are cached per key, so order does not matter downstream).
        todo = sorted(todo, key=lambda i: (len(i.sample.images), len(i.prompt)))
    pending = iter(list(_batches(todo, max(1, backend.batch_size))))
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="spar3d-eval")
    running: dict[Future[list[Outcome]], list[_Item]] = {}
    try:
        # Submitting only `concurrency` batches ahead keeps an interrupt from leaving a long queue.
        for batch in pending:
            running[pool.submit(_call, backend, batch, config)] = batch
            if len(running) >= concurrency:
                break
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                batch = running.pop(future)
                for item, outcome in zip(batch, future.result(), strict=True):
                    cache.put(item.key, outcome, id=item.sample.id, task=item.sample.task)
                    latencies.append(outcome.latency_s)
                    if outcome.status == "error":
                        failed += 1
                        failures.add(item, outcome)
                bar.advance(len(batch), failed=failed)
                nxt = next(pending, None) if failures.stop is None else None
                if nxt is not None:
                    running[pool.submit(_call, backend, nxt, config)] = nxt
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return latencies


def _prediction_record(sample: BenchSample, entry: dict[str, Any]) -> dict[str, Any]:
    status = entry["status"]
    raw = entry.get("raw") or ""
    extraction = extract_answer(sample.task, raw, sample.question)
    if status == "ok" and extraction.value is None:
        status = "unparseable"
    readable = status in ("ok", "truncated") and extraction.value is not None
    record = {
        "id": sample.id,
        "task": sample.task,
        "question": sample.question,
        "answer": sample.answer,
        "prediction": extraction.value if readable else "",
        "raw": raw,
        "extraction_rule": extraction.rule if readable else None,
        "status": status,
        "latency_s": entry.get("latency_s"),
    }
    if entry.get("error"):
        record["error"] = entry["error"]
    if sample.extra.get("context"):  # what a grounding answer is scored with
        record["context"] = sample.extra["context"]
    return record


def _score(predictions: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Both modes, per-sample scores included.

    The scorer reads each record's ``raw`` text (compat must see exactly what lmms-eval saw) and
    counts only status ``error`` as failed: an empty, truncated or unparseable response is still
    the model's answer and is scored, exactly as ``spar3d score RUN_DIR`` does. BEV probe rows are
    left to :func:`_score_probe`.
    """
    from spar3d.bench.scoring import score_records

    modes: dict[str, Any] = {}
    per_sample: dict[Any, dict[str, Any]] = {
        p["id"]: {"id": p["id"], "task": p["task"], "status": p["status"]} for p in predictions
    }
    bench = [p for p in predictions if not is_probe_task(p["task"])]
    for mode in SCORING_MODES if bench else ():
        result = score_records(bench, mode)
        modes[mode] = {**result.to_dict(), "failures": dict(result.failures)}
        for ident, _task, value in result.per_sample:
            per_sample[ident][mode] = value
    return modes, list(per_sample.values())


def _score_probe(predictions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """APE scores of the BEV probe rows (``spar3d probe score RUN_DIR`` gives the same), or None."""
    from spar3d.probe.score import score_probe_records

    rows = [p for p in predictions if is_probe_task(p["task"])]
    return score_probe_records(rows).to_dict() if rows else None


def _latency_summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean_s": None, "median_s": None, "p95_s": None, "max_s": None}
    ordered = sorted(values)
    return {
        "mean_s": statistics.fmean(ordered),
        "median_s": statistics.median(ordered),
        "p95_s": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "max_s": ordered[-1],
    }


def evaluate(
    bench_path: str | Path,
    backend: Backend,
    run_dir: str | Path,
    limit: int | None = None,
    limit_per_task: int | None = None,
    concurrency: int | None = None,
    retry_failed: bool = False,
    prompt: PromptConfig | None = None,
    generation: GenerationConfig | None = None,
    progress: bool = True,
    score: bool = True,
    preflight: bool = True,
    fail_fast: int = 10,
    allow_outside_root: bool = False,
) -> RunResult:
    """Answer every benchmark sample with ``backend`` (reusing cached answers) and score them.

    Args:
        bench_path: SPAR-Bench Parquet file or folder of shards.
        backend: A backend built by :func:`~spar3d.bench.eval.backends.make_backend`.
        run_dir: Output folder; reusing it resumes the run.
        limit: Only the first ``limit`` samples (the run is then PARTIAL).
        limit_per_task: Only the first ``limit_per_task`` samples of each task (PARTIAL too); a
            quick run that still covers every task.
        concurrency: Batches in flight at once (default: the backend's own default; never more
            than the backend's ``max_concurrency``).
        retry_failed: Ask again for samples whose cached answer is a failed request.
        prompt: Pre-prompt and preset (default: ``spar-paper`` resolved for the backend).
        generation: Decoding settings (default greedy, 100 new tokens; 256 when the benchmark
            has BEV probe rows, whose answers list up to seven coordinate pairs).
        progress: Show a progress bar.
        score: Write ``scores.json`` (needs :mod:`spar3d.bench.scoring`).
        preflight: Check the backend before the run (:meth:`Backend.preflight`).
        fail_fast: Stop after this many identical client errors (HTTP 4xx); 0 never stops.
        allow_outside_root: Read images a sample names by a path outside the benchmark folder.

    Returns:
        The run summary; predictions, timings and scores are in ``run_dir``.

    Raises:
        BackendError: The preflight failed (nothing was asked), or the run stopped on repeated
            identical client errors (answers so far are cached and written).
        ResourceBusyError: Another run is writing into ``run_dir``.
    """
    run_dir = Path(run_dir)
    prompt = prompt or PromptConfig.for_backend(DEFAULT_PRESET, backend.api_model)
    concurrency = max(1, concurrency or backend.default_concurrency)
    if backend.max_concurrency is not None:
        concurrency = min(concurrency, backend.max_concurrency)
    for name, value in (("limit", limit), ("limit_per_task", limit_per_task)):
        if value is not None and value < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if fail_fast < 0:
        raise ConfigError(f"--fail-fast must be >= 0, got {fail_fast}")
    with output_lock(run_dir, "spar3d eval"):
        return _evaluate_locked(
            bench_path, backend, run_dir, limit, limit_per_task, concurrency, retry_failed,
            prompt, generation, progress, score, preflight, fail_fast, allow_outside_root,
        )  # fmt: skip


def _evaluate_locked(
    bench_path: str | Path,
    backend: Backend,
    run_dir: Path,
    limit: int | None,
    limit_per_task: int | None,
    concurrency: int,
    retry_failed: bool,
    prompt: PromptConfig,
    generation: GenerationConfig | None,
    progress: bool,
    score: bool,
    preflight: bool,
    fail_fast: int,
    allow_outside_root: bool,
) -> RunResult:
    samples = load_bench(bench_path, allow_outside_root=allow_outside_root)
    revision = bench_revision(bench_path)
    selected = _select(samples, limit, limit_per_task)
    if generation is None:
        generation = GenerationConfig()
        if any(is_probe_task(s.task) for s in selected):
            generation = GenerationConfig(max_new_tokens=PROBE_MAX_NEW_TOKENS)
    write_json(
        run_dir / "config.json",
        {
            "backend": backend.name,
            # repr() for what JSON cannot hold (a scripted backend's function).
            "settings": json.loads(json.dumps(backend.settings, default=repr)),
            "backend_revision": backend.revision,
            "prompt": prompt.to_dict(),
            "generation": generation.to_dict(),
            "bench": {"path": str(bench_path), "revision": revision, "rows": len(samples)},
            "limit": limit,
            "limit_per_task": limit_per_task,
            "concurrency": concurrency,
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    )

    start = time.perf_counter()
    items: dict[str, _Item] = {}
    keys: list[str] = []
    with AnswerCache(run_dir / "cache.jsonl") as cache:
        for sample in selected:
            text = build_prompt(sample.task, sample.question, prompt)
            key = cache_key(backend, text, sample.images, generation, revision)
            keys.append(key)
            items.setdefault(key, _Item(key, sample, text))
        todo = [
            item
            for key, item in items.items()
            if (entry := cache.get(key)) is None or (retry_failed and entry["status"] == "error")
        ]
        todo_keys = {i.key for i in todo}
        from_cache = sum(k not in todo_keys for k in keys)
        notes: list[str] = []
        if preflight and todo:
            probe = max(todo, key=lambda i: len(i.sample.images))
            notes = backend.preflight(Request(probe.sample, probe.prompt, probe.sample.images))
        with Progress("SPAR-Bench", len(keys), enabled=progress, fields={"failed": 0}) as bar:
            for note in notes:
                bar.print(f"[yellow]note[/]: {note}")
            bar.advance(from_cache)
            most = max((len(s.images) for s in selected), default=0)
            watch = _Failures(bar, fail_fast, most)
            latencies = _ask(backend, todo, cache, generation, concurrency, bar, watch)
        entries = [cache.get(k) for k in keys]
    wall_s = time.perf_counter() - start

    predictions = [
        _prediction_record(s, e) for s, e in zip(selected, entries, strict=True) if e is not None
    ]
    errors: dict[str, dict[str, Any]] = {}
    for p in predictions:
        if p["status"] == "error":
            kind = error_kind(p.get("error") or "error")
            entry = errors.setdefault(
                kind, {"count": 0, "first": p.get("error"), "id": p["id"], "task": p["task"]}
            )
            entry["count"] += 1
    write_jsonl(run_dir / "predictions.jsonl", predictions)
    status_counts = Counter(p["status"] for p in predictions)
    failures = Counter(p["task"] for p in predictions if p["status"] == "error")
    chosen = {s.id for s in selected}
    missing = Counter(s.task for s in samples if s.id not in chosen)
    partial = bool(missing) or bool(failures)
    write_json(
        run_dir / "timings.json",
        {
            "wall_s": wall_s,
            "requested": len(todo),
            "from_cache": from_cache,
            "samples_per_s": len(todo) / wall_s if todo and wall_s > 0 else None,
            "request_latency": _latency_summary(latencies),
        },
    )
    result = RunResult(
        run_dir=run_dir,
        n_bench=len(samples),
        n_selected=len(selected),
        requested=len(todo),
        from_cache=from_cache,
        status_counts=dict(status_counts),
        failures=dict(failures),
        partial=partial,
        errors=errors,
        notes=notes,
        prompt=prompt.to_dict(),
    )
    if score:
        modes, per_sample = _score(predictions)
        result.scores = modes
        result.probe = _score_probe(predictions)
        write_json(
            run_dir / "scores.json",
            {
                "partial": partial,
                "n_bench": len(samples),
                "n_scored": len(predictions),
                "not_run": dict(missing),
                "failures": dict(failures),
                "status_counts": dict(status_counts),
                "errors": errors,
                "prompt": prompt.to_dict(),
                "modes": modes,
                **({"probe": result.probe} if result.probe is not None else {}),
                "per_sample": per_sample,
            },
        )
    if watch.stop is not None:
        raise BackendError(watch.stop)
    return result
