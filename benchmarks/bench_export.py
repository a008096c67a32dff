"""Benchmark: ``spar3d export`` throughput with and without marker drawing, and the memory of
iterating a 1M-sample training index lazily.

Run::

    /work/venv/bin/python benchmarks/bench_export.py [--samples 20000] [--iterate 1000000]
        [--workdir /tmp/bench_export]

Phases, each in its own child process on one core (``taskset -c 0`` when available), so each
peak RSS (``ru_maxrss``) is that phase's alone:

1. baseline: read and parse every line of the QA files (``spar3d.io.read_jsonl``), the floor any
   exporter pays;
2. export ``--samples`` samples (640x480 JPEG frames, every sample with a red and a blue point)
   as ``llava``, ``internvl`` and ``hf``, without markers (``draw=False``) and with them;
3. iterate ``--iterate`` samples of a data_json with ``SparDataset.raw`` (offsets per file,
   one line read per item), the lazy path a training loader uses before decoding images;
4. iterate the ``hf`` export with ``datasets`` streaming (``spar3d.train.data.load_chat_dataset``,
   as ``spar3d train --streaming`` reads it), decoding every image.

Budgets (issue 11): export >= 2,000 samples/s on one core without drawing, >= 300 with;
iteration under 1 GB RSS. Ratios are against the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

SCENES = 20
FRAMES = 25


def write_tree(root: Path, samples: int, width: int = 640, height: int = 480) -> None:
    """A one-source tree: ``SCENES x FRAMES`` noisy JPEG frames, ``samples`` QA lines."""
    rng = np.random.default_rng(0)
    for s in range(SCENES):
        d = root / "scannet" / "images" / f"scene{s:04d}_00" / "image_color"
        d.mkdir(parents=True, exist_ok=True)
        for f in range(FRAMES):
            pixels = rng.integers(0, 255, (height // 8, width // 8, 3), dtype=np.uint8)
            Image.fromarray(pixels).resize((width, height)).save(d / f"{f}.jpg", quality=90)
    qa = root / "scannet" / "qa_jsonl" / "train" / "depth_prediction_oo" / "fill"
    qa.mkdir(parents=True, exist_ok=True)
    with open(qa / f"fill_{samples}.jsonl", "w") as fh:
        per_scene = max(1, samples // SCENES)
        for i in range(samples):
            # Lines grouped by scene, as spar3d generate (and SPAR-7M) writes them.
            scene = f"scene{min(i // per_scene, SCENES - 1):04d}_00"
            row = {
                "id": f"{scene}_{i}",
                "conversations": [
                    {"from": "human", "value": "How much deeper is the red point than the blue?"},
                    {"from": "gpt", "value": f"{i % 97 / 10:.1f}"},
                ],
                "image": [f"{scene}/image_color/{i % FRAMES}.jpg"],
                "type": "depth_prediction_oo",
                "red_point": [[i % 1000, 400]],
                "blue_point": [[600, i % 1000]],
            }
            fh.write(json.dumps(row) + "\n")


def write_index_lines(path: Path, lines: int) -> None:
    row = {
        "id": "scene0000_00_0",
        "conversations": [
            {"from": "human", "value": "How deep is the red point?"},
            {"from": "gpt", "value": "1.5"},
        ],
        "image": ["scene0000_00/image_color/0.jpg"],
        "type": "depth_prediction_oc",
        "red_point": [[500, 500]],
    }
    text = (json.dumps(row) + "\n").encode()
    with open(path, "wb") as fh:
        for _ in range(lines // 10_000):
            fh.write(text * 10_000)
        fh.write(text * (lines % 10_000))


def phase(name: str, workdir: Path, samples: int, iterate: int) -> dict:
    root = workdir / "spar"
    out: dict = {"phase": name}
    t = time.perf_counter()
    if name == "baseline":
        from spar3d.io import read_jsonl

        n = sum(1 for p in root.rglob("*.jsonl") for _ in read_jsonl(p))
    elif name.startswith("export"):
        _, fmt, draw = name.split(":")
        from spar3d.data.export import prepare_samples
        from spar3d.data.sample import iter_samples

        dest = workdir / f"out_{fmt}_{draw}"
        shutil.rmtree(dest, ignore_errors=True)
        records = prepare_samples(
            iter_samples(root), dest, draw=draw == "draw", in_memory=fmt == "hf"
        )
        if fmt == "llava":
            from spar3d.writers.llava import write_llava

            n = write_llava(records, dest / "x.json")
        elif fmt == "internvl":
            from spar3d.writers.internvl import write_internvl

            n = write_internvl(records, dest)[2]
        else:
            from spar3d.writers.hf_dataset import write_hf_dataset

            write_hf_dataset(records, dest)
            n = samples
    elif name == "iterate":
        from spar3d.data.dataset import SparDataset

        ann = workdir / "big.jsonl"
        index = {"big": {"root": str(root / "scannet" / "images"), "annotation": str(ann),
                         "repeat_time": 1, "length": iterate}}  # fmt: skip
        ds = SparDataset(index)
        for i in range(len(ds)):
            ds.raw(i)
        n = len(ds)
    elif name == "stream":
        from spar3d.train.data import load_chat_dataset

        ds = load_chat_dataset(workdir / "out_hf_draw", streaming=True)
        n = 0
        for row in ds:
            row["images"][0].load()
            n += 1
    else:
        raise SystemExit(f"unknown phase {name}")
    dt = time.perf_counter() - t
    out.update(n=n, seconds=round(dt, 2), per_s=round(n / dt),
               rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=20_000)
    ap.add_argument("--iterate", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bench_export"))
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.workdir, args.samples, args.iterate)))
        return
    shutil.rmtree(args.workdir, ignore_errors=True)
    write_tree(args.workdir / "spar", args.samples)
    write_index_lines(args.workdir / "big.jsonl", args.iterate)
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    phases = ["baseline"] + [
        f"export:{fmt}:{draw}" for draw in ("nodraw", "draw") for fmt in ("llava", "internvl", "hf")
    ] + ["iterate", "stream"]  # fmt: skip
    results = []
    for name in phases:
        cmd = [*pin, sys.executable, __file__, "--phase", name, "--workdir", str(args.workdir),
               "--samples", str(args.samples), "--iterate", str(args.iterate)]  # fmt: skip
        proc = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    base = results[0]["per_s"]
    print(f"{'phase':<24}{'samples':>10}{'s':>8}{'samples/s':>12}{'x baseline':>12}{'RSS MB':>9}")
    for r in results:
        ratio = r["per_s"] / base
        print(f"{r['phase']:<24}{r['n']:>10,}{r['seconds']:>8}{r['per_s']:>12,}{ratio:>12.3f}"
              f"{r['rss_mb']:>9}")  # fmt: skip


if __name__ == "__main__":
    main()
