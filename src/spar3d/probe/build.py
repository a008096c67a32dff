"""Build the BEV probe benchmark from indexed scenes (``spar3d probe build``).

Samples come from the registered task ``spatial_imagination_map_mv`` (the task engine draws
views and objects, computes the answer in the observer frame and records provenance) with the
probe's settings: exactly ``views`` images (3), ``min_objects``..``max_objects`` objects (3-7),
each visible in the image its box is drawn in. The question is replaced by the probe's one fixed
prompt (:func:`spar3d.probe.answer.probe_question`) and the answer by the fixed format with
centimetre precision. Objects are named unambiguously: each is boxed and labelled ``object<i>``
in its image (SPAR's ``bbox_list`` look) and listed with its category.

Samples are spread evenly over the scenes (water-filling: every scene gives the same number
unless it runs out of distinct candidates, the others then give more) and ordered round-robin
over scenes, so ``--limit`` covers every scene. The build is deterministic for a seed: the same
scenes, ``n`` and seed give byte-identical files. A scene whose index cannot be read is reported
in ``bench_info.json`` and skipped.

The rows are written with :func:`spar3d.bench.build.write_bench`, the SPAR-Bench writer: the same
Parquet schema (``task`` is ``bev_probe``), ``provenance.jsonl`` and ``bench_info.json``.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spar3d.errors import ConfigError, InputError
from spar3d.io import locks_output
from spar3d.paths import resolve_under
from spar3d.probe.answer import PROBE_TASK, format_coords, parse_truth, probe_question
from spar3d.task_table import BEV_PROBE

SOURCE_TASK = "spatial_imagination_map_mv"
#: Distance bins (metres from the first view, BEV) of the paper's binned table.
DISTANCE_BINS: tuple[tuple[float, float], ...] = (
    (0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 5.0), (5.0, 7.0), (7.0, 10.0), (10.0, math.inf),
)  # fmt: skip
BIN_LABELS: tuple[str, ...] = ("0-1 m", "1-2 m", "2-3 m", "3-5 m", "5-7 m", "7-10 m", ">10 m")


def distance_bin(distance_m: float) -> str:
    """The label of the bin ``[lo, hi)`` holding a BEV distance."""
    for (lo, hi), label in zip(DISTANCE_BINS, BIN_LABELS, strict=True):
        if lo <= distance_m < hi:
            return label
    raise ValueError(f"distance must be >= 0, got {distance_m}")


@dataclass(frozen=True)
class ProbeParams:
    """Settings of a probe build (stored in ``bench_info.json``).

    Attributes:
        n: Samples to build.
        seed: Seed; each scene derives its own stream from it.
        views: Images per sample; the first is the main view that anchors the frame.
        min_objects: Fewest objects per sample.
        max_objects: Most objects per sample.
        max_pitch_deg: A first view pitched more than this from the floor plane is not used.
        image_format: ``JPEG`` (quality 95; the source frames are JPEG) or ``PNG``.
    """

    n: int = 1000
    seed: int = 0
    views: int = 3
    min_objects: int = 3
    max_objects: int = 7
    max_pitch_deg: float = 75.0
    image_format: str = "JPEG"

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ConfigError(f"--n must be >= 1, got {self.n}")
        if not 2 <= self.views <= 5:
            raise ConfigError(f"--views must be 2..5, got {self.views}")
        if not 1 <= self.min_objects <= self.max_objects:
            raise ConfigError(
                f"need 1 <= --min-objects <= --max-objects, got {self.min_objects}, "
                f"{self.max_objects}"
            )
        if self.image_format not in ("JPEG", "PNG"):
            raise ConfigError(f"--image-format must be JPEG or PNG, got {self.image_format!r}")


@dataclass
class ProbeSummary:
    """What a probe build wrote.

    Attributes:
        path: The Parquet file.
        n: Rows written.
        per_scene: Rows per scene id.
        scenes_failed: Scene folder -> why it was skipped.
        rejected: Candidates the task rejected, by reason.
        objects: Objects over all rows.
        per_bin: Objects per distance bin.
        seconds: Wall time of the build.
    """

    path: Path
    n: int = 0
    per_scene: dict[str, int] = field(default_factory=dict)
    scenes_failed: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    objects: int = 0
    per_bin: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _task(params: ProbeParams) -> Any:
    from spar3d.tasks import create_task

    return create_task(
        SOURCE_TASK,
        params={
            "min_views": params.views,
            "max_views": params.views,
            "min_objects": params.min_objects,
            "max_objects": params.max_objects,
            "max_pitch_deg": params.max_pitch_deg,
        },
    )


def _check_images(index: Any) -> None:
    """Every keyframe's colour file lies inside the scene folder (an index names them)."""
    where = f"{Path(index.scene_dir) / 'spar3d_index.json'}"
    for im in index.images:
        resolve_under(index.scene_dir, im.color_path, f"{where}: image {im.index} color_path")


