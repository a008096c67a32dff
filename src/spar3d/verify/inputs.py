"""Samples to verify, from a SPAR-7M tree or from a benchmark folder, in one shape (:class:`Item`).

* A tree: every QA file of the split (``<root>/<source>/qa_jsonl/<split>/<task>/<format>/``);
  an item's key is ``<source>/<split>/<task>/<format>/<id>`` (sample ids repeat across tasks).
* A benchmark (``bench build`` output): the Parquet's text columns joined with
  ``provenance.jsonl`` (``meta``, the original sample id and the marker fields); the key is
  ``bench/<id>``. Image bytes are never read here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spar3d.errors import InputError
from spar3d.io import read_jsonl, settle_commit

MARKER_FIELD = re.compile(r"^(red|blue|green|yellow)_(point|bbox)$|^(point|bbox)_(list|img_idx)$")


@dataclass
class Item:
    """One sample as the verifier sees it.

    Attributes:
        key: Unique key (see the module docstring); flags and decisions refer to it.
        sample_id: The sample's own ``id``.
        task: Task name.
        format: ``fill``, ``select``, ``sentence`` or ``judge``.
        source: Dataset name.
        scene: Scene id.
        question: The question text as shown.
        answer: The ground-truth answer text (a letter for ``select``).
        frames: Frame ids of the sample's images, in order.
        markers: The sample's marker fields (``red_point``, ``point_img_idx``, ...).
        meta: The sample's provenance block (may be empty).
        where: File (and line or id) the item came from, for error messages.
        images: Image paths as written in the sample.
    """

    key: str
    sample_id: str
    task: str
    format: str
    source: str
    scene: str
    question: str
    answer: str
    frames: list[str]
    markers: dict[str, Any]
    meta: dict[str, Any]
    where: str
    images: list[str] = field(default_factory=list)

    def as_sample(self) -> dict[str, Any]:
        """A SPAR-7M-shaped sample dict (for marker placement and drawing)."""
        return {
            "id": self.sample_id,
            "conversations": [
                {"from": "human", "value": self.question},
                {"from": "gpt", "value": self.answer},
            ],
            "image": list(self.images),
            "type": self.task,
            **self.markers,
            "meta": self.meta,
        }


def marker_fields(sample: dict[str, Any]) -> dict[str, Any]:
    """The marker fields of a sample, in the sample's own order (the order the task added them)."""
    return {k: v for k, v in sample.items() if MARKER_FIELD.match(k)}


def frames_of(images: list[str], meta: dict[str, Any]) -> list[str]:
    frames = meta.get("frames")
    if isinstance(frames, list) and len(frames) == len(images):
        return [str(f) for f in frames]
    return [p.rsplit("/", 1)[-1].rsplit(".", 1)[0] for p in images]


def _text(sample: dict[str, Any], where: str) -> tuple[str, str]:
    from spar3d.data.sample import question_answer

    try:
        return question_answer(sample)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None


def is_bench(path: Path) -> bool:
    return (path / "provenance.jsonl").is_file() and (path / "data").is_dir()


def iter_tree(root: Path, split: str = "val", sources: list[str] | None = None) -> Iterator[Item]:
    from spar3d.data.layout import scan_tree

    try:
        files = scan_tree(root, sources, split)
    except FileNotFoundError as exc:
        raise InputError(str(exc)) from None
    if not files:
        raise InputError(f"{root}: no QA files for split {split!r} (<source>/qa_jsonl/{split}/...)")
    for qa in files:
        for lineno, s in enumerate(read_jsonl(qa.path), start=1):
            where = f"{qa.path}:{lineno}"
            q, a = _text(s, where)
            meta: dict[str, Any] = s["meta"] if isinstance(s.get("meta"), dict) else {}
            images = s.get("image") or []
            images = [images] if isinstance(images, str) else list(images)
            sid = str(s.get("id", lineno))
            yield Item(
                key=f"{qa.source}/{qa.split}/{qa.task}/{qa.format}/{sid}",
                sample_id=sid,
                task=str(s.get("type", qa.task)),
                format=qa.format,
                source=qa.source,
                scene=str(meta.get("scene") or (images[0].split("/", 1)[0] if images else "")),
                question=q,
                answer=a,
                frames=frames_of(images, meta),
                markers=marker_fields(s),
                meta=meta,
                where=where,
                images=images,
            )


