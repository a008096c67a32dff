"""Path checks for names read from files, umask-honouring atomic writes, output locks."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from spar3d.data.layout import scene_images_dir
from spar3d.errors import ResourceBusyError, UnsafeInputError
from spar3d.io import (
    COMMIT_JOURNAL,
    atomic_open,
    clean_stale_temps,
    file_set,
    output_lock,
    recover_commit,
    write_json,
)
from spar3d.paths import check_component, resolve_under


@pytest.mark.parametrize("name", ["scene0000_00", "543", "a.b", "frame-7"])
def test_plain_components_pass(name: str) -> None:
    assert check_component(name, "scene_id", "f.json") == name


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "a\\b", "a\x00", " x", "/etc"])
def test_unsafe_components_are_refused_naming_field_and_file(name: str) -> None:
    with pytest.raises(UnsafeInputError, match=r"f\.json: field 'frame_id'"):
        check_component(name, "frame_id", "f.json")


def test_scene_images_dir_refuses_traversal_from_an_index(tmp_path: Path) -> None:
    assert scene_images_dir(tmp_path, "scannet", "s0") == tmp_path / "scannet" / "images" / "s0"
    with pytest.raises(UnsafeInputError, match="scene_id"):
        scene_images_dir(tmp_path, "scannet", "../../outside")
    with pytest.raises(UnsafeInputError, match="source"):
        scene_images_dir(tmp_path, "../x", "s0")


def test_resolve_under(tmp_path: Path) -> None:
    root = tmp_path / "root"
    assert resolve_under(root, "a/b.jpg", "s") == root / "a" / "b.jpg"
    assert resolve_under(root, "a/../b.jpg", "s") == root / "b.jpg"
    for bad in ("../b.jpg", "a/../../b.jpg", "/etc/passwd", str(tmp_path / "rootx" / "f")):
        with pytest.raises(UnsafeInputError, match="leaves the folder"):
            resolve_under(root, bad, "sample 'q'")
    assert resolve_under(root, "../b.jpg", "s", allow_outside=True) == tmp_path / "b.jpg"


def test_atomic_files_honour_the_umask(tmp_path: Path) -> None:
    # A fresh interpreter with umask 022 (the module reads the umask at import).
    target = tmp_path / "a.json"
    code = (
        "import os\n"
        "os.umask(0o022)\n"
        "from spar3d.io import write_json\n"
        f"write_json({str(target)!r}, {{'x': 1}})\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_stale_temps_are_cleaned_and_live_files_kept(tmp_path: Path) -> None:
    write_json(tmp_path / "keep.json", {"a": 1})
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".x.jsonl.abc123.tmp").write_text("partial")
    (tmp_path / ".y.parquet.zz.tmp").write_text("partial")
    assert clean_stale_temps(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["keep.json"]


def test_a_failed_write_leaves_no_temp_and_the_old_file(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {"v": 1})
    with pytest.raises(RuntimeError), atomic_open(tmp_path / "a.json", "w") as fh:
        fh.write("half")
        raise RuntimeError("killed")
    assert (tmp_path / "a.json").read_text().startswith('{\n  "v": 1')
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_output_lock_refuses_a_second_process_and_frees_on_death(tmp_path: Path) -> None:
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time\nfrom spar3d.io import output_lock\n"
            f"with output_lock({str(out)!r}, 'generate'):\n"
            "    print('held', flush=True); time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        busy = pytest.raises(ResourceBusyError, match=r"another spar3d run.*generate, pid \d+")
        with busy, output_lock(out):
            pass
    finally:
        holder.kill()  # kill -9: the kernel drops the flock
        holder.wait()
    (out / ".q.json.1.tmp").write_text("debris")
    with output_lock(out) as root:
        assert root == out
        assert not (out / ".q.json.1.tmp").exists()


def _old_set(folder: Path) -> None:
    for name in ("a.json", "b.jsonl"):
        (folder / name).write_text(f"old {name}")


def test_file_set_commits_every_file_together(tmp_path: Path) -> None:
    _old_set(tmp_path)
    with file_set(tmp_path) as fs:
        write_json(tmp_path / "a.json", {"new": 1}, files=fs)
        write_json(tmp_path / "b.jsonl", {"new": 2}, files=fs)
        assert (tmp_path / "a.json").read_text() == "old a.json"  # nothing moved yet
    assert '"new": 1' in (tmp_path / "a.json").read_text()
    assert '"new": 2' in (tmp_path / "b.jsonl").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.jsonl"]


def test_file_set_failure_keeps_the_old_set(tmp_path: Path) -> None:
    _old_set(tmp_path)
    with pytest.raises(RuntimeError), file_set(tmp_path) as fs:
        write_json(tmp_path / "a.json", {"new": 1}, files=fs)
        raise RuntimeError("killed between the files")
    assert (tmp_path / "a.json").read_text() == "old a.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.jsonl"]


def test_a_commit_killed_after_its_journal_is_rolled_forward(tmp_path: Path) -> None:
    # The state a kill -9 leaves between the journal and the last move: one file moved.
    _old_set(tmp_path)
    (tmp_path / ".b.jsonl.x1.tmp").write_text("new b")
    (tmp_path / "a.json").write_text("new a")
    (tmp_path / COMMIT_JOURNAL).write_text(
        '{"moves": [[".a.json.x0.tmp", "a.json"], [".b.jsonl.x1.tmp", "b.jsonl"]]}'
    )
    assert recover_commit(tmp_path)
    assert (tmp_path / "a.json").read_text() == "new a"
    assert (tmp_path / "b.jsonl").read_text() == "new b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.jsonl"]


def test_a_crafted_journal_cannot_move_files_outside(tmp_path: Path) -> None:
    (tmp_path / "inner").mkdir()
    (tmp_path / "victim").write_text("keep")
    (tmp_path / "inner" / COMMIT_JOURNAL).write_text('{"moves": [["../victim", "x"]]}')
    with pytest.raises(UnsafeInputError):
        recover_commit(tmp_path / "inner")
    assert (tmp_path / "victim").read_text() == "keep"


def test_copied_images_are_checked_cheaply(tmp_path: Path) -> None:
    from PIL import Image

    from spar3d.errors import InputError
    from spar3d.writers.spar7m import check_image_file

    good = tmp_path / "good.jpg"
    Image.new("RGB", (64, 48), (10, 200, 30)).save(good, quality=90)
    check_image_file(good, "JPEG")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[:-2])  # the end-of-image marker is lost
    with pytest.raises(InputError, match=r"cut\.jpg: truncated JPEG"):
        check_image_file(cut, "JPEG")
    png = tmp_path / "png.jpg"
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    with pytest.raises(InputError, match=r"png\.jpg: expected a JPEG image, the file holds PNG"):
        check_image_file(png, "JPEG")
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image at all")
    with pytest.raises(InputError, match=r"junk\.jpg: not a readable image"):
        check_image_file(junk, "JPEG")
