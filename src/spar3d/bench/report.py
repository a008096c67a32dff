"""SPAR-Bench reports: scores with bootstrap confidence intervals next to the paper's table 4.

``write_report(result, out_dir)`` writes ``report.md``, ``report.png`` and ``scores.json``;
``compare_markdown`` puts several runs side by side. The paper's rows are data
(``spar3d/bench/data/paper_table4.json``), mapped from the paper's column names to task ids.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from spar3d.io import atomic_open, save_png, write_json
from spar3d.task_table import SPAR_BENCH, display_order

from .scoring import LEVEL_NAMES, LEVELS, ScoreResult, level_of

#: Tasks in the paper's column order (Low, Medium, High), used for every table and chart.
TASK_ORDER: tuple[str, ...] = display_order(SPAR_BENCH)
DEFAULT_PAPER_ROWS: tuple[str, ...] = ("Human Level", "Chance Level (Frequency)")


@dataclass(frozen=True)
class PaperRow:
    """One row of the paper's table 4.

    Attributes:
        name: Model (or baseline) as printed, citation removed.
        split: "baseline", "tiny" or "full".
        rank: Printed rank, or None.
        values: Scores 0-100 keyed by task id and "overall", "Low", "Medium", "High";
            None where the paper prints "-".
        medium_tasks: How many tasks the printed Medium averages (3, or 2 for the scorer quirk).
        errata: Printed aggregates that are not the mean of the printed task values.
    """

    name: str
    split: str
    rank: int | None
    values: dict[str, float | None]
    medium_tasks: int | None = None
    errata: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.split})"


@lru_cache(maxsize=1)
def _paper_doc() -> dict[str, Any]:
    text = resources.files("spar3d.bench").joinpath("data/paper_table4.json").read_text("utf-8")
    return json.loads(text)


def paper_columns() -> dict[str, str]:
    """The paper's column names mapped to task ids (and "overall", "Low", "Medium", "High")."""
    return dict(_paper_doc()["columns"])


def paper_table() -> list[PaperRow]:
    """Every row of the paper's table 4, in printed order."""
    return [
        PaperRow(
            name=r["name"],
            split=r["split"],
            rank=r["rank"],
            values=dict(r["values"]),
            medium_tasks=r["medium_tasks"],
            errata=tuple(r["errata"]),
        )
        for r in _paper_doc()["rows"]
    ]


def find_paper_rows(names: Sequence[str | PaperRow]) -> list[PaperRow]:
    """Look rows up by name ("GPT-4o": every split) or "split:name" ("full:GPT-4o").

    Raises:
        KeyError: naming the unknown row and listing the known names.
    """
    table = paper_table()
    out: list[PaperRow] = []
    for name in names:
        if isinstance(name, PaperRow):
            out.append(name)
            continue
        split, _, bare = name.rpartition(":") if ":" in name else ("", "", name)
        hits = [r for r in table if r.name == bare and (not split or r.split == split)]
        if not hits:
            known = ", ".join(sorted({r.name for r in table}))
            raise KeyError(f"no row {name!r} in the paper's table 4; known: {known}")
        out.extend(hits)
    return out


@dataclass(frozen=True)
class Intervals:
    """Bootstrap percentile intervals (0-100) for tasks, levels and overall."""

    tasks: dict[str, tuple[float, float]]
    levels: dict[str, tuple[float, float] | None]
    overall: tuple[float, float] | None
    n_boot: int
    confidence: float
    seed: int


