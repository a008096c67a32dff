from __future__ import annotations

import json

import pytest

from spar3d.bench.eval.backends import GenerationConfig, Outcome, make_backend
from spar3d.bench.eval.cache import AnswerCache, cache_key

IMG = (b"\x89PNG\r\n\x1a\nfake",)


def test_key_changes_with_every_input():
    backend = make_backend("mock", outputs=["x"])
    base = cache_key(backend, "prompt", IMG, GenerationConfig(), "rev1")
    assert base == cache_key(
        make_backend("mock", outputs=["x"]), "prompt", IMG, GenerationConfig(), "rev1"
    )
    assert cache_key(backend, "prompt!", IMG, GenerationConfig(), "rev1") != base
    assert cache_key(backend, "prompt", (b"other",), GenerationConfig(), "rev1") != base
    assert cache_key(backend, "prompt", IMG, GenerationConfig(max_new_tokens=50), "rev1") != base
    assert cache_key(backend, "prompt", IMG, GenerationConfig(), "rev2") != base
    assert (
        cache_key(make_backend("mock", label="other"), "prompt", IMG, GenerationConfig(), "rev1")
        != base
    )
    assert cache_key(make_backend("oracle"), "prompt", IMG, GenerationConfig(), "rev1") != base


def test_transport_settings_do_not_change_the_key():
    a = make_backend("openai", model="m", base_url="http://h/v1", timeout=5, max_retries=1)
    b = make_backend("openai", model="m", base_url="http://h/v1", timeout=50, max_retries=9)
    c = make_backend("openai", model="m2", base_url="http://h/v1")
    keys = [cache_key(x, "p", IMG, GenerationConfig(), "r") for x in (a, b, c)]
    assert keys[0] == keys[1] != keys[2]


def test_torn_last_line_is_dropped_and_appends_stay_clean(tmp_path):
    path = tmp_path / "cache.jsonl"
    with AnswerCache(path) as cache:
        cache.put("k1", Outcome("ok", text="A"), id=1)
        cache.put("k2", Outcome("error", error="boom"), id=2)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"key": "k3", "status": "ok", "raw": "hal')  # crash mid-write
    with AnswerCache(path) as cache:
        assert cache.dropped_torn_line
        assert set(cache.entries) == {"k1", "k2"}
        cache.put("k3", Outcome("ok", text="B"), id=3)
    lines = path.read_text().splitlines()
    assert [json.loads(x)["key"] for x in lines] == ["k1", "k2", "k3"]
    with AnswerCache(path) as cache:
        assert cache.get("k3")["raw"] == "B"
        assert cache.get("k2")["status"] == "error"


def test_latest_entry_wins_and_bad_middle_line_raises(tmp_path):
    path = tmp_path / "cache.jsonl"
    with AnswerCache(path) as cache:
        cache.put("k", Outcome("error", error="x"))
        cache.put("k", Outcome("ok", text="C"))
    assert AnswerCache(path).get("k")["raw"] == "C"
    path.write_text('{"key": "a"}\nnot json\n{"key": "b"}\n')
    with pytest.raises(ValueError, match=r"cache\.jsonl:2: malformed"):
        AnswerCache(path)
