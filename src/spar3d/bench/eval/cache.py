"""The run's append-only answer cache (``cache.jsonl``), keyed by content.

A key is a sha256 over everything that can change an answer: the backend's name, settings and
revision, the rendered prompt, the image bytes, the generation config and the benchmark's
revision. Each line is written and fsynced before the answer counts as done, so an interrupted
run resumes without asking again or losing an answer; a torn last line (a crash mid-write) is
dropped, and a changed prompt gives a new key, never a stale answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import IO, Any

from spar3d.bench.eval.backends.base import Backend, GenerationConfig, Outcome


def cache_key(
    backend: Backend,
    prompt: str,
    images: tuple[bytes, ...],
    config: GenerationConfig,
    bench_revision: str,
) -> str:
    """sha256 (hex) of the answer's inputs; see the module docstring."""
    header = {
        "backend": backend.name,
        "settings": backend.answer_settings(),
        "revision": backend.revision,
        "generation": config.to_dict(),
        "bench": bench_revision,
        "images": [hashlib.sha256(b).hexdigest() for b in images],
    }
    digest = hashlib.sha256()
    # default=repr: a scripted backend may hold a function; its repr still tells runs apart.
    digest.update(json.dumps(header, sort_keys=True, default=repr).encode())
    digest.update(b"\0")
    digest.update(prompt.encode())
    return digest.hexdigest()


class AnswerCache:
    """``key -> latest entry`` over an append-only JSON Lines file.

    Args:
        path: The cache file; created on first write.

    Raises:
        ValueError: A line other than the last is not valid JSON (the file was edited or is not
            a cache), naming file and line.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.entries: dict[str, dict[str, Any]] = {}
        self.dropped_torn_line = False
        self._lock = threading.Lock()
        self._load()
        self._fh: IO[str] | None = None

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        good_end = 0
        lines = data.split(b"\n")
        for lineno, raw in enumerate(lines, start=1):
            is_last = lineno == len(lines)
            if is_last and raw:
                # No newline at the end: the writer died mid-line. Cut it off so the next
                # append starts on a clean line.
                self.dropped_torn_line = True
                break
            if raw.strip():
                try:
                    entry = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise ValueError(
                        f"{self.path}:{lineno}: malformed cache line ({exc.msg})"
                    ) from None
                self.entries[entry["key"]] = entry
            good_end += len(raw) + 1
        if self.dropped_torn_line:
            with open(self.path, "r+b") as fh:
                fh.truncate(good_end)

    def get(self, key: str) -> dict[str, Any] | None:
        return self.entries.get(key)

    def put(self, key: str, outcome: Outcome, **info: Any) -> dict[str, Any]:
        """Append one answer and fsync it; returns the stored entry."""
        entry = {
            "key": key,
            **info,
            "status": outcome.status,
            "raw": outcome.text,
            "error": outcome.error,
            "latency_s": round(outcome.latency_s, 4),
            "attempts": outcome.attempts,
            "meta": outcome.meta,
        }
        line = json.dumps(entry, ensure_ascii=False, default=repr) + "\n"
        with self._lock:
            if self._fh is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
            fh = self._fh
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
            self.entries[key] = entry
        return entry

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None

    def __enter__(self) -> AnswerCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
