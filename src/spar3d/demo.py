"""The whole pipeline on built-in synthetic scenes: ``spar3d demo``.

synth (ScanNet layout, or another with ``layout``) -> index -> generate (train and val splits, SPAR-7M layout) -> training
index (data_jsons) -> benchmark (Tiny-sized, from val) -> baselines random / frequency / oracle
-> score table beside the paper's rows -> HTML gallery. Every stage is the library function the
matching CLI command calls; re-running the demo in the same folder resumes (scenes and indexes
that exist are reused).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape

from spar3d.errors import ConfigError


@dataclass
class DemoConfig:
    """Sizes of the demo; the defaults finish in a few minutes on two CPU cores."""

    out: Path = Path("spar3d_demo")
    scenes: int = 4
    val_scenes: int = 2
    frames: int = 120
    width: int = 320
    height: int = 240
    per_task_train: int = 40
    per_task_val: int = 80
    bench_per_task: int = 16
    seed: int = 0
    baselines: tuple[str, ...] = ("random", "frequency", "oracle")
    layout: str = "scannet"
    #: bench build's numeric strata: "log" spreads the 16 numeric answers of a task over the
    #: split's whole range (see spar3d.bench.build), so a constant guess cannot live off the
    #: synthetic rooms' narrower spread of distances
    numeric_strata: str = "log"


@dataclass
class DemoResult:
    """Where the demo put things."""

    paths: dict[str, Path] = field(default_factory=dict)
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _stage(console: Console, result: DemoResult, name: str, fn: Callable[[], Any]) -> Any:
    console.rule(f"[bold]{name}")
    t0 = time.perf_counter()
    value = fn()
    result.seconds[name] = round(time.perf_counter() - t0, 1)
    console.print(f"[dim]{name}: {result.seconds[name]} s")
    return value


def run_demo(config: DemoConfig | None = None, console: Console | None = None) -> DemoResult:
    """Run every stage and print where the outputs are."""
    from spar3d.bench.build import build_bench
    from spar3d.bench.eval.backends import make_backend
    from spar3d.bench.eval.runner import evaluate
    from spar3d.data.data_json import build_data_json, write_data_jsons
    from spar3d.data.sample import iter_samples
    from spar3d.generate import generate
    from spar3d.index.run import index_scene_dirs
    from spar3d.scenes.synthetic.synthesize import synthesize
    from spar3d.viz.show import write_gallery

    cfg = config or DemoConfig()
    console = console or Console()
    out = Path(cfg.out)
    res = DemoResult()
    if cfg.val_scenes >= cfg.scenes:
        raise ConfigError(
            f"--val-scenes {cfg.val_scenes} leaves no training scene of --scenes {cfg.scenes}"
        )
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")

    scene_dirs = _stage(
        console, res, "synth",
        lambda: synthesize(out / "scenes", cfg.scenes, cfg.seed, cfg.frames, cfg.width, cfg.height,
                           layout=cfg.layout),
    )
    outcomes = _stage(console, res, "index", lambda: index_scene_dirs(scene_dirs))
    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed:
        console.print(f"[red]index failed for {escape(str(o.scene_dir))}: {escape(str(o.error))}")
    ok_dirs = [o.scene_dir for o in outcomes if o.status != "failed"]
    train_dirs, val_dirs = ok_dirs[: -cfg.val_scenes], ok_dirs[-cfg.val_scenes :]
    spar = out / "spar"

    def _generate() -> None:
        for split, dirs, n in (("train", train_dirs, cfg.per_task_train),
                               ("val", val_dirs, cfg.per_task_val)):
            s = generate(dirs, spar, split=split, per_task=n, seed=cfg.seed)
            total = sum(sum(t.generated.values()) for t in s.tasks.values())
            console.print(f"{split}: {total} QA from {len(s.scenes_ok)} scenes, "
                          f"{len(s.tasks)} task types, {len(s.files)} files")
            for scene, err in s.scenes_failed.items():
                console.print(f"[red]{split}: scene {escape(str(scene))} failed: {escape(str(err))}")

    _stage(console, res, "generate", _generate)

    def _data_index() -> list[Path]:
        return write_data_jsons(build_data_json(spar, split="train"), out / "data_jsons")

    res.paths["data_jsons"] = _stage(console, res, "data-json", _data_index)[0].parent
    bench = _stage(
        console, res, "bench build",
        lambda: build_bench(spar, out / "bench", split="val", per_task=cfg.bench_per_task,
                            seed=cfg.seed, numeric_strata=cfg.numeric_strata),
    )
    train_bench = _stage(
        console, res, "bench build (train split, for the frequency baseline)",
        lambda: build_bench(spar, out / "bench_train", split="train",
                            per_task=cfg.bench_per_task * 4, seed=cfg.seed),
    )
    res.paths["bench"] = bench.path

    def _baselines() -> None:
        for name in cfg.baselines:
            kwargs: dict[str, Any] = {"train": str(train_bench.path)} if name == "frequency" else {}
            backend = make_backend(name, **kwargs)
            run = evaluate(bench.path, backend, out / "runs" / name, progress=False)
            res.scores[name] = run.scores
            res.paths[f"run_{name}"] = run.run_dir

    _stage(console, res, "evaluate baselines", _baselines)
    _print_scores(console, res)
    _print_task_table(console, res, bench.path)
    res.paths["gallery"] = _stage(
        console, res, "gallery",
        lambda: write_gallery(iter_samples(spar, None, "val", 3, None, None), out / "gallery"),
    )
    console.rule("[bold]done")
    for key, label in (("data_jsons", "training data_json"), ("bench", "benchmark (Parquet)"),
                       ("gallery", "gallery (open in a browser)")):
        console.print(f"{label}: {res.paths[key]}")
    console.print(f"scenes: {out / 'scenes'}   QA (SPAR-7M layout): {spar}   runs: {out / 'runs'}")
    return res


def _print_scores(console: Console, res: DemoResult) -> None:
    """Baselines next to the paper's table-4 rows (chance and human)."""
    from rich.table import Table

    from spar3d.bench.report import find_paper_rows
    from spar3d.task_table import LEVEL_NAMES

    table = Table(title="SPAR-Bench scores (0-100) on the demo benchmark, and the paper's rows")
    table.add_column("row")
    for col in ("overall", *LEVEL_NAMES):
        table.add_column(col, justify="right")

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    for name, by_mode in res.scores.items():
        for mode, s in by_mode.items():
            lv = s.get("levels", {})
            table.add_row(f"{name} ({mode})", fmt(s.get("overall")),
                          *(fmt(lv.get(k)) for k in LEVEL_NAMES))
    for row in find_paper_rows(["Chance Level (Frequency)", "Human Level", "full:GPT-4o"]):
        table.add_row(f"paper: {row.label}",
                      *(fmt(row.values.get(k)) for k in ("overall", *LEVEL_NAMES)))
    console.print(table)


