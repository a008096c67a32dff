"""``spar3d bench``: build a SPAR-Bench-style benchmark from a generated validation split."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from spar3d.cli._options import Split, folded, merge_renamed, names_option, renamed_alias

bench_app = typer.Typer(help="Build SPAR-Bench-style benchmarks.", no_args_is_help=True)


@bench_app.command("build")
def build_command(
    root: Path = typer.Argument(..., help="SPAR-7M root written by `spar3d generate`."),
    out: Path = typer.Option(..., help="Output folder (Parquet under OUT/data/)."),
    split: Split = typer.Option(Split.val, help="Split to sample from."),
    per_task: int | None = typer.Option(
        None, min=1, help="Samples per task (default 400; tiny 50)."
    ),
    tiny: bool = typer.Option(False, help="The Tiny variant: 50 per task."),
    tasks: list[str] | None = names_option(
        "--tasks", default=None, help="A subset of the 20 bench tasks (default: all)."
    ),
    sources: list[str] | None = names_option(
        "--sources", default=None, help="Sources to use (default: all)."
    ),
    old_source: list[str] | None = renamed_alias("--source", "--sources"),
    seed: int = typer.Option(0, help="Sampling seed."),
    exclude_flagged: Path | None = typer.Option(
        None, help="Flags JSONL from `spar3d verify`: leave every flagged sample out."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress."),
    quiet: bool = typer.Option(False, "--quiet/--no-quiet", "-q", help="No progress output."),
) -> None:
    """Sample N per task (balanced over scenes, answer letters and numeric ranges), draw the
    markers into the images and write Parquet with SPAR-Bench's columns."""
    from rich.console import Console
    from rich.table import Table

    from spar3d.bench.build import build_bench

    exclude = None
    if exclude_flagged is not None:
        from spar3d.verify import read_flagged_keys

        exclude = read_flagged_keys(exclude_flagged)
    summary = build_bench(
        root,
        out,
        split=split.value,
        sources=merge_renamed(sources, old_source, "--source", "--sources"),
        per_task=per_task,
        variant="tiny" if tiny else "full",
        tasks=tasks,
        seed=seed,
        exclude=exclude,
        progress=progress and not quiet,
    )
    table = Table(title=f"benchmark: {summary.path}")
    table.add_column("task", overflow="fold")
    table.add_column("samples", justify="right")
    table.add_column("available", justify="right")
    for task, avail in summary.available.items():
        table.add_row(task, str(summary.counts.get(task, 0)), str(avail))
    console = Console()
    console.print(folded(table))
    if summary.excluded:
        n = sum(summary.excluded.values())
        console.print(f"left out {n} flagged candidate(s) listed in {exclude_flagged}")
    if summary.missing:
        console.print(f"[yellow]no candidates for: {', '.join(summary.missing)}")
    console.print(
        f"load it with datasets.load_dataset('parquet', data_files='{summary.path}', split='train')"
    )


class ExportTarget(str, Enum):
    lmms_eval = "lmms-eval"
    vlmevalkit = "vlmevalkit"


@bench_app.command("export")
def export_command(
    bench: Path = typer.Argument(..., help="Benchmark Parquet file or folder of shards."),
    to: ExportTarget = typer.Option(..., "--to", help="Harness: lmms-eval or vlmevalkit."),
    out: Path = typer.Argument(..., help="Output folder."),
    name: str | None = typer.Option(
        None, help="Task name (lmms-eval, default spar3d_bench) or TSV name (default SPAR3D_Bench)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress."),
    quiet: bool = typer.Option(False, "--quiet/--no-quiet", "-q", help="No progress output."),
) -> None:
    """Write the benchmark for another harness: an lmms-eval task folder (YAML + utils.py that
    load this Parquet) or a VLMEvalKit TSV (base64 images). See docs/cli/bench.md."""
    from spar3d.bench.eval.export import export_lmms_eval, export_vlmevalkit

    if to is ExportTarget.lmms_eval:
        paths = export_lmms_eval(bench, out, name or "spar3d_bench")
        task = paths["yaml"].stem
        typer.echo(f"wrote {paths['yaml']} and {paths['utils']}")
        typer.echo(f"run: lmms-eval --include_path {out} --tasks {task} --log_samples ...")
    else:
        path = export_vlmevalkit(bench, out, name or "SPAR3D_Bench", progress and not quiet)
        typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
