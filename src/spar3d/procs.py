"""Worker processes that never outlive the command that started them.

A ``kill -9`` of ``spar3d generate`` cannot run any clean-up code in the killed process, so the
workers of its process pool must notice on their own. :func:`die_with_parent` is the pool's
``initializer``: on Linux it asks the kernel (``prctl(PR_SET_PDEATHSIG, SIGKILL)``) to kill the
worker the moment its parent dies; elsewhere a daemon thread polls the parent's pid once a second.

The kernel's signal follows the parent *thread* that started the worker, so workers that a pool
starts on demand from other threads (``spawn`` pools since Python 3.9) pass their parent's pid
and are watched by the polling thread only: their parent may be gone before they get here, and a
helper thread that started them may end long before the command does.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None = None) -> None:
    """Make the calling process exit when its parent process dies (pool ``initializer``).

    Args:
        parent: The parent's pid, for a worker started with ``spawn`` (see the module
            docstring: watched by polling only); default: the current parent.
    """
    if parent is not None and os.getppid() != parent:
        os._exit(1)
    polled = parent is not None
    parent = os.getppid()
    if sys.platform.startswith("linux") and not polled:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # the parent died before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="spar3d-parent-watch", daemon=True).start()
