"""A small benchmark built from one synthetic scene, shared by the review tests."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spar3d.bench.build import build_bench
from spar3d.generate import generate
from spar3d.index.run import index_scene_dirs
from spar3d.scenes.synthetic.synthesize import synthesize

TASKS = ["depth_prediction_oc", "distance_prediction_oo", "obj_spatial_relation_oo"]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("review")
    dirs = synthesize(
        base / "scenes", 1, seed=1, n_frames=30, width=160, height=120, progress=False
    )
    index_scene_dirs(dirs)
    generate(dirs, base / "spar", split="val", tasks=TASKS, per_task=18)
    build_bench(base / "spar", base / "bench", per_task=6, tasks=TASKS)
    return {"base": base, "bench": base / "bench", "tree": base / "spar", "scenes": base / "scenes"}


@pytest.fixture
def bench(built: dict[str, Path], tmp_path: Path) -> Path:
    """A fresh copy of the benchmark (decisions are written into it)."""
    dst = tmp_path / "bench"
    shutil.copytree(built["bench"], dst)
    return dst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """uvicorn serving an app in a thread; ``stop()`` ends it."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("review server did not start")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[Server] = []

    def start(app: Any) -> Server:
        servers.append(Server(app))
        return servers[-1]

    yield start
    for s in servers:
        s.stop()


def chromium_or_skip() -> str:
    for cand in (os.environ.get("SPAR3D_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    pytest.skip(
        "no Chromium found (install the Debian package `chromium`, or set SPAR3D_CHROMIUM): "
        "the browser test did not run"
    )


def small_bench_with_run(tmp: Path) -> tuple[Path, Path]:
    """A benchmark built from one tiny synthetic scene, and a run answering every other row."""
    import pyarrow.parquet as pq

    from spar3d.bench.build import build_bench
    from spar3d.generate import generate
    from spar3d.index.run import index_scene_dirs
    from spar3d.scenes.synthetic.params import ONE_ROOM
    from spar3d.scenes.synthetic.synthesize import synthesize

    dirs = synthesize(tmp / "scenes", 1, seed=2, n_frames=20, width=96, height=72,
                      progress=False, world=ONE_ROOM)
    index_scene_dirs(dirs)
    generate(
        dirs,
        tmp / "spar",
        split="val",
        tasks=["depth_prediction_oc", "distance_prediction_oc"],
        per_task=15,
    )
    build_bench(
        tmp / "spar",
        tmp / "bench",
        per_task=5,
        tasks=["depth_prediction_oc", "distance_prediction_oc"],
    )
    parquet = next((tmp / "bench" / "data").glob("*.parquet"))
    rows = pq.read_table(parquet, columns=["id", "task", "question", "answer"]).to_pylist()
    run = tmp / "run"
    run.mkdir()
    preds = [
        {**r, "prediction": r["answer"] if r["id"] % 2 else "9.9", "status": "ok"} for r in rows
    ]
    (run / "predictions.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    (run / "config.json").write_text(json.dumps({"bench": {"path": str(parquet)}}))
    return tmp / "bench", run
