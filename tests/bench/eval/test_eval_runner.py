from __future__ import annotations

import json

import pytest
from evalkit import ROWS

from spar3d.bench.eval import PromptConfig, evaluate, make_backend
from spar3d.bench.eval.backends import Outcome
from spar3d.bench.scoring import score_file
from spar3d.io import read_jsonl


def _predictions(run_dir):
    return list(read_jsonl(run_dir / "predictions.jsonl"))


def test_oracle_scores_100_in_both_modes(bench, tmp_path):
    result = evaluate(bench, make_backend("oracle"), tmp_path / "run", progress=False)
    assert not result.partial
    assert result.scores["strict"]["overall"] == pytest.approx(100.0)
    assert result.scores["compat"]["overall"] == pytest.approx(100.0)
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert scores["n_scored"] == len(ROWS)
    assert all(s["strict"] == 1.0 and s["compat"] == 1.0 for s in scores["per_sample"])
    preds = _predictions(tmp_path / "run")
    assert [p["status"] for p in preds] == ["ok"] * len(ROWS)
    assert [p["prediction"] for p in preds[:4]] == ["1.5", "2.3", "0.8", "B"]
    assert preds[0]["extraction_rule"] == "first_number"
    assert preds[1]["extraction_rule"] == "last_number"
    assert preds[3]["extraction_rule"] == "bare"


def test_statuses_and_failures(bench, tmp_path):
    script = {
        0: "about 150 cm",  # ok, unit converted
        1: "",  # empty
        2: Outcome("truncated", text="0.8 and then I kept talking"),
        3: "I cannot tell",  # unparseable
        4: RuntimeError("connection reset"),  # a failed request
    }
    backend = make_backend("mock", outputs=script, default="A")
    result = evaluate(bench, backend, tmp_path / "run", progress=False)
    preds = {p["id"]: p for p in _predictions(tmp_path / "run")}
    assert [preds[i]["status"] for i in range(5)] == [
        "ok",
        "empty",
        "truncated",
        "unparseable",
        "error",
    ]
    assert preds[0]["prediction"] == "1.5" and preds[0]["extraction_rule"] == "first_number+unit"
    assert preds[2]["prediction"] == "0.8"
    for i in (1, 3, 4):
        assert preds[i]["prediction"] == ""
    assert preds[4]["raw"] == "" and "connection reset" in preds[4]["error"]
    assert result.failures == {"position_matching": 1}
    assert result.partial
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert scores["partial"] and scores["failures"] == {"position_matching": 1}
    # The failed request scores 0 in both modes; compat still reads the empty answer its way.
    # The same numbers as scoring the run folder's predictions afterwards (spar3d score RUN_DIR).
    for mode in ("compat", "strict"):
        again = score_file(tmp_path / "run" / "predictions.jsonl", mode).to_dict()
        assert {k: scores["modes"][mode][k] for k in again} == again
    per = {s["id"]: s for s in scores["per_sample"]}
    assert per[4]["compat"] == 0.0 and per[4]["strict"] == 0.0
    assert per[0]["strict"] == 1.0


def test_retry_failed_reruns_only_failures(bench, tmp_path):
    run = tmp_path / "run"
    first = make_backend("mock", outputs={3: RuntimeError("503")}, default="A")
    evaluate(bench, first, run, progress=False)
    again = make_backend("mock", outputs={3: RuntimeError("503")}, default="A")
    result = evaluate(bench, again, run, progress=False)
    assert again.calls == [] and result.failures == {"obj_spatial_relation_oo": 1}
    retry = make_backend("mock", outputs={3: "B"}, default="WRONG")
    result = evaluate(bench, retry, run, retry_failed=True, progress=False)
    assert [r.sample.id for r in retry.calls] == [3]
    assert not result.partial and result.requested == 1
    assert _predictions(run)[3]["prediction"] == "B"


