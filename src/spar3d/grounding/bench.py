"""Build a grounding benchmark from scene indexes, written like SPAR-Bench (Parquet + provenance).

``OUT/data/test-00000-of-00001.parquet`` has SPAR-Bench's columns (``id, img_type, format_type,
task, source, image, question, answer``; the images are the views' own files, no markers) plus
``context``: the JSON grounding context (:mod:`spar3d.grounding.context`) an answer is lifted and
scored with, so ``spar3d eval`` and ``spar3d ground score`` need nothing but the benchmark.
``OUT/provenance.jsonl`` keeps each sample's ``meta``; ``OUT/proposals.json`` the ground-truth
instance boxes of every scene (the default proposals of refinement, in the format of
:func:`spar3d.grounding.boxes.load_proposals`); ``OUT/bench_info.json`` the settings and counts.

Samples are spread evenly over the scenes (round robin after per-scene generation) and the build
is deterministic for a seed. A scene that cannot be read is reported and skipped.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spar3d.bench.build import PARQUET_NAME, write_bench
from spar3d.errors import ConfigError, InputError
from spar3d.grounding.boxes import Proposal, proposal_to_dict
from spar3d.grounding.scanrefer import ENV_SCANREFER
from spar3d.index.records import SceneIndex, load_index
from spar3d.io import locks_output
from spar3d.task_table import GROUNDING_BENCH, bench_row, bench_tasks
from spar3d.tasks import create_task
from spar3d.tasks.base import SceneView
from spar3d.tasks.grounding import Ground3D, Ground3DScanRefer

#: The grounding tasks, from the task table.
GROUNDING_TASKS: tuple[str, ...] = bench_tasks(GROUNDING_BENCH)
#: Expressions generated from the scene index / ScanRefer descriptions.
GENERATED_TASK: str = Ground3D.spec.name
SCANREFER_TASK: str = Ground3DScanRefer.spec.name


@dataclass
class GroundingBuildSummary:
    """What a build wrote."""

    path: Path
    counts: dict[str, int] = field(default_factory=dict)  # per scene
    skipped: dict[str, str] = field(default_factory=dict)  # scene folder -> reason
    rejected: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@contextmanager
def _scanrefer_env(path: str | Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    old = os.environ.get(ENV_SCANREFER)
    os.environ[ENV_SCANREFER] = str(path)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENV_SCANREFER, None)
        else:
            os.environ[ENV_SCANREFER] = old


def generate_grounding(
    indexes: Sequence[SceneIndex],
    n: int,
    *,
    seed: int = 0,
    task: str = GENERATED_TASK,
    params: dict[str, float] | None = None,
    progress: bool = False,
) -> tuple[list[tuple[SceneIndex, dict[str, Any]]], dict[str, int]]:
    """Up to ``n`` samples spread evenly over the scenes, and the rejection counts."""
    from spar3d.progress import progress as display

    if task not in GROUNDING_TASKS:
        raise ConfigError(f"--task must be one of {', '.join(GROUNDING_TASKS)}, got {task!r}")
    if not indexes:
        return [], {}
    t = create_task(task, params)
    scored = bench_row(task).format  # the benchmark keeps the fixed-format answers only
    per_scene = math.ceil(n / len(indexes)) * len(t.spec.formats)
    lists: list[list[dict[str, Any]]] = []
    rejected: dict[str, int] = {}
    for idx in display("ground build (scenes)", len(indexes), progress).track(indexes):
        samples, stats = t.generate(SceneView(idx), per_scene, seed)
        lists.append([s for s in samples if s["meta"]["format"] == scored])
        for k, v in stats.rejected.items():
            rejected[k] = rejected.get(k, 0) + v
    out: list[tuple[SceneIndex, dict[str, Any]]] = []
    depth = 0
    while len(out) < n and any(depth < len(x) for x in lists):
        for idx, x in zip(indexes, lists, strict=True):
            if depth < len(x) and len(out) < n:
                out.append((idx, x[depth]))
        depth += 1
    return out, rejected


def scene_proposals(index: SceneIndex) -> list[Proposal]:
    """The index's instance boxes as proposals (ground-truth refinement)."""
    return [Proposal(o.box, o.label, 1.0, o.object_id) for o in index.objects]


