"""Any OpenAI-compatible chat-completions server (OpenAI, vLLM, SGLang, LM Studio, ...) over httpx.

No SDK is needed. Images go as base64 data URLs in ``image_url`` content parts, before the text.
The API key is read from an environment variable whose *name* is a setting; the key itself is
never stored in settings, logs or the run folder.
"""

from __future__ import annotations

import base64
import email.utils
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from spar3d.bench.eval.backends.base import (
    BACKENDS,
    Backend,
    GenerationConfig,
    Outcome,
    Request,
    classify_text,
)

RETRY_STATUS = frozenset({408, 409, 429}) | frozenset(range(500, 600))


def image_mime(data: bytes) -> str:
    """MIME type of an encoded image from its magic bytes (PNG, JPEG, GIF, WebP)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise ValueError("image is not PNG, JPEG, GIF or WebP")


def chat_messages(request: Request) -> list[dict[str, Any]]:
    """One user message: every image (data URL), then the prompt text."""
    content: list[dict[str, Any]] = []
    for data in request.images:
        url = f"data:{image_mime(data)};base64,{base64.b64encode(data).decode('ascii')}"
        content.append({"type": "image_url", "image_url": {"url": url}})
    content.append({"type": "text", "text": request.prompt})
    return [{"role": "user", "content": content}]


def retry_after_s(response: httpx.Response) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (seconds or an HTTP date), if any."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _message_text(body: dict[str, Any]) -> tuple[str, str | None]:
    choice = body["choices"][0]
    content = choice.get("message", {}).get("content")
    if isinstance(content, list):  # some servers return content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content or "", choice.get("finish_reason")


class OpenAIBackend(Backend):
    default_concurrency = 8
    default_numeric_post = "api"
    transport_settings = frozenset(
        {"api_key_env", "timeout", "max_retries", "backoff_base", "backoff_max", "max_connections"}
    )

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None,
        timeout: float,
        max_retries: int,
        backoff_base: float,
        backoff_max: float,
        max_tokens_field: str,
        extra_body: dict[str, Any],
        max_connections: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_tokens_field = max_tokens_field
        self.extra_body = extra_body
        self._sleep = sleep
        self._jitter = random.Random()
        self._jitter_lock = threading.Lock()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=max_connections),
        )

    def _backoff(self, attempt: int, response: httpx.Response | None) -> float:
        # Full jitter spreads retries of many workers hit by the same 429 burst.
        with self._jitter_lock:
            delay = self._jitter.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))
        asked = retry_after_s(response) if response is not None else None
        return max(delay, asked) if asked is not None else delay

    def _body(self, request: Request, config: GenerationConfig) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": chat_messages(request),
            "temperature": config.temperature,
            self.max_tokens_field: config.max_new_tokens,
        }
        body.update(self.extra_body)
        return body

    def _one(self, request: Request, config: GenerationConfig) -> Outcome:
        start = time.perf_counter()
        try:
            body = self._body(request, config)
        except ValueError as exc:
            return Outcome("error", error=f"sample {request.sample.id}: {exc}")
        error = ""
        for attempt in range(self.max_retries + 1):
            response = None
            try:
                response = self._client.post(self.url, json=body)
            except httpx.TimeoutException as exc:
                error = f"timeout: {exc or type(exc).__name__}"
            except httpx.TransportError as exc:
                error = f"transport error: {type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    try:
                        text, finish = _message_text(response.json())
                    except (ValueError, KeyError, IndexError, TypeError) as exc:
                        error = f"malformed response: {type(exc).__name__}: {exc}"
                    else:
                        return Outcome(
                            classify_text(text, truncated=finish == "length"),
                            text=text,
                            latency_s=time.perf_counter() - start,
                            attempts=attempt + 1,
                            meta={"finish_reason": finish},
                        )
                else:
                    error = f"HTTP {response.status_code}: {response.text[:300]}"
                    if response.status_code not in RETRY_STATUS:
                        return Outcome(
                            "error",
                            error=error,
                            latency_s=time.perf_counter() - start,
                            attempts=attempt + 1,
                        )
            if attempt < self.max_retries:
                self._sleep(self._backoff(attempt, response))
        return Outcome(
            "error",
            error=f"{error} (after {self.max_retries + 1} attempts)",
            latency_s=time.perf_counter() - start,
            attempts=self.max_retries + 1,
        )

    def generate(self, requests: Sequence[Request], config: GenerationConfig) -> list[Outcome]:
        return [self._one(r, config) for r in requests]

    def close(self) -> None:
        self._client.close()


@BACKENDS.register("openai")
def openai(
    model: str,
    base_url: str = "https://api.openai.com/v1",
    api_key_env: str = "OPENAI_API_KEY",
    timeout: float = 120.0,
    max_retries: int = 6,
    backoff_base: float = 1.0,
    backoff_max: float = 60.0,
    max_tokens_field: str = "max_tokens",
    extra_body: dict[str, Any] | None = None,
    max_connections: int = 64,
    _sleep: Callable[[float], None] = time.sleep,
) -> OpenAIBackend:
    """A model behind an OpenAI-compatible ``/chat/completions`` endpoint.

    Args:
        model: Model name the server knows.
        base_url: Server root including ``/v1``.
        api_key_env: Environment variable holding the key; unset means no Authorization header
            (local servers).
        timeout: Seconds per HTTP request.
        max_retries: Retries after 408/409/429/5xx, timeouts and connection errors.
        backoff_base: First retry waits up to this many seconds; the bound doubles each retry
            (full jitter), and a server's ``Retry-After`` is waited at least.
        backoff_max: Upper bound of one wait (before ``Retry-After``).
        max_tokens_field: ``max_tokens`` or ``max_completion_tokens`` (newer OpenAI models).
        extra_body: Extra JSON fields for every request (e.g. ``{"top_k": 1}``).
        max_connections: HTTP connection pool size.
    """
    return OpenAIBackend(
        base_url=base_url,
        model=model,
        api_key=os.environ.get(api_key_env) or None,
        timeout=float(timeout),
        max_retries=int(max_retries),
        backoff_base=float(backoff_base),
        backoff_max=float(backoff_max),
        max_tokens_field=max_tokens_field,
        extra_body=dict(extra_body or {}),
        max_connections=int(max_connections),
        sleep=_sleep,
    )
