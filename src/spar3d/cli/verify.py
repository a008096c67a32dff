"""``spar3d verify``: check every sample a second, independent way and flag what does not hold."""

from __future__ import annotations

from pathlib import Path

import typer

from spar3d.cli._options import (
    ProgressFlag,
    QuietFlag,
    Split,
    folded,
    merge_renamed,
    names_option,
    renamed_alias,
)


def verify_command(
    target: Path = typer.Argument(..., help="SPAR-7M tree or benchmark folder (bench build)."),
    scenes: list[Path] = typer.Option(
        [],
        "--scenes",
        help="Scene folder, or a folder of scene folders (repeatable): depth, "
        "poses and boxes come from here. Without it only the text checks run.",
    ),
    out: Path | None = typer.Option(
        None, help="Folder for flags.jsonl and summary.json (default: TARGET/verify)."
    ),
    split: Split = typer.Option(Split.val, help="Split of a tree to check."),
    sources: list[str] | None = names_option(
        "--sources", default=None, help="Sources of a tree (default: all)."
    ),
    old_source: list[str] | None = renamed_alias("--source", "--sources"),
    limit: int | None = typer.Option(None, min=1, help="Check at most this many samples."),
    noise_m: float = typer.Option(0.02, help="Centre noise per object for the fragility test (m)."),
    threshold_shift_m: float = typer.Option(
        0.01, help="How far the 0.1 m relation threshold is moved for the fragility test (m)."
    ),
    progress: ProgressFlag = True,
    quiet: QuietFlag = False,
) -> None:
    """Flag samples whose markers, visibility, answers or wording do not check out against the
    depth images and 3D boxes (see docs/verify.md); writes flags.jsonl and summary.json."""
    from rich.console import Console
    from rich.table import Table

    from spar3d.errors import check_number
    from spar3d.progress import progress as display
    from spar3d.verify import VerifyParams, verify, write_result

    check_number("--noise-m", noise_m, minimum=0)
    check_number("--threshold-shift-m", threshold_shift_m, minimum=0)
    params = VerifyParams(noise_m=noise_m, threshold_shift_m=threshold_shift_m)
    console = Console()
    with display("verify (samples)", limit, progress and not quiet) as bar:
        res = verify(
            target,
            scenes,
            split=split.value,
            sources=merge_renamed(sources, old_source, "--source", "--sources"),
            params=params,
            limit=limit,
            progress=bar.advance,
        )
    flags_path, summary_path = write_result(res, out or Path(target) / "verify", params)
    summary = res.summary(params)
    table = Table(title=f"verify: {target}")
    for col in ("task", "samples", "with depth", "flagged", "rate", "flags"):
        table.add_column(
            col, justify="left" if col in ("task", "flags") else "right", no_wrap=col == "task"
        )
    for name, t in summary["tasks"].items():
        flags = ", ".join(f"{k} {v}" for k, v in t["flags"].items())
        table.add_row(
            name,
            str(t["samples"]),
            str(t["depth_checked"]),
            str(t["flagged"]),
            f"{100 * t['flag_rate']:.1f}%",
            flags,
        )
    console.print(folded(table))
    for scene, why in sorted(res.scene_errors.items()):
        console.print(f"[yellow]scene {scene}: {why} (text checks only)")
    if not scenes:
        console.print("[yellow]no --scenes given: only the text checks ran")
    rate = res.samples / res.seconds if res.seconds else 0.0
    console.print(
        f"{summary['flagged']} of {res.samples} samples flagged; {rate:.0f} samples/s\n"
        f"flags: {flags_path}\nsummary: {summary_path}"
    )


def register(app: typer.Typer) -> None:
    app.command("verify")(verify_command)
