"""Benchmark: QA generation at SPAR density (~1,500 QA per scene) for one large scene index.

Run::

    /work/venv/bin/python benchmarks/bench_generate.py                       # synthetic index
    /work/venv/bin/python benchmarks/bench_generate.py --index SCENE_DIR     # a real index
    /work/venv/bin/python benchmarks/bench_generate.py --tasks all --qa 1500 --images 150

The synthetic index is a 12 x 9 m room with ``--objects`` random boxes and ``--images`` cameras;
visibility is box corners projected with a pinhole (no occlusion), which gives 10-25 visible
objects per image; point markers go on projected centres inside the image. The script generates ``ceil(qa / n_tasks)`` samples per task (single-view tasks
by default), writes the QA files of the SPAR-7M layout into a temporary folder (no images: the
synthetic scene has none) and prints QA/s. Budget: <= 10 s wall for the whole scene on one core.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np

from spar3d.generate import generate_scene
from spar3d.geometry.boxes import OrientedBox
from spar3d.geometry.transforms import look_at
from spar3d.index.records import ImageRecord, ObjectRecord, SceneIndex, VisibleObject, load_index
from spar3d.tasks import create_task, task_names
from spar3d.writers.spar7m import write_qa_files

SINGLE_VIEW = (
    "depth_prediction_oc", "depth_prediction_oo", "distance_prediction_oc",
    "distance_prediction_oo", "distance_infer_center_oc", "distance_infer_center_oo",
    "obj_spatial_relation_oo", "spatial_imagination_oc", "spatial_imagination_oo",
    "spatial_volume_infer",
)  # fmt: skip
LABELS = ("chair", "table", "sofa", "lamp", "tv", "bed", "cabinet", "desk", "shelf", "plant",
          "box", "bin", "monitor", "pillow", "door", "window", "sink", "stool", "fridge", "oven",
          "bag", "mirror", "curtain", "printer", "basket")  # fmt: skip
W, H = 1296, 968
K = np.array([[1170.0, 0.0, 647.5], [0.0, 1170.0, 483.5], [0.0, 0.0, 1.0]])


def synthetic_index(n_objects: int, n_images: int, seed: int = 0) -> SceneIndex:
    """A large random room; every object's visibility from its 8 projected corners."""
    rng = np.random.default_rng(seed)
    room = np.array([12.0, 9.0])
    objects = []
    for oid in range(n_objects):
        size = rng.uniform([0.2, 0.2, 0.2], [1.8, 1.2, 1.6])
        xy = rng.uniform(0.5, room - 0.5)
        z = size[2] / 2 + (0.8 if rng.random() < 0.3 else 0.0)
        box = OrientedBox.from_yaw((xy[0], xy[1], z), size, float(rng.uniform(-np.pi, np.pi)))
        objects.append(ObjectRecord(oid, LABELS[oid % len(LABELS)], box))
    corners = np.stack([o.box.corners() for o in objects])  # (N, 8, 3)
    centers = np.stack([o.box.center for o in objects])  # (N, 3)
    images = []
    while len(images) < n_images:
        eye = np.append(rng.uniform(0.3, room - 0.3), rng.uniform(1.2, 1.8))
        target = np.append(rng.uniform(1.0, room - 1.0), rng.uniform(0.2, 1.0))
        if np.linalg.norm(target[:2] - eye[:2]) < 1.5:
            continue
        T = look_at(eye, target)
        R, t = T[:3, :3], T[:3, 3]
        pc = (corners - t) @ R  # camera-frame corners (N, 8, 3)
        cc = (centers - t) @ R
        z = pc[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = K[0, 0] * pc[..., 0] / z + K[0, 2] + 0.5
            v = K[1, 1] * pc[..., 1] / z + K[1, 2] + 0.5
        inside = (u >= 0) & (u <= W) & (v >= 0) & (v <= H)
        x1, x2 = np.clip(u.min(1), 0, W), np.clip(u.max(1), 0, W)
        y1, y2 = np.clip(v.min(1), 0, H), np.clip(v.max(1), 0, H)
        keep = np.all(z > 0.1, 1) & ((x2 - x1) * (y2 - y1) > 900) & (inside.mean(1) >= 0.25)
        visible = [
            VisibleObject(
                int(i),
                (float(x1[i]), float(y1[i]), float(x2[i]), float(y2[i])),
                float(inside[i].mean()),
                float(cc[i, 2]),
                (
                    float(K[0, 0] * cc[i, 0] / cc[i, 2] + K[0, 2]),
                    float(K[1, 1] * cc[i, 1] / cc[i, 2] + K[1, 2]),
                ),
            )  # fmt: skip
            for i in np.flatnonzero(keep)
        ]
        for vo in visible:  # no occlusion here: a point marker goes on the centre when in view
            u, v = vo.center_uv
            if hasattr(vo, "marker_uv") and -0.5 <= u <= W - 0.5 and -0.5 <= v <= H - 0.5:
                vo.marker_uv = (u, v)
        k = len(images)
        images.append(ImageRecord(k, str(20 * k), f"color/{20 * k}.jpg", None, W, H, K, T, visible))
        for vo in visible:
            objects[vo.object_id].image_indices.append(k)
    return SceneIndex("bench0000_00", "synthetic", Path("."), images, objects)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", help="Scene folder or spar3d_index.json (default: synthetic).")
    ap.add_argument("--tasks", default="single-view", help="'single-view', 'all' or names.")
    ap.add_argument("--qa", type=int, default=1500, help="QA per scene (SPAR: ~1,500).")
    ap.add_argument("--images", type=int, default=150)
    ap.add_argument("--objects", type=int, default=45)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    t0 = time.perf_counter()
    index = load_index(args.index) if args.index else synthetic_index(args.objects, args.images)
    t_index = time.perf_counter() - t0
    names = list(SINGLE_VIEW) if args.tasks == "single-view" else task_names(args.tasks)
    tasks = [create_task(n) for n in names]
    per_task = math.ceil(args.qa / len(tasks))
    vis = np.mean([len(im.visible) for im in index.images])
    print(
        f"index: {len(index.images)} images, {len(index.objects)} objects, "
        f"{vis:.1f} visible/image ({t_index:.2f}s to build/load)"
    )

    t1 = time.perf_counter()
    samples, stats = generate_scene(index, tasks, per_task, args.seed)
    t_gen = time.perf_counter() - t1
    with tempfile.TemporaryDirectory() as tmp:
        t2 = time.perf_counter()
        write_qa_files(tmp, index.source, "train", samples)
        t_write = time.perf_counter() - t2
    total = t_gen + t_write
    for name, st in stats.items():
        rej = sum(st.rejected.values())
        print(f"  {name:34s} {st.total:5d} QA  {rej:6d} rejected")
    print(
        f"{len(samples)} QA for {len(tasks)} tasks ({per_task}/task): generate {t_gen:.2f}s, "
        f"write {t_write:.2f}s, total {total:.2f}s -> {len(samples) / total:.0f} QA/s "
        f"(budget: 10 s per scene)"
    )


if __name__ == "__main__":
    main()
