"""Re-scoring an eval run directory gives the scores the runner wrote (no model called)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from spar3d.cli.main import app

eval_runner = pytest.importorskip("spar3d.bench.eval.runner")
mock_backend = pytest.importorskip("spar3d.bench.eval.backends.mock")

VCI = "move_right:0.3,move_forward:1.2,rotate_right:10"
CHOICE_Q = "Where is the cup? A. left; B. right; C. front. Your answer can only include A, B or C."
# (task, question, answer, scripted response); the responses hit several published quirks
ROWS = [
    ("depth_prediction_oc", "How deep is the chair?", "1.5", "150 cm"),
    ("depth_prediction_oc_mv", "How deep is the lamp?", "2.0", "I cannot tell"),
    ("obj_spatial_relation_oo", CHOICE_Q, "B", ""),
    ("position_matching", CHOICE_Q, "A", "Answer: C"),
    ("camera_motion_infer", CHOICE_Q, "C", "The answer is C"),
    ("view_change_infer", "How did the camera move?", VCI, "move right: 0.3, move forward: 1.2"),
]


def _bench(path: Path) -> Path:
    image = pa.list_(pa.struct([("bytes", pa.binary()), ("path", pa.string())]))
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
        b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
        b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    table = pa.table(
        {
            "id": pa.array(range(len(ROWS)), pa.int64()),
            "img_type": ["single-view"] * len(ROWS),
            "format_type": ["fill"] * len(ROWS),
            "task": [r[0] for r in ROWS],
            "source": ["scannet"] * len(ROWS),
            "image": pa.array([[{"bytes": png, "path": "x.png"}]] * len(ROWS), image),
            "question": [r[1] for r in ROWS],
            "answer": [r[2] for r in ROWS],
        }
    )
    pq.write_table(table, path)
    return path


def test_rescoring_a_run_directory_matches_the_runner(tmp_path: Path) -> None:
    bench = _bench(tmp_path / "bench.parquet")
    backend = mock_backend.mock({r[0]: r[3] for r in ROWS})
    run_dir = tmp_path / "run"
    eval_runner.evaluate(bench, backend, run_dir, progress=False)
    runner_scores = json.loads((run_dir / "scores.json").read_text())
    out = tmp_path / "rescored.json"
    res = CliRunner().invoke(app, ["score", str(run_dir), "--mode", "both", "--json", str(out)])
    assert res.exit_code == 0, res.output
    ours = json.loads(out.read_text())
    for mode in ("compat", "strict"):
        theirs = runner_scores["modes"][mode]
        assert ours[mode]["tasks"] == pytest.approx(theirs["tasks"])
        assert ours[mode]["overall"] == pytest.approx(theirs["overall"])
    # hand-scored: compat reads "150 cm" as 150 (0), the empty answer as right (1), "Answer: C"
    # as A (1), "The answer is C" as wrong (0); strict the other way round for all four
    assert ours["compat"]["tasks"]["depth_prediction_oc"] == 0.0
    assert ours["strict"]["tasks"]["depth_prediction_oc"] == 100.0
    assert ours["compat"]["tasks"]["obj_spatial_relation_oo"] == 100.0
    assert ours["strict"]["tasks"]["obj_spatial_relation_oo"] == 0.0
    assert ours["compat"]["tasks"]["position_matching"] == 100.0
    assert ours["strict"]["tasks"]["position_matching"] == 0.0
    assert ours["compat"]["tasks"]["camera_motion_infer"] == 0.0
    assert ours["strict"]["tasks"]["camera_motion_infer"] == 100.0
