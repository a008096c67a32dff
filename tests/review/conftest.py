"""A small benchmark built from one synthetic scene, shared by the review tests."""

from __future__ import annotations

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