@dataclass(frozen=True)
class TaskSpread:
    """What a benchmark task's answers allow a model that ignores the images.

    Attributes:
        n: Samples of the task.
        chance: Multiple choice: the uniform-chance score ``100 * mean(1 / options)``.
        letters: Multiple choice: share (0-100) of each correct letter.
        values: Numeric: the answers.
        best_constant: Numeric: the best single guess for every sample and its MRA score (0-100),
            an upper bound on any constant-answer baseline (``frequency`` included).
    """

    n: int
    chance: float | None = None
    letters: dict[str, float] = field(default_factory=dict)
    values: tuple[float, ...] = ()
    best_constant: tuple[float, float] | None = None

    def spread_text(self) -> str:
        """``mean±sd [q10 q50 q90]`` of numeric answers, or the letters' shares (``A25 B25``)."""
        if self.values:
            a = np.asarray(self.values)
            q = np.quantile(a, (0.1, 0.5, 0.9))
            return f"{a.mean():.2f}±{a.std():.2f} [{q[0]:.1f} {q[1]:.1f} {q[2]:.1f}]"
        return " ".join(f"{k}{v:.0f}" for k, v in sorted(self.letters.items()))


def best_constant_mra(values: list[float]) -> tuple[float, float]:
    """The constant answer with the highest mean MRA over ``values`` and that score (0-100).

    MRA of a constant is piecewise constant between the points ``v * (1 -+ tol)``, so trying
    those breakpoints' midpoints and the values themselves finds the maximum."""
    from spar3d.bench.scoring.mra import TOLERANCES, mra

    a = np.asarray(values, float)
    cands = {float(v) for v in a}
    for tol in TOLERANCES:
        cands |= {float(v) * (1 - tol) for v in a} | {float(v) * (1 + tol) for v in a}
    ordered = sorted(cands)
    cands |= {(x + y) / 2 for x, y in zip(ordered[:-1], ordered[1:], strict=True)}
    best = max(sorted(cands), key=lambda c: sum(mra(c, float(v)) for v in a))
    return best, 100.0 * float(np.mean([mra(best, float(v)) for v in a]))


