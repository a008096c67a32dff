"""Per-sample metrics, one small function per (task kind, mode), kept in the METRICS registry.

A metric takes a :class:`Sample` and returns a score in [0, 1]. The scorer looks one up as
``METRICS.get(f"{kind}:{mode}")``; a third-party package can add modes through the
``spar3d.metrics`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from spar3d.registry import Registry

from .choice import compat_accuracy, options_from_list, parse_options, strict_accuracy
from .mra import mra
from .numbers import compat_answer, compat_number, strict_number
from .vci import compat_vci, strict_vci

MODES: tuple[str, ...] = ("compat", "strict")


@dataclass(frozen=True)
class Sample:
    """One scored prediction.

    Attributes:
        id: Sample id (any JSON scalar).
        task: SPAR-Bench task name.
        prediction: The model's raw response; "" for a missing one.
        answer: Ground-truth answer string.
        question: Question text, used by strict mode to read the options (may be "").
        options: Options given explicitly (list of "A. text" or plain texts), or None.
        failed: True when the request failed (status != "ok"): scores 0 in every mode.
        context: What a grounding answer is lifted and scored with (the benchmark's
            ``context`` column, JSON), None for other tasks.
    """

    id: object
    task: str
    prediction: str
    answer: str
    question: str = ""
    options: tuple[str, ...] | None = None
    failed: bool = False
    context: str | None = None

    def option_map(self) -> dict[str, str]:
        """Options by letter: the explicit list if given, else those parsed from the question."""
        if self.options:
            return options_from_list(self.options)
        return parse_options(self.question) if self.question else {}


Metric = Callable[[Sample], float]
METRICS: Registry[Metric] = Registry("metric", "spar3d.metrics")


@METRICS.register("numeric:compat")
def numeric_compat(s: Sample) -> float:
    """MRA of the published number extraction against ``float(answer)``; 0 when either fails."""
    pred, gt = compat_number(s.prediction, s.task), compat_answer(s.answer)
    return 0.0 if pred is None or gt is None else mra(pred, gt)


@METRICS.register("numeric:strict")
def numeric_strict(s: Sample) -> float:
    """MRA of the strict reading (sign, decimal comma, units to metres) of both sides."""
    pred, gt = strict_number(s.prediction, s.task), strict_number(s.answer, s.task)
    return 0.0 if pred is None or gt is None else mra(pred.value, gt.value)


@METRICS.register("choice:compat")
def choice_compat(s: Sample) -> float:
    """Published accuracy (equality, substring of the answer, or first character)."""
    return compat_accuracy(s.prediction, s.answer)


@METRICS.register("choice:strict")
def choice_strict(s: Sample) -> float:
    """Accuracy of the explicitly stated option letter (or full option text)."""
    return strict_accuracy(s.prediction, s.answer, s.option_map)


@METRICS.register("vci:compat")
def vci_compat(s: Sample) -> float:
    """Published VCI: per-axis MRA relative to the prediction; parse failure 0."""
    return compat_vci(s.prediction, s.answer)


@METRICS.register("vci:strict")
def vci_strict(s: Sample) -> float:
    """VCI relative to the ground truth with lenient key spelling."""
    return strict_vci(s.prediction, s.answer)


@METRICS.register("grounding:compat")
@METRICS.register("grounding:strict")
def grounding_acc50(s: Sample) -> float:
    """3D grounding: 1 when the lifted box's IoU with the target is >= 0.5, else 0 (before
    refinement; ``spar3d ground score`` reports Acc@0.25 / 0.5 with and without it)."""
    from spar3d.grounding.context import parse_context
    from spar3d.grounding.score import score_one

    if not s.context:
        raise ValueError(f"sample {s.id!r}: grounding task {s.task} has no context")
    return float(score_one(s.prediction, parse_context(s.context, f"sample {s.id!r}"))[1] >= 0.5)
