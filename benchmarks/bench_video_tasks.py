"""Benchmark: the video tasks' cost -- room-size alpha shape vs footprint size, and QA generation.

Run::

    /work/venv/bin/python benchmarks/bench_video_tasks.py [--per-task 50] [--frames 300]

Part 1 times ``spar3d.tasks.video.room.room_area`` (alpha shape area from Delaunay triangles, alpha = 2)
on square rooms tiled by 0.1 m cells, i.e. footprints of 2,500 to 40,000 points; the area is
computed once per scene (cached), so this is a per-scene cost. Part 2 generates ``--per-task``
samples of every video task except nav_video on a synthetic index with ``--frames`` keyframes
and 40 objects (visibility drawn at random), printing milliseconds per sample.

Measured (2-core dev VM, shared with other jobs, so +-50 %): room_area 1.2-2.4 s for 2,500
points, 2.3-5.4 s for 10,000, 5.9-7.2 s for 19,600, 17-21 s for 40,000 (areas exact: 25, 100,
196, 400 m²); generation 0.4-6.4 ms per sample for every task but room_size (one alpha shape per
scene, then cached).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from spar3d.geometry.boxes import OrientedBox
from spar3d.geometry.transforms import look_at
from spar3d.index.records import ImageRecord, ObjectRecord, SceneIndex, VisibleObject
from spar3d.tasks import SceneView, create_task
from spar3d.tasks.video.room import room_area

K = np.array([[500.0, 0.0, 319.5], [0.0, 500.0, 239.5], [0.0, 0.0, 1.0]])
VIDEO_TASKS = (
    "distance_prediction_oo_video", "distance_infer_center_oo_video",
    "spatial_imagination_oc_video", "spatial_imagination_oo_video",
    "spatial_imagination_oc_video_hard", "spatial_imagination_oo_video_hard",
    "obj_frame_locate", "appearance_order", "obj_count", "room_size",
)  # fmt: skip


def square(side_m: float) -> np.ndarray:
    c = np.arange(0.05, side_m, 0.1)
    gx, gy = np.meshgrid(c, c)
    return np.stack([gx.ravel(), gy.ravel()], 1)


def synthetic_index(n_frames: int, n_objects: int, rng: np.random.Generator) -> SceneIndex:
    """A 10 x 8 m room, cameras on a loop looking inward, each seeing a random third of the
    objects (visibility drawn at random; every marker sits at the same image position)."""
    labels = ["chair", "table", "lamp", "sofa", "tv", "bed", "desk", "shelf", "plant", "box"]
    objects = [
        ObjectRecord(
            i + 1,
            labels[i % len(labels)] if i < 30 else f"item{i}",  # 10 labels x 3, then unique
            OrientedBox.from_yaw((rng.uniform(1, 9), rng.uniform(1, 7), 0.5), (0.4, 0.4, 0.8), 0.0),
        )
        for i in range(n_objects)
    ]
    images = []
    for i in range(n_frames):
        a = 2 * np.pi * i / n_frames
        T = look_at((5 + 4 * np.cos(a), 4 + 3 * np.sin(a), 1.5), (5, 4, 0.8))
        pick = rng.choice(n_objects, size=n_objects // 3, replace=False)
        vis = [VisibleObject(objects[j].object_id, (200, 150, 440, 330), 1.0, 3.0, (320, 240), 0.0, (320, 240))
               for j in sorted(pick)]  # fmt: skip
        images.append(ImageRecord(i, str(i), f"color/{i}.jpg", None, 640, 480, K, T, vis))
    return SceneIndex("bench_00", "toy", Path("."), images, objects, square(10.0)[:8000], 0.1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-task", type=int, default=50)
    ap.add_argument("--frames", type=int, default=300)
    args = ap.parse_args()
    print("room_area (alpha shape, alpha=2):")
    for side in (5.0, 10.0, 14.0, 20.0):
        pts = square(side)
        t = time.perf_counter()
        area = room_area(pts, 0.1, 2.0)
        dt = time.perf_counter() - t
        print(f"  {len(pts):6d} points  area {area:7.1f} m² (true {side * side:.1f})  {dt:6.2f} s")
    scene = SceneView(synthetic_index(args.frames, 40, np.random.default_rng(0)))
    print(f"generation, {args.per_task} samples per task, {args.frames} keyframes -> 32 frames:")
    for name in VIDEO_TASKS:
        task = create_task(name)
        t = time.perf_counter()
        samples, stats = task.generate(scene, args.per_task, seed=0)
        dt = time.perf_counter() - t
        per = 1000 * dt / max(1, len(samples))
        print(f"  {name:36s} {len(samples):4d} samples  {per:7.2f} ms/sample")


if __name__ == "__main__":
    main()
