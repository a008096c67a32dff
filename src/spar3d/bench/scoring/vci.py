"""View-change inference (VCI): five signed camera-motion axes, each scored by MRA."""

from __future__ import annotations

import re

import numpy as np

from .mra import mra

#: (positive key, negative key) per axis: right-left, up-down, forward-backward (metres),
#: yaw = rotate right - rotate left, pitch = rotate up - rotate down (degrees).
AXES: tuple[tuple[str, str], ...] = (
    ("move_right", "move_left"),
    ("move_up", "move_down"),
    ("move_forward", "move_backward"),
    ("rotate_right", "rotate_left"),
    ("rotate_up", "rotate_down"),
)


def axis_values(pairs: dict[str, float]) -> tuple[float, ...]:
    """The five signed axis values; a missing key counts as 0."""
    return tuple(pairs.get(pos, 0) - pairs.get(neg, 0) for pos, neg in AXES)


def compat_pairs(text: str) -> dict[str, float]:
    """Published parse: split on ",", each item on ":" into exactly (key, value).

    Keys are kept verbatim (not stripped or lower-cased), so " move_up" after ", " or
    "move up" never match an axis; ``float`` reads the value. Raises ``ValueError`` on any item
    that is not exactly one "key:value" with a float value (the published scorer then scores 0).
    """
    out: dict[str, float] = {}
    for item in text.split(","):
        key, value = item.split(":")
        out[key] = float(value)
    return out


def compat_vci(prediction: str, answer: str) -> float:
    """Published VCI score: mean over the five axes of MRA(answer axis, prediction axis).

    The error is taken relative to the PREDICTION's axis value (absolute when that is 0), which
    is the argument order of the published scorer. Any parse failure scores 0.
    """
    try:
        pred_axes = axis_values(compat_pairs(prediction))
        gt_axes = axis_values(compat_pairs(answer))
    except ValueError:
        return 0.0
    # np.mean, not sum()/5: numpy's reduction order decides the last bit, and compat is exact.
    return float(np.mean([mra(g, p) for p, g in zip(pred_axes, gt_axes, strict=True)]))


_STRICT_PAIR = re.compile(
    r"\b(move|rotate|turn)[\s_-]*(right|left|up|down|forwards?|backwards?|back)\b"
    r"\s*[:=]?\s*(?:by\s+)?([-+\u2212]?\d+(?:[.,]\d+)?)",
    re.IGNORECASE,
)
_DIRECTION = {"back": "backward", "backwards": "backward", "forwards": "forward"}


def strict_pairs(text: str) -> dict[str, float]:
    """Lenient parse: "move right: 1.2", "move-right 1,2", "move_back: 0.3", "turn left: 90".

    Keys are lower-cased with spaces or hyphens made underscores; "back" means "backward" and
    "turn" means "rotate". A repeated key keeps its last value. Returns {} when nothing is found.
    """
    out: dict[str, float] = {}
    for verb, direction, number in _STRICT_PAIR.findall(text):
        verb = "rotate" if verb.lower() == "turn" else verb.lower()
        direction = _DIRECTION.get(direction.lower(), direction.lower())
        out[f"{verb}_{direction}"] = float(number.replace(",", ".").replace("\u2212", "-"))
    return out


def strict_vci(prediction: str, answer: str) -> float:
    """VCI relative to the ground truth: mean over axes of MRA(prediction axis, answer axis).

    Scores 0 when either side yields no key.
    """
    pred, gt = strict_pairs(prediction), strict_pairs(answer)
    if not pred or not gt:
        return 0.0
    pred_axes, gt_axes = axis_values(pred), axis_values(gt)
    return sum(mra(p, g) for p, g in zip(pred_axes, gt_axes, strict=True)) / len(AXES)
