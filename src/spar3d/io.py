"""Small I/O helpers shared by every writer: atomic writes and JSON Lines."""

from __future__ import annotations

import glob
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from inspect import signature
from pathlib import Path
from typing import IO, Any, ParamSpec, TypeVar

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
    with _write_temp(path, mode, kwargs, lambda tmp: os.replace(tmp, path)) as fh:
        yield fh


@contextmanager
def _write_temp(
    path: Path, mode: str, kwargs: dict[str, Any], on_success: Callable[[str], None]
) -> Iterator[IO[Any]]:
    """Write a temporary beside ``path`` (umask-honouring mode, fsynced), then ``on_success``;
    on any failure the temporary is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    os.fchmod(fd, 0o666 & ~_UMASK)
    os.close(fd)
    try:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        on_success(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(
    path: str | os.PathLike[str],
    obj: Any,
    *,
    indent: int | None = 2,
    files: FileSet | None = None,
) -> None:
    """Write ``obj`` as JSON atomically (UTF-8, keys in insertion order); with ``files``, as
    part of that :class:`FileSet` (moved into place at its commit)."""
    opener = files.open if files is not None else atomic_open
    with opener(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=indent, ensure_ascii=False)
        fh.write("\n")


def write_jsonl(
    path: str | os.PathLike[str], rows: Iterable[Any], *, files: FileSet | None = None
) -> int:
    """Write rows as JSON Lines atomically (or into ``files``); returns the number of lines."""
    n = 0
    opener = files.open if files is not None else atomic_open
    with opener(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, separators=(", ", ": ")))
            fh.write("\n")
            n += 1
    return n


def read_jsonl(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield one object per non-empty line; a malformed line raises naming file and line."""
    for _lineno, obj in read_jsonl_numbered(path):
        yield obj


