"""The loader registry: detection, choice by name, and the contract every loader keeps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spar3d.errors import ConfigError
from spar3d.registry import RegistryError
from spar3d.scenes.loaders import (
    LOADERS,
    NoOptions,
    SceneLoader,
    SceneLoadError,
    detect_loader,
    load_scene,
    read_json,
    read_matrix_txt,
)
from spar3d.scenes.model import Scene


def test_builtin_loaders_are_registered() -> None:
    assert {"scannet", "scannet_preprocessed"} <= set(LOADERS.names())


@pytest.mark.parametrize("name", LOADERS.names())
def test_every_loader_keeps_the_contract(name: str, tmp_path: Path) -> None:
    loader = LOADERS.get(name)
    assert isinstance(loader, SceneLoader)
    assert loader.name == name
    assert isinstance(loader.layout, str) and loader.layout
    assert loader.detect(tmp_path) is False  # an empty folder is nobody's layout
    with pytest.raises(SceneLoadError):
        loader.load(tmp_path)


def test_unknown_layout_lists_what_was_looked_for(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(SceneLoadError) as err:
        load_scene(tmp_path)
    msg = str(err.value)
    assert "no loader recognises" in msg
    for name in LOADERS.names():
        assert f"{name}: " in msg
    assert "_vh_clean_2.ply" in msg and "_vert.npy" in msg


def test_nonexistent_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(SceneLoadError, match="no such file or folder"):
        load_scene(tmp_path / "a" / "b")


def test_unknown_loader_name() -> None:
    with pytest.raises(RegistryError, match="unknown loader 'nope'; known: .*scannet"):
        load_scene(".", loader="nope")


def test_detection_picks_the_matching_loader(tmp_path: Path) -> None:
    scan = tmp_path / "scene0000_00"
    scan.mkdir()
    (scan / "scene0000_00.aggregation.json").write_text("{}")
    assert detect_loader(scan).name == "scannet"
    np.save(tmp_path / "scene0001_00_vert.npy", np.zeros((1, 6)))
    assert detect_loader(tmp_path / "scene0001_00").name == "scannet_preprocessed"
    assert detect_loader(tmp_path / "scene0001_00_vert.npy").name == "scannet_preprocessed"


def test_a_registered_third_party_loader_is_used_by_name(tmp_path: Path) -> None:
    class Fake:
        name = "fake_for_test"
        layout = "a file named fake.txt"

        def detect(self, path: Path) -> bool:
            return (Path(path) / "fake.txt").is_file()

        options_type = NoOptions

        def load(self, path: Path, options: NoOptions | None = None, *,
                 load_mesh: bool = True) -> Scene:
            return Scene(scene_id=Path(path).name, source="fake", root=Path(path))

    LOADERS.add(Fake.name, Fake)  # a class is instantiated on use
    try:
        (tmp_path / "fake.txt").write_text("")
        assert load_scene(tmp_path).source == "fake"
        assert load_scene(tmp_path, loader="fake_for_test").scene_id == tmp_path.name
    finally:
        LOADERS._items.pop(Fake.name)


def test_readers_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(SceneLoadError, match=r"missing\.json: missing JSON file"):
        read_json(tmp_path / "missing.json")
    bad = tmp_path / "m.txt"
    bad.write_text("1 2 x 4")
    with pytest.raises(SceneLoadError, match=r"m\.txt: not a matrix of numbers"):
        read_matrix_txt(bad)
    bad.write_text(" ".join(["1"] * 9))
    np.testing.assert_array_equal(read_matrix_txt(bad, 3), np.ones((3, 3)))


def test_a_loader_without_typed_options_still_loads(tmp_path: Path) -> None:
    class Legacy:  # the contract before typed options: no options_type, load(path, *, ...)
        name = "legacy_for_test"
        layout = "a file named legacy.txt"

        def detect(self, path: Path) -> bool:
            return (Path(path) / "legacy.txt").is_file()

        def load(self, path: Path, *, load_mesh: bool = True) -> Scene:
            return Scene(scene_id=Path(path).name, source="legacy", root=Path(path))

    LOADERS.add(Legacy.name, Legacy())
    try:
        (tmp_path / "legacy.txt").write_text("")
        assert load_scene(tmp_path, loader="legacy_for_test").source == "legacy"
        with pytest.raises(ConfigError, match="the legacy_for_test loader takes no options, got x"):
            load_scene(tmp_path, loader="legacy_for_test", x=1)
    finally:
        LOADERS._items.pop(Legacy.name)
