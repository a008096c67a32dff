"""The BEV cognitive-map probe (SPAR section 4.4): build, answer format, scoring and report.

A probe row shows three views of a scene and asks for the bird's-eye-view ``(x, y)`` in metres of
3-7 boxed objects in the observer frame of the first view (docs/conventions.md). The rows are a
benchmark like SPAR-Bench (Parquet + provenance) whose task is ``bev_probe``; ``spar3d eval``
runs any backend on them and ``spar3d probe score`` reports the average position error (APE).
"""

from spar3d.probe.answer import (
    PROBE_TASK,
    PROBE_TASKS,
    ParsedAnswer,
    Truth,
    format_coords,
    is_probe_task,
    parse_answer,
    parse_truth,
    probe_question,
    question_labels,
)

__all__ = [
    "PROBE_TASK",
    "PROBE_TASKS",
    "ParsedAnswer",
    "Truth",
    "format_coords",
    "is_probe_task",
    "parse_answer",
    "parse_truth",
    "probe_question",
    "question_labels",
]
