"""SPAR-Bench scoring: the published metrics (``compat``) and their fixed form (``strict``).

See ``docs/scoring.md`` for every rule and quirk. Public API::

    from spar3d.bench.scoring import score_records, score_file, diff_modes
    result = score_records(records, mode="compat")
    result.to_dict()  # {"mode", "overall", "levels", "tasks", "n"}, scores 0-100
"""

from .diff import QUIRKS, ModeDiff, diff_modes, diff_samples
from .metrics import METRICS, MODES, Metric, Sample
from .mra import mra
from .records import read_samples, to_sample, to_samples
from .score import (
    ScoreResult,
    aggregate,
    available_modes,
    sample_score,
    score_file,
    score_records,
    score_samples,
    score_stream,
)
from .tasks import (
    ALL_TASKS,
    CHOICE_TASKS,
    LEVEL_NAMES,
    LEVELS,
    NUMERIC_TASKS,
    VCI_TASKS,
    is_multi_view,
    level_of,
    task_kind,
)

__all__ = [
    "ALL_TASKS",
    "CHOICE_TASKS",
    "LEVELS",
    "LEVEL_NAMES",
    "METRICS",
    "MODES",
    "NUMERIC_TASKS",
    "QUIRKS",
    "VCI_TASKS",
    "Metric",
    "ModeDiff",
    "Sample",
    "ScoreResult",
    "aggregate",
    "available_modes",
    "diff_modes",
    "diff_samples",
    "is_multi_view",
    "level_of",
    "mra",
    "read_samples",
    "sample_score",
    "score_file",
    "score_records",
    "score_samples",
    "score_stream",
    "task_kind",
    "to_sample",
    "to_samples",
]
