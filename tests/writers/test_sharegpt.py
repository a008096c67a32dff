"""ShareGPT / LLaMA-Factory export: messages, images and the dataset_info.json entry."""

from __future__ import annotations

import json
from pathlib import Path

from spar3d.data.export import prepare_samples
from spar3d.data.sample import iter_samples
from spar3d.data.toy import make_toy_tree
from spar3d.writers.sharegpt import write_sharegpt


def test_sharegpt_matches_llamafactory_shape(tmp_path: Path) -> None:
    root = make_toy_tree(tmp_path / "spar")
    out = tmp_path / "lf"
    out.mkdir()
    (out / "dataset_info.json").write_text(json.dumps({"other": {"file_name": "o.json"}}))
    n = write_sharegpt(prepare_samples(iter_samples(root), out), out, "spar_toy")
    rows = json.loads((out / "spar_toy.json").read_text())
    assert n == len(rows) == 23
    for row in rows:
        user, assistant = row["messages"]
        assert user["role"] == "user" and assistant["role"] == "assistant"
        # LLaMA-Factory checks that image tokens and images match in number.
        assert user["content"].count("<image>") == len(row["images"]) >= 1
        assert all((out / p).is_file() for p in row["images"])
    info = json.loads((out / "dataset_info.json").read_text())
    assert info["other"] == {"file_name": "o.json"}
    assert info["spar_toy"]["file_name"] == "spar_toy.json"
    assert info["spar_toy"]["formatting"] == "sharegpt"
    assert info["spar_toy"]["columns"] == {"messages": "messages", "images": "images"}
    assert info["spar_toy"]["tags"]["user_tag"] == "user"
