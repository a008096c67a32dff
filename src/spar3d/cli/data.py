"""``spar3d index-data | mix | export | show | stats``: the training-data side of SPAR-7M."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from spar3d.data.export import Prepared

EXPORT_FORMATS = ("llava", "sharegpt", "internvl", "hf")


def _sources(values: list[str] | None) -> list[str] | None:
    # Accept both "--sources a --sources b" and "--sources a,b".
    out = [s for v in values or [] for s in v.split(",") if s]
    return out or None


def index_data_command(
    root: Annotated[
        Path, typer.Argument(help="SPAR-7M root (the folder holding scannet/, rxr/, ...).")
    ],
    sources: Annotated[
        list[str] | None, typer.Option(help="Sources to index (default: all).")
    ] = None,
    split: Annotated[str, typer.Option(help="train or val.")] = "train",
    out: Annotated[Path, typer.Option(help="Folder for <source>_<N>k.json.")] = Path("data_jsons"),
    fix_names: Annotated[
        bool, typer.Option(help="Rename files whose <count> in the name is stale.")
    ] = False,
) -> None:
    """Build InternVL-style training indexes (data_json), one per source."""
    from rich.console import Console

    from spar3d.data.index_data import build_index, write_indexes

    console = Console()
    result = build_index(root, _sources(sources), split, fix_names=fix_names)
    for st in result.stale:
        action = f"renamed to {st.fixed_path.name}" if fix_names else "use --fix-names to rename"
        console.print(
            f"[yellow]stale count[/] {st.path}: name says {st.declared}, file has {st.actual} "
            f"lines ({action})"
        )
    for path in write_indexes(result, out):
        console.print(f"wrote {path}")


def mix_command(
    indexes: Annotated[list[Path], typer.Argument(help="Per-source data_json files to mix.")],
    source_ratio: Annotated[
        list[str] | None, typer.Option(help="SOURCE=RATIO (repeatable).")
    ] = None,
    format_ratio: Annotated[
        list[str] | None, typer.Option(help="FORMAT=RATIO (repeatable).")
    ] = None,
    ratios: Annotated[
        Path | None, typer.Option(help="YAML with source_ratios / format_ratios.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the mixed data_json.")] = Path("data_jsons"),
    name: Annotated[
        str | None, typer.Option(help="File name (default: SPAR-style from ratios).")
    ] = None,
    materialize: Annotated[
        int | None, typer.Option(help="Also write N sampled, shuffled lines as JSONL.")
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
) -> None:
    """Mix data_jsons with per-source and per-format ratios (repeat_time multiplied)."""
    from rich.console import Console

    from spar3d.data.mix import MixSpec, mix_indexes, parse_ratio_flags
    from spar3d.data.mix import materialize as write_lines
    from spar3d.io import write_json

    spec = MixSpec.from_yaml(ratios) if ratios else MixSpec()
    spec = spec.merged(
        MixSpec(
            parse_ratio_flags(source_ratio or [], "source"),
            parse_ratio_flags(format_ratio or [], "format"),
        )
    )
    result = mix_indexes(indexes, spec)
    path = out / (name or result.name)
    write_json(path, result.data)
    console = Console()
    console.print(f"wrote {path}: {len(result.data)} entries, {result.total:,} samples with repeat")
    if materialize is not None or materialize_all:
        target = jsonl or path.with_suffix(".jsonl")
        counts = write_lines(
            result.data,
            target,
            None if materialize_all else materialize,
            seed,
            base_dir=base_dir,
            tag=tag,
        )
        console.print(f"wrote {target}: {sum(counts.values()):,} lines")


def export_command(
    src: Annotated[
        Path, typer.Argument(help="SPAR-7M root or a JSONL (QA file or materialised mix).")
    ],
    out: Annotated[Path, typer.Option(help="Output folder (image paths are relative to it).")],
    to: Annotated[str, typer.Option("--format", help="llava, sharegpt, internvl or hf.")] = "llava",
    draw_markers: Annotated[
        bool,
        typer.Option(
            help="Draw markers into the images (default). --no-draw-markers keeps the raw "
            "images and the marker fields, and warns: the text still refers to the markers."
        ),
    ] = True,
    sources: Annotated[
        list[str] | None, typer.Option(help="Sources of a tree (default: all).")
    ] = None,
    split: Annotated[str, typer.Option(help="Split of a tree.")] = "train",
    limit: Annotated[int | None, typer.Option(help="Read at most N samples.")] = None,
    tasks: Annotated[
        list[str] | None, typer.Option(help="Keep only these task types (repeatable or a,b).")
    ] = None,
    max_images: Annotated[
        int | None, typer.Option(help="Keep samples with at most N images (1 for LLaVA-1.5).")
    ] = None,
    placeholders: Annotated[
        str,
        typer.Option(
            help="internvl: numbered (Image-1: <image>), plain (<image>) or none (SPAR's own "
            "placeholder-free form)."
        ),
    ] = "numbered",
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
) -> None:
    """Export samples for a trainer: LLaVA JSON, ShareGPT (LLaMA-Factory), InternVL
    (meta JSON + JSONL) or a Hugging Face dataset (Parquet shards + card)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from spar3d.data.export import ExportReport, prepare_samples
    from spar3d.data.sample import iter_samples
    from spar3d.errors import ConfigError
    from spar3d.writers.internvl import PLACEHOLDER_STYLES

    if to not in EXPORT_FORMATS:
        raise ConfigError(f"--format must be one of {EXPORT_FORMATS}, got {to!r}")
    if max_images is not None and max_images < 0:
        raise ConfigError(f"--max-images must be >= 0, got {max_images}")
    if placeholders not in PLACEHOLDER_STYLES:
        raise ConfigError(
            f"--placeholders must be one of {PLACEHOLDER_STYLES}, got {placeholders!r}"
        )
    console = Console(stderr=True)
    samples = iter_samples(src, _sources(sources), split, limit=limit, images_root_=images_root)
    report = ExportReport()
    records = prepare_samples(
        samples, out, draw=draw_markers, tasks=_sources(tasks), max_images=max_images,
        in_memory=to == "hf", report=report, allow_outside=allow_outside_root,
    )  # fmt: skip
    columns = (TextColumn("export"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        job = bar.add_task("export", total=limit)

        def counted() -> Iterator[Prepared]:
            for p in records:
                bar.advance(job)
                yield p

        message = _write_export(to, counted(), out, name, placeholders, rows_per_shard,
                                max_shard_mb, src)  # fmt: skip
    typer.echo(f"{message}: {report.exported} samples")
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


def _write_export(
    to: str,
    records: Iterable[Prepared],
    out: Path,
    name: str,
    placeholders: str,
    rows_per_shard: int,
    max_shard_mb: int,
    src: Path,
) -> str:
    if to == "llava":
        from spar3d.writers.llava import write_llava

        write_llava(records, out / f"{name}.json")
        return f"wrote {out / f'{name}.json'} (image root: {out})"
    if to == "sharegpt":
        from spar3d.writers.sharegpt import write_sharegpt

        write_sharegpt(records, out, name)
        return f"wrote {out / f'{name}.json'} and {out / 'dataset_info.json'}"
    if to == "internvl":
        from spar3d.writers.internvl import write_internvl

        jsonl, meta, _ = write_internvl(records, out, name, placeholders)
        return f"wrote {jsonl} and {meta}"
    from spar3d.writers.hf_dataset import write_hf_dataset

    shards = write_hf_dataset(
        records, out, rows_per_shard=rows_per_shard, max_shard_bytes=max_shard_mb * 2**20,
        card={"source": src.as_posix(), "command": f"spar3d export --format hf {src.as_posix()}"},
    )  # fmt: skip
    return f"wrote {len(shards)} Parquet shard(s) under {out / 'data'} and {out / 'README.md'}"


def show_command(
    src: Annotated[
        Path, typer.Argument(help="SPAR-7M root, a JSONL, a benchmark or a run folder.")
    ],
    out: Annotated[Path, typer.Option(help="Folder for index.html and thumbnails.")],
    per_file: Annotated[
        int, typer.Option(help="Samples per QA file (per JSONL: the first N).")
    ] = 5,
    limit: Annotated[int | None, typer.Option(help="At most N samples in all.")] = None,
    sources: Annotated[
        list[str] | None, typer.Option(help="Sources of a tree (default: all).")
    ] = None,
    split: Annotated[str, typer.Option(help="Split of a tree.")] = "train",
    images_root: Annotated[Path | None, typer.Option(help="Images root for a bare JSONL.")] = None,
    run: Annotated[
        Path | None, typer.Option(help="A run folder to show beside a benchmark.")
    ] = None,
    flags: Annotated[Path | None, typer.Option(help="Flags JSONL from `spar3d verify`.")] = None,
    page_size: Annotated[int, typer.Option(help="Samples per page.")] = 50,
) -> None:
    """Write a static HTML gallery (paged, lazy thumbnails, filters in the URL): images with
    markers, question, answer, provenance; benchmarks and runs too."""
    from spar3d.data.sample import iter_samples
    from spar3d.errors import ConfigError
    from spar3d.verify.inputs import is_bench
    from spar3d.viz.show import write_gallery, write_gallery_from

    if page_size < 1:
        raise ConfigError("--page-size must be >= 1")
    if src.is_dir() and (is_bench(src) or (src / "predictions.jsonl").is_file() or run or flags):
        path = write_gallery_from(src, out, run=run, flags=flags, split=split, limit=limit,
                                  page_size=page_size)  # fmt: skip
    else:
        per = per_file if src.is_dir() else (limit or per_file)
        samples = iter_samples(src, _sources(sources), split, per, limit, images_root)
        path = write_gallery(samples, out, page_size=page_size)
    typer.echo(f"wrote {path}")


def stats_command(
    root: Annotated[Path, typer.Argument(help="SPAR-7M root.")],
    sources: Annotated[list[str] | None, typer.Option(help="Sources (default: all).")] = None,
    split: Annotated[str, typer.Option(help="train or val.")] = "train",
    max_per_file: Annotated[int, typer.Option(help="Answers parsed per file (0: all).")] = 1000,
    out: Annotated[Path | None, typer.Option(help="Folder for stats.json and PNG plots.")] = None,
) -> None:
    """Counts per source/task/format and answer distributions."""
    from rich.console import Console

    from spar3d.viz.stats import compute_stats, letters_table, stats_table, write_stats

    stats = compute_stats(root, _sources(sources), split, max_per_file or None)
    console = Console()
    console.print(stats_table(stats))
    if stats.letters:
        console.print(letters_table(stats))
    if out is not None:
        for path in write_stats(stats, out):
            console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add the data commands to the ``spar3d`` app."""
    app.command("index-data")(index_data_command)
    app.command("mix")(mix_command)
    app.command("export")(export_command)
    app.command("show")(show_command)
    app.command("stats")(stats_command)
