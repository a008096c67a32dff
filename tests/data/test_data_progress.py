"""Progress of the data commands (data-json, stats, show, mix --materialize, export): plain lines
on stderr when it is not a terminal, a bar that stays when it is, nothing with --quiet."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from spar3d.cli.main import run
from spar3d.data.toy import make_toy_tree


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_toy_tree(tmp_path / "spar")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    return Path("spar")


def _qa_files(root: Path) -> list[Path]:
    return sorted(root.glob("*/qa_jsonl/train/*/*/*.jsonl"))


def _lines(path: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in [path])


def _commands(tree: Path) -> dict[str, tuple[list[str], str]]:
    """Command -> (argv, the final progress line expected, counted independently)."""
    files = _qa_files(tree)
    n_files = len(files)
    n_lines = sum(_lines(p) for p in files)
    return {
        "data-json": (["data-json", str(tree)], f"data-json (QA files): {n_files}/{n_files}"),
        "stats": (["stats", str(tree)], f"stats (QA files): {n_files}/{n_files}"),
        "show": (["show", str(tree), "--out", "gal", "--per-file", "1"],
                 f"show (samples): {n_files}"),
        "export": (["export", str(tree), "--format", "sharegpt", "--out", "sg", "--limit", "3"],
                   "export sharegpt (samples): 3/3"),
        "mix": (["mix", "idx/scannet_0k.json", "idx/structured3d_0k.json", "--out", "idx",
                 "--materialize-all"], f"mix: writing lines: {n_lines}/{n_lines}"),
    }  # fmt: skip


def _prepare(name: str, tree: Path) -> None:
    if name == "mix":
        assert run(["data-json", str(tree), "--out", "idx", "-q"]) == 0


@pytest.mark.parametrize("name", ["data-json", "stats", "show", "export", "mix"])
def test_plain_progress_lines_when_not_a_terminal(
    name: str, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, final = _commands(tree)[name]
    _prepare(name, tree)
    capsys.readouterr()
    assert run(argv) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err  # no control characters in a log
    progress = [line for line in err.splitlines() if re.search(r"\(\d+ s\)$", line)]
    assert progress, err
    assert progress[-1].startswith(final + " ("), (progress, final)


@pytest.mark.parametrize("name", ["data-json", "stats", "show", "export", "mix"])
@pytest.mark.parametrize("flag", ["--quiet", "-q", "--no-progress"])
def test_quiet_shows_no_progress(
    name: str, flag: str, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, final = _commands(tree)[name]
    _prepare(name, tree)
    capsys.readouterr()
    assert run([*argv, flag]) == 0
    captured = capsys.readouterr()
    assert final.split(":")[0] not in captured.err + captured.out


def test_the_bar_stays_on_a_terminal(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich: treat stderr as a terminal
    n_files = len(_qa_files(tree))
    assert run(["stats", str(tree)]) == 0
    err = capsys.readouterr().err
    assert "\x1b" in err  # a live bar was drawn ...
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err).replace("\r", "\n")
    last = [line for line in plain.splitlines() if line.strip()][-1]
    assert "stats (QA files)" in last and f"{n_files}/{n_files}" in last  # ... and kept


def test_summary_tables_wrap_in_an_80_column_log(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    assert run(["stats", str(tree), "-q"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out  # folded, not cut
    assert "spatial_imagination" in out.replace("\n", "").replace("│", "").replace(" ", "")
    assert not os.environ.get("FORCE_COLOR")