def task_spreads(bench_path: Path) -> dict[str, TaskSpread]:
    """Per task of a benchmark Parquet file: chance and letter shares (multiple choice), or the
    answers and their best constant guess (numeric ``fill`` tasks)."""
    import pyarrow.parquet as pq

    from spar3d.bench.scoring.choice import parse_options

    rows = pq.read_table(bench_path, columns=["task", "format_type", "answer", "question"])
    by_task: dict[str, list[dict[str, Any]]] = {}
    for row in rows.to_pylist():
        by_task.setdefault(row["task"], []).append(row)
    out: dict[str, TaskSpread] = {}
    for task, task_rows in sorted(by_task.items()):
        if task_rows[0]["format_type"] == "fill":
            numbers = []
            for row in task_rows:
                try:
                    numbers.append(float(row["answer"]))
                except (TypeError, ValueError):
                    continue  # view_change_infer: several numbers, no single spread
            if numbers:
                out[task] = TaskSpread(len(numbers), values=tuple(numbers),
                                       best_constant=best_constant_mra(numbers))
            continue
        ks = [len(parse_options(r["question"])) or 4 for r in task_rows]
        letters = [str(r["answer"]).strip()[:1].upper() for r in task_rows]
        shares = {k: 100.0 * letters.count(k) / len(letters) for k in sorted(set(letters))}
        out[task] = TaskSpread(len(ks), chance=100.0 * float(np.mean([1 / k for k in ks])),
                               letters=shares)
    return out


def _print_task_table(console: Console, res: DemoResult, bench_path: Path) -> None:
    """Per task: our random and frequency baselines, the uniform chance (multiple choice) or the
    best constant guess (numeric), the paper's chance rows, and the spread of the answers."""
    from rich.table import Table

    from spar3d.bench.report import find_paper_rows

    ours = {name: by_mode.get("compat", {}).get("tasks", {}) for name, by_mode in res.scores.items()}
    paper = {r.name: r.values for r in find_paper_rows(["Chance Level (Random)",
                                                         "Chance Level (Frequency)"])}
    spreads = task_spreads(bench_path)
    tasks = sorted(set().union(*(set(t) for t in ours.values())) if ours else set())
    # Two tables, so each fits an 80-column log with the task names whole: the scores, then
    # the answers' spread (letter shares, or the numeric answers' distribution).
    table = Table(title="Per task (compat): our baselines on the demo benchmark beside the "
                        "paper's chance rows",
                  caption="ref: uniform chance (multiple choice) or the best constant guess's "
                          "MRA (numeric)")
    table.add_column("task", no_wrap=True)
    for col in ("n", "random", "freq", "ref", "paper random", "paper freq"):
        table.add_column(col, justify="right")
    spread = Table(title=escape("Answers per task: correct-letter shares (%), or mean±sd "
                                "[q10 q50 q90] of the numeric answers"))
    spread.add_column("task", no_wrap=True)
    spread.add_column("answers", overflow="fold")

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}"

    for task in tasks:
        sp = spreads.get(task)
        ref = None if sp is None else (sp.chance if sp.chance is not None else
                                       (sp.best_constant[1] if sp.best_constant else None))
        table.add_row(task, "" if sp is None else str(sp.n),
                      fmt(ours.get("random", {}).get(task)),
                      fmt(ours.get("frequency", {}).get(task)), fmt(ref),
                      fmt(paper["Chance Level (Random)"].get(task)),
                      fmt(paper["Chance Level (Frequency)"].get(task)))
        spread.add_row(task, "" if sp is None else escape(sp.spread_text()))
    console.print(table)
    console.print(spread)
