"""Whole-process start-up of the ``spar3d`` command, and ``spar3d score`` against a baseline.

Run:  /work/venv/bin/python benchmarks/bench_startup.py [--runs 7]

Each command is run ``--runs`` times under ``/usr/bin/time`` (falls back to ``os.wait4`` when it
is missing) and reported as the best and the median of wall time and of CPU time (user + sys).
On a shared machine the wall time includes waiting for a core; CPU time is what the process
itself costs, so the budgets are checked on both and the verdict uses the best wall time.

Budgets (issue 8):

* ``spar3d --help`` and ``spar3d tasks``: at most 0.3 s;
* ``spar3d score`` on 7,207 predictions (the SPAR-Bench size, built by
  ``bench_scoring.build_records``): at most 0.5x the whole-process time of
  ``baseline_published_scorer.py``, the published scorer's computation as a plain script, run in
  the same benchmark on the same file. Both must give the same compat scores (checked).

``python -c pass`` is printed as the interpreter's floor.

Every command runs with ``PYTHONDONTWRITEBYTECODE`` removed from its environment and once
before it is timed, so modules load from their ``.pyc`` files as in a normal install (a sandbox
that sets the variable otherwise times the compilation of every module, about 0.05 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_scoring import build_records  # noqa: E402

PY = sys.executable
#: The commands' environment: bytecode caches written and used (see the module docstring).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_once(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``argv``, output discarded."""
    if shutil.which("time") or Path("/usr/bin/time").exists():
        fmt = "%e %U %S"
        with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
            subprocess.run(["/usr/bin/time", "-o", tf.name, "-f", fmt, *argv], env=ENV,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)  # fmt: skip
            wall, user, sys_ = (float(x) for x in Path(tf.name).read_text().split()[-3:])
        return wall, user + sys_
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        raise RuntimeError(f"{argv} failed")
    return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime


def measure(argv: list[str], runs: int) -> dict[str, float]:
    run_once(argv)  # warm-up: writes the bytecode caches, fills the page cache
    samples = [run_once(argv) for _ in range(runs)]
    walls, cpus = [s[0] for s in samples], [s[1] for s in samples]
    return {"wall_best": min(walls), "wall_median": statistics.median(walls),
            "cpu_best": min(cpus), "cpu_median": statistics.median(cpus)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    env_src = str(HERE.parent / "src")
    os.environ["PYTHONPATH"] = env_src + os.pathsep + os.environ.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as tmp:
        preds = Path(tmp) / "predictions.jsonl"
        with preds.open("w", encoding="utf-8") as fh:
            for r in build_records(0):
                fh.write(json.dumps(r) + "\n")
        scores = Path(tmp) / "scores.json"
        subprocess.run([PY, "-m", "spar3d", "score", str(preds), "--json", str(scores)],
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        base = subprocess.run([PY, str(HERE / "baseline_published_scorer.py"), str(preds)],
                              check=True, capture_output=True, text=True)  # fmt: skip
        ours, theirs = json.loads(scores.read_text()), json.loads(base.stdout)
        same = ours["tasks"] == theirs["tasks"] and ours["overall"] == theirs["overall"]
        commands = {
            "python -c pass (floor)": [PY, "-c", "pass"],
            "spar3d --help": [PY, "-m", "spar3d", "--help"],
            "spar3d tasks": [PY, "-m", "spar3d", "tasks"],
            "spar3d score (7,207)": [PY, "-m", "spar3d", "score", str(preds)],
            "baseline scorer (7,207)": [PY, str(HERE / "baseline_published_scorer.py"),
                                        str(preds)],  # fmt: skip
        }
        results = {name: measure(argv, args.runs) for name, argv in commands.items()}
    print(f"{args.runs} runs each; seconds (best / median)")
    for name, r in results.items():
        print(f"  {name:<26} wall {r['wall_best']:.3f} / {r['wall_median']:.3f}   "
              f"cpu {r['cpu_best']:.3f} / {r['cpu_median']:.3f}")  # fmt: skip
    for name in ("spar3d --help", "spar3d tasks"):
        r = results[name]
        print(f"{name}: best wall {r['wall_best']:.3f} s, cpu {r['cpu_best']:.3f} s "
              f"(budget 0.3 s: {'ok' if r['wall_best'] <= 0.3 else 'OVER'})")  # fmt: skip
    s, b = results["spar3d score (7,207)"], results["baseline scorer (7,207)"]
    ratio_wall, ratio_cpu = s["wall_best"] / b["wall_best"], s["cpu_best"] / b["cpu_best"]
    print(f"spar3d score / baseline: wall {ratio_wall:.2f}x, cpu {ratio_cpu:.2f}x "
          f"(budget 0.5x: {'ok' if ratio_wall <= 0.5 else 'OVER'}); same scores: {same}")  # fmt: skip


if __name__ == "__main__":
    main()
