"""Export formats behind one signature, in one registry (``spar3d export --format NAME``).

A writer is ``write(records, out_dir, options) -> list[Path]``: it consumes prepared samples
(:class:`spar3d.data.export.Prepared`, images already copied or drawn) and returns the files it
wrote. Built-ins: ``llava`` (one JSON array), ``sharegpt`` (LLaMA-Factory file plus
``dataset_info.json``) and ``hf`` (Parquet shards of a Hugging Face dataset). Another package
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
        name: Dataset name: the file name stem (llava, sharegpt) and the ``dataset_info`` key.
        rows_per_shard: Rows per Parquet shard (hf).
    """

    name: str = "spar3d"
    rows_per_shard: int = 1000

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or self.name in (".", ".."):
            raise ConfigError(f"--name must be a plain file name, got {self.name!r}")
        if self.rows_per_shard < 1:
            raise ConfigError(f"--rows-per-shard must be >= 1, got {self.rows_per_shard}")


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


@WRITERS.register("hf")
def _hf(records: Iterable[Prepared], out_dir: Path, options: ExportOptions) -> list[Path]:
    from spar3d.writers.hf_dataset import write_hf_dataset

    return write_hf_dataset(records, out_dir, rows_per_shard=options.rows_per_shard)