def _decodable_bytes(path: Path, decoded: set[Path]) -> bytes:
    """The file's bytes, once it is known to decode in full (a truncated JPEG is an OSError that
    names the file, not an image the benchmark carries unread)."""
    data = path.read_bytes()
    if path not in decoded:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as im:
                im.load()
        except (OSError, UnidentifiedImageError, SyntaxError) as exc:
            raise OSError(f"{path}: cannot decode image ({exc})") from None
        decoded.add(path)
    return data


@locks_output("out_dir", "spar3d ground build")
def build_grounding_bench(
    scenes: Sequence[str | Path],
    out_dir: str | Path,
    *,
    n: int = 1000,
    seed: int = 0,
    task: str = GENERATED_TASK,
    params: dict[str, float] | None = None,
    scanrefer: str | Path | None = None,
    progress: bool = False,
) -> GroundingBuildSummary:
    """Generate grounding samples from scene folders (or index files) and write the benchmark."""
    out_dir = Path(out_dir)
    summary = GroundingBuildSummary(out_dir / "data" / PARQUET_NAME)
    indexes: list[SceneIndex] = []
    for s in scenes:
        try:
            indexes.append(load_index(s))
        except (OSError, ValueError) as exc:
            summary.skipped[str(s)] = str(exc)
    if not indexes:
        reasons = "; ".join(list(summary.skipped.values())[:3])
        raise InputError(f"no readable scene index among {len(scenes)} scene(s): {reasons}")
    with _scanrefer_env(scanrefer):
        picked, summary.rejected = generate_grounding(
            indexes, n, seed=seed, task=task, params=params, progress=progress
        )
    rows: dict[str, list[Any]] = {c: [] for c in (
        "id", "img_type", "format_type", "task", "source", "image", "question", "answer", "context"
    )}  # fmt: skip
    provenance: list[dict[str, Any]] = []
    broken: set[str] = set()
    decoded: set[Path] = set()
    for idx, sample in picked:
        if idx.scene_id in broken:
            continue
        meta = sample["meta"]
        try:
            images = [
                {"bytes": _decodable_bytes(Path(idx.scene_dir) / idx.images[i].color_path, decoded),
                 "path": f"{len(rows['id'])}_{k}{Path(idx.images[i].color_path).suffix}"}
                for k, i in enumerate(meta["image_indices"])
            ]  # fmt: skip
        except OSError as exc:
            broken.add(idx.scene_id)
            summary.skipped[str(idx.scene_dir)] = f"image not readable ({exc})"
            continue
        ident = len(rows["id"])
        rows["id"].append(ident)
        rows["img_type"].append("multi-view")
        rows["format_type"].append(meta["format"])
        rows["task"].append(sample["type"])
        rows["source"].append(idx.source)
        rows["image"].append(images)
        rows["question"].append(sample["conversations"][0]["value"])
        rows["answer"].append(sample["conversations"][1]["value"])
        rows["context"].append(json.dumps(meta["quantities"], separators=(",", ":")))
        provenance.append({"id": ident, "sample_id": sample["id"], "task": sample["type"],
                           "source": idx.source, "image": sample["image"], "meta": meta})  # fmt: skip
        summary.counts[idx.scene_id] = summary.counts.get(idx.scene_id, 0) + 1
    if not rows["id"]:  # nothing to write: an empty benchmark is not a result
        reasons = "; ".join(f"{k}: {v}" for k, v in list(summary.skipped.items())[:3])
        raise InputError(f"no grounding sample could be built ({reasons or 'no candidates'})")
    info = {
        "benchmark": GROUNDING_BENCH,
        "scenes": [str(s) for s in scenes],
        "task": task,
        "n": n,
        "seed": seed,
        "params": params or {},
        "counts": summary.counts,
        "skipped": summary.skipped,
        "rejected": summary.rejected,
    }
    proposals = {
        idx.scene_id: [proposal_to_dict(p) for p in scene_proposals(idx)] for idx in indexes
    }
    write_bench(out_dir, rows, provenance, info, extra_columns=("context",),
                extra_json={"proposals.json": proposals})  # fmt: skip
    return summary
