"""LLaVA export: one <image> token per image, markers kept as fields or drawn into copies."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from spar3d.data.export import prepare_samples
from spar3d.data.sample import iter_samples
from spar3d.data.toy import make_toy_tree
from spar3d.writers.llava import write_llava


def test_llava_records_keep_marker_fields(tmp_path: Path) -> None:
    root = make_toy_tree(tmp_path / "spar")
    samples = prepare_samples(iter_samples(root), tmp_path, draw=False)
    n = write_llava(samples, tmp_path / "l.json")
    rows = json.loads((tmp_path / "l.json").read_text())
    assert n == len(rows) == 23
    single = rows[0]
    # Relative to the export folder (tmp_path), whatever folder the export ran from.
    assert single["image"] == "spar/scannet/images/scene0000_00/image_color/0.jpg"
    assert (
        single["conversations"][0]["value"] == "<image>\nQuestion 0 of depth_prediction_oc (fill)?"
    )
    assert single["conversations"][1] == {"from": "gpt", "value": "1.5"}
    assert single["red_point"] == [[250, 500]] and single["type"] == "depth_prediction_oc"
    multi = next(r for r in rows if r["type"] == "spatial_imagination_oo_mv")
    assert len(multi["image"]) == 4
    assert multi["conversations"][0]["value"].count("<image>") == 4
    assert multi["bbox_img_idx"] == [[0, 1, 2, 3]]
    assert all((tmp_path / p).is_file() for p in multi["image"])


def test_llava_draw_markers_writes_images(tmp_path: Path) -> None:
    root = make_toy_tree(tmp_path / "spar")
    out = tmp_path / "out"
    samples = iter_samples(root, sources=["structured3d"], limit=2)
    write_llava(prepare_samples(samples, out), out / "l.json")  # drawn by default
    rows = json.loads((out / "l.json").read_text())
    assert [r["image"] for r in rows] == [
        "images/00000/00000000_0.jpg",
        "images/00000/00000001_0.jpg",
    ]
    assert "red_point" not in rows[0]
    # red_point [500, 500] on the 160x120 toy image -> pixel (80, 60)
    r, g, b = Image.open(out / rows[0]["image"]).convert("RGB").getpixel((80, 60))
    assert r > 200 and g < 60 and b < 60
