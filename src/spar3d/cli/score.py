"""``spar3d score`` and ``spar3d compare``: re-score saved predictions without calling a model."""

from __future__ import annotations

import json
from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from spar3d.bench.errors_report import ErrorAnalysis, write_error_analysis
from spar3d.bench.report import (
    DEFAULT_PAPER_ROWS,
    TASK_ORDER,
    bootstrap_intervals,
    compare_markdown,
    find_paper_rows,
    report_markdown,
    write_report,
)
from spar3d.bench.scoring import LEVEL_NAMES, MODES, ScoreResult, diff_samples, read_samples
from spar3d.bench.scoring.score import available_modes, score_samples, score_stream
from spar3d.cli._options import ProgressFlag, QuietFlag, folded, names_option, open_choice
from spar3d.errors import Spar3dError
from spar3d.io import atomic_open, write_json, write_jsonl
from spar3d.progress import Progress

PREDICTIONS_NAME = "predictions.jsonl"


#: Prediction formats read by built-in adapters (``spar3d.prediction_formats`` adds more).
BUILTIN_FORMATS = ("auto", "spar3d-run", "records", "lmms-eval", "plain")
#: Scoring modes built in (``spar3d.metrics`` plugins may add modes); ``both`` is compat + strict.
BUILTIN_MODES = ("compat", "strict")


class CompareMode(str, Enum):
    compat = "compat"
    strict = "strict"


def predictions_path(path: Path) -> Path:
    """``path`` itself, or ``path/predictions.jsonl`` for a run directory."""
    if path.is_dir():
        found = path / PREDICTIONS_NAME
        if not found.is_file():
            raise typer.BadParameter(f"{path}: run directory has no {PREDICTIONS_NAME}")
        return found
    if not path.is_file():
        raise typer.BadParameter(f"{path}: no such file or directory")
    return path


def _modes(mode: str) -> list[str]:
    if mode == "both":
        return list(MODES)
    known = available_modes()  # compat, strict and modes plugins register
    if mode not in known:
        raise typer.BadParameter(f"--mode must be {', '.join(known)} or both, not {mode!r}")
    return [mode]


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def scores_table(results: list[ScoreResult], title: str) -> Table:
    """A rich table: one row per task (n, failures, score per mode), then levels and overall."""
    table = Table(title=title)
    table.add_column("task", overflow="fold")
    table.add_column("n", justify="right")
    table.add_column("failed", justify="right")
    for r in results:
        table.add_column(r.mode, justify="right")
    first = results[0]
    for task in TASK_ORDER:
        if task in first.tasks:
            cells = [_fmt(r.tasks.get(task)) for r in results]
            table.add_row(task, str(first.n[task]), str(first.failures.get(task, 0)), *cells)
    table.add_section()
    for level in LEVEL_NAMES:
        table.add_row(level, "", "", *[_fmt(r.levels.get(level)) for r in results])
    n_all, failed_all = sum(first.n.values()), sum(first.failures.values())
    table.add_row("overall", str(n_all), str(failed_all), *[_fmt(r.overall) for r in results])
    return table


def _diff_output(console: Console, samples: list[Any], out: Path | None, show: int) -> None:
    diffs = diff_samples(samples)
    counts = Counter(d.quirk for d in diffs)
    table = Table(title=f"{len(diffs)} samples score differently in compat and strict")
    table.add_column("quirk")
    table.add_column("samples", justify="right")
    for quirk, count in counts.most_common():
        table.add_row(quirk, str(count))
    console.print(folded(table))
    if show and diffs:
        detail = Table(title=f"first {min(show, len(diffs))} differing samples")
        for col in ("id", "task", "prediction", "answer", "compat", "strict", "quirk"):
            detail.add_column(col, overflow="fold")
        for d in diffs[:show]:
            detail.add_row(
                str(d.id), d.task, d.prediction[:80], d.answer[:60],
                f"{d.compat:.2f}", f"{d.strict:.2f}", d.quirk,
            )  # fmt: skip
        console.print(folded(detail))
    if out is not None:
        write_jsonl(out, (d.to_dict() for d in diffs))
        console.print(f"wrote {out}")


