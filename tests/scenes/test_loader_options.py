"""Typed loader options: every option of every loader parsed from ``key=value`` text, bad types
and values refused with errors naming the loader and the option (and ``--loader-opt`` with the
item), the options recorded in the index and part of its fingerprint."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from spar3d.errors import ConfigError
from spar3d.index.builder import IndexParams
from spar3d.index.run import index_scene_dirs
from spar3d.scenes.loaders import (
    LOADERS,
    LoaderOptions,
    load_scene,
    parse_loader_opts,
    resolve_loader,
)
from spar3d.scenes.synthetic import build_world
from spar3d.scenes.synthetic.export import write_scannet_scene

#: Per loader, per option: a ``key=value`` text and the typed value it must give (written out
#: by hand: the expected values do not come from the parser).
GOOD: dict[str, dict[str, tuple[str, Any]]] = {
    "scannet": {
        "label_map": ("labels.tsv", Path("labels.tsv")),
        "label_column": ("nyu40class", "nyu40class"),
        "obb": ("none", None),
        "source": ("scannet", "scannet"),
        "embodiedscan": ("es/embodiedscan_infos_val.pkl", Path("es/embodiedscan_infos_val.pkl")),
    },
    "scannet_preprocessed": {
        "infos": ("false", False),
        "points_aligned": ("true", True),
        "image_root": ("/data/scannet", Path("/data/scannet")),
        "sem_labels": ("scannet200", "scannet200"),
        "label_map": ("x.tsv", Path("x.tsv")),
        "source": ("scannet", "scannet"),
    },
    "scannetpp": {
        "camera": ("iphone", "iphone"),
        "undistort_dir": ("out/und", Path("out/und")),
        "source": ("scannetpp_v2", "scannetpp_v2"),
    },
    "structured3d": {
        "stride": ("4", 4),
        "source": ("s3d", "s3d"),
    },
    "arkitscenes": {
        "source": ("arkit", "arkit"),
        "sky_direction": ("Left", "Left"),
        "metadata": ("3dod/metadata.csv", Path("3dod/metadata.csv")),
        "upright_dir": ("up", Path("up")),
    },
    "3rscan": {
        "embodiedscan": ("none", None),
        "source": ("3rscan_v2", "3rscan_v2"),
    },
    "matterport3d": {
        "embodiedscan": ("es.pkl", Path("es.pkl")),
        "cameras": ("all", "all"),
        "source": ("mp3d", "mp3d"),
    },
}

#: Per loader: ``key=value`` items that must be refused, and a phrase of the message.
BAD: dict[str, list[tuple[str, str]]] = {
    "scannet": [("label_column=nyu40", "one of category, nyu40class")],
    "scannet_preprocessed": [
        ("points_aligned=maybe", "expected true/false or none"),
        ("sem_labels=nyu20", "one of nyu40, scannet200"),
    ],
    "scannetpp": [("camera=front", "one of auto, dslr, iphone")],
    "structured3d": [("stride=eight", "expected integer"), ("stride=0", "must be >= 1")],
    "arkitscenes": [("sky_direction=North", "one of auto, none, Up, Down, Left, Right")],
    "matterport3d": [("cameras=some", "one of inside, all")],
}


def test_every_loader_has_typed_frozen_options() -> None:
    for name in LOADERS.names():
        kind = LOADERS.get(name).options_type
        assert issubclass(kind, LoaderOptions) and kind.loader == name
        assert {f.name for f in dataclasses.fields(kind)} == set(GOOD[name]), name
        opts = kind()
        with pytest.raises(dataclasses.FrozenInstanceError):
            opts.source = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "name,key", [(n, k) for n, opts in GOOD.items() for k in opts], ids=lambda x: str(x)
)
def test_each_option_is_parsed_by_its_type(name: str, key: str) -> None:
    text, want = GOOD[name][key]
    raw = parse_loader_opts([f"{key}={text}"], name)
    assert raw == {key: text}
    _, opts = resolve_loader(".", name, raw, origin="--loader-opt")
    got = getattr(opts, key)
    assert got == want and type(got) is type(want)


@pytest.mark.parametrize(
    "name,item,phrase", [(n, i, p) for n, bad in BAD.items() for i, p in bad], ids=str
)
def test_bad_values_name_loader_option_and_item(name: str, item: str, phrase: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_loader_opts([item], name)
    msg = str(err.value)
    assert msg.startswith(f"--loader-opt {item!r}") or msg.startswith("--loader-opt")
    assert f"{name} option {item.split('=')[0]}" in msg and phrase in msg


def test_python_values_are_checked_too() -> None:
    kind = LOADERS.get("structured3d").options_type
    with pytest.raises(ConfigError, match=r"structured3d option stride: expected integer"):
        kind(stride=2.5)
    with pytest.raises(ConfigError, match=r"structured3d option stride: must be >= 1, got -1"):
        kind(stride=-1)
    pp = LOADERS.get("scannetpp").options_type
    assert pp(undistort_dir="a/b").undistort_dir == Path("a/b")  # text paths become paths
    with pytest.raises(ConfigError, match=r"scannetpp option camera: 'front' is not one of"):
        pp(camera="front")


def test_unknown_keys_and_syntax() -> None:
    with pytest.raises(ConfigError, match=r"--loader-opt 'stride': expected key=value"):
        parse_loader_opts(["stride"])
    with pytest.raises(ConfigError, match=r"--loader-opt 'colour=red': unknown option 'colour'"):
        parse_loader_opts(["colour=red"])
    # known to some loader, but not to the one named
    with pytest.raises(ConfigError, match=r"unknown option 'stride'; scannet accept"):
        parse_loader_opts(["stride=4"], "scannet")
    # without a loader, a value valid for the loader that has the key is kept as text
    assert parse_loader_opts(["stride=4", "camera=dslr"]) == {"stride": "4", "camera": "dslr"}
    with pytest.raises(ConfigError, match=r"--loader-opt 'stride=x'"):
        parse_loader_opts(["stride=x"])


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("opts")
    return write_scannet_scene(build_world(21), root, "synth0021_00", 6, 64, 48, seed=1)


def test_options_recorded_in_scene_and_index(scan: Path, tmp_path: Path) -> None:
    folder = tmp_path / scan.name
    shutil.copytree(scan, folder)
    scene = load_scene(folder, load_mesh=False, label_column="nyu40class")
    assert scene.loader == "scannet" and scene.loader_options is not None
    assert scene.loader_options.label_column == "nyu40class"
    out = index_scene_dirs([folder], IndexParams(render_width=48), progress=False)
    assert out[0].status == "built"
    # the defaults, written out by hand
    assert out[0].index.params["loader"] == {
        "name": "scannet",
        "options": {"label_map": None, "label_column": "category", "obb": None, "source": None,
                    "embodiedscan": None},
    }
    fp = out[0].index.params["fingerprint"]
    assert isinstance(fp, str) and len(fp) == 64
    again = index_scene_dirs([folder], IndexParams(render_width=48), progress=False)
    assert again[0].status == "cached"
    # another option value: another fingerprint, so the index is rebuilt and records it
    other = index_scene_dirs([folder], IndexParams(render_width=48), progress=False,
                             loader_opts={"label_column": "nyu40class"})
    assert other[0].status == "built"
    assert other[0].index.params["loader"]["options"]["label_column"] == "nyu40class"
    assert other[0].index.params["fingerprint"] != fp


def test_fingerprint_covers_the_content_of_option_files(scan: Path, tmp_path: Path) -> None:
    folder = tmp_path / scan.name
    shutil.copytree(scan, folder)
    tsv = tmp_path / "labels.tsv"
    tsv.write_text("id\traw_category\tcategory\tnyu40class\n1\tchair\tseat\tchair\n")
    opts = {"label_map": str(tsv)}
    first = index_scene_dirs([folder], IndexParams(render_width=48), progress=False,
                             loader_opts=opts)
    assert first[0].status == "built"
    assert first[0].index.params["loader"]["options"]["label_map"] == str(tsv)
    assert index_scene_dirs([folder], IndexParams(render_width=48), progress=False,
                            loader_opts=opts)[0].status == "cached"
    tsv.write_text("id\traw_category\tcategory\tnyu40class\n1\tchair\tstool\tchair\n")
    assert index_scene_dirs([folder], IndexParams(render_width=48), progress=False,
                            loader_opts=opts)[0].status == "built"


def test_bad_option_fails_the_scene_with_a_named_error(scan: Path, tmp_path: Path) -> None:
    folder = tmp_path / scan.name
    shutil.copytree(scan, folder)
    out = index_scene_dirs([folder], IndexParams(render_width=48), progress=False,
                           loader_opts={"stride": "4"})  # a structured3d option, not scannet's
    assert out[0].status == "failed"
    assert "--loader-opt 'stride=4': unknown option 'stride' for the scannet loader" in out[0].error


def test_docs_list_every_option_of_every_loader() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "loaders.md").read_text()
    for name in LOADERS.names():
        kind = LOADERS.get(name).options_type
        assert f"(`{kind.__name__}`)" in docs, kind.__name__
        section = docs.split(f"(`{kind.__name__}`)", 1)[1].split("\n\n", 2)[1]
        for f in dataclasses.fields(kind):
            assert f"| `{f.name}` |" in section, (name, f.name)
