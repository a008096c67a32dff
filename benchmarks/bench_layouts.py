"""Index and generation speed per dataset layout, on one scene of realistic size.

Run::

    /work/venv/bin/python benchmarks/bench_layouts.py                 # all layouts, defaults
    /work/venv/bin/python benchmarks/bench_layouts.py --layouts scannetpp,structured3d \\
        --faces 300000 --frames 300 --width 640 --height 480 --per-task 50

One synthetic world (two rooms, ``--objects`` per room, subdivided to ``--faces`` mesh faces) is
written once per layout with ``spar3d synth``'s writers (not timed), then, per layout, on one
pinned CPU core:

* **load**: the layout's loader (file parsing, fisheye undistortion for the ScanNet++ DSLR,
  depth back-projection for Structured3D);
* **index**: keyframes + visibility + records (``build_index``), with the time spent in the
  visibility primitive measured separately: Embree ray casting for meshes, the z-buffer /
  depth test for point clouds (Structured3D, preprocessed ScanNet) -- the "ray-cast share";
* **generate**: every task at ``--per-task`` samples per task for the scene, in memory.

Baseline measured in the same run, for machine-independent ratios: the ScanNet layout of the
same world (the layout spar3d read before this change); each other layout's index and
generation time is printed as a ratio to it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

LAYOUTS = ("scannet", "scannet_preprocessed", "scannetpp", "structured3d", "arkitscenes")


class _Timer:
    """Wraps a callable, accumulating its wall time."""

    def __init__(self, fn):  # type: ignore[no-untyped-def]
        self.fn, self.seconds = fn, 0.0

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t0


def _timed_caster_factory(make, timers):  # type: ignore[no-untyped-def]
    """``make_raycaster`` whose casters time their ``cast`` calls into ``timers``."""

    def timed_make(*a, **k):  # type: ignore[no-untyped-def]
        caster = make(*a, **k)
        timer = _Timer(caster.cast)
        caster.cast = timer
        timers.append(timer)
        return caster

    return timed_make


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layouts", default=",".join(LAYOUTS))
    ap.add_argument("--faces", type=int, default=300_000)
    ap.add_argument("--objects", type=int, default=20, help="objects per room (two rooms)")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--per-task", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", type=Path, default=None, help="write scenes here and keep them")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    import spar3d.index.builder as builder
    from spar3d.generate import generate_scene
    from spar3d.index.builder import IndexParams, build_index
    from spar3d.scenes.loaders import load_scene
    from spar3d.scenes.synthetic import build_world
    from spar3d.scenes.synthetic.export_sources import write_infos
    from spar3d.scenes.synthetic.synthesize import _WRITERS, _scene_path, scene_id
    from spar3d.tasks import create_task, task_names

    world = build_world(args.seed, n_objects=(args.objects, args.objects + 5), second_room=True,
                        subdivide_to_faces=args.faces)
    print(f"world: {len(world.faces)} faces, {len(world.objects)} objects; {args.frames} frames "
          f"at {args.width}x{args.height}; {args.per_task} QA per task")
    tasks = [create_task(n) for n in task_names("all")]
    root = args.keep or Path(tempfile.mkdtemp(prefix="spar3d_bench_layouts_"))
    rows = []
    orig_make, orig_splat = builder.make_raycaster, builder.splat_visibility
    for layout in args.layouts.split(","):
        out = root / layout
        sid = scene_id(0, layout)
        t0 = time.perf_counter()
        _WRITERS[layout](world, out, sid, args.frames, args.width, args.height, seed=args.seed)
        if layout == "scannet_preprocessed":
            write_infos(out, [sid])
        t_write = time.perf_counter() - t0

        t0 = time.perf_counter()
        scene = load_scene(_scene_path(out, sid, layout))
        t_load = time.perf_counter() - t0

        cast = {"s": 0.0}
        timers: list[_Timer] = []
        timed_make = _timed_caster_factory(orig_make, timers)
        splat = _Timer(orig_splat)
        builder.make_raycaster, builder.splat_visibility = timed_make, splat
        try:
            t0 = time.perf_counter()
            index = build_index(scene, IndexParams())
            t_index = time.perf_counter() - t0
        finally:
            builder.make_raycaster, builder.splat_visibility = orig_make, orig_splat
        cast["s"] = sum(t.seconds for t in timers) + splat.seconds
        kind = "ray cast" if scene.mesh is not None and scene.mesh.faces is not None else "z-test"

        t0 = time.perf_counter()
        samples, _ = generate_scene(index, tasks, args.per_task, args.seed)
        t_gen = time.perf_counter() - t0
        rows.append((layout, scene.source, len(scene.frames), len(index.images), t_write, t_load,
                     t_index, cast["s"], kind, t_gen, len(samples)))
        print(f"{layout}: written in {t_write:.1f} s (not counted)", flush=True)

    base = next((r for r in rows if r[0] == "scannet"), None)
    print()
    print(f"{'layout':22s} {'source':13s} {'frames':>6s} {'keyfr':>5s} {'load s':>7s} "
          f"{'index s':>8s} {'vis. primitive':>16s} {'gen s':>6s} {'QA':>5s} {'QA/s':>7s} "
          f"{'index/scannet':>13s} {'gen/scannet':>11s}")
    for (layout, source, nf, nk, _tw, tl, ti, tc, kind, tg, nqa) in rows:
        ri = f"{ti / base[6]:.2f}x" if base else "-"
        rg = f"{tg / base[9]:.2f}x" if base else "-"
        share = f"{kind} {100 * tc / max(ti, 1e-9):.0f}%"
        print(f"{layout:22s} {source:13s} {nf:6d} {nk:5d} {tl:7.2f} {ti:8.2f} {share:>16s} "
              f"{tg:6.2f} {nqa:5d} {nqa / max(tg, 1e-9):7.0f} {ri:>13s} {rg:>11s}")
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
