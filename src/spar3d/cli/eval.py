"""``spar3d eval``: run a model backend over SPAR-Bench and score it."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from spar3d.cli._options import ProgressFlag, QuietFlag, folded, open_choice

#: The backends spar3d ships (``spar3d.backends`` entry points add more).
BUILTIN_BACKENDS = ("openai", "hf", "vllm", "random", "frequency", "origin", "oracle", "mock",
                    "ground-median", "ground-center")  # fmt: skip

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


class PresetChoice(str, Enum):
    spar_paper = "spar-paper"
    lmms_eval = "lmms-eval"
    api = "api"


class NumericPost(str, Enum):
    default = "default"
    api = "api"


def print_summary(result: Any, console: Any = None) -> None:
    """The score table, the failures by kind and the end line (answered / failed / not run)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from spar3d.task_table import LEVEL_NAMES

    console = console or Console()
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
        console.print(folded(table))
    if result.probe is not None:
        overall, status = result.probe["overall"], result.probe["object_status"]
        console.print(
            f"BEV probe: {result.probe['rows']} rows, {result.probe['objects']} objects, APE mean "
            f"{fmt(overall['mean'])} / P50 {fmt(overall['p50'])} / P90 {fmt(overall['p90'])} m; "
            f"objects by status {status} (report: spar3d probe score {result.run_dir} --report DIR)"
        )
    if result.errors:
        errors = Table(title="failed requests by kind (each scored 0)")
        errors.add_column("count", justify="right")
        errors.add_column("first failure", overflow="fold")
        for entry in sorted(result.errors.values(), key=lambda e: -e["count"]):
            first = f"sample {entry['id']} ({entry['task']}): {entry['first']}"
            errors.add_row(str(entry["count"]), escape(first))
        console.print(folded(errors))
    prompt = result.prompt
    console.print(
        f"prompt preset {prompt.get('requested_preset')} -> {prompt.get('preset')}; "
        f"requested {result.requested}, from cache {result.from_cache}",
        highlight=False,
    )
    not_run = result.n_bench - result.n_selected
    verdict = "[bold red]FAILED REQUESTS[/]" if result.n_failed else "[bold green]done[/]"
    if result.partial and not result.n_failed:
        verdict = "[bold yellow]PARTIAL[/]"
    console.print(
        f"{verdict}: {result.n_answered} answered, {result.n_failed} failed (scored as 0), "
        f"{not_run} not run, of {result.n_bench} benchmark samples"
        + (" - the scores do not describe the whole benchmark" if result.partial else ""),
        highlight=False,
    )


def eval_command(
    bench: Path = typer.Argument(..., help="SPAR-Bench Parquet file or folder of shards."),
    model: str = open_choice(
        ..., "--model", "-m", builtin=BUILTIN_BACKENDS, group="spar3d.backends",
        help="Model backend (docs/cli/eval.md).",
    ),  # fmt: skip
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
    limit: int | None = typer.Option(
        None, min=1, help="Only the first N samples (run is PARTIAL)."
    ),
    limit_per_task: int | None = typer.Option(
        None, min=1, help="Only the first N samples of each task (run is PARTIAL)."
    ),
    concurrency: int | None = typer.Option(None, min=1, help="Requests or batches in flight."),
    data_parallel: int = typer.Option(
        1, min=1, help="Local backends: N copies of the model in N processes (cuda:0..N-1)."
    ),
    retry_failed: bool = typer.Option(
        False, "--retry-failed/--no-retry-failed", help="Ask again for failed requests only."
    ),
    pre_prompt: str = typer.Option("", help="Text before every question."),
    prompt_preset: PresetChoice = typer.Option(
        PresetChoice.spar_paper,
        help="Prompts of: spar-paper (the paper's wording for this kind of model), lmms-eval "
        "(lmms-eval's default), api (lmms-eval's API-model wording). See docs/cli/eval.md.",
    ),
    numeric_post: NumericPost | None = typer.Option(
        None, hidden=True, help="Deprecated: --prompt-preset lmms-eval (default) or api."
    ),
    max_new_tokens: int | None = typer.Option(
        None, min=1, help="Generation limit (default: 100 as published; 256 for BEV probe rows)."
    ),
    preflight: bool = typer.Option(
        True, "--preflight/--no-preflight", help="Check server, key, model and image limit first."
    ),
    fail_fast: int = typer.Option(
        10, min=0, help="Stop after N identical client errors (HTTP 4xx); 0 never stops."
    ),
    allow_failures: bool = typer.Option(
        False,
        "--allow-failures/--no-allow-failures",
        help="Exit 0 even when some requests failed (they are scored 0).",
    ),
    allow_outside_root: bool = typer.Option(
        False,
        "--allow-outside-root/--no-allow-outside-root",
        help="Read sample images stored by a path outside the benchmark folder.",
    ),
    progress: ProgressFlag = True,
    quiet: QuietFlag = False,
) -> None:
    """Run a model over SPAR-Bench, cache its answers, and score them in compat and strict modes.

    Exits 5 when requests failed (unless --allow-failures), naming the first failure of each kind.
    """
    from spar3d.bench.eval import GenerationConfig, PromptConfig, evaluate, make_backend
    from spar3d.errors import BackendError, ConfigError

    kwargs = parse_model_args(model_arg)
    if base_url is not None:
        kwargs["base_url"] = base_url
    if api_key_env is not None:
        kwargs["api_key_env"] = api_key_env
    try:
        if data_parallel > 1:  # the model is loaded in the worker processes only
            from spar3d.bench.eval.backends.parallel import DataParallelBackend

            backend: Any = DataParallelBackend(model, kwargs, data_parallel)
        else:
            backend = make_backend(model, **kwargs)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"--model/--model-arg: {exc}") from None
    try:
        if numeric_post is not None:
            preset = "api" if numeric_post.value == "api" else "lmms-eval"
        else:
            preset = prompt_preset.value
        prompt = PromptConfig.for_backend(preset, backend.api_model, pre_prompt)
        try:
            result = evaluate(
                bench,
                backend,
                out,
                limit=limit,
                limit_per_task=limit_per_task,
                concurrency=concurrency,
                retry_failed=retry_failed,
                prompt=prompt,
                generation=(
                    GenerationConfig(max_new_tokens=max_new_tokens) if max_new_tokens else None
                ),
                progress=progress and not quiet,
                preflight=preflight,
                fail_fast=fail_fast,
                allow_outside_root=allow_outside_root,
            )
        except FileNotFoundError as exc:
            raise ConfigError(f"BENCH: {exc}") from None
    finally:
        backend.close()
    print_summary(result)
    if result.n_failed and not allow_failures:
        raise BackendError(
            f"{result.n_failed} of {result.n_selected} requests failed "
            f"({len(result.errors)} kind(s), listed above); fix the cause and rerun with "
            "--retry-failed, or pass --allow-failures to accept a run with failures"
        )


def register(app: typer.Typer) -> None:
    """Add ``spar3d eval`` to the app."""
    app.command("eval")(eval_command)
