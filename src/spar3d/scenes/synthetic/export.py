"""Writing a synthetic world as a ScanNet scan folder (SensReader export plus annotations).

The layout is the one of ``docs/synthetic.md`` (docs/formats.md §5): the mesh and the poses are
stored in a "raw" scan frame that differs from the world frame by a random yaw and shift, and
``<scene>.txt`` holds the ``axisAlignment`` that maps raw to aligned, as in real ScanNet. Every file
is written atomically, and the same inputs give byte-identical files.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from spar3d.geometry.transforms import invert_pose, transform_points
from spar3d.io import atomic_open
from spar3d.scenes.synthetic.render import default_intrinsics, make_world_caster, render_frame
from spar3d.scenes.synthetic.trajectory import camera_trajectory
from spar3d.scenes.synthetic.world import SyntheticWorld

F64 = NDArray[np.float64]
JPEG_QUALITY = 90
#: Written last: a scene folder holding it is complete (``synthesize`` resumes on it).
DONE_MARKER = "synth_done.json"
SEGMENT_LENGTH = 0.4  # metres of an object per over-segment, so objects span several segments
SCENE_TYPES = {
    "bedroom": "Bedroom / Hotel",
    "office": "Office",
    "living room": "Living room / Lounge",
    "kitchen": "Kitchen",
    "bathroom": "Bathroom",
}


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def _write_text(path: Path, text: str) -> None:
    _write_bytes(path, text.encode("utf-8"))


def _json_bytes(obj: Any, indent: int | None = None) -> bytes:
    return (json.dumps(obj, sort_keys=True, indent=indent) + "\n").encode("utf-8")


def _matrix_text(M: F64, fmt: str = "{:.9g}") -> str:
    return "".join(" ".join(fmt.format(float(v)) for v in row) + "\n" for row in M)


def ply_bytes(vertices: F64, colors: NDArray[np.uint8], faces: NDArray[np.int64]) -> bytes:
    """A binary little-endian PLY laid out like ScanNet's ``vh_clean_2.ply``.

    Vertex properties ``x y z`` (float) and ``red green blue alpha`` (uchar); faces as
    ``vertex_indices`` lists (uchar count, int indices).
    """
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment spar3d synthetic world\n"
        f"element vertex {len(vertices)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\nproperty uchar alpha\n"
        f"element face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    vdt = np.dtype([("xyz", "<f4", 3), ("rgba", "u1", 4)])
    v = np.empty(len(vertices), vdt)
    v["xyz"] = vertices
    v["rgba"][:, :3] = colors
    v["rgba"][:, 3] = 255
    fdt = np.dtype([("n", "u1"), ("idx", "<i4", 3)])
    f = np.empty(len(faces), fdt)
    f["n"] = 3
    f["idx"] = faces
    return header.encode("ascii") + v.tobytes() + f.tobytes()


def over_segment(vertices: F64, instance_ids: NDArray[np.int64]) -> NDArray[np.int64]:
    """``(N,) int64`` segment id per vertex, like ScanNet's over-segmentation.

    Each instance is cut into slices about ``SEGMENT_LENGTH`` long (at least two) along its
    longest extent; a segment's id is its smallest vertex index, so ids are sparse as in ScanNet.
    """
    seg = np.empty(len(vertices), np.int64)
    for inst in np.unique(instance_ids):
        idx = np.flatnonzero(instance_ids == inst)
        pts = vertices[idx]
        ext = pts.max(axis=0) - pts.min(axis=0)
        axis = int(np.argmax(ext))
        k = int(np.clip(np.ceil(ext[axis] / SEGMENT_LENGTH), 2, 12))
        coord = (pts[:, axis] - pts[:, axis].min()) / max(float(ext[axis]), 1e-9)
        chunk = np.minimum((coord * k).astype(np.int64), k - 1)
        for c in np.unique(chunk):
            members = idx[chunk == c]
            seg[members] = members.min()
    return seg


def random_alignment(rng: np.random.Generator) -> F64:
    """``(4, 4)`` ``T_aligned_raw``: a yaw about z and a shift, like a ScanNet ``axisAlignment``."""
    yaw = rng.uniform(-np.pi, np.pi)
    c, s = np.cos(yaw), np.sin(yaw)
    A = np.eye(4)
    A[:3, :3] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
    A[:3, 3] = (rng.uniform(-4, 4), rng.uniform(-4, 4), rng.uniform(-0.3, 0.3))
    return A


def invalid_frames(n_frames: int, rng: np.random.Generator) -> set[int]:
    """Frames whose pose is written as ``-inf`` (lost tracking): two when there are at least four
    frames, one for three, none otherwise; never the first frame."""
    n_bad = 2 if n_frames >= 4 else (1 if n_frames == 3 else 0)
    return (
        {int(i) for i in rng.choice(np.arange(1, n_frames), size=n_bad, replace=False)}
        if n_bad
        else set()
    )


def _remove_stale(folder: Path, n_frames: int) -> None:
    """Drop the done-marker and frames beyond ``n_frames`` left by an earlier, larger export."""
    (folder / DONE_MARKER).unlink(missing_ok=True)
    for sub, ext in (("color", ".jpg"), ("depth", ".png"), ("pose", ".txt")):
        d = folder / sub
        if d.is_dir():
            for p in d.glob(f"*{ext}"):
                if p.stem.isdigit() and int(p.stem) >= n_frames:
                    p.unlink()


def write_scannet_scene(
    world: SyntheticWorld,
    out_dir: str | Path,
    scene_id: str,
    n_frames: int,
    width: int = 640,
    height: int = 480,
    seed: int = 0,
    on_frame: Callable[[], None] | None = None,
) -> Path:
    """Write ``world`` as the ScanNet scan folder ``out_dir/scene_id``.

    Args:
        world: The world (axis-aligned frame).
        out_dir: Parent folder.
        scene_id: Folder and file name stem, e.g. ``"synth0000_00"``.
        n_frames: Number of frames of the camera walk.
        width, height: Size of both colour and depth images.
        seed: Seed of the walk, of the raw-frame alignment and of the lost-tracking frames.
        on_frame: Called after each frame is written (progress reporting).

    Returns:
        The scene folder. Its ``synth_done.json`` is written last.
    """
    folder = Path(out_dir) / scene_id
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale(folder, n_frames)
    rng = np.random.default_rng(seed)
    T_aligned_raw = random_alignment(rng)
    T_raw_aligned = invert_pose(T_aligned_raw)
    bad = invalid_frames(n_frames, rng)
    walk_seed = int(rng.integers(2**31 - 1))

    # mesh and annotations
    v_raw = transform_points(T_raw_aligned, world.vertices)
    _write_bytes(folder / f"{scene_id}_vh_clean_2.ply", ply_bytes(v_raw, world.colors, world.faces))
    seg = over_segment(world.vertices, world.instance_ids)
    segs_name = f"{scene_id}_vh_clean_2.0.010000.segs.json"
    _write_bytes(
        folder / segs_name,
        _json_bytes({"sceneId": f"scannet.{scene_id}", "segIndices": seg.tolist()}),
    )
    groups = []
    for o in world.objects:
        segments = np.unique(seg[world.instance_ids == o.instance_id])
        groups.append(
            {
                "id": o.instance_id,
                "objectId": o.instance_id,
                "label": o.label,
                "segments": segments.tolist(),
            }
        )
    aggregation = {
        "sceneId": f"scannet.{scene_id}",
        "appId": "spar3d.synthetic.v1",
        "segGroups": groups,
        "segmentsFile": f"scannet.{segs_name}",
    }
    _write_bytes(folder / f"{scene_id}.aggregation.json", _json_bytes(aggregation, indent=1))
    obb = {
        "objects": [
            {"objectId": o.instance_id, "label": o.label, **o.box.to_dict()} for o in world.objects
        ]
    }
    _write_bytes(folder / f"{scene_id}_obb.json", _json_bytes(obb, indent=1))

    # camera files
    K = default_intrinsics(width, height)
    K4 = np.eye(4)
    K4[:3, :3] = K
    _write_text(
        folder / f"{scene_id}.txt", _meta_text(world, T_aligned_raw, K, width, height, n_frames)
    )
    for name in ("intrinsic_color", "intrinsic_depth"):
        _write_text(folder / "intrinsic" / f"{name}.txt", _matrix_text(K4, "{:.6f}"))
    for name in ("extrinsic_color", "extrinsic_depth"):
        _write_text(folder / "intrinsic" / f"{name}.txt", _matrix_text(np.eye(4), "{:.6f}"))

    # frames: rendered in the world frame, poses stored in the raw frame
    caster = make_world_caster(world)
    for i, T_world_cam in enumerate(camera_trajectory(world, n_frames, walk_seed, width, height)):
        rgb, depth_mm = render_frame(world, caster, K, width, height, T_world_cam)
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=JPEG_QUALITY)
        _write_bytes(folder / "color" / f"{i}.jpg", buf.getvalue())
        buf = io.BytesIO()
        Image.fromarray(depth_mm).save(buf, format="PNG")
        _write_bytes(folder / "depth" / f"{i}.png", buf.getvalue())
        pose = np.full((4, 4), -np.inf) if i in bad else T_raw_aligned @ T_world_cam
        _write_text(folder / "pose" / f"{i}.txt", _matrix_text(pose))
        if on_frame is not None:
            on_frame()
    done = {
        "scene_id": scene_id,
        "world_seed": world.seed,
        "seed": seed,
        "n_frames": n_frames,
        "width": width,
        "height": height,
        "invalid_frames": sorted(bad),
        "walk_seed": walk_seed,
    }
    _write_bytes(folder / DONE_MARKER, _json_bytes(done, indent=1))
    return folder


def _meta_text(
    world: SyntheticWorld, T_aligned_raw: F64, K: F64, width: int, height: int, n_frames: int
) -> str:
    """``<scene>.txt`` in SensReader's ``key = value`` form."""
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    lines = [
        ("axisAlignment", " ".join(f"{v:.9g}" for v in T_aligned_raw.ravel())),
        ("colorHeight", str(height)),
        ("colorToDepthExtrinsics", " ".join(f"{v:g}" for v in np.eye(4).ravel())),
        ("colorWidth", str(width)),
        ("depthHeight", str(height)),
        ("depthWidth", str(width)),
        ("fx_color", f"{fx:.6f}"),
        ("fx_depth", f"{fx:.6f}"),
        ("fy_color", f"{fy:.6f}"),
        ("fy_depth", f"{fy:.6f}"),
        ("mx_color", f"{cx:.6f}"),
        ("mx_depth", f"{cx:.6f}"),
        ("my_color", f"{cy:.6f}"),
        ("my_depth", f"{cy:.6f}"),
        ("numColorFrames", str(n_frames)),
        ("numDepthFrames", str(n_frames)),
        ("numIMUmeasurements", "0"),
        ("sceneType", SCENE_TYPES.get(world.rooms[0].theme, "Apartment")),
    ]
    return "".join(f"{k} = {v}\n" for k, v in lines)
