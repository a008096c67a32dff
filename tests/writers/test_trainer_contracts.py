"""Each trainer's loading contract, restated from its own code, checked on generated output.

The data is made by the real pipeline (synthetic scene -> index -> generate, every task that
runs without external files) and exported with the ``spar3d export`` command. What each
contract checks, and where it comes from, is listed in docs/training.md ("What each trainer
checks"); each test names the upstream function it restates.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from spar3d.cli.main import app
from spar3d.data.data_json import build_data_json, write_data_jsons
from spar3d.data.mix import MixSpec, mix_indexes
from spar3d.data.sample import image_list, iter_samples


@pytest.fixture(scope="module")
def spar(generated_spar: Path) -> Path:
    return generated_spar


@pytest.fixture(scope="module")
def demo_samples(spar: Path) -> list[dict[str, Any]]:
    return [s.sample for s in iter_samples(spar)]


def export(spar: Path, out: Path, *args: str) -> Path:
    # Run from another folder: paths must not depend on the working directory.
    result = CliRunner().invoke(app, ["export", str(spar), "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return out


def resolves(root: Path | str, rel: str) -> bool:
    return os.path.isfile(os.path.join(root, rel))


def test_demo_has_single_and_multi_image_samples(demo_samples: list[dict[str, Any]]) -> None:
    counts = Counter(len(image_list(s)) for s in demo_samples)
    assert counts[1] > 0 and sum(c for n, c in counts.items() if n > 1) > 0


def test_internvl_meta_and_lines(spar: Path, demo_samples: list, tmp_path: Path) -> None:
    """InternVL ``internvl_chat_finetune.py``: ``build_datasets`` reads ``repeat_time`` and
    ``data_augment`` of every meta entry; ``LazySupervisedDataset`` asserts the annotation ends in
    ``jsonl``, joins ``root`` with each image; ``preprocess_internvl2_5`` asserts one ``<image>``
    per image in the human turns (a list ``image`` takes the multi-image path)."""
    out = export(spar, tmp_path / "ivl", "--format", "internvl")
    meta = json.loads((out / "spar3d_meta.json").read_text())
    loaded = 0
    for entry in meta.values():
        assert entry["annotation"].endswith("jsonl")
        assert isinstance(entry["data_augment"], bool)
        r = entry["repeat_time"]
        assert r <= 1 or isinstance(r, int)
        lines = Path(entry["annotation"]).read_text().splitlines()
        assert entry["length"] == len(lines)
        for line in lines:
            item = json.loads(line)
            turns = item["conversations"]
            assert [t["from"] for t in turns] == ["human", "gpt"]
            images = item["image"]
            assert isinstance(images, list) and len(images) >= 1
            n_tokens = sum(t["value"].count("<image>") for t in turns if t["from"] == "human")
            assert n_tokens == len(images), item["id"]
            assert all(resolves(entry["root"], p) for p in images)
            loaded += 1
    assert loaded == len(demo_samples)


def test_internvl_placeholder_free_form_for_spar_loader(spar: Path, tmp_path: Path) -> None:
    out = export(spar, tmp_path / "ivl", "--format", "internvl", "--placeholders", "none")
    lines = [json.loads(x) for x in (out / "spar3d.jsonl").read_text().splitlines()]
    assert lines and all("<image>" not in x["conversations"][0]["value"] for x in lines)


def test_internvl_mix_repeat_times_are_ints(spar: Path, tmp_path: Path) -> None:
    """The mixed data_json is a meta file too: ratio 2 must give ``repeat_time: 2`` (an int)."""
    indexes = write_data_jsons(build_data_json(spar), tmp_path / "data_jsons")
    mixed = mix_indexes(indexes, MixSpec({"synthetic": 2.0}, {"select": 0.5}))
    for key, entry in mixed.data.items():
        assert {"root", "annotation", "data_augment", "repeat_time", "length"} <= set(entry)
        r = entry["repeat_time"]
        assert isinstance(r, int) if r > 1 else 0 < r <= 1, key
    assert any(
        isinstance(e["repeat_time"], int) and e["repeat_time"] == 2 for e in mixed.data.values()
    )


def test_trl_prepare_multimodal_messages_takes_hf_rows(
    spar: Path, demo_samples: list, tmp_path: Path
) -> None:
    """TRL ``DataCollatorForVisionLanguageModeling`` calls ``prepare_multimodal_messages(messages,
    images)``, which raises unless the unfilled ``{"type": "image"}`` parts equal ``len(images)``;
    the text must hold no literal ``<image>`` (TRL's image blocks would double it)."""
    import datasets  # the test extra installs datasets and trl: this runs in CI
    from trl.data_utils import prepare_multimodal_messages

    out = export(spar, tmp_path / "hf", "--format", "hf")
    assert (out / "README.md").read_text().startswith("---\n")
    ds = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "cache"))
    assert ds.num_rows == len(demo_samples)
    for row in ds:
        filled = prepare_multimodal_messages(row["messages"], images=row["images"])
        parts = [p for m in filled for p in m["content"]]
        assert sum(p["type"] == "image" for p in parts) == len(row["images"]) >= 1
        assert all("<image>" not in (p.get("text") or "") for p in parts)
    streamed = datasets.load_dataset(
        "parquet", data_files=str(out / "data" / "*.parquet"), split="train", streaming=True
    )
    assert next(iter(streamed))["images"][0].size == (160, 120)


