"""Data parallelism for local backends: one worker process per device, results merged in order.

``spar3d eval -m hf --data-parallel 4`` builds :class:`DataParallelBackend`, which starts four
worker processes (``spawn``, so CUDA is initialised in each child only); worker *i* builds the
same backend with ``device=devices[i]`` (``cuda:0`` ... ``cuda:3`` when CUDA is available,
otherwise ``cpu``) and answers whole batches. The runner keeps ``N`` batches in flight, so every
device stays busy, and every answer is cached on arrival exactly as with one process. Answers do
not depend on which worker gave them (greedy decoding, same weights), so the cache key is the
inner backend's.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from spar3d.bench.eval.backends.base import Backend, GenerationConfig, Outcome, Request
from spar3d.errors import ConfigError

_WORKER: Backend | None = None


def _init_worker(name: str, kwargs: dict[str, Any], devices: list[str], counter: Any) -> None:
    global _WORKER
    from spar3d.bench.eval.backends import make_backend

    with counter.get_lock():
        index = counter.value
        counter.value += 1
    _WORKER = make_backend(name, **{**kwargs, "device": devices[index % len(devices)]})


def _worker_generate(requests: Sequence[Request], config: GenerationConfig) -> list[Outcome]:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER.generate(requests, config)


def default_devices(n: int) -> list[str]:
    """``cuda:0`` .. ``cuda:n-1`` when that many GPUs are visible, else ``cpu`` n times."""
    try:
        import torch

        if torch.cuda.is_available():
            if torch.cuda.device_count() < n:
                raise ConfigError(
                    f"--data-parallel {n}: only {torch.cuda.device_count()} GPU(s) visible"
                )
            return [f"cuda:{i}" for i in range(n)]
    except ImportError:
        pass
    return ["cpu"] * n


class DataParallelBackend(Backend):
    """``n`` copies of a registered backend in ``n`` processes (see the module docstring).

    Args:
        inner: The backend built in this process (it supplies name, settings, revision and
            batch size; its model is released, the workers hold their own copies).
        kwargs: The factory arguments to build it again in each worker.
        n: Worker processes.
        devices: One device per worker (default :func:`default_devices`).
    """

    def __init__(
        self, inner: Backend, kwargs: dict[str, Any], n: int, devices: list[str] | None = None
    ) -> None:
        if n < 1:
            raise ConfigError(f"--data-parallel must be >= 1, got {n}")
        self.name = inner.name
        self.settings = inner.settings
        self.revision = inner.revision
        self.transport_settings = inner.transport_settings
        self.batch_size = inner.batch_size
        self.api_model = inner.api_model
        self.sort_batches = inner.sort_batches
        self.default_concurrency = n
        self.max_concurrency = n
        self.devices = devices or default_devices(n)
        inner.close()
        context = multiprocessing.get_context("spawn")
        counter = context.Value("i", 0)
        self._pool = ProcessPoolExecutor(
            max_workers=n,
            mp_context=context,
            initializer=_init_worker,
            initargs=(inner.name, kwargs, self.devices, counter),
        )

    def generate(self, requests: Sequence[Request], config: GenerationConfig) -> list[Outcome]:
        return self._pool.submit(_worker_generate, list(requests), config).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
