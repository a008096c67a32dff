from __future__ import annotations

import base64
import json

import pytest
from evalkit import ROWS, FakeOpenAI, png

from spar3d.bench.eval import evaluate, make_backend
from spar3d.bench.eval.backends import GenerationConfig, Request
from spar3d.bench.eval.dataset import BenchSample
from spar3d.io import read_jsonl

IMAGES = (png((255, 0, 0)), png((0, 0, 255)))


def _request(prompt: str = "How deep?") -> Request:
    return Request(BenchSample(7, "depth_prediction_oc", "q", "1.5", IMAGES), prompt, IMAGES)


def _backend(server: FakeOpenAI, sleeps: list[float] | None = None, **kw):
    kw.setdefault("backoff_base", 0.001)
    kw.setdefault("backoff_max", 0.002)
    sleeps = [] if sleeps is None else sleeps
    return make_backend(
        "openai", model="tiny-vlm", base_url=server.base_url, _sleep=sleeps.append, **kw
    )


def _oracle_answer(body) -> str:
    """Answer like a perfect model: find the row whose question the prompt contains."""
    text = body["messages"][0]["content"][-1]["text"]
    return next(answer for _task, question, answer, _n in ROWS if question in text)


def test_request_format_images_first_and_key_from_env(monkeypatch):
    monkeypatch.setenv("SPAR3D_TEST_KEY", "sk-test-secret")
    with FakeOpenAI(answer=lambda body: "1.5") as server:
        backend = _backend(server, api_key_env="SPAR3D_TEST_KEY")
        (outcome,) = backend.generate([_request()], GenerationConfig())
    assert outcome.status == "ok" and outcome.text == "1.5" and outcome.attempts == 1
    (req,) = server.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == "Bearer sk-test-secret"
    body = req["body"]
    assert body["model"] == "tiny-vlm" and body["max_tokens"] == 100 and body["temperature"] == 0
    (message,) = body["messages"]
    parts = message["content"]
    assert [p["type"] for p in parts] == ["image_url", "image_url", "text"]
    assert parts[2]["text"] == "How deep?"
    for part, image in zip(parts[:2], IMAGES, strict=True):
        prefix, data = part["image_url"]["url"].split(",", 1)
        assert prefix == "data:image/png;base64"
        assert base64.b64decode(data) == image
    assert "sk-test-secret" not in json.dumps(backend.settings)


def test_429_then_success_waits_retry_after():
    sleeps: list[float] = []
    with FakeOpenAI(
        script=[("status", 429, {"Retry-After": "0.25"})], answer=lambda b: "2.0"
    ) as server:
        (outcome,) = _backend(server, sleeps).generate([_request()], GenerationConfig())
    assert outcome.status == "ok" and outcome.text == "2.0" and outcome.attempts == 2
    assert len(server.requests) == 2
    assert len(sleeps) == 1 and sleeps[0] >= 0.25


def test_timeout_then_success():
    with FakeOpenAI(script=[("hang", 1.0)], answer=lambda b: "B") as server:
        (outcome,) = _backend(server, timeout=0.3).generate([_request()], GenerationConfig())
    assert outcome.status == "ok" and outcome.text == "B" and outcome.attempts == 2


def test_500s_exhaust_retries_into_an_error():
    sleeps: list[float] = []
    with FakeOpenAI(script=[("status", 500)] * 10) as server:
        (outcome,) = _backend(server, sleeps, max_retries=2).generate(
            [_request()], GenerationConfig()
        )
    assert outcome.status == "error" and outcome.text == ""
    assert "HTTP 500" in outcome.error and "3 attempts" in outcome.error
    assert len(server.requests) == 3 and len(sleeps) == 2


