"""HTML gallery: every sample present, thumbnails written, filter options listed."""

from __future__ import annotations

from pathlib import Path

from spar3d.data.sample import iter_samples
from spar3d.data.toy import TOY_COUNTS, make_toy_tree
from spar3d.viz.show import write_gallery


def test_gallery_has_every_sample(tmp_path: Path) -> None:
    root = make_toy_tree(tmp_path / "spar")
    page = write_gallery(iter_samples(root), tmp_path / "g").read_text()
    for (source, _task, _fmt), n in TOY_COUNTS.items():
        scene = "scene0000_00" if source == "scannet" else "scene_00000"
        for i in range(n):
            assert f"<b>{scene}_{i}</b>" in page
    # 20 single-image samples + 3 samples with 4 images
    assert len(list((tmp_path / "g" / "thumbs").glob("*.jpg"))) == 20 + 3 * 4
    for option in ("spatial_imagination_oo_mv", "sentence", "scene_00000"):
        assert f'<option value="{option}">' in page
    assert 'data-task="distance_prediction_oc"' in page and "<script>" in page


def test_gallery_from_jsonl_escapes_text(tmp_path: Path) -> None:
    root = make_toy_tree(tmp_path / "spar", {("structured3d", "distance_prediction_oc", "fill"): 2})
    path = next(root.rglob("*.jsonl"))
    path.write_text(path.read_text().replace("Question 0", "Is a<b?"))
    page = write_gallery(iter_samples(path), tmp_path / "g").read_text()
    assert "Is a&lt;b?" in page and 'data-format="fill"' in page
