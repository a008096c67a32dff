"""Progress of the scene commands through the CLI: index, generate, verify and bench build keep
plain lines in a log (their bars used to be transient and left nothing) and are silent with -q."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from spar3d.cli.main import run

TASKS = "depth_prediction_oc,distance_prediction_oc"


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from spar3d.scenes.synthetic.synthesize import synthesize

    base = tmp_path_factory.mktemp("cli_progress")
    return list(synthesize(base / "scenes", 2, 0, 20, 96, 72, progress=False))


def _progress_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if re.search(r"\(\d+ s\)$", line)]


def test_scene_commands_log_their_progress_once(
    scenes: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dirs = [str(d) for d in scenes]
    assert run(["index", *dirs, "--force"]) == 0
    lines = _progress_lines(capsys.readouterr().err)
    assert [line.split(" (")[0] for line in lines] == ["indexing scenes: 1/2", "indexing scenes: 2/2"]

    spar = tmp_path / "spar"
    for split in ("train", "val"):
        assert run(["generate", *dirs, "--out", str(spar), "--split", split,
                    "--tasks", TASKS, "--per-task", "2"]) == 0  # fmt: skip
        lines = _progress_lines(capsys.readouterr().err)
        assert lines[-1].startswith("generating scenes: 2/2 ("), lines

    assert run(["verify", str(spar), "--split", "val"]) == 0
    n_val = sum(len(p.read_text().splitlines()) for p in spar.glob("*/qa_jsonl/val/*/*/*.jsonl"))
    lines = _progress_lines(capsys.readouterr().err)
    assert lines[-1].startswith(f"verify (samples): {n_val} ("), lines

    assert run(["bench", "build", str(spar), "--out", str(tmp_path / "bench"),
                "--tasks", TASKS, "--per-task", "2"]) == 0  # fmt: skip
    lines = _progress_lines(capsys.readouterr().err)
    assert lines[-1].startswith("bench build (tasks): 2/2 ("), lines


@pytest.mark.parametrize("quiet", ["-q", "--no-progress"])
def test_scene_commands_are_silent_when_quiet(
    quiet: str, scenes: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = [tmp_path / d.name for d in scenes]
    for src, dst in zip(scenes, work, strict=True):
        shutil.copytree(src, dst)
    dirs = [str(d) for d in work]
    assert run(["index", *dirs, "--force", quiet]) == 0
    assert run(["generate", *dirs, "--out", str(tmp_path / "spar"), "--split", "val",
                "--tasks", TASKS, "--per-task", "1", quiet]) == 0  # fmt: skip
    assert run(["verify", str(tmp_path / "spar"), quiet]) == 0
    assert _progress_lines(capsys.readouterr().err) == []


def test_synth_logs_frames_and_scenes_and_counts_resumed_scenes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """2 scenes x 5 frames: the last line says 10/10 frames and 2 scenes, also when a rerun
    resumes both scenes (their frames count at once); -q prints nothing."""
    argv = ["synth", "--out", str(tmp_path / "s"), "--scenes", "2", "--frames", "5",
            "--width", "64", "--height", "48"]  # fmt: skip
    for _ in range(2):  # made, then resumed
        assert run(argv) == 0
        lines = _progress_lines(capsys.readouterr().err)
        assert lines, "no progress line"
        assert lines[-1].startswith("synth (frames): 10/10, 2 scenes ("), lines
    assert run([*argv, "-q"]) == 0
    assert _progress_lines(capsys.readouterr().err) == []
