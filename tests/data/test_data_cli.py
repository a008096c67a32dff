"""The data commands end to end through the CLI (data-json -> mix -> export/show/stats)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spar3d.cli.main import app
from spar3d.data.toy import make_toy_tree


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_toy_tree(tmp_path / "spar")
    monkeypatch.chdir(tmp_path)
    return Path("spar")


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_index_mix_materialize(tree: Path) -> None:
    _run("data-json", str(tree))
    # besides the two indexes only the folder's lock file (docs/robustness.md)
    assert sorted(os.listdir("data_jsons")) == [
        ".spar3d.lock", "scannet_0k.json", "structured3d_0k.json"
    ]  # fmt: skip
    Path("r.yaml").write_text("format_ratios: {select: 0.25}\n")
    out = _run(
        "mix", "data_jsons/scannet_0k.json", "data_jsons/structured3d_0k.json",
        "--ratios", "r.yaml", "--source-ratio", "scannet=2", "--format-ratio", "fill=0.5",
        "--materialize-all", "--seed", "3",
    )  # fmt: skip
    assert "21 samples" in out
    mix = json.loads(Path("data_jsons/2scannet_1structured3d_0k.json").read_text())
    assert mix["scannet_depth_prediction_oc_select"]["length_with_repeat"] == 2
    lines = Path("data_jsons/2scannet_1structured3d_0k.jsonl").read_text().splitlines()
    assert len(lines) == 21


def test_data_json_reports_stale_names(tree: Path) -> None:
    d = tree / "structured3d/qa_jsonl/train/distance_prediction_oc/fill"
    os.replace(d / "fill_6.jsonl", d / "fill_60.jsonl")
    out = _run("data-json", str(tree))
    assert "fill_60.jsonl" in out and "--fix-names" in out
    assert (d / "fill_60.jsonl").exists()
    _run("data-json", str(tree), "--fix-names")
    assert (d / "fill_6.jsonl").exists() and not (d / "fill_60.jsonl").exists()


def test_export_show_stats(tree: Path) -> None:
    _run("export", str(tree), "--format", "sharegpt", "--out", "sg", "--limit", "3")
    assert len(json.loads(Path("sg/spar3d.json").read_text())) == 3
    _run("show", str(tree), "--out", "gal", "--per-file", "1")
    assert Path("gal/index.html").is_file() and "scene_00000_0" in Path("gal/data.js").read_text()
    out = _run("stats", str(tree), "--out", "st")
    assert "23" in out and Path("st/counts.png").exists()
    result = CliRunner().invoke(app, ["export", str(tree), "--format", "csv", "--out", "x"])
    assert result.exit_code != 0


def test_export_from_materialised_mix_resolves_data_root(tree: Path) -> None:
    _run("data-json", str(tree), "--sources", "structured3d")
    _run("mix", "data_jsons/structured3d_0k.json", "--materialize", "4", "--jsonl", "m.jsonl")
    _run("export", "m.jsonl", "--format", "llava", "--out", "ll", "--draw-markers")
    rows = json.loads(Path("ll/spar3d.json").read_text())
    assert len(rows) == 4
    assert all(Path("ll", r["image"]).is_file() for r in rows)


def test_export_option_errors_are_one_line(tree: Path, capsys: pytest.CaptureFixture) -> None:
    from spar3d.cli.main import run

    args = ["export", str(tree), "--out", "o"]
    assert run([*args, "--format", "internvl", "--placeholders", "some"]) == 2
    assert "--placeholders" in capsys.readouterr().err
    # Every sample filtered out: a clear input error, not an empty Parquet file.
    assert run([*args, "--format", "hf", "--tasks", "no_such_task"]) == 3
    assert "no samples to export" in capsys.readouterr().err


def test_export_filters_and_reports(tree: Path) -> None:
    out = _run("export", str(tree), "--out", "f", "--tasks", "depth_prediction_oc,distance_prediction_oc",
               "--max-images", "1")  # fmt: skip
    rows = json.loads(Path("f/spar3d.json").read_text())
    # toy tree: depth_prediction_oc 10 + 4 lines, distance_prediction_oc 6, all single-image
    assert len(rows) == 20 and "20 samples" in out
    assert {r["type"] for r in rows} == {"depth_prediction_oc", "distance_prediction_oc"}
    out = _run("export", str(tree), "--out", "g", "--max-images", "1")
    assert "left out 3 of 23 samples (3 with 4 images)" in out
