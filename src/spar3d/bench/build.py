"""Build a SPAR-Bench-style benchmark from a generated validation split.

For each of the 20 SPAR-Bench tasks, ``per_task`` samples (400 by default, 50 for ``tiny``) are
drawn from ``<root>/<source>/qa_jsonl/<split>/<task>/<format>/*.jsonl`` in the format the bench
scores (the ``format`` column of :mod:`spar3d.task_table`: ``fill`` for numeric tasks and
view_change_infer, ``select`` for multiple-choice tasks),
balanced three ways:

* answers: multiple-choice samples are stratified by correct letter (and number of options, so
  that a fixed letter scores exactly the uniform chance ``mean(1 / options)``), numeric samples by answer
  quantile bin (``NUMERIC_BINS``), and strata are taken in turn, so no letter or numeric range
  dominates and a "frequency" baseline gains little;
* scenes: inside a stratum, scenes are taken in turn (shuffled with the seed);
* the draw is deterministic for a seed.

Markers are drawn into the images (benchmark images carry them, docs/formats.md §4) with
:mod:`spar3d.markers.draw`, and the rows are written as Parquet with exactly SPAR-Bench's
columns ``id, img_type, format_type, task, source, image, question, answer`` plus the Hugging Face
feature metadata that makes ``datasets.load_dataset("parquet", ...)`` decode ``image`` as a list
of images. Provenance (``meta`` of each sample, the original sample id, its marker fields) goes to a sidecar
``provenance.jsonl`` keyed by the integer id, so the Parquet keeps SPAR-Bench's schema.
"""

from __future__ import annotations

import io
import json
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spar3d.bench.scoring.tasks import ALL_TASKS
from spar3d.data.layout import images_root, scan_tree
from spar3d.data.sample import question_answer, scene_of
from spar3d.errors import ConfigError, InputError
from spar3d.io import (
    FileSet,
    atomic_open,
    file_set,
    locks_output,
    read_jsonl,
    write_json,
    write_jsonl,
)
from spar3d.task_table import bench_row
from spar3d.verify.inputs import marker_fields

BENCH_COLUMNS = ("id", "img_type", "format_type", "task", "source", "image", "question", "answer")
NUMERIC_BINS = 4
VARIANTS = {"full": 400, "tiny": 50}
PARQUET_NAME = "test-00000-of-00001.parquet"

HF_FEATURES = {
    "id": {"dtype": "int64", "_type": "Value"},
    "img_type": {"dtype": "string", "_type": "Value"},
    "format_type": {"dtype": "string", "_type": "Value"},
    "task": {"dtype": "string", "_type": "Value"},
    "source": {"dtype": "string", "_type": "Value"},
    "image": {"feature": {"_type": "Image"}, "_type": "Sequence"},
    "question": {"dtype": "string", "_type": "Value"},
    "answer": {"dtype": "string", "_type": "Value"},
}


def bench_format(task: str) -> str:
    """The answer format a benchmark task is scored in (its row's ``format``)."""
    fmt = bench_row(task).format
    assert fmt is not None  # a benchmark row always has a format
    return fmt


@dataclass
class BuildSummary:
    """What a build wrote.

    Attributes:
        path: The Parquet file.
        counts: Samples per task.
        available: Candidate samples per task in the split.
        missing: Bench tasks with no candidates at all.
        excluded: Candidates per task left out because a flags file flags them.
    """

    path: Path
    counts: dict[str, int] = field(default_factory=dict)
    available: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)


def _stratum_keys(task: str, answers: list[str], questions: list[str] | None = None) -> list[str]:
    kind = bench_row(task).kind
    if kind == "choice":
        from spar3d.bench.scoring.choice import parse_options

        counts = [len(parse_options(q)) for q in questions] if questions else [0] * len(answers)
        return [f"{k}{a.strip()[:1].upper()}" for k, a in zip(counts, answers, strict=True)]
    if kind == "numeric":
        values = np.array([_first_float(a) for a in answers])
        finite = np.isfinite(values)
        if finite.sum() < NUMERIC_BINS:
            return ["all"] * len(answers)
        edges = np.quantile(values[finite], np.linspace(0, 1, NUMERIC_BINS + 1)[1:-1])
        bins = np.searchsorted(edges, np.where(finite, values, edges[0]), side="right")
        return [f"bin{b}" for b in bins]
    return ["all"] * len(answers)


