"""The probe as a task of the eval harness: every backend through ``evaluate`` / ``spar3d eval``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from spar3d.bench.eval import evaluate, make_backend
from spar3d.cli.main import run
from spar3d.probe import parse_truth
from spar3d.probe.build import ProbeParams, build_probe


@pytest.fixture
def probe_bench(probe_scene: Path, tmp_path: Path) -> Path:
    return build_probe([probe_scene], tmp_path / "bench", ProbeParams(n=24, seed=5)).path


def _truths(bench: Path) -> list[list[tuple[float, float]]]:
    rows = pq.read_table(bench, columns=["answer"]).to_pylist()
    return [list(parse_truth(r["answer"]).coords) for r in rows]


def _distances(bench: Path) -> np.ndarray:
    return np.array([math.hypot(x, y) for t in _truths(bench) for x, y in t])


def test_oracle_scores_zero(probe_bench: Path, tmp_path: Path):
    res = evaluate(probe_bench, make_backend("oracle"), tmp_path / "run", progress=False)
    assert res.probe is not None and res.scores == {}
    assert res.probe["overall"] == {"n": len(_distances(probe_bench)), "mean": 0.0, "p50": 0.0,
                                    "p90": 0.0}  # fmt: skip
    assert res.probe["object_status"]["ok"] == len(_distances(probe_bench))
    config = json.loads((tmp_path / "run/config.json").read_text())
    assert config["generation"]["max_new_tokens"] == 256
    # the prompt is the question itself (it states the frame and the format)
    pred = json.loads((tmp_path / "run/predictions.jsonl").read_text().splitlines()[0])
    assert pred["extraction_rule"] == "named" and pred["status"] == "ok"


def test_origin_and_frequency_baselines_by_independent_numpy(probe_bench: Path, tmp_path: Path):
    d = _distances(probe_bench)
    res = evaluate(probe_bench, make_backend("origin"), tmp_path / "o", progress=False)
    assert res.probe["overall"]["mean"] == pytest.approx(d.mean(), abs=1e-9)
    assert res.probe["overall"]["p90"] == pytest.approx(np.quantile(d, 0.9), abs=1e-9)
    # frequency learns the median distance of a training probe: every object at (0, median)
    train = build_probe([probe_bench.parents[2] / "scenes" / "probe0000_00"],
                        tmp_path / "train", ProbeParams(n=30, seed=9)).path  # fmt: skip
    med = float(np.median(_distances(train)))
    res = evaluate(probe_bench, make_backend("frequency", train=str(train)), tmp_path / "f",
                   progress=False)  # fmt: skip
    ape = [math.hypot(x, y - round(med, 2)) for t in _truths(probe_bench) for x, y in t]
    assert res.probe["overall"]["mean"] == pytest.approx(np.mean(ape), abs=1e-9)


def test_random_is_seeded_and_worse_than_oracle(probe_bench: Path, tmp_path: Path):
    a = evaluate(probe_bench, make_backend("random", seed=1), tmp_path / "a", progress=False)
    b = evaluate(probe_bench, make_backend("random", seed=1), tmp_path / "b", progress=False)
    assert a.probe == b.probe and a.probe["overall"]["mean"] > 0.5


def test_mock_with_broken_answers_counts_every_failure(probe_bench: Path, tmp_path: Path):
    n_obj = [len(t) for t in _truths(probe_bench)]

    def script(request):
        k = request.sample.id % 4
        if k == 0:
            return "object0: (0, 1)"  # the rest missing
        if k == 1:
            return "object0: far away, object1: (1, 1)"  # object0 malformed, rest missing
        if k == 2:
            return RuntimeError("server down")  # a failed request
        return "I do not know."

    res = evaluate(probe_bench, make_backend("mock", outputs=script), tmp_path / "m",
                   progress=False)  # fmt: skip
    counts = res.probe["object_status"]
    ids = range(len(n_obj))
    assert counts["ok"] == sum(1 for i in ids if i % 4 in (0, 1))
    assert counts["malformed"] == sum(1 for i in ids if i % 4 == 1)
    assert counts["failed"] == sum(n_obj[i] for i in ids if i % 4 == 2)
    assert sum(counts.values()) == sum(n_obj)
    assert res.probe["row_status"]["unparseable"] == sum(1 for i in ids if i % 4 == 3)
    assert res.partial  # failed requests make the run PARTIAL
    # `spar3d probe score RUN_DIR` re-scores from the raw answers with the same numbers
    out = tmp_path / "scores.json"
    assert run(["probe", "score", str(tmp_path / "m"), "--json", str(out), "--report",
                str(tmp_path / "rep"), "--n-boot", "50"]) == 0  # fmt: skip
    again = json.loads(out.read_text())
    assert again["overall"] == res.probe["overall"]
    assert again["object_status"] == counts
    assert (tmp_path / "rep" / "report.png").is_file()


def test_spar3d_eval_cli_on_the_probe(probe_bench: Path, tmp_path: Path, capsys):
    bench_dir = probe_bench.parents[1]
    assert run(["eval", str(bench_dir), "-m", "oracle", "--out", str(tmp_path / "r"),
                "--no-progress"]) == 0  # fmt: skip
    assert "BEV probe: 24 rows" in capsys.readouterr().out
    scores = json.loads((tmp_path / "r/scores.json").read_text())
    assert scores["probe"]["overall"]["mean"] == 0.0 and scores["modes"] == {}


def test_compare_puts_runs_beside_the_paper(probe_bench: Path, tmp_path: Path, capsys):
    evaluate(probe_bench, make_backend("oracle"), tmp_path / "oracle", progress=False)
    evaluate(probe_bench, make_backend("origin"), tmp_path / "origin", progress=False)
    out = tmp_path / "cmp.md"
    assert run(["probe", "compare", str(tmp_path / "oracle"), str(tmp_path / "origin"),
                "--markdown", str(out)]) == 0  # fmt: skip
    text = out.read_text()
    d = _distances(probe_bench)
    origin_row = next(line for line in text.splitlines() if line.startswith("| origin |"))
    assert f"| {d.mean():.2f} | {np.median(d):.2f} |" in origin_row
    assert "| oracle | " in text and "0.00 | 0.00 | 0.00" in text
    assert "| paper Base VLM | 6882 | – | 2.22 | 1.86 | 4.12 |" in text


def test_median_reference_from_a_training_probe(probe_bench: Path, tmp_path: Path):
    scenes = probe_bench.parents[2] / "scenes"
    train = build_probe([scenes / "probe0000_00"], tmp_path / "train", ProbeParams(n=30, seed=9))
    evaluate(probe_bench, make_backend("origin"), tmp_path / "o", progress=False)
    out = tmp_path / "s.json"
    assert run(["probe", "score", str(tmp_path / "o"), "--json", str(out), "--median-from",
                str(tmp_path / "train"), "--n-boot", "20"]) == 0  # fmt: skip
    refs = json.loads(out.read_text())["references"]
    med = round(float(np.median(_distances(train.path))), 2)
    (name,) = [k for k in refs if k.startswith("median ahead")]
    assert name == f"median ahead ({med:.2f} m)"
    ape = [math.hypot(x, y - med) for t in _truths(probe_bench) for x, y in t]
    assert refs[name]["overall"]["mean"] == pytest.approx(np.mean(ape), abs=1e-9)


def _evalkit():
    """The eval tests' fake OpenAI-compatible server (tests/bench/eval/evalkit.py)."""
    import importlib.util

    path = Path(__file__).parents[1] / "bench" / "eval" / "evalkit.py"
    spec = importlib.util.spec_from_file_location("probe_evalkit", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_openai_backend_against_a_local_server(probe_bench: Path, tmp_path: Path):
    """A real backend over HTTP: three JPEG views and the probe prompt go out, the server answers
    every object at (0, 1), and the APE is computed from what came back."""
    from spar3d.probe import question_labels

    def answer(body):
        text = body["messages"][0]["content"][-1]["text"]
        return ", ".join(f"object{i}: (0.0, 1.0)" for i in range(len(question_labels(text))))

    with _evalkit().FakeOpenAI(answer=answer) as server:
        backend = make_backend("openai", model="fake", base_url=server.base_url)
        res = evaluate(probe_bench, backend, tmp_path / "run", progress=False, preflight=False)
        backend.close()
    first = server.requests[0]["body"]
    parts = first["messages"][0]["content"]
    images = [p for p in parts if p["type"] == "image_url"]
    assert len(images) == 3 and all(
        p["image_url"]["url"].startswith("data:image/jpeg;base64,") for p in images
    )
    text = parts[-1]["text"]
    assert "observer frame of the FIRST image" in text
    assert text.endswith("\nAnswer with the coordinates only.")
    assert first["max_tokens"] == 256
    ape = [math.hypot(x, y - 1.0) for t in _truths(probe_bench) for x, y in t]
    assert res.probe["overall"]["mean"] == pytest.approx(np.mean(ape), abs=1e-9)
    assert res.probe["object_status"]["ok"] == len(ape)