def test_interrupted_run_resumes_without_loss_or_repeat(bench, tmp_path):
    run = tmp_path / "run"
    answers = {i: f"{i}.5" if i < 3 else "A" for i in range(len(ROWS))}
    seen: list[int] = []

    def flaky(request):
        if len(seen) == 3:
            raise KeyboardInterrupt  # the user pressed Ctrl-C during the 4th request
        seen.append(request.sample.id)
        return answers[request.sample.id]

    with pytest.raises(KeyboardInterrupt):
        evaluate(bench, make_backend("mock", outputs=flaky), run, concurrency=1, progress=False)
    cached = [json.loads(x) for x in (run / "cache.jsonl").read_text().splitlines()]
    assert [c["id"] for c in cached] == seen == [0, 1, 2]

    resumed = make_backend("mock", outputs=lambda r: answers[r.sample.id])
    result = evaluate(bench, resumed, run, concurrency=1, progress=False)
    assert [r.sample.id for r in resumed.calls] == list(range(3, len(ROWS)))
    preds = _predictions(run)
    assert [p["id"] for p in preds] == list(range(len(ROWS)))
    assert [p["raw"] for p in preds] == [answers[i] for i in range(len(ROWS))]
    assert result.from_cache == 3 and result.requested == len(ROWS) - 3


def test_changed_prompt_is_never_served_stale(bench, tmp_path):
    run = tmp_path / "run"
    evaluate(bench, make_backend("mock", outputs=[], default="A"), run, progress=False)
    same = make_backend("mock", outputs=[], default="A")
    evaluate(bench, same, run, progress=False)
    assert same.calls == []
    changed = make_backend("mock", outputs=[], default="A")
    evaluate(bench, changed, run, prompt=PromptConfig(pre_prompt="Think."), progress=False)
    assert len(changed.calls) == len(ROWS)
    assert changed.calls[0].prompt.startswith("Think.\n")


def test_limit_is_partial_and_config_records_settings(bench, tmp_path):
    run = tmp_path / "run"
    result = evaluate(bench, make_backend("random", seed=5), run, limit=3, progress=False)
    assert result.partial and result.n_selected == 3
    scores = json.loads((run / "scores.json").read_text())
    assert scores["n_scored"] == 3
    assert sum(scores["not_run"].values()) == len(ROWS) - 3
    assert set(scores["modes"]["strict"]["tasks"]) == {r[0] for r in ROWS[:3]}
    config = json.loads((run / "config.json").read_text())
    assert config["backend"] == "random"
    assert config["settings"]["seed"] == 5
    assert config["generation"] == {"max_new_tokens": 100, "temperature": 0.0}
    assert config["bench"]["rows"] == len(ROWS)
    assert len(config["bench"]["revision"]) == 64
    timings = json.loads((run / "timings.json").read_text())
    assert timings["requested"] == 3


def test_limit_per_task_covers_every_task(make_bench, tmp_path):
    rows = [(t, f"[{k}] {q}", a, n) for k in range(3) for (t, q, a, n) in ROWS]
    bench = make_bench(rows)
    result = evaluate(
        bench, make_backend("oracle"), tmp_path / "run", limit_per_task=2, progress=False
    )
    assert result.partial and result.n_selected == 2 * len(ROWS)
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert scores["not_run"] == {t: 1 for t, *_ in ROWS}
    assert scores["modes"]["strict"]["n"] == {t: 2 for t, *_ in ROWS}
    assert scores["modes"]["strict"]["overall"] == pytest.approx(100.0)


def test_padding_aware_batches_group_image_counts(bench, tmp_path):
    """A backend that asks for it gets batches sorted by image count, then prompt length."""
    from collections.abc import Sequence

    from spar3d.bench.eval.backends import Backend, GenerationConfig, Outcome, Request

    class Recorder(Backend):
        batch_size = 3
        sort_batches = True

        def __init__(self) -> None:
            self.batches: list[list[tuple[int, int]]] = []

        def generate(self, requests: Sequence[Request], config: GenerationConfig) -> list[Outcome]:
            self.batches.append([(len(r.images), len(r.prompt)) for r in requests])
            return [Outcome("ok", text=r.sample.answer) for r in requests]

    backend = Recorder()
    backend.name, backend.settings = "recorder", {}
    evaluate(bench, backend, tmp_path / "run", concurrency=1, progress=False)
    flat = [key for batch in backend.batches for key in batch]
    assert flat == sorted(flat) and len(flat) == len(ROWS)
    assert [len(b) for b in backend.batches] == [3, 3, 2]


def test_vllm_backend_says_how_to_install_it():
    import importlib.util

    from spar3d.errors import ConfigError

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vLLM is installed here")
    with pytest.raises(ConfigError, match=r"pip install 'spar3d\[vllm\]'"):
        make_backend("vllm", model="Qwen/Qwen2.5-VL-7B-Instruct")
