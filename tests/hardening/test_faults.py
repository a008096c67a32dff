"""kill -9 in the middle of a command, then resume: byte-identical output, no children, no debris.

For each long-running command (``generate``, ``index``, ``bench build``, ``mix``, ``eval``) a
reference run writes the output uninterrupted. A faulted run of the same command is killed with
SIGKILL (what a crashed node or an impatient ``kill -9`` does: no clean-up code runs) at several
points, and then run again with the same arguments. The resumed output must equal the reference
byte for byte (wall-clock fields -- index timings, eval latencies and start time -- are the only
values masked), no process the killed run started may still be alive, and no temporary file or
commit journal may remain.

Kill points are of two kinds: timed from outside (after N output files or answers exist, the run
going on in worker processes), and exact ones set by ``faultinject.py`` (in the middle of writing
a file, before a file is moved into place, between the moves of a file set's commit).

Concurrent runs into one folder: the second either cooperates (``index`` waits for the scene
being indexed, then reuses it) or stops at once with exit 6 naming the run that holds the folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .faultkit import (
    HAS_PROC,
    Paused,
    count_files,
    debris,
    files,
    injected,
    kill_injected,
    kill_when,
    run_ok,
    spar3d,
    wait_for,
)

pytestmark = pytest.mark.skipif(not HAS_PROC, reason="needs /proc and SIGKILL (Linux)")

TASKS = "depth_prediction_oc,distance_prediction_oo,obj_spatial_relation_oo_mv,camera_motion_infer"
BENCH_TASKS = "depth_prediction_oc,obj_spatial_relation_oo_mv"


# -- shared inputs -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three synthetic scenes, not indexed (a template: tests copy it)."""
    root = tmp_path_factory.mktemp("fault_raw")
    run_ok(spar3d("synth", "--out", "scenes", "--scenes", "3", "--frames", "40", "--no-progress"),
           cwd=root)  # fmt: skip
    return root / "scenes"