def read_jsonl_numbered(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` per non-empty line (for callers whose own errors name the
    line); a malformed line or one that is not a JSON object raises naming file and line."""
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
            yield lineno, obj


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


def remove_temps_of(path: str | os.PathLike[str]) -> int:
    """Remove the temporaries :func:`atomic_open` left for one file (``.<name>.*.tmp`` beside
    it), for writers that own one file in a folder they do not own (an index in a scene
    folder). Call it holding a lock on that file's writers. Returns how many were removed."""
    target = Path(path)
    removed = 0
    for tmp in target.parent.glob(f".{glob.escape(target.name)}.*{TEMP_SUFFIX}"):
        try:
            tmp.unlink()
            removed += 1
        except FileNotFoundError:
            continue
    return removed


@contextmanager
def output_lock(
    folder: str | os.PathLike[str],
    command: str = "spar3d",
    *,
    clean: bool = True,
    wait: Callable[[str], None] | None = None,
) -> Iterator[Path]:
    """Hold an exclusive lock on an output folder for the duration of a command.

    A second process that asks for the same folder gets :class:`ResourceBusyError` at once,
    naming the folder and the process that holds it; with ``wait`` it calls ``wait(holder)``
    instead and blocks until the holder is done (a writer whose work can be shared, such as one
    scene's index). The lock is an ``flock`` on ``<folder>/.spar3d.lock``: the kernel releases it
    when the holder dies (kill -9 included), so a stale lock file never blocks a later run. On
    entry, temporaries left by a killed run are cleaned (:func:`clean_stale_temps`) unless
    ``clean`` is False (then the command cleans the sub-folders it rewrites, to avoid walking a
    dataset of millions of files).
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
            if wait is None:
                raise ResourceBusyError(
                    f"{root}: another spar3d run is writing here ({holder}); wait for it to "
                    "finish or choose another output folder"
                ) from None
            wait(holder)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{command}, pid {os.getpid()}".encode(), 0)
        if clean:
            clean_stale_temps(root)
        yield root
    finally:
        os.close(fd)


P = ParamSpec("P")
R = TypeVar("R")


def locks_output(
    param: str, command: str, *, clean: bool = True
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: the function runs holding :func:`output_lock` on its argument ``param``."""

    def deco(fn: Callable[P, R]) -> Callable[P, R]:
        sig = signature(fn)

        @wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            folder = sig.bind(*args, **kwargs).arguments[param]
            with output_lock(folder, command, clean=clean):
                return fn(*args, **kwargs)

        return wrapper

    return deco


COMMIT_JOURNAL = ".spar3d_commit.json"


class FileSet:
    """Several files that must change together (a bench's Parquet, provenance and info).

    Each :meth:`open` writes a temporary next to its target; :meth:`commit` first writes a
    journal naming every (temporary, target) pair, then moves them into place and deletes the
    journal. A kill before the journal exists leaves the old files (and temporaries that
    :func:`clean_stale_temps` removes); a kill after it is rolled forward by
    :func:`recover_commit`, which every writer of the set calls first. Either way the set is
    never half old, half new once a spar3d command has looked at the folder.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._staged: list[tuple[Path, Path]] = []

    @contextmanager
    def open(
        self, path: str | os.PathLike[str], mode: str = "w", **kwargs: Any
    ) -> Iterator[IO[Any]]:
        """Write ``path``'s new content; it replaces the old one at :meth:`commit`."""
        target = Path(path)
        with _write_temp(
            target, mode, kwargs, lambda tmp: self._staged.append((Path(tmp), target))
        ) as fh:
            yield fh

    def discard(self) -> None:
        for tmp, _ in self._staged:
            if tmp.exists():
                tmp.unlink()
        self._staged = []

    def commit(self) -> list[Path]:
        rel = [
            [os.path.relpath(t, self.folder), os.path.relpath(f, self.folder)]
            for t, f in self._staged
        ]
        write_json(self.folder / COMMIT_JOURNAL, {"moves": rel})
        recover_commit(self.folder)
        done = [f for _, f in self._staged]
        self._staged = []
        return done


def recover_commit(folder: str | os.PathLike[str]) -> bool:
    """Finish a :class:`FileSet` commit that a kill interrupted; True when there was one."""
    root = Path(folder)
    journal = root / COMMIT_JOURNAL
    if not journal.is_file():
        return False
    try:
        moves = json.loads(journal.read_text(encoding="utf-8"))["moves"]
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink()  # a torn journal means the commit never started
        return False
    if not isinstance(moves, list) or not all(
        isinstance(m, list) and len(m) == 2 and all(isinstance(x, str) for x in m) for m in moves
    ):
        from spar3d.errors import InputError

        raise InputError(
            f"{journal}: field 'moves' must be a list of [temporary, target] name pairs; "
            "remove the file if no spar3d command is writing this folder"
        )
    for tmp_rel, final_rel in moves:
        tmp = resolve_inside(root, tmp_rel)
        final = resolve_inside(root, final_rel)
        if tmp.exists():
            os.replace(tmp, final)
    journal.unlink()
    return True


def settle_commit(folder: str | os.PathLike[str]) -> None:
    """For readers of a :class:`FileSet` folder: finish a commit a killed writer left half done,
    so what is read is the old set or the new one, never a mix.

    Does nothing (and writes nothing) unless a journal is there; then it takes the folder's lock
    and rolls the commit forward, or raises :class:`ResourceBusyError` when a live writer holds
    the lock (the set is being replaced right now).
    """
    if (Path(folder) / COMMIT_JOURNAL).is_file():
        with output_lock(folder, "spar3d (finishing an interrupted commit)", clean=False):
            recover_commit(folder)


@contextmanager
def file_set(folder: str | os.PathLike[str]) -> Iterator[FileSet]:
    """``with file_set(dir) as fs: ... fs.open(...)``: committed together on success."""
    recover_commit(folder)
    fs = FileSet(folder)
    try:
        yield fs
    except BaseException:
        fs.discard()
        raise
    fs.commit()


def resolve_inside(root: Path, rel: str) -> Path:
    from spar3d.paths import resolve_under

    return resolve_under(root, rel, str(root / COMMIT_JOURNAL))


def open_parquet(path: str | os.PathLike[str]) -> Any:
    """``pyarrow.parquet.ParquetFile(path)``, or an :class:`InputError` naming the file when it
    is not Parquet (pyarrow's own message names nothing)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None


def save_png(fig: Any, path: str | os.PathLike[str], dpi: int = 110) -> Path:
    """Write a matplotlib figure as PNG atomically (folders made) and close it."""
    import matplotlib.pyplot as plt

    out = Path(path)
    try:
        with atomic_open(out, "wb") as fh:
            fig.savefig(fh, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return out
