"""Pull the answer out of a model's raw text, saying which rule found it.

The readings are the scorer's strict ones (``spar3d.bench.scoring``), so ``predictions.jsonl``
shows exactly what strict mode reads, and a response none of them can read gets the status
``unparseable``. Scoring itself always starts again from the raw text, in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass

from spar3d.bench.scoring.choice import extract_letter, parse_options
from spar3d.bench.scoring.numbers import strict_number
from spar3d.bench.scoring.tasks import is_multi_view, task_kind
from spar3d.bench.scoring.vci import strict_pairs
from spar3d.probe.answer import is_probe_task, parse_answer, question_labels

__all__ = ["Extraction", "extract_answer", "parse_options"]


@dataclass(frozen=True)
class Extraction:
    """An extracted answer (``None`` when no rule matched) and the rule's name."""

    value: str | None
    rule: str


NO_MATCH = Extraction(None, "none")


def extract_answer(task: str, text: str, question: str) -> Extraction:
    """The answer a response states, by task kind.

    Rules: numeric tasks ``first_number`` (``last_number`` for ``_mv`` tasks), with ``+unit``
    when a unit was converted to metres; multiple choice ``bare``, ``prefix``, ``answer-phrase``
    or ``option-text`` (see :func:`~spar3d.bench.scoring.choice.extract_letter`); view change
    ``vci_pairs`` (written back as ``"move_right: 1.2, rotate_up: 10"``); the BEV probe
    ``named``, ``labels`` or ``ordered`` (:func:`spar3d.probe.answer.parse_answer`, written back
    as ``"object0: (1.2, 3.4), ..."`` with the objects read).
    """
    if is_probe_task(task):
        labels = question_labels(question)
        parsed = parse_answer(text, len(labels) or None, labels)
        return Extraction(parsed.canonical(), parsed.rule) if parsed.coords else NO_MATCH
    kind = task_kind(task)
    if kind == "numeric":
        quantity = strict_number(text, task)
        if quantity is None:
            return NO_MATCH
        rule = "last_number" if is_multi_view(task) else "first_number"
        return Extraction(f"{quantity.value:g}", rule + ("+unit" if quantity.unit else ""))
    if kind == "choice":
        letter, how = extract_letter(text.strip(), parse_options(question))
        return Extraction(letter, how) if letter and how else NO_MATCH
    if kind == "grounding":
        from spar3d.grounding.answer import GroundingAnswer
        from spar3d.grounding.answer import parse_answer as parse_grounding

        grounded = parse_grounding(text)
        return (
            Extraction(grounded.text(), "grounding")
            if isinstance(grounded, GroundingAnswer)
            else NO_MATCH
        )
    pairs = strict_pairs(text)
    if not pairs:
        return NO_MATCH
    return Extraction(", ".join(f"{k}: {v:g}" for k, v in pairs.items()), "vci_pairs")
