"""Training index (data_json): keys, paths as given, counted lengths, stale names."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from spar3d.data.data_json import build_data_json, data_json_name, write_data_jsons
from spar3d.data.toy import make_toy_tree


def test_index_entries_match_the_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_toy_tree(tmp_path / "spar")
    monkeypatch.chdir(tmp_path)
    result = build_data_json("spar")
    assert result.stale == []
    assert sorted(result.indexes) == ["scannet", "structured3d"]
    entry = result.indexes["scannet"]["scannet_depth_prediction_oc_fill"]
    # Paths keep the root as given ("spar"), as SPAR's generate_data_json writes them.
    assert entry == {
        "root": "spar/scannet/images",
        "annotation": "spar/scannet/qa_jsonl/train/depth_prediction_oc/fill/fill_10.jsonl",
        "data_augment": False,  # InternVL's build_datasets reads it (KeyError without)
        "repeat_time": 1,
        "length": 10,
    }
    assert {k: e["length"] for k, e in result.indexes["scannet"].items()} == {
        "scannet_depth_prediction_oc_fill": 10,
        "scannet_depth_prediction_oc_select": 4,
        "scannet_spatial_imagination_oo_mv_sentence": 3,
    }
    paths = write_data_jsons(result, "data_jsons")
    # 10 + 4 + 3 = 17 samples -> 17 // 1000 = 0
    assert [p.as_posix() for p in paths] == [
        "data_jsons/scannet_0k.json",
        "data_jsons/structured3d_0k.json",
    ]
    assert (
        json.loads(paths[1].read_text())["structured3d_distance_prediction_oc_fill"]["length"] == 6
    )


def test_index_file_name_follows_readme() -> None:
    assert data_json_name("scannet", 7_799_412) == "scannet_7799k.json"
    assert data_json_name("rxr", 11_999) == "rxr_11k.json"


def _make_stale(root: Path) -> Path:
    d = root / "scannet/qa_jsonl/train/depth_prediction_oc/fill"
    stale = d / "fill_12.jsonl"
    os.replace(d / "fill_10.jsonl", stale)
    return stale


def test_stale_count_reported_not_renamed(tmp_path: Path) -> None:
    make_toy_tree(tmp_path)
    stale = _make_stale(tmp_path)
    result = build_data_json(tmp_path, ["scannet"])
    assert [(s.path, s.declared, s.actual) for s in result.stale] == [(stale, 12, 10)]
    assert stale.exists()
    entry = result.indexes["scannet"]["scannet_depth_prediction_oc_fill"]
    assert entry["length"] == 10 and entry["annotation"].endswith("fill_12.jsonl")


def test_stale_count_fixed_with_fix_names(tmp_path: Path) -> None:
    make_toy_tree(tmp_path)
    stale = _make_stale(tmp_path)
    result = build_data_json(tmp_path, ["scannet"], fix_names=True)
    assert len(result.stale) == 1
    assert not stale.exists() and (stale.parent / "fill_10.jsonl").exists()
    entry = result.indexes["scannet"]["scannet_depth_prediction_oc_fill"]
    assert entry["annotation"].endswith("fill_10.jsonl")


def test_write_holds_the_output_folder_lock(tmp_path: Path) -> None:
    """While another writer (here: a held lock, as ``spar3d mix`` takes) owns the folder, writing
    stops with ResourceBusyError naming the folder, and writes nothing."""
    from spar3d.data.data_json import DataJsonResult
    from spar3d.errors import ResourceBusyError
    from spar3d.io import output_lock

    out = tmp_path / "data_jsons"
    out.mkdir()
    result = DataJsonResult(indexes={"scannet": {"t": {"annotation": "a.jsonl", "length": 1}}})
    with output_lock(out, "spar3d mix"), pytest.raises(ResourceBusyError, match="data_jsons"):
        write_data_jsons(result, out)
    assert sorted(p.name for p in out.iterdir()) == [".spar3d.lock"]
    assert [p.name for p in write_data_jsons(result, out)] == ["scannet_0k.json"]
