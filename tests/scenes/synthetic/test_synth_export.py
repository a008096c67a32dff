"""ScanNet-layout export: every file of the layout, raw-frame alignment, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spar3d.scenes.synthetic import build_world, camera_trajectory, write_scannet_scene
from spar3d.scenes.synthetic.export import DONE_MARKER

SID = "synth0042_00"
N_FRAMES, W, H = 6, 64, 48


@pytest.fixture(scope="module")
def world():
    return build_world(42)


@pytest.fixture(scope="module")
def scene_dir(world, tmp_path_factory) -> Path:
    return write_scannet_scene(world, tmp_path_factory.mktemp("a"), SID, N_FRAMES, W, H, seed=3)


def read_ply(path: Path):
    """Minimal reader for the binary PLY layout written (parsed from its own header)."""
    data = path.read_bytes()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    header = data[:end].decode("ascii").splitlines()
    assert header[:2] == ["ply", "format binary_little_endian 1.0"]
    n_v = int(next(h for h in header if h.startswith("element vertex")).split()[-1])
    n_f = int(next(h for h in header if h.startswith("element face")).split()[-1])
    props = [h.split()[-1] for h in header if h.startswith("property ") and "list" not in h]
    assert props == ["x", "y", "z", "red", "green", "blue", "alpha"]
    assert "property list uchar int vertex_indices" in header
    v = np.frombuffer(
        data, dtype=np.dtype([("xyz", "<f4", 3), ("rgba", "u1", 4)]), count=n_v, offset=end
    )
    f = np.frombuffer(
        data, dtype=np.dtype([("n", "u1"), ("idx", "<i4", 3)]), count=n_f, offset=end + v.nbytes
    )
    assert end + v.nbytes + f.nbytes == len(data)
    return v["xyz"].astype(np.float64), v["rgba"], f


def read_matrix(path: Path) -> np.ndarray:
    return np.array([[float(t) for t in line.split()] for line in path.read_text().splitlines()])


def test_all_files_of_the_layout_exist(scene_dir):
    names = [
        f"{SID}_vh_clean_2.ply",
        f"{SID}.aggregation.json",
        f"{SID}_vh_clean_2.0.010000.segs.json",
        f"{SID}.txt",
        f"{SID}_obb.json",
        "intrinsic/intrinsic_color.txt",
        "intrinsic/intrinsic_depth.txt",
        "intrinsic/extrinsic_color.txt",
        "intrinsic/extrinsic_depth.txt",
        DONE_MARKER,
    ]
    for i in range(N_FRAMES):
        names += [f"color/{i}.jpg", f"depth/{i}.png", f"pose/{i}.txt"]
    for n in names:
        assert (scene_dir / n).is_file(), n
    assert not list(scene_dir.rglob("*.tmp"))


def test_images_intrinsics_and_extrinsics(scene_dir):
    for i in range(N_FRAMES):
        with Image.open(scene_dir / "color" / f"{i}.jpg") as im:
            assert im.format == "JPEG" and im.size == (W, H) and im.mode == "RGB"
        with Image.open(scene_dir / "depth" / f"{i}.png") as im:
            assert im.format == "PNG" and im.size == (W, H)
            depth = np.asarray(im)
            assert depth.dtype == np.uint16 and depth.max() > 500  # millimetres, metres away
    K = read_matrix(scene_dir / "intrinsic" / "intrinsic_color.txt")
    assert K.shape == (4, 4) and np.allclose(K[3], [0, 0, 0, 1]) and K[2, 2] == 1
    assert np.allclose(K[0, 2], (W - 1) / 2) and np.allclose(K[1, 2], (H - 1) / 2)
    assert np.array_equal(K, read_matrix(scene_dir / "intrinsic" / "intrinsic_depth.txt"))
    for name in ("extrinsic_color", "extrinsic_depth"):
        assert np.array_equal(read_matrix(scene_dir / "intrinsic" / f"{name}.txt"), np.eye(4))


def test_alignment_is_not_identity_and_maps_raw_to_world(scene_dir, world):
    lines = (scene_dir / f"{SID}.txt").read_text().splitlines()
    line = next(ln for ln in lines if ln.startswith("axisAlignment = "))
    A = np.array([float(t) for t in line.split("=", 1)[1].split()]).reshape(4, 4)
    assert not np.allclose(A, np.eye(4))
    assert np.allclose(A[:3, :3].T @ A[:3, :3], np.eye(3), atol=1e-8)
    xyz_raw, rgba, f = read_ply(scene_dir / f"{SID}_vh_clean_2.ply")
    aligned = xyz_raw @ A[:3, :3].T + A[:3, 3]
    assert np.allclose(aligned, world.vertices, atol=1e-5)
    assert np.array_equal(rgba[:, :3], world.colors) and np.all(rgba[:, 3] == 255)
    assert np.all(f["n"] == 3) and np.array_equal(f["idx"], world.faces)
    # poses: raw-frame camera-to-world of the walk; two frames lost tracking (-inf everywhere)
    done = json.loads((scene_dir / DONE_MARKER).read_text())
    walk = camera_trajectory(world, N_FRAMES, done["walk_seed"], W, H)
    bad = []
    for i in range(N_FRAMES):
        P = read_matrix(scene_dir / "pose" / f"{i}.txt")
        assert P.shape == (4, 4)
        if np.all(np.isneginf(P)):
            bad.append(i)
            continue
        assert np.allclose(A @ P, walk[i], atol=1e-6)
    assert len(bad) == 2 and bad == done["invalid_frames"] and 0 not in bad


def test_depth_matches_pose_and_mesh(scene_dir, world):
    """A pixel's depth is the camera z where its ray, from the raw-frame pose, meets the PLY mesh."""
    from spar3d.geometry.raycast import make_raycaster

    xyz_raw, _, f = read_ply(scene_dir / f"{SID}_vh_clean_2.ply")
    caster = make_raycaster(xyz_raw, f["idx"])
    K = read_matrix(scene_dir / "intrinsic" / "intrinsic_depth.txt")[:3, :3]
    for i in range(N_FRAMES):
        P = read_matrix(scene_dir / "pose" / f"{i}.txt")
        if not np.all(np.isfinite(P)):
            continue
        depth = np.asarray(Image.open(scene_dir / "depth" / f"{i}.png"))
        u, v = 10, 30
        d_cam = np.array([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], 1.0])
        hit = caster.cast(P[:3, 3][None], (P[:3, :3] @ d_cam)[None])
        assert abs(hit.t[0] - depth[v, u] / 1000.0) < 0.01


