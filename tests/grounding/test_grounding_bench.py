"""The grounding benchmark end to end: build (Parquet + provenance), `spar3d eval` with the
backends, and `spar3d ground score` (oracle 100 before refinement, baselines far below)."""

from __future__ import annotations

import json

import pytest
from room_factory import write_scene_dir
from typer.testing import CliRunner

from spar3d.bench.eval import evaluate, load_bench, make_backend
from spar3d.cli.main import app
from spar3d.grounding.bench import build_grounding_bench
from spar3d.grounding.score import bench_contexts, score_grounding
from spar3d.io import read_jsonl


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("ground")
    scenes = [write_scene_dir(root, "room0000_00"), write_scene_dir(root, "room0001_00")]
    summary = build_grounding_bench(scenes + [root / "missing"], root / "bench", n=40, seed=1)
    assert summary.total == 40 and summary.counts == {"room0000_00": 20, "room0001_00": 20}
    assert "missing" in next(iter(summary.skipped))  # reported, the others still built
    return root / "bench"


def test_layout_and_determinism(bench, tmp_path):
    rows = load_bench(bench)
    assert len(rows) == 40 and {r.task for r in rows} == {"ground_3d"}
    assert all(3 <= len(r.images) <= 5 and r.images[0][:2] == b"\xff\xd8" for r in rows)  # JPEG
    assert all("context" in r.extra for r in rows)
    prov = list(read_jsonl(bench / "provenance.jsonl"))
    assert [p["id"] for p in prov] == [r.id for r in rows]
    assert set(json.loads((bench / "proposals.json").read_text())) == {"room0000_00", "room0001_00"}
    again = build_grounding_bench(
        [bench.parent / "room0000_00", bench.parent / "room0001_00"], tmp_path / "b2", n=40, seed=1
    )
    assert [r.question for r in load_bench(again.path)] == [r.question for r in rows]


@pytest.mark.parametrize("model", ["oracle", "random", "ground-median", "ground-center"])
def test_eval_and_score(bench, tmp_path, model):
    run = tmp_path / model
    result = evaluate(bench, make_backend(model), run, progress=False)
    assert not result.partial and result.status_counts == {"ok": 40}
    harness = result.scores["strict"]["tasks"]["ground_3d"]  # Acc@0.5 before refinement
    res = CliRunner().invoke(app, ["ground", "score", str(run), "--n-boot", "100"])
    assert res.exit_code == 0, res.output
    scores = json.loads((run / "grounding_scores.json").read_text())
    lifted = scores["acc"]["lifted"]["overall"]
    assert lifted["acc@0.5"] == pytest.approx(harness)
    assert scores["n"]["overall"] == 40
    if model == "oracle":
        assert lifted == {"acc@0.25": 100.0, "acc@0.5": 100.0}
        assert scores["acc"]["refined"]["overall"]["acc@0.5"] == 100.0
    else:
        assert lifted["acc@0.5"] < 25.0
    boxes = list(read_jsonl(run / "grounding_boxes.jsonl"))
    assert len(boxes) == 40 and all(b["status"] == "ok" for b in boxes)
    assert "| overall | 40 |" in (run / "grounding_report.md").read_text()


def test_unreadable_answers_are_counted_not_dropped(bench, tmp_path):
    outputs = ["no idea", "frame 9; (1, 1); depth 1 m; size (1, 1, 1) m", ""] * 20
    run = tmp_path / "mock"
    evaluate(bench, make_backend("mock", outputs=outputs[:40]), run, progress=False)
    res = CliRunner().invoke(app, ["ground", "score", str(run), "--n-boot", "50"])
    assert res.exit_code == 0, res.output
    scores = json.loads((run / "grounding_scores.json").read_text())
    assert scores["n"]["overall"] == 40
    assert sum(scores["failures"].values()) == 40
    assert set(scores["failures"]) <= {"no_frame", "frame_out_of_range", "empty"}


def test_refinement_recovers_near_misses(bench):
    # answers 0.3 m off in depth: lifted IoU drops, refinement onto the instance boxes restores it
    from spar3d.grounding.answer import parse_answer
    from spar3d.grounding.boxes import load_proposals

    rows = load_bench(bench)
    ctxs = bench_contexts(bench)
    items = []
    for r in rows:
        a = parse_answer(r.answer)
        shifted = a.text().replace(f"depth {a.depth_m:.2f}", f"depth {a.depth_m + 0.3:.2f}")
        items.append((r.id, shifted, ctxs[r.id]))
    props = load_proposals(bench / "proposals.json")
    s = score_grounding(items, props, n_boot=50)
    assert s.acc["lifted"]["overall"][0.5] < 100.0
    assert s.acc["refined"]["overall"][0.5] == 100.0


