"""The one table of per-task facts that benchmarks, prompts, reports and marker drawing read.

A task's question and answer come from its :class:`spar3d.tasks.base.Task`; everything that
happens to its samples *afterwards* is described here, once, keyed by the task name (the sample's
``type``):

========================  ==================================================================
field                     who reads it
========================  ==================================================================
``benchmark``             which benchmark scores the task (``"spar-bench"``), or None
``kind``                  scoring (metric per kind and mode), answer extraction, baselines
``level``                 level averages (``"Low"``, ``"Medium"``, ``"High"``) or None
``format``                ``bench build``: the answer format the benchmark samples are drawn in
``prompt_suffix``         ``eval``: text after ``"\\n" + question + "\\n"`` (``_api`` variant too)
``display``               reports and ``score`` tables: column position (paper order)
``marker_order``          :mod:`spar3d.markers.draw`: colour order of ``point_img_idx`` entries
``labelled_boxes``        :mod:`spar3d.markers.draw`: boxes labelled ``object0, object1, ...``
``verify``                ``spar3d verify``: how the answer is recomputed from the 3D boxes
========================  ==================================================================

:class:`spar3d.tasks.base.TaskSpec` derives ``bench_level`` and ``metric`` from the row (metric
from the kind, see :data:`KIND_METRICS`), so the task engine carries no copy. The order rows are
registered in is the published scorer's task order (the order ``bench build`` draws tasks in).

Adding a benchmark (grounding, a BEV probe, a plugin): register its scoring kinds with
:func:`register_kind` and one :class:`TaskRow` per task with :func:`register_row`, naming the
benchmark; SPAR-Bench's constants and reports are unaffected and :func:`bench_tasks` /
:func:`display_order` list the new benchmark's tasks by its name::

    register_kind("box3d", metric="IoU")
    register_row(TaskRow("grounding_3d", benchmark="grounding", kind="box3d", format="fill",
                         prompt_suffix="Answer with the box.", display=0))

This module imports nothing beyond the standard library so every consumer can read it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from spar3d.errors import ConfigError
from spar3d.registry import RegistryError

SPAR_BENCH = "spar-bench"
#: The BEV cognitive-map probe (SPAR section 4.4): one task, scored by :mod:`spar3d.probe.score`.
BEV_PROBE = "bev-probe"
BEV_PROBE_TASK = "bev_probe"
LEVEL_NAMES: tuple[str, ...] = ("Low", "Medium", "High")
MARKER_COLORS: tuple[str, ...] = ("red", "blue", "green", "yellow")

#: Scoring kind -> the metric name listed in the task catalog (``spar3d tasks``).
KIND_METRICS: dict[str, str] = {"numeric": "MRA", "choice": "Acc", "vci": "VCI", "bev": "APE"}

#: lmms-eval ``sparbench`` post-prompts (see docs/scoring.md, "Prompts").
NUMERIC_POST = "Please answer the question using a single word or phrase."
NUMERIC_POST_API = "Do not response anything other than a single number!"
MULTIPLE_CHOICE_POST = "Answer with the option's letter from the given choices directly."
BOX_COORDINATE_NOTE = (
    "The values represent the bounding box coordinates normalized to a 0-1000 scale, "
    "with the top-left corner as the origin of the image."
)


@dataclass(frozen=True)
class TaskRow:
    """The facts of one task outside the task engine (see the module docstring for readers).

    Attributes:
        task: Task name, the ``type`` of its samples.
        benchmark: Benchmark that scores it (``"spar-bench"``), None if none does.
        kind: Scoring kind (a key of :data:`KIND_METRICS`); required with ``benchmark``.
        level: Level the benchmark averages it into, or None.
        format: Answer format the benchmark's samples use (``"fill"`` / ``"select"``).
        prompt_suffix: Text after ``pre_prompt + "\\n" + question + "\\n"`` in the prompt.
        prompt_suffix_api: The variant for API models (``numeric_post="api"``); None: the same.
        display: Position in reports (0 first); None sorts after every numbered row.
        marker_order: Colours in the order of the ``point_img_idx`` / ``bbox_img_idx`` entries,
            where it is not the order of the marker fields in the sample (SPAR's drawing code).
        labelled_boxes: Whether box markers get ``object0, object1, ...`` labels.
        verify: How ``spar3d verify`` recomputes the answer: a rule and the marker colours it
            reads, e.g. ``("depth", "blue")``, ``("dist_oo", "red", "blue")``,
            ``("closer", "red", "blue", "green")``, ``("relation_oo", "red", "blue")``,
            ``("relation_oc",)``; empty: no recomputation (see docs/verify.md).
    """

    task: str
    benchmark: str | None = None
    kind: str | None = None
    level: str | None = None
    format: str | None = None
    prompt_suffix: str = ""
    prompt_suffix_api: str | None = None
    display: int | None = None
    marker_order: tuple[str, ...] = ()
    labelled_boxes: bool = False
    verify: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        where = f"task row {self.task!r}"
        if self.benchmark is not None:
            if self.kind not in KIND_METRICS:
                raise ConfigError(
                    f"{where}: kind {self.kind!r} is not registered "
                    f"(known: {', '.join(KIND_METRICS)}; add one with register_kind)"
                )
            if self.format is None:
                raise ConfigError(f"{where}: a benchmark task needs its scored format")
        elif self.kind is not None or self.level is not None:
            raise ConfigError(f"{where}: kind and level need a benchmark")
        if self.level is not None and self.level not in LEVEL_NAMES:
            raise ConfigError(f"{where}: level {self.level!r} not in {LEVEL_NAMES}")
        bad = [c for c in self.marker_order if c not in MARKER_COLORS]
        if bad or len(set(self.marker_order)) != len(self.marker_order):
            raise ConfigError(
                f"{where}: marker_order {self.marker_order} (colours: {MARKER_COLORS})"
            )

    @property
    def metric(self) -> str | None:
        """The metric name of the row's kind (``"MRA"``, ``"Acc"``, ``"VCI"``), None unscored."""
        return KIND_METRICS[self.kind] if self.kind is not None else None

    def suffix(self, variant: str = "default") -> str:
        """The prompt suffix for ``variant`` (``"default"`` or ``"api"``)."""
        if variant == "api" and self.prompt_suffix_api is not None:
            return self.prompt_suffix_api
        return self.prompt_suffix


TASK_TABLE: dict[str, TaskRow] = {}


def register_kind(kind: str, *, metric: str) -> None:
    """Add a scoring kind (its per-mode metrics go in :data:`spar3d.bench.scoring.METRICS`)."""
    if kind in KIND_METRICS and KIND_METRICS[kind] != metric:
        raise RegistryError(f"scoring kind {kind!r} is already registered")
    KIND_METRICS[kind] = metric


def register_row(row: TaskRow, *, replace: bool = False) -> TaskRow:
    """Add ``row`` to :data:`TASK_TABLE`; a second row for the same task needs ``replace``."""
    if row.task in TASK_TABLE and not replace and TASK_TABLE[row.task] != row:
        raise RegistryError(f"task row {row.task!r} is already registered")
    TASK_TABLE[row.task] = row
    return row


def task_row(task: str) -> TaskRow | None:
    """The row of ``task``, or None for a task with none (no benchmark, default markers)."""
    return TASK_TABLE.get(task)


def bench_row(task: str, benchmark: str | None = None) -> TaskRow:
    """The row of a benchmark task; a ``LookupError`` naming the task and the known ones."""
    row = TASK_TABLE.get(task)
    if row is None or row.benchmark is None or (benchmark and row.benchmark != benchmark):
        known = ", ".join(bench_tasks(benchmark)) if benchmark else ", ".join(bench_tasks())
        what = f"{benchmark} task" if benchmark else "benchmark task"
        raise RegistryError(f"unknown {what} {task!r}; known: {known}")
    return row


def bench_tasks(
    benchmark: str | None = SPAR_BENCH, *, kind: str | None = None, level: str | None = None
) -> tuple[str, ...]:
    """Tasks of ``benchmark`` (every benchmark if None) in table order, filtered by kind/level."""
    return tuple(
        r.task
        for r in TASK_TABLE.values()
        if r.benchmark is not None
        and (benchmark is None or r.benchmark == benchmark)
        and (kind is None or r.kind == kind)
        and (level is None or r.level == level)
    )


def display_order(benchmark: str | None = SPAR_BENCH) -> tuple[str, ...]:
    """The benchmark's tasks in report order (``display``; unnumbered rows last, table order)."""
    rows = [TASK_TABLE[t] for t in bench_tasks(benchmark)]
    big = len(TASK_TABLE) + 1_000_000
    return tuple(
        r.task for r in sorted(rows, key=lambda r: big if r.display is None else r.display)
    )


def marker_order(task: str) -> tuple[str, ...]:
    """Colour order of a task's image-index entries; empty: the sample's field order."""
    row = TASK_TABLE.get(task)
    return row.marker_order if row else ()


def verify_rule(task: str) -> tuple[str, ...]:
    """How ``spar3d verify`` recomputes a task's answer (:attr:`TaskRow.verify`); empty: not."""
    row = TASK_TABLE.get(task)
    return row.verify if row else ()


def boxes_labelled(task: str) -> bool:
    """Whether a task's box markers carry ``object0, object1, ...`` labels."""
    row = TASK_TABLE.get(task)
    return bool(row and row.labelled_boxes)


# --- SPAR-Bench (the published lmms-eval ``sparbench`` task; docs/scoring.md) ---------------

_CHOICE_SUFFIX = f"\n{MULTIPLE_CHOICE_POST}"
_BOX_CHOICE_SUFFIX = f"{BOX_COORDINATE_NOTE}\n{MULTIPLE_CHOICE_POST}"


def _numeric(task: str, display: int) -> TaskRow:
    return TaskRow(task, SPAR_BENCH, "numeric", "Low", "fill", NUMERIC_POST, NUMERIC_POST_API,
                   display)  # fmt: skip


def _choice(task: str, level: str, display: int, suffix: str = _CHOICE_SUFFIX,
            marker_order: tuple[str, ...] = ()) -> TaskRow:  # fmt: skip
    return TaskRow(task, SPAR_BENCH, "choice", level, "select", suffix, None, display,
                   marker_order)  # fmt: skip


# Rows in the published scorer's order; ``display`` is the paper's table-4 column order.
for _row in (
    _numeric("depth_prediction_oc", 0),
    _numeric("depth_prediction_oo", 2),
    _numeric("distance_prediction_oc", 4),
    _numeric("distance_prediction_oo", 6),
    _numeric("depth_prediction_oc_mv", 1),
    _numeric("depth_prediction_oo_mv", 3),
    _numeric("distance_prediction_oc_mv", 5),
    _numeric("distance_prediction_oo_mv", 7),
    _choice("obj_spatial_relation_oo", "High", 14),
    _choice("obj_spatial_relation_oc_mv", "High", 13),
    _choice("obj_spatial_relation_oo_mv", "High", 15),
    _choice("spatial_imagination_oc", "High", 16),
    _choice("spatial_imagination_oo", "High", 18),
    _choice("spatial_imagination_oc_mv", "High", 17, marker_order=("green", "blue", "red")),
    _choice(
        "spatial_imagination_oo_mv", "High", 19, marker_order=("green", "blue", "red", "yellow")
    ),  # fmt: skip
    _choice("position_matching", "Medium", 8, _BOX_CHOICE_SUFFIX),
    _choice("camera_motion_infer", "Medium", 9, _BOX_CHOICE_SUFFIX),
    _choice("distance_infer_center_oo", "High", 11),
    _choice("distance_infer_center_oo_mv", "High", 12, marker_order=("red", "green", "blue")),
    # The question states the expected format, so both suffixes are empty.
    TaskRow("view_change_infer", SPAR_BENCH, "vci", "Medium", "fill", "\n", None, 10),
    # Not benchmarked, but drawn in SPAR's colour order, with labelled boxes.
    TaskRow(
        "spatial_imagination_oc_video", marker_order=("green", "blue", "red"), labelled_boxes=True
    ),  # fmt: skip
    TaskRow(
        "spatial_imagination_oo_video",
        marker_order=("green", "blue", "red", "yellow"),
        labelled_boxes=True,
    ),  # fmt: skip
):
    register_row(_row)
del _row

# --- spar3d verify: the answer recomputed from the 3D boxes (docs/verify.md) ------------------
for _task, _rule in (
    ("depth_prediction_oc", ("depth", "blue")),
    ("depth_prediction_oc_mv", ("depth", "blue")),
    ("depth_prediction_oo", ("depth_diff", "blue", "green")),
    ("depth_prediction_oo_mv", ("depth_diff", "blue", "green")),
    ("distance_prediction_oc", ("dist_cam", "red")),
    ("distance_prediction_oc_mv", ("dist_cam", "red")),
    ("distance_prediction_oo", ("dist_oo", "red", "blue")),
    ("distance_prediction_oo_mv", ("dist_oo", "red", "blue")),
    ("distance_prediction_oo_video", ("dist_oo", "red", "blue")),
    ("distance_infer_center_oo", ("closer", "red", "blue", "green")),
    ("distance_infer_center_oo_mv", ("closer", "red", "blue", "green")),
    ("obj_spatial_relation_oo", ("relation_oo", "red", "blue")),
    ("obj_spatial_relation_oo_mv", ("relation_oo", "red", "blue")),
    ("obj_spatial_relation_oc_mv", ("relation_oc",)),
):
    register_row(replace(TASK_TABLE.get(_task) or TaskRow(_task), verify=_rule), replace=True)
del _task, _rule

# --- The BEV probe (spar3d.probe; docs/cli/probe.md) ------------------------------------------
# Its question states the frame rules and the answer format; the suffix asks for nothing else.
# The APE is a distance, not a per-sample score: spar3d.probe.score scores it, not the
# SPAR-Bench scorer's per-mode metrics.
register_row(
    TaskRow(BEV_PROBE_TASK, BEV_PROBE, "bev", None, "fill", "Answer with the coordinates only.",
            None, 0)  # fmt: skip
)

# --- 3D grounding through frame selection (spar3d.grounding; docs/cli/ground.md) ------------

GROUNDING_BENCH = "ground3d"
# Acc@0.5 of the box lifted from the answer; ``spar3d ground score`` gives the full table.
register_kind("grounding", metric="Acc@0.5")
for _task in ("ground_3d", "ground_3d_scanrefer"):
    # The question states the answer format, so (as for view_change_infer) nothing is added.
    register_row(TaskRow(_task, GROUNDING_BENCH, "grounding", None, "fill", "\n"))
del _task
