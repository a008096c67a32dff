"""Scoring grounding answers: parse, lift, refine, IoU, Acc@0.25 / Acc@0.5 with bootstrap CIs.

Every answer is scored, none is dropped: an unreadable one (a :class:`ParseFailure`) has IoU 0
and is counted under its reason. Accuracies are percentages of all scored samples, overall and
per ScanRefer split (``unique`` / ``multiple``), for the lifted box and for the box after
refinement against the proposals (:func:`spar3d.grounding.boxes.refine`). Intervals are the
percentile bootstrap over samples (:func:`spar3d.bench.report.resample_indices`,
:func:`~spar3d.bench.report.percentile_interval`), one set of draws per split.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spar3d.errors import InputError
from spar3d.grounding.answer import GroundingAnswer, ParseFailure, parse_answer
from spar3d.grounding.boxes import Assignment, Proposal, box_iou_3d, box_to_dict, refine
from spar3d.grounding.context import GroundingContext, parse_context
from spar3d.io import read_jsonl

THRESHOLDS: tuple[float, ...] = (0.25, 0.5)
SPLITS: tuple[str, ...] = ("overall", "unique", "multiple")
VARIANTS: tuple[str, ...] = ("lifted", "refined")

#: SPAR-mix on ScanRefer (paper table 6): with refinement, and (in parentheses) without.
PAPER_SPAR_MIX = {"refined": {0.25: 48.8, 0.5: 43.1}, "lifted": {0.25: 31.9, 0.5: 12.4}}


@dataclass
class SampleScore:
    """One scored answer."""

    id: Any
    scene: str
    split: str
    status: str  # "ok" or a ParseFailure reason
    iou: float = 0.0
    iou_refined: float = 0.0
    box: dict[str, Any] | None = None
    refined_box: dict[str, Any] | None = None
    proposal: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class GroundingScores:
    """Accuracies (0-100) by variant, split and threshold, with intervals and counts."""

    acc: dict[str, dict[str, dict[float, float]]]
    ci: dict[str, dict[str, dict[float, tuple[float, float]]]]
    n: dict[str, int]
    failures: dict[str, int]
    per_sample: list[SampleScore] = field(default_factory=list)
    refined_with: str = ""

    def to_dict(self) -> dict[str, Any]:
        def key(t: float) -> str:
            return f"acc@{t}"

        return {
            "acc": {v: {s: {key(t): a for t, a in d.items()} for s, d in sp.items()}
                    for v, sp in self.acc.items()},
            "ci": {v: {s: {key(t): list(c) for t, c in d.items()} for s, d in sp.items()}
                   for v, sp in self.ci.items()},
            "n": self.n,
            "failures": self.failures,
            "refined_with": self.refined_with,
        }  # fmt: skip


def score_one(raw: str, ctx: GroundingContext) -> tuple[GroundingAnswer | ParseFailure, float, Any]:
    """Parse and lift one answer: ``(parsed, IoU with the target, lifted box or None)``."""
    parsed = parse_answer(raw, len(ctx.views))
    if isinstance(parsed, ParseFailure):
        return parsed, 0.0, None
    box = ctx.lift(parsed)
    return parsed, box_iou_3d(box, ctx.target_box), box


def score_grounding(
    items: Iterable[tuple[Any, str, GroundingContext]],
    proposals: Mapping[str, list[Proposal]] | None = None,
    *,
    assignment: Assignment = "nearest",
    max_center_dist_m: float = 1.0,
    n_boot: int = 1000,
    seed: int = 0,
    refined_with: str = "",
) -> GroundingScores:
    """Score ``(id, raw answer, context)`` triples (see the module docstring).

    Args:
        proposals: Boxes per scene id to refine with; without them (or for a scene without
            any) the refined box is the lifted one.
        assignment: ``"nearest"`` or ``"hungarian"`` (one-to-one within a scene).
    """
    samples: list[SampleScore] = []
    boxes: dict[int, Any] = {}
    targets: dict[int, Any] = {}
    for ident, raw, ctx in items:
        parsed, iou, box = score_one(raw, ctx)
        status = parsed.reason if isinstance(parsed, ParseFailure) else "ok"
        s = SampleScore(ident, ctx.scene, ctx.split, status, iou, iou)
        if box is not None:
            s.box = box_to_dict(box)
            boxes[len(samples)] = box
            targets[len(samples)] = ctx.target_box
        samples.append(s)
    if proposals:
        by_scene: dict[str, list[int]] = defaultdict(list)
        for k in boxes:
            by_scene[samples[k].scene].append(k)
        for scene, ks in by_scene.items():
            props = proposals.get(scene, [])
            if not props:
                continue
            out = refine([boxes[k] for k in ks], props, assignment=assignment,
                         max_center_dist_m=max_center_dist_m)  # fmt: skip
            for k, (rbox, j) in zip(ks, out, strict=True):
                samples[k].iou_refined = box_iou_3d(rbox, targets[k])
                samples[k].refined_box = box_to_dict(rbox)
                samples[k].proposal = j
    return _aggregate(samples, n_boot, seed, refined_with)


def _aggregate(
    samples: list[SampleScore], n_boot: int, seed: int, refined_with: str
) -> GroundingScores:
    from spar3d.bench.report import percentile_interval, resample_indices

    rng = np.random.default_rng(seed)
    acc: dict[str, dict[str, dict[float, float]]] = {v: {} for v in VARIANTS}
    ci: dict[str, dict[str, dict[float, tuple[float, float]]]] = {v: {} for v in VARIANTS}
    n = {sp: sum(1 for s in samples if sp == "overall" or s.split == sp) for sp in SPLITS}
    for sp in SPLITS:
        chosen = [s for s in samples if sp == "overall" or s.split == sp]
        if not chosen:
            continue
        draws = resample_indices(rng, len(chosen), n_boot)  # the same draws for every cell
        for variant in VARIANTS:
            iou = np.array([s.iou if variant == "lifted" else s.iou_refined for s in chosen])
            acc[variant][sp], ci[variant][sp] = {}, {}
            for t in THRESHOLDS:
                hits = (iou >= t).astype(np.float64) * 100.0
                acc[variant][sp][t] = float(hits.mean())
                interval = percentile_interval(hits[draws].mean(axis=1), 0.95)
                assert interval is not None  # hits are finite
                ci[variant][sp][t] = interval
    failures = Counter(s.status for s in samples if s.status != "ok")
    return GroundingScores(acc, ci, n, dict(failures), samples, refined_with)


def report_markdown(scores: GroundingScores, title: str = "3D grounding") -> str:
    """A Markdown table: Acc@0.25 / Acc@0.5 lifted and refined, per split, with intervals."""
    lines = [
        f"# {title}",
        "",
        "Accuracy (%) of 3D IoU >= 0.25 / 0.5 between the box lifted from the answer and the "
        "target box; *refined*: after matching to proposals"
        + (f" ({scores.refined_with})" if scores.refined_with else "")
        + ". Brackets: 95% percentile bootstrap interval over samples.",
        "",
        "| split | n | Acc@0.25 | Acc@0.5 | Acc@0.25 refined | Acc@0.5 refined |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for sp in SPLITS:
        if sp not in scores.acc["lifted"]:
            continue
        cells = []
        for variant in VARIANTS:
            for t in THRESHOLDS:
                lo, hi = scores.ci[variant][sp][t]
                cells.append(f"{scores.acc[variant][sp][t]:.1f} [{lo:.1f}, {hi:.1f}]")
        lines.append(f"| {sp} | {scores.n[sp]} | " + " | ".join(cells) + " |")
    p = PAPER_SPAR_MIX
    lines.append(
        f"| SPAR-mix, ScanRefer (paper) | - | {p['lifted'][0.25]} | {p['lifted'][0.5]} | "
        f"{p['refined'][0.25]} | {p['refined'][0.5]} |"
    )
    if scores.failures:
        lines += ["", "Unreadable answers (scored IoU 0): "
                  + ", ".join(f"{k} {v}" for k, v in sorted(scores.failures.items()))]  # fmt: skip
    return "\n".join(lines) + "\n"


# -- reading predictions and contexts -------------------------------------------------------------
def bench_contexts(bench: str | Path) -> dict[int, GroundingContext]:
    """``id -> context`` of every grounding row of a benchmark (Parquet file or folder)."""
    import pyarrow.parquet as pq

    from spar3d.bench.eval.dataset import bench_files

    out: dict[int, GroundingContext] = {}
    for f in bench_files(bench):
        names = pq.ParquetFile(f).schema_arrow.names
        if "context" not in names:
            continue
        for i, row in enumerate(pq.read_table(f, columns=["id", "context"]).to_pylist()):
            if row["context"]:
                out[int(row["id"])] = parse_context(row["context"], f"{f} row {i} context")
    if not out:
        raise InputError(f"{bench}: no grounding rows (no 'context' column)")
    return out


def read_predictions(path: str | Path) -> tuple[list[tuple[Any, str]], Path | None]:
    """``(id, raw answer)`` pairs from an eval run folder or a JSON Lines file, and the bench
    path the run's ``config.json`` names (None for a plain file).

    A record's answer is its ``raw`` field (the eval runner's) or else ``prediction``; a failed
    request (status ``error``) reads as an empty answer.
    """
    p = Path(path)
    bench: Path | None = None
    if p.is_dir():
        cfg = p / "config.json"
        if cfg.is_file():
            bench_path = json.loads(cfg.read_text(encoding="utf-8")).get("bench", {}).get("path")
            bench = Path(bench_path) if bench_path else None
        p = p / "predictions.jsonl"
    if not p.is_file():
        raise InputError(f"{p}: predictions file not found")
    out = []
    for n, rec in enumerate(read_jsonl(p), 1):
        if not isinstance(rec, dict) or "id" not in rec:
            raise InputError(f"{p} line {n}: expected an object with 'id'")
        raw = rec.get("raw", rec.get("prediction", ""))
        if rec.get("status") == "error":
            raw = ""
        out.append((rec["id"], raw if isinstance(raw, str) else ""))
    return out, bench