def _first_float(text: str) -> float:
    import re

    m = re.search(r"-?\d+(?:\.\d+)?", text)
    return float(m.group()) if m else float("nan")


def balanced_pick(
    strata: list[str],
    scenes: list[str],
    n: int,
    rng: np.random.Generator,
    groups: list[str] | None = None,
) -> list[int]:
    """Indices of ``n`` items taken in turn from each stratum, and inside it from each scene.

    With ``groups`` (one key per stratum's items, e.g. the number of options of a choice
    question), strata are first taken in whole rounds per group (one item of each of its
    strata), and only while a whole round fits in ``n``: a group stops as soon as one of its
    strata runs dry, so every stratum of a group contributes equally and a letter that every
    question offers scores exactly the uniform chance. A group named by a number ``k`` takes
    part only when it has ``k`` strata (every letter of a k-option question). When less than the
    largest group's round is missing, fewer than ``n`` items are returned; when more is missing,
    it is filled from the rest in turn.
    """
    by: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, (s, sc) in enumerate(zip(strata, scenes, strict=True)):
        by[s][sc].append(i)
    queues: list[list[int]] = []
    for s in sorted(by):
        scene_lists = [list(rng.permutation(by[s][sc])) for sc in sorted(by[s])]
        order = rng.permutation(len(scene_lists))
        merged: list[int] = []
        depth = max(len(x) for x in scene_lists)
        for d in range(depth):
            merged.extend(int(scene_lists[k][d]) for k in order if d < len(scene_lists[k]))
        queues.append(merged)
    picked: list[int] = []
    taken = [0] * len(queues)
    if groups is not None:
        group_of = {s: g for s, g in zip(strata, groups, strict=True)}
        keys = sorted(by)
        members = Counter(group_of[k] for k in keys)
        # a group named by a number k (options) takes part only with all k letters present
        live = sorted(g for g, m in members.items() if not g.isdigit() or int(g) == m)
        while live:
            for g in [live[i] for i in rng.permutation(len(live))]:
                round_ = [q for q in rng.permutation(len(queues)) if group_of[keys[q]] == g]
                if len(picked) + len(round_) > n:  # only whole rounds: try a smaller group
                    live.remove(g)
                    continue
                for q in round_:
                    picked.append(queues[q][taken[q]])
                    taken[q] += 1
                if any(taken[q] >= len(queues[q]) for q in round_):
                    live.remove(g)  # a dry stratum ends the group's rounds
        if picked and n - len(picked) < max(members.values()):
            return picked  # less than a round short: a partial round would unbalance letters
    pos = 0
    while len(picked) < n and any(taken[q] + pos < len(queues[q]) for q in range(len(queues))):
        for q in rng.permutation(len(queues)):
            if taken[q] + pos < len(queues[q]) and len(picked) < n:
                picked.append(queues[q][taken[q] + pos])
        pos += 1
    return picked


IMAGE_FORMATS: dict[str, tuple[str, dict[str, Any]]] = {
    "PNG": ("png", {"optimize": False}),
    "JPEG": ("jpg", {"quality": 95}),
}


def encode_image(image: Any, fmt: str = "PNG") -> bytes:
    """A PIL image as PNG (lossless) or JPEG (quality 95) bytes for a bench row's ``image``."""
    _, options = IMAGE_FORMATS[fmt]
    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return buf.getvalue()


ROW_GROUP_ROWS = 64  # small row groups: a reader can fetch one sample's images cheaply


