"""spar3d verify: planted known-bad samples are flagged; expectations come from the test's own
numpy on the depth PNGs and the scene index (never from the verifier's code)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from spar3d.generate import generate
from spar3d.index.run import index_scene_dirs
from spar3d.io import read_jsonl, write_jsonl
from spar3d.scenes.model import OrientedBox
from spar3d.scenes.synthetic.params import ONE_ROOM
from spar3d.scenes.synthetic.synthesize import synthesize
from spar3d.verify import VerifyParams, read_flagged_keys, verify
from spar3d.verify.checks import marker_labels, parse_options
from spar3d.verify.depth import ray_box_interval

TASKS = [
    "depth_prediction_oc",
    "distance_prediction_oo",
    "obj_spatial_relation_oo",
    "distance_infer_center_oc",
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("verify")
    dirs = synthesize(
        base / "scenes", 1, seed=0, n_frames=40, width=160, height=120, progress=False,
        world=ONE_ROOM,
    )
    index_scene_dirs(dirs)
    generate(dirs, base / "spar", split="val", tasks=TASKS, per_task=12)
    index = json.loads((dirs[0] / "spar3d_index.json").read_text())
    return {"base": base, "scene": dirs[0], "index": index}


def qa_file(root: Path, task: str, fmt: str) -> Path:
    return next((root / "synthetic" / "qa_jsonl" / "val" / task / fmt).glob("*.jsonl"))


def copy_tree(world: dict[str, Any], name: str) -> Path:
    import shutil

    dst = world["base"] / name
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(
        world["base"] / "spar" / "synthetic" / "qa_jsonl", dst / "synthetic" / "qa_jsonl"
    )
    return dst


# -- the test's own geometry (numpy on the index JSON and the depth PNG) -------------------------
def image_record(world: dict[str, Any], frame: str) -> dict[str, Any]:
    return next(im for im in world["index"]["images"] if im["frame_id"] == frame)


def surface_world(world: dict[str, Any], frame: str, x1000: float, y1000: float) -> np.ndarray:
    im = image_record(world, frame)
    depth = np.asarray(Image.open(world["scene"] / im["depth_path"]), dtype=np.float64) / 1000
    K, T = np.array(im["K"]), np.array(im["T_world_cam"])
    u, v = x1000 * im["width"] / 1000, y1000 * im["height"] / 1000
    z = depth[min(int(round(v)), depth.shape[0] - 1), min(int(round(u)), depth.shape[1] - 1)]
    p = np.array([(u - K[0, 2]) / K[0, 0] * z, (v - K[1, 2]) / K[1, 1] * z, z])
    return T[:3, :3] @ p + T[:3, 3]


def box_distance(world: dict[str, Any], object_id: int, p: np.ndarray) -> float:
    """Distance of a point to an object's box (0 inside)."""
    o = next(o for o in world["index"]["objects"] if o["object_id"] == object_id)
    local = np.array(o["R_world_box"]).T @ (p - np.array(o["center"]))
    excess = np.maximum(np.abs(local) - np.array(o["size"]) / 2, 0)
    return float(np.linalg.norm(excess))


def flags_by_key(res: Any) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in res.flags:
        out.setdefault(f.key, set()).add(f.flag)
    return out


def key(task: str, fmt: str, sid: str) -> str:
    return f"synthetic/val/{task}/{fmt}/{sid}"


# -- planted errors ---------------------------------------------------------------------------
def test_shifted_marker_is_flagged(world: dict[str, Any]) -> None:
    root = copy_tree(world, "shifted")
    path = qa_file(root, "depth_prediction_oc", "fill")
    rows = list(read_jsonl(path))
    planted, clean = None, None
    for s in rows:
        frame, blue = s["meta"]["frames"][0], s["meta"]["object_ids"][1]
        x, y = s["blue_point"][0]
        on = box_distance(world, blue, surface_world(world, frame, x, y)) == 0.0
        if on and clean is None:
            clean = s["id"]
        if on and planted is None:
            # move the marker to a pixel whose surface is > 0.3 m away from the named box
            for gx in range(50, 1000, 100):
                for gy in range(50, 1000, 100):
                    if box_distance(world, blue, surface_world(world, frame, gx, gy)) > 0.3:
                        s["blue_point"] = [[gx, gy]]
                        planted = s["id"]
                        break
                if planted:
                    break
    assert planted and clean
    write_jsonl(path, rows)
    res = verify(root, [world["scene"]])
    got = flags_by_key(res)
    assert "marker_off_object" in got[key("depth_prediction_oc", "fill", planted)]
    unshifted = [
        s["id"]
        for s in rows
        if s["id"] != planted and key("depth_prediction_oc", "fill", s["id"]) not in got
    ]
    assert unshifted, "some on-object markers of this file pass"
    ev = next(f.evidence for f in res.flags if f.key == key("depth_prediction_oc", "fill", planted))
    assert ev["color"] == "blue" and "surface_depth_m" in ev