def test_llava15_single_image_export(spar: Path, demo_samples: list, tmp_path: Path) -> None:
    """LLaVA-1.5 ``LazySupervisedDataset.__getitem__``: ``image_file = sources[0]['image']``,
    one path opened from ``os.path.join(image_folder, image_file)``."""
    out = export(spar, tmp_path / "l15", "--format", "llava", "--max-images", "1")
    rows = json.loads((out / "spar3d.json").read_text())
    singles = sum(len(image_list(s)) == 1 for s in demo_samples)
    assert len(rows) == singles
    for row in rows:
        assert isinstance(row["image"], str) and resolves(out, row["image"])
        assert row["conversations"][0]["value"].count("<image>") == 1


def test_llava_onevision_and_qwen_finetune(spar: Path, demo_samples: list, tmp_path: Path) -> None:
    """LLaVA-NeXT / OneVision ``train.py`` opens each entry of a list ``image`` from
    ``image_folder``; Qwen2.5-VL ``qwen-vl-finetune`` ``_build_messages`` splits the human turn on
    ``<image>``, pops one image per placeholder from ``data_path`` and raises on any left over."""
    out = export(spar, tmp_path / "ov", "--format", "llava")
    rows = json.loads((out / "spar3d.json").read_text())
    assert len(rows) == len(demo_samples)
    for row in rows:
        images = row["image"] if isinstance(row["image"], list) else [row["image"]]
        pieces = re.split(r"(<image>)", row["conversations"][0]["value"])
        assert pieces.count("<image>") == len(images), row["id"]
        assert all(resolves(out, p) for p in images)


def test_llamafactory_sharegpt(spar: Path, demo_samples: list, tmp_path: Path) -> None:
    """LLaMA-Factory ``mm_plugin`` ``_validate_input``: "The number of images does not match the
    number of <image> tokens"; image paths resolve against the dataset folder."""
    out = export(spar, tmp_path / "lf", "--format", "sharegpt", "--tasks", "depth_prediction_oc")
    info = json.loads((out / "dataset_info.json").read_text())["spar3d"]
    rows = json.loads((out / info["file_name"]).read_text())
    wanted = sum(s["type"] == "depth_prediction_oc" for s in demo_samples)
    assert len(rows) == wanted > 0
    for row in rows:
        tokens = sum(m["content"].count("<image>") for m in row["messages"])
        assert tokens == len(row["images"]) and all(resolves(out, p) for p in row["images"])


def test_markers_drawn_by_default_and_opt_out_warns(spar: Path, tmp_path: Path) -> None:
    drawn = export(spar, tmp_path / "d", "--format", "llava")
    rows = json.loads((drawn / "spar3d.json").read_text())
    assert all("red_point" not in r and "red_bbox" not in r for r in rows)
    assert any(str(r["image"]).startswith("images/") or "images/" in str(r["image"]) for r in rows)
    result = CliRunner().invoke(
        app, ["export", str(spar), "--out", str(tmp_path / "u"), "--no-draw-markers"]
    )
    assert result.exit_code == 0 and "not drawn" in result.output