def test_score_cli_errors(bench, tmp_path, capsys):
    from spar3d.cli.main import run

    p = tmp_path / "preds.jsonl"
    p.write_text(json.dumps({"id": 12345, "prediction": "x"}) + "\n")
    assert run(["ground", "score", str(p), "--bench", str(bench)]) == 3  # InputError
    assert "id 12345 is not a grounding row" in capsys.readouterr().err
    assert run(["ground", "score", str(p)]) == 2  # ConfigError
    assert "--bench is required" in capsys.readouterr().err
    assert run(["ground", "build", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 3
    assert "no readable scene index" in capsys.readouterr().err


def test_build_from_scanrefer_descriptions(tmp_path):
    from test_grounding_task import SCANREFER

    scene = write_scene_dir(tmp_path, "room0000_00")
    ann = tmp_path / "ScanRefer_filtered_val.json"
    ann.write_text(json.dumps(SCANREFER))
    out = tmp_path / "sr"
    res = CliRunner().invoke(app, ["ground", "build", str(scene), "--out", str(out),
                                   "--scanrefer", str(ann)])  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = load_bench(out)
    assert {r.task for r in rows} == {"ground_3d_scanrefer"} and len(rows) == 3
    ctx = {json.loads(r.extra["context"])["ann_id"] + "/" + str(json.loads(r.extra["context"])
           ["target_id"]): json.loads(r.extra["context"]) for r in rows}  # fmt: skip
    assert ctx["0/3"]["split"] == "unique" and ctx["1/2"]["split"] == "multiple"
    assert any("a wooden chair next to the cabinet ." in r.question for r in rows)


def test_interval_width_matches_the_normal_approximation():
    # 200 samples, half of them hits: the 95 % interval is about +-1.96 sqrt(.25 / 200) = +-6.9
    from spar3d.grounding.score import SampleScore, _aggregate

    samples = [SampleScore(i, "s", "unique", "ok", float(i % 2), 0.0) for i in range(200)]
    s = _aggregate(samples, n_boot=4000, seed=0, refined_with="")
    lo, hi = s.ci["lifted"]["overall"][0.5]
    assert s.acc["lifted"]["overall"][0.5] == 50.0
    assert hi - lo == pytest.approx(2 * 1.96 * (0.25 / 200) ** 0.5 * 100, rel=0.15)
    assert s.ci["refined"]["overall"][0.5] == (0.0, 0.0)


def test_bad_view_counts_are_config_errors(bench, tmp_path, capsys):
    from spar3d.cli.main import run

    scene = bench.parent / "room0000_00"
    args = ["ground", "build", str(scene), "--out", str(tmp_path / "o"), "--no-progress"]
    assert run([*args, "--min-views", "4", "--max-views", "2"]) == 2
    assert "min_views <= max_views" in capsys.readouterr().err


def test_openai_backend_with_chatty_answers(bench, tmp_path):
    """A real HTTP backend (a local OpenAI-compatible server) answering the ground truth in
    free words and other units: the prompts arrive with their images, the answers are read."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench" / "eval"))
    from evalkit import FakeOpenAI

    from spar3d.grounding.answer import parse_answer

    truth = {r.question: r.answer for r in load_bench(bench)}

    def chatty(body):
        content = body["messages"][0]["content"]
        text = content[-1]["text"]
        a = parse_answer(next(ans for q, ans in truth.items() if q in text))
        w, h, length = a.size_whl_m
        return (f"Sure! It is best seen in Image {a.frame}. Center: ({a.uv_norm1000[0]:.0f}, "
                f"{a.uv_norm1000[1]:.0f}); depth = {100 * a.depth_m:.0f} cm; dimensions "
                f"{w:.2f} x {h:.2f} x {length:.2f} meters; yaw {a.yaw_deg:.1f}°.")  # fmt: skip

    run = tmp_path / "openai"
    with FakeOpenAI(answer=chatty) as server:
        backend = make_backend("openai", model="tiny-vlm", base_url=server.base_url,
                               api_key_env="SPAR3D_NO_KEY")  # fmt: skip
        result = evaluate(bench, backend, run, concurrency=4, progress=False, preflight=False)
    assert len(server.requests) == 40
    n_images = [sum(c["type"] == "image_url" for c in r["body"]["messages"][0]["content"])
                for r in server.requests]  # fmt: skip
    assert min(n_images) >= 3
    assert result.scores["strict"]["tasks"]["ground_3d"] == pytest.approx(100.0)
    res = CliRunner().invoke(app, ["ground", "score", str(run), "--n-boot", "50"])
    assert res.exit_code == 0, res.output
    scores = json.loads((run / "grounding_scores.json").read_text())
    assert scores["acc"]["lifted"]["overall"]["acc@0.5"] == 100.0  # cm depth, rounded: still in