@pytest.fixture(scope="module")
def scenes(raw_scenes: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The same scenes, indexed (an uninterrupted ``spar3d index``: the index reference)."""
    dst = tmp_path_factory.mktemp("fault_scenes") / "scenes"
    shutil.copytree(raw_scenes, dst)
    dirs = sorted(dst.iterdir())
    run_ok(spar3d("index", *map(str, dirs)))
    return dirs


# -- generate ------------------------------------------------------------------------------------


def _generate_args(scenes: list[Path], out: Path, *extra: str) -> list[str]:
    return [
        "generate", *map(str, scenes), "--out", str(out), "--per-task", "2", "--tasks", TASKS,
        "--workers", "2", *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def generate_reference(scenes: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("ref") / "spar"
    run_ok(spar3d(*_generate_args(scenes, out)))
    return files(out)


@pytest.mark.parametrize("kill_at", [0.0, 0.3, 0.8, "tmp:3"])
def test_generate_killed_then_resumed_is_byte_identical(
    scenes: list[Path], generate_reference: dict, tmp_path: Path, kill_at: float | str
) -> None:
    out = tmp_path / "spar"
    args = _generate_args(scenes, out)
    if isinstance(kill_at, str):
        survivors = kill_injected(injected(kill_at, *args))
    else:
        at = max(1, int(kill_at * len(generate_reference)))
        survivors = kill_when(spar3d(*args), lambda: count_files(out) >= at)
    assert not survivors, "workers outlived kill -9"
    run_ok(spar3d(*args))
    assert debris(out) == []
    got = files(out)
    assert sorted(got) == sorted(generate_reference)
    assert [k for k in got if got[k] != generate_reference[k]] == []


def test_a_second_generate_into_the_same_folder_is_refused(
    scenes: list[Path], generate_reference: dict, tmp_path: Path
) -> None:
    out = tmp_path / "spar"
    args = _generate_args(scenes, out, "--workers", "1")
    first = Paused(injected("replace:2:pause", *args))  # a real run, stopped holding the lock
    second = subprocess.run(spar3d(*args), capture_output=True, text=True)
    assert second.returncode == 6, second.stderr
    assert "another spar3d run is writing here (spar3d generate, pid" in second.stderr
    assert "Traceback" not in second.stderr
    assert not first.kill()
    run_ok(spar3d(*args))
    assert debris(out) == [] and files(out) == generate_reference


# -- index ---------------------------------------------------------------------------------------


def _index_files(dirs: list[Path]) -> dict[str, bytes]:
    """Each scene's index with its wall-clock timings masked (the only run-dependent values)."""
    out = {}
    for d in dirs:
        doc = json.loads((d / "spar3d_index.json").read_bytes())
        doc["params"]["timings_s"] = "masked"
        out[d.name] = json.dumps(doc).encode()
    return out


@pytest.fixture
def fresh_scenes(raw_scenes: Path, tmp_path: Path) -> list[Path]:
    dst = tmp_path / "scenes"
    shutil.copytree(raw_scenes, dst)
    return sorted(dst.iterdir())


@pytest.mark.parametrize("kill_at", ["first index written", "tmp:1", "replace:1", "replace:2"])
def test_index_killed_then_resumed_is_identical(
    scenes: list[Path], fresh_scenes: list[Path], kill_at: str
) -> None:
    args = ["index", *map(str, fresh_scenes), "--workers", "2"]
    if kill_at.startswith(("tmp", "replace")):
        survivors = kill_injected(injected(kill_at, *args))
    else:
        indexed = lambda: any((d / "spar3d_index.json").exists() for d in fresh_scenes)  # noqa: E731
        survivors = kill_when(spar3d(*args), indexed)
    assert not survivors, "index workers outlived kill -9"
    run_ok(spar3d(*args))
    assert debris(*fresh_scenes) == []
    assert _index_files(fresh_scenes) == _index_files(scenes)


def test_a_second_index_of_the_same_scenes_waits_and_reuses(
    scenes: list[Path], fresh_scenes: list[Path]
) -> None:
    args = ["index", *map(str, fresh_scenes)]
    first = Paused(injected("replace:1:pause", *args))  # stopped while writing the first index
    second = subprocess.Popen(spar3d(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)  # fmt: skip
    later = fresh_scenes[1] / "spar3d_index.json"
    try:  # the second is held at the first scene: it neither finishes nor goes on to the next
        assert not wait_for(lambda: second.poll() is not None or later.exists(), 2.5)
    finally:
        assert not first.kill()
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0 and "Traceback" not in err, err
    assert debris(*fresh_scenes) == []
    assert _index_files(fresh_scenes) == _index_files(scenes)


# -- bench build ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def val_tree(scenes: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("val") / "spar"
    run_ok(spar3d(*_generate_args(scenes, out, "--split", "val", "--per-task", "4")))
    return out


def _bench_args(tree: Path, out: Path, per_task: str = "2", seed: str = "0") -> list[str]:
    return ["bench", "build", str(tree), "--out", str(out), "--per-task", per_task, "--tasks",
            BENCH_TASKS, "--seed", seed, "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module")
def bench_reference(val_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bref") / "bench"
    run_ok(spar3d(*_bench_args(val_tree, out)))
    return files(out)


# tmp:2 = in the middle of the set's second file; replace:1 = all staged, journal not yet in
# place; replace:2 = journal in place, nothing moved; replace:3 = the first file moved only.
# "over": a rebuild over an older benchmark of other samples (a mix of the two must not remain).
@pytest.mark.parametrize(
    ("over", "kill_at"),
    [("empty", "tmp:2"), ("old bench", "replace:1"), ("old bench", "replace:2"),
     ("old bench", "replace:3")],
)  # fmt: skip
def test_bench_build_killed_then_resumed_is_byte_identical(
    val_tree: Path, bench_reference: dict, tmp_path: Path, kill_at: str, over: str
) -> None:
    out = tmp_path / "bench"
    if over == "old bench":
        run_ok(spar3d(*_bench_args(val_tree, out, per_task="1", seed="7")))
        assert files(out) != bench_reference
    assert not kill_injected(injected(kill_at, *_bench_args(val_tree, out)))
    run_ok(spar3d(*_bench_args(val_tree, out)))
    assert debris(out) == []
    assert files(out) == bench_reference


@pytest.mark.parametrize("reader", ["eval", "verify"])
def test_a_reader_after_a_kill_mid_commit_sees_the_new_bench(
    val_tree: Path, bench_reference: dict, tmp_path: Path, reader: str
) -> None:
    """Killed after the Parquet was moved, before provenance and info: the folder holds a mix
    until the next writer, so readers finish the commit first (and then read the new set)."""
    out = tmp_path / "bench"
    run_ok(spar3d(*_bench_args(val_tree, out, per_task="1", seed="7")))
    assert not kill_injected(injected("replace:3", *_bench_args(val_tree, out)))
    if reader == "eval":
        run_ok(spar3d("eval", str(out), "-m", "oracle", "--out", str(tmp_path / "run"),
                      "--no-progress"))  # fmt: skip
    else:
        run_ok(spar3d("verify", str(out), "--out", str(tmp_path / "flags")))
    assert debris(out) == []
    assert files(out) == bench_reference


def test_a_second_bench_build_into_the_same_folder_is_refused(
    val_tree: Path, bench_reference: dict, tmp_path: Path
) -> None:
    out = tmp_path / "bench"
    first = Paused(injected("replace:2:pause", *_bench_args(val_tree, out)))  # mid-commit
    second = subprocess.run(spar3d(*_bench_args(val_tree, out)), capture_output=True, text=True)
    assert second.returncode == 6, second.stderr
    assert "another spar3d run is writing here (spar3d bench build, pid" in second.stderr
    assert "Traceback" not in second.stderr
    assert not first.kill()
    run_ok(spar3d(*_bench_args(val_tree, out)))
    assert debris(out) == [] and files(out) == bench_reference


# -- mix -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mix_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A toy tree and its data_jsons (paths relative to this folder, as ``data-json`` writes)."""
    from spar3d.data.toy import TOY_COUNTS, make_toy_tree

    root = tmp_path_factory.mktemp("mixin")
    make_toy_tree(root / "spar", {k: 40 * n for k, n in TOY_COUNTS.items()})
    run_ok(spar3d("data-json", "spar", "--out", "dj"), cwd=root)
    return root


MIX_RUNS = {
    "mix": ["--source-ratio", "scannet=2"],
    "mix --materialize": ["--source-ratio", "scannet=2.5", "--materialize", "300", "--seed", "3"],
}


def _mix_args(kind: str, out: str = "mixed") -> list[str]:
    return ["mix", "dj/scannet_0k.json", "dj/structured3d_0k.json", "--out", out,
            *MIX_RUNS[kind]]  # fmt: skip


@pytest.fixture(scope="module")
def mix_reference(mix_inputs: Path) -> dict[str, dict[str, bytes]]:
    refs = {}
    for kind in MIX_RUNS:
        run_ok(spar3d(*_mix_args(kind, f"ref_{kind}")), cwd=mix_inputs)
        refs[kind] = files(mix_inputs / f"ref_{kind}")
    return refs


@pytest.mark.parametrize(
    ("kind", "kill_at"),
    [("mix", "tmp:1"), ("mix", "replace:1")]
    + [("mix --materialize", k) for k in ("tmp:2", "replace:1", "replace:2", "replace:3")],
)
def test_mix_killed_then_resumed_is_byte_identical(
    mix_inputs: Path, mix_reference: dict, tmp_path: Path, kind: str, kill_at: str
) -> None:
    out = tmp_path / "mixed"
    args = _mix_args(kind, str(out))
    assert not kill_injected(injected(kill_at, *args), cwd=mix_inputs)
    run_ok(spar3d(*args), cwd=mix_inputs)
    assert debris(out) == []
    assert files(out) == mix_reference[kind]


def test_a_second_mix_into_the_same_folder_is_refused(
    mix_inputs: Path, mix_reference: dict, tmp_path: Path
) -> None:
    out = tmp_path / "mixed"
    args = _mix_args("mix --materialize", str(out))
    first = Paused(injected("replace:2:pause", *args), cwd=mix_inputs)
    second = subprocess.run(spar3d(*args), capture_output=True, text=True, cwd=mix_inputs)
    assert second.returncode == 6, second.stderr
    assert "another spar3d run is writing here (spar3d mix, pid" in second.stderr
    assert not first.kill()
    run_ok(spar3d(*args), cwd=mix_inputs)
    assert debris(out) == [] and files(out) == mix_reference["mix --materialize"]


# -- eval ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def eval_bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import pyarrow.parquet as pq
    from evalkit import ROWS, bench_table

    path = tmp_path_factory.mktemp("ebench") / "bench.parquet"
    pq.write_table(bench_table([*ROWS, *ROWS], first_id=0), path)  # 16 rows
    return path


def _answer(body: dict) -> str:
    """A deterministic model: the answer depends on the question only."""
    text = json.dumps(body["messages"])
    return "A" if "A." in text else f"{len(text) % 7}.5"


@pytest.fixture(scope="module")
def server():
    """One fake server for the module: the backend's settings (its URL) are part of every cache
    key, so the reference and the faulted runs must talk to the same one."""
    from evalkit import FakeOpenAI

    with FakeOpenAI(answer=_answer, lifetime_s=600) as fake:
        yield fake
    fake.answer = _answer


def _eval_args(bench: Path, out: Path, url: str) -> list[str]:
    return ["eval", str(bench), "-m", "openai", "-M", "model=tiny", "--base-url", url,
            "--out", str(out), "--concurrency", "2", "--no-preflight", "--no-progress"]  # fmt: skip


WALL_CLOCK = ("latency_s", "started")


def _masked(rel: str, data: bytes) -> bytes:
    """Wall-clock values masked, ``timings.json`` (the statistics of one invocation) left out,
    ``cache.jsonl`` as its set of lines (it is append-only, in arrival order)."""

    def mask(obj: dict) -> dict:
        return {k: ("masked" if k in WALL_CLOCK else v) for k, v in obj.items()}

    if rel == "timings.json":
        return b"(one invocation's timings)"
    if rel.endswith(".jsonl"):
        rows = [json.dumps(mask(json.loads(x))) for x in data.decode().splitlines()]
        return "\n".join(sorted(rows) if rel == "cache.jsonl" else rows).encode()
    if rel == "config.json":
        return json.dumps(mask(json.loads(data))).encode()
    return data


@pytest.fixture(scope="module")
def eval_reference(eval_bench: Path, server, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("eref") / "run"
    run_ok(spar3d(*_eval_args(eval_bench, out, server.base_url)))
    return files(out, _masked)


def _slow(body: dict) -> str:
    import time

    time.sleep(0.15)
    return _answer(body)


# fsync:1 = config.json written, nothing asked; fsync:6 = five answers cached; "4 answers" = a
# kill from outside while two requests are in flight.
@pytest.mark.parametrize("kill_at", ["fsync:1", "fsync:6", "4 answers"])
def test_eval_killed_then_resumed_is_identical_and_asks_each_question_once(
    eval_bench: Path, eval_reference: dict, server, tmp_path: Path, kill_at: str
) -> None:
    out = tmp_path / "run"
    args = _eval_args(eval_bench, out, server.base_url)
    if kill_at.startswith("fsync"):
        assert not kill_injected(injected(kill_at, *args))
    else:
        server.answer = _slow
        cache = out / "cache.jsonl"
        n_cached = lambda: len(cache.read_bytes().splitlines()) if cache.exists() else 0  # noqa: E731
        assert not kill_when(spar3d(*args), lambda: n_cached() >= 4)
        server.answer = _answer
    cache = out / "cache.jsonl"
    cached = len(cache.read_bytes().splitlines()) if cache.exists() else 0
    asked_before = len(server.requests)
    run_ok(spar3d(*args))
    assert debris(out) == []
    assert files(out, _masked) == eval_reference
    # Every answer cached before the kill is reused; only the others are asked (again).
    assert len(server.requests) - asked_before == 16 - cached
    assert len(cache.read_bytes().splitlines()) == 16


def test_a_second_eval_into_the_same_folder_is_refused(
    eval_bench: Path, eval_reference: dict, server, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    args = _eval_args(eval_bench, out, server.base_url)
    first = Paused(injected("fsync:3:pause", *args))
    second = subprocess.run(spar3d(*args), capture_output=True, text=True)
    assert second.returncode == 6, second.stderr
    assert "another spar3d run is writing here (spar3d eval, pid" in second.stderr
    assert not first.kill()
    run_ok(spar3d(*args))
    assert debris(out) == [] and files(out, _masked) == eval_reference


@pytest.fixture(scope="module")
def tiny_vlm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    from test_eval_hf import build_tiny_vlm

    return build_tiny_vlm(tmp_path_factory.mktemp("tiny_vlm"))


def test_eval_data_parallel_workers_die_with_the_killed_run(
    eval_bench: Path, tiny_vlm: Path, tmp_path: Path
) -> None:
    """``--data-parallel`` workers (``spawn``, a model loaded in each, the second started on
    demand from a runner thread) must not outlive the run; killed at fsync:2 = the first answer
    cached, batches in flight."""
    args = ["eval", str(eval_bench), "-m", "hf", "-M", f"model={tiny_vlm}", "-M", "device=cpu",
            "-M", "dtype=float32", "--data-parallel", "2", "--max-new-tokens", "4",
            "--out", str(tmp_path / "run"), "--no-progress"]  # fmt: skip
    assert not kill_injected(injected("fsync:2", *args)), "data-parallel workers outlived kill -9"
