"""``spar3d probe``: build the BEV cognitive-map probe and score answers to it."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from spar3d.cli._options import ProgressFlag, QuietFlag, folded


class ImageFormat(str, Enum):
    JPEG = "JPEG"
    PNG = "PNG"


class Missing(str, Enum):
    origin = "origin"
    exclude = "exclude"


probe_app = typer.Typer(
    help="The BEV cognitive-map probe (SPAR section 4.4): build it, score answers.",
    no_args_is_help=True,
)


@probe_app.command("build")
def build_command(
    scene_dirs: list[Path] = typer.Argument(..., help="Scene folders with spar3d_index.json."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (Parquet under OUT/data/)."),
    n: int = typer.Option(1000, "--n", min=1, help="Samples to build."),
    seed: int = typer.Option(0, help="Seed (the build is deterministic for it)."),
    views: int = typer.Option(3, min=1, help="Images per sample; the first anchors the frame."),
    min_objects: int = typer.Option(3, min=1, help="Fewest objects per sample."),
    max_objects: int = typer.Option(7, min=1, help="Most objects per sample."),
    image_format: ImageFormat = typer.Option(
        ImageFormat.JPEG, case_sensitive=False, help="Image encoding in the Parquet."
    ),
    progress: ProgressFlag = True,
    quiet: QuietFlag = False,
) -> None:
    """Build N probe samples (Parquet + provenance) from indexed scenes.

    Each sample has VIEWS images, MIN..MAX boxed objects and their bird's-eye-view (x, y) in
    metres in the first view's observer frame.
    """
    from rich.console import Console
    from rich.table import Table

    from spar3d.probe.build import ProbeParams, build_probe

    params = ProbeParams(n=n, seed=seed, views=views, min_objects=min_objects,
                         max_objects=max_objects, image_format=image_format.value)  # fmt: skip
    summary = build_probe(scene_dirs, out, params, progress=progress and not quiet)
    console = Console()
    table = Table(title=f"BEV probe: {summary.n} rows, {summary.objects} objects "
                  f"in {summary.seconds:.1f}s")  # fmt: skip
    table.add_column("distance bin")
    table.add_column("objects", justify="right")
    for label, count in summary.per_bin.items():
        table.add_row(label, str(count))
    console.print(folded(table))
    console.print(f"rows per scene: {summary.per_scene}")
    if summary.rejected:
        console.print(f"rejected candidates: {summary.rejected}")
    for scene, why in summary.scenes_failed.items():
        console.print(f"[red]scene skipped: {scene}: {why}")
    if summary.n < n:
        console.print(f"[yellow]only {summary.n} of {n} rows: the scenes ran out of candidates")
    console.print(f"benchmark: {summary.path}  (run it with: spar3d eval {out} -m ...)")


@probe_app.command("score")
def score_command(
    predictions: Path = typer.Argument(..., help="A run folder of `spar3d eval` or a JSONL file."),
    report: Path | None = typer.Option(None, help="Write report.md, report.png, scores.json here."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the scores as JSON here."),
    missing: Missing = typer.Option(
        Missing.origin, help="Unread objects: origin (scored at (0, 0)) or exclude."
    ),
    references: bool = typer.Option(
        True, help="Also score the origin and median-ahead answers on the same rows."
    ),
    median_from: Path | None = typer.Option(
        None,
        help="A probe benchmark (or run) whose median object distance the median-ahead "
        "reference uses, e.g. a training probe (default: the scored rows themselves).",
    ),
    n_boot: int = typer.Option(1000, min=10, help="Bootstrap replicates."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
) -> None:
    """Score probe answers: APE mean / P50 / P90 overall and by distance, with CIs.

    Bootstrap intervals, the paper's rows beside ours, and unread objects counted by type
    (missing, malformed, failed request).
    """
    from rich.console import Console
    from rich.table import Table

    from spar3d.io import write_json
    from spar3d.probe.build import BIN_LABELS
    from spar3d.probe.report import ape_intervals, write_probe_report
    from spar3d.probe.score import (
        baseline_records,
        median_distance,
        read_probe_records,
        score_probe_records,
    )

    records, where = read_probe_records(predictions)
    result = score_probe_records(records, missing.value, where)
    if result.rows == 0:
        typer.echo(f"error: {where}: no bev_probe records (tasks: {result.skipped})", err=True)
        raise typer.Exit(3)
    refs = []
    if references:
        prior = read_probe_records(median_from)[0] if median_from else records
        d = median_distance(prior)
        refs = [
            ("origin", score_probe_records(baseline_records(records, "origin"), missing.value)),
            (f"median ahead ({d:.2f} m)",
             score_probe_records(baseline_records(records, "median_ahead", d), missing.value)),
        ]  # fmt: skip
    intervals = ape_intervals(result, n_boot=n_boot, seed=seed)
    table = Table(title=f"BEV probe APE (m) - {where}")
    for col in ("", "objects", "not read", "mean", "P50", "P90", "95% CI of mean"):
        table.add_column(col, justify="left" if not col else "right")

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    for label, st, ci, b in [("overall", result.overall, intervals.overall, None)] + [
        (b, result.bins[b], intervals.bins[b], b) for b in BIN_LABELS
    ]:
        counts = result.status_counts(b)
        ci_mean = ci["mean"]
        table.add_row(label, str(sum(counts.values())), str(sum(counts.values()) - counts["ok"]),
                      fmt(st.mean), fmt(st.p50), fmt(st.p90),
                      "-" if ci_mean is None else f"[{ci_mean[0]:.2f}, {ci_mean[1]:.2f}]")  # fmt: skip
    console = Console()
    console.print(folded(table))
    console.print(f"objects by status: {result.status_counts()}; rows by response status: "
                  f"{result.row_status}; reading rules: {result.rules}")  # fmt: skip
    for name, r in refs:
        console.print(f"reference {name}: mean APE {fmt(r.overall.mean)} m")
    if json_out is not None:
        write_json(json_out, {**result.to_dict(), "intervals": intervals.to_dict(),
                              "references": {k: r.to_dict() for k, r in refs}})  # fmt: skip
    if report is not None:
        paths = write_probe_report(result, report, refs, n_boot=n_boot, seed=seed)
        console.print(f"report: {paths['markdown']}  {paths['png']}")


@probe_app.command("compare")
def compare_command(
    runs: list[Path] = typer.Argument(..., help="Run folders or prediction JSONL files."),
    markdown: Path | None = typer.Option(None, help="Also write the table as Markdown here."),
    missing: Missing = typer.Option(Missing.origin, help="Unread objects: origin or exclude."),
) -> None:
    """Put probe runs side by side with the paper's rows (APE overall and per distance bin)."""
    from spar3d.io import atomic_open
    from spar3d.probe.report import means_table
    from spar3d.probe.score import read_probe_records, score_probe_records

    scored = []
    for path in runs:
        records, where = read_probe_records(path)
        scored.append(
            (path.name or str(path), score_probe_records(records, missing.value, where))
        )
    text = "\n".join(means_table(scored)) + "\n"
    typer.echo(text)
    if markdown is not None:
        with atomic_open(markdown, "w", encoding="utf-8") as fh:
            fh.write(text)


def register(app: typer.Typer) -> None:
    app.add_typer(probe_app, name="probe")
