"""Benchmark: building grounding samples, and the oracle / baselines table on the demo world.

Run::

    OMP_NUM_THREADS=1 taskset -c 0 /work/venv/bin/python benchmarks/bench_grounding.py \
        [--work /tmp/ground_bench] [--scenes 2] [--n 1000] [--table-n 200]

Makes ``--scenes`` synthetic scenes and indexes them (``spar3d synth`` + ``spar3d index``; not
timed, "after indexing"), then times on one core, in the same run:

1. generating ``--n`` ``ground_3d`` samples (expressions checked over the whole scene, views,
   answers, contexts) -- budget: under 10 s for 1,000;
2. the baseline: generating ``--n`` samples of ``depth_prediction_oc_mv`` (an existing
   multi-view task) on the same indexes, for the ratio;
3. the full ``spar3d ground build`` (images copied into Parquet, provenance, proposals);
4. scoring ``--n`` oracle answers (parse, lift, IoU, refinement against the instance boxes).

Then it runs ``spar3d eval`` with ``oracle``, ``random``, ``ground-median`` and
``ground-center`` on a ``--table-n`` benchmark and prints the Acc@0.25 / Acc@0.5 table with and
without refinement.

Measured (2-core sandbox shared with other jobs, ``taskset -c 0``, 2 synthetic scenes): 1,000
ground_3d samples in 0.88 s (budget 10 s), depth_prediction_oc_mv 0.42 s (ratio per sample
2.1), 1,000 bench samples selected in 2.1 s, ground build 4.1 s, scoring 1,000 oracle answers
with refinement 1.9 s (Acc@0.5 100); the baselines table is in docs/cli/ground.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from spar3d.grounding.bench import build_grounding_bench, generate_grounding
from spar3d.grounding.context import parse_context
from spar3d.grounding.score import score_grounding
from spar3d.index.records import load_index
from spar3d.tasks import SceneView, create_task
from spar3d.tasks.grounding import Ground3D


def _spar3d(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "spar3d", *args], check=True, capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=Path("/tmp/ground_bench"))
    ap.add_argument("--scenes", type=int, default=2)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--table-n", type=int, default=200)
    args = ap.parse_args()
    scenes_dir = args.work / "scenes"
    if not scenes_dir.is_dir():
        _spar3d("synth", "--out", str(scenes_dir), "--scenes", str(args.scenes), "--no-progress")
    scenes = sorted(p for p in scenes_dir.iterdir() if p.is_dir())
    if not all((s / "spar3d_index.json").is_file() for s in scenes):
        _spar3d("index", *map(str, scenes))
    indexes = [load_index(s) for s in scenes]

    per = -(-args.n // len(indexes))
    timings = {}
    for name in (Ground3D.spec.name, "depth_prediction_oc_mv"):  # the task, then the baseline
        task = create_task(name)
        t0 = time.perf_counter()
        made = sum(len(task.generate(SceneView(i), per, 0)[0]) for i in indexes)
        timings[name] = (made, time.perf_counter() - t0)
        print(f"{name}: {made} samples (all formats) in {timings[name][1]:.2f} s "
              f"({1000 * timings[name][1] / max(1, made):.2f} ms/sample)")  # fmt: skip
    (n_g, t_g), (n_b, t_b) = timings.values()
    print(f"ratio per sample ground_3d / baseline: {(t_g / n_g) / (t_b / n_b):.2f}; "
          f"budget: 1,000 grounding samples under 10 s")  # fmt: skip
    t0 = time.perf_counter()
    picked, _ = generate_grounding(indexes, args.n, seed=0)
    print(f"{len(picked)} benchmark (fill) samples selected in {time.perf_counter() - t0:.2f} s")

    t0 = time.perf_counter()
    build_grounding_bench(scenes, args.work / "bench", n=args.n, seed=0)
    print(f"ground build (Parquet + provenance): {time.perf_counter() - t0:.2f} s")
    items = [
        (k, s["conversations"][1]["value"], parse_context(s["meta"]["quantities"]))
        for k, (_, s) in enumerate(picked)
    ]
    from spar3d.grounding.bench import scene_proposals

    props = {i.scene_id: scene_proposals(i) for i in indexes}
    t0 = time.perf_counter()
    sc = score_grounding(items, props, n_boot=200)
    print(f"scoring {len(items)} oracle answers with refinement: {time.perf_counter() - t0:.2f} s "
          f"(lifted Acc@0.5 {sc.acc['lifted']['overall'][0.5]:.1f})")  # fmt: skip

    bench = args.work / "bench_table"
    build_grounding_bench(scenes, bench, n=args.table_n, seed=0)
    print("\n| backend | n | Acc@0.25 | Acc@0.5 | Acc@0.25 refined | Acc@0.5 refined |")
    print("|---|---:|---:|---:|---:|---:|")
    for model in ("oracle", "random", "ground-median", "ground-center"):
        run = args.work / "runs" / model
        _spar3d("eval", str(bench), "-m", model, "--out", str(run), "--no-progress")
        _spar3d("ground", "score", str(run), "--n-boot", "1000")
        s = json.loads((run / "grounding_scores.json").read_text())
        cells = []
        for variant in ("lifted", "refined"):
            for t in ("acc@0.25", "acc@0.5"):
                lo, hi = s["ci"][variant]["overall"][t]
                cells.append(f"{s['acc'][variant]['overall'][t]:.1f} [{lo:.1f}, {hi:.1f}]")
        print(f"| {model} | {s['n']['overall']} | " + " | ".join(cells) + " |")
    # the oracle with its depth scaled: how depth errors (SPAR's failure mode at distance) cost
    # Acc before refinement, and what refinement against the instance boxes wins back
    from spar3d.bench.eval import load_bench
    from spar3d.grounding.answer import GroundingAnswer, parse_answer
    from spar3d.grounding.boxes import load_proposals
    from spar3d.grounding.score import bench_contexts

    rows, ctxs = load_bench(bench), bench_contexts(bench)
    props = load_proposals(bench / "proposals.json")
    for factor in (1.1, 1.25, 1.5):
        items = []
        for r in rows:
            a = parse_answer(r.answer)
            assert isinstance(a, GroundingAnswer)
            b = GroundingAnswer(a.frame, a.uv_norm1000, a.depth_m * factor, a.size_whl_m, a.yaw_deg)
            items.append((r.id, b.text(), ctxs[r.id]))
        s2 = score_grounding(items, props, n_boot=1000)
        cells = [f"{s2.acc[v]['overall'][t]:.1f} [{s2.ci[v]['overall'][t][0]:.1f}, "
                 f"{s2.ci[v]['overall'][t][1]:.1f}]" for v in ("lifted", "refined")
                 for t in (0.25, 0.5)]  # fmt: skip
        print(f"| oracle, depth x{factor} | {len(items)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
