"""Multiple-choice options: exactly one correct, the correct letter's position uniform.

Numeric distractors sit on an evenly spaced grid around the answer with the answer's rounding, and
the answer's rank inside that grid is drawn at random as well, so neither the letter position nor
"pick the middle value" beats chance. The grid step is a fraction of the grid's CENTRE, not of the
answer: a step proportional to the answer would let "the option x with step / x in the step range"
single out the answer (about 40 % right instead of 25 %).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LETTERS = "ABCD"


@dataclass(frozen=True)
class OptionSet:
    """Options in display order and the index of the correct one."""

    options: list[str]
    correct_index: int

    @property
    def correct_letter(self) -> str:
        return LETTERS[self.correct_index]

    def text(self) -> str:
        """SPAR's inline option list: ``"A. 2.2; B. 2.3; C. 2.1; D. 1.4"``."""
        return "; ".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(self.options))

    def letters_text(self) -> str:
        """``"A, B, C or D"`` (``"A, B"`` for two options, as in SPAR's examples)."""
        letters = list(LETTERS[: len(self.options)])
        if len(letters) == 2:
            return "A, B"
        return ", ".join(letters[:-1]) + " or " + letters[-1]


def _place(correct: str, distractors: list[str], rng: np.random.Generator) -> OptionSet:
    """Put ``correct`` at a uniformly drawn position and the distractors, shuffled, around it."""
    n = len(distractors) + 1
    pos = int(rng.integers(n))
    order = [distractors[i] for i in rng.permutation(len(distractors))]
    options = order[:pos] + [correct] + order[pos:]
    return OptionSet(options, pos)


def numeric_options(
    value: float,
    rng: np.random.Generator,
    *,
    decimals: int = 1,
    n_options: int = 4,
    minimum: float | None = None,
    rel_step: tuple[float, float] = (0.09, 0.15),
) -> OptionSet:
    """Options for a numeric answer.

    The answer ``a`` (rounded to ``decimals``) sits on a grid ``a + k * step`` with ``k`` distinct
    non-zero integers. The number of options below the answer is drawn uniformly among the counts
    that keep every option ``>= minimum``; ``step`` is then a random fraction in ``rel_step`` of the
    magnitude of the grid's centre (rounded to the answer's precision, at least one unit of it), so
    the ratio step / centre, which anyone can read off the options, is the same whichever option is
    right. The default range keeps the step within 8-20 % of the answer.

    Args:
        value: The exact answer.
        rng: Random generator of the task.
        decimals: Decimals of every option.
        n_options: Number of options (2-4).
        minimum: Smallest allowed option (None: no bound, negative values allowed).
        rel_step: Range of the grid step relative to the grid's centre.
    """
    if not 2 <= n_options <= len(LETTERS):
        raise ValueError(f"n_options must be 2..{len(LETTERS)}, got {n_options}")
    unit = 10.0 ** (-decimals)
    a_units = int(round(round(value, decimals) / unit))
    n_d = n_options - 1
    frac = rng.uniform(*rel_step)

    def step_for(below: int) -> int:
        # centre = a + (n_d / 2 - below) * step and step = frac * |centre|, solved for step
        offset = n_d / 2 - below
        sign = 1.0 if a_units >= 0 else -1.0
        step = frac * abs(a_units) / max(1e-9, 1.0 - frac * offset * sign)
        return max(1, int(round(step)))

    feasible = [
        below
        for below in range(n_d + 1)
        if minimum is None or (a_units - below * step_for(below)) * unit >= minimum - 1e-9
    ]
    if not feasible:  # the answer itself is below the minimum: put every distractor above it
        feasible = [0]
    below = int(feasible[int(rng.integers(len(feasible)))])
    step_units = step_for(below)
    ks = [-k for k in range(1, below + 1)] + list(range(1, n_d - below + 1))
    distractors = [f"{(a_units + k * step_units) * unit:.{decimals}f}" for k in ks]
    return _place(f"{a_units * unit:.{decimals}f}", distractors, rng)


def choice_options(
    correct: str, candidates: list[str], rng: np.random.Generator, *, n_options: int = 4
) -> OptionSet:
    """Options for a categorical answer: up to ``n_options - 1`` distinct distractors.

    Raises:
        ValueError: when no distractor differs from the answer (a task must not ask then).
    """
    pool = sorted({c for c in candidates if c != correct})
    if not pool:
        raise ValueError(f"no distractor differs from the answer {correct!r}")
    k = min(n_options - 1, len(pool))
    picked = [pool[i] for i in sorted(rng.choice(len(pool), size=k, replace=False))]
    return _place(correct, picked, rng)
