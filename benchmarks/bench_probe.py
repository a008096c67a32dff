"""Time building 1,000 BEV probe samples from indexed scenes on one core.

Run::

    /work/venv/bin/python benchmarks/bench_probe.py                      # 4 demo scenes, 320x240
    /work/venv/bin/python benchmarks/bench_probe.py --width 640 --height 480
    /work/venv/bin/python benchmarks/bench_probe.py --scenes DIR/synth0000_00 DIR/synth0001_00

Setup, not timed: synthetic scenes (``spar3d synth``, the demo world) are made and indexed in a
temporary folder, or indexed ``--scenes`` are used. Timed: ``spar3d.probe.build.build_probe``
with ``--n`` samples (drawing views and objects with the task engine, drawing the markers,
encoding 3 images per sample, writing Parquet and provenance), imports excluded, best of
``--repeats``, wall and CPU time (on a shared machine the CPU time is the number to read: wall
time then includes waiting for the core). The process pins itself to one CPU core. Budget:
10 s wall.

Baseline measured in the same run, for a machine-independent ratio: the naive image path (each
sample opens its three frames from disk, draws its markers with PIL text rendering per label, and
encodes PNG as ``spar3d bench build`` does), timed on the first 100 samples and extrapolated.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from pathlib import Path

BUDGET_S = 10.0


def _naive_images(out: Path, scene_dirs: list[Path], n: int) -> float:
    """CPU seconds of the naive image path on ``n`` samples of a built probe."""
    import json

    from PIL import Image, ImageDraw

    from spar3d.markers.draw import (
        BOX_STROKE_PX,
        LABEL_TEXT,
        LIST_COLOR,
        _font,
        draw_box,
        label_size_px,
        norm1000_to_px,
    )

    rows = [json.loads(x) for x in (out / "provenance.jsonl").read_text().splitlines()[:n]]
    by_scene = {p.name: p for p in scene_dirs}
    t0 = time.process_time()
    for row in rows:
        scene = by_scene[row["meta"]["scene"]]
        images = []
        for frame in row["meta"]["frames"]:
            with Image.open(scene / "color" / f"{frame}.jpg") as im:
                images.append(im.convert("RGB"))
        (boxes,), (where,) = row["bbox_list"], row["bbox_img_idx"]
        for k, (box, pos) in enumerate(zip(boxes, where, strict=True)):
            image = images[pos]
            draw_box(image, box, LIST_COLOR)
            draw = ImageDraw.Draw(image)
            font = _font(label_size_px(image.height))
            _, _, x2, y2 = norm1000_to_px(box, *image.size)
            xy = (x2 - 4 * label_size_px(image.height), y2 + BOX_STROKE_PX)
            draw.text(xy, f"object{k}", fill=LABEL_TEXT, font=font)
        for image in images:
            image.save(io.BytesIO(), format="PNG", optimize=False)
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--scenes", type=Path, nargs="*", help="indexed scene folders to use")
    ap.add_argument("--n-scenes", type=int, default=4, help="synthetic scenes when no --scenes")
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline-samples", type=int, default=100)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from spar3d.index.run import index_scene_dirs
    from spar3d.probe.build import ProbeParams, build_probe
    from spar3d.scenes.synthetic.synthesize import synthesize

    with tempfile.TemporaryDirectory() as tmp:
        if args.scenes:
            scene_dirs = list(args.scenes)
        else:
            t0 = time.perf_counter()
            scene_dirs = synthesize(Path(tmp) / "scenes", args.n_scenes, 0, width=args.width,
                                    height=args.height, progress=False)  # fmt: skip
            index_scene_dirs(scene_dirs, progress=False)
            print(f"setup (not timed): {len(scene_dirs)} synthetic scenes at "
                  f"{args.width}x{args.height}, indexed, in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        walls, cpus = [], []
        for r in range(args.repeats):
            out = Path(tmp) / f"probe{r}"
            w0, c0 = time.perf_counter(), time.process_time()
            summary = build_probe(scene_dirs, out, ProbeParams(n=args.n))
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        size_mb = summary.path.stat().st_size / 1e6
        wall, cpu = min(walls), min(cpus)
        print(f"built {summary.n} samples ({summary.objects} objects, 3 images each, "
              f"{size_mb:.1f} MB Parquet) from {len(summary.per_scene)} scenes")  # fmt: skip
        print(f"build_probe: {wall:.2f} s wall, {cpu:.2f} s CPU on one core (best of "
              f"{args.repeats}; walls {', '.join(f'{w:.2f}' for w in walls)})")  # fmt: skip
        k = min(args.baseline_samples, summary.n)
        naive = _naive_images(Path(tmp) / "probe0", [Path(d) for d in scene_dirs], k)
        naive_full = naive * summary.n / k
        print(f"baseline (naive image path: reopen frames, render text per label, PNG): "
              f"{naive_full:.2f} s CPU for {summary.n} samples (extrapolated from {k}); "
              f"ratio baseline / build_probe (CPU) = {naive_full / cpu:.1f}x")  # fmt: skip
        print(f"budget {BUDGET_S:.0f} s wall: {wall / BUDGET_S:.2f} of budget "
              f"({'OK' if wall <= BUDGET_S else 'OVER'})")  # fmt: skip


if __name__ == "__main__":
    main()
