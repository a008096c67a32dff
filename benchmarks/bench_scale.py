"""SPAR-7M scale: the whole pipeline (index + generate, images copied) over many ScanNet-size scenes.

Run (the issue's setting; hours on a 2-core machine, minutes on 16 free cores)::

    python benchmarks/bench_scale.py --scenes 50 --workers 1 2 --executors process ray

Quick look (what fits on a shared 2-core sandbox)::

    python benchmarks/bench_scale.py --scenes 4 --frames 600 --workers 1 2

Scenes are synthetic worlds with ``--faces`` mesh faces (300k, ScanNet-size), ``--frames``
camera poses at 640x480 (1,500) and 20-25 objects per room, two rooms, written in the ScanNet
layout once into ``--work/scenes`` (reused by later runs). Their frames are a placeholder image:
pixels change neither the index (mesh + poses) nor generation (JPEG bytes are copied), and
rendering 75,000 frames would dominate the preparation. Preparation is not timed.

For every executor (process pool, Ray) and worker count, the pipeline runs from scratch
(``index --force`` into the scene folders, ``generate`` into a fresh output at ``--per-task``
samples per task, every task) and the benchmark prints: wall time, per-scene wall time,
per-scene cost in core-seconds (wall x workers), QA per scene, scaling efficiency
``T(1) / (w * T(w))`` per executor, and the core-hours extrapolated to SPAR-7M's ~4,500 scenes
(per-scene core-seconds x 4,500; also from measured CPU time for the process pool, which on a
shared machine is the honest cost: wall x workers counts time spent waiting for a core). Goals (issue 8): under 15 core-hours, Ray's 2-worker
efficiency >= 85 %. Ray runs on a local cluster started with ``ray.init(num_cpus=w)``, which is
also how to point the pass at an existing cluster (``ray.init(address="auto")``; docs/scale.md).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np

SPAR7M_SCENES = 4500


def make_scenes(root: Path, n: int, faces: int, frames: int, seed: int) -> list[Path]:
    """ScanNet-layout scenes with placeholder frames (see the module docstring)."""
    from spar3d.scenes.synthetic import build_world
    from spar3d.scenes.synthetic.export import DONE_MARKER, write_scannet_scene

    grey = np.full((480, 640, 3), 128, np.uint8)
    depth = np.full((480, 640), 2000, np.uint16)

    def placeholder(world, caster, K, width, height, T):  # noqa: ANN001, ARG001
        return grey[:height, :width], depth[:height, :width]

    dirs = []
    for k in range(n):
        sid = f"scale{k:04d}_00"
        folder = root / sid
        done = folder / DONE_MARKER
        if not (done.is_file() and json.loads(done.read_text())["n_frames"] == frames):
            t0 = time.perf_counter()
            world = build_world(seed + k, n_objects=(20, 25), second_room=True,
                                subdivide_to_faces=faces)  # fmt: skip
            with mock.patch("spar3d.scenes.synthetic.export.render_frame", placeholder):
                write_scannet_scene(world, root, sid, frames, 640, 480, seed=seed + k)
            print(f"  prepared {sid} ({len(world.faces)} faces) in {time.perf_counter() - t0:.1f} s",
                  flush=True)  # fmt: skip
        dirs.append(folder)
    return dirs


def run_pipeline(dirs: list[Path], out: Path, executor: str, workers: int, per_task: int) -> dict:
    from spar3d.generate import generate
    from spar3d.index.run import index_scene_dirs

    ray_started = False
    if executor == "ray":
        import ray

        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        ray_started = True
    def cpu() -> float:
        own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    c0 = cpu()
    try:
        t0 = time.perf_counter()
        outcomes = index_scene_dirs(dirs, force=True, progress=False, workers=workers,
                                    executor=executor)  # fmt: skip
        t_index = time.perf_counter() - t0
        failed = [o.error for o in outcomes if o.status == "failed"]
        if failed:
            raise SystemExit(f"index failed: {failed[0]}")
        t1 = time.perf_counter()
        summary = generate(dirs, out, per_task=per_task, workers=workers, executor=executor)
        t_gen = time.perf_counter() - t1
    finally:
        if ray_started:
            import ray

            ray.shutdown()
    if summary.scenes_failed:
        raise SystemExit(f"generate failed: {summary.scenes_failed}")
    # CPU seconds of this process and its (finished) pool workers; Ray's workers are not our
    # children, so for Ray only the wall-based cost is known.
    cpu_s = cpu() - c0 if executor != "ray" else float("nan")
    return {"index_s": t_index, "generate_s": t_gen, "wall_s": t_index + t_gen,
            "qa": summary.total, "cpu_s": cpu_s}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=50)
    ap.add_argument("--faces", type=int, default=300_000)
    ap.add_argument("--frames", type=int, default=1500)
    ap.add_argument("--per-task", type=int, default=50)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--executors", nargs="+", default=["process", "ray"])
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--work", type=Path, default=Path("/tmp/spar3d_bench_scale"))
    args = ap.parse_args()

    print(f"preparing {args.scenes} scenes ({args.faces} faces, {args.frames} frames) ...")
    dirs = make_scenes(args.work / "scenes", args.scenes, args.faces, args.frames, args.seed)
    results: dict[tuple[str, int], dict] = {}
    for executor in args.executors:
        for w in args.workers:
            out = args.work / f"out_{executor}_{w}"
            shutil.rmtree(out, ignore_errors=True)
            r = run_pipeline(dirs, out, executor, w, args.per_task)
            results[(executor, w)] = r
            n = len(dirs)
            print(f"{executor:>7} x{w}: wall {r['wall_s']:.1f} s (index {r['index_s']:.1f}, "
                  f"generate {r['generate_s']:.1f}); {r['wall_s'] / n:.2f} s/scene, "
                  f"{r['wall_s'] * w / n:.2f} core-s/scene (wall x workers), "
                  f"{r['cpu_s'] / n:.2f} CPU-s/scene, {r['qa'] / n:.0f} QA/scene",
                  flush=True)  # fmt: skip
            shutil.rmtree(out, ignore_errors=True)
    n = len(dirs)
    print(f"\n{n} scenes of {args.faces} faces x {args.frames} frames; per-task {args.per_task}")
    for executor in args.executors:
        base = results.get((executor, 1))
        for w in args.workers:
            r = results[(executor, w)]
            eff = base["wall_s"] / (w * r["wall_s"]) if base else float("nan")
            core_h = r["wall_s"] * w / n * SPAR7M_SCENES / 3600
            cpu_h = r["cpu_s"] / n * SPAR7M_SCENES / 3600
            print(f"  {executor:>7} x{w}: efficiency {eff:6.1%}, extrapolated "
                  f"{core_h:.1f} core-hours (wall x workers), {cpu_h:.1f} CPU-hours for "
                  f"{SPAR7M_SCENES} scenes (goal < 15)")  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
