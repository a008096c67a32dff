"""A local transformers vision-language model (Qwen2.5-VL and any ``AutoModelForImageTextToText``).

torch and transformers (the ``hf`` extra) are imported only when this backend is built. Prompts go
through the model's own chat template (``AutoProcessor.apply_chat_template``) with one image
placeholder per image, images first (the convention of the Qwen2/2.5-VL, LLaVA, LLaVA-OneVision
and InternVL-HF processors); batches are left-padded and decoded greedily. The runner orders
requests by image count and prompt length before cutting batches (``sort_batches``), so a batch
pads little. ``device_map`` (e.g. ``auto``) spreads one large model over several GPUs through
accelerate; ``--data-parallel N`` runs N copies instead
(:mod:`spar3d.bench.eval.backends.parallel`).
"""

from __future__ import annotations

import io
import time
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


def _require_hf() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ImportError(
            "the 'hf' backend needs torch and transformers: pip install 'spar3d[hf]'"
        ) from exc
    return torch, transformers


class HFBackend(Backend):
    transport_settings = frozenset({"batch_size", "device", "device_map"})
    max_concurrency = 1  # one model on one device: batches, not threads
    sort_batches = True  # similar lengths in a batch: less padding

    def __init__(self, model: Any, processor: Any, device: str, batch_size: int) -> None:
        """Wrap a loaded model and processor (see :meth:`load` to load them by name).

        Args:
            model: A transformers image-text-to-text model, already on ``device``.
            processor: Its processor (tokenizer, image processor and chat template).
            device: Where inputs go, e.g. ``cpu`` or ``cuda:0``.
            batch_size: Requests per ``generate`` call.
        """
        torch, _ = _require_hf()
        self._torch = torch
        self.model = model.eval()
        self.processor = processor
        # Decoder-only generation continues each row from its last token: pad on the left.
        self.processor.tokenizer.padding_side = "left"
        self.device = device
        self.batch_size = batch_size
        config = getattr(model, "config", None)
        self.revision = str(getattr(config, "_commit_hash", None) or "")
        eos = model.generation_config.eos_token_id
        self._eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        self._pad_id = processor.tokenizer.pad_token_id

    @classmethod
    def load(
        cls,
        model: str,
        device: str,
        dtype: str,
        batch_size: int,
        processor_kwargs: dict[str, Any],
        model_kwargs: dict[str, Any],
    ) -> HFBackend:
        """Load a checkpoint (Hub id or folder) with ``AutoProcessor`` and
        ``AutoModelForImageTextToText``."""
        torch, transformers = _require_hf()
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
        # Qwen2-VL/Qwen2.5-VL processors need torchvision in transformers 5 (a clear ImportError).
        processor = transformers.AutoProcessor.from_pretrained(model, **processor_kwargs)
        # transformers renamed ``torch_dtype`` to ``dtype`` in 4.56.
        major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
        dtype_kw = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
        loaded = transformers.AutoModelForImageTextToText.from_pretrained(
            model, **{dtype_kw: torch_dtype}, **model_kwargs
        )
        if "device_map" in model_kwargs:  # accelerate placed the layers; inputs go to layer 0's
            device = str(loaded.device)
        else:
            loaded = loaded.to(device)
        return cls(loaded, processor, device, batch_size)

    def _chat_text(self, request: Request) -> str:
        content: list[dict[str, Any]] = [{"type": "image"} for _ in request.images]
        content.append({"type": "text", "text": request.prompt})
        messages = [{"role": "user", "content": content}]
        return self.processor.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )

    def _run_batch(self, requests: Sequence[Request], config: GenerationConfig) -> list[Outcome]:
        from PIL import Image

        texts = [self._chat_text(r) for r in requests]
        images = [Image.open(io.BytesIO(b)).convert("RGB") for r in requests for b in r.images]
        inputs = self.processor(
            text=texts, images=images or None, padding=True, return_tensors="pt"
        ).to(self.device)
        if "pixel_values" in inputs:  # the processor returns float32; a bf16 model wants bf16
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        sampling = (
            {"do_sample": True, "temperature": config.temperature}
            if config.temperature > 0
            else {"do_sample": False}
        )
        with self._torch.inference_mode():
            out = self.model.generate(
                **inputs,
                max_new_tokens=config.max_new_tokens,
                pad_token_id=self._pad_id,
                **sampling,
            )
        new_tokens = out[:, inputs["input_ids"].shape[1] :].tolist()
        outcomes = []
        for row in new_tokens:
            # A row that produced max_new_tokens tokens without an end token was cut off.
            ended = any(t in self._eos_ids for t in row)
            n_real = sum(t != self._pad_id for t in row)
            text = self.processor.decode(row, skip_special_tokens=True).strip()
            truncated = not ended and n_real >= config.max_new_tokens
            outcomes.append(Outcome(classify_text(text, truncated=truncated), text=text))
        return outcomes

    def generate(self, requests: Sequence[Request], config: GenerationConfig) -> list[Outcome]:
        start = time.perf_counter()
        try:
            outcomes = self._run_batch(requests, config)
        except (RuntimeError, ValueError, OSError) as exc:  # OOM, bad image, processor mismatch
            message = f"{type(exc).__name__}: {exc}"[:500]
            return [Outcome("error", error=message) for _ in requests]
        per_request = (time.perf_counter() - start) / max(1, len(requests))
        for outcome in outcomes:
            outcome.latency_s = per_request
        return outcomes

    def close(self) -> None:
        del self.model
        if self.device.startswith("cuda"):
            self._torch.cuda.empty_cache()


@BACKENDS.register("hf")
def hf(
    model: str,
    device: str = "auto",
    dtype: str = "auto",
    batch_size: int = 8,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    attn_implementation: str | None = None,
    trust_remote_code: bool = False,
    device_map: str | None = None,
) -> HFBackend:
    """A local Hugging Face VLM.

    Args:
        model: Hub id or local folder (weights must already be on disk when offline).
        device: ``auto`` (CUDA when available), ``cpu``, ``cuda``, ``cuda:1`` ...
        dtype: ``auto``, ``bfloat16``, ``float16`` or ``float32``.
        batch_size: Samples per ``generate`` call.
        min_pixels: Qwen-VL image processor lower bound on pixels per image.
        max_pixels: Qwen-VL image processor upper bound on pixels per image.
        attn_implementation: e.g. ``flash_attention_2`` or ``sdpa``.
        trust_remote_code: Allow model code shipped with the checkpoint.
        device_map: accelerate's placement (``auto``, ``balanced``, ...) for a model larger
            than one GPU; ``device`` is then ignored.
    """
    processor_kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if min_pixels is not None:
        processor_kwargs["min_pixels"] = int(min_pixels)
    if max_pixels is not None:
        processor_kwargs["max_pixels"] = int(max_pixels)
    model_kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if attn_implementation:
        model_kwargs["attn_implementation"] = attn_implementation
    if device_map:
        model_kwargs["device_map"] = device_map
    return HFBackend.load(model, device, dtype, int(batch_size), processor_kwargs, model_kwargs)
