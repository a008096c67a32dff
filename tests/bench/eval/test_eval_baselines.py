from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from spar3d.bench.eval.backends import BACKENDS, GenerationConfig, Request, make_backend
from spar3d.bench.eval.dataset import BenchSample
from spar3d.bench.scoring.vci import strict_pairs


def _request(task: str, question: str = "Q?", answer: str = "", ident: int = 0) -> Request:
    sample = BenchSample(ident, task, question, answer, ())
    return Request(sample, question, ())


def _answers(backend, requests):
    return [o.text for o in backend.generate(requests, GenerationConfig())]


def test_builtin_backends_registered():
    assert {"openai", "hf", "random", "frequency", "oracle", "mock"} <= set(BACKENDS.names())


def test_random_letters_stay_within_the_options():
    question = "Which is closer? A. duffel bag; B. light switch. Your answer can only include one of options A, B."
    backend = make_backend("random", seed=3)
    letters = _answers(
        backend, [_request("distance_infer_center_oo", question, ident=i) for i in range(200)]
    )
    assert set(letters) == {"A", "B"}
    # Roughly uniform: each letter between 30% and 70% of 200 draws.
    assert 60 <= letters.count("A") <= 140


def test_random_is_reproducible_per_sample_and_seed():
    reqs = [_request("depth_prediction_oc", ident=i) for i in range(20)]
    a = _answers(make_backend("random", seed=1), reqs)
    assert a == _answers(make_backend("random", seed=1), list(reversed(reqs)))[::-1]
    assert a != _answers(make_backend("random", seed=2), reqs)
    assert all(0.5 <= float(x) <= 5.0 for x in a)


def test_random_view_change_has_all_five_axes():
    (text,) = _answers(make_backend("random"), [_request("view_change_infer")])
    pairs = strict_pairs(text)
    assert len(pairs) == 5
    assert {k.split("_")[0] for k in pairs} == {"move", "rotate"}
    assert all(abs(v) <= 60 for v in pairs.values())


def test_oracle_returns_the_ground_truth():
    backend = make_backend("oracle")
    assert _answers(backend, [_request("depth_prediction_oc", answer="1.7")]) == ["1.7"]


def test_frequency_learns_the_mode_per_task(tmp_path):
    train = tmp_path / "train.jsonl"
    rows = [
        # SPAR-7M samples: task in "type", answer in the gpt turn.
        {
            "type": "depth_prediction_oc",
            "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": a}],
        }
        for a in ("1.24", "1.21", "2.0", "1.26 meters", "2.04")
    ] + [{"task": "obj_spatial_relation_oo", "answer": a} for a in ("B", "A", "B", "C")]
    train.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    backend = make_backend("frequency", train=str(train))
    # Rounded to 0.1: 1.2, 1.2, 2.0, 1.3, 2.0 -> tie between 1.2 and 2.0, the first seen wins.
    assert _answers(backend, [_request("depth_prediction_oc")]) == ["1.2"]
    assert _answers(backend, [_request("obj_spatial_relation_oo")]) == ["B"]
    (missing,) = backend.generate([_request("view_change_infer")], GenerationConfig())
    assert missing.status == "error" and "view_change_infer" in missing.error
    assert backend.settings == {"train": str(train), "round_digits": 1}
    assert len(backend.revision) == 64


def test_frequency_reads_parquet(tmp_path):
    path = tmp_path / "train.parquet"
    table = pa.table({"task": ["distance_prediction_oo"] * 3, "answer": ["3.0", "0.5", "0.52"]})
    pq.write_table(table, path)
    backend = make_backend("frequency", train=str(path))
    assert _answers(backend, [_request("distance_prediction_oo")]) == ["0.5"]
