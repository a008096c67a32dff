"""Hostile files: every place a path comes from a file, and the review server's reach.

Each case plants a sentinel folder *outside* the folders the command is given (a secret image and
text), writes a file whose path fields point at it (``../`` or absolute), runs the command, and
proves the sentinel was neither read into an output nor modified, and that nothing was written
outside the named folders. Hostile pickles (code, gadget, exhaustion) are covered in
``tests/test_safe_pickle.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from spar3d.cli.main import run
from spar3d.errors import UnsafeInputError

W_QA = "w/spar/toy/qa_jsonl/val/depth_prediction_oc/fill/fill_2.jsonl"
W_INDEX = "w/scenes/room0000_00/spar3d_index.json"


def _sentinel(tmp: Path) -> dict[str, tuple[bytes, int]]:
    out = tmp / "outside"
    out.mkdir()
    Image.new("RGB", (16, 16), (13, 201, 77)).save(out / "secret.jpg")
    (out / "secret.txt").write_text("TOP-SECRET-SENTINEL\n")
    return _snapshot(out)


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def _assert_untouched(tmp: Path, before: dict[str, tuple[bytes, int]], out: Path) -> None:
    assert _snapshot(tmp / "outside") == before  # not modified, nothing added beside it
    secrets = [v[0] for v in before.values()] + [b"TOP-SECRET-SENTINEL"]
    if out.exists():
        for p in out.rglob("*"):
            if p.is_file():
                data = p.read_bytes()
                assert not any(s in data for s in secrets), f"{p} holds the sentinel"


def _edit_qa_image(tmp: Path, image: str) -> None:
    path = tmp / W_QA
    lines = path.read_text().splitlines()
    s = json.loads(lines[0])
    s["image"] = [image]
    lines[0] = json.dumps(s)
    path.write_text("\n".join(lines) + "\n")


def _edit_index(tmp: Path, edit: Callable[[dict], None]) -> None:
    p = tmp / W_INDEX
    d = json.loads(p.read_text())
    edit(d)
    p.write_text(json.dumps(d))


def _set_frame_id(d: dict) -> None:
    d["images"][0]["frame_id"] = "../../../../outside/evil"


INDEX_EDITS: dict[str, Callable[[dict], None]] = {
    "scene_id": lambda d: d.update(scene_id="../../outside/evil"),
    "source": lambda d: d.update(source="../../outside"),
    "frame_id": _set_frame_id,
}


@pytest.mark.parametrize("field", sorted(INDEX_EDITS))
def test_generate_refuses_index_paths_that_leave_out(
    field: str, world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _sentinel(tmp_path)
    _edit_index(tmp_path, INDEX_EDITS[field])
    out = tmp_path / "gen"
    code = run(["generate", str(world / "scenes/room0000_00"), "--out", str(out),
                "--per-task", "2", "--tasks", "depth_prediction_oc"])  # fmt: skip
    captured = capsys.readouterr()
    text = " ".join((captured.out + captured.err).split())
    assert code != 0 and field in text, text
    _assert_untouched(tmp_path, before, out)


IMAGE_COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "show": lambda t: ["show", str(t / "w/spar"), "--split", "val", "--out", str(t / "o")],
    "bench build": lambda t: ["bench", "build", str(t / "w/spar"), "--out", str(t / "o")],
    "export": lambda t: ["export", str(t / "w/spar"), "--split", "val", "--out", str(t / "o"),
                         "--format", "hf"],
}  # fmt: skip
XFAIL_IMAGE: dict[str, str] = {}  # command -> reason (owner), while a fix is pending elsewhere


@pytest.mark.parametrize("how", ["relative", "absolute"])
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=XFAIL_IMAGE[c]))
        if c in XFAIL_IMAGE
        else c
        for c in sorted(IMAGE_COMMANDS)
    ],
)
def test_sample_image_paths_outside_the_dataset_are_refused(
    command: str, how: str, world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _sentinel(tmp_path)
    secret = tmp_path / "outside" / "secret.jpg"
    _edit_qa_image(tmp_path, "../../../../../outside/secret.jpg" if how == "relative" else str(secret))
    code = run(IMAGE_COMMANDS[command](tmp_path))
    text = " ".join(capsys.readouterr().err.split())
    assert code == UnsafeInputError.exit_code and "leaves the folder" in text, text
    _assert_untouched(tmp_path, before, tmp_path / "o")


def test_review_serves_nothing_outside_its_root(world: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from spar3d.review.app import create_app
    from spar3d.review.data import ReviewData
    from spar3d.review.decisions import DecisionLog

    before = _sentinel(tmp_path)
    _edit_qa_image(tmp_path, "../../../../../outside/secret.jpg")
    data = ReviewData(world / "spar", split="val")
    log = DecisionLog(tmp_path / "w/spar/review/d.jsonl", "r")
    client = TestClient(create_app(data, log, tmp_path / "w/spar/review/accepted"),
                        raise_server_exceptions=False)  # fmt: skip
    bodies = []
    for i in range(len(data.items)):
        r = client.get(f"/api/image/{i}/0")
        assert r.status_code in (200, 403, 404)
        bodies.append(r.content)
    for url in ["/static/..%2F..%2F..%2Foutside%2Fsecret.txt", "/static/../../outside/secret.txt",
                "/static/%2e%2e/app.py", "/..%2F..%2Foutside%2Fsecret.txt",
                "/api/image/-1/0", "/api/image/0/-1", "/api/image/99999/0"]:  # fmt: skip
        r = client.get(url)
        assert r.status_code in (400, 403, 404, 422), url
        bodies.append(r.content)
    secret_jpg, secret_txt = before["secret.jpg"][0], b"TOP-SECRET-SENTINEL"
    assert not any(secret_jpg in b or secret_txt in b for b in bodies)
    # the item whose image leaves the dataset is an error, never the outside file re-encoded
    bad = next(i for i, it in enumerate(data.items) if "outside" in json.dumps(it.as_sample()))
    assert client.get(f"/api/image/{bad}/0").status_code >= 400
    _assert_untouched(tmp_path, before, tmp_path / "w")


def test_review_binds_this_machine_by_default() -> None:
    import inspect

    from spar3d.cli.review import review_command

    host = inspect.signature(review_command).parameters["host"].default
    assert getattr(host, "default", host) == "127.0.0.1"


def test_review_export_refuses_decision_keys_that_name_no_item(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _sentinel(tmp_path)
    row = {"key": "../../../outside/secret.txt", "action": "accept", "reason": "", "time": 0}
    (tmp_path / "d.jsonl").write_text(json.dumps(row) + "\n")
    code = run(["review-export", str(world / "bench"), "--decisions", str(tmp_path / "d.jsonl"),
                "--out", str(tmp_path / "o")])  # fmt: skip
    assert code != 0 and "name no item" in " ".join(capsys.readouterr().err.split())
    _assert_untouched(tmp_path, before, tmp_path / "o")


def test_review_reviewer_name_cannot_place_the_decisions_file(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _sentinel(tmp_path)
    code = run(["review", str(world / "bench"), "--reviewer", "../../../outside/x"])
    assert code == UnsafeInputError.exit_code, capsys.readouterr().err
    _assert_untouched(tmp_path, before, tmp_path / "w")


@pytest.mark.parametrize("target", ["../outside/secret.txt", "/etc/passwd"])
def test_file_set_journal_cannot_move_files_outside_its_folder(target: str, tmp_path: Path) -> None:
    from spar3d.io import COMMIT_JOURNAL, recover_commit

    before = _sentinel(tmp_path)
    folder = tmp_path / "bench"
    folder.mkdir()
    (folder / "x.tmp").write_text("attacker bytes")
    (folder / COMMIT_JOURNAL).write_text(json.dumps({"moves": [["x.tmp", target]]}))
    with pytest.raises(UnsafeInputError):
        recover_commit(folder)
    (folder / COMMIT_JOURNAL).write_text(
        json.dumps({"moves": [["../outside/secret.txt", "stolen.txt"]]})
    )
    with pytest.raises(UnsafeInputError):
        recover_commit(folder)
    assert not (folder / "stolen.txt").exists()
    _assert_untouched(tmp_path, before, folder)
    assert os.path.exists("/etc/passwd") or target != "/etc/passwd"


@pytest.mark.parametrize("moves", [[1], [["a"]], "x.tmp", [["x.tmp", 3]]])
def test_file_set_journal_of_the_wrong_shape_is_named(moves: object, tmp_path: Path) -> None:
    from spar3d.errors import InputError
    from spar3d.io import COMMIT_JOURNAL, recover_commit

    (tmp_path / COMMIT_JOURNAL).write_text(json.dumps({"moves": moves}))
    with pytest.raises(InputError, match="moves"):
        recover_commit(tmp_path)


def test_grounding_proposals_hold_no_paths(world: Path, tmp_path: Path) -> None:
    """A proposals file is data (scene id -> boxes): a scene id that looks like a path is only a
    key, never opened."""
    from spar3d.grounding.score import score_grounding  # noqa: F401  (import: the module exists)

    before = _sentinel(tmp_path)
    props = json.loads((world / "gbench/proposals.json").read_text())
    props["../../outside/secret.txt"] = next(iter(props.values()))
    (tmp_path / "p.json").write_text(json.dumps(props))
    code = run(["ground", "score", str(world / "grun"), "--bench", str(world / "gbench"),
                "--proposals", str(tmp_path / "p.json"), "--n-boot", "10",
                "--out", str(tmp_path / "rep")])  # fmt: skip
    assert code == 0
    _assert_untouched(tmp_path, before, tmp_path / "rep")


@pytest.mark.parametrize("how", ["relative", "absolute"])
def test_mix_annotation_outside_the_base_dir_is_refused(
    how: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A data_json entry whose annotation leaves --base-dir is refused when materialised (a
    data_json names files to copy lines from; one from elsewhere could copy any readable
    JSON-lines file into a training set); --allow-outside-root reads it."""
    _sentinel(tmp_path)
    ann = tmp_path / "outside" / "ann.jsonl"
    ann.write_text('{"id": "TOP-SECRET-SENTINEL"}\n')
    before = _snapshot(tmp_path / "outside")
    base = tmp_path / "base"
    base.mkdir()
    entry = {"root": "../outside", "annotation": "../outside/ann.jsonl" if how == "relative"
             else str(ann), "length": 1, "repeat_time": 1, "data_augment": False}  # fmt: skip
    (base / "d.json").write_text(json.dumps({"evil": entry}))
    args = ["mix", str(base / "d.json"), "--out", str(base / "o"), "--materialize-all",
            "--base-dir", str(base)]  # fmt: skip
    code = run(args)
    err = " ".join(capsys.readouterr().err.split())
    assert code == UnsafeInputError.exit_code, err
    assert "'evil', field 'annotation'" in err and "--allow-outside-root" in err, err
    _assert_untouched(tmp_path, before, base / "o")
    assert run([*args, "--allow-outside-root"]) == 0  # the explicit opt-in reads it
    assert b"TOP-SECRET-SENTINEL" in (base / "o" / "1d_0k.jsonl").read_bytes()