def score_command(
    predictions: Annotated[
        Path, typer.Argument(help="Predictions JSONL, or a run directory with predictions.jsonl.")
    ],
    mode: Annotated[
        str,
        open_choice(
            "--mode", builtin=(*BUILTIN_MODES, "both"), group="spar3d.metrics",
            help="Scoring mode; both is compat and strict.",
        ),
    ] = "compat",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write scores as JSON.")] = None,
    markdown_out: Annotated[
        Path | None, typer.Option("--markdown", help="Write a Markdown report.")
    ] = None,
    report_dir: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Write report.md, report.png, scores.json (with CIs), errors.md, errors.png.",
        ),
    ] = None,
    paper: Annotated[
        list[str] | None,
        names_option("--paper", help="Paper table-4 rows in reports (name or split:name)."),
    ] = None,
    diff: Annotated[
        bool,
        typer.Option("--diff/--no-diff", help="List samples scored differently by the two modes."),
    ] = False,
    diff_out: Annotated[
        Path | None, typer.Option("--diff-jsonl", help="Write every differing sample here.")
    ] = None,
    show: Annotated[int, typer.Option(help="Differing samples printed with --diff.")] = 20,
    fmt: Annotated[
        str,
        open_choice(
            "--format", builtin=BUILTIN_FORMATS, group="spar3d.prediction_formats",
            help="Predictions format: auto (detected from the first line), spar3d-run, "
            "records, lmms-eval (--log_samples file), plain ({id, prediction}; needs --bench).",
        ),
    ] = "auto",
    bench: Annotated[
        Path | None,
        typer.Option(help="Benchmark Parquet (file or folder): ground truth for plain lines."),
    ] = None,
    progress: ProgressFlag = True,
    quiet: QuietFlag = False,
) -> None:
    """Score saved predictions (SPAR-Bench metrics) without calling a model.

    Reads spar3d runs, lmms-eval --log_samples files and {id, prediction} JSONL (with --bench).
    """
    console = Console()
    path = predictions_path(predictions)
    fmt_name = fmt
    want_diff = diff or diff_out is not None
    samples: list[Any] = []
    try:
        modes = _modes(mode)
        bar = Progress("scoring (predictions)", None, enabled=progress and not quiet)
        stream = bar.tap(read_samples(path, fmt_name, bench))
        if want_diff:  # the diff compares modes sample by sample: it holds the samples
            samples = list(stream)
            stream = iter(samples)
        analysis = ErrorAnalysis() if report_dir is not None else None
        if analysis is not None:
            stream = analysis.tap(stream)
        results = score_stream(stream, modes, keep_ids=False)
        rows = find_paper_rows(paper if paper is not None else list(DEFAULT_PAPER_ROWS))
    except (ValueError, KeyError) as exc:
        if isinstance(exc, Spar3dError):
            raise  # a bad input file: one line naming file, line and field (exit 3)
        raise typer.BadParameter(str(exc.args[0] if exc.args else exc)) from None
    console.print(folded(scores_table(results, f"SPAR-Bench scores: {path}")))
    if json_out is not None:
        payload = (
            results[0].to_dict() if len(results) == 1 else {r.mode: r.to_dict() for r in results}
        )
        write_json(json_out, payload)
        console.print(f"wrote {json_out}")
    if markdown_out is not None:
        text = "\n".join(report_markdown(r, bootstrap_intervals(r), rows) for r in results)
        with atomic_open(markdown_out, "w", encoding="utf-8") as fh:
            fh.write(text)
        console.print(f"wrote {markdown_out}")
    if report_dir is not None:
        for r in results:
            target = report_dir / r.mode if len(results) > 1 else report_dir
            written = write_report(r, target, paper_rows=rows, run_info=_run_info(predictions))
            if analysis is not None:
                written.update(write_error_analysis(r, analysis, target))
            console.print(f"wrote {', '.join(str(p) for p in written.values())}")
    if want_diff:
        _diff_output(console, samples, diff_out, show if diff else 0)


def _run_info(path: Path) -> dict[str, Any] | None:
    """The run's ``config.json`` when ``path`` is a run folder (backend, prompt preset)."""
    config = path / "config.json" if path.is_dir() else path.parent / "config.json"
    if not config.is_file():
        return None
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def load_run(path: Path, mode: str) -> tuple[str, dict[str, Any]]:
    """A run's scores as ``(label, to_dict())`` from a run directory, predictions or JSON.

    A ``.json`` file may hold one ``ScoreResult.to_dict()`` or one per mode (``--mode both``).
    """
    if path.is_file() and path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "tasks" not in data and mode in data:
            data = data[mode]
        if not isinstance(data, dict) or "tasks" not in data:
            raise typer.BadParameter(f"{path}: not a scores JSON (no 'tasks' for mode {mode})")
        return path.stem, data
    label = path.name if path.is_dir() else path.stem
    try:
        return label, score_samples(read_samples(predictions_path(path)), mode).to_dict()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def compare_command(
    runs: Annotated[
        list[Path], typer.Argument(help="Run directories, predictions JSONL or scores JSON.")
    ],
    mode: Annotated[CompareMode, typer.Option(help="Scoring mode.")] = CompareMode.compat,
    paper: Annotated[
        list[str] | None,
        names_option("--paper", help="Add paper table-4 rows (name or split:name)."),
    ] = None,
    markdown_out: Annotated[
        Path | None, typer.Option("--markdown", help="Write the comparison as Markdown.")
    ] = None,
) -> None:
    """Put several runs (and paper rows) side by side."""
    loaded = [load_run(p, mode.value) for p in runs]
    try:
        loaded += [(r.label, _paper_as_scores(r.values)) for r in find_paper_rows(paper or [])]
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0])) from None
    table = Table(title=f"SPAR-Bench comparison ({mode.value})")
    table.add_column("")
    for label, _ in loaded:
        table.add_column(label, justify="right")
    table.add_row("overall", *[_fmt(d.get("overall")) for _, d in loaded])
    for level in LEVEL_NAMES:
        table.add_row(level, *[_fmt(d.get("levels", {}).get(level)) for _, d in loaded])
    table.add_section()
    for task in TASK_ORDER:
        if any(task in d.get("tasks", {}) for _, d in loaded):
            table.add_row(task, *[_fmt(d.get("tasks", {}).get(task)) for _, d in loaded])
    console = Console()
    console.print(folded(table))
    if markdown_out is not None:
        with atomic_open(markdown_out, "w", encoding="utf-8") as fh:
            fh.write(compare_markdown(loaded))
        console.print(f"wrote {markdown_out}")


def _paper_as_scores(values: dict[str, float | None]) -> dict[str, Any]:
    return {
        "mode": "paper",
        "overall": values.get("overall"),
        "levels": {lv: values.get(lv) for lv in LEVEL_NAMES},
        "tasks": {t: v for t in TASK_ORDER if (v := values.get(t)) is not None},
    }


def register(app: typer.Typer) -> None:
    """Add ``score`` and ``compare`` to the ``spar3d`` command."""
    app.command("score")(score_command)
    app.command("compare")(compare_command)