def test_swapped_answers_are_flagged(world: dict[str, Any]) -> None:
    root = copy_tree(world, "swapped")
    path = qa_file(root, "depth_prediction_oc", "fill")
    rows = list(read_jsonl(path))
    values = [float(s["conversations"][1]["value"]) for s in rows]
    i, j = next(
        (i, j)
        for i in range(len(rows))
        for j in range(i + 1, len(rows))
        if abs(values[i] - values[j]) > 0.5
    )
    a, b = rows[i]["conversations"][1]["value"], rows[j]["conversations"][1]["value"]
    rows[i]["conversations"][1]["value"], rows[j]["conversations"][1]["value"] = b, a
    write_jsonl(path, rows)
    # a select sample whose gold letter is moved to another option
    spath = qa_file(root, "distance_prediction_oo", "select")
    srows = list(read_jsonl(spath))
    gold = srows[0]["conversations"][1]["value"]
    srows[0]["conversations"][1]["value"] = "B" if gold != "B" else "C"
    write_jsonl(spath, srows)
    got = flags_by_key(verify(root, [world["scene"]]))
    for r in (rows[i], rows[j]):
        assert "answer_mismatch" in got[key("depth_prediction_oc", "fill", r["id"])]
    assert "answer_mismatch" in got[key("distance_prediction_oo", "select", srows[0]["id"])]
    # the same check passes every untouched depth answer: the recomputation agrees with the generator
    for n, r in enumerate(rows):
        if n not in (i, j):
            assert "answer_mismatch" not in got.get(
                key("depth_prediction_oc", "fill", r["id"]), set()
            )


def test_ambiguous_label_is_flagged(world: dict[str, Any]) -> None:
    # a label with two instances that the index sees well in one frame (the test's own choice)
    labels = {o["object_id"]: o["label"] for o in world["index"]["objects"]}
    pick = None
    for im in world["index"]["images"]:
        seen: dict[str, list[int]] = {}
        for v in im["visible"]:
            if v["visible_fraction"] > 0.3 and (v["bbox_xyxy"][2] - v["bbox_xyxy"][0]) > 8:
                seen.setdefault(labels[v["object_id"]], []).append(v["object_id"])
        # "object" is the catch-all label: never named, so never ambiguous
        dup = [lab for lab, ids in seen.items()
               if len(ids) >= 2 and lab not in ("floor", "wall", "object")]
        if dup:
            pick = (im["frame_id"], dup[0])
            break
    assert pick, "the synthetic room has a frame showing two objects of one label"
    frame, label = pick
    root = copy_tree(world, "ambiguous")
    path = qa_file(root, "distance_infer_center_oc", "fill")
    rows = list(read_jsonl(path))
    s = rows[0]
    other = next(o for o in s["meta"]["object_ids"])
    old = labels[other]
    s["conversations"][0]["value"] = s["conversations"][0]["value"].replace(old, label, 1)
    s["image"] = [f"{s['meta']['scene']}/image_color/{frame}.jpg"]
    s["meta"]["frames"] = [frame]
    write_jsonl(path, rows)
    got = flags_by_key(verify(root, [world["scene"]]))
    assert "ambiguous_label" in got[key("distance_infer_center_oc", "fill", s["id"])]


def test_text_checks_without_scenes(world: dict[str, Any]) -> None:
    root = copy_tree(world, "text")
    path = qa_file(root, "distance_prediction_oo", "select")
    rows = list(read_jsonl(path))
    rows[0]["conversations"][0]["value"] = rows[0]["conversations"][0]["value"].replace(
        "(red point)", "{label_A} (red point)", 1
    )
    q = rows[1]["conversations"][0]["value"]
    opts = parse_options(q)
    assert opts and len(opts) == 4
    gold = rows[1]["conversations"][1]["value"]
    other = next(letter for letter, _ in opts if letter != gold)
    text = dict(opts)
    rows[1]["conversations"][0]["value"] = q.replace(
        f"{other}. {text[other]}", f"{other}. {text[gold]}"
    )
    write_jsonl(path, rows)
    res = verify(root)  # no --scenes: text checks only
    got = flags_by_key(res)
    assert got[key("distance_prediction_oo", "select", rows[0]["id"])] == {"unfilled_placeholder"}
    assert got[key("distance_prediction_oo", "select", rows[1]["id"])] == {"options_invalid"}
    assert all(t.depth_checked == 0 for t in res.tasks.values())


