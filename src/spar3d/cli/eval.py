"""``spar3d eval``: run a model backend over SPAR-Bench and score it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer


def parse_model_args(pairs: list[str]) -> dict[str, Any]:
    """``["k=v", ...]`` to keyword arguments; values are read as JSON when they parse as JSON.

    Raises:
        typer.BadParameter: An item without ``=``.
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected key=value, got {pair!r}", param_hint="--model-arg")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def _print_summary(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from spar3d.task_table import LEVEL_NAMES

    console = Console()
    if result.partial:
        console.print(
            f"[bold yellow]PARTIAL[/]: {result.n_selected - result.n_failed} of {result.n_bench} "
            f"benchmark samples answered; failed requests per task: {result.failures or 'none'} "
            "(rerun with --retry-failed). Scores below cover only what was answered."
        )
    table = Table(title=f"SPAR-Bench - {result.run_dir}")
    table.add_column("mode")
    for column in ("overall", *LEVEL_NAMES):
        table.add_column(column, justify="right")

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    for mode, scores in result.scores.items():
        levels = scores["levels"]
        table.add_row(mode, fmt(scores["overall"]), *(fmt(levels.get(k)) for k in LEVEL_NAMES))
    if result.scores:
        console.print(table)
    if result.probe is not None:
        overall, status = result.probe["overall"], result.probe["object_status"]
        console.print(
            f"BEV probe: {result.probe['rows']} rows, {result.probe['objects']} objects, APE mean "
            f"{fmt(overall['mean'])} / P50 {fmt(overall['p50'])} / P90 {fmt(overall['p90'])} m; "
            f"objects by status {status} (report: spar3d probe score {result.run_dir} --report DIR)"
        )
    console.print(
        f"statuses: {result.status_counts}; requested {result.requested}, "
        f"from cache {result.from_cache}"
    )


def eval_command(
    bench: Path = typer.Argument(..., help="SPAR-Bench Parquet file or folder of shards."),
    model: str = typer.Option(
        ..., "--model", "-m", help="Backend: openai, hf, random, frequency, oracle, ..."
    ),
    model_arg: list[str] = typer.Option(
        [],
        "--model-arg",
        "-M",
        help="Backend argument key=value (JSON values allowed); repeatable.",
    ),
    base_url: str | None = typer.Option(None, help="openai: server root including /v1."),
    api_key_env: str | None = typer.Option(
        None, help="openai: environment variable holding the API key (default OPENAI_API_KEY)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder (reuse it to resume)."),
    limit: int | None = typer.Option(None, help="Only the first N samples (run is PARTIAL)."),
    limit_per_task: int | None = typer.Option(
        None, help="Only the first N samples of each task (run is PARTIAL)."
    ),
    concurrency: int | None = typer.Option(None, help="Requests or batches in flight."),
    retry_failed: bool = typer.Option(False, help="Ask again for failed requests only."),
    pre_prompt: str = typer.Option("", help="Text before every question."),
    numeric_post: str | None = typer.Option(
        None, help="Numeric post-prompt: default or api (default: the backend's choice)."
    ),
    max_new_tokens: int | None = typer.Option(
        None, help="Generation limit (default: 100 as published; 256 for BEV probe rows)."
    ),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Run a model over SPAR-Bench, cache its answers, and score them in compat and strict modes."""
    from spar3d.bench.eval import GenerationConfig, PromptConfig, evaluate, make_backend
    from spar3d.registry import RegistryError

    kwargs = parse_model_args(model_arg)
    if base_url is not None:
        kwargs["base_url"] = base_url
    if api_key_env is not None:
        kwargs["api_key_env"] = api_key_env
    try:
        backend = make_backend(model, **kwargs)
    except (RegistryError, TypeError, ValueError, ImportError, OSError, RuntimeError) as exc:
        # KeyError's str() quotes its message; args[0] is the message itself.
        message = str(exc.args[0]) if exc.args else str(exc)
        raise typer.BadParameter(message, param_hint="--model/--model-arg") from None
    try:
        prompt = PromptConfig(
            pre_prompt=pre_prompt,
            numeric_post=numeric_post or backend.default_numeric_post,  # type: ignore[arg-type]
        )
        result = evaluate(
            bench,
            backend,
            out,
            limit=limit,
            limit_per_task=limit_per_task,
            concurrency=concurrency,
            retry_failed=retry_failed,
            prompt=prompt,
            generation=GenerationConfig(max_new_tokens=max_new_tokens) if max_new_tokens else None,
            progress=progress,
        )
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        backend.close()
    _print_summary(result)


def register(app: typer.Typer) -> None:
    """Add ``spar3d eval`` to the app."""
    app.command("eval")(eval_command)
