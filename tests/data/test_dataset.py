"""SparDataset: repeat semantics over a mix and markers drawn on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from spar3d.data.data_json import build_data_json, write_data_jsons
from spar3d.data.dataset import SparDataset
from spar3d.data.mix import MixSpec, mix_indexes
from spar3d.data.toy import GREY, make_toy_tree


def test_dataset_repeat_semantics_and_markers(tmp_path: Path) -> None:
    make_toy_tree(tmp_path / "spar")
    indexes = write_data_jsons(build_data_json(tmp_path / "spar"), tmp_path / "dj")
    # scannet dropped; structured3d fill: 6 lines * 1.5 = 9 items = lines 0..5 then 0..2.
    data = mix_indexes(indexes, MixSpec({"scannet": 0, "structured3d": 1.5}, {})).data
    ds = SparDataset(data)
    assert len(ds) == 9
    assert [ds.raw(i)[1]["id"] for i in range(9)] == [
        f"scene_00000_{i}" for i in [0, 1, 2, 3, 4, 5, 0, 1, 2]
    ]
    item = ds[-1]
    assert item["question"] == "Question 2 of distance_prediction_oc (fill)?"
    assert item["answer"] == "3.5"
    # red_point [500, 500] on a 160x120 image -> pixel (80, 60)
    image = item["images"][0]
    assert image.size == (160, 120)
    r, g, b = image.getpixel((80, 60))
    assert r > 200 and g < 60 and b < 60
    clean = SparDataset(data, draw=False)[0]["images"][0].getpixel((80, 60))
    assert all(abs(c - v) < 10 for c, v in zip(clean, GREY, strict=True))
    with pytest.raises(IndexError):
        ds[9]


def test_dataset_reads_data_json_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_toy_tree(tmp_path / "spar")
    monkeypatch.chdir(tmp_path)
    (path,) = [p for p in write_data_jsons(build_data_json("spar"), "dj") if "scannet" in p.name]
    ds = SparDataset(path)
    assert len(ds) == 17
    item = ds[16]  # last line of the multi-view sentence file
    assert item["key"] == "scannet_spatial_imagination_oo_mv_sentence"
    assert len(item["images"]) == 4
