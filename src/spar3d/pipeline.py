"""Run one job per scene: executors, typed outcomes, one completion marker, run configurations.

Every per-scene pass (``index``, ``generate``, ...) is a function ``job(item) -> value`` run by
:func:`run_jobs`:

* an :class:`Executor` runs the jobs -- ``serial`` (this process), ``process`` (a pool of
  ``workers`` processes) or ``ray`` (tasks on the running Ray cluster, or a local one);
  results come back in input order whatever the executor, so outputs do not depend on it;
* each job gives a :class:`JobOutcome`: ``ok`` (made now), ``resumed`` (an earlier run had
  finished it: the job returned :class:`Resumed`) or ``failed`` with the error. Exceptions are
  caught in the worker, so one broken scene never stops the others;
* a :class:`RunConfig` is the frozen description of everything a job's output depends on
  besides its input: the pass, its parameters (task knobs included) and the *content* of files
  the environment provides (``SPAR3D_RXR_GUIDE`` guides, templates, ...). Its :meth:`digest`
  goes into the job's completion marker (:func:`write_marker` / :func:`read_marker`), so a
  rerun reuses exactly the jobs made with the same configuration and inputs.

Running on an existing Ray cluster: call ``ray.init(address="auto")`` (or
``address="ray://head:10001"``) before the pass; :class:`RayExecutor` then uses that cluster
instead of starting a local one. See ``docs/scale.md``.
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Generic, Literal, Protocol, TypeVar

from spar3d.errors import ConfigError, MissingDependencyError, Spar3dError
from spar3d.io import write_json

T = TypeVar("T")
Status = Literal["ok", "resumed", "failed"]
EXECUTORS: tuple[str, ...] = ("serial", "process", "ray")
MARKER_SUFFIX = ".done.json"


@dataclass(frozen=True)
class Resumed(Generic[T]):
    """Returned by a job that found its output finished by an earlier run."""

    value: T


@dataclass(frozen=True)
class JobOutcome(Generic[T]):
    """What happened to one job.

    Attributes:
        item: The job's input (a scene folder, ...).
        status: ``ok``, ``resumed`` or ``failed``.
        value: The job's result (None when failed).
        error: ``"<ExceptionType>: <message>"`` when failed (plus a short traceback for errors
            that are not input errors), else ``""``.
        seconds: Wall time of the job in its worker.
    """

    item: Any
    status: Status
    value: T | None = None
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status != "failed"


#: Errors that describe the input (shown without a traceback).
_INPUT_ERRORS = (Spar3dError, ValueError, FileNotFoundError, KeyError)


def run_job(job: Callable[[Any], Any], item: Any) -> JobOutcome[Any]:
    """Run ``job(item)`` and turn its result or exception into a :class:`JobOutcome`."""
    t0 = time.perf_counter()
    try:
        value = job(item)
    except Exception as exc:  # one broken scene must not stop the others
        msg = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, _INPUT_ERRORS):
            msg += "\n" + traceback.format_exc(limit=3)
        return JobOutcome(item, "failed", None, msg, time.perf_counter() - t0)
    if isinstance(value, Resumed):
        return JobOutcome(item, "resumed", value.value, "", time.perf_counter() - t0)
    return JobOutcome(item, "ok", value, "", time.perf_counter() - t0)


class Executor(Protocol):
    """Runs ``fn`` over ``items``; yields the results in input order."""

    def map(self, fn: Callable[[Any], T], items: Sequence[Any]) -> Iterator[T]: ...


class SerialExecutor:
    """In this process, one item after the other."""

    def map(self, fn: Callable[[Any], T], items: Sequence[Any]) -> Iterator[T]:
        return map(fn, items)


@dataclass
class ProcessExecutor:
    """A pool of ``workers`` processes (``concurrent.futures``) that die with their parent."""

    workers: int

    def map(self, fn: Callable[[Any], T], items: Sequence[Any]) -> Iterator[T]:
        from concurrent.futures import ProcessPoolExecutor

        from spar3d.procs import die_with_parent

        with ProcessPoolExecutor(max_workers=self.workers, initializer=die_with_parent) as pool:
            yield from pool.map(fn, items)


@dataclass
class RayExecutor:
    """Ray tasks, all submitted at once; results collected in input order.

    Uses the cluster of an earlier ``ray.init`` (e.g. ``ray.init(address="auto")`` on a node of
    an existing cluster); otherwise starts a local one with ``workers`` CPUs (all CPUs when
    ``workers <= 1``) and shuts it down at the end. Every node must see the same paths.
    """

    workers: int = 0
    cpus_per_job: float = 1.0
    init_kwargs: dict[str, Any] = field(default_factory=dict)

    def map(self, fn: Callable[[Any], T], items: Sequence[Any]) -> Iterator[T]:
        import ray

        started = not ray.is_initialized()
        if started:
            ray.init(num_cpus=self.workers if self.workers > 1 else None,
                     include_dashboard=False, log_to_driver=False, **self.init_kwargs)  # fmt: skip
        try:
            remote: Any = ray.remote(num_cpus=self.cpus_per_job)(_call)
            fn_ref = ray.put(fn)
            refs = [remote.remote(fn_ref, item) for item in items]
            for ref in refs:
                yield ray.get(ref)
        finally:
            if started:
                ray.shutdown()


def _call(fn: Callable[[Any], T], item: Any) -> T:
    return fn(item)


def make_executor(name: str = "process", workers: int = 1) -> Executor:
    """``serial``, ``process`` (serial when ``workers <= 1``) or ``ray``; a clear error else."""
    if name not in EXECUTORS:
        raise ConfigError(f"executor must be one of {', '.join(EXECUTORS)}, got {name!r}")
    if name == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise MissingDependencyError("executor 'ray' needs ray: pip install 'spar3d[ray]'")
        return RayExecutor(workers)
    if name == "process" and workers > 1:
        return ProcessExecutor(workers)
    return SerialExecutor()


def run_jobs(
    job: Callable[[Any], Any],
    items: Sequence[Any],
    executor: Executor | None = None,
    *,
    label: str = "jobs",
    progress: bool = False,
) -> Iterator[JobOutcome[Any]]:
    """Outcomes of ``job`` on every item, in input order, with a progress display over items
    (:mod:`spar3d.progress`: it stays on a terminal, plain lines in a log)."""
    from spar3d.progress import progress as display

    executor = executor or SerialExecutor()
    yield from display(label, len(items), progress).track(
        executor.map(partial(run_job, job), items)
    )


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's content, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(partial(fh.read, 1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class RunConfig:
    """Everything a pass's output depends on besides each job's own input.

    Attributes:
        kind: The pass (``"index"``, ``"generate"``, ...).
        version: Bumped when the pass's output layout changes (old outputs are then redone).
        params: JSON-serialisable settings, task parameters included.
        files: Files the environment provides that the output depends on; hashed by content.
    """

    kind: str
    version: int
    params: Mapping[str, Any]
    files: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "version": self.version,
            "params": self.params,
            "files": {f: file_sha256(f) for f in sorted(self.files)},
        }

    def digest(self) -> str:
        """SHA-256 of :meth:`to_dict` (canonical JSON)."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def marker_path(output: str | Path) -> Path:
    """The completion marker of an output file or folder: ``<output>.done.json``."""
    p = Path(output)
    return p.with_name(p.name + MARKER_SUFFIX)


def write_marker(marker: str | Path, config_digest: str, payload: Mapping[str, Any]) -> None:
    """Write the completion marker last, after every output of the job (atomically)."""
    write_json(marker, {"config": config_digest, **payload})


def read_marker(
    marker: str | Path,
    config_digest: str,
    valid: Callable[[dict[str, Any]], bool] | None = None,
    **expected: Any,
) -> dict[str, Any] | None:
    """The marker if it was made with ``config_digest``, holds ``expected`` values and passes
    ``valid`` (e.g. the output's size matches); None when absent, torn, foreign or stale."""
    try:
        done = json.loads(Path(marker).read_text(encoding="utf-8"))
        ok = (
            isinstance(done, dict)
            and done.get("config") == config_digest
            and all(done.get(k) == v for k, v in expected.items())
            and (valid is None or valid(done))
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return done if ok else None


def failed(outcomes: Iterable[JobOutcome[Any]]) -> dict[str, str]:
    """``{str(item): error}`` of the failed outcomes."""
    return {str(o.item): o.error for o in outcomes if o.status == "failed"}
