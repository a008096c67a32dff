"""What every model backend receives and returns.

A backend is built by a factory registered in :data:`BACKENDS`; the factory's keyword arguments
are its settings and are recorded in the run's ``config.json`` and hashed into every cache key.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from spar3d.bench.eval.dataset import BenchSample
from spar3d.registry import Registry

Status = Literal["ok", "error", "empty", "truncated", "unparseable"]
STATUSES: tuple[str, ...] = ("ok", "error", "empty", "truncated", "unparseable")


@dataclass(frozen=True)
class GenerationConfig:
    """Decoding settings; SPAR-Bench's published setting is greedy with 100 new tokens."""

    max_new_tokens: int = 100
    temperature: float = 0.0  # 0 means greedy decoding

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Request:
    """One sample to answer.

    Attributes:
        sample: The benchmark row (baselines read its task, question and, for ``oracle``, answer).
        prompt: The rendered text prompt.
        images: Encoded images, shown to the model before the text.
    """

    sample: BenchSample
    prompt: str
    images: tuple[bytes, ...]


@dataclass
class Outcome:
    """What one request produced.

    Attributes:
        status: ``ok``; ``error`` (the request failed; ``text`` is empty); ``empty`` (blank answer);
            ``truncated`` (generation stopped at ``max_new_tokens``). The runner may turn ``ok``
            into ``unparseable`` when no answer can be extracted.
        text: Raw model output.
        error: Why the request failed (only with ``status == "error"``).
        latency_s: Wall time of the request, including retries.
        attempts: Requests sent (more than 1 after retries).
    """

    status: Status
    text: str = ""
    error: str | None = None
    latency_s: float = 0.0
    attempts: int = 1
    meta: dict[str, Any] = field(default_factory=dict)


def classify_text(text: str, truncated: bool = False) -> Status:
    """Status of a completed generation: blank -> ``empty``, cut at the limit -> ``truncated``."""
    if not text.strip():
        return "empty"
    return "truncated" if truncated else "ok"


class Backend(ABC):
    """A model that answers requests.

    Attributes:
        name: Registry name, filled in by :func:`make_backend`.
        settings: Factory keyword arguments (no secrets), filled in by :func:`make_backend`.
        batch_size: Requests handed to one :meth:`generate` call.
        default_concurrency: Parallel :meth:`generate` calls the runner uses unless told otherwise.
        max_concurrency: Most parallel calls the backend supports (``None``: no limit); a local
            model on one device answers one batch at a time.
        api_model: True for a commercial API model (the ``spar-paper`` prompt preset then uses
            the API wording, as the paper did for such models).
        revision: What the settings do not show but the answers depend on (a training file's
            hash, a model snapshot); part of the cache key.
    """

    name: str = ""
    settings: dict[str, Any] = {}
    revision: str = ""
    # Settings that change how requests travel (timeouts, retries), not what is answered.
    transport_settings: frozenset[str] = frozenset()

    def answer_settings(self) -> dict[str, Any]:
        """The settings that can change an answer: what the cache key hashes."""
        return {k: v for k, v in self.settings.items() if k not in self.transport_settings}

    batch_size: int = 1
    default_concurrency: int = 1
    max_concurrency: int | None = None
    api_model: bool = False
    # Order requests by image count and prompt length before cutting batches (less padding).
    sort_batches: bool = False

    def public_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The settings as recorded in ``config.json`` and cache keys (secrets redacted)."""
        return settings

    def preflight(self, probe: Request | None = None) -> list[str]:
        """Check, before the run, that requests can succeed; returns notes for the terminal.

        ``probe`` is the benchmark's sample with the most images. Raises
        :class:`~spar3d.errors.BackendError` with the reason when the run cannot work.
        """
        return []

    @abstractmethod
    def generate(self, requests: Sequence[Request], config: GenerationConfig) -> list[Outcome]:
        """Answer ``requests`` (at most :attr:`batch_size`), one outcome each, in order.

        Must not raise for a failed request: return an ``error`` outcome instead.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections or memory."""


BackendFactory = Callable[..., Backend]
BACKENDS: Registry[BackendFactory] = Registry("backend", "spar3d.backends")


def make_backend(name: str, **kwargs: Any) -> Backend:
    """Build a registered backend, recording its name and settings (defaults included).

    Raises:
        RegistryError: Unknown backend name.
        TypeError: An argument the factory does not accept, named in the message.
    """
    settings = backend_arguments(name, **kwargs)
    backend = BACKENDS.get(name)(**kwargs)
    backend.name = name
    backend.settings = backend.public_settings(settings)
    return backend


def backend_arguments(name: str, **kwargs: Any) -> dict[str, Any]:
    """The factory arguments of backend ``name`` with defaults filled in, without building it
    (private ``_`` arguments left out).

    Raises:
        RegistryError: Unknown backend name.
        TypeError: An argument the factory does not accept, named in the message.
    """
    factory = BACKENDS.get(name)
    try:
        bound = inspect.signature(factory).bind(**kwargs)
    except TypeError as exc:
        raise TypeError(f"backend {name!r}: {exc}") from None
    bound.apply_defaults()
    settings = dict(bound.arguments)
    settings.update(settings.pop("kwargs", {}) or {})
    return {k: v for k, v in settings.items() if not k.startswith("_")}
