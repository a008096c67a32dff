"""Build the InternVL-style training ``data_json`` files from a SPAR-7M tree (docs/formats.md §3).

One JSON object per source, keyed ``<source>_<task>_<format>``, saved as
``<out>/<source>_<total // 1000>k.json`` (the README's ``scannet_7799k.json``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spar3d.data.layout import QAFile, count_lines, images_root, scan_tree
from spar3d.errors import InputError
from spar3d.io import locks_output, write_json


@dataclass(frozen=True)
class StaleCount:
    """A file whose ``<count>`` in the name differs from its real number of lines."""

    path: Path
    declared: int
    actual: int

    @property
    def fixed_path(self) -> Path:
        """Where ``--fix-names`` moves the file: ``<format>_<actual>.jsonl``."""
        fmt = self.path.name.rsplit("_", 1)[0]
        return self.path.with_name(f"{fmt}_{self.actual}.jsonl")


@dataclass
class DataJsonResult:
    """Per-source indexes and the stale names found while counting."""

    indexes: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    stale: list[StaleCount] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


def data_json_name(source: str, total: int) -> str:
    """``<source>_<total // 1000>k.json`` as the SPAR README names it (``rxr_11k.json``)."""
    return f"{source}_{total // 1000}k.json"


def _entry(qa: QAFile, root: str | Path, path: Path, length: int) -> dict[str, Any]:
    # Paths stay relative to how ROOT was given (SPAR writes "spar/scannet/images"), so an
    # index built from a symlinked ./spar keeps working wherever that link points.
    return {
        "root": images_root(root, qa.source).as_posix(),
        "annotation": path.as_posix(),
        "data_augment": False,
        "repeat_time": 1,
        "length": length,
    }


def build_data_json(
    root: str | Path,
    sources: Iterable[str] | None = None,
    split: str = "train",
    *,
    fix_names: bool = False,
    progress: bool = False,
) -> DataJsonResult:
    """Count every QA file's lines and build one index per source.

    Args:
        root: SPAR-7M root as the user gave it (kept verbatim in the written paths).
        sources: Sources to index; default every folder with a ``qa_jsonl``.
        split: ``train`` or ``val``.
        fix_names: Rename files whose name states a stale count to ``<format>_<actual>.jsonl``.
            Without it stale names are only reported in ``DataJsonResult.stale``.
        progress: Show one step per QA file counted (:mod:`spar3d.progress`).

    Raises:
        FileExistsError: ``fix_names`` would overwrite an existing file.
    """
    from spar3d.progress import progress as display

    result = DataJsonResult()
    files = scan_tree(root, sources, split)
    for qa in display("data-json (QA files)", len(files), progress).track(files):
        n = count_lines(qa.path)
        path = qa.path
        if qa.declared_count is not None and qa.declared_count != n:
            stale = StaleCount(qa.path, qa.declared_count, n)
            result.stale.append(stale)
            if fix_names:
                if stale.fixed_path.exists():
                    raise FileExistsError(f"cannot rename {qa.path}: {stale.fixed_path} exists")
                os.replace(qa.path, stale.fixed_path)
                path = stale.fixed_path
        index = result.indexes.setdefault(qa.source, {})
        if qa.key in index:
            raise InputError(
                f"two QA files for key {qa.key!r}: {index[qa.key]['annotation']} and {path}"
            )
        index[qa.key] = _entry(qa, root, path, n)
    if not result.indexes:
        raise InputError(
            f"{root}: no QA files for split {split!r}"
            + (f" and sources {sorted(sources)}" if sources else "")
            + " (expected <root>/<source>/qa_jsonl/<split>/<task>/<format>/*.jsonl)"
        )
    return result


@locks_output("out_dir", "spar3d data-json")
def write_data_jsons(result: DataJsonResult, out_dir: str | Path = "data_jsons") -> list[Path]:
    """Write each source's index to ``out_dir``; returns the paths written.

    Holds the output folder's lock (``spar3d mix`` writes into the same default folder): a
    second writer of the folder stops with a named error instead of racing this one."""
    out_dir = Path(out_dir)
    result.written = []
    for source, index in result.indexes.items():
        total = sum(e["length"] for e in index.values())
        path = out_dir / data_json_name(source, total)
        write_json(path, index)
        result.written.append(path)
    return result.written