def image_cells(images: Iterable[Any], row_id: int, fmt: str = "PNG") -> list[dict[str, Any]]:
    """The ``image`` cell of a row: ``{bytes, path}`` structs, as ``datasets`` stores images.

    ``images`` are PIL images (encoded as ``fmt``) or already-encoded PNG / JPEG bytes (kept).
    """
    cells = []
    for k, im in enumerate(images):
        if isinstance(im, bytes):
            ext = "jpg" if im[:2] == b"\xff\xd8" else "png"
            data = im
        else:
            ext, data = IMAGE_FORMATS[fmt][0], encode_image(im, fmt)
        cells.append({"bytes": data, "path": f"{row_id}_{k}.{ext}"})
    return cells


def empty_rows() -> dict[str, list[Any]]:
    return {c: [] for c in BENCH_COLUMNS}


def append_row(
    rows: dict[str, list[Any]],
    row_id: int,
    task: str,
    source: str,
    images: list[Any],
    question: str,
    answer: str,
    *,
    fmt: str = "PNG",
) -> None:
    """Append one benchmark row; ``images`` are PIL images (markers drawn) or encoded bytes."""
    rows["id"].append(row_id)
    rows["img_type"].append("multi-view" if len(images) > 1 else "single-view")
    rows["format_type"].append(bench_format(task))
    rows["task"].append(task)
    rows["source"].append(source)
    rows["image"].append(image_cells(images, row_id, fmt))
    rows["question"].append(question)
    rows["answer"].append(answer)


def write_bench(
    out_dir: str | Path,
    rows: dict[str, list[Any]],
    provenance: list[dict[str, Any]],
    info: dict[str, Any],
    *,
    extra_columns: tuple[str, ...] = (),
    extra_json: dict[str, Any] | None = None,
) -> Path:
    """Write a benchmark folder, committed together (:func:`spar3d.io.file_set`): the Parquet
    under ``data/`` (SPAR-Bench's columns, then ``extra_columns`` as strings),
    ``provenance.jsonl``, ``bench_info.json`` and ``extra_json`` (file name -> JSON content).
    The one writer of every benchmark spar3d builds (SPAR-Bench, grounding, the BEV probe, a
    reviewed export); returns the Parquet's path."""
    out_dir = Path(out_dir)
    path = out_dir / "data" / PARQUET_NAME
    with file_set(out_dir) as staged:
        write_bench_parquet(path, rows, files=staged, extra_columns=extra_columns)
        write_jsonl(out_dir / "provenance.jsonl", provenance, files=staged)
        write_json(
            out_dir / "bench_info.json",
            {**info, "columns": [*BENCH_COLUMNS, *extra_columns]},
            files=staged,
        )
        for name, doc in (extra_json or {}).items():
            write_json(out_dir / name, doc, files=staged)
    return path