def test_annotations_segments_and_boxes(scene_dir, world):
    segs = json.loads((scene_dir / f"{SID}_vh_clean_2.0.010000.segs.json").read_text())
    seg = np.asarray(segs["segIndices"])
    assert len(seg) == len(world.vertices)
    agg = json.loads((scene_dir / f"{SID}.aggregation.json").read_text())
    assert agg["sceneId"] == f"scannet.{SID}"
    assert agg["segmentsFile"] == f"scannet.{SID}_vh_clean_2.0.010000.segs.json"
    assert len(agg["segGroups"]) == len(world.objects)
    for g in agg["segGroups"]:
        assert set(g) >= {"id", "objectId", "label", "segments"}
        assert len(g["segments"]) >= 2  # the loader has to union several segments
        verts = np.flatnonzero(np.isin(seg, g["segments"]))
        assert np.array_equal(verts, np.flatnonzero(world.instance_ids == g["objectId"]))
        assert g["label"] == world.objects[g["objectId"]].label
    # unannotated vertices (the ceiling) are in no group
    grouped = {s for g in agg["segGroups"] for s in g["segments"]}
    assert set(np.unique(seg[world.instance_ids == -1])).isdisjoint(grouped)
    obb = json.loads((scene_dir / f"{SID}_obb.json").read_text())
    assert len(obb["objects"]) == len(world.objects)
    for o in obb["objects"]:
        wo = world.objects[o["objectId"]]
        assert o["label"] == wo.label
        assert np.allclose(o["center"], wo.box.center) and np.allclose(o["size"], wo.box.size)
        assert np.allclose(o["R_world_box"], wo.box.R_world_box)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_bytes_and_other_seed_differs(world, scene_dir, tmp_path):
    again = write_scannet_scene(build_world(42), tmp_path / "b", SID, N_FRAMES, W, H, seed=3)
    a, b = tree_bytes(scene_dir), tree_bytes(again)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name
    other = write_scannet_scene(build_world(43), tmp_path / "c", SID, N_FRAMES, W, H, seed=4)
    c = tree_bytes(other)
    assert c[f"{SID}_vh_clean_2.ply"] != a[f"{SID}_vh_clean_2.ply"]
    assert c["color/0.jpg"] != a["color/0.jpg"] and c["pose/0.txt"] != a["pose/0.txt"]


def test_rewrite_with_fewer_frames_drops_stale_frames(world, tmp_path):
    folder = write_scannet_scene(world, tmp_path, SID, 5, 32, 24, seed=1)
    write_scannet_scene(world, tmp_path, SID, 3, 32, 24, seed=1)
    assert sorted(p.name for p in (folder / "pose").iterdir()) == ["0.txt", "1.txt", "2.txt"]
    assert json.loads((folder / DONE_MARKER).read_text())["n_frames"] == 3


def test_loader_reads_the_export(scene_dir, world):
    scannet = pytest.importorskip("spar3d.scenes.scannet")
    scene = scannet.ScanNetLoader().load(scene_dir)
    assert len(scene.frames) == N_FRAMES - 2
    assert {o.object_id for o in scene.objects} == {o.instance_id for o in world.objects}
    for o in scene.objects:
        assert np.array_equal(o.vertex_ids, np.flatnonzero(world.instance_ids == o.object_id))
        assert np.allclose(o.box.center, world.objects[o.object_id].box.center)
    assert scene.mesh is not None and np.allclose(scene.mesh.vertices, world.vertices, atol=1e-5)