def test_client_errors_are_not_retried_and_length_is_truncation():
    with FakeOpenAI(script=[("status", 400), ("reply", "0.5 0.6 0.7", "length")]) as server:
        backend = _backend(server)
        (bad,) = backend.generate([_request()], GenerationConfig())
        (cut,) = backend.generate([_request()], GenerationConfig())
    assert bad.status == "error" and bad.attempts == 1 and "HTTP 400" in bad.error
    assert cut.status == "truncated" and cut.text == "0.5 0.6 0.7"


def test_end_to_end_scores_100_and_never_writes_the_key(bench, tmp_path, monkeypatch):
    monkeypatch.setenv("SPAR3D_TEST_KEY", "sk-never-on-disk")
    run = tmp_path / "run"
    with FakeOpenAI(answer=_oracle_answer) as server:
        backend = _backend(server, api_key_env="SPAR3D_TEST_KEY")
        result = evaluate(bench, backend, run, concurrency=4, progress=False, preflight=False)
    assert result.scores["strict"]["overall"] == pytest.approx(100.0)
    assert len(server.requests) == len(ROWS)
    # A local server is an open model: the spar-paper preset sends lmms-eval's default wording.
    assert all(
        r["body"]["messages"][0]["content"][-1]["text"].endswith(
            "Please answer the question using a single word or phrase."
        )
        for r in server.requests
        if "deep" in r["body"]["messages"][0]["content"][-1]["text"]
    )
    for path in run.iterdir():
        assert "sk-never-on-disk" not in path.read_text()
    config = json.loads((run / "config.json").read_text())
    assert config["settings"]["api_key_env"] == "SPAR3D_TEST_KEY"


def _sample_id(body) -> int:
    text = body["messages"][0]["content"][-1]["text"]
    return next(i for i, row in enumerate(ROWS) if row[1] in text)


def test_server_dies_then_resume_with_retry_failed(bench, tmp_path):
    """3 answers arrive, then the server drops every connection; a rerun asks only for the rest."""
    run = tmp_path / "run"
    n = len(ROWS)
    script = [("answer",)] * 3 + [("drop",)] * 100
    with FakeOpenAI(script=script, answer=_oracle_answer) as first:
        port = first.port
        result = evaluate(
            bench, _backend(first, max_retries=1), run, concurrency=2, progress=False,
            preflight=False,
        )  # fmt: skip
    assert result.partial and sum(result.failures.values()) == n - 3
    preds = list(read_jsonl(run / "predictions.jsonl"))
    done_ids = {p["id"] for p in preds if p["status"] == "ok"}
    assert len(done_ids) == 3
    assert all(
        p["prediction"] == "" and "transport error" in p["error"]
        for p in preds
        if p["id"] not in done_ids
    )

    with FakeOpenAI(answer=_oracle_answer, port=port) as second:
        result = evaluate(
            bench, _backend(second), run, retry_failed=True, progress=False, preflight=False
        )
    asked = [_sample_id(r["body"]) for r in second.requests]
    assert sorted(asked) == sorted(set(range(n)) - done_ids)  # each failed sample exactly once
    preds = list(read_jsonl(run / "predictions.jsonl"))
    assert [p["id"] for p in preds] == list(range(n))
    assert all(p["status"] == "ok" for p in preds)
    assert not result.partial and result.scores["strict"]["overall"] == pytest.approx(100.0)

    with FakeOpenAI(answer=_oracle_answer, port=port) as third:
        evaluate(bench, _backend(third), run, progress=False)
    assert third.requests == []


def test_concurrency_is_bounded(bench, tmp_path):
    import threading
    import time

    lock = threading.Lock()
    inflight = [0, 0]  # now, peak

    def slow_answer(body):
        with lock:
            inflight[0] += 1
            inflight[1] = max(inflight[1], inflight[0])
        time.sleep(0.1)
        with lock:
            inflight[0] -= 1
        return _oracle_answer(body)

    with FakeOpenAI(answer=slow_answer) as server:
        result = evaluate(bench, _backend(server), tmp_path / "run", concurrency=3, progress=False)
    assert result.status_counts == {"ok": len(ROWS)}
    assert 2 <= inflight[1] <= 3
