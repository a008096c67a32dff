"""``spar3d tasks`` (the catalog) and ``spar3d generate`` (QA generation into the SPAR-7M layout)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spar3d.cli._options import ExecutorName, ProgressFlag, QuietFlag, Split, folded, names_option


def tasks_cmd(
    markdown: Annotated[
        bool, typer.Option("--markdown/--no-markdown", help="Print docs/tasks.md.")
    ] = False,
) -> None:
    """List the registered tasks: views, relation, formats, bench level and metric."""
    from spar3d.tasks.catalog import markdown as catalog_md
    from spar3d.tasks.catalog import rows

    if markdown:
        typer.echo(catalog_md(), nl=False)
        return
    t = Table(title="spar3d tasks")
    t.add_column("task", no_wrap=True)
    for col in ("views", "rel", "formats", "bench", "markers"):
        t.add_column(col)
    for r in rows():
        t.add_row(r["task"], r["views"], r["rel"], r["formats"], r["bench"], r["markers"])
    Console().print(folded(t))


def generate_cmd(
    scene_dirs: Annotated[list[Path], typer.Argument(help="Scene folders with spar3d_index.json.")],
    out: Annotated[Path, typer.Option("--out", help="Output root of the SPAR-7M tree.")],
    split: Annotated[Split, typer.Option("--split", help="Split written.")] = Split.train,
    tasks: Annotated[
        list[str] | None, names_option("--tasks", help="Task names, or all (the default).")
    ] = None,
    per_task: Annotated[int, typer.Option("--per-task", help="Samples per task per scene.")] = 50,
    seed: Annotated[int, typer.Option("--seed", help="Global seed.")] = 0,
    rgbd: Annotated[
        bool, typer.Option("--rgbd/--no-rgbd", help="Also write depth, pose, intrinsics.")
    ] = False,
    meta: Annotated[
        bool, typer.Option("--meta/--no-meta", help="Keep the meta field (provenance).")
    ] = True,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Scenes in parallel (processes).")
    ] = 1,
    keep_work: Annotated[
        bool,
        typer.Option("--keep-work/--no-keep-work", help="Keep <out>/.spar3d_work (shards)."),
    ] = False,
    executor: Annotated[
        ExecutorName,
        typer.Option("--executor", help="process (pool of --workers), serial or ray."),
    ] = ExecutorName.process,
    task_param: Annotated[
        list[str] | None,
        typer.Option(
            "--task-param",
            help="task.key=value: set a task parameter (repeatable; see docs/tasks.md).",
        ),
    ] = None,
    rxr_guide: Annotated[
        list[Path] | None,
        typer.Option("--rxr-guide", help="RxR guide annotations for nav_video (repeatable)."),
    ] = None,
    progress: ProgressFlag = True,
    quiet: QuietFlag = False,
) -> None:
    """Generate QA samples for scenes and write <out>/<source>/{qa_jsonl,images}/...

    Scenes finished by an earlier, interrupted run with the same settings are not regenerated.
    """
    from spar3d.generate import generate, parse_task_params
    from spar3d.tasks import task_names

    names = tasks or "all"
    params = parse_task_params(task_param or [], task_names(names))
    summary = generate(
        scene_dirs, out, split=split.value, tasks=names, per_task=per_task, seed=seed, rgbd=rgbd,
        keep_meta=meta, workers=workers, progress=progress and not quiet, keep_work=keep_work,
        executor=executor.value, task_params=params, rxr_guide=rxr_guide,
    )  # fmt: skip (an unknown or missing executor is a ConfigError naming it)
    console = Console()
    console.print(folded(summary.table()))
    for line in summary.warnings():
        console.print(f"[yellow]warning[/yellow] {line}")
    if summary.scenes_resumed:
        console.print(f"{len(summary.scenes_resumed)} scene(s) reused from an earlier run")
    for scene, err in summary.scenes_failed.items():
        console.print(f"[red]failed[/red] {escape(str(scene))}: {escape(str(err))}")
    if not summary.scenes_ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("tasks")(tasks_cmd)
    app.command("generate")(generate_cmd)
