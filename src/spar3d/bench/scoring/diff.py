"""Which samples score differently in compat and strict mode, and which published quirk it is."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from .choice import compat_rule, extract_letter
from .metrics import Sample
from .numbers import compat_number, strict_number
from .records import to_samples
from .score import sample_score
from .tasks import is_multi_view, task_kind
from .vci import AXES, compat_pairs, strict_pairs

#: Quirk names and what they mean (also the documentation of ``spar3d score --diff``).
QUIRKS: dict[str, str] = {
    "empty-prediction": "an empty response is a substring of every answer and scores 1",
    "substring-of-answer": "the response is a substring of the answer ('a' in 'a') and scores 1",
    "first-character": "the response's first character equals the answer ('Answer: B' for A)",
    "letter-not-extracted": "compat misses an explicit letter ('(B)', 'The answer is B', ' B')",
    "option-text": "the response is the full text of the right option",
    "negative-sign": "compat drops the minus sign",
    "decimal-comma": "compat reads '1,5' as 1 (or 5)",
    "unit": "compat ignores the unit ('150 cm' read as 150 m)",
    "mv-missing-number": "compat scores a _mv response without a number as -1",
    "number-extraction": "compat and strict read different numbers",
    "vci-parse-failure": "compat cannot parse the response and scores 0",
    "vci-key-spelling": "keys with spaces, hyphens or a leading space never match in compat",
    "vci-back-vs-backward": "compat does not know 'back' means 'backward'",
    "vci-relative-to-prediction": "compat measures the VCI error relative to the prediction",
    "other": "a difference not explained by a known quirk",
}


@dataclass(frozen=True)
class ModeDiff:
    """One sample whose compat and strict scores differ (scores in [0, 1])."""

    id: Any
    task: str
    prediction: str
    answer: str
    compat: float
    strict: float
    quirk: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _choice_quirk(s: Sample) -> str:
    rule = compat_rule(s.prediction, s.answer)
    if rule == "substring":
        return "empty-prediction" if s.prediction == "" else "substring-of-answer"
    if rule == "first-char":
        return "first-character"
    _, how = extract_letter(s.prediction, s.option_map)
    return "option-text" if how == "option-text" else "letter-not-extracted"


def _numeric_quirk(s: Sample) -> str:
    if compat_number(s.prediction, s.task) is None or (
        is_multi_view(s.task) and strict_number(s.prediction, s.task) is None
    ):
        return "mv-missing-number" if is_multi_view(s.task) else "number-extraction"
    for q in (strict_number(s.prediction, s.task), strict_number(s.answer, s.task)):
        if q is None:
            continue
        if q.negative:
            return "negative-sign"
        if q.decimal_comma:
            return "decimal-comma"
        if q.unit not in ("", "m", "meter", "meters", "metre", "metres"):
            return "unit"
    return "number-extraction"


def _vci_quirk(s: Sample) -> str:
    try:
        raw = compat_pairs(s.prediction)
    except ValueError:
        return "vci-parse-failure"
    known = {k for pair in AXES for k in pair}
    if any(k not in known for k in raw):
        # Tell "back" apart from other spellings: normalise and see what is left over.
        lenient = strict_pairs(s.prediction)
        if any(k.strip().lower().replace(" ", "_").endswith("_back") for k in raw):
            return "vci-back-vs-backward"
        if lenient:
            return "vci-key-spelling"
    return "vci-relative-to-prediction"


_QUIRK_OF = {"choice": _choice_quirk, "numeric": _numeric_quirk, "vci": _vci_quirk}


def diff_samples(samples: Iterable[Sample]) -> list[ModeDiff]:
    """Every sample whose compat and strict scores differ, with the quirk behind it."""
    out: list[ModeDiff] = []
    for s in samples:
        compat, strict = sample_score(s, "compat"), sample_score(s, "strict")
        if compat != strict:
            quirk = _QUIRK_OF[task_kind(s.task)](s)
            out.append(ModeDiff(s.id, s.task, s.prediction, s.answer, compat, strict, quirk))
    return out


def diff_modes(records: Iterable[Mapping[str, Any]]) -> list[ModeDiff]:
    """Like :func:`diff_samples` for raw prediction records (validated as by ``score_records``)."""
    return diff_samples(to_samples(records))
