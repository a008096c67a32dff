"""One progress display for long commands: a rich bar on a terminal, plain lines in a log.

On a terminal the bar stays on screen when it finishes (the final counts remain in the
scrollback). When output is not a terminal (a log file, CI, ``nohup``) no control characters
are written: one plain line every ``every_s`` seconds or 10 % of the work, and one at the end.
``enabled=False`` (``--quiet`` / ``--no-progress``) shows nothing. Messages printed through
:meth:`Progress.print` appear above a live bar instead of tearing it.

Example::

    with progress("SPAR-Bench", total=len(items)) as bar:
        for item in items:
            ...
            bar.advance(1, failed=n_failed)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")


class Progress:
    """A counter with a display; see the module docstring.

    Args:
        description: What is counted, e.g. ``"SPAR-Bench"``.
        total: Units of work, or None when unknown.
        enabled: Show anything at all.
        fields: Extra counters shown after the count (``failed=0``), updated by :meth:`advance`.
        console: A rich console (default: stderr); tests pass one that records.
        every_s: Plain mode: seconds between lines.
    """

    def __init__(
        self,
        description: str,
        total: int | None,
        enabled: bool = True,
        fields: dict[str, Any] | None = None,
        console: Any = None,
        every_s: float = 30.0,
    ) -> None:
        from rich.console import Console

        self.description = description
        self.total = total
        self.enabled = enabled
        self.fields = dict(fields or {})
        self.console = console or Console(stderr=True)
        self.completed = 0
        self.every_s = every_s
        self._rich: Any = None
        self._task: Any = None
        self._start = time.perf_counter()
        self._last_line = self._start
        self._last_tenth = 0
        self._printed: tuple[int, dict[str, Any]] | None = None  # what the last plain line said

    @property
    def live(self) -> bool:
        return self.enabled and self.console.is_terminal

    def __enter__(self) -> Progress:
        self._start = self._last_line = time.perf_counter()
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            extra = " ".join(f"{{task.fields[{k}]}} {k}" for k in self.fields)
            columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn()]
            if extra:
                columns.append(TextColumn(extra))
            columns += [TimeElapsedColumn(), TimeRemainingColumn()]
            self._rich = RichProgress(*columns, console=self.console, transient=False)
            self._rich.__enter__()
            self._task = self._rich.add_task(self.description, total=self.total, **self.fields)
        return self

    def advance(self, n: int = 1, **fields: Any) -> None:
        """Count ``n`` more units done and update the extra counters."""
        self.completed += n
        self.fields.update(fields)
        if not self.enabled:
            return
        if self._rich is not None:
            self._rich.update(self._task, advance=n, **fields)
            return
        now = time.perf_counter()
        tenth = self.completed * 10 // self.total if self.total else 0
        if now - self._last_line >= self.every_s or tenth > self._last_tenth:
            self._line()
            self._last_line, self._last_tenth = now, tenth

    def track(self, items: Iterable[T]) -> Iterator[T]:
        """Show the display while iterating ``items``, one step per item done.

        The display is closed when the loop ends, breaks, or is abandoned by an exception (the
        generator is closed as the loop's frame unwinds), so a loop needs no ``with`` block.
        """
        self.__enter__()
        try:
            for item in items:
                yield item
                self.advance(1)
        finally:
            self.__exit__(None, None, None)

    def tap(self, items: Iterable[T], every: int = 1000) -> Iterator[T]:
        """Like :meth:`track`, advancing in steps of ``every`` items (cheap for millions)."""
        self.__enter__()
        pending = 0
        try:
            for item in items:
                yield item
                pending += 1
                if pending == every:
                    self.advance(pending)
                    pending = 0
            self.advance(pending)
        finally:
            self.__exit__(None, None, None)

    def print(self, message: str) -> None:
        """A message for the user (shown above a live bar; always shown, even when disabled)."""
        if self._rich is not None:
            self._rich.console.print(message, highlight=False)
        else:
            self.console.print(message, highlight=False)

    def _line(self) -> None:
        done = f"{self.completed}/{self.total}" if self.total is not None else str(self.completed)
        extra = "".join(f", {v} {k}" for k, v in self.fields.items())
        elapsed = time.perf_counter() - self._start
        self.console.print(f"{self.description}: {done}{extra} ({elapsed:.0f} s)", highlight=False)
        self._printed = (self.completed, dict(self.fields))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._rich is not None:
            self._rich.__exit__(exc_type, exc, tb)
            self._rich = None
        elif self.enabled and exc_type is None and self._printed != (self.completed, self.fields):
            self._line()  # the final counts, unless the last line already said them


def progress(description: str, total: int | None, enabled: bool = True, **fields: Any) -> Progress:
    """A :class:`Progress` on stderr; see the module docstring."""
    return Progress(description, total, enabled=enabled, fields=fields)
