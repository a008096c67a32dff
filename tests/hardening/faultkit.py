"""Helpers of the fault suite: run the real CLI, SIGKILL it, watch its processes, compare trees."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from spar3d.io import COMMIT_JOURNAL, LOCK_NAME, TEMP_SUFFIX

INJECT = str(Path(__file__).with_name("faultinject.py"))
HAS_PROC = Path("/proc/self/stat").exists()


def spar3d(*args: str) -> list[str]:
    return [sys.executable, "-m", "spar3d", *args]


def injected(spec: str, *args: str) -> list[str]:
    """``spar3d ARGS`` killed (or paused) at ``spec`` (see ``faultinject.py``)."""
    return [sys.executable, INJECT, spec, "--", *args]


def files(root: Path, normalise: Callable[[str, bytes], bytes] | None = None) -> dict[str, bytes]:
    """Every file under ``root`` (the lock file aside), relative path -> bytes."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != LOCK_NAME:
            rel = p.relative_to(root).as_posix()
            data = p.read_bytes()
            out[rel] = normalise(rel, data) if normalise else data
    return out


def count_files(root: Path) -> int:
    """Files under ``root`` now, for a kill condition polled while the command runs: folders the
    command removes while the walk is under way (its work folder) count as empty."""
    n = 0
    for folder, _dirs, names in os.walk(root):  # os.walk skips folders that vanish
        n += sum(1 for name in names if os.path.isfile(os.path.join(folder, name)))
    return n


def debris(*roots: Path) -> list[str]:
    """Temporaries and commit journals left under ``roots``."""
    return [
        str(p)
        for root in roots
        for p in root.rglob("*")
        if p.name.endswith(TEMP_SUFFIX) or p.name == COMMIT_JOURNAL
    ]


def _ppid_map() -> dict[int, int]:
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            out[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return out


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for child, parent in _ppid_map().items():
        children.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in found:
                found.add(c)
                todo.append(c)
    return found


def alive(pids: set[int]) -> set[int]:
    """The pids still running (zombies count as gone)."""
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            out.add(pid)
    return out


def marked(mark: str) -> set[int]:
    """Processes whose environment holds ``SPAR3D_FAULT_MARK=<mark>`` (every descendant of a
    :class:`Watched` command inherits it, however it was started and whoever adopted it)."""
    needle = f"SPAR3D_FAULT_MARK={mark}".encode() + b"\0"
    out = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if needle in (d / "environ").read_bytes():
                    out.add(int(d.name))
            except OSError:
                continue
    return out


class Watched:
    """A CLI subprocess whose descendants are recorded while it runs."""

    def __init__(self, cmd: list[str], cwd: Path | None = None) -> None:
        self.mark = uuid.uuid4().hex
        env = {**os.environ, "SPAR3D_FAULT_MARK": self.mark}
        env.pop("OPENAI_API_KEY", None)
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.seen: set[int] = set()
        self._stop = False
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop and self.proc.poll() is None:
            self.seen |= descendants(self.proc.pid)
            time.sleep(0.02)

    def kill(self) -> None:
        self.seen |= descendants(self.proc.pid)
        os.kill(self.proc.pid, signal.SIGKILL)

    def wait(self, timeout: float = 120) -> tuple[int, str]:
        _, err = self.proc.communicate(timeout=timeout)
        self._stop = True
        self._thread.join()
        return self.proc.returncode, err

    def survivors(self, timeout: float = 5.0) -> set[int]:
        """Descendants still alive ``timeout`` seconds after the command died."""
        gone = lambda: alive(self.seen | marked(self.mark))  # noqa: E731
        end = time.monotonic() + timeout
        while gone() and time.monotonic() < end:
            time.sleep(0.05)
        return gone()


def wait_for(cond: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def run_ok(cmd: list[str], cwd: Path | None = None) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]


def kill_injected(cmd: list[str], cwd: Path | None = None) -> set[int]:
    """Run an ``injected`` command to its SIGKILL; returns the descendants it had."""
    w = Watched(cmd, cwd)
    code, err = w.wait()
    assert code == -signal.SIGKILL, f"not killed at the injection point (exit {code}): {err[-2000:]}"
    return w.survivors()


def kill_when(cmd: list[str], cond: Callable[[], bool], cwd: Path | None = None) -> set[int]:
    """Start ``cmd`` and SIGKILL it as soon as ``cond()``; returns its surviving descendants."""
    w = Watched(cmd, cwd)
    wait_for(lambda: cond() or w.proc.poll() is not None, 120)
    assert w.proc.poll() is None, "the command finished before the kill point"
    w.kill()
    w.wait()
    return w.survivors()


class Paused:
    """An ``injected(...:pause)`` command, stopped at its point (holding its locks)."""

    def __init__(self, cmd: list[str], cwd: Path | None = None) -> None:
        self.w = Watched(cmd, cwd)
        assert self.w.proc.stderr is not None
        line = ""
        while not line.startswith("PAUSED") and self.w.proc.poll() is None:
            line = self.w.proc.stderr.readline()
        assert line.startswith("PAUSED"), f"did not reach its pause point: {line}"

    def kill(self) -> set[int]:
        self.w.kill()
        self.w.wait()
        return self.w.survivors()
