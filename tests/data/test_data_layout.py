"""Reading a SPAR-7M tree: file discovery, streaming line counts and offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from spar3d.data.layout import count_lines, line_offsets, parse_name, scan_tree
from spar3d.data.toy import make_toy_tree


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", 0), (b"a\n", 1), (b"a\nb", 2), (b"a\nb\n", 2), (b"\n\n\n", 3)],
)
def test_count_lines(tmp_path: Path, content: bytes, expected: int) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(content)
    assert count_lines(path) == expected
    assert len(line_offsets(path)) - 1 == expected


def test_line_offsets_slice_each_line(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"ab\ncde\nf")
    off = line_offsets(path)
    assert off.tolist() == [0, 3, 7, 8]


def test_count_lines_across_chunks(tmp_path: Path) -> None:
    # 300 000 lines of 8 bytes = 2.4 MB: several 1 MiB chunks, line breaks at chunk borders.
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"1234567\n" * 300_000)
    assert count_lines(path) == 300_000
    off = line_offsets(path)
    assert off[-1] == 2_400_000 and off[123_456] == 123_456 * 8


def test_parse_name() -> None:
    assert parse_name(Path("fill_76837.jsonl")) == ("fill", 76837)
    assert parse_name(Path("notes.jsonl")) == ("notes", None)


def test_scan_tree_finds_every_file(tmp_path: Path) -> None:
    make_toy_tree(tmp_path)
    files = scan_tree(tmp_path)
    assert [(f.source, f.task, f.format, f.declared_count) for f in files] == [
        ("scannet", "depth_prediction_oc", "fill", 10),
        ("scannet", "depth_prediction_oc", "select", 4),
        ("scannet", "spatial_imagination_oo_mv", "sentence", 3),
        ("structured3d", "distance_prediction_oc", "fill", 6),
    ]
    assert files[0].key == "scannet_depth_prediction_oc_fill"


def test_scan_tree_names_missing_source(tmp_path: Path) -> None:
    make_toy_tree(tmp_path)
    with pytest.raises(FileNotFoundError, match="rxr"):
        scan_tree(tmp_path, ["rxr"])
