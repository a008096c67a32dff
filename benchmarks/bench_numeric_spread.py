"""Numeric answers of the synthetic world beside SPAR-Bench's chance row, on a large sample.

The demo benchmark holds 16 questions per task, too few to measure how concentrated the numeric
answers are (the best constant fitted on 16 answers overfits them). This script synthesizes
``--scenes`` scenes with the demo's settings (120 frames, 320 x 240), indexes them, generates
``--per-task`` samples of each numeric SPAR-Bench task per scene and prints, per task: the
number of answers, mean ± sd and the 10/50/90 % quantiles, the best constant guess's MRA
(:func:`spar3d.demo.best_constant_mra`), the MRA of the most frequent answer (what a frequency
baseline answers) and the paper's ``Chance Level (Frequency)``. With ``--bench N`` it also
builds a benchmark of N questions per task from those samples (``spar3d bench build``'s
quantile-stratified sampling) and prints the same for it.

    python benchmarks/bench_numeric_spread.py --scenes 24 --per-task 60 --bench 400
    python benchmarks/bench_numeric_spread.py --work /tmp/spread --scenes 24   # keep the files

Scenes and indexes are reused from ``--work`` when they exist (the synth and index steps resume).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from spar3d.bench.report import find_paper_rows
from spar3d.demo import best_constant_mra
from spar3d.scenes.synthetic.params import DEFAULT_WORLD, WorldParams

NUMERIC_TASKS = (
    "depth_prediction_oc", "depth_prediction_oc_mv", "depth_prediction_oo",
    "depth_prediction_oo_mv", "distance_prediction_oc", "distance_prediction_oc_mv",
    "distance_prediction_oo", "distance_prediction_oo_mv",
)  # fmt: skip


def pool_answers(spar: Path, split: str) -> dict[str, list[float]]:
    """Numeric ``fill`` answers per task of a generated split."""
    from spar3d.data.layout import scan_tree
    from spar3d.data.sample import question_answer
    from spar3d.io import read_jsonl

    out: dict[str, list[float]] = {t: [] for t in NUMERIC_TASKS}
    for f in scan_tree(spar, None, split):
        if f.task in out and f.format == "fill":
            out[f.task] += [float(question_answer(s)[1]) for s in read_jsonl(f.path)]
    return out


def bench_answers(parquet: Path) -> dict[str, list[float]]:
    import pyarrow.parquet as pq

    out: dict[str, list[float]] = {t: [] for t in NUMERIC_TASKS}
    for r in pq.read_table(parquet, columns=["task", "answer"]).to_pylist():
        if r["task"] in out:
            out[r["task"]].append(float(r["answer"]))
    return out


def mode_mra(values: list[float]) -> float:
    """MRA (0-100) of answering every question with the most frequent answer (0.1 m bins)."""
    from spar3d.bench.scoring.mra import mra

    mode = float(Counter(f"{v:.1f}" for v in values).most_common(1)[0][0])
    return 100.0 * float(np.mean([mra(mode, v) for v in values]))


def print_table(title: str, answers: dict[str, list[float]]) -> None:
    paper = {r.name: r.values for r in find_paper_rows(["Chance Level (Frequency)"])}
    chance = paper["Chance Level (Frequency)"]
    print(f"\n## {title}\n")
    print("| task | n | mean ± sd | q10 / q50 / q90 | best const (value) | mode MRA | paper chance "
          "| best - paper |")
    print("|---|---|---|---|---|---|---|---|")
    for task, v in answers.items():
        if not v:
            print(f"| {task} | 0 | | | | | | |")
            continue
        a = np.asarray(v)
        q = np.quantile(a, (0.1, 0.5, 0.9))
        c, best = best_constant_mra(v)
        ref = chance.get(task)
        gap = "-" if ref is None else f"{best - ref:+.1f}"
        print(f"| {task} | {len(a)} | {a.mean():.2f} ± {a.std():.2f} | "
              f"{q[0]:.1f} / {q[1]:.1f} / {q[2]:.1f} | {best:.1f} ({c:.2f}) | "
              f"{mode_mra(v):.1f} | {ref if ref is not None else '-'} | {gap} |")


def world_params(changes: list[str]) -> WorldParams:
    """The default world with ``FIELD=JSON`` changes."""
    data = DEFAULT_WORLD.to_json()
    for change in changes:
        key, _, value = change.partition("=")
        data[key] = json.loads(value)
    return WorldParams.from_json(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=24)
    ap.add_argument("--per-task", type=int, default=60, help="samples per task per scene")
    ap.add_argument("--bench", type=int, default=0, help="also build a benchmark of N per task")
    ap.add_argument("--strata", default="log", choices=("quantile", "log"),
                    help="bench build's numeric_strata for --bench")
    ap.add_argument("--seed", type=int, default=1000, help="scene seed (the demo uses 0)")
    ap.add_argument("--work", type=Path, help="keep scenes and QA here (default: a temp dir)")
    ap.add_argument("--world", action="append", default=[], metavar="FIELD=JSON",
                    help="a WorldParams field to change, e.g. room_area_log_sd=0.8 or "
                         "pitch_range_deg=[5,45] (repeatable)")
    args = ap.parse_args()

    from spar3d.bench.build import build_bench
    from spar3d.generate import generate
    from spar3d.index.run import index_scene_dirs
    from spar3d.scenes.synthetic.synthesize import synthesize

    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        t0 = time.perf_counter()
        dirs = synthesize(work / "scenes", args.scenes, args.seed, 120, 320, 240, progress=False,
                          world=world_params(args.world))
        t1 = time.perf_counter()
        ok = [o.scene_dir for o in index_scene_dirs(dirs, progress=False) if o.status != "failed"]
        t2 = time.perf_counter()
        spar = work / "spar"
        generate(ok, spar, split="val", tasks=list(NUMERIC_TASKS), per_task=args.per_task,
                 seed=args.seed)
        t3 = time.perf_counter()
        print(f"{len(ok)} scenes: synth {t1 - t0:.0f} s, index {t2 - t1:.0f} s, "
              f"generate {t3 - t2:.0f} s")
        print_table(f"pool: {len(ok)} scenes x {args.per_task} per task", pool_answers(spar, "val"))
        if args.bench:
            b = build_bench(spar, work / "bench", split="val", per_task=args.bench,
                            tasks=list(NUMERIC_TASKS), seed=args.seed,
                            numeric_strata=args.strata)
            print_table(f"benchmark: {args.bench} per task (bench build, {args.strata} strata)", bench_answers(b.path))


if __name__ == "__main__":
    main()
