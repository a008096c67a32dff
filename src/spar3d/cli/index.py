"""``spar3d index``: build and summarise scene indexes."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from spar3d.cli._options import (
    ExecutorName,
    ProgressFlag,
    QuietFlag,
    folded,
    names_option,
    open_choice,
)
from spar3d.index.builder import IndexParams
from spar3d.index.keyframes import KeyframeParams

#: Built-in loaders and ray casters (``spar3d.loaders`` / ``spar3d.raycasters`` add more).
BUILTIN_LOADERS = (
    "scannet", "scannet_preprocessed", "scannetpp", "structured3d", "arkitscenes", "3rscan",
    "matterport3d",
)
BUILTIN_RAYCASTERS = ("embree", "open3d")


class PointcloudVisibility(str, Enum):
    auto = "auto"
    splat = "splat"
    depth = "depth"
    instance = "instance"


def index_command(
    scene_dirs: list[Path] = typer.Argument(..., help="Scene folders (ScanNet layout, ...)."),
    loader: str | None = open_choice(
        None,
        "--loader",
        builtin=BUILTIN_LOADERS,
        group="spar3d.loaders",
        help="Loader (default: detected from the folder).",
    ),
    force: bool = typer.Option(False, help="Rebuild indexes that already exist."),
    render_width: int = typer.Option(320, help="Width of the visibility render (pixels)."),
    backend: str = open_choice(
        "embree",
        "--backend",
        builtin=BUILTIN_RAYCASTERS,
        group="spar3d.raycasters",
        help="Ray casting backend.",
    ),
    translation_m: float | None = typer.Option(None, help="Keyframe translation threshold (m)."),
    rotation_deg: float | None = typer.Option(None, help="Keyframe rotation threshold (deg)."),
    all_frames: bool = typer.Option(False, help="Skip keyframe selection."),
    min_visible_fraction: float = typer.Option(0.1, help="Min. fraction of visible vertices."),
    min_box_area_fraction: float = typer.Option(0.002, help="Min. 2D box area / image area."),
    pointcloud_visibility: PointcloudVisibility = typer.Option(
        PointcloudVisibility.auto,
        help="Point clouds: splat, depth, instance (depth and instance images), or auto (the "
        "source's preset, else splat).",
    ),
    workers: int = typer.Option(1, min=1, help="Scenes indexed in parallel (processes)."),
    executor: ExecutorName = typer.Option(
        ExecutorName.process, help="process (pool of --workers), serial or ray."
    ),
    loader_opt: list[str] | None = typer.Option(
        None,
        "--loader-opt",
        help="key=value, an option of the scene's loader (repeatable), parsed by its typed "
        "options and recorded in the index: infos=, image_root=, label_map=, camera=, stride=, "
        "sky_direction=... (docs/loaders.md lists each loader's).",
    ),
    catch_all: list[str] | None = names_option(
        "--catch-all",
        default=None,
        help="Labels indexed but never named in questions "
        "(default: otherprop, otherfurniture, otherstructure, object, unknown, ...).",
    ),
    progress: ProgressFlag = True,
    quiet: QuietFlag = False,
) -> None:
    """Build the scene index (keyframes, image and object records) next to each scene."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from spar3d.index.run import index_scene_dirs
    from spar3d.scenes.loaders import parse_loader_opts

    keyframes = None
    if translation_m is not None or rotation_deg is not None:
        d = KeyframeParams()
        keyframes = KeyframeParams(
            translation_m if translation_m is not None else d.translation_m,
            rotation_deg if rotation_deg is not None else d.rotation_deg,
        )
    params = IndexParams(
        keyframes=keyframes,
        all_frames=all_frames,
        render_width=render_width,
        backend=backend,
        min_visible_fraction=min_visible_fraction,
        min_box_area_fraction=min_box_area_fraction,
        pointcloud_visibility=pointcloud_visibility.value,
    )
    if catch_all is not None:
        params.catch_all_labels = tuple(x.lower() for x in catch_all)
    opts = parse_loader_opts(loader_opt or [], loader)
    outcomes = index_scene_dirs(
        scene_dirs, params, loader=loader, force=force, workers=workers, loader_opts=opts,
        executor=executor.value, progress=progress and not quiet,
    )  # fmt: skip
    console = Console()
    table = Table(title="scene index")
    for col in ("scene", "status", "frames", "keyframes", "objects", "seen", "vis/img", "s"):
        table.add_column(col, justify="right" if col not in ("scene", "status") else "left")
    for o in outcomes:
        if o.index is None:
            table.add_row(str(o.scene_dir), "[red]failed", "", "", "", "", "", f"{o.seconds:.1f}")
            continue
        ix = o.index
        seen = sum(1 for r in ix.objects if r.image_indices)
        per_img = sum(len(im.visible) for im in ix.images) / max(1, len(ix.images))
        table.add_row(
            ix.scene_id,
            o.status,
            str(ix.num_frames_total),
            str(len(ix.images)),
            str(len(ix.objects)),
            str(seen),
            f"{per_img:.1f}",
            f"{o.seconds:.1f}",
        )
    console.print(folded(table))
    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed:
        console.print(f"[red]{escape(str(o.scene_dir))}: {escape(str(o.error))}")
    if failed and len(failed) == len(outcomes):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("index")(index_command)