def resample_indices(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """``(n_boot, n)`` indices of ``n`` items drawn with replacement, one row per replicate."""
    return rng.integers(0, n, size=(n_boot, n))


def percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[float, float] | None:
    """The percentile-bootstrap interval of a statistic's replicates (NaN replicates ignored);
    None when every replicate is NaN."""
    x = np.asarray(replicates, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return None
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(x, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def bootstrap_intervals(
    result: ScoreResult, n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
) -> Intervals:
    """Percentile bootstrap over samples, resampled within each task (stratified).

    Each replicate resamples every task's per-sample scores with replacement, recomputes the
    task means and aggregates them exactly like the scorer does in ``result.mode`` (so the
    compat Medium interval omits view_change_infer too).
    """
    rng = np.random.default_rng(seed)
    by_task: dict[str, Any] = dict(result.task_scores)
    if not by_task:
        for _, task, score in result.per_sample:
            by_task.setdefault(task, []).append(score)
    names = sorted(by_task)
    # (n_boot, n_tasks) matrix of replicate task means, in percent
    reps = np.empty((n_boot, len(names)))
    for j, task in enumerate(names):
        x = np.asarray(by_task[task], dtype=np.float64)
        # In row chunks: one (n_boot, n) index matrix of a 1 M-sample task would take 8 GB.
        step = max(1, 4_000_000 // max(1, len(x)))
        for lo in range(0, n_boot, step):
            rows = min(step, n_boot - lo)
            reps[lo : lo + rows, j] = x[resample_indices(rng, len(x), rows)].mean(axis=1) * 100.0

    def interval(cols: list[int]) -> tuple[float, float] | None:
        if not cols:
            return None
        return percentile_interval(reps[:, cols].mean(axis=1), confidence)

    tasks = {t: interval([j]) for j, t in enumerate(names)}
    levels = {
        lv: interval([j for j, t in enumerate(names) if level_of(t, result.mode) == lv])
        for lv in LEVEL_NAMES
    }
    return Intervals(
        tasks={t: v for t, v in tasks.items() if v is not None},
        levels=levels,
        overall=interval(list(range(len(names)))),
        n_boot=n_boot,
        confidence=confidence,
        seed=seed,
    )


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _fmt_ci(ci: tuple[float, float] | None) -> str:
    return "–" if ci is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def report_markdown(
    result: ScoreResult,
    intervals: Intervals | None = None,
    paper_rows: Sequence[PaperRow] = (),
    run_info: Mapping[str, Any] | None = None,
) -> str:
    """A Markdown report: overall, levels and tasks with n, failures, CIs and paper rows.

    ``run_info`` (a run folder's ``config.json``) adds the backend and the prompt preset.
    """
    short = {task: col for col, task in paper_columns().items()}
    head = ["", "paper column", "n", "failed", "score", f"{_ci_label(intervals)}"]
    head += [r.label for r in paper_rows]
    lines = [
        f"# SPAR-Bench scores ({result.mode} mode)",
        "",
        "Scores are percentages; the interval is a percentile bootstrap over samples, "
        "resampled within each task.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] * len(head)) + "|",
    ]

    def row(label: str, col: str, n: str, failed: str, key: str, value, ci) -> str:
        cells = [label, col, n, failed, _fmt(value), _fmt_ci(ci)]
        cells += [_fmt(r.values.get(key)) for r in paper_rows]
        return "| " + " | ".join(cells) + " |"

    total_n = sum(result.n.values())
    total_failed = sum(result.failures.values())
    ci = intervals
    lines.append(
        row("**overall**", "Avg.", str(total_n), str(total_failed), "overall", result.overall,
            ci.overall if ci else None)
    )  # fmt: skip
    for level in LEVEL_NAMES:
        lines.append(
            row(f"**{level}**", level, "", "", level, result.levels.get(level),
                ci.levels.get(level) if ci else None)
        )  # fmt: skip
    for task in TASK_ORDER:
        if task not in result.tasks:
            continue
        lines.append(
            row(task, short.get(task, ""), str(result.n[task]),
                str(result.failures.get(task, 0)), task, result.tasks[task],
                ci.tasks.get(task) if ci else None)
        )  # fmt: skip
    lines += ["", _level_note(result.mode)]
    if run_info:
        prompt = run_info.get("prompt") or {}
        lines += [
            "",
            f"Run: backend `{run_info.get('backend')}`; prompt preset "
            f"`{prompt.get('requested_preset', prompt.get('preset', '?'))}` -> "
            f"`{prompt.get('preset', '?')}` (numeric sentence: \"{prompt.get('numeric_post', '?')}\"; "
            f"source: {prompt.get('source', '?')}).",
        ]
    if paper_rows:
        lines += [
            "",
            "Paper rows: SPAR paper table 4 as printed. "
            + "; ".join(
                f"{r.label}: Medium averages {r.medium_tasks} tasks"
                + (
                    f", printed {', '.join(r.errata)} differ from the task means"
                    if r.errata
                    else ""
                )
                for r in paper_rows
                if r.medium_tasks
            ),
        ]
    return "\n".join(lines) + "\n"


def _ci_label(intervals: Intervals | None) -> str:
    return "CI" if intervals is None else f"{intervals.confidence:.0%} CI"


def _level_note(mode: str) -> str:
    if mode == "compat":
        kept = [t for t in LEVELS["Medium"] if level_of(t, mode) is not None]
        dropped = [t for t in TASK_ORDER if level_of(t, mode) is None]
        return (
            f"compat mode: Medium is the mean of {' and '.join(kept)} only; "
            f"{', '.join(dropped)} counts in overall but in no level (published scorer's "
            "behaviour)."
        )
    medium = ", ".join(LEVELS["Medium"])
    return f"strict mode: Medium is the mean of {medium}."


def plot_report(
    result: ScoreResult,
    path: str | Path,
    paper_rows: Sequence[PaperRow] = (),
    intervals: Intervals | None = None,
) -> Path:
    """A horizontal bar chart (PNG) of task, level and overall scores next to paper rows; this
    run's bars carry their bootstrap confidence intervals as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["overall", *LEVEL_NAMES, *[t for t in TASK_ORDER if t in result.tasks]]
    series = [(f"this run ({result.mode})", _values_of(result))]
    series += [(r.label, r.values) for r in paper_rows]
    height = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(keys) * max(1.0, len(series) / 2) + 1.5))
    y = np.arange(len(keys))
    for i, (label, values) in enumerate(series):
        xs = np.array([np.nan if (v := values.get(k)) is None else v for k in keys], dtype=float)
        xerr = None
        if i == 0 and intervals is not None:
            cis = [_interval_of(intervals, k) for k in keys]
            lo = [x - c[0] if c and np.isfinite(x) else 0.0 for x, c in zip(xs, cis, strict=True)]
            hi = [c[1] - x if c and np.isfinite(x) else 0.0 for x, c in zip(xs, cis, strict=True)]
            xerr = np.array([lo, hi])
            label += f" ({intervals.confidence:.0%} CI)"
        ax.barh(y + i * height, xs, height=height, label=label, xerr=xerr,
                error_kw={"elinewidth": 0.8, "capsize": 1.5})  # fmt: skip
    ax.set_yticks(y + height * (len(series) - 1) / 2, keys, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("score (%)")
    ax.set_title(f"SPAR-Bench ({result.mode} mode)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return save_png(fig, path, dpi=110)


def _interval_of(intervals: Intervals, key: str) -> tuple[float, float] | None:
    if key == "overall":
        return intervals.overall
    if key in intervals.levels:
        return intervals.levels[key]
    return intervals.tasks.get(key)


def _values_of(result: ScoreResult) -> dict[str, float | None]:
    return {"overall": result.overall, **result.levels, **result.tasks}


def write_report(
    result: ScoreResult,
    out_dir: str | Path,
    paper_rows: Sequence[str | PaperRow] = DEFAULT_PAPER_ROWS,
    n_boot: int = 1000,
    seed: int = 0,
    run_info: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write ``report.md``, ``report.png`` and ``scores.json`` (scores plus intervals).

    Args:
        result: Scores of one run.
        out_dir: Folder to write into (created).
        paper_rows: Rows of the paper's table 4 to show, by name or "split:name".
        n_boot: Bootstrap replicates.
        seed: Bootstrap seed (the report is reproducible).

    Returns:
        Paths keyed "markdown", "png", "json".
    """
    out = Path(out_dir)
    rows = find_paper_rows(list(paper_rows))
    intervals = bootstrap_intervals(result, n_boot=n_boot, seed=seed)
    paths = {"markdown": out / "report.md", "png": out / "report.png", "json": out / "scores.json"}
    with atomic_open(paths["markdown"], "w", encoding="utf-8") as fh:
        fh.write(report_markdown(result, intervals, rows, run_info))
    plot_report(result, paths["png"], rows, intervals)
    payload = result.to_dict()
    payload["failures"] = dict(result.failures)
    payload["intervals"] = {
        "confidence": intervals.confidence,
        "n_boot": intervals.n_boot,
        "seed": intervals.seed,
        "overall": intervals.overall,
        "levels": intervals.levels,
        "tasks": intervals.tasks,
    }
    write_json(paths["json"], payload)
    return paths


def compare_markdown(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """A Markdown table with one column per run (each a ``ScoreResult.to_dict()``)."""
    head = ["", *[label for label, _ in runs]]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    lines.append("| **overall** | " + " | ".join(_fmt(d.get("overall")) for _, d in runs) + " |")
    for level in LEVEL_NAMES:
        cells = [_fmt(d.get("levels", {}).get(level)) for _, d in runs]
        lines.append(f"| **{level}** | " + " | ".join(cells) + " |")
    for task in TASK_ORDER:
        if all(task not in d.get("tasks", {}) for _, d in runs):
            continue
        cells = [_fmt(d.get("tasks", {}).get(task)) for _, d in runs]
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    modes = ", ".join(f"{label}: {d.get('mode', '?')}" for label, d in runs)
    return "\n".join(lines) + f"\n\nModes: {modes}.\n"
