"""``spar3d synth`` and ``synthesize``: naming, per-scene seeding, resume."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from spar3d.cli.main import app
from spar3d.scenes.synthetic.export import DONE_MARKER
from spar3d.scenes.synthetic.synthesize import scene_seed, synthesize

ARGS = ["--frames", "3", "--width", "32", "--height", "24", "--no-progress"]


def test_cli_writes_named_scenes(tmp_path):
    result = CliRunner().invoke(
        app, ["synth", "--out", str(tmp_path), "--scenes", "2", "--seed", "5", *ARGS]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synth0000_00", "synth0001_00"]
    for name in ("synth0000_00", "synth0001_00"):
        done = json.loads((tmp_path / name / DONE_MARKER).read_text())
        assert done["n_frames"] == 3 and done["width"] == 32 and done["height"] == 24
        assert len(list((tmp_path / name / "color").glob("*.jpg"))) == 3


def test_scene_k_does_not_depend_on_the_number_of_scenes(tmp_path):
    one = synthesize(tmp_path / "one", 1, seed=9, n_frames=2, width=16, height=12, progress=False)
    two = synthesize(tmp_path / "two", 2, seed=9, n_frames=2, width=16, height=12, progress=False)
    ply = "synth0000_00_vh_clean_2.ply"
    assert (one[0] / ply).read_bytes() == (two[0] / ply).read_bytes()
    assert (two[0] / ply).read_bytes() != (two[1] / "synth0001_00_vh_clean_2.ply").read_bytes()
    assert scene_seed(9, 0) != scene_seed(9, 1) and scene_seed(9, 0) != scene_seed(10, 0)


def test_resume_skips_complete_scenes_and_redoes_incomplete_ones(tmp_path):
    synthesize(tmp_path, 2, seed=1, n_frames=2, width=16, height=12, progress=False)
    marker0 = tmp_path / "synth0000_00" / DONE_MARKER
    marker1 = tmp_path / "synth0001_00" / DONE_MARKER
    stamp0 = marker0.stat().st_mtime_ns
    marker1.unlink()  # as if the run had stopped while writing scene 1
    (tmp_path / "synth0001_00" / "color" / "1.jpg").unlink()
    synthesize(tmp_path, 3, seed=1, n_frames=2, width=16, height=12, progress=False)
    assert marker0.stat().st_mtime_ns == stamp0  # untouched
    assert marker1.is_file() and (tmp_path / "synth0001_00" / "color" / "1.jpg").is_file()
    assert (tmp_path / "synth0002_00" / DONE_MARKER).is_file()
    # other settings are not "complete": the scene is made again with them
    synthesize(tmp_path, 1, seed=1, n_frames=3, width=16, height=12, progress=False)
    assert json.loads(marker0.read_text())["n_frames"] == 3
