"""kill -9 in the middle of a command, then resume: byte-identical output, no children, no debris.

A reference run writes the output uninterrupted. The faulted run is killed with SIGKILL (what a
crashed node or an impatient ``kill -9`` does: no clean-up code runs) at several points, and then
run again with the same arguments. The resumed output must equal the reference byte for byte,
no worker process of the killed run may still be alive, and no temporary file may remain.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spar3d.io import TEMP_SUFFIX


def _spar3d(*args: str) -> list[str]:
    return [sys.executable, "-m", "spar3d", *args]


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("fault_scenes")
    run = dict(check=True, capture_output=True, cwd=root)
    subprocess.run(
        _spar3d("synth", "--out", "scenes", "--scenes", "3", "--frames", "40", "--no-progress"),
        **run,
    )
    dirs = sorted((root / "scenes").iterdir())
    subprocess.run(_spar3d("index", *map(str, dirs)), **run)
    return dirs


def _generate_args(scenes: list[Path], out: Path) -> list[str]:
    return _spar3d(
        "generate", *map(str, scenes), "--out", str(out), "--per-task", "2",
        "--tasks", "depth_prediction_oc,distance_prediction_oo,obj_spatial_relation_oo_mv,"
        "camera_motion_infer,room_size", "--workers", "2",
    )  # fmt: skip


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".spar3d.lock"
    }


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            if text.encode() in (d / "cmdline").read_bytes():
                pids.append(int(d.name))
        except OSError:
            continue
    return pids


def _wait_for(cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@pytest.fixture(scope="module")
def reference(scenes: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("ref") / "spar"
    subprocess.run(_generate_args(scenes, out), check=True, capture_output=True)
    return _files(out)


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("kill_at", [0.0, 0.3, 0.8])
def test_generate_killed_then_resumed_is_byte_identical(
    scenes: list[Path], reference: dict[str, bytes], tmp_path: Path, kill_at: float
) -> None:
    out = tmp_path / "spar"
    proc = subprocess.Popen(
        _generate_args(scenes, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    n_files = lambda: sum(1 for p in out.rglob("*") if p.is_file()) if out.exists() else 0  # noqa: E731
    kill_after_files = max(1, int(kill_at * len(reference)))
    _wait_for(lambda: n_files() >= kill_after_files or proc.poll() is not None, 120)
    assert proc.poll() is None, "the run finished before the kill point"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # the pool's workers die with their parent (their command line names the output folder)
    assert _wait_for(lambda: not _processes_mentioning(str(out)), 5), "workers outlived kill -9"
    subprocess.run(_generate_args(scenes, out), check=True, capture_output=True)
    got = _files(out)
    assert not [k for k in got if k.endswith(TEMP_SUFFIX)]
    assert sorted(got) == sorted(reference)
    assert [k for k in got if got[k] != reference[k]] == []


def test_a_second_generate_into_the_same_folder_is_refused(
    scenes: list[Path], tmp_path: Path
) -> None:
    # The first run is stood in for by a process that holds the folder's lock as generate does
    # (a real first run on these small scenes can finish before the second one starts).
    out = tmp_path / "spar"
    holder = subprocess.Popen(
        [
            sys.executable, "-c",
            "import time\nfrom spar3d.io import output_lock\n"
            f"with output_lock({str(out)!r}, 'spar3d generate'):\n"
            "    print('held', flush=True); time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        second = subprocess.run(_generate_args(scenes, out), capture_output=True, text=True)
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 6, second.stderr
    assert "another spar3d run is writing here (spar3d generate, pid" in second.stderr
    assert "Traceback" not in second.stderr
    assert not (out / "synthetic").exists()