def _allocate(
    views: list[Any], task: Any, n: int, seed: int
) -> tuple[list[list[dict[str, Any]]], Counter[str]]:
    """Water-filling: samples per scene as even as the scenes' candidates allow, ``n`` in all.

    ``Task.generate`` is prefix-stable (asking for more continues the same random stream), so
    raising a scene's quota keeps the samples it already gave.
    """
    got: list[list[dict[str, Any]]] = [[] for _ in views]
    stats: list[Any] = [None] * len(views)
    active = list(range(len(views)))
    while active and sum(map(len, got)) < n:
        quota = math.ceil((n - sum(map(len, got))) / len(active))
        still = []
        for s in active:
            want = len(got[s]) + quota
            got[s], stats[s] = task.generate(views[s], want, seed)
            if len(got[s]) == want:
                still.append(s)
        active = still
    # ceil() may overshoot by fewer samples than there are scenes: trim the fullest scenes.
    extra = sum(map(len, got)) - n
    while extra > 0:
        s = max(range(len(got)), key=lambda i: (len(got[i]), i))
        got[s].pop()
        extra -= 1
    rejected: Counter[str] = Counter()
    for st in stats:
        if st is not None:
            rejected.update(st.rejected)
    return got, rejected


def _round_robin(per_scene: list[list[dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
    out: list[tuple[int, dict[str, Any]]] = []
    for k in range(max((len(x) for x in per_scene), default=0)):
        out.extend((s, x[k]) for s, x in enumerate(per_scene) if k < len(x))
    return out


def _probe_row(sample: dict[str, Any]) -> tuple[list[str], list[tuple[float, float]]]:
    meta = sample["meta"]
    quantities = meta["quantities"]
    labels = [quantities["objects"][str(o)]["label"] for o in meta["object_ids"]]
    coords = [(float(x), float(y)) for x, y in quantities["bev_xy_m"]]
    return labels, coords


@locks_output("out_dir", "spar3d probe build")
def build_probe(
    scene_dirs: Sequence[str | Path],
    out_dir: str | Path,
    params: ProbeParams | None = None,
    progress: bool = False,
) -> ProbeSummary:
    """Build ``params.n`` probe rows from indexed scenes into ``out_dir`` (module docstring).

    Args:
        scene_dirs: Scene folders holding ``spar3d_index.json`` (or the index files).
        out_dir: Output folder: ``data/test-00000-of-00001.parquet``, ``provenance.jsonl``,
            ``bench_info.json``.
        params: Build settings.
        progress: Show a progress bar while images are drawn.

    Raises:
        InputError: No scene could be read, or the scenes hold no candidate at all.
        ResourceBusyError: Another spar3d process is writing into ``out_dir``.
    """
    from PIL import Image

    from spar3d.bench.build import BENCH_COLUMNS, image_cells, write_bench
    from spar3d.index.records import load_index
    from spar3d.markers.draw import draw_markers
    from spar3d.progress import progress as display
    from spar3d.tasks import SceneView

    params = params or ProbeParams()
    t0 = time.perf_counter()
    summary = ProbeSummary(Path(out_dir) / "data" / "test-00000-of-00001.parquet")
    task = _task(params)
    indexes, views = [], []
    for scene_dir in scene_dirs:
        try:
            index = load_index(scene_dir)
            _check_images(index)
        except (OSError, ValueError) as exc:  # one broken scene must not stop the others
            summary.scenes_failed[str(scene_dir)] = str(exc)
            continue
        indexes.append(index)
        views.append(SceneView(index))
    if not indexes:
        reasons = "; ".join(list(summary.scenes_failed.values())[:3])
        raise InputError(
            f"no readable scene index among {len(scene_dirs)} scene folder(s): {reasons}"
        )
    per_scene, rejected = _allocate(views, task, params.n, params.seed)
    summary.rejected = dict(rejected.most_common())
    ordered = _round_robin(per_scene)
    if not ordered:
        raise InputError(
            "the scenes hold no probe candidate (need images sharing objects and "
            f"{params.min_objects}+ objects over {params.views} views); rejected: "
            f"{summary.rejected}"
        )

    rows: dict[str, list[Any]] = {c: [] for c in BENCH_COLUMNS}
    provenance: list[dict[str, Any]] = []
    frames: dict[tuple[int, str], Any] = {}  # decoded keyframes, shared by the samples using them
    per_bin: Counter[str] = Counter()
    with display("probe build (rows)", len(ordered), progress) as bar:
        for row_id, (s, sample) in enumerate(ordered):
            index = indexes[s]
            base = []
            for i in sample["meta"]["image_indices"]:
                im = index.images[i]
                key = (s, im.frame_id)
                if key not in frames:
                    path = Path(index.scene_dir) / im.color_path
                    try:
                        with Image.open(path) as opened:
                            frames[key] = opened.convert("RGB")
                    except OSError as exc:
                        raise InputError(f"{path}: cannot read image ({exc})") from None
                base.append(frames[key])
            labels, coords = _probe_row(sample)
            answer = format_coords(coords)
            # distances of the answer's (rounded) coordinates: the scorer bins the same numbers
            distances = [math.hypot(x, y) for x, y in parse_truth(answer).coords]
            per_bin.update(distance_bin(d) for d in distances)
            rows["id"].append(row_id)
            rows["img_type"].append("multi-view")
            rows["format_type"].append("fill")
            rows["task"].append(PROBE_TASK)
            rows["source"].append(index.source)
            rows["image"].append(
                image_cells(draw_markers(base, sample), row_id, params.image_format)
            )
            rows["question"].append(probe_question(labels, len(base)))
            rows["answer"].append(answer)
            provenance.append(
                {
                    "id": row_id,
                    "sample_id": sample["id"],
                    "task": PROBE_TASK,
                    "source": index.source,
                    "image": sample["image"],
                    "labels": labels,
                    "distance_m": [round(d, 4) for d in distances],
                    "bbox_list": sample["bbox_list"],
                    "bbox_img_idx": sample["bbox_img_idx"],
                    "meta": sample["meta"],
                }
            )
            bar.advance(1)
    all_distances = [d for p in provenance for d in p["distance_m"]]
    summary.n = len(ordered)
    summary.per_scene = {indexes[s].scene_id: len(x) for s, x in enumerate(per_scene) if x}
    summary.objects = len(all_distances)
    summary.per_bin = {b: per_bin.get(b, 0) for b in BIN_LABELS}
    summary.path = write_bench(
        out_dir,
        rows,
        provenance,
        {
            "benchmark": BEV_PROBE,
            "task": PROBE_TASK,
            "source_task": SOURCE_TASK,
            "params": asdict(params),
            "scenes": [str(d) for d in scene_dirs],
            "n": summary.n,
            "objects": summary.objects,
            "per_scene": summary.per_scene,
            "per_bin": summary.per_bin,
            "median_distance_m": round(float(np.median(all_distances)), 4),
            "scenes_failed": summary.scenes_failed,
            "rejected": summary.rejected,
        },
    )
    summary.seconds = time.perf_counter() - t0
    return summary
