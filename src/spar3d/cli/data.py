"""``spar3d data-json | mix | export | show | stats``: the training-data side of SPAR-7M."""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spar3d.cli._options import (
    ProgressFlag,
    QuietFlag,
    Split,
    folded,
    names_option,
    open_choice,
)

if TYPE_CHECKING:
    from spar3d.data.export import Prepared

#: The export formats spar3d ships; plugins add more (``spar3d.writers`` entry points).
BUILTIN_FORMATS = ("llava", "sharegpt", "internvl", "hf")


class Placeholders(str, Enum):
    numbered = "numbered"
    plain = "plain"
    none = "none"


def data_json_command(
    root: Annotated[
        Path, typer.Argument(help="SPAR-7M root (the folder holding scannet/, rxr/, ...).")
    ],
    sources: Annotated[
        list[str] | None,
        names_option("--sources", help="Sources to index (default: all)."),
    ] = None,
    split: Annotated[Split, typer.Option(help="Split of the tree.")] = Split.train,
    out: Annotated[Path, typer.Option(help="Folder for <source>_<N>k.json.")] = Path("data_jsons"),
    fix_names: Annotated[
        bool, typer.Option(help="Rename files whose <count> in the name is stale.")
    ] = False,
    progress: ProgressFlag = True,
    quiet: QuietFlag = False,
) -> None:
    """Build InternVL-style training data_json files, one per source."""
    from rich.console import Console

    from spar3d.data.data_json import build_data_json, write_data_jsons

    console = Console()
    result = build_data_json(
        root, sources, split.value, fix_names=fix_names, progress=progress and not quiet
    )
    for st in result.stale:
        action = f"renamed to {st.fixed_path.name}" if fix_names else "use --fix-names to rename"
        console.print(
            f"[yellow]stale count[/] {st.path}: name says {st.declared}, file has {st.actual} "
            f"lines ({action})"
        )
    for path in write_data_jsons(result, out):
        console.print(f"wrote {path}")


def mix_command(
    indexes: Annotated[list[Path], typer.Argument(help="Per-source data_json files to mix.")],
    source_ratio: Annotated[
        list[str] | None, names_option(help="SOURCE=RATIO, e.g. scannet=2,rxr=0.5.")
    ] = None,
    format_ratio: Annotated[
        list[str] | None, names_option(help="FORMAT=RATIO, e.g. select=0.1,fill=0.1.")
    ] = None,
    ratios: Annotated[
        Path | None, typer.Option(help="YAML with source_ratios / format_ratios.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the mixed data_json.")] = Path("data_jsons"),
    name: Annotated[
        str | None, typer.Option(help="File name (default: SPAR-style from ratios).")
    ] = None,
    materialize: Annotated[
        int | None, typer.Option(min=1, help="Also write N sampled, shuffled lines as JSONL.")
    ] = None,
    materialize_all: Annotated[bool, typer.Option(help="Also write every line, shuffled.")] = False,
    jsonl: Annotated[
        Path | None, typer.Option(help="Path of the JSONL (default: next to the mix).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample and shuffle.")] = 0,
    base_dir: Annotated[
        Path, typer.Option(help="What relative annotation paths start from.")
    ] = Path("."),
    tag: Annotated[bool, typer.Option(help="Add data_key/data_root to materialised lines.")] = True,
    allow_outside_root: Annotated[
        bool, typer.Option(help="Read annotation files outside --base-dir.")
    ] = False,
    progress: ProgressFlag = True,
    quiet: QuietFlag = False,
) -> None:
    """Mix data_jsons with per-source and per-format ratios (repeat_time multiplied)."""
    from rich.console import Console

    from spar3d.data.mix import MixSpec, mix_indexes, parse_ratio_flags, write_mix

    spec = MixSpec.from_yaml(ratios) if ratios else MixSpec()
    spec = spec.merged(
        MixSpec(
            parse_ratio_flags(source_ratio or [], "source"),
            parse_ratio_flags(format_ratio or [], "format"),
        )
    )
    result = mix_indexes(indexes, spec)
    path = out / (name or result.name)
    lines = materialize is not None or materialize_all
    target = (jsonl or path.with_suffix(".jsonl")) if lines else None
    counts = write_mix(result, path, jsonl=target, n=None if materialize_all else materialize,
                       seed=seed, base_dir=base_dir, tag=tag, allow_outside=allow_outside_root,
                       progress=progress and not quiet)  # fmt: skip
    console = Console()
    console.print(f"wrote {path}: {len(result.data)} entries, {result.total:,} samples with repeat")
    if counts is not None:
        console.print(f"wrote {target}: {sum(counts.values()):,} lines")


