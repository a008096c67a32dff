"""``spar3d synth``: make synthetic scenes in a dataset's on-disk layout (no downloads needed)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from spar3d.cli._options import ProgressFlag, QuietFlag
from spar3d.scenes.synthetic.synthesize import (
    DEFAULT_FRAMES,
    DEFAULT_HEIGHT,
    DEFAULT_WIDTH,
    LAYOUTS,
)

#: The dataset layouts ``synth`` writes (each read back by its loader).
Layout = Enum("Layout", {name: name for name in LAYOUTS}, type=str)  # type: ignore[misc]


def synth(
    out: Path = typer.Option(..., "--out", help="Folder to write the scenes into."),
    scenes: int = typer.Option(1, "--scenes", min=1, help="Number of scenes (synth0000_00, ...)."),
    seed: int = typer.Option(0, "--seed", help="Seed; scene k depends only on (seed, k)."),
    frames: int = typer.Option(DEFAULT_FRAMES, "--frames", min=1, help="Frames per scene."),
    width: int = typer.Option(
        DEFAULT_WIDTH, "--width", min=8, help="Image width (colour and depth)."
    ),
    height: int = typer.Option(DEFAULT_HEIGHT, "--height", min=8, help="Image height."),
    progress: ProgressFlag = True,
    quiet: QuietFlag = False,
    detail: int = typer.Option(
        0, "--detail", min=0, help="Subdivide each mesh to at least this many faces (ScanNet's "
        "vh_clean_2 meshes: a few hundred thousand; 0: the plain mesh)."
    ),
    layout: Layout = typer.Option(
        "scannet", "--layout", help="The dataset layout written (each read back by its loader)."
    ),
) -> None:
    """Make procedural indoor scenes (mesh, annotations, RGB-D frames, poses) in a dataset layout.

    Finished scenes are skipped, so an interrupted run continues where it stopped.
    """
    from spar3d.scenes.synthetic.synthesize import synthesize

    folders = synthesize(
        out, scenes, seed, n_frames=frames, width=width, height=height,
        progress=progress and not quiet, layout=layout.value, detail=detail or None,
    )  # fmt: skip
    typer.echo(f"{len(folders)} scene(s) in {out}")


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
