"""Non-finite or impossible numbers in a scan are refused, naming the scene, item and field.

Each case corrupts one file of the hand-written ScanNet fixture (tests/scenes/test_scannet.py)
and checks that ``load_scene`` (every loader's exit) and the ``spar3d index`` command refuse it
with one line and a non-zero exit, instead of indexing garbage.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from tests.scenes.test_scannet import SID, _write_matrix, make_scan

from spar3d.cli.main import run
from spar3d.errors import InputError
from spar3d.scenes.loaders import load_scene


def _nan_vertex(d: Path) -> None:
    ply = d / f"{SID}_vh_clean_2.ply"
    lines = ply.read_text().splitlines()
    first = lines.index("end_header") + 1
    lines[first + 3] = "nan 0 0 3 6 7"
    ply.write_text("\n".join(lines) + "\n")


def _inf_intrinsics(d: Path) -> None:
    K = np.array([[np.inf, 0, 3.5, 0], [0, 10.0, 2.5, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    _write_matrix(d / "intrinsic" / "intrinsic_color.txt", K)


def _zero_focal(d: Path) -> None:
    K = np.array([[0.0, 0, 3.5, 0], [0, 10.0, 2.5, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    _write_matrix(d / "intrinsic" / "intrinsic_color.txt", K)


CASES = {
    "nan vertex": (_nan_vertex, r"mesh vertices must be finite.*vertex 3"),
    "inf intrinsics": (_inf_intrinsics, r"frame 0: colour intrinsics must be finite"),
    "zero focal length": (_zero_focal, r"frame 0: colour intrinsics .*fx, fy > 0"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_loader_refuses_bad_numbers(tmp_path: Path, case: str) -> None:
    corrupt, message = CASES[case]
    scan = make_scan(tmp_path)
    corrupt(scan)
    with pytest.raises(InputError, match=message):
        load_scene(scan)


@pytest.mark.parametrize("case", sorted(CASES))
def test_index_command_fails_cleanly(tmp_path: Path, case: str, capsys) -> None:
    corrupt, message = CASES[case]
    scan = make_scan(tmp_path)
    corrupt(scan)
    code = run(["index", str(scan)])
    captured = capsys.readouterr()
    assert code != 0
    text = " ".join((captured.out + captured.err).split())
    assert "Traceback" not in text
    assert re.search(message, text), text
    assert not (scan / "spar3d_index.json").exists()


def test_the_clean_fixture_still_loads(tmp_path: Path) -> None:
    assert len(load_scene(make_scan(tmp_path)).frames) == 2
