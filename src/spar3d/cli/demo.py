"""``spar3d demo``: the whole pipeline on built-in synthetic scenes."""

from __future__ import annotations

from pathlib import Path

import typer

from spar3d.cli.synth import Layout


def demo_command(
    out: Path = typer.Option(Path("spar3d_demo"), help="Output folder (re-running resumes)."),
    scenes: int = typer.Option(4, min=1, help="Synthetic scenes to make."),
    val_scenes: int = typer.Option(2, min=1, help="How many of them form the val split."),
    frames: int = typer.Option(120, min=1, help="Frames per scene."),
    width: int = typer.Option(320, min=8, help="Image width."),
    height: int = typer.Option(240, min=8, help="Image height."),
    seed: int = typer.Option(0, help="Seed of scenes, questions and sampling."),
    layout: Layout = typer.Option(
        "scannet", help="Dataset layout the scenes are written in and read back from."
    ),
) -> None:
    """synth -> index -> generate -> data_jsons -> benchmark -> baselines -> scores -> gallery."""
    from spar3d.demo import DemoConfig, run_demo

    run_demo(DemoConfig(out=out, scenes=scenes, val_scenes=val_scenes, frames=frames,
                        width=width, height=height, seed=seed, layout=layout.value))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
