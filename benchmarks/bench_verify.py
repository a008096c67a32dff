"""Speed of ``spar3d verify`` on one core: samples per second on a synthetic world.

Run:  OMP_NUM_THREADS=1 /work/venv/bin/python benchmarks/bench_verify.py [--scenes 2] [--per-task 30]

Makes ``--scenes`` synthetic scenes (320x240, 120 frames, as the demo), generates every task's
val split (``--per-task`` each), then times in the same run:

* baseline: reading every sample (``spar3d.verify.inputs.iter_items``), no checks;
* text checks only (no ``--scenes``);
* every check (depth images, boxes, text).

Prints samples/s of each and the ratio of the full verification to the reading baseline. BLAS
threads are pinned to one (the variables are set before numpy is imported).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenes", type=int, default=2)
    ap.add_argument("--per-task", type=int, default=30)
    ap.add_argument("--workdir", type=Path, default=None, help="reuse a folder (kept)")
    args = ap.parse_args()

    from spar3d.generate import generate
    from spar3d.index.run import index_scene_dirs
    from spar3d.scenes.synthetic.synthesize import synthesize
    from spar3d.verify import verify
    from spar3d.verify.inputs import iter_items

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_verify_"))
    dirs = synthesize(work / "scenes", args.scenes, seed=0, n_frames=120, width=320, height=240,
                      progress=False)  # fmt: skip
    index_scene_dirs(dirs)
    if not (work / "spar").is_dir():
        generate(dirs, work / "spar", split="val", per_task=args.per_task)

    t0 = time.perf_counter()
    n = sum(1 for _ in iter_items(work / "spar"))
    read_s = time.perf_counter() - t0
    text = verify(work / "spar")
    full = verify(work / "spar", [work / "scenes"])
    print(f"samples: {n} ({args.scenes} scenes, {args.per_task} per task)")
    print(f"read only:   {read_s:7.2f} s  {n / read_s:8.0f} samples/s  (baseline)")
    print(f"text checks: {text.seconds:7.2f} s  {n / text.seconds:8.0f} samples/s")
    print(f"all checks:  {full.seconds:7.2f} s  {n / full.seconds:8.0f} samples/s"
          f"  ({full.seconds / read_s:.1f}x the reading time; scene loading included)")  # fmt: skip
    print(f"flagged: {len({f.key for f in full.flags})} of {full.samples}")


if __name__ == "__main__":
    main()
