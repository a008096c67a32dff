"""Run a model over SPAR-Bench: prompts, backends, a resumable cache, predictions and scores.

Example::

    from spar3d.bench.eval import evaluate, make_backend
    backend = make_backend("openai", model="qwen2.5-vl-7b", base_url="http://localhost:8000/v1")
    result = evaluate("spar_bench/", backend, "runs/qwen7b")
    print(result.partial, result.scores["compat"]["overall"])
"""

from spar3d.bench.eval.backends import (
    BACKENDS,
    Backend,
    GenerationConfig,
    Outcome,
    Request,
    make_backend,
)
from spar3d.bench.eval.dataset import BenchSample, bench_revision, load_bench
from spar3d.bench.eval.prompts import PromptConfig, build_prompt
from spar3d.bench.eval.runner import RunResult, evaluate

__all__ = [
    "BACKENDS",
    "Backend",
    "BenchSample",
    "GenerationConfig",
    "Outcome",
    "PromptConfig",
    "Request",
    "RunResult",
    "bench_revision",
    "build_prompt",
    "evaluate",
    "load_bench",
    "make_backend",
]