def test_mix_annotation_inside_the_base_dir_is_read(tmp_path: Path) -> None:
    """Absolute annotation paths (what ``data-json`` writes for an absolute root) are fine when
    they lie under --base-dir."""
    from spar3d.data.toy import make_toy_tree

    make_toy_tree(tmp_path / "spar")
    assert run(["data-json", str(tmp_path / "spar"), "--out", str(tmp_path / "dj")]) == 0
    args = ["mix", *map(str, sorted((tmp_path / "dj").glob("*.json"))), "--out",
            str(tmp_path / "o"), "--materialize-all", "--base-dir", str(tmp_path)]  # fmt: skip
    assert run(args) == 0
    assert len((tmp_path / "o" / "1scannet_1structured3d_0k.jsonl").read_text().splitlines()) == 23


@pytest.mark.parametrize("command", ["export-hf", "export-llava", "show"])
@pytest.mark.parametrize("how", ["relative", "absolute"])
def test_jsonl_data_root_outside_is_refused(
    command: str, how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A materialised mix line's ``data_root`` (where its images are looked up) must lie inside
    the current folder (or --images-root): otherwise export would embed, and show display, an
    image from anywhere."""
    before = _sentinel(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    root = "../outside" if how == "relative" else str(tmp_path / "outside")
    line = {"data_key": "scannet_depth_prediction_oc_fill", "data_root": root, "id": "a",
            "image": ["secret.jpg"], "conversations": [{"from": "human", "value": "<image>\nq"},
                                                       {"from": "gpt", "value": "1.5"}]}  # fmt: skip
    (work / "m.jsonl").write_text(json.dumps(line) + "\n")
    fmt = command.split("-")[1] if "-" in command else ""
    args = (["export", "m.jsonl", "--format", fmt, "--out", "o", "--no-draw-markers"] if fmt
            else ["show", "m.jsonl", "--out", "o"])  # fmt: skip
    code = run(args)
    err = " ".join(capsys.readouterr().err.split())
    assert code == UnsafeInputError.exit_code and "m.jsonl:1: field 'data_root'" in err, err
    _assert_untouched(tmp_path, before, work / "o")
    assert run([*args, "--allow-outside-root"]) == 0  # the explicit opt-in
