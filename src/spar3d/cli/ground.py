"""``spar3d ground``: build the grounding benchmark, and lift / refine / score grounding answers."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from spar3d.cli._options import ProgressFlag, QuietFlag


class Assignment(str, Enum):
    nearest = "nearest"
    hungarian = "hungarian"


ground_app = typer.Typer(
    help="3D grounding through frame selection (SPAR section 3.5).", no_args_is_help=True
)


@ground_app.command("build")
def build_command(
    scenes: list[Path] = typer.Argument(..., help="Scene folders (with spar3d_index.json)."),
    out: Path = typer.Option(..., "--out", help="Output folder (Parquet under OUT/data/)."),
    n: int = typer.Option(1000, "--n", min=1, help="Samples in all, spread over the scenes."),
    seed: int = typer.Option(0, "--seed", help="Sampling seed."),
    scanrefer: Path | None = typer.Option(
        None, "--scanrefer", help="ScanRefer JSON: ground its descriptions (ground_3d_scanrefer)."
    ),
    min_views: int = typer.Option(3, "--min-views", min=1, help="Fewest views per sample."),
    max_views: int = typer.Option(5, "--max-views", min=1, help="Most views per sample."),
    progress: ProgressFlag = True,
    quiet: QuietFlag = False,
) -> None:
    """Grounding samples (views + a referring expression -> frame, (u, v), depth, size) written
    as Parquet + provenance, with the scenes' instance boxes as default proposals."""
    from rich.console import Console

    from spar3d.grounding.bench import GENERATED_TASK, SCANREFER_TASK, build_grounding_bench

    task = SCANREFER_TASK if scanrefer else GENERATED_TASK
    params = {"min_views": float(min_views), "max_views": float(max_views)}
    summary = build_grounding_bench(
        scenes,
        out,
        n=n,
        seed=seed,
        task=task,
        params=params,
        scanrefer=scanrefer,
        progress=progress and not quiet,
    )
    console = Console()
    console.print(
        f"{summary.total} {task} samples from {len(summary.counts)} scene(s): {summary.path}"
    )
    for scene, why in summary.skipped.items():
        console.print(f"[yellow]skipped {scene}: {why}")
    if summary.rejected:
        console.print("rejected candidates: " + ", ".join(
            f"{k} {v}" for k, v in sorted(summary.rejected.items())))  # fmt: skip


@ground_app.command("score")
def score_command(
    predictions: Path = typer.Argument(
        ..., help="An eval run folder (predictions.jsonl) or a JSONL of {id, raw|prediction}."
    ),
    bench: Path | None = typer.Option(
        None, "--bench", help="The grounding benchmark (default: the run's config.json)."
    ),
    proposals: Path | None = typer.Option(
        None,
        "--proposals",
        help="Proposal boxes (JSON or .npz) to refine with (default: BENCH/proposals.json).",
    ),
    assignment: Assignment = typer.Option(
        Assignment.nearest, "--assignment", help="How lifted boxes pick proposals."
    ),
    max_center_dist: float = typer.Option(
        1.0, "--max-center-dist", min=0.01, help="Metres; farther proposals are not candidates."
    ),
    out: Path | None = typer.Option(None, "--out", help="Folder for the report (default: run)."),
    n_boot: int = typer.Option(1000, "--n-boot", min=10, help="Bootstrap replicates."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
) -> None:
    """Parse, lift to 3D (the chosen view's T_world_cam and K), refine, and report Acc@0.25 /
    Acc@0.5 with and without refinement, per ScanRefer split, with bootstrap intervals."""
    from rich.console import Console

    from spar3d.errors import ConfigError, InputError
    from spar3d.grounding.boxes import load_proposals
    from spar3d.grounding.score import (
        bench_contexts,
        read_predictions,
        report_markdown,
        score_grounding,
    )
    from spar3d.io import atomic_open, write_json, write_jsonl

    pairs, run_bench = read_predictions(predictions)
    bench = bench or run_bench
    if bench is None:
        raise ConfigError("--bench is required when PREDICTIONS is not an eval run folder")
    contexts = bench_contexts(bench)
    items = []
    for ident, raw in pairs:
        try:
            items.append((ident, raw, contexts[int(ident)]))
        except (KeyError, TypeError, ValueError):
            raise InputError(
                f"{predictions}: id {ident!r} is not a grounding row of {bench}"
            ) from None
    bench_dir = bench if bench.is_dir() else bench.parent.parent
    prop_path = proposals or (bench_dir / "proposals.json")
    props = load_proposals(prop_path) if prop_path.is_file() else None
    scores = score_grounding(
        items,
        props,
        assignment=assignment.value,
        max_center_dist_m=max_center_dist,
        n_boot=n_boot,
        seed=seed,
        refined_with=f"{prop_path.name}, {assignment.value}" if props else "no proposals",
    )
    out_dir = out or (predictions if predictions.is_dir() else predictions.parent)
    md = report_markdown(scores)
    with atomic_open(out_dir / "grounding_report.md", "w") as fh:
        fh.write(md)
    write_json(out_dir / "grounding_scores.json", scores.to_dict())
    write_jsonl(out_dir / "grounding_boxes.jsonl", [s.to_dict() for s in scores.per_sample])
    Console().print(md)


def register(app: typer.Typer) -> None:
    app.add_typer(ground_app, name="ground")
