"""One small world shared by the hardening suites: a hand-built indexed room (no ray casting),
a val tree generated from it, a benchmark built from the tree and a run answering it, a grounding
benchmark of the room and an oracle run of it."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench" / "eval"))  # evalkit

TASKS = ["depth_prediction_oc", "distance_prediction_oo"]


def build_world(base: Path) -> Path:
    """``base/{scenes/room0000_00, spar, bench, run, gbench, grun}``; returns ``base``."""
    import pyarrow.parquet as pq
    from room_factory import write_scene_dir

    from spar3d.bench.build import build_bench
    from spar3d.generate import generate

    scene = write_scene_dir(base / "scenes")
    generate([scene], base / "spar", split="val", tasks=TASKS, per_task=6)
    build_bench(base / "spar", base / "bench", per_task=3, tasks=TASKS)
    from spar3d.bench.eval import evaluate, make_backend
    from spar3d.grounding.bench import build_grounding_bench

    build_grounding_bench([scene], base / "gbench", n=4, seed=1)
    evaluate(base / "gbench", make_backend("oracle"), base / "grun", progress=False)
    for lock in base.rglob(".spar3d.lock"):
        lock.unlink()
    parquet = next((base / "bench" / "data").glob("*.parquet"))
    rows = pq.read_table(parquet, columns=["id", "task", "question", "answer"]).to_pylist()
    run = base / "run"
    run.mkdir()
    preds = [{**r, "prediction": r["answer"], "status": "ok"} for r in rows]
    (run / "predictions.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    (run / "config.json").write_text(json.dumps({"bench": {"path": str(parquet)}}))
    return base


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_world(tmp_path_factory.mktemp("hardening_world") / "w")


@pytest.fixture
def world(world_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the world under ``tmp_path/w`` (cases may break it)."""
    dst = tmp_path / "w"
    shutil.copytree(world_template, dst)
    return dst
