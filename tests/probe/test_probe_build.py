"""``spar3d probe build`` on the hand-built scene: answers against hand-computed coordinates."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from probe_scene import CAMERAS, OBJECTS, expected_bev, make_probe_scene

from spar3d.bench.build import BENCH_COLUMNS
from spar3d.cli.main import run
from spar3d.errors import ConfigError, InputError
from spar3d.probe import parse_truth, question_labels
from spar3d.probe.build import ProbeParams, build_probe, distance_bin

CENTRES = {i: c for i, _, c, _ in OBJECTS}
LABELS = {i: label for i, label, _, _ in OBJECTS}


def _rows(out: Path) -> list[dict]:
    return pq.read_table(out / "data" / "test-00000-of-00001.parquet").to_pylist()


def _provenance(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "provenance.jsonl").read_text().splitlines()]


def test_answers_match_hand_computed_bev(probe_scene: Path, tmp_path: Path):
    out = tmp_path / "probe"
    summary = build_probe([probe_scene], out, ProbeParams(n=40, seed=1))
    assert summary.n == 40
    rows, prov = _rows(out), _provenance(out)
    assert [r["id"] for r in rows] == list(range(40)) == [p["id"] for p in prov]
    main_views = set()
    for row, p in zip(rows, prov, strict=True):
        assert row["task"] == "bev_probe" and row["img_type"] == "multi-view"
        assert len(row["image"]) == 3 and len(set(p["meta"]["image_indices"])) == 3
        ids = p["meta"]["object_ids"]
        assert 3 <= len(ids) <= 5 and len(set(ids)) == len(ids)
        main = p["meta"]["image_indices"][0]
        main_views.add(main)
        truth = parse_truth(row["answer"], row["question"])
        assert truth.labels == tuple(LABELS[o] for o in ids)
        for (x, y), o in zip(truth.coords, ids, strict=True):
            ex, ey = expected_bev(main, CENTRES[o])
            assert (x, y) == pytest.approx((ex, ey), abs=0.005)  # answers carry centimetres
        if main == 0:
            # the tilted, rolled camera at the origin heading +y: BEV = world (x, y)
            for (x, y), o in zip(truth.coords, ids, strict=True):
                assert (x, y) == (CENTRES[o][0], CENTRES[o][1])
        # the prompt names every object once, with its label, and states the frame rules
        assert question_labels(row["question"]) == [LABELS[o] for o in ids]
        for phrase in ("projected onto the floor", "+x axis points to the observer's right"):
            assert phrase in row["question"]
        assert p["distance_m"] == [
            pytest.approx(math.hypot(x, y), abs=1e-4) for x, y in truth.coords
        ]
    assert main_views == {0, 1, 2}


def test_the_chair_two_metres_ahead_of_camera_0_is_at_0_2(probe_scene: Path, tmp_path: Path):
    rows = _rows(build_probe([probe_scene], tmp_path / "p", ProbeParams(n=60)).path.parents[1])
    prov = _provenance(tmp_path / "p")
    seen = 0
    for row, p in zip(rows, prov, strict=True):
        ids = p["meta"]["object_ids"]
        if p["meta"]["image_indices"][0] == 0 and 1 in ids:
            k = ids.index(1)
            assert f"object{k}: (0.00, 2.00)" in row["answer"]
            seen += 1
    assert seen > 0


def test_each_object_is_boxed_in_an_image_that_sees_it(probe_scene: Path, tmp_path: Path):
    from spar3d.index.records import load_index

    index = load_index(probe_scene)
    build_probe([probe_scene], tmp_path / "p", ProbeParams(n=20))
    for p in _provenance(tmp_path / "p"):
        views = p["meta"]["image_indices"]
        ((boxes,), (where,)) = p["bbox_list"], p["bbox_img_idx"]
        assert len(boxes) == len(where) == len(p["meta"]["object_ids"])
        for o, pos in zip(p["meta"]["object_ids"], where, strict=True):
            assert o in {v.object_id for v in index.images[views[pos]].visible}


def test_deterministic_per_seed(probe_scene: Path, tmp_path: Path):
    a = build_probe([probe_scene], tmp_path / "a", ProbeParams(n=15, seed=3)).path
    b = build_probe([probe_scene], tmp_path / "b", ProbeParams(n=15, seed=3)).path
    c = build_probe([probe_scene], tmp_path / "c", ProbeParams(n=15, seed=4)).path
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert (tmp_path / "a/provenance.jsonl").read_bytes() == (
        tmp_path / "b/provenance.jsonl"
    ).read_bytes()


def test_parquet_schema_and_info(probe_scene: Path, tmp_path: Path):
    path = build_probe([probe_scene], tmp_path / "p", ProbeParams(n=10)).path
    table = pq.read_table(path)
    assert tuple(table.column_names) == BENCH_COLUMNS
    assert b"huggingface" in table.schema.metadata
    first = table.to_pylist()[0]["image"][0]
    assert first["bytes"][:2] == b"\xff\xd8" and first["path"].endswith(".jpg")
    info = json.loads((tmp_path / "p/bench_info.json").read_text())
    assert info["n"] == 10 and info["task"] == "bev_probe"
    assert info["params"]["views"] == 3 and sum(info["per_bin"].values()) == info["objects"]


def test_spread_over_scenes_and_broken_scene_reported(tmp_path: Path):
    a = make_probe_scene(tmp_path / "s", "probe0000_00")
    b = make_probe_scene(tmp_path / "s", "probe0001_00")
    broken = tmp_path / "s" / "broken"
    broken.mkdir()
    summary = build_probe([a, broken, b], tmp_path / "p", ProbeParams(n=21))
    assert summary.per_scene == {"probe0000_00": 11, "probe0001_00": 10}
    assert str(broken) in summary.scenes_failed
    rows = _provenance(tmp_path / "p")
    # round-robin over scenes: the first rows alternate
    assert [r["meta"]["scene"] for r in rows[:4]] == ["probe0000_00", "probe0001_00"] * 2


def test_unsafe_image_path_is_refused(tmp_path: Path):
    good = make_probe_scene(tmp_path / "s", "probe0000_00")
    bad = make_probe_scene(tmp_path / "s", "probe0001_00")
    path = bad / "spar3d_index.json"
    data = json.loads(path.read_text())
    data["images"][0]["color_path"] = "../../../etc/passwd"
    path.write_text(json.dumps(data))
    summary = build_probe([good, bad], tmp_path / "p", ProbeParams(n=5))
    assert "leaves the folder" in summary.scenes_failed[str(bad)]
    assert summary.per_scene == {"probe0000_00": 5}
    with pytest.raises(InputError, match="no readable scene index"):
        build_probe([bad], tmp_path / "q", ProbeParams(n=5))


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="--min-objects"):
        ProbeParams(min_objects=5, max_objects=3)
    with pytest.raises(ConfigError, match="--n"):
        ProbeParams(n=0)


def test_distance_bins():
    assert [distance_bin(d) for d in (0.0, 0.99, 1.0, 2.5, 4.99, 5.0, 9.99, 10.0, 42.0)] == [
        "0-1 m", "0-1 m", "1-2 m", "2-3 m", "3-5 m", "5-7 m", "7-10 m", ">10 m", ">10 m",
    ]  # fmt: skip


def test_cli_build(probe_scene: Path, tmp_path: Path, capsys):
    assert run(["probe", "build", str(probe_scene), "--out", str(tmp_path / "p"), "--n", "12",
                "--no-progress"]) == 0  # fmt: skip
    assert len(_rows(tmp_path / "p")) == 12
    assert run(["probe", "build", str(probe_scene), "--out", str(tmp_path / "q"), "--n", "5",
                "--min-objects", "9"]) == 2  # fmt: skip
    assert "--min-objects" in capsys.readouterr().err


def test_frame_of_every_row_is_the_first_view(probe_scene: Path, tmp_path: Path):
    """Independent numpy: project each object onto camera heading axes built from CAMERAS."""
    build_probe([probe_scene], tmp_path / "p", ProbeParams(n=30, seed=7))
    for row, p in zip(_rows(tmp_path / "p"), _provenance(tmp_path / "p"), strict=True):
        main = p["meta"]["image_indices"][0]
        (ex, ey, _), heading, _, _ = CAMERAS[main]
        h = np.radians(heading)
        ahead, right = np.array([np.sin(h), np.cos(h)]), np.array([np.cos(h), -np.sin(h)])
        for (x, y), o in zip(
            parse_truth(row["answer"]).coords, p["meta"]["object_ids"], strict=True
        ):
            d = np.array(CENTRES[o][:2]) - [ex, ey]
            assert (x, y) == pytest.approx((d @ right, d @ ahead), abs=0.005)
