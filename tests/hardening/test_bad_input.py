"""Bad input over every command: one line naming the file / field / sample, non-zero exit.

Each case builds a small valid input (the toy SPAR-7M tree, a hand-written scan, a predictions
file), breaks one thing about it, runs the command through ``spar3d.cli.main.run`` (the entry
point users get) and checks: exit code != 0, no Python traceback, the message names what is
wrong (a regular expression per case), and nothing was written outside the output folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from spar3d.cli.main import run
from spar3d.data.toy import make_toy_tree

QA = "scannet/qa_jsonl/train/depth_prediction_oc/fill/fill_10.jsonl"


@dataclass(frozen=True)
class Case:
    argv: Callable[[Path], list[str]]
    expect: str  # regular expression the one-line error must match
    setup: Callable[[Path], None] = lambda tmp: None


def _tree(tmp: Path) -> None:
    make_toy_tree(tmp / "spar")


def _edit_first_line(tmp: Path, edit: Callable[[dict], dict | str]) -> None:
    _tree(tmp)
    path = tmp / "spar" / QA
    lines = path.read_text().splitlines()
    new = edit(json.loads(lines[0]))
    lines[0] = new if isinstance(new, str) else json.dumps(new)
    path.write_text("\n".join(lines) + "\n")


def _malformed_line(tmp: Path) -> None:
    _edit_first_line(tmp, lambda s: '{"id": "x", "conversations": [')


def _no_gpt_turn(tmp: Path) -> None:
    _edit_first_line(tmp, lambda s: {**s, "conversations": s["conversations"][:1]})


def _traversal_image(tmp: Path) -> None:
    Image.new("RGB", (8, 8)).save(tmp / "secret.jpg")
    _edit_first_line(tmp, lambda s: {**s, "image": ["../../../secret.jpg"]})


def _absolute_image(tmp: Path) -> None:
    Image.new("RGB", (8, 8)).save(tmp / "secret.jpg")
    _edit_first_line(tmp, lambda s: {**s, "image": [str(tmp / "secret.jpg")]})


def _truncated_jpeg(tmp: Path) -> None:
    _tree(tmp)
    jpg = tmp / "spar/scannet/images/scene0000_00/image_color/0.jpg"
    jpg.write_bytes(jpg.read_bytes()[:200])


def _predictions(tmp: Path, rows: list[str]) -> None:
    (tmp / "pred.jsonl").write_text("\n".join(rows) + "\n")


def _dup_predictions(tmp: Path) -> None:
    row = {"id": "a", "task": "depth_prediction_oc", "answer": "1.5", "prediction": "1.5"}
    _predictions(tmp, [json.dumps(row), json.dumps(row)])


def _tree_arg(sub: str) -> Callable[[Path], list[str]]:
    return lambda tmp: [sub, str(tmp / "spar"), "--out", str(tmp / "out")]


CASES: dict[str, Case] = {
    # missing inputs
    "index: missing folder": Case(lambda t: ["index", str(t / "nope")], r"nope"),
    "generate: missing folder": Case(
        lambda t: ["generate", str(t / "nope"), "--out", str(t / "out")], r"nope"
    ),
    "data-json: missing root": Case(lambda t: ["data-json", str(t / "nope")], r"nope"),
    "mix: missing data_json": Case(lambda t: ["mix", str(t / "nope.json")], r"nope\.json"),
    "export: missing root": Case(lambda t: ["export", str(t / "nope"), "--out", str(t / "o")], r"nope"),
    "show: missing root": Case(lambda t: ["show", str(t / "nope"), "--out", str(t / "o")], r"nope"),
    "stats: missing root": Case(lambda t: ["stats", str(t / "nope")], r"nope"),
    "bench build: missing root": Case(
        lambda t: ["bench", "build", str(t / "nope"), "--out", str(t / "o")], r"nope"
    ),
    "score: missing file": Case(lambda t: ["score", str(t / "nope.jsonl")], r"nope\.jsonl"),
    # malformed JSONL line: the file and line are named
    "export: malformed line": Case(_tree_arg("export"), r"fill_10\.jsonl:1", _malformed_line),
    "show: malformed line": Case(_tree_arg("show"), r"fill_10\.jsonl:1", _malformed_line),
    "stats: malformed line": Case(
        lambda t: ["stats", str(t / "spar")], r"fill_10\.jsonl:1", _malformed_line
    ),
    # schema: a sample without a gpt turn is named
    "export: sample without answer": Case(_tree_arg("export"), r"scene0000_00_0", _no_gpt_turn),
    "show: sample without answer": Case(_tree_arg("show"), r"scene0000_00_0", _no_gpt_turn),
    # paths inside samples that leave the dataset
    "show: ../ image path": Case(_tree_arg("show"), r"leaves the folder", _traversal_image),
    "show: absolute image path": Case(_tree_arg("show"), r"leaves the folder", _absolute_image),
    # undecodable image, named at first read
    "show: truncated jpeg": Case(_tree_arg("show"), r"cannot decode image .*0\.jpg", _truncated_jpeg),
    # option values
    "index: negative translation": Case(
        lambda t: ["index", str(t), "--translation-m", "-1"], r"translation_m: must be >= 0"
    ),
    "index: zero render width": Case(
        lambda t: ["index", str(t), "--render-width", "0"], r"render_width: must be >= 8"
    ),
    "index: unknown pointcloud visibility": Case(
        lambda t: ["index", str(t), "--pointcloud-visibility", "bogus"], r"bogus"
    ),
    # predictions
    "score: malformed predictions": Case(
        lambda t: ["score", str(t / "pred.jsonl")],
        r"pred\.jsonl:1",
        lambda t: _predictions(t, ["{not json"]),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_ends_in_one_named_error(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = CASES[name]
    case.setup(tmp_path)
    before = {p for p in tmp_path.parent.iterdir()}
    code = run(case.argv(tmp_path))
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code != 0, f"exit 0 on bad input:\n{text}"
    assert "Traceback" not in text and "internal error" not in text, text
    flat = " ".join(text.split())
    assert re.search(case.expect, flat), flat
    assert {p for p in tmp_path.parent.iterdir()} == before  # nothing written beside tmp_path
