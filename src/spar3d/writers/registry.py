"""Export formats behind one signature, in one registry (``spar3d export --format NAME``).

A writer is ``write(records, out_dir, options) -> list[Path]``: it consumes prepared samples
(:class:`spar3d.data.export.Prepared`, images already copied or drawn) and returns the files it
wrote. Built-ins: ``llava`` (one JSON array), ``sharegpt`` (LLaMA-Factory file plus
``dataset_info.json``), ``internvl`` (JSONL + InternVL meta JSON) and ``hf`` (size-bounded
Parquet shards of a Hugging Face dataset, with a dataset card). Another package
adds a format with ``WRITERS.add("name", fn)`` or the ``spar3d.writers`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from spar3d.errors import ConfigError
from spar3d.registry import Registry

if TYPE_CHECKING:
    from spar3d.data.export import Prepared


@dataclass(frozen=True)
class ExportOptions:
    """Settings a writer may read.

    Attributes:
        name: Dataset name: the file name stem (llava, sharegpt, internvl) and the
            ``dataset_info`` key.
        rows_per_shard: Most rows per Parquet shard (hf).
        placeholders: ``<image>`` placeholder style of the internvl JSONL.
        max_shard_mb: A Parquet shard is closed once its image bytes reach this (hf).
        source: What was exported, for the dataset card (hf).
    """

    name: str = "spar3d"
    rows_per_shard: int = 100_000
    placeholders: str = "numbered"
    max_shard_mb: int = 500
    source: str = ""

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or self.name in (".", ".."):
            raise ConfigError(f"--name must be a plain file name, got {self.name!r}")
        if self.rows_per_shard < 1:
            raise ConfigError(f"--rows-per-shard must be >= 1, got {self.rows_per_shard}")
        if self.max_shard_mb < 1:
            raise ConfigError(f"--max-shard-mb must be >= 1, got {self.max_shard_mb}")


Writer = Callable[["Iterable[Prepared]", Path, ExportOptions], list[Path]]
WRITERS: Registry[Writer] = Registry("export format", "spar3d.writers")


@WRITERS.register("llava")
def _llava(records: Iterable[Prepared], out_dir: Path, options: ExportOptions) -> list[Path]:
    from spar3d.writers.llava import write_llava

    path = out_dir / f"{options.name}.json"
    write_llava(records, path)
    return [path]


@WRITERS.register("sharegpt")
def _sharegpt(records: Iterable[Prepared], out_dir: Path, options: ExportOptions) -> list[Path]:
    from spar3d.writers.sharegpt import write_sharegpt

    write_sharegpt(records, out_dir, options.name)
    return [out_dir / f"{options.name}.json", out_dir / "dataset_info.json"]


@WRITERS.register("internvl")
def _internvl(records: Iterable[Prepared], out_dir: Path, options: ExportOptions) -> list[Path]:
    from spar3d.writers.internvl import write_internvl

    jsonl, meta, _ = write_internvl(records, out_dir, options.name, options.placeholders)
    return [jsonl, meta]


@WRITERS.register("hf")
def _hf(records: Iterable[Prepared], out_dir: Path, options: ExportOptions) -> list[Path]:
    from spar3d.writers.hf_dataset import write_hf_dataset

    card = {"source": options.source, "command": f"spar3d export --format hf {options.source}"}
    shards = write_hf_dataset(
        records, out_dir, rows_per_shard=options.rows_per_shard,
        max_shard_bytes=options.max_shard_mb * 2**20, card=card,
    )  # fmt: skip
    return [*shards, Path(out_dir) / "README.md"]
