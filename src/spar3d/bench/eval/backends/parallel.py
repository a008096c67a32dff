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
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from spar3d.bench.eval.backends.base import Backend, GenerationConfig, Outcome, Request
from spar3d.errors import ConfigError

_WORKER: Backend | None = None


def _init_worker(
    name: str, kwargs: dict[str, Any], devices: list[str], counter: Any, parent: int
) -> None:
    global _WORKER
    from spar3d.bench.eval.backends import make_backend
    from spar3d.procs import die_with_parent

    die_with_parent(parent)  # a killed eval must not leave models loaded on its devices

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


def _worker_describe() -> dict[str, Any]:
    assert _WORKER is not None, "worker not initialised"
    w = _WORKER
    return {
        "settings": w.settings,
        "revision": w.revision,
        "transport_settings": w.transport_settings,
        "batch_size": w.batch_size,
        "api_model": w.api_model,
        "sort_batches": w.sort_batches,
    }


class DataParallelBackend(Backend):
    """``n`` copies of a registered backend in ``n`` processes (see the module docstring).

    The model is loaded in the workers only; the first worker to start reports the settings,
    revision and batch size this process records and hashes into cache keys (identical to what
    one process would record, the device being a transport setting).

    Args:
        name: Registered backend name (``hf``).
        kwargs: Its factory arguments (``device`` is replaced per worker).
        n: Worker processes.
        devices: One device per worker (default :func:`default_devices`).

    Raises:
        ConfigError: ``n < 1``, or a backend without a ``device`` argument.
    """

    def __init__(
        self, name: str, kwargs: dict[str, Any], n: int, devices: list[str] | None = None
    ) -> None:
        from spar3d.bench.eval.backends.base import backend_arguments

        if n < 1:
            raise ConfigError(f"--data-parallel must be >= 1, got {n}")
        if "device" not in backend_arguments(name, **kwargs):
            raise ConfigError(f"--data-parallel: backend {name!r} has no device to spread over")
        self.name = name
        self.devices = devices or default_devices(n)
        self.default_concurrency = n
        self.max_concurrency = n
        context = multiprocessing.get_context("spawn")
        counter = context.Value("i", 0)
        self._pool = ProcessPoolExecutor(
            max_workers=n,
            mp_context=context,
            initializer=_init_worker,
            initargs=(name, kwargs, self.devices, counter, os.getpid()),
        )
        described = self._pool.submit(_worker_describe).result()
        for key, value in described.items():
            setattr(self, key, value)

    def generate(self, requests: Sequence[Request], config: GenerationConfig) -> list[Outcome]:
        return self._pool.submit(_worker_generate, list(requests), config).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
