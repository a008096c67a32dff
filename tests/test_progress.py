"""The progress display: a bar that stays on a terminal, plain lines in a log, nothing when off."""

from __future__ import annotations

import io

from rich.console import Console

from spar3d.progress import Progress


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=terminal, width=100), buf


def test_plain_lines_when_not_a_terminal():
    console, buf = _console(False)
    bar = Progress("work", 20, console=console, fields={"failed": 0})
    with bar:
        for i in range(20):
            bar.advance(1, failed=i // 10)
    lines = buf.getvalue().splitlines()
    assert "\x1b" not in buf.getvalue()  # no control characters in a log
    # one line per 10 %; the last one is the final count (not repeated at the end)
    assert [line.split(",")[0] for line in lines] == [f"work: {2 * k}/20" for k in range(1, 11)]
    assert lines[-1].startswith("work: 20/20, 1 failed (")


def test_bar_stays_on_a_terminal_and_messages_print_above():
    console, buf = _console(True)
    bar = Progress("work", 3, console=console)
    with bar:
        bar.print("first failure: HTTP 400")
        for _ in range(3):
            bar.advance(1)
    out = buf.getvalue()
    assert "first failure: HTTP 400" in out
    assert "3/3" in out.rsplit("\n", 3)[-2] + out.rsplit("\n", 3)[-1]  # final state kept


def test_disabled_shows_nothing_but_messages():
    console, buf = _console(False)
    bar = Progress("work", 3, console=console, enabled=False)
    seen = list(bar.track(range(3)))
    bar.print("note")
    assert seen == [0, 1, 2] and buf.getvalue() == "note\n"


def test_tap_counts_in_steps_and_closes_when_abandoned():
    console, buf = _console(False)
    bar = Progress("lines", None, console=console)
    assert sum(bar.tap(range(2500), every=1000)) == sum(range(2500))
    assert bar.completed == 2500 and buf.getvalue().splitlines()[-1].startswith("lines: 2500 (")
    console2, buf2 = _console(False)
    bar2 = Progress("lines", 10, console=console2)
    try:
        for i in bar2.track(range(10)):
            if i == 3:
                raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert buf2.getvalue().splitlines()[-1].startswith("lines: 3/10")  # closed at the error


def _square(x: int) -> int:
    return x * x


def test_scene_passes_keep_their_progress_in_a_log(capsys):
    """index and generate run their scenes through run_jobs: its display is the shared one, so
    a log keeps plain lines (the old bar was transient and left nothing)."""
    from spar3d.pipeline import run_jobs

    outcomes = list(run_jobs(_square, [1, 2, 3], label="indexing scenes", progress=True))
    assert [o.value for o in outcomes] == [1, 4, 9]
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("indexing scenes: 3/3 (")
    assert "\x1b" not in err
    list(run_jobs(_square, [1, 2], label="indexing scenes", progress=False))
    assert capsys.readouterr().err == ""
