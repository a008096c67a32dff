"""A scripted backend for tests and dry runs: answers come from a list, a dict or a function."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from spar3d.bench.eval.backends.base import (
    BACKENDS,
    Backend,
    GenerationConfig,
    Outcome,
    Request,
    classify_text,
)

Script = Sequence[Any] | Mapping[Any, Any] | Callable[[Request], Any]


class MockBackend(Backend):
    """Replays scripted outputs.

    An output may be a string (the model's text), an :class:`Outcome` (returned as is), or an
    exception instance (turned into an ``error`` outcome, as a failed request would be).
    """

    # The script is scaffolding, not a model identity: ``label`` alone names the model in cache
    # keys, so a rerun with a new script object (a fresh closure) still hits the cache.
    transport_settings = frozenset({"outputs", "default"})

    def __init__(self, outputs: Script, default: str | None = None) -> None:
        self._outputs = outputs
        self._default = default
        self._next = 0
        self._lock = threading.Lock()
        self.calls: list[Request] = []

    def _pick(self, request: Request) -> Any:
        outputs = self._outputs
        if callable(outputs):
            return outputs(request)
        if isinstance(outputs, Mapping):
            sample = request.sample
            for key in (sample.id, str(sample.id), sample.task):
                if key in outputs:
                    return outputs[key]
            if self._default is None:
                raise KeyError(f"mock backend: no scripted output for sample {sample.id}")
            return self._default
        with self._lock:
            index = self._next
            self._next += 1
        if index < len(outputs):
            return outputs[index]
        if self._default is None:
            raise IndexError(f"mock backend: script exhausted after {len(outputs)} outputs")
        return self._default

    def generate(self, requests: Sequence[Request], config: GenerationConfig) -> list[Outcome]:
        results = []
        for request in requests:
            with self._lock:
                self.calls.append(request)
            out = self._pick(request)
            if isinstance(out, Outcome):
                results.append(out)
            elif isinstance(out, BaseException):
                results.append(Outcome("error", error=f"{type(out).__name__}: {out}"))
            else:
                results.append(Outcome(classify_text(str(out)), text=str(out)))
        return results


@BACKENDS.register("mock")
def mock(outputs: Script = (), default: str | None = None, label: str = "mock") -> MockBackend:
    """Scripted model.

    Args:
        label: The model's name in cache keys (give two scripts two labels to keep them apart).
        outputs: A list (answers in request order), a dict keyed by sample id or task name, or a
            function of the :class:`Request`.
        default: Answer once the list is used up or for keys the dict lacks; otherwise that raises.
    """
    return MockBackend(outputs, default)
