"""Benchmark building from a hand-written SPAR-7M val tree."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from spar3d.bench.build import BENCH_COLUMNS, balanced_pick, build_bench


def _write_tree(root: Path, n_scenes: int = 4, per_scene: int = 10) -> None:
    img_dir = root / "scannet" / "images"
    rows_sel, rows_fill = [], []
    for s in range(n_scenes):
        scene = f"scene{s:04d}_00"
        (img_dir / scene / "image_color").mkdir(parents=True)
        Image.new("RGB", (100, 80), (128, 128, 128)).save(img_dir / scene / "image_color" / "0.jpg")
        for k in range(per_scene):
            letter = "ABCD"[(s + k) % 4] if k < 8 else "A"  # letter A over-represented
            rows_sel.append(
                {
                    "id": f"{scene}_{k}",
                    "type": "obj_spatial_relation_oo",
                    "conversations": [
                        {"from": "human", "value": f"q{s}-{k}? A. x B. y C. z D. w"},
                        {"from": "gpt", "value": letter},
                    ],
                    "image": [f"{scene}/image_color/0.jpg"],
                    "red_bbox": [[100, 100, 300, 300]],
                    "blue_bbox": [[600, 600, 900, 900]],
                    "meta": {"scene": scene},
                }
            )
            rows_fill.append(
                {
                    "id": f"{scene}_f{k}",
                    "type": "depth_prediction_oc",
                    "conversations": [
                        {"from": "human", "value": f"depth {s}-{k}?"},
                        {"from": "gpt", "value": f"{0.5 + 0.3 * k:.1f}"},
                    ],
                    "image": [f"{scene}/image_color/0.jpg"],
                    "red_point": [[500, 500]],
                    "blue_point": [[250, 250]],
                    "meta": {"scene": scene},
                }
            )
    for task, fmt, rows in (
        ("obj_spatial_relation_oo", "select", rows_sel),
        ("depth_prediction_oc", "fill", rows_fill),
    ):
        d = root / "scannet" / "qa_jsonl" / "val" / task / fmt
        d.mkdir(parents=True)
        (d / f"{fmt}_{len(rows)}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_balanced_pick_takes_strata_and_scenes_in_turn():
    rng = np.random.default_rng(0)
    strata = ["A"] * 30 + ["B"] * 5 + ["C"] * 5
    scenes = [f"s{i % 3}" for i in range(30)] + ["s0"] * 10
    picked = balanced_pick(strata, scenes, 15, rng)
    counts = Counter(strata[i] for i in picked)
    assert counts == {"A": 5, "B": 5, "C": 5}
    a_scenes = Counter(scenes[i] for i in picked if strata[i] == "A")
    assert max(a_scenes.values()) - min(a_scenes.values()) <= 1
    assert len(set(picked)) == len(picked)


def test_build_writes_spar_bench_schema_and_draws_markers(tmp_path):
    _write_tree(tmp_path / "spar")
    summary = build_bench(
        tmp_path / "spar",
        tmp_path / "bench",
        per_task=8,
        seed=1,
        tasks=["obj_spatial_relation_oo", "depth_prediction_oc", "view_change_infer"],
    )
    assert summary.counts == {"obj_spatial_relation_oo": 8, "depth_prediction_oc": 8}
    assert summary.missing == ["view_change_infer"]
    table = pq.read_table(summary.path)
    assert tuple(table.column_names) == BENCH_COLUMNS
    assert str(table.schema.field("id").type) == "int64"
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == list(range(16))
    sel = [r for r in rows if r["task"] == "obj_spatial_relation_oo"]
    # 40 candidates with letter A over-represented (16 of 40): stratified sampling gives 2 each
    assert Counter(r["answer"] for r in sel) == {"A": 2, "B": 2, "C": 2, "D": 2}
    assert all(r["format_type"] == "select" for r in sel)
    # the red box's 20 px stroke is outset from (10, 8)-(30, 24) px on a 100x80 image: the
    # pixel just outside the top-left corner is red, the box centre stays grey
    im = Image.open(__import__("io").BytesIO(sel[0]["image"][0]["bytes"])).convert("RGB")
    assert im.getpixel((8, 6))[0] > 200 and im.getpixel((8, 6))[1] < 60
    assert im.getpixel((20, 16)) == (128, 128, 128)  # the box interior stays visible
    prov = [
        json.loads(x) for x in (tmp_path / "bench" / "provenance.jsonl").read_text().splitlines()
    ]
    assert [p["id"] for p in prov] == list(range(16))


def test_build_loads_with_datasets(tmp_path):
    datasets = pytest.importorskip("datasets")
    _write_tree(tmp_path / "spar", n_scenes=2, per_scene=3)
    summary = build_bench(
        tmp_path / "spar", tmp_path / "bench", per_task=4, tasks=["obj_spatial_relation_oo"]
    )
    ds = datasets.load_dataset(
        "parquet", data_files=str(summary.path), split="train", cache_dir=str(tmp_path / "cache")
    )
    assert list(ds.features) == list(BENCH_COLUMNS)
    row = ds[0]
    assert isinstance(row["image"][0], Image.Image) and row["image"][0].size == (100, 80)


def test_unknown_task_rejected(tmp_path):
    _write_tree(tmp_path / "spar", n_scenes=1, per_scene=1)
    with pytest.raises(ValueError, match="not SPAR-Bench tasks"):
        build_bench(tmp_path / "spar", tmp_path / "b", tasks=["room_size"])


def test_log_strata_cut_the_answer_range_into_equal_log_widths():
    from spar3d.bench.build import LOG_BINS, _stratum_keys

    # answers 0.1 .. 10 m: log10 spans -1 .. 1, so 8 bins of 0.25 decades each
    values = [0.1, 0.12, 0.3, 0.99, 1.01, 3.0, 9.0, 10.0]
    keys = _stratum_keys("distance_prediction_oo", [f"{v}" for v in values],
                         numeric_strata="log")
    expected = [min(int((np.log10(v) + 1) / (2 / LOG_BINS)), LOG_BINS - 1) for v in values]
    assert LOG_BINS == 8
    assert keys == [f"bin{b}" for b in expected]
    # quantile strata (the default) put two of the eight answers in each quartile
    q = _stratum_keys("distance_prediction_oo", [f"{v}" for v in values])
    assert sorted(Counter(q).values()) == [2, 2, 2, 2]


def test_log_strata_spread_a_skewed_pool_over_its_range():
    # a pool where 90 % of the answers sit near 1.5 m and a few reach 0.3 m and 6 m
    rng = np.random.default_rng(0)
    pool = np.concatenate([rng.uniform(1.3, 1.7, 180), rng.uniform(0.3, 6.0, 20)])
    answers = [f"{v:.1f}" for v in pool]
    scenes = [f"s{i % 4}" for i in range(len(pool))]
    from spar3d.bench.build import _stratum_keys

    for strata, min_share_outside in (("quantile", 0.0), ("log", 0.4)):
        keys = _stratum_keys("depth_prediction_oc", answers, numeric_strata=strata)
        picked = balanced_pick(keys, scenes, 40, np.random.default_rng(1))
        values = np.array([float(answers[i]) for i in picked])
        outside = float(np.mean((values < 1.3) | (values > 1.7)))
        assert len(picked) == 40
        if strata == "log":  # more than the pool's 10 % lie outside the crowded 1.3-1.7 m
            assert outside >= min_share_outside, outside
        else:
            assert outside < 0.4, outside


def test_unknown_numeric_strata_is_a_config_error(tmp_path: Path) -> None:
    from spar3d.errors import ConfigError

    with pytest.raises(ConfigError, match="numeric_strata"):
        build_bench(tmp_path, tmp_path / "b", numeric_strata="uniform")


def test_cli_numeric_strata_log_takes_every_log_bin(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from spar3d.cli.main import app

    _write_tree(tmp_path / "root")
    res = CliRunner().invoke(app, ["bench", "build", str(tmp_path / "root"), "--out",
                                   str(tmp_path / "b"), "--per-task", "8", "--tasks",
                                   "depth_prediction_oc", "--numeric-strata", "log", "-q"])
    assert res.exit_code == 0, res.output
    info = json.loads((tmp_path / "b" / "bench_info.json").read_text())
    assert info["numeric_strata"] == "log"
    got = {float(a) for a in pq.read_table(tmp_path / "b" / "data" /
                                           "test-00000-of-00001.parquet")["answer"].to_pylist()}
    # the tree's answers are 0.5, 0.8, ..., 3.2 m; 8 equal log-width bins from 0.5 to 3.2 hold
    # them in 7 non-empty bins, and 8 picks take every non-empty bin at least once
    pool = 0.5 + 0.3 * np.arange(10)
    width = np.log(3.2 / 0.5) / 8
    bins = np.minimum(np.floor(np.log(pool / 0.5) / width + 1e-9), 7)
    for b in np.unique(bins):
        assert got & {round(float(v), 1) for v in pool[bins == b]}, (b, sorted(got))
    assert len(np.unique(bins)) == 7
