"""The BEV probe's prompt and answer format, and a tolerant reader of model answers.

The fixed answer format is ``object0: (x, y), object1: (x, y), ...`` in metres in the observer
frame of the first image (docs/conventions.md). :func:`parse_answer` reads it tolerantly and
says, object by object, what it found:

1. ``named``: every mention of an object name (``object0``, ``Object 0``, ``object_0``, ``obj0``,
   ``**object0**``, a JSON key ``"object0"``) opens a segment that runs to the next mention; the
   first two numbers in the segment are ``(x, y)``. Numbers may carry a sign (``-``, ``+``,
   ``\u2212``) and a unit (``m``, ``cm``, ``mm`` and their spelled-out forms; converted to
   metres). ``,`` always separates values, never marks decimals. When an object is mentioned
   several times the first mention with two numbers counts.
2. ``labels``: no object name at all, but the question's labels are distinct words
   (``chair``, ``lamp``): the same with the labels as names.
3. ``ordered``: neither, but the text holds exactly as many ``(x, y)`` / ``[x, y]`` pairs as
   objects were asked for: they are taken in order.

An object the answer names without two numbers is ``malformed``; one it does not name is
``missing``; names of objects that were not asked (``object9`` of five) are ``extra``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from spar3d.task_table import BEV_PROBE, BEV_PROBE_TASK, bench_tasks

PROBE_TASK = BEV_PROBE_TASK
PROBE_TASKS: tuple[str, ...] = bench_tasks(BEV_PROBE)
ANSWER_DECIMALS = 2
#: Generation limit for probe answers: up to seven "objectK: (x.x, y.y)" pairs need ~100 tokens.
PROBE_MAX_NEW_TOKENS = 256

PROMPT_TEMPLATE = (
    "These {n_images} images show the same indoor scene. Blue boxes labelled object0 to "
    "object{last} mark {n_objects} objects: {object_list}. Build a bird's-eye-view map in the "
    "observer frame of the FIRST image: the origin is the first camera's centre projected onto "
    "the floor, the +y axis points along the first camera's viewing direction projected onto the "
    "floor, and the +x axis points to the observer's right. Give the (x, y) coordinates in metres "
    "of each object's centre, one decimal, every object once, in exactly this format: "
    "{format_example}"
)


def is_probe_task(task: str) -> bool:
    """Whether a benchmark row's ``task`` is the BEV probe."""
    return task in PROBE_TASKS


def probe_question(labels: Sequence[str], n_images: int) -> str:
    """The probe's question for objects ``object0 .. object{n-1}`` with these labels."""
    n = len(labels)
    return PROMPT_TEMPLATE.format(
        n_images=n_images,
        last=n - 1,
        n_objects=n,
        object_list=", ".join(f"object{i} ({label})" for i, label in enumerate(labels)),
        format_example=", ".join(f"object{i}: (x, y)" for i in range(n)),
    )


_QUESTION_OBJECT = re.compile(r"\bobject(\d+) \(([^()]*)\)")


def question_labels(question: str) -> list[str]:
    """The labels a probe question lists as ``object<i> (<label>)``, in index order."""
    found = {int(i): label for i, label in _QUESTION_OBJECT.findall(question)}
    return [found[i] for i in range(len(found)) if i in found]


def format_coords(coords: Sequence[tuple[float, float]], decimals: int = ANSWER_DECIMALS) -> str:
    """``object0: (x, y), object1: (x, y), ...`` with ``decimals`` decimals."""

    def num(v: float) -> str:
        text = f"{round(float(v), decimals):.{decimals}f}"
        return "0." + "0" * decimals if text == "-0." + "0" * decimals else text

    return ", ".join(f"object{i}: ({num(x)}, {num(y)})" for i, (x, y) in enumerate(coords))


def constant_answer(n_objects: int, point: tuple[float, float]) -> str:
    """Every object at the same ``(x, y)``: the answer of the constant baselines."""
    return format_coords([point] * n_objects)


@dataclass(frozen=True)
class ParsedAnswer:
    """What :func:`parse_answer` read.

    Attributes:
        coords: ``(x, y)`` metres by object index, for the objects read.
        malformed: Indices the answer names without two numbers.
        extra: Object names the answer uses beyond the ones asked for.
        rule: ``named``, ``labels``, ``ordered`` or ``none``.
    """

    coords: dict[int, tuple[float, float]]
    malformed: tuple[int, ...] = ()
    extra: tuple[str, ...] = ()
    rule: str = "none"

    def missing(self, n_objects: int) -> tuple[int, ...]:
        """Indices below ``n_objects`` that the answer neither read nor named."""
        return tuple(
            i for i in range(n_objects) if i not in self.coords and i not in self.malformed
        )

    def canonical(self) -> str:
        """The objects read, as ``object<i>: (x, y)`` (in index order; gaps kept as named)."""
        return ", ".join(f"object{i}: ({x:g}, {y:g})" for i, (x, y) in sorted(self.coords.items()))


