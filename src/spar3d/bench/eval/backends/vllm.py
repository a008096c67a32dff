"""In-process vLLM (the ``vllm`` extra): the fastest way to answer SPAR-Bench on local GPUs.

Built only when vLLM is installed (``pip install 'spar3d[vllm]'``); otherwise building it is a
:class:`~spar3d.errors.ConfigError` that says so. Requests go through ``LLM.chat`` with the same
OpenAI-style messages the ``openai`` backend sends (images first, as base64 data URLs), greedy,
``max_tokens`` from the generation config; ``limit_mm_per_prompt`` is set to ``max_images`` (5:
SPAR-Bench's largest multi-view sample) so multi-image questions are accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spar3d.bench.eval.backends.base import (
    BACKENDS,
    Backend,
    GenerationConfig,
    Outcome,
    Request,
    classify_text,
)
from spar3d.bench.eval.backends.openai import chat_messages
from spar3d.errors import ConfigError


class VLLMBackend(Backend):
    transport_settings = frozenset({"batch_size", "gpu_memory_utilization"})
    max_concurrency = 1  # vLLM schedules a whole batch itself

    def __init__(self, llm: Any, batch_size: int) -> None:
        self.llm = llm
        self.batch_size = batch_size

    def generate(self, requests: Sequence[Request], config: GenerationConfig) -> list[Outcome]:
        from vllm import SamplingParams

        params = SamplingParams(temperature=config.temperature, max_tokens=config.max_new_tokens)
        try:
            conversations = [chat_messages(r) for r in requests]
            outputs = self.llm.chat(conversations, sampling_params=params, use_tqdm=False)
        except (RuntimeError, ValueError) as exc:  # OOM, a refused prompt
            return [Outcome("error", error=f"{type(exc).__name__}: {exc}"[:500]) for _ in requests]
        outcomes = []
        for out in outputs:
            choice = out.outputs[0]
            text = choice.text.strip()
            outcomes.append(
                Outcome(classify_text(text, truncated=choice.finish_reason == "length"), text=text)
            )
        return outcomes


@BACKENDS.register("vllm")
def vllm(
    model: str,
    dtype: str = "auto",
    max_model_len: int = 32768,
    max_images: int = 5,
    tensor_parallel_size: int = 1,
    gpu_memory_utilization: float = 0.9,
    batch_size: int = 256,
    trust_remote_code: bool = False,
) -> VLLMBackend:
    """A model run by vLLM inside this process.

    Args:
        model: Hub id or local folder.
        dtype: ``auto``, ``bfloat16``, ``float16``.
        max_model_len: Context length (prompt with its images plus the answer).
        max_images: Images accepted per prompt (vLLM's ``limit_mm_per_prompt``).
        tensor_parallel_size: GPUs one model is split over.
        gpu_memory_utilization: Share of GPU memory vLLM may take.
        batch_size: Requests handed to vLLM at once (it batches them continuously).
        trust_remote_code: Allow model code shipped with the checkpoint.
    """
    try:
        from vllm import LLM
    except ImportError:
        raise ConfigError(
            "the 'vllm' backend needs vLLM: pip install 'spar3d[vllm]' (Linux with a CUDA GPU); "
            "or serve the model with `vllm serve` and use -m openai (docs/cli/eval.md)"
        ) from None
    llm = LLM(
        model=model,
        dtype=dtype,
        max_model_len=int(max_model_len),
        limit_mm_per_prompt={"image": int(max_images)},
        tensor_parallel_size=int(tensor_parallel_size),
        gpu_memory_utilization=float(gpu_memory_utilization),
        trust_remote_code=trust_remote_code,
    )
    return VLLMBackend(llm, int(batch_size))