def write_bench_parquet(
    path: str | Path,
    rows: dict[str, list[Any]],
    files: FileSet | None = None,
    *,
    extra_columns: tuple[str, ...] = (),
) -> Path:
    """Write benchmark rows as Parquet with SPAR-Bench's columns and HF feature metadata
    (atomically, or staged in ``files`` to change together with the sidecar files)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    image_type = pa.list_(pa.struct([("bytes", pa.binary()), ("path", pa.string())]))
    fields = [
        ("id", pa.int64()),
        ("img_type", pa.string()),
        ("format_type", pa.string()),
        ("task", pa.string()),
        ("source", pa.string()),
        ("image", image_type),
        ("question", pa.string()),
        ("answer", pa.string()),
    ] + [(c, pa.string()) for c in extra_columns]
    features = {**HF_FEATURES, **{c: {"dtype": "string", "_type": "Value"} for c in extra_columns}}
    schema = pa.schema(
        fields, metadata={"huggingface": json.dumps({"info": {"features": features}})}
    )
    table = pa.Table.from_pydict(rows, schema=schema)
    # Encoded images do not compress: skipping snappy on their bytes saves most of the write.
    compression = {c: "snappy" for c in (*BENCH_COLUMNS, *extra_columns) if c != "image"}
    compression.update({"image.list.element.bytes": "none", "image.list.element.path": "snappy"})
    with files.open(path, "wb") if files is not None else atomic_open(path, "wb") as fh:
        pq.write_table(table, fh, row_group_size=ROW_GROUP_ROWS, compression=compression)
    return Path(path)


@locks_output("out_dir", "spar3d bench build")
def build_bench(
    root: str | Path,
    out_dir: str | Path,
    *,
    split: str = "val",
    sources: Iterable[str] | None = None,
    per_task: int | None = None,
    variant: str = "full",
    tasks: Iterable[str] | None = None,
    seed: int = 0,
    exclude: Collection[str] | None = None,
    progress: bool = False,
) -> BuildSummary:
    """Sample, draw markers and write the benchmark Parquet (see the module docstring).

    ``progress`` shows one step per task (:mod:`spar3d.progress`).

    ``exclude`` holds sample keys ``<source>/<split>/<task>/<format>/<id>`` (the keys of a
    ``spar3d verify`` flags file) that are left out before sampling.
    """
    from spar3d.markers.draw import draw_sample

    if variant not in VARIANTS:
        raise ConfigError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
    n_per_task = per_task if per_task is not None else VARIANTS[variant]
    wanted = list(tasks) if tasks else list(ALL_TASKS)
    unknown = sorted(set(wanted) - set(ALL_TASKS))
    if unknown:
        raise ConfigError(f"not SPAR-Bench tasks: {unknown}; known: {list(ALL_TASKS)}")
    files = [
        f
        for f in scan_tree(root, sources, split)
        if f.task in wanted and f.format == bench_format(f.task)
    ]
    out_dir = Path(out_dir)
    summary = BuildSummary(out_dir / "data" / PARQUET_NAME)
    rng = np.random.default_rng(seed)
    rows = empty_rows()
    provenance: list[dict[str, Any]] = []
    next_id = 0
    from spar3d.progress import Progress

    for task in Progress("bench build (tasks)", len(wanted), enabled=progress).track(wanted):
        cands: list[tuple[str, dict[str, Any], str]] = []
        for f in (f for f in files if f.task == task):
            for s in read_jsonl(f.path):
                if exclude and f"{f.source}/{split}/{task}/{f.format}/{s.get('id')}" in exclude:
                    summary.excluded[task] = summary.excluded.get(task, 0) + 1
                    continue
                cands.append((f.source, s, str(f.path)))
        summary.available[task] = len(cands)
        if not cands:
            summary.missing.append(task)
            continue
        qa = []
        for _, s, where in cands:
            try:
                qa.append(question_answer(s))
            except ValueError as exc:
                raise InputError(f"{where}: {exc}") from None
        strata = _stratum_keys(task, [a for _, a in qa], [q for q, _ in qa])
        groups = [k[:-1] for k in strata] if bench_row(task).kind == "choice" else None
        picked = balanced_pick(
            strata, [scene_of(s) for _, s, _ in cands], n_per_task, rng, groups
        )
        for i in sorted(picked):
            source, sample, _ = cands[i]
            question, answer = qa[i]
            drawn = draw_sample(sample, images_root(root, source))
            append_row(rows, next_id, task, source, drawn, question, answer)
            provenance.append(
                {
                    "id": next_id,
                    "sample_id": sample.get("id"),
                    "task": task,
                    "source": source,
                    "image": sample.get("image"),
                    "meta": sample.get("meta", {}),
                    "markers": marker_fields(sample),
                }
            )
            next_id += 1
        summary.counts[task] = len(picked)
    write_bench(
        out_dir,
        rows,
        provenance,
        {
            "root": str(root),
            "split": split,
            "variant": variant,
            "per_task": n_per_task,
            "seed": seed,
            "counts": summary.counts,
            "available": summary.available,
            "missing": summary.missing,
            "excluded": summary.excluded,
        },
    )
    return summary
