"""One contract over the backends that run offline: what the runner relies on."""

from __future__ import annotations

import contextlib
import json

import pytest
from evalkit import ROWS, FakeOpenAI

from spar3d.bench.eval import load_bench, make_backend
from spar3d.bench.eval.backends import STATUSES, Backend, GenerationConfig, Request
from spar3d.bench.eval.prompts import build_prompt


def _train(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps({"task": t, "answer": a}) + "\n" for t, _q, a, _n in ROWS))
    return {"train": str(path)}


CASES = {
    "oracle": lambda tmp_path: {},
    "random": lambda tmp_path: {"seed": 1},
    "mock": lambda tmp_path: {"outputs": {}, "default": "A"},
    "frequency": _train,
}


@pytest.mark.parametrize("name", [*CASES, "openai"])
def test_backend_contract(name, bench, tmp_path):
    requests = [Request(s, build_prompt(s.task, s.question), s.images) for s in load_bench(bench)]
    server = FakeOpenAI(answer=lambda body: "1.0") if name == "openai" else None
    with server or contextlib.nullcontext():
        kwargs = {"model": "m", "base_url": server.base_url} if server else CASES[name](tmp_path)
        backend = make_backend(name, **kwargs)
        assert isinstance(backend, Backend) and backend.name == name
        # Settings are plain JSON (they go to config.json) and include the defaults.
        json.dumps(backend.settings)
        assert set(kwargs) <= set(backend.settings)
        size = max(1, backend.batch_size)
        outcomes = [o for i in range(0, len(requests), size)
                    for o in backend.generate(requests[i : i + size], GenerationConfig())]  # fmt: skip
        backend.close()
    assert len(outcomes) == len(requests)
    assert all(o.status in STATUSES and isinstance(o.text, str) for o in outcomes)
    assert all(o.status == "ok" for o in outcomes)