def test_fragile_relations_match_an_independent_margin(world: dict[str, Any]) -> None:
    params = VerifyParams()
    res = verify(world["base"] / "spar", [world["scene"]], params=params)
    got = flags_by_key(res)
    objects = {o["object_id"]: np.array(o["center"]) for o in world["index"]["objects"]}
    rows = list(read_jsonl(qa_file(world["base"] / "spar", "obj_spatial_relation_oo", "select")))
    assert rows
    for s in rows:
        T = np.array(image_record(world, s["meta"]["frames"][0])["T_world_cam"])
        a, b = (T[:3, :3].T @ (objects[o] - T[:3, 3]) for o in s["meta"]["object_ids"][:2])
        deltas = [a[0] - b[0], b[1] - a[1], np.linalg.norm(a) - np.linalg.norm(b)]
        margin = min(abs(abs(d) - 0.1) for d in deltas)
        expect = margin < 2 * params.noise_m + params.threshold_shift_m
        flagged = "fragile" in got.get(key("obj_spatial_relation_oo", "select", s["id"]), set())
        assert flagged == expect, (s["id"], deltas)


def test_exclude_flagged_keeps_flagged_samples_out(world: dict[str, Any], tmp_path: Path) -> None:
    from spar3d.bench.build import build_bench

    flags = tmp_path / "flags.jsonl"
    sid = next(read_jsonl(qa_file(world["base"] / "spar", "depth_prediction_oc", "fill")))["id"]
    write_jsonl(
        flags, [{"key": key("depth_prediction_oc", "fill", sid), "flag": "answer_mismatch"}]
    )
    assert read_flagged_keys(flags) == {key("depth_prediction_oc", "fill", sid)}
    summary = build_bench(
        world["base"] / "spar",
        tmp_path / "bench",
        per_task=50,
        tasks=["depth_prediction_oc"],
        exclude=read_flagged_keys(flags),
    )
    prov = list(read_jsonl(tmp_path / "bench" / "provenance.jsonl"))
    assert summary.excluded == {"depth_prediction_oc": 1}
    assert (
        sid not in {p["sample_id"] for p in prov}
        and len(prov) == summary.counts["depth_prediction_oc"]
    )
    assert all("blue_point" in p["markers"] for p in prov)
    # the bench verifies from its provenance: markers and meta are enough
    res = verify(tmp_path / "bench", [world["scene"]])
    assert res.samples == len(prov) and all(k.startswith("bench/") for k in flags_by_key(res))


# -- small pieces, checked by hand -----------------------------------------------------------
def test_ray_box_interval_by_hand() -> None:
    box = OrientedBox.axis_aligned((0.0, 4.0, 0.0), (1.0, 1.0, 1.0))
    t = ray_box_interval(box, np.zeros(3), np.array([0.0, 1.0, 0.0]), 0.0)
    assert t == pytest.approx((3.5, 4.5))
    assert ray_box_interval(box, np.zeros(3), np.array([0.0, -1.0, 0.0]), 0.0) is None
    assert ray_box_interval(box, np.zeros(3), np.array([1.0, 0.0, 0.0]), 0.0) is None


def test_marker_labels_phrasings() -> None:
    labels = ["window", "picture", "coffee table", "table", "box"]
    assert marker_labels("How deep is the coffee table (red point)?", labels) == {
        ("red", "point"): "coffee table"
    }
    assert marker_labels("object2 (the window, red bbox) and the box", labels) == {
        ("red", "bbox"): "window"
    }
    got = marker_labels(
        "the window is marked with a red point and the picture with a blue point.", labels
    )
    assert got == {("red", "point"): "window", ("blue", "point"): "picture"}
    assert marker_labels("The red box in frame 6 marks the table.", labels) == {
        ("red", "bbox"): "table"
    }


def test_parse_options() -> None:
    q = "Pick one. A. left, , behind; B. right, above, front; C. 3.5; D. 3.6. Your answer can only include A-D."
    assert parse_options(q) == [
        ("A", "left, , behind"),
        ("B", "right, above, front"),
        ("C", "3.5"),
        ("D", "3.6"),
    ]
    assert parse_options("No options here.") is None


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    from spar3d.cli.main import run

    assert run(["verify", str(tmp_path / "missing")]) == 3
    (tmp_path / "empty").mkdir()
    assert run(["verify", str(tmp_path / "empty"), "--scenes", str(tmp_path / "nope")]) == 3


def test_meta_marked_names_the_object(world: dict[str, Any]) -> None:
    """With ``meta.marked`` (which object each marker marks) a marker moved onto another object
    is flagged even when both objects share a label, and a wrong label in the text is flagged."""
    root = copy_tree(world, "marked")
    path = qa_file(root, "depth_prediction_oc", "fill")
    rows = list(read_jsonl(path))
    s = rows[0]
    red, blue = s["meta"]["object_ids"][:2]
    s["meta"]["marked"] = {str(red): "blue point", str(blue): "red point"}  # swapped
    write_jsonl(path, rows)
    got = flags_by_key(verify(root, [world["scene"]]))
    labels = {o["object_id"]: o["label"] for o in world["index"]["objects"]}
    flags = got.get(key("depth_prediction_oc", "fill", s["id"]), set())
    if labels[red] != labels[blue]:
        assert "marker_off_object" in flags
    else:
        assert "label_mismatch" not in flags
    if labels[red] != labels[blue]:
        assert "label_mismatch" in flags
