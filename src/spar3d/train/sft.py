"""``spar3d train``: SPAR-mix supervised fine-tuning through TRL's ``SFTTrainer`` (+ peft).

Flow: load the model and processor (``AutoModelForImageTextToText`` / ``AutoProcessor``, so any
VLM transformers supports for image-text-to-text: Qwen2.5-VL / Qwen2-VL, LLaVA-OneVision /
LLaVA-NeXT, InternVL's HF port, ...) -> mix the data (:mod:`spar3d.train.data`) -> train with
the loss on the answers only (:class:`AnswerOnlyCollator`) -> save the final weights, merging a
LoRA adapter into them, so ``spar3d eval --model hf`` loads the folder like any checkpoint ->
optionally evaluate on a benchmark.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spar3d.errors import ConfigError, MissingDependencyError
from spar3d.io import write_json
from spar3d.train.recipe import Recipe

# Where VLMs keep their vision encoder, by attribute name (LLaVA/InternVL: vision_tower,
# Qwen2-VL/Qwen2.5-VL: visual, older InternVL / Idefics: vision_model).
VISION_NAMES = ("vision_tower", "visual", "vision_model")
LANGUAGE_PROJ = r"(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"


def require_train() -> None:
    """Raise a one-line error naming the extra when the training libraries are missing."""
    missing = []
    for name in ("torch", "transformers", "trl", "peft", "datasets"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise MissingDependencyError(
            f"spar3d train needs {', '.join(missing)}: pip install 'spar3d[train]'"
        )


class AnswerOnlyCollator:
    """Batches ``messages`` + ``images`` rows with the loss on the last (assistant) turn only.

    Each row becomes TRL's conversational prompt-completion form (prompt: every turn but the
    last; completion: the last), which ``DataCollatorForVisionLanguageModeling`` tokenizes with
    the processor's chat template, fills the image parts, and masks the prompt (-100), as
    InternVL's and SPAR's loaders mask the question. Images are decoded here, batch by batch.
    """

    def __init__(self, processor: Any, max_length: int | None = None) -> None:
        from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

        self.inner = DataCollatorForVisionLanguageModeling(
            processor=processor, max_length=max_length, completion_only_loss=True
        )

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        examples = []
        for row in rows:
            messages = [_drop_nulls(m) for m in row["messages"]]
            examples.append(
                {
                    "prompt": messages[:-1],
                    "completion": messages[-1:],
                    "images": [im.convert("RGB") for im in row["images"]],
                }
            )
        return self.inner(examples)


def _drop_nulls(message: dict[str, Any]) -> dict[str, Any]:
    # Arrow gives every part both keys; an image part's text is None.
    parts = [{k: v for k, v in p.items() if v is not None} for p in message["content"]]
    return {"role": message["role"], "content": parts}


def vision_modules(model: Any) -> list[Any]:
    """The vision encoder module(s) of a VLM, found by attribute name."""
    found: list[tuple[str, Any]] = []
    for name, module in model.named_modules():
        inside = any(name.startswith(f + ".") for f, _ in found)
        if name.rsplit(".", 1)[-1] in VISION_NAMES and not inside:
            found.append((name, module))
    return [m for _, m in found]


def lora_config(recipe: Recipe) -> Any:
    """peft ``LoraConfig``: every linear layer, or the language model's only when frozen."""
    from peft import LoraConfig

    vision = "|".join(VISION_NAMES)
    targets: str = (
        rf"^(?!.*({vision})).*\.{LANGUAGE_PROJ}$" if recipe.freeze_vision else "all-linear"
    )
    return LoraConfig(
        r=recipe.lora_r,
        lora_alpha=recipe.lora_alpha,
        lora_dropout=recipe.lora_dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
    )


@dataclass
class TrainResult:
    """What :func:`train` did."""

    out: Path
    final: Path
    steps: int
    losses: list[float] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    trainable: int = 0
    total: int = 0
    eval_dir: Path | None = None
    scores: dict[str, Any] | None = None


def _load(recipe: Recipe) -> tuple[Any, Any]:
    import torch
    import transformers

    if not recipe.model:
        raise ConfigError("no model: pass --model (a folder or a Hub id already on disk)")
    processor = transformers.AutoProcessor.from_pretrained(recipe.model)
    dtype = torch.bfloat16 if recipe.bf16 else torch.float32
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    dtype_kw = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
    model = transformers.AutoModelForImageTextToText.from_pretrained(
        recipe.model, **{dtype_kw: dtype}
    )
    return model, processor


