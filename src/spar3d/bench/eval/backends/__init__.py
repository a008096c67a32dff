"""Model backends for SPAR-Bench evaluation, registered in :data:`BACKENDS`.

Built in: ``openai`` (any OpenAI-compatible server), ``hf`` (local transformers VLM), ``vllm``
(in-process vLLM, when installed), the
baselines ``random``, ``frequency`` and ``oracle``, and the scripted ``mock``. Other packages add
backends through the ``spar3d.backends`` entry-point group. Importing this package imports no
model SDK; each backend imports its own when it is built.
"""

from spar3d.bench.eval.backends import baselines, hf, mock, openai, vllm  # noqa: F401 - registration
from spar3d.bench.eval.backends.base import (
    BACKENDS,
    STATUSES,
    Backend,
    GenerationConfig,
    Outcome,
    Request,
    Status,
    classify_text,
    make_backend,
)
from spar3d.grounding import baselines as _grounding  # noqa: F401 - ground-median, ground-center

__all__ = [
    "BACKENDS",
    "STATUSES",
    "Backend",
    "GenerationConfig",
    "Outcome",
    "Request",
    "Status",
    "classify_text",
    "make_backend",
]
