"""Reading a number out of a model's free-text answer, as published (compat) and fixed (strict)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .tasks import is_multi_view

# Published rule: "digits.digits" or "digits", not directly after "^" (so "10^3" yields 10).
_COMPAT_NUMBER = re.compile(r"(?<!\^)(?:\d+\.\d+|\d+)")


def compat_number(prediction: str, task: str) -> float | None:
    """The number the published scorer reads from ``prediction``, or None when it scores 0.

    Single-view tasks take the first match and have no fallback (no number: None); ``_mv``
    tasks take the last match, and -1 when there is none. Signs, decimal commas and units are
    not understood. Every match is converted, as published, so one match too long for Python's
    ``int`` (over 4,300 digits) or a float overflow makes the whole sample score 0.
    """
    try:
        values = [float(m) if "." in m else int(m) for m in _COMPAT_NUMBER.findall(prediction)]
        if is_multi_view(task):
            chosen: float = values[-1] if values else -1
        else:
            chosen = values[0]
        return float(chosen)
    except (IndexError, ValueError, OverflowError):
        return None


def compat_answer(answer: str) -> float | None:
    """The ground truth as the published scorer reads it: ``float(answer)`` or None (scores 0)."""
    try:
        return float(answer)
    except (TypeError, ValueError, OverflowError):
        return None


# Lengths in metres. "in" is left out on purpose: "3 in the image" is not 3 inches.
_UNIT_TO_M: dict[str, float] = {
    "millimeters": 1e-3, "millimetres": 1e-3, "millimeter": 1e-3, "millimetre": 1e-3, "mm": 1e-3,
    "centimeters": 1e-2, "centimetres": 1e-2, "centimeter": 1e-2, "centimetre": 1e-2, "cm": 1e-2,
    "kilometers": 1e3, "kilometres": 1e3, "kilometer": 1e3, "kilometre": 1e3, "km": 1e3,
    "meters": 1.0, "metres": 1.0, "meter": 1.0, "metre": 1.0, "m": 1.0,
    "inches": 0.0254, "inch": 0.0254,
    "feet": 0.3048, "foot": 0.3048, "ft": 0.3048,
}  # fmt: skip
_UNITS = "|".join(sorted(_UNIT_TO_M, key=len, reverse=True))
# A signed number (ASCII or Unicode minus) with "." or "," as decimal mark, optionally followed
# by a length unit. The sign counts only when it does not join two numbers ("1-2 m").
_STRICT_NUMBER = re.compile(
    rf"(?<![\w.^])(?P<sign>[-+\u2212]?)(?:(?P<int>\d+)(?:(?P<mark>[.,])(?P<frac>\d+))?|\.(?P<lead>\d+))"
    rf"(?:\s*(?P<unit>{_UNITS})\b)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Quantity:
    """A number read by the strict parser, converted to metres when it carried a unit.

    Attributes:
        value: The value in the answer's unit (metres for every numeric SPAR-Bench task).
        negative: Whether a minus sign was read.
        decimal_comma: Whether "," was read as the decimal mark.
        unit: The unit as written (lower-case), or "" when there was none.
    """

    value: float
    negative: bool
    decimal_comma: bool
    unit: str


def strict_quantities(text: str) -> list[Quantity]:
    """Every number in ``text`` with its sign, decimal mark and unit, in order of appearance.

    ".5" is 0.5; "1e3" yields only 1 (exponents are not read); a number right after "^" is
    skipped, as in compat.

    A comma followed by exactly three digits is read as a thousands separator ("1,500" is
    1500); any other comma between digits is a decimal mark ("1,5" is 1.5).
    """
    out: list[Quantity] = []
    for m in _STRICT_NUMBER.finditer(text):
        mark, frac = m.group("mark"), m.group("frac")
        comma = mark == ","
        if m.group("lead") is not None:  # ".5"
            literal = "0." + m.group("lead")
        elif mark is None:
            literal = m.group("int")
        elif comma and len(frac) == 3:
            literal = m.group("int") + frac
            comma = False
        else:
            literal = f"{m.group('int')}.{frac}"
        try:
            value = float(literal)
        except (ValueError, OverflowError):
            continue
        unit = (m.group("unit") or "").lower()
        value *= _UNIT_TO_M.get(unit, 1.0)
        negative = m.group("sign") in ("-", "\u2212")
        out.append(Quantity(-value if negative else value, negative, comma, unit))
    return out


def strict_number(text: str, task: str) -> Quantity | None:
    """The strict reading of a numeric answer: first quantity (last for ``_mv``), or None."""
    found = strict_quantities(text)
    if not found:
        return None
    return found[-1] if is_multi_view(task) else found[0]
