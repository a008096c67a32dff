"""Benchmark: ``generate()`` over many scenes at SPAR density; wall time, QA/s and peak memory.

Run::

    /work/venv/bin/python benchmarks/bench_generate_many.py                  # 50 and 200 scenes
    /work/venv/bin/python benchmarks/bench_generate_many.py --scenes 20 100 --workers 2
    /work/venv/bin/python benchmarks/bench_generate_many.py --mode memory    # old in-memory path

One synthetic scene index (``bench_generate.synthetic_index``: 150 images, 45 objects) is saved
into ``max(--scenes)`` scene folders with different scene ids, each with tiny JPEG keyframes
(hard links of one file), so every scene yields the same ~1,500 QA (single-view tasks).
Each scene count runs in a fresh process that prints its wall time, QA/s and peak resident
memory (``resource.getrusage``: the main process, and the largest worker with ``--workers``).
With streaming (``--mode stream``, what ``spar3d generate`` does) the peak memory should stay
flat as the scene count grows; ``--mode memory`` keeps every sample in memory and writes the
QA files at the end (the behaviour before shards), for comparison.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_generate import SINGLE_VIEW, synthetic_index  # noqa: E402

from spar3d.index.records import save_index  # noqa: E402


def make_scenes(root: Path, n: int, n_images: int, n_objects: int) -> list[Path]:
    """``n`` copies of one synthetic index under ``root/sceneNNNN_00``, with keyframe JPEGs."""
    index = synthetic_index(n_objects, n_images)
    root.mkdir(parents=True, exist_ok=True)
    jpg = root / "tiny.jpg"
    Image.new("RGB", (16, 12), (90, 120, 150)).save(jpg, quality=90)
    dirs = []
    for i in range(n):
        d = root / f"scene{i:04d}_00"
        (d / "color").mkdir(parents=True)
        for im in index.images:
            os.link(jpg, d / im.color_path)
        save_index(dataclasses.replace(index, scene_id=f"scene{i:04d}_00", scene_dir=d))
        dirs.append(d)
    return dirs


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def run_one(scene_dirs: list[Path], out: Path, mode: str, per_task: int, workers: int) -> None:
    """Generate and print one result line (runs in its own process)."""
    from spar3d.generate import generate, generate_scene
    from spar3d.index import load_index
    from spar3d.tasks import create_task
    from spar3d.writers.spar7m import write_qa_files

    t0 = time.perf_counter()
    if mode == "stream":
        total = generate(scene_dirs, out, tasks=",".join(SINGLE_VIEW), per_task=per_task,
                         workers=workers).total  # fmt: skip
    else:
        tasks = [create_task(n) for n in SINGLE_VIEW]
        samples = [
            s for d in scene_dirs for s in generate_scene(load_index(d), tasks, per_task, 0)[0]
        ]
        write_qa_files(out, "synthetic", "train", samples)
        total = len(samples)
    wall = time.perf_counter() - t0
    print(
        f"{mode:6s} {len(scene_dirs):4d} scenes  {total:8d} QA  {wall:7.1f} s  "
        f"{total / wall:6.0f} QA/s  peak RSS main {_peak_mb(resource.RUSAGE_SELF):6.0f} MB"
        + (f", largest worker {_peak_mb(resource.RUSAGE_CHILDREN):6.0f} MB" if workers > 1 else ""),
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, nargs="+", default=[50, 200], help="Scene counts.")
    ap.add_argument("--mode", choices=("stream", "memory"), default="stream")
    ap.add_argument("--qa", type=int, default=1500, help="QA per scene (SPAR: ~1,500).")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--images", type=int, default=150)
    ap.add_argument("--objects", type=int, default=45)
    ap.add_argument("--_one", nargs=3, metavar=("SCENES_ROOT", "N", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    per_task = math.ceil(args.qa / len(SINGLE_VIEW))
    if args._one:
        root, n, out = args._one
        dirs = sorted(Path(root).glob("scene*_00"))[: int(n)]
        run_one(dirs, Path(out), args.mode, per_task, args.workers)
        return
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        make_scenes(Path(tmp) / "scenes", max(args.scenes), args.images, args.objects)
        print(f"{max(args.scenes)} scene folders in {time.perf_counter() - t0:.1f} s; "
              f"{per_task} QA/task x {len(SINGLE_VIEW)} tasks per scene")  # fmt: skip
        for n in args.scenes:  # a fresh process per count: ru_maxrss only ever grows
            out = Path(tmp) / f"out{n}"
            cmd = [sys.executable, __file__, "--mode", args.mode, "--qa", str(args.qa),
                   "--workers", str(args.workers), "--_one", str(Path(tmp) / "scenes"), str(n),
                   str(out)]  # fmt: skip
            subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