def export_command(
    src: Annotated[
        Path, typer.Argument(help="SPAR-7M root or a JSONL (QA file or materialised mix).")
    ],
    out: Annotated[Path, typer.Option(help="Output folder (image paths are relative to it).")],
    to: Annotated[
        str,
        open_choice("--format", builtin=BUILTIN_FORMATS, group="spar3d.writers", help="Format."),
    ] = "llava",
    draw_markers: Annotated[
        bool,
        typer.Option(
            help="Draw markers into the images (default). --no-draw-markers keeps the raw "
            "images and the marker fields, and warns: the text still refers to the markers."
        ),
    ] = True,
    sources: Annotated[
        list[str] | None,
        names_option("--sources", help="Sources of a tree (default: all)."),
    ] = None,
    split: Annotated[Split, typer.Option(help="Split of a tree.")] = Split.train,
    limit: Annotated[int | None, typer.Option(min=1, help="Read at most N samples.")] = None,
    tasks: Annotated[
        list[str] | None, names_option("--tasks", help="Keep only these task types.")
    ] = None,
    max_images: Annotated[
        int | None, typer.Option(help="Keep samples with at most N images (1 for LLaVA-1.5).")
    ] = None,
    placeholders: Annotated[
        Placeholders,
        typer.Option(
            help="internvl: numbered (Image-1: <image>), plain (<image>) or none (SPAR's own "
            "placeholder-free form)."
        ),
    ] = Placeholders.numbered,
    images_root: Annotated[Path | None, typer.Option(help="Images root for a bare JSONL.")] = None,
    name: Annotated[
        str, typer.Option(help="Dataset name (file name / dataset_info key / meta key).")
    ] = "spar3d",
    rows_per_shard: Annotated[int, typer.Option(help="hf: most rows per Parquet shard.")] = 100_000,
    max_shard_mb: Annotated[
        int, typer.Option(help="hf: close a shard once its images reach this many MiB.")
    ] = 500,
    allow_outside_root: Annotated[
        bool, typer.Option(help="Accept sample image paths that leave their images root.")
    ] = False,
    progress: ProgressFlag = True,
    quiet: QuietFlag = False,
) -> None:
    """Export samples for a trainer: LLaVA JSON, ShareGPT (LLaMA-Factory), InternVL
    (meta JSON + JSONL) or a Hugging Face dataset (Parquet shards + card)."""
    from rich.console import Console

    from spar3d.data.export import ExportReport, prepare_samples
    from spar3d.data.sample import iter_samples
    from spar3d.errors import ConfigError
    from spar3d.progress import progress as display
    from spar3d.writers.registry import WRITERS, ExportOptions

    writer = WRITERS.get(to)  # an unknown format: RegistryError listing the known ones
    if max_images is not None and max_images < 0:
        raise ConfigError(f"--max-images must be >= 0, got {max_images}")
    options = ExportOptions(
        name, rows_per_shard, placeholders=placeholders.value, max_shard_mb=max_shard_mb,
        source=src.as_posix(),
    )  # fmt: skip
    console = Console(stderr=True)
    samples = iter_samples(src, sources, split.value, limit=limit, images_root_=images_root,
                           allow_outside=allow_outside_root)  # fmt: skip
    report = ExportReport()
    records: Iterator[Prepared] = prepare_samples(
        samples, out, draw=draw_markers, tasks=tasks, max_images=max_images,
        in_memory=to == "hf", report=report, allow_outside=allow_outside_root,
    )  # fmt: skip
    bar = display(f"export {to} (samples)", limit, progress and not quiet)
    paths = writer(bar.track(records), out, options)
    shown = ", ".join(str(p) for p in paths[:3]) + (
        f" (+{len(paths) - 3} more)" if len(paths) > 3 else ""
    )
    typer.echo(f"wrote {shown}: {report.exported} samples")
    skipped = sum(report.skipped_task.values()) + sum(report.skipped_images.values())
    if skipped:
        by_images = ", ".join(
            f"{c} with {k} images" for k, c in sorted(report.skipped_images.items())
        )
        console.print(
            f"left out {skipped} of {report.seen} samples"
            + (f" ({by_images})" if by_images else "")
        )
    if report.undrawn_markers:
        console.print(
            f"[yellow]warning[/]: {report.undrawn_markers} samples refer to markers that were not "
            "drawn (--no-draw-markers); the trainer must draw them, as SPAR's own loader does"
        )


