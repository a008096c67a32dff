"""Multiple-choice matching: the published rule (compat) and explicit letter extraction (strict)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

CompatRule = Literal["equal", "substring", "first-char", "none"]
LetterHow = Literal["bare", "prefix", "answer-phrase", "option-text"]


def compat_rule(prediction: str, answer: str) -> CompatRule:
    """Which published rule accepts ``prediction`` (lower-cased, not stripped), or "none".

    In order: equality; the prediction is a substring of the answer (so an empty prediction
    always passes); the prediction's first character equals the whole answer.
    """
    pred, gt = prediction.lower(), answer.lower()
    if pred == gt:
        return "equal"
    if pred in gt:
        return "substring"
    if pred[:1] == gt and pred:
        return "first-char"
    return "none"


def compat_accuracy(prediction: str, answer: str) -> float:
    """Published accuracy: 1.0 when any rule of :func:`compat_rule` accepts, else 0.0."""
    return 0.0 if compat_rule(prediction, answer) == "none" else 1.0


# A marker "A. " at the start of the text, after white space or after ";".
_OPTION_MARK = re.compile(r"(?:(?<=[\s;])|^)([A-Z])\.\s")
# The last option ends at the first sentence break after it ("D. 1.4. Your answer ...").
_OPTION_END = re.compile(r"\.\s|\n")


def _normalise(text: str) -> str:
    return " ".join(text.lower().split()).strip(" .,;:")


def parse_options(question: str) -> dict[str, str]:
    """Options listed in a question as "A. text; B. text; ...", keyed by letter.

    Only a run of markers A, B, C, ... in order counts, so "Mr. X" or a stray "C." elsewhere is
    ignored; the last such run of at least two options wins.
    """
    marks = list(_OPTION_MARK.finditer(question))
    best: list[re.Match[str]] = []
    run: list[re.Match[str]] = []
    for m in marks:
        letter = m.group(1)
        if letter == "A":
            run = [m]
        elif run and ord(letter) == ord(run[-1].group(1)) + 1:
            run.append(m)
        else:
            continue
        if len(run) >= 2:
            best = list(run)
    options: dict[str, str] = {}
    for i, m in enumerate(best):
        if i + 1 < len(best):
            text = question[m.end() : best[i + 1].start()]
        else:
            rest = question[m.end() :]
            end = _OPTION_END.search(rest)
            text = rest[: end.start()] if end else rest
        options[m.group(1)] = text.strip().rstrip(";").strip()
    return options


def options_from_list(options: Sequence[str]) -> dict[str, str]:
    """Options given as a list, either "A. text" items or plain texts lettered in order."""
    out: dict[str, str] = {}
    for i, item in enumerate(options):
        m = re.match(r"\s*([A-Z])[.):]\s*(.*)", str(item), re.DOTALL)
        if m:
            out[m.group(1)] = m.group(2).strip()
        else:
            out[chr(ord("A") + i)] = str(item).strip()
    return out


_BARE = re.compile(r"\s*[(\[]?\s*([A-Za-z])\s*[)\]]?\s*[.:;,!]?\s*")
_PREFIX = re.compile(r"\s*(?:\(([A-Z])\)|\[([A-Z])\]|([A-Z])(?:\)|[.:](?!\d)))(?:\s|$)")
_PHRASE = re.compile(
    r"(?i:\b(?:answer|option|choice)\b)(?:\s+(?i:is))?\s*[:\uff1a]?\s*[(\[]?"
    r"(?:([A-Z])(?!\w)|([a-z])(?=[)\].]?\s*$))"
)


Options = Mapping[str, str] | Callable[[], Mapping[str, str]] | None


def _resolve(options: Options) -> Mapping[str, str]:
    # Options may come as a thunk: parsing them from the question is the slowest step of strict
    # scoring and only a response that states no letter needs them.
    if options is None:
        return {}
    return options() if callable(options) else options


def extract_letter(prediction: str, options: Options = None) -> tuple[str | None, LetterHow | None]:
    """The option letter a response states explicitly, and which pattern found it.

    Patterns, in order: a bare letter ("b", "(B)", "B."); a letter opening the response
    ("B. chair", "(B) chair", "B: chair"); a phrase ("Answer: B", "the answer is (B)", "option B";
    the last such phrase wins); the full text of exactly one option. A capital letter is needed
    except for a bare letter or a letter that ends the response, so "the answer is a chair" is
    not read as A.
    """
    m = _BARE.fullmatch(prediction)
    if m:
        return m.group(1).upper(), "bare"
    m = _PREFIX.match(prediction)
    if m:
        return next(g for g in m.groups() if g), "prefix"
    phrases = list(_PHRASE.finditer(prediction))
    if phrases:
        last = phrases[-1]
        return (last.group(1) or last.group(2)).upper(), "answer-phrase"
    norm = _normalise(prediction)
    if norm:
        hits = [k for k, v in _resolve(options).items() if _normalise(v) == norm]
        if len(hits) == 1:
            return hits[0], "option-text"
    return None, None


def strict_accuracy(prediction: str, answer: str, options: Options = None) -> float:
    """1.0 when the explicitly stated option is the answer, else 0.0.

    ``options`` (by letter) may be given as a function that returns them, called only when
    needed.

    A letter answer ("A") is compared with :func:`extract_letter`; a text answer is compared with
    the normalised response or with the text of the option the response names.
    """
    gt_letter, how = extract_letter(answer)
    pred_letter, _ = extract_letter(prediction, options)
    if gt_letter is not None and how in ("bare", "prefix"):
        return 1.0 if pred_letter == gt_letter else 0.0
    gt = _normalise(answer)
    if not gt:
        return 0.0
    if _normalise(prediction) == gt:
        return 1.0
    if pred_letter is not None:
        text = _resolve(options).get(pred_letter)
        return 1.0 if text is not None and _normalise(text) == gt else 0.0
    return 0.0
