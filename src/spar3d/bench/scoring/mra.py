"""Mean relative accuracy (MRA), the metric behind every numeric SPAR-Bench score."""

from __future__ import annotations

import math

import numpy as np

#: Confidence thresholds 0.50, 0.55, ..., 0.95. They are built the way the published scorer
#: builds them (``np.linspace``), and a hit is ``error <= 1 - threshold``: the tolerances are
#: therefore not round decimals (1 - 0.9 is 0.10000000000000009), and reproducing them bit for
#: bit decides samples that sit exactly on a boundary.
THRESHOLDS: tuple[float, ...] = tuple(float(t) for t in np.linspace(0.5, 0.95, 10))
TOLERANCES: tuple[float, ...] = tuple(float(1.0 - t) for t in np.linspace(0.5, 0.95, 10))


def relative_error(value: float, reference: float) -> float:
    """``|value - reference| / |reference|``, or the absolute error when ``reference`` is 0."""
    if reference == 0.0:
        return abs(value - reference)
    return abs((value - reference) / reference)


def mra(value: float, reference: float) -> float:
    """Fraction of the 10 thresholds at which ``value`` is close enough to ``reference``.

    Args:
        value: The estimate being judged.
        reference: The quantity the error is measured relative to (the ground truth in
            ``mra(pred, gt)``).

    Returns:
        A score in {0.0, 0.1, ..., 1.0}; NaN or infinite inputs score 0.
    """
    err = relative_error(value, reference)
    if math.isnan(err):
        return 0.0
    return sum(err <= tol for tol in TOLERANCES) / len(TOLERANCES)