_NAME = re.compile(r"\bobj(?:ect)?[\s_#-]*(\d+)(?!\d)", re.IGNORECASE)
_UNIT_M = {"mm": 1e-3, "millimeter": 1e-3, "millimetre": 1e-3, "millimeters": 1e-3,
           "millimetres": 1e-3, "cm": 1e-2, "centimeter": 1e-2, "centimetre": 1e-2,
           "centimeters": 1e-2, "centimetres": 1e-2, "m": 1.0, "meter": 1.0, "metre": 1.0,
           "meters": 1.0, "metres": 1.0}  # fmt: skip
_UNITS = "|".join(sorted(_UNIT_M, key=len, reverse=True))
_NUMBER = re.compile(
    rf"(?<![\w.])(?P<sign>[-+\u2212]?)(?P<num>\d+(?:\.\d+)?|\.\d+)(?:\s*(?P<unit>{_UNITS}))?(?!\w)",
    re.IGNORECASE,
)
_NUMBER_TEXT = rf"[-+\u2212]?(?:\d+(?:\.\d+)?|\.\d+)(?:\s*(?:{_UNITS}))?"
_PAIR = re.compile(rf"[(\[]\s*({_NUMBER_TEXT})\s*[,;]\s*({_NUMBER_TEXT})\s*[)\]]", re.IGNORECASE)


def _numbers(text: str) -> list[float]:
    out = []
    for m in _NUMBER.finditer(text):
        value = float(m.group("num")) * _UNIT_M.get((m.group("unit") or "").lower(), 1.0)
        out.append(-value if m.group("sign") in ("-", "\u2212") else value)
    return out


def _segments(text: str, mentions: list[tuple[int, int, int]]) -> list[tuple[int, str]]:
    """``(index, text after the mention up to the next one)`` for ``(index, start, end)``."""
    out = []
    for k, (index, _, end) in enumerate(mentions):
        stop = mentions[k + 1][1] if k + 1 < len(mentions) else len(text)
        out.append((index, text[end:stop]))
    return out


def _read(segments: list[tuple[int, str]], n_objects: int | None, rule: str) -> ParsedAnswer:
    coords: dict[int, tuple[float, float]] = {}
    named: set[int] = set()
    extra: list[str] = []
    for index, segment in segments:
        if n_objects is not None and index >= n_objects:
            extra.append(f"object{index}")
            continue
        named.add(index)
        if index in coords:
            continue
        values = _numbers(segment)
        if len(values) >= 2:
            coords[index] = (values[0], values[1])
    malformed = tuple(sorted(named - set(coords)))
    return ParsedAnswer(coords, malformed, tuple(dict.fromkeys(extra)), rule)


def _label_mentions(text: str, labels: Sequence[str]) -> list[tuple[int, int, int]]:
    keys = [label.strip().lower() for label in labels]
    usable = len(set(keys)) == len(keys) and all(
        k and not any(k != o and k in o for o in keys) for k in keys
    )
    if not usable:
        return []
    mentions = []
    for i, key in enumerate(keys):
        for m in re.finditer(rf"(?<!\w){re.escape(key)}(?!\w)", text, re.IGNORECASE):
            mentions.append((i, m.start(), m.end()))
    return sorted(mentions, key=lambda t: t[1])


def parse_answer(text: str, n_objects: int | None, labels: Sequence[str] = ()) -> ParsedAnswer:
    """Read a model's BEV answer for ``n_objects`` objects (see the module docstring).

    ``n_objects=None`` (the count is unknown) reads every named object and no other rule.
    """
    mentions = [(int(m.group(1)), m.start(), m.end()) for m in _NAME.finditer(text)]
    if mentions:
        return _read(_segments(text, mentions), n_objects, "named")
    if n_objects is None:
        return ParsedAnswer({})
    if len(labels) == n_objects:
        by_label = _label_mentions(text, labels)
        if by_label:
            return _read(_segments(text, by_label), n_objects, "labels")
    pairs = list(_PAIR.finditer(text))
    if n_objects and len(pairs) == n_objects:
        coords = {}
        for i, m in enumerate(pairs):
            x, y = _numbers(m.group(1)), _numbers(m.group(2))
            coords[i] = (x[0], y[0])
        return ParsedAnswer(coords, rule="ordered")
    return ParsedAnswer({})


@dataclass(frozen=True)
class Truth:
    """The ground truth of one probe row: ``(x, y)`` per object and the labels asked for."""

    coords: tuple[tuple[float, float], ...]
    labels: tuple[str, ...] = field(default_factory=tuple)


def parse_truth(answer: str, question: str = "", where: str = "") -> Truth:
    """The ground-truth answer of a probe row, which must be in the fixed format.

    Raises:
        ValueError: naming ``where`` when the answer is not ``object0: (x, y), ...`` with
            consecutive indices from 0.
    """
    mentions = [(int(m.group(1)), m.start(), m.end()) for m in _NAME.finditer(answer)]
    n = len(mentions)
    parsed = _read(_segments(answer, mentions), n, "named")
    if n == 0 or sorted(parsed.coords) != list(range(n)):
        prefix = f"{where}: " if where else ""
        raise ValueError(
            f"{prefix}probe answer must be 'object0: (x, y), object1: (x, y), ...', "
            f"got {answer[:120]!r}"
        )
    labels = question_labels(question) if question else []
    return Truth(
        tuple(parsed.coords[i] for i in range(n)),
        tuple(labels) if len(labels) == n else (),
    )
