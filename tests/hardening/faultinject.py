"""Run the real ``spar3d`` CLI and SIGKILL it at an exact point of its file writes.

    python faultinject.py EVENT:N[:pause] -- ARGS...     (runs ``spar3d ARGS...``)

A kill timed from outside lands wherever the process happens to be; this wrapper makes the
interesting points reproducible without any hook in spar3d itself. It wraps three system calls
in the CLI process (and, inherited through ``fork``, in its pool workers) and, on the ``N``-th
event in one process, sends SIGKILL to the CLI process and then to itself, so the command dies
exactly there, its workers by their own parent-death binding:

- ``tmp:N``: just after the ``N``-th temporary (``.<name>.<random>.tmp``) is created, before a
  byte of it is written (a kill in the middle of writing a file);
- ``replace:N``: just before the ``N``-th ``os.replace`` (a file fully written, not yet moved
  into place; for a file set: ``replace:1`` is its journal, ``replace:2`` its first file);
- ``fsync:N``: just after the ``N``-th ``fsync`` (a file or an appended cache line on disk).

With ``:pause`` the process prints ``PAUSED <pid>`` on stderr at that point and sleeps instead
(holding whatever it holds, e.g. an output lock) until it is killed.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time


def _arm(spec: str) -> None:
    event, n_text, *rest = spec.split(":")
    n, pause, main_pid = int(n_text), rest == ["pause"], os.getpid()
    counts = {"pid": 0, "n": 0}

    def hit(name: str) -> None:
        if name != event:
            return
        if counts["pid"] != os.getpid():  # a forked worker counts its own events
            counts.update(pid=os.getpid(), n=0)
        counts["n"] += 1
        if counts["n"] != n:
            return
        if pause:
            sys.stderr.write(f"PAUSED {os.getpid()}\n")
            sys.stderr.flush()
            time.sleep(3600)
        os.kill(main_pid, signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)

    real_mkstemp, real_replace, real_fsync = tempfile.mkstemp, os.replace, os.fsync

    def mkstemp(*args, **kwargs):  # type: ignore[no-untyped-def]
        fd, path = real_mkstemp(*args, **kwargs)
        if str(path).endswith(".tmp"):
            hit("tmp")
        return fd, path

    def replace(src, dst, **kwargs):  # type: ignore[no-untyped-def]
        hit("replace")
        return real_replace(src, dst, **kwargs)

    def fsync(fd):  # type: ignore[no-untyped-def]
        real_fsync(fd)
        hit("fsync")

    tempfile.mkstemp = mkstemp  # type: ignore[assignment]
    os.replace = replace
    os.fsync = fsync


if __name__ == "__main__":
    sep = sys.argv.index("--")
    _arm(sys.argv[1])
    sys.argv = ["spar3d", *sys.argv[sep + 1 :]]
    from spar3d.cli.main import main

    main()
