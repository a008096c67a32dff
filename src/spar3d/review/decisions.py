"""Review decisions: an append-only JSON Lines log, its current state, and reviewer agreement.

Each action is one line ``{"key", "action", "reason", "reviewer", "tab", "time"}`` with
``action`` one of ``accept``, ``reject``, ``skip``, ``undo``. A line is written with a single
``write`` on a file opened for appending, under an exclusive lock, and flushed to disk before the
request returns: a killed server or a closed tab loses nothing that was acknowledged, and two tabs
(or two servers) append, never overwrite. The state of a key is its last action not undone
(``undo`` cancels the latest remaining action of that key). A torn last line (power loss while
writing) is skipped when reading.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spar3d.errors import ConfigError, InputError

ACTIONS = ("accept", "reject", "skip", "undo")
STATES = {"accept": "accepted", "reject": "rejected", "skip": "skipped"}


def _lock(fd: int) -> None:
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)
    except ImportError:  # pragma: no cover - Windows: the in-process lock still serialises
        pass


def _drop_torn_tail(fd: int) -> None:
    """Cut a torn last line (a write killed before its newline: never acknowledged) so the next
    row starts on a line of its own."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    start = max(0, size - 65536)
    tail = os.pread(fd, size - start, start)
    cut = tail.rfind(b"\n")
    os.ftruncate(fd, start + cut + 1 if cut >= 0 else 0 if start == 0 else size)


def read_log(path: str | Path) -> Iterator[dict[str, Any]]:
    """The log's rows. A torn last line (a write killed before its newline) is skipped; any
    other line that is not a decision row is an :class:`InputError` naming the file, the line and
    the field."""
    p = Path(path)
    if not p.is_file():
        return
    with open(p, encoding="utf-8") as fh:
        lines = fh.readlines()
    for n, line in enumerate(lines, 1):
        torn = n == len(lines) and not line.endswith("\n")
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            if torn:
                continue
            raise InputError(f"{p}:{n}: not a JSON object ({exc.msg})") from None
        if not isinstance(row, dict):
            raise InputError(f"{p}:{n}: expected a JSON object, got {type(row).__name__}")
        if not isinstance(row.get("key"), str):
            raise InputError(f"{p}:{n}: field 'key' must be a string, got {row.get('key')!r}")
        if row.get("action") not in ACTIONS:
            raise InputError(
                f"{p}:{n}: field 'action' = {row.get('action')!r} is not one of "
                f"{', '.join(ACTIONS)}"
            )
        yield row


def replay(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{key: last action row not undone}`` (keys whose actions were all undone are absent)."""
    stacks: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        stack = stacks.setdefault(row["key"], [])
        if row["action"] == "undo":
            if stack:
                stack.pop()
        else:
            stack.append(row)
    return {k: v[-1] for k, v in stacks.items() if v}


@dataclass
class DecisionLog:
    """The decisions file of one reviewer."""

    path: Path
    reviewer: str = "reviewer"

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int], dict[str, dict[str, Any]]] | None = None

    def append(self, key: str, action: str, reason: str = "", tab: str = "") -> dict[str, Any]:
        """Append one action (flushed to disk before returning); returns the row."""
        if action not in ACTIONS:
            raise ConfigError(f"action must be one of {ACTIONS}, got {action!r}")
        row = {
            "key": key,
            "action": action,
            "reason": reason,
            "reviewer": self.reviewer,
            "tab": tab,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        data = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                _lock(fd)
                _drop_torn_tail(fd)
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)  # closing releases the flock
        return row

    def state(self) -> dict[str, dict[str, Any]]:
        """Current decision per key (re-read when the file changed, e.g. by another server)."""
        try:
            st = self.path.stat()
            stamp = (st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            return {}
        if self._cache is None or self._cache[0] != stamp:
            self._cache = (stamp, replay(read_log(self.path)))
        return self._cache[1]


def final_labels(path: str | Path) -> dict[str, str]:
    """``{key: "accept" | "reject"}`` of a decisions file (skips and undone actions left out)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such decisions file")
    return {
        k: r["action"]
        for k, r in replay(read_log(p)).items()
        if r["action"] in ("accept", "reject")
    }


@dataclass
class Agreement:
    """Agreement of two reviewers on the keys both accepted or rejected."""

    n: int
    observed: float
    kappa: float
    table: dict[str, dict[str, int]]
    only_a: int
    only_b: int


def cohen_kappa(a: dict[str, str], b: dict[str, str]) -> Agreement:
    """Cohen's kappa of two label maps over their common keys.

    ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed agreement and ``p_e`` the
    agreement expected from each reviewer's label frequencies; 1.0 when both used a single,
    identical label (``p_e = 1``), NaN when no key is shared.
    """
    common = sorted(set(a) & set(b))
    labels = sorted({a[k] for k in common} | {b[k] for k in common})
    table = {x: {y: 0 for y in labels} for x in labels}
    for k in common:
        table[a[k]][b[k]] += 1
    n = len(common)
    if n == 0:
        return Agreement(0, float("nan"), float("nan"), table, len(a), len(b))
    po = sum(table[x][x] for x in labels) / n
    pe = sum((sum(table[x].values()) / n) * (sum(table[y][x] for y in labels) / n) for x in labels)
    kappa = 1.0 if pe == 1.0 else (po - pe) / (1.0 - pe)
    return Agreement(n, po, kappa, table, len(set(a) - set(b)), len(set(b) - set(a)))