def train(
    recipe: Recipe,
    out: str | Path,
    resume: bool = False,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Run one recipe; writes checkpoints, ``final/`` (merged weights + processor),
    ``recipe.json`` and ``train_log.json`` under ``out``.

    Args:
        recipe: Settings (``model`` and ``spar_data`` required).
        out: Output folder.
        resume: Continue from the last ``checkpoint-*`` in ``out``.
        log: Where progress lines go.
    """
    require_train()
    from transformers.trainer_utils import get_last_checkpoint
    from trl import SFTConfig, SFTTrainer

    from spar3d.train.data import load_chat_dataset, spar_mix, spar_mix_streaming

    if not recipe.spar_data:
        raise ConfigError("no SPAR data: pass --spar-data (a `spar3d export --format hf` folder)")
    out = Path(out)
    checkpoint = get_last_checkpoint(str(out)) if resume and out.is_dir() else None
    if resume and checkpoint is None:
        log(f"no checkpoint in {out}: starting from the beginning")
    elif checkpoint is not None:
        log(f"resuming from {checkpoint}")
    cache = out / "cache"
    stream = recipe.streaming
    spar = load_chat_dataset(recipe.spar_data, cache, stream)
    general = load_chat_dataset(recipe.general_data, cache, stream) if recipe.general_data else None
    mixer = spar_mix_streaming if stream else spar_mix
    mixed, counts = mixer(spar, general, recipe.spar_ratio, recipe.budget, recipe.seed)
    log(f"mix: {counts['spar']} SPAR + {counts['general']} general samples")
    max_steps = recipe.max_steps
    if stream and max_steps <= 0:  # a stream has no length: derive the steps from the budget
        world = int(os.environ.get("WORLD_SIZE", "1"))
        per_step = recipe.per_device_batch_size * recipe.gradient_accumulation_steps * world
        max_steps = max(1, math.ceil(recipe.budget * recipe.epochs / per_step))
    model, processor = _load(recipe)
    if recipe.freeze_vision:
        for module in vision_modules(model):
            module.requires_grad_(False)
    args = SFTConfig(
        output_dir=str(out),
        learning_rate=recipe.learning_rate,
        weight_decay=recipe.weight_decay,
        # transformers 5 reads a float in [0, 1) as a ratio of the total steps
        warmup_steps=recipe.warmup_ratio,
        lr_scheduler_type=recipe.lr_scheduler,
        num_train_epochs=recipe.epochs,
        max_steps=max_steps,
        per_device_train_batch_size=recipe.per_device_batch_size,
        gradient_accumulation_steps=recipe.gradient_accumulation_steps,
        max_length=recipe.max_length,
        bf16=recipe.bf16,
        save_steps=recipe.save_steps,
        save_total_limit=recipe.save_total_limit,
        logging_steps=recipe.logging_steps,
        seed=recipe.seed,
        dataloader_num_workers=recipe.dataloader_num_workers,
        remove_unused_columns=False,  # the collator reads messages and images itself
        report_to="none",
        **checkpointing_arg(recipe.gradient_checkpointing),
        **recipe.extra,
    )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=mixed,
        data_collator=AnswerOnlyCollator(processor, recipe.max_length),
        processing_class=processor,
        peft_config=lora_config(recipe) if recipe.method == "lora" else None,
    )
    trained: Any = trainer.model
    trainable = sum(int(p.numel()) for p in trained.parameters() if p.requires_grad)
    total = sum(int(p.numel()) for p in trained.parameters())
    log(f"{recipe.method}: {trainable:,} of {total:,} parameters trainable")
    write_json(out / "recipe.json", recipe.to_dict())
    trainer.train(resume_from_checkpoint=checkpoint)
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    final = save_final(trainer, processor, out / "final", recipe.method == "lora")
    write_json(out / "train_log.json", trainer.state.log_history)
    result = TrainResult(out, final, trainer.state.global_step, losses, counts, trainable, total)
    if recipe.bench:
        result.eval_dir, result.scores = evaluate_final(recipe, final, out / "eval")
    return result


def checkpointing_arg(on: bool) -> dict[str, Any]:
    """transformers 5 renamed ``gradient_checkpointing`` to ``activation_checkpointing``."""
    import dataclasses

    from trl import SFTConfig

    names = {f.name for f in dataclasses.fields(SFTConfig)}
    key = (
        "activation_checkpointing"
        if "activation_checkpointing" in names
        else "gradient_checkpointing"
    )
    return {key: on}


def save_final(trainer: Any, processor: Any, final: Path, lora: bool) -> Path:
    """Save the trained weights as a plain checkpoint (a LoRA adapter is merged in; the
    adapter alone is kept under ``<final>/../adapter``)."""
    model = trainer.model
    if lora:
        model.save_pretrained(str(final.parent / "adapter"))
        model = model.merge_and_unload()
    model.save_pretrained(str(final))
    processor.save_pretrained(str(final))
    return final


def evaluate_final(recipe: Recipe, final: Path, run_dir: Path) -> tuple[Path, dict[str, Any]]:
    """``spar3d eval <bench> --model hf --model-arg model=<final>`` and its scores."""
    from spar3d.bench.eval import GenerationConfig, evaluate, make_backend

    backend = make_backend("hf", model=str(final), dtype="bfloat16" if recipe.bf16 else "float32")
    try:
        result = evaluate(
            str(recipe.bench), backend, run_dir,
            limit_per_task=recipe.eval_limit_per_task,
            generation=GenerationConfig(max_new_tokens=recipe.eval_max_new_tokens),
            progress=False,
        )  # fmt: skip
    finally:
        backend.close()
    return run_dir, result.scores


def overall(scores: dict[str, Any] | None) -> str:
    """``compat 12.34 | strict 10.00``: the overall score of each mode, for one line."""
    if not scores:
        return "no scores"
    parts = []
    for mode, s in scores.items():
        value = s.get("overall") if isinstance(s, dict) else None
        if isinstance(value, dict):
            value = value.get("score", value.get("mean"))
        parts.append(f"{mode} {value:.2f}" if isinstance(value, int | float) else f"{mode} ?")
    return " | ".join(parts)


def summary(result: TrainResult) -> str:
    """A short JSON summary (steps, first and last loss, final folder)."""
    first = result.losses[0] if result.losses else None
    last = result.losses[-1] if result.losses else None
    return json.dumps(
        {"steps": result.steps, "loss_first": first, "loss_last": last, "final": str(result.final)}
    )


__all__ = ["AnswerOnlyCollator", "TrainResult", "lora_config", "train", "vision_modules"]
