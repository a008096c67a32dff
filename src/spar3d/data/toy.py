"""A tiny SPAR-7M tree written in code, for tests, demos and benchmarks.

Layout written by :func:`make_toy_tree` (``TOY_COUNTS`` lines per file)::

    <root>/scannet/images/scene0000_00/image_color/{0,1,2,3}.jpg     200x100, mid grey
    <root>/structured3d/images/scene_00000/image_color/0.jpg         160x120, mid grey
    <root>/<source>/qa_jsonl/train/<task>/<format>/<format>_<count>.jsonl

Line ``i`` of every file has id ``<scene>_<i>``; ``select`` answers cycle A, B, C, D;
``fill`` answers are ``f"{1 + i % 5}.5"`` metres.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PIL import Image

from spar3d.data.layout import qa_file, scene_images_dir

TOY_COUNTS: dict[tuple[str, str, str], int] = {
    ("scannet", "depth_prediction_oc", "fill"): 10,
    ("scannet", "depth_prediction_oc", "select"): 4,
    ("scannet", "spatial_imagination_oo_mv", "sentence"): 3,
    ("structured3d", "distance_prediction_oc", "fill"): 6,
}
SCENES = {
    "scannet": ("scene0000_00", (200, 100), 4),
    "structured3d": ("scene_00000", (160, 120), 1),
}
GREY = (128, 128, 128)


def toy_sample(source: str, task: str, fmt: str, i: int) -> dict[str, Any]:
    """Line ``i`` of the toy file ``<source>/<task>/<format>``."""
    scene, _, n_images = SCENES[source]
    answer = "ABCD"[i % 4] if fmt == "select" else f"{1 + i % 5}.5"
    if fmt == "sentence":
        answer = f"The answer is {answer} meters."
    sample: dict[str, Any] = {
        "id": f"{scene}_{i}",
        "conversations": [
            {"from": "human", "value": f"Question {i} of {task} ({fmt})?"},
            {"from": "gpt", "value": answer},
        ],
        "image": [f"{scene}/image_color/0.jpg"],
        "type": task,
    }
    if task.endswith("_mv"):
        sample["image"] = [f"{scene}/image_color/{k}.jpg" for k in range(n_images)]
        # SPAR's order for this task is green, blue, red, yellow.
        sample.update(
            red_bbox=[[100, 100, 300, 300]],
            blue_bbox=[[500, 500, 700, 700]],
            green_bbox=[[200, 200, 400, 400]],
            yellow_bbox=[[600, 100, 800, 300]],
            bbox_img_idx=[[0, 1, 2, 3]],
        )
    elif task.startswith("depth"):
        sample.update(red_point=[[250, 500]], blue_point=[[750, 500]])
    else:
        sample.update(red_point=[[500, 500]])
    sample["meta"] = {"task": task, "format": fmt, "scene": scene, "seed": 0, "line": i}
    return sample


def make_toy_tree(
    root: str | Path, counts: Mapping[tuple[str, str, str], int] | None = None
) -> Path:
    """Write images and QA files (named with their true counts) under ``root``."""
    root = Path(root)
    counts = TOY_COUNTS if counts is None else counts
    for source in {s for s, _, _ in counts}:
        scene, size, n_images = SCENES[source]
        img_dir = scene_images_dir(root, source, scene) / "image_color"
        img_dir.mkdir(parents=True, exist_ok=True)
        for k in range(n_images):
            Image.new("RGB", size, GREY).save(img_dir / f"{k}.jpg", quality=95)
    for (source, task, fmt), n in counts.items():
        path = qa_file(root, source, "train", task, fmt, n)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            for i in range(n):
                fh.write(json.dumps(toy_sample(source, task, fmt, i)) + "\n")
    return root
