"""Small I/O helpers shared by every writer: atomic writes and JSON Lines."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from spar3d.errors import InputError, ResourceBusyError

TEMP_SUFFIX = ".tmp"
LOCK_NAME = ".spar3d.lock"


def _process_umask() -> int:
    """The process umask (read without a window where it is changed, where /proc allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _process_umask()


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path`` and move it into place only on success.

    A crash mid-write leaves the previous file (or no file) rather than a truncated one; a
    temporary left by a kill is named ``.<name>.<random>.tmp`` and removed by
    :func:`clean_stale_temps`. The file gets the mode an ordinary ``open`` would give it
    (``0o666`` less the umask), not ``mkstemp``'s private ``0o600``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    os.fchmod(fd, 0o666 & ~_UMASK)
    os.close(fd)
    try:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2) -> None:
    """Write ``obj`` as JSON atomically (UTF-8, keys in insertion order)."""
    with atomic_open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=indent, ensure_ascii=False)
        fh.write("\n")


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[Any]) -> int:
    """Write rows as JSON Lines atomically; returns the number of lines."""
    n = 0
    with atomic_open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, separators=(", ", ": ")))
            fh.write("\n")
            n += 1
    return n


def read_jsonl(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield one object per non-empty line; a malformed line raises naming file and line."""
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: malformed JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise InputError(
                    f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}"
                )
            yield obj


def clean_stale_temps(folder: str | os.PathLike[str], *, older_than_s: float = 0.0) -> int:
    """Remove temporaries that :func:`atomic_open` left under ``folder`` when killed.

    Call it while holding :func:`output_lock` on ``folder`` (then no live writer owns them).
    Returns how many files were removed.
    """
    root = Path(folder)
    if not root.is_dir():
        return 0
    now = time.time()
    removed = 0
    for tmp in root.rglob(f".*{TEMP_SUFFIX}"):
        try:
            if tmp.is_file() and now - tmp.stat().st_mtime >= older_than_s:
                tmp.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


@contextmanager
def output_lock(folder: str | os.PathLike[str], command: str = "spar3d") -> Iterator[Path]:
    """Hold an exclusive lock on an output folder for the duration of a command.

    A second process that asks for the same folder gets :class:`ResourceBusyError` at once,
    naming the folder and the process that holds it. The lock is an ``flock`` on
    ``<folder>/.spar3d.lock``: the kernel releases it when the holder dies (kill -9 included), so
    a stale lock file never blocks a later run. On entry, temporaries left by a killed run are
    cleaned (:func:`clean_stale_temps`).
    """
    import fcntl

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    lock_path = root / LOCK_NAME
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666 & ~_UMASK)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise ResourceBusyError(
                f"{root}: another spar3d run is writing here ({holder}); wait for it to finish "
                "or choose another output folder"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{command}, pid {os.getpid()}".encode(), 0)
        clean_stale_temps(root)
        yield root
    finally:
        os.close(fd)
