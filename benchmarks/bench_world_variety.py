"""Frequency baseline against chance on the demo benchmark, before and after the world's variety.

Runs ``spar3d demo`` (default settings) with this checkout and, with ``--base REF``, with a
temporary git worktree of REF (the same command, that checkout's code), each in a fresh process
timed for wall and CPU seconds, then prints per task: n, random, frequency, the reference (the
uniform chance ``mean(1 / options)`` for multiple choice, the best constant guess's MRA for
numeric tasks), the paper's chance rows and the answers' spread. Both runs read their benchmark
with this checkout's ``spar3d.demo.task_spreads``.

    python benchmarks/bench_world_variety.py --base 5f4cfae
    python benchmarks/bench_world_variety.py --demo-dir spar3d_demo     # table of a finished demo

The machine is shared: compare CPU seconds (user + system) rather than wall time, and run both
sides in one invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spar3d.bench.report import find_paper_rows
from spar3d.demo import task_spreads

ROOT = Path(__file__).resolve().parent.parent


def run_demo(src: Path, out: Path) -> tuple[float, float]:
    """``python -m spar3d demo --out OUT`` with ``src`` first on the path: (wall s, CPU s)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "spar3d", "demo", "--out", str(out)], env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def table(demo: Path) -> list[tuple[str, int, float, float, float | None, str]]:
    """Rows ``(task, n, random, frequency, reference, spread)`` of a finished demo folder."""
    scores = {name: json.loads((demo / "runs" / name / "scores.json").read_text())["modes"]
              ["compat"] for name in ("random", "frequency")}
    rows = []
    for task, sp in task_spreads(demo / "bench" / "data" / "test-00000-of-00001.parquet").items():
        ref = sp.chance if sp.chance is not None else (
            sp.best_constant[1] if sp.best_constant else None)
        rows.append((task, sp.n, scores["random"]["tasks"].get(task, float("nan")),
                     scores["frequency"]["tasks"].get(task, float("nan")), ref,
                     sp.spread_text()))
    rows.append(("overall", 0, scores["random"]["overall"], scores["frequency"]["overall"],
                 None, ""))
    return rows


def print_table(label: str, demo: Path) -> None:
    paper = {r.name: r.values for r in find_paper_rows(["Chance Level (Random)",
                                                         "Chance Level (Frequency)"])}
    print(f"\n## {label}\n")
    print("| task | n | random | frequency | chance / best const | freq - ref | paper random "
          "| paper frequency | answers |")
    print("|---|---|---|---|---|---|---|---|---|")

    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}"

    for task, n, rnd, freq, ref, spread in table(demo):
        gap = None if ref is None else freq - ref
        print(f"| {task} | {n or ''} | {f(rnd)} | {f(freq)} | {f(ref)} | {f(gap)} | "
              f"{f(paper['Chance Level (Random)'].get(task))} | "
              f"{f(paper['Chance Level (Frequency)'].get(task))} | {spread} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", help="git ref to compare with (a temporary worktree)")
    ap.add_argument("--demo-dir", type=Path, help="only print the table of this demo folder")
    args = ap.parse_args()
    if args.demo_dir:
        print_table(str(args.demo_dir), args.demo_dir)
        return
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        if args.base:
            base = Path(tmp) / "base"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base),
                            args.base], check=True, stdout=subprocess.DEVNULL)
            try:
                runs.append((f"base {args.base}", base / "src", Path(tmp) / "demo_base"))
                runs.append(("this checkout", ROOT / "src", Path(tmp) / "demo_new"))
                timings = [(label, *run_demo(src, out)) for label, src, out in runs]
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(base)], check=False)
        else:
            runs.append(("this checkout", ROOT / "src", Path(tmp) / "demo_new"))
            timings = [(label, *run_demo(src, out)) for label, src, out in runs]
        for label, _, out in runs:
            print_table(label, out)
        print("\n| run | wall s | CPU s |\n|---|---|---|")
        for label, wall, cpu in timings:
            print(f"| {label} | {wall:.1f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
