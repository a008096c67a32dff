"""Hugging Face export: Parquet shards that datasets.load_dataset reads with decoded images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spar3d.data.export import prepare_samples
from spar3d.data.sample import iter_samples
from spar3d.data.toy import make_toy_tree
from spar3d.writers.hf_dataset import write_hf_dataset


def test_hf_export_loads_with_datasets(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    root = make_toy_tree(tmp_path / "spar")
    out = tmp_path / "hf"
    samples = prepare_samples(iter_samples(root), out, draw=False, in_memory=True)
    shards = write_hf_dataset(samples, out, rows_per_shard=5)
    # 23 rows in shards of 5 -> 5 shards
    assert [p.name for p in shards][-1] == "train-00004-of-00005.parquet"
    ds = datasets.load_dataset(
        "parquet", data_files=[str(p) for p in shards], split="train", cache_dir=str(tmp_path / "c")
    )
    assert ds.num_rows == 23
    row = next(r for r in ds if r["type"] == "spatial_imagination_oo_mv")
    assert len(row["images"]) == 4
    assert row["images"][0].size == (200, 100)
    # Structured parts as TRL's collator takes them: 4 image parts, then the text.
    user, assistant = row["messages"]
    assert [c["type"] for c in user["content"]] == ["image"] * 4 + ["text"]
    assert user["content"][-1]["text"].startswith("Question") and "image" not in user["content"][0]
    assert assistant["content"][0]["type"] == "text"
    assert assistant["content"][0]["text"].startswith("The answer is")
    assert json.loads(row["markers"])["bbox_img_idx"] == [[0, 1, 2, 3]]
    assert json.loads(row["meta"])["scene"] == "scene0000_00"


def test_hf_export_drawn_markers(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    root = make_toy_tree(tmp_path / "spar")
    out = tmp_path / "hf"
    samples = iter_samples(root, sources=["structured3d"])
    shards = write_hf_dataset(prepare_samples(samples, out, in_memory=True), out)
    ds = datasets.load_dataset(
        "parquet", data_files=[str(p) for p in shards], split="train", cache_dir=str(tmp_path / "c")
    )
    row = ds[0]
    assert row["markers"] == ""
    r, g, b = row["images"][0].convert("RGB").getpixel((80, 60))  # red_point [500, 500]
    assert r > 200 and g < 60 and b < 60


def test_empty_export_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no samples"):
        write_hf_dataset([], tmp_path)
