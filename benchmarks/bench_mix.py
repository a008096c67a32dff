"""Benchmark: index, mix and materialise a synthetic 1M-line SPAR-7M tree; time and memory.

Run::

    /work/venv/bin/python benchmarks/bench_mix.py [--lines 1000000] [--workdir /tmp/bench_mix] [--tracemalloc]

A child process writes the tree (4 sources x 2 tasks x 2 formats, ~300-byte lines), so the
parent's peak RSS (``resource.getrusage``) covers only ``data-json`` + ``mix`` +
``--materialize``; ``--tracemalloc`` adds a pass measuring peak Python/numpy allocations.
Budget: peak memory under 500 MB for a 1M-line mix.

Measured (2-core dev VM, 1M lines, 287 MB): data-json 0.25 s, materialise 6.1 s
(165k lines/s), peak RSS 156 MB, peak traced allocations 105 MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

SOURCES = ("rxr", "scannet", "scannetpp", "structured3d")
TASKS = ("depth_prediction_oc", "spatial_imagination_oo_mv")
FORMATS = ("fill", "select")


def write_tree(root: Path, lines: int) -> None:
    """Write ``lines`` samples split evenly over the files (streamed, little memory)."""
    per_file = lines // (len(SOURCES) * len(TASKS) * len(FORMATS))
    for source in SOURCES:
        for task in TASKS:
            for fmt in FORMATS:
                d = root / source / "qa_jsonl" / "train" / task / fmt
                d.mkdir(parents=True, exist_ok=True)
                with open(d / f"{fmt}_{per_file}.jsonl", "w") as fh:
                    for i in range(per_file):
                        row = {
                            "id": f"scene{i % 1500:04d}_00_{i}",
                            "conversations": [
                                {"from": "human", "value": f"How deep is object {i} (blue point)?"},
                                {"from": "gpt", "value": f"{i % 97 / 10:.1f}"},
                            ],
                            "image": [f"scene{i % 1500:04d}_00/image_color/{i % 3000}.jpg"],
                            "type": task,
                            "red_point": [[i % 1000, 500]],
                            "blue_point": [[500, i % 1000]],
                        }
                        fh.write(json.dumps(row) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bench_mix"))
    ap.add_argument("--tracemalloc", action="store_true", help="Also trace peak allocations.")
    ap.add_argument("--write-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    root = args.workdir / "spar"
    if args.write_only:
        write_tree(root, args.lines)
        return
    shutil.rmtree(args.workdir, ignore_errors=True)
    t0 = time.perf_counter()
    cmd = [sys.executable, __file__, "--write-only", "--lines", str(args.lines)]
    subprocess.run([*cmd, "--workdir", str(args.workdir)], check=True)
    size_mb = sum(p.stat().st_size for p in root.rglob("*.jsonl")) / 1e6
    print(
        f"tree: {args.lines:,} lines, {size_mb:.0f} MB written in {time.perf_counter() - t0:.1f}s"
    )

    from spar3d.data.data_json import build_data_json, write_data_jsons
    from spar3d.data.mix import MixSpec, materialize, mix_indexes

    t = time.perf_counter()
    indexes = write_data_jsons(build_data_json(root), args.workdir / "data_jsons")
    print(f"data-json: {time.perf_counter() - t:.2f}s")
    t = time.perf_counter()
    # Ratios with < 1 and > 1 repeat times; the total stays about args.lines.
    spec = MixSpec({"scannet": 2.0, "rxr": 0.5, "scannetpp": 1.0, "structured3d": 0.5}, {})
    mix = mix_indexes(indexes, spec)
    print(f"mix: {time.perf_counter() - t:.3f}s, {mix.total:,} lines with repeat ({mix.name})")
    out = args.workdir / "mix.jsonl"
    t = time.perf_counter()
    counts = materialize(mix.data, out, seed=0, base_dir=args.workdir)
    dt = time.perf_counter() - t
    n = sum(counts.values())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"materialize: {n:,} lines in {dt:.2f}s ({n / dt:,.0f} lines/s)")
    print(f"peak RSS of the process: {rss_mb:.1f} MB (budget 500 MB)")
    if args.tracemalloc:
        # A second pass under tracemalloc (which slows allocation-heavy code several-fold).
        tracemalloc.start()
        materialize(mix.data, out, seed=0, base_dir=args.workdir)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak traced allocations (tracemalloc pass): {traced_peak / 1e6:.1f} MB")
    with open(out) as fh:
        assert sum(1 for _ in fh) == n


if __name__ == "__main__":
    main()
