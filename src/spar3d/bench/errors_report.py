"""Per-task error analysis of a run: worst tasks, letter confusion, numeric error distribution.

:class:`ErrorAnalysis` is an accumulator: feed it samples as they stream past the scorer
(:meth:`ErrorAnalysis.tap`), then write ``errors.md`` and ``errors.png`` with
:func:`write_error_analysis`. It holds counts, never samples, so it costs the same for 7 k or
1 M predictions.

- **Worst tasks**: tasks by score (the run's mode), with n, failed requests and the share of
  responses no strict rule can read (``unreadable``).
- **Letter confusion** (multiple-choice tasks, all pooled): rows are the correct letter, columns
  the letter the response states (strict reading), ``-`` when none; a model that always says
  "A" shows one full column.
- **Numeric errors** (numeric tasks, all pooled): the distribution of ``log2(prediction /
  answer)`` in half-octave bins (``0`` is exact, ``+1`` twice too large), the median absolute
  relative error and the shares of over- and under-estimates.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spar3d.io import atomic_open, save_png

from .scoring import ScoreResult, task_kind
from .scoring.choice import extract_letter
from .scoring.metrics import Sample
from .scoring.numbers import strict_number

#: Edges of the log2(prediction / answer) bins (half octaves from 1/4 to 4).
LOG2_EDGES: tuple[float, ...] = (-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0)
NO_LETTER = "-"


@dataclass
class ErrorAnalysis:
    """Counts gathered from samples; see the module docstring."""

    unreadable: Counter[str] = field(default_factory=Counter)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    log2_bins: list[int] = field(default_factory=lambda: [0] * (len(LOG2_EDGES) + 1))
    relative_errors: array[float] = field(default_factory=lambda: array("f"))
    over: int = 0
    under: int = 0
    numeric_unreadable: int = 0

    def add(self, s: Sample) -> None:
        if s.failed:
            return
        kind = task_kind(s.task)
        if kind == "choice":
            letter, _how = extract_letter(s.prediction.strip(), s.option_map)
            answer = s.answer.strip().upper()[:1] or NO_LETTER
            self.confusion[(answer, letter or NO_LETTER)] += 1
            if letter is None:
                self.unreadable[s.task] += 1
        elif kind == "numeric":
            pred, gt = strict_number(s.prediction, s.task), strict_number(s.answer, s.task)
            if pred is None or gt is None or gt.value <= 0 or pred.value <= 0:
                self.unreadable[s.task] += pred is None
                self.numeric_unreadable += pred is None
                return
            ratio = math.log2(pred.value / gt.value)
            self.log2_bins[int(np.searchsorted(LOG2_EDGES, ratio, side="right"))] += 1
            self.relative_errors.append(abs(pred.value - gt.value) / gt.value)
            self.over += pred.value > gt.value
            self.under += pred.value < gt.value

    def tap(self, samples: Iterable[Sample]) -> Iterator[Sample]:
        """Pass ``samples`` through unchanged, counting each."""
        for s in samples:
            self.add(s)
            yield s

    def letters(self) -> list[str]:
        found = {a for a, _ in self.confusion} | {p for _, p in self.confusion}
        return sorted(found - {NO_LETTER}) + ([NO_LETTER] if NO_LETTER in found else [])


def _bin_labels() -> list[str]:
    edges = LOG2_EDGES
    labels = [f"< {edges[0]:+g}"]
    labels += [f"{lo:+g} to {hi:+g}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return labels + [f">= {edges[-1]:+g}"]


def error_markdown(result: ScoreResult, analysis: ErrorAnalysis, worst: int = 5) -> str:
    """The Markdown view (see the module docstring)."""
    lines = [f"# SPAR-Bench error analysis ({result.mode} mode)", "", "## Worst tasks", ""]
    lines += ["| task | n | failed | unreadable | score |", "|---|---|---|---|---|"]
    ranked = sorted(result.tasks.items(), key=lambda kv: kv[1])
    for task, score in ranked[:worst]:
        n = result.n[task]
        lines.append(
            f"| {task} | {n} | {result.failures.get(task, 0)} | "
            f"{analysis.unreadable.get(task, 0) / n:.0%} | {score:.2f} |"
        )
    letters = analysis.letters()
    if letters:
        lines += ["", "## Letter confusion (multiple choice)", ""]
        lines += ["rows: correct letter; columns: letter the response states (`-`: none)", ""]
        lines += ["| answer | " + " | ".join(letters) + " |", "|---" * (len(letters) + 1) + "|"]
        for a in letters:
            if any(k[0] == a for k in analysis.confusion):
                cells = [str(analysis.confusion.get((a, p), 0)) for p in letters]
                lines.append(f"| {a} | " + " | ".join(cells) + " |")
    total = sum(analysis.log2_bins)
    if total or analysis.numeric_unreadable:
        lines += ["", "## Numeric errors", ""]
        if analysis.relative_errors:
            median = float(np.median(np.asarray(analysis.relative_errors, dtype=np.float32)))
            lines.append(
                f"{total} readable answers: median |relative error| {median:.2f}; "
                f"over-estimates {analysis.over / total:.0%}, under-estimates "
                f"{analysis.under / total:.0%}; {analysis.numeric_unreadable} without a number."
            )
        lines += ["", "| log2(prediction / answer) | answers |", "|---|---|"]
        for label, count in zip(_bin_labels(), analysis.log2_bins, strict=True):
            lines.append(f"| {label} | {count} |")
    return "\n".join(lines) + "\n"


def plot_errors(result: ScoreResult, analysis: ErrorAnalysis, path: str | Path) -> Path:
    """Three panels: worst tasks, letter confusion heat map, numeric log-ratio histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    ranked = sorted(result.tasks.items(), key=lambda kv: kv[1])[:8]
    ax = axes[0]
    ax.barh([t for t, _ in ranked], [v for _, v in ranked], color="tab:red")
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("score (%)")
    ax.set_title("worst tasks")
    ax.tick_params(axis="y", labelsize=7)
    ax = axes[1]
    letters = analysis.letters()
    rows = [a for a in letters if any(k[0] == a for k in analysis.confusion)]
    if rows:
        grid = np.array([[analysis.confusion.get((a, p), 0) for p in letters] for a in rows])
        ax.imshow(grid, cmap="Blues")
        ax.set_xticks(range(len(letters)), letters)
        ax.set_yticks(range(len(rows)), rows)
        for i in range(len(rows)):
            for j in range(len(letters)):
                ax.text(j, i, str(grid[i, j]), ha="center", va="center", fontsize=7)
    ax.set_xlabel("stated letter")
    ax.set_ylabel("correct letter")
    ax.set_title("letter confusion")
    ax = axes[2]
    ax.bar(range(len(analysis.log2_bins)), analysis.log2_bins, color="tab:blue")
    ax.set_xticks(range(len(analysis.log2_bins)), _bin_labels(), rotation=45, fontsize=7)
    ax.set_xlabel("log2(prediction / answer)")
    ax.set_title("numeric errors")
    fig.tight_layout()
    return save_png(fig, path, dpi=100)


def write_error_analysis(
    result: ScoreResult, analysis: ErrorAnalysis, out_dir: str | Path
) -> dict[str, Path]:
    """Write ``errors.md`` and ``errors.png`` into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    paths = {"markdown": out / "errors.md", "png": out / "errors.png"}
    with atomic_open(paths["markdown"], "w", encoding="utf-8") as fh:
        fh.write(error_markdown(result, analysis))
    plot_errors(result, analysis, paths["png"])
    return paths


def analyse(samples: Iterable[Sample]) -> ErrorAnalysis:
    """Counts over ``samples`` (a convenience over :meth:`ErrorAnalysis.add`)."""
    analysis = ErrorAnalysis()
    for s in samples:
        analysis.add(s)
    return analysis


__all__: list[Any] = ["ErrorAnalysis", "analyse", "error_markdown", "plot_errors",
                      "write_error_analysis"]  # fmt: skip
