"""Peak memory and time of ``spar3d score`` on 1 M predictions (streaming scorer).

Run:  /work/venv/bin/python benchmarks/bench_score_memory.py [--n 1000000] [--mode both]

Writes N prediction records (SPAR-Bench's task mix and response shapes, from
``bench_scoring.build_records``, ids made unique) to a temporary JSONL file, then runs the
whole ``python -m spar3d score FILE --mode MODE --json OUT`` process and reads its peak resident
memory (``ru_maxrss`` of the child) and wall time. Baseline in the same run: the same process
start-up with nothing scored (``python -m spar3d score --help``), the floor every run pays.
Budget (issue 10): peak under 300 MB for 1 M predictions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_scoring import build_records  # noqa: E402

BUDGET_MB = 300.0


def _child_peak(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    pid = subprocess.Popen(cmd, stdout=subprocess.DEVNULL).pid
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with {status}")
    return wall, usage.ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--mode", default="both")
    args = parser.parse_args()
    base = build_records(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "preds.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for i in range(args.n):
                record = dict(base[i % len(base)])
                record["id"] = i
                fh.write(json.dumps(record) + "\n")
        size_mb = path.stat().st_size / 2**20
        floor_s, floor_mb = _child_peak([sys.executable, "-m", "spar3d", "score", "--help"])
        cmd = [sys.executable, "-m", "spar3d", "score", str(path), "--mode", args.mode,
               "--json", str(Path(tmp) / "scores.json")]  # fmt: skip
        wall, peak = _child_peak(cmd)
        print(f"predictions: {args.n:,} ({size_mb:.0f} MB JSONL), mode {args.mode}")
        print(f"start-up floor (score --help): {floor_s:.2f} s, {floor_mb:.0f} MB peak")
        print(f"spar3d score: {wall:.1f} s wall, {peak:.0f} MB peak "
              f"({peak / floor_mb:.2f}x the floor; {args.n / wall:,.0f} predictions/s)")  # fmt: skip
        print(f"budget {BUDGET_MB:.0f} MB: {'OK' if peak < BUDGET_MB else 'OVER'} "
              f"({peak / BUDGET_MB:.2f} of budget)")  # fmt: skip


if __name__ == "__main__":
    main()
