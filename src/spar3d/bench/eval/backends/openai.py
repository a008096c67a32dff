"""Any OpenAI-compatible chat-completions server (OpenAI, vLLM, SGLang, LM Studio, ...) over httpx.

No SDK is needed. Images go as base64 data URLs in ``image_url`` content parts, before the text.
The API key is read from an environment variable whose *name* is a setting; the key itself is
never stored in settings, logs or the run folder: server error bodies are scrubbed of it before
they are returned (a server may echo request headers), and credentials inside ``base_url``
(``https://user:pass@host``, ``?api_key=...``) are redacted in the recorded settings.

:meth:`OpenAIBackend.preflight` checks, in seconds, what would otherwise fail hundreds of
requests later: the server answers, the key is accepted, the model is served, and a request with
as many images as the benchmark's largest sample is accepted (vLLM's ``--limit-mm-per-prompt``).
"""

from __future__ import annotations

import base64
import email.utils
import json
import os
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from spar3d.bench.eval.backends.base import (
    BACKENDS,
    Backend,
    GenerationConfig,
    Outcome,
    Request,
    classify_text,
)
from spar3d.errors import BackendError, ConfigError

RETRY_STATUS = frozenset({408, 409, 429}) | frozenset(range(500, 600))


_SECRET_QUERY = re.compile(r"key|token|secret|sig|password|auth", re.IGNORECASE)
_BEARER = re.compile(r"((?:Bearer|Basic)\s+)[^\s\"',}]+", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` with a user/password and secret-looking query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if _SECRET_QUERY.search(k) else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def check_base_url(base_url: str) -> str:
    """A usable ``http(s)://host[:port]/...`` server root, or a :class:`ConfigError` at once."""
    try:
        parts = urlsplit(base_url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError as exc:
        raise ConfigError(f"--base-url {redact_url(base_url)!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ConfigError(
            f"--base-url {redact_url(base_url)!r}: expected http(s)://host[:port]/v1, "
            "e.g. http://localhost:8000/v1"
        )
    return base_url


def endpoint(base_url: str, name: str) -> str:
    """``base_url`` + ``/name``, keeping a query string (``?api-version=...``) at the end."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/") + "/" + name
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def error_hint(message: str, max_images: int | None = None) -> str | None:
    """What to do about a server's refusal, for the messages vLLM, SGLang and OpenAI send."""
    low = message.lower()
    n = max_images or "N"
    if "image" in low and ("at most" in low or "limit" in low or "too many" in low):
        return (
            f"the server takes fewer images per prompt than this benchmark needs (up to {n}): "
            f"start vLLM with --limit-mm-per-prompt '{{\"image\": {n}}}' "
            "(SGLang serves several images per prompt by default)"
        )
    if "context length" in low or "max_model_len" in low or "too long" in low:
        return "the prompt with its images exceeds the model length: raise vLLM's --max-model-len"
    if "does not exist" in low or "model_not_found" in low or "not found" in low:
        return "--model-arg model=... must be a name the server serves (vLLM --served-model-name)"
    if "401" in low or "unauthorized" in low or "api key" in low or "authentication" in low:
        return "the server refused the key: check the variable named by --api-key-env"
    return None


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


#: Hosts of commercial APIs: the ``spar-paper`` prompt preset uses the API wording for them.
API_HOSTS = ("api.openai.com", "generativelanguage.googleapis.com", "api.anthropic.com")


class OpenAIBackend(Backend):
    default_concurrency = 8
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
        self.base_url = base_url.rstrip("/")
        self.url = endpoint(base_url, "chat/completions")
        self.timeout = timeout
        self._api_key = api_key
        host = urlsplit(self.base_url).hostname or ""
        self.api_model = any(host == h or host.endswith("." + h) for h in API_HOSTS)
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

    def scrub(self, text: str) -> str:
        """``text`` without the API key, bearer tokens or URL credentials (before it is stored)."""
        if self._api_key and self._api_key in text:
            text = text.replace(self._api_key, "***")
        if "earer" in text or "asic" in text:
            text = _BEARER.sub(r"\1***", text)
        if self.base_url in text:
            text = text.replace(self.base_url, redact_url(self.base_url))
        return text

    def public_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        out = dict(settings)
        if isinstance(out.get("base_url"), str):
            out["base_url"] = redact_url(out["base_url"])
        return out

    def _server_message(self, response: httpx.Response) -> str:
        """The server's own error message (``error.message`` or the body), scrubbed, one line."""
        try:
            body = response.json()
            error = body.get("error", body) if isinstance(body, dict) else body
            message = error.get("message", error) if isinstance(error, dict) else error
            text = message if isinstance(message, str) else json.dumps(message)
        except ValueError:
            text = response.text
        return self.scrub(" ".join(text.split()))[:300]

    def preflight(self, probe: Request | None = None) -> list[str]:
        """Fail in seconds, with the server's own words, when the run cannot work.

        Checks: ``GET /models`` answers (connection refused, DNS, timeout), the key is accepted
        (401/403), ``model`` is among the served models (when the server lists them), and one
        request like ``probe`` (the benchmark's sample with the most images) with one output
        token is accepted (image-count limits, context length, unknown model).

        Returns:
            Notes for the terminal (e.g. the server does not list its models).

        Raises:
            BackendError: Naming the server, the status and the server's message, with a hint.
        """
        notes: list[str] = []
        where = redact_url(self.base_url)
        try:
            response = self._client.get(
                endpoint(self.base_url, "models"), timeout=min(self.timeout, 10.0)
            )
        except httpx.TransportError as exc:
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "cannot connect"
            raise BackendError(
                f"{where}: {kind} ({self.scrub(str(exc) or type(exc).__name__)}); "
                "is the server running and is --base-url right (it ends in /v1)?"
            ) from None
        if response.status_code in (401, 403):
            raise BackendError(
                f"{where}/models: HTTP {response.status_code}: {self._server_message(response)}; "
                "the server refused the key: check the variable named by --api-key-env"
            )
        if response.status_code == 200:
            try:
                served = [m["id"] for m in response.json()["data"]]
            except (ValueError, KeyError, TypeError):
                served = []
            if served and self.model not in served:
                raise BackendError(
                    f"{where}: model {self.model!r} is not served; the server lists: "
                    f"{', '.join(map(str, served[:10]))} (set -M model=NAME)"
                )
        else:
            notes.append(f"{where}/models answered HTTP {response.status_code}; model not checked")
        if probe is not None:
            outcome = self._one(probe, GenerationConfig(max_new_tokens=1), retries=1)
            if outcome.status == "error":
                message = outcome.error or ""
                hint = error_hint(message, len(probe.images))
                raise BackendError(
                    f"{where}: a test request with {len(probe.images)} image(s) failed: {message}"
                    + (f"; {hint}" if hint else "")
                )
        return notes

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

    def _one(
        self, request: Request, config: GenerationConfig, retries: int | None = None
    ) -> Outcome:
        start = time.perf_counter()
        max_retries = self.max_retries if retries is None else retries
        try:
            body = self._body(request, config)
        except ValueError as exc:
            return Outcome("error", error=f"sample {request.sample.id}: {exc}")
        error = ""
        for attempt in range(max_retries + 1):
            response = None
            try:
                response = self._client.post(self.url, json=body)
            except httpx.TimeoutException as exc:
                error = self.scrub(f"timeout: {exc or type(exc).__name__}")
            except httpx.TransportError as exc:
                error = self.scrub(f"transport error: {type(exc).__name__}: {exc}")
            else:
                if response.status_code == 200:
                    try:
                        text, finish = _message_text(response.json())
                    except (ValueError, KeyError, IndexError, TypeError) as exc:
                        error = f"malformed response: {type(exc).__name__}: {exc}"
                    else:
                        text = self.scrub(text) if self._api_key else text
                        return Outcome(
                            classify_text(text, truncated=finish == "length"),
                            text=text,
                            latency_s=time.perf_counter() - start,
                            attempts=attempt + 1,
                            meta={"finish_reason": finish},
                        )
                else:
                    error = f"HTTP {response.status_code}: {self._server_message(response)}"
                    if response.status_code not in RETRY_STATUS:
                        return Outcome(
                            "error",
                            error=error,
                            latency_s=time.perf_counter() - start,
                            attempts=attempt + 1,
                            meta={"http_status": response.status_code},
                        )
            if attempt < max_retries:
                self._sleep(self._backoff(attempt, response))
        return Outcome(
            "error",
            error=f"{error} (after {max_retries + 1} attempts)",
            latency_s=time.perf_counter() - start,
            attempts=max_retries + 1,
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
        base_url=check_base_url(base_url),
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
