"""Indexing many scene folders: broken scenes are reported, the rest go on, reruns resume."""

from __future__ import annotations

import pytest

from spar3d.index.builder import IndexParams
from spar3d.index.records import INDEX_FILENAME
from spar3d.index.run import index_scene_dirs
from spar3d.scenes.synthetic import build_world
from spar3d.scenes.synthetic.export import write_scannet_scene


@pytest.fixture(scope="module")
def two_scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("scenes")
    for k in range(2):
        write_scannet_scene(build_world(10 + k), root, f"synth{k:04d}_00", 8, 64, 48, seed=k)
    broken = root / "scene9999_00"
    broken.mkdir()
    (broken / "scene9999_00_vh_clean_2.ply").write_bytes(b"not a ply")
    return root


@pytest.mark.parametrize("workers", [1, 2])
def test_broken_scene_reported_others_indexed(two_scenes, workers):
    dirs = [two_scenes / "synth0000_00", two_scenes / "scene9999_00", two_scenes / "synth0001_00"]
    out = index_scene_dirs(
        dirs, IndexParams(render_width=64), progress=False, force=True, workers=workers
    )
    assert [o.status for o in out] == ["built", "failed", "built"]
    assert "scene9999_00" in out[1].error
    assert (dirs[0] / INDEX_FILENAME).is_file() and (dirs[2] / INDEX_FILENAME).is_file()
    again = index_scene_dirs([dirs[0]], IndexParams(render_width=64), progress=False)
    assert again[0].status == "cached"
    assert again[0].index.to_dict() == out[0].index.to_dict()
    # other parameters: the stored index does not match them, so it is rebuilt
    other = index_scene_dirs([dirs[0]], IndexParams(render_width=48), progress=False)
    assert other[0].status == "built"
    assert other[0].index.params["render_width"] == 48