def bench_parquet(root: Path) -> Path:
    settle_commit(root)  # a rebuild killed mid-commit: read the new set, not a mix
    files = sorted((root / "data").glob("*.parquet"))
    if not files:
        raise InputError(
            f"{root / 'data'}: no Parquet file; is this a `spar3d bench build` output?"
        )
    return files[0]


def read_bench_text(root: Path) -> dict[str, list[Any]]:
    """The bench's columns except ``image`` (read without decoding any image)."""
    import pyarrow.parquet as pq

    path = bench_parquet(root)
    try:
        pf = pq.ParquetFile(path)
        cols = [c for c in pf.schema_arrow.names if c != "image"]
        table: dict[str, list[Any]] = pf.read(columns=cols).to_pydict()
        return table
    except Exception as exc:  # pyarrow raises several unrelated types for a broken file
        raise InputError(f"{path}: cannot read Parquet ({exc})") from None


def read_provenance(root: Path) -> dict[int, dict[str, Any]]:
    settle_commit(root)
    path = root / "provenance.jsonl"
    out: dict[int, dict[str, Any]] = {}
    try:
        for n, row in enumerate(read_jsonl(path), start=1):
            if not isinstance(row.get("id"), int):
                raise InputError(f"{path}:{n}: field 'id' must be an integer")
            out[row["id"]] = row
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return out


def bench_item(root: Path, cols: dict[str, list[Any]], i: int, prov: dict[str, Any]) -> Item:
    """The item of row ``i`` of a benchmark's text columns with its provenance row."""
    n = len(cols["id"])
    bid = int(cols["id"][i])
    meta: dict[str, Any] = prov["meta"] if isinstance(prov.get("meta"), dict) else {}
    images = list(prov.get("image") or [])
    fmt = str(meta.get("format") or (cols.get("format_type") or [""] * n)[i])
    return Item(
        key=f"bench/{bid}",
        sample_id=str(prov.get("sample_id", bid)),
        task=str(cols["task"][i]),
        format=fmt,
        source=str(prov.get("source") or (cols.get("source") or [""] * n)[i]),
        scene=str(meta.get("scene") or (images[0].split("/", 1)[0] if images else "")),
        question=str(cols["question"][i]),
        answer=str(cols["answer"][i]),
        frames=frames_of(images, meta),
        markers=dict(prov.get("markers") or {}),
        meta=meta,
        where=f"{root / 'provenance.jsonl'} id {bid}",
        images=images,
    )


def check_bench_columns(root: Path, cols: dict[str, list[Any]]) -> None:
    for k in ("id", "task", "question", "answer"):
        if k not in cols:
            raise InputError(f"{bench_parquet(root)}: missing column {k!r}")


def iter_bench(root: Path) -> Iterator[Item]:
    cols = read_bench_text(root)
    check_bench_columns(root, cols)
    prov = read_provenance(root)
    for i in range(len(cols["id"])):
        yield bench_item(root, cols, i, prov.get(int(cols["id"][i]), {}))


def iter_items(
    path: str | Path, split: str = "val", sources: list[str] | None = None
) -> Iterator[Item]:
    """Items of a benchmark folder or of a SPAR-7M tree (see the module docstring)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such folder")
    if p.is_dir() and is_bench(p):
        return iter_bench(p)
    if p.is_dir():
        return iter_tree(p, split, sources)
    raise InputError(f"{p}: expected a SPAR-7M tree or a benchmark folder (with provenance.jsonl)")
