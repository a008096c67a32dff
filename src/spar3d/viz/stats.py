"""Statistics of a SPAR-7M tree: counts per source/task/format and answer distributions.

Counts come from streaming line counts (every line). Answer distributions parse at most
``max_per_file`` lines per file, since parsing 7 M JSON lines is the slow part.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from spar3d.data.layout import count_lines, scan_tree
from spar3d.data.sample import question_answer
from spar3d.io import read_jsonl, save_png, write_json

_LETTER_RE = re.compile(r"^\s*\(?([A-D])\b")
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass
class Stats:
    """Counts and answer distributions.

    Attributes:
        counts: Lines per ``(source, task, format)``.
        letters: Per task, how often each option letter is the ``select`` answer.
        numbers: Per task, the first number of each ``fill`` answer.
        parsed: Samples parsed for the distributions.
    """

    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    letters: dict[str, Counter[str]] = field(default_factory=dict)
    numbers: dict[str, list[float]] = field(default_factory=dict)
    parsed: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "counts": [
                {"source": s, "task": t, "format": f, "count": n}
                for (s, t, f), n in sorted(self.counts.items())
            ],
            "letters": {t: dict(sorted(c.items())) for t, c in sorted(self.letters.items())},
            "numbers": {
                t: {"n": len(v), "min": min(v), "max": max(v)}
                for t, v in sorted(self.numbers.items())
                if v
            },
            "parsed": self.parsed,
        }


def add_answer(stats: Stats, task: str, fmt: str, answer: str) -> None:
    """Record one answer in the letter or number distribution of its task."""
    if fmt == "select":
        m = _LETTER_RE.match(answer)
        if m:
            stats.letters.setdefault(task, Counter())[m[1]] += 1
    elif fmt == "fill":
        m = _NUMBER_RE.search(answer)
        if m:
            stats.numbers.setdefault(task, []).append(float(m[0]))


def compute_stats(
    root: str | Path,
    sources: Iterable[str] | None = None,
    split: str = "train",
    max_per_file: int | None = 1000,
    progress: bool = False,
) -> Stats:
    """Statistics of the ``split`` of a SPAR-7M tree (``max_per_file=None`` parses all);
    ``progress`` shows one step per QA file (:mod:`spar3d.progress`)."""
    from spar3d.progress import progress as display

    stats = Stats()
    files = scan_tree(root, sources, split)
    for qa in display("stats (QA files)", len(files), progress).track(files):
        key = (qa.source, qa.task, qa.format)
        stats.counts[key] = stats.counts.get(key, 0) + count_lines(qa.path)
        for sample in islice(read_jsonl(qa.path), max_per_file):
            _, answer = question_answer(sample)
            add_answer(stats, qa.task, qa.format, answer)
            stats.parsed += 1
    return stats


def stats_table(stats: Stats) -> Any:
    """A rich ``Table`` of counts per source, task and format."""
    from rich.table import Table

    table = Table(title=f"SPAR-7M samples: {stats.total:,}")
    for col in ("source", "task", "format"):
        table.add_column(col)
    table.add_column("count", justify="right")
    for (s, t, f), n in sorted(stats.counts.items()):
        table.add_row(s, t, f, f"{n:,}")
    return table


def letters_table(stats: Stats) -> Any:
    """A rich ``Table`` of the ``select`` answer letters per task (share in %)."""
    from rich.table import Table

    table = Table(title="select answers: letter share (%)")
    table.add_column("task")
    for letter in "ABCD":
        table.add_column(letter, justify="right")
    for task, c in sorted(stats.letters.items()):
        total = sum(c.values())
        table.add_row(task, *(f"{100 * c[x] / total:.1f}" for x in "ABCD"))
    return table


def answer_unit(task: str) -> str:
    """Unit of a task's first fill-answer number, for axis labels."""
    from spar3d.task_table import task_row

    row = task_row(task)
    if (row is not None and row.kind == "numeric") or task.startswith("distance_prediction"):
        return "m"  # depth and distance answers
    units = {"room_size": "m²", "spatial_volume_infer": "cm (length)", "obj_count": "objects"}
    return units.get(task, "first number")


def stats_figures(stats: Stats) -> dict[str, Any]:
    """Matplotlib figures by file name: counts per task, answer letters (with chance lines: an
    equal share per option, 25 % each for four), and one histogram of fill answers per task. Every axis is labelled
    with its unit and every title gives n."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs: dict[str, Any] = {}
    per_task: Counter[str] = Counter()
    for (_, t, _), n in stats.counts.items():
        per_task[t] += n
    if per_task:
        tasks = sorted(per_task)
        fig, ax = plt.subplots(figsize=(8, 0.3 * len(tasks) + 1.5))
        ax.barh(tasks, [per_task[t] for t in tasks])
        ax.set_xlabel("samples (count)")
        ax.set_ylabel("task")
        ax.set_title(f"samples per task (n = {sum(per_task.values()):,})")
        figs["counts.png"] = fig
    if stats.letters:
        tasks = sorted(stats.letters)
        n = sum(sum(c.values()) for c in stats.letters.values())
        fig, ax = plt.subplots(figsize=(8, 0.3 * len(tasks) + 1.8))
        left = [0.0] * len(tasks)
        for letter in "ABCD":
            share = [100 * stats.letters[t][letter] / sum(stats.letters[t].values()) for t in tasks]
            ax.barh(tasks, share, left=left, label=letter)
            left = [a + b for a, b in zip(left, share, strict=True)]
        # chance: an equal share per option; the number of options is the highest letter used
        for y, t in enumerate(tasks):
            k = max("ABCD".index(x) for x in stats.letters[t]) + 1
            xs = [100 * j / k for j in range(1, k)]
            ax.vlines(xs, y - 0.45, y + 0.45, colors="black", linestyles="--", linewidth=0.9,
                      label="chance (equal share per option)" if y == 0 else "_nolegend_")  # fmt: skip
        ax.set_xlim(0, 100)
        ax.set_xlabel("share of select answers (%)")
        ax.set_ylabel("task")
        ax.set_title(f"correct option letter per task (n = {n:,})")
        ax.legend(ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.5 / len(tasks)))
        figs["letters.png"] = fig
    for task, values in sorted(stats.numbers.items()):
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.hist(values, bins=min(30, max(5, len(values) // 5)))
        ax.set_xlabel(f"answer ({answer_unit(task)})")
        ax.set_ylabel("samples (count)")
        ax.set_title(f"{task}: fill answers (n = {len(values):,})", fontsize=9)
        figs[f"numbers_{task}.png"] = fig
    return figs


def write_stats(stats: Stats, out_dir: str | Path) -> list[Path]:
    """Write ``stats.json`` and the PNG plots of :func:`stats_figures` to ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "stats.json"]
    write_json(written[0], stats.to_json())
    for name, fig in stats_figures(stats).items():
        written.append(_save(fig, out_dir / name))
    return written


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    return save_png(fig, path, dpi=100)