def show_command(
    src: Annotated[
        Path, typer.Argument(help="SPAR-7M root, a JSONL, a benchmark or a run folder.")
    ],
    out: Annotated[Path, typer.Option(help="Folder for index.html and thumbnails.")],
    per_file: Annotated[
        int, typer.Option(min=1, help="Samples per QA file (per JSONL: the first N).")
    ] = 5,
    limit: Annotated[int | None, typer.Option(min=1, help="At most N samples in all.")] = None,
    sources: Annotated[
        list[str] | None,
        names_option("--sources", help="Sources of a tree (default: all)."),
    ] = None,
    split: Annotated[Split, typer.Option(help="Split of a tree.")] = Split.train,
    images_root: Annotated[Path | None, typer.Option(help="Images root for a bare JSONL.")] = None,
    run: Annotated[
        Path | None, typer.Option(help="A run folder to show beside a benchmark.")
    ] = None,
    flags: Annotated[Path | None, typer.Option(help="Flags JSONL from `spar3d verify`.")] = None,
    page_size: Annotated[int, typer.Option(help="Samples per page.")] = 50,
    allow_outside_root: Annotated[
        bool, typer.Option(help="Accept a JSONL's data_root outside the current folder.")
    ] = False,
    progress: ProgressFlag = True,
    quiet: QuietFlag = False,
) -> None:
    """Write a static HTML gallery (paged, lazy thumbnails, filters in the URL): images with
    markers, question, answer, provenance; benchmarks and runs too."""
    from spar3d.data.sample import iter_samples
    from spar3d.errors import ConfigError
    from spar3d.verify.inputs import is_bench
    from spar3d.viz.show import write_gallery, write_gallery_from

    if page_size < 1:
        raise ConfigError("--page-size must be >= 1")
    shown = progress and not quiet
    if src.is_dir() and (is_bench(src) or (src / "predictions.jsonl").is_file() or run or flags):
        path = write_gallery_from(src, out, run=run, flags=flags, split=split.value, limit=limit,
                                  page_size=page_size, progress=shown)  # fmt: skip
    else:
        per = per_file if src.is_dir() else (limit or per_file)
        samples = iter_samples(src, sources, split.value, per, limit, images_root,
                               allow_outside=allow_outside_root)  # fmt: skip
        path = write_gallery(samples, out, page_size=page_size, progress=shown, total=limit)
    typer.echo(f"wrote {path}")


def stats_command(
    root: Annotated[Path, typer.Argument(help="SPAR-7M root.")],
    sources: Annotated[
        list[str] | None, names_option("--sources", help="Sources (default: all).")
    ] = None,
    split: Annotated[Split, typer.Option(help="Split of the tree.")] = Split.train,
    max_per_file: Annotated[
        int, typer.Option(min=0, help="Answers parsed per file (0: all).")
    ] = 1000,
    out: Annotated[Path | None, typer.Option(help="Folder for stats.json and PNG plots.")] = None,
    progress: ProgressFlag = True,
    quiet: QuietFlag = False,
) -> None:
    """Counts per source/task/format and answer distributions."""
    from rich.console import Console

    from spar3d.viz.stats import compute_stats, letters_table, stats_table, write_stats

    stats = compute_stats(
        root, sources, split.value, max_per_file or None, progress=progress and not quiet
    )
    console = Console()
    console.print(folded(stats_table(stats)))
    if stats.letters:
        console.print(folded(letters_table(stats)))
    if out is not None:
        for path in write_stats(stats, out):
            console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add the data commands to the ``spar3d`` app."""
    app.command("data-json")(data_json_command)
    app.command("mix")(mix_command)
    app.command("export")(export_command)
    app.command("show")(show_command)
    app.command("stats")(stats_command)
