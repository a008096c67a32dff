"""Throughput of the ``hf`` eval backend on a tiny random VLM on CPU (questions per second).

Run:  /work/venv/bin/python benchmarks/bench_hf_backend.py [--questions 96] [--tokens 8]

Builds the tests' ~30k-parameter LLaVA-architecture VLM (random weights, character tokenizer;
``tests/bench/eval/test_eval_hf.py``) and a benchmark of ``--questions`` rows with the test
fixture's task and image-count mix (1-3 images, 8x8 PNGs), then times ``evaluate`` end to end
(Parquet read, prompts, processor, generation, cache, scoring) for:

- batch 1 (the baseline: one request per ``generate`` call),
- batch 8, padding-aware (requests sorted by image count and prompt length),
- batch 8 with ``--data-parallel 2`` (two worker processes; on a 2-core CPU they compete for the
  same cores, so this measures the overhead of the process pool rather than a speed-up).

Throughput depends on the architecture and size, not on the weights' values, so random weights
measure the same work; but this tiny model measures the pipeline's overhead, not a real VLM's
cost. A real-size measurement (Qwen2.5-VL-7B from its config, random weights, bf16) needs a GPU.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "bench" / "eval"))

import pyarrow.parquet as pq  # noqa: E402
from evalkit import ROWS, bench_table  # noqa: E402
from test_eval_hf import build_tiny_vlm  # noqa: E402

from spar3d.bench.eval import (  # noqa: E402
    GenerationConfig,
    Request,
    evaluate,
    load_bench,
    make_backend,
)
from spar3d.bench.eval.backends.parallel import DataParallelBackend  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=96)
    parser.add_argument("--tokens", type=int, default=8, help="max new tokens")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        model = build_tiny_vlm(tmp / "vlm")
        rows = [ROWS[i % len(ROWS)] for i in range(args.questions)]
        bench = tmp / "bench.parquet"
        pq.write_table(bench_table(rows), bench)
        gen = GenerationConfig(max_new_tokens=args.tokens)

        def timed(label: str, backend, run: str) -> float:
            start = time.perf_counter()
            try:
                evaluate(bench, backend, tmp / run, generation=gen, progress=False)
            finally:
                backend.close()
            rate = args.questions / (time.perf_counter() - start)
            print(f"{label:<34} {rate:8.1f} questions/s")
            return rate

        kw = {"model": str(model), "device": "cpu", "dtype": "float32"}
        base = timed("batch 1", make_backend("hf", **kw, batch_size=1), "b1")
        batched = timed("batch 8 (padding-aware)", make_backend("hf", **kw, batch_size=8), "b8")
        kw8 = {**kw, "batch_size": 8}
        start = time.perf_counter()
        parallel = DataParallelBackend("hf", kw8, 2, ["cpu", "cpu"])
        warm = [Request(s, "warm-up", s.images) for s in load_bench(bench)[:2]]
        with ThreadPoolExecutor(2) as pool:  # both workers up before the clock starts
            list(pool.map(lambda r: parallel.generate([r], gen), warm))
        startup = time.perf_counter() - start
        dp = timed("batch 8, --data-parallel 2 (warm)", parallel, "dp2")
        print(f"batch 8 / batch 1: {batched / base:.2f}x; data-parallel 2 / batch 8: "
              f"{dp / batched:.2f}x (worker start-up, not timed: {startup:.0f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
