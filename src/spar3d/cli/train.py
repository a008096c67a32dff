"""``spar3d train``: SPAR-mix fine-tuning of a VLM with TRL (+ peft), then a benchmark run."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class Method(str, Enum):
    lora = "lora"
    full = "full"


def train_command(
    out: Annotated[Path, typer.Option(help="Output folder (checkpoints, final/, eval/).")],
    recipe: Annotated[
        Path | None, typer.Option(help="Recipe YAML (default: the shipped spar_mix.yaml).")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model folder or Hub id on disk.")] = None,
    spar_data: Annotated[
        Path | None, typer.Option(help="`spar3d export --format hf` folder.")
    ] = None,
    general_data: Annotated[
        Path | None,
        typer.Option(help="General chat data: HF/Parquet folder, save_to_disk folder or JSONL."),
    ] = None,
    spar_ratio: Annotated[
        float | None, typer.Option(help="Share of SPAR samples in the mix (paper: 0.4).")
    ] = None,
    budget: Annotated[
        int | None, typer.Option(help="Samples in the mix (paper: 2,000,000).")
    ] = None,
    method: Annotated[
        Method | None, typer.Option(help="LoRA adapters or full fine-tuning (recipe default).")
    ] = None,
    streaming: Annotated[
        bool | None,
        typer.Option(help="Stream the Parquet data (no Arrow copy on disk; steps from budget)."),
    ] = None,
    freeze_vision: Annotated[
        bool | None, typer.Option(help="Freeze the vision tower (paper: unfrozen).")
    ] = None,
    bf16: Annotated[bool | None, typer.Option(help="bfloat16 weights and compute.")] = None,
    gradient_checkpointing: Annotated[
        bool | None, typer.Option(help="Recompute activations to save memory.")
    ] = None,
    learning_rate: Annotated[float | None, typer.Option(help="Peak learning rate.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Stop after N steps (-1: epochs).")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Per-device batch size.")] = None,
    grad_accum: Annotated[int | None, typer.Option(help="Gradient accumulation steps.")] = None,
    save_steps: Annotated[int | None, typer.Option(help="Checkpoint every N steps.")] = None,
    workers: Annotated[int | None, typer.Option(help="Data loader worker processes.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the mix and the run.")] = None,
    resume: Annotated[
        bool, typer.Option(help="Continue from the last checkpoint in --out.")
    ] = False,
    bench: Annotated[
        Path | None, typer.Option(help="Benchmark to evaluate the final weights on.")
    ] = None,
    eval_limit_per_task: Annotated[
        int | None, typer.Option(help="Evaluate only N samples per task (a quick run).")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Any recipe setting as KEY=VALUE (YAML value; repeatable)."),
    ] = None,
) -> None:
    """Fine-tune a VLM on a SPAR-mix (SPAR data + a general dataset) and evaluate it.

    Settings come from the recipe (the paper's SPAR-mix by default), then --set, then flags.
    """
    import yaml

    from spar3d.errors import ConfigError
    from spar3d.train.recipe import Recipe
    from spar3d.train.sft import overall, summary, train

    r = Recipe.from_yaml(recipe)
    extra: dict[str, object] = {}
    for item in set_ or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        extra[key] = yaml.safe_load(value)
    r = r.updated(extra, "--set")
    flags = {
        "model": model, "spar_data": spar_data and str(spar_data),
        "general_data": general_data and str(general_data), "spar_ratio": spar_ratio,
        "budget": budget, "method": method and method.value, "streaming": streaming,
        "freeze_vision": freeze_vision, "bf16": bf16,
        "gradient_checkpointing": gradient_checkpointing, "learning_rate": learning_rate,
        "max_steps": max_steps, "per_device_batch_size": batch_size,
        "gradient_accumulation_steps": grad_accum, "save_steps": save_steps,
        "dataloader_num_workers": workers, "seed": seed, "bench": bench and str(bench),
        "eval_limit_per_task": eval_limit_per_task,
    }  # fmt: skip
    r = r.updated(flags, "flags")
    result = train(r, out, resume=resume, log=typer.echo)
    typer.echo(f"trained {result.steps} steps; final weights: {result.final}")
    typer.echo(summary(result))
    if result.scores is not None:
        typer.echo(f"eval {result.eval_dir}: {overall(result.scores)}")


def register(app: typer.Typer) -> None:
    """Add ``spar3d train``."""
    app.command("train")(train_command)
