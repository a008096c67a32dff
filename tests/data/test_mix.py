"""Mixing: repeat_time products, SPAR naming, and streamed materialisation counts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from spar3d.data.data_json import build_data_json, write_data_jsons
from spar3d.data.mix import MixSpec, materialize, mix_indexes, mix_name
from spar3d.data.toy import make_toy_tree


@pytest.fixture
def indexes(tmp_path: Path) -> list[Path]:
    make_toy_tree(tmp_path / "spar")
    return write_data_jsons(build_data_json(tmp_path / "spar"), tmp_path / "data_jsons")


SPEC = MixSpec({"scannet": 2.0, "structured3d": 1.0}, {"fill": 0.5, "select": 0.25})
# Hand computation: length * source ratio * format ratio
#   scannet fill      10 * 2 * 0.5  = 10   (repeat_time 1.0)
#   scannet select     4 * 2 * 0.25 =  2   (repeat_time 0.5 -> first 2 lines)
#   scannet sentence   3 * 2 * 1    =  6   (repeat_time 2.0 -> each line twice)
#   structured3d fill  6 * 1 * 0.5  =  3   (repeat_time 0.5 -> first 3 lines)
EXPECTED = {
    "scannet_depth_prediction_oc_fill": (1.0, 10),
    "scannet_depth_prediction_oc_select": (0.5, 2),
    "scannet_spatial_imagination_oo_mv_sentence": (2.0, 6),
    "structured3d_distance_prediction_oc_fill": (0.5, 3),
}


def test_mix_multiplies_repeat_time(indexes: list[Path]) -> None:
    result = mix_indexes(indexes, SPEC)
    got = {k: (e["repeat_time"], e["length_with_repeat"]) for k, e in result.data.items()}
    assert got == EXPECTED
    # InternVL asserts isinstance(repeat_time, int) above 1: 2, not 2.0.
    assert type(result.data["scannet_spatial_imagination_oo_mv_sentence"]["repeat_time"]) is int
    assert all(e["data_augment"] is False for e in result.data.values())
    assert result.total == 21
    assert result.name == "2scannet_1structured3d_0k.json"


def test_fractional_repeat_above_one_becomes_two_internvl_entries(indexes: list[Path]) -> None:
    # scannet fill: 10 lines * 2.5 = the file twice (int 2) + its first half (0.5) = 25 lines.
    result = mix_indexes(indexes, MixSpec({"scannet": 2.5, "structured3d": 0}, {}))
    whole = result.data["scannet_depth_prediction_oc_fill"]
    rest = result.data["scannet_depth_prediction_oc_fill#rest"]
    assert (whole["repeat_time"], whole["length_with_repeat"]) == (2, 20)
    assert (rest["repeat_time"], rest["length_with_repeat"]) == (0.5, 5)
    assert type(whole["repeat_time"]) is int and whole["annotation"] == rest["annotation"]
    assert result.total == 25 + 10 + 7  # select 4 * 2.5 = 8 + 2; sentence 3 * 2.5 = 6 + 1


def test_mix_name_rule() -> None:
    ratios = {"structured3d": 1.0, "rxr": 1.0, "scannetpp": 1.0, "scannet": 1.0}
    assert mix_name(ratios, 7_300_000) == "1rxr_1scannet_1scannetpp_1structured3d_7m.json"
    assert mix_name({"scannet": 0.5}, 42_000) == "0.5scannet_42k.json"


def test_zero_ratio_drops_and_unknown_name_fails(indexes: list[Path]) -> None:
    result = mix_indexes(indexes, MixSpec({"structured3d_0k": 0}, {}))
    assert all(k.startswith("scannet_") for k in result.data)
    assert result.name == "1scannet_0k.json"
    with pytest.raises(ValueError, match="scanet"):
        mix_indexes(indexes, MixSpec({"scanet": 2}, {}))
    with pytest.raises(ValueError, match="judge"):
        mix_indexes(indexes, MixSpec({}, {"judge": 2}))


def test_yaml_spec_accepts_spar_keys(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("mix_ratios:\n  scannet_7799k: 1.0\nqa_type_ratios:\n  select: 0.1\n")
    spec = MixSpec.from_yaml(path)
    assert spec.source_ratios == {"scannet_7799k": 1.0} and spec.format_ratios == {"select": 0.1}
    path.write_text("ratios: {}\n")
    with pytest.raises(ValueError, match="unknown keys"):
        MixSpec.from_yaml(path)


def _ids_per_key(path: Path) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        out.setdefault(row["data_key"], Counter())[row["id"]] += 1
    return out


def test_materialize_all_follows_repeat_semantics(indexes: list[Path], tmp_path: Path) -> None:
    result = mix_indexes(indexes, SPEC)
    out = tmp_path / "mix.jsonl"
    counts = materialize(result.data, out, seed=1, base_dir=tmp_path)
    assert counts == {k: n for k, (_, n) in EXPECTED.items()}
    ids = _ids_per_key(out)
    assert ids["scannet_depth_prediction_oc_select"] == {"scene0000_00_0": 1, "scene0000_00_1": 1}
    assert ids["scannet_spatial_imagination_oo_mv_sentence"] == {
        f"scene0000_00_{i}": 2 for i in range(3)
    }
    assert ids["structured3d_distance_prediction_oc_fill"] == {
        f"scene_00000_{i}": 1 for i in range(3)
    }
    assert ids["scannet_depth_prediction_oc_fill"] == {f"scene0000_00_{i}": 1 for i in range(10)}


def test_materialize_sample_is_seeded_and_shuffled(indexes: list[Path], tmp_path: Path) -> None:
    data = mix_indexes(indexes, SPEC).data
    a, b, c = (tmp_path / f"{x}.jsonl" for x in "abc")
    counts = materialize(data, a, n=7, seed=5, base_dir=tmp_path)
    materialize(data, b, n=7, seed=5, base_dir=tmp_path)
    materialize(data, c, n=21, seed=6, base_dir=tmp_path)
    assert sum(counts.values()) == 7 and len(a.read_text().splitlines()) == 7
    assert all(counts[k] <= n for k, (_, n) in EXPECTED.items())
    assert a.read_bytes() == b.read_bytes()
    # A full draw is a permutation: not the index order (the first 10 lines would all be fill).
    keys = [json.loads(x)["data_key"] for x in c.read_text().splitlines()]
    assert keys[:10] != ["scannet_depth_prediction_oc_fill"] * 10
    with pytest.raises(ValueError, match="cannot draw 22"):
        materialize(data, a, n=22, base_dir=tmp_path)


def test_materialize_untagged_lines_are_verbatim(indexes: list[Path], tmp_path: Path) -> None:
    data = mix_indexes(indexes, MixSpec({"scannet": 0}, {})).data
    out = tmp_path / "m.jsonl"
    materialize(data, out, tag=False, base_dir=tmp_path)
    src = Path(data["structured3d_distance_prediction_oc_fill"]["annotation"]).read_text()
    assert sorted(out.read_text().splitlines()) == sorted(src.splitlines())


def test_materialize_detects_stale_length(indexes: list[Path], tmp_path: Path) -> None:
    data = mix_indexes(indexes, MixSpec()).data
    data["scannet_depth_prediction_oc_fill"]["length"] = 11
    with pytest.raises(ValueError, match="re-run"):
        materialize(data, tmp_path / "m.jsonl", base_dir=tmp_path)


def test_materialize_refuses_annotations_outside_base_dir(indexes: list[Path], tmp_path: Path) -> None:
    """The data_json's paths (absolute here) must lie under base_dir, or be allowed explicitly."""
    from spar3d.errors import UnsafeInputError

    data = mix_indexes(indexes, MixSpec({"scannet": 0}, {})).data
    with pytest.raises(UnsafeInputError, match="structured3d_distance_prediction_oc_fill"):
        materialize(data, tmp_path / "m.jsonl", base_dir=tmp_path / "data_jsons")
    counts = materialize(data, tmp_path / "m.jsonl", base_dir=tmp_path / "data_jsons",
                         allow_outside=True)  # fmt: skip
    assert sum(counts.values()) == 6
