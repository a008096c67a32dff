"""BEV probe reports: APE with bootstrap intervals by distance bin, beside the paper's rows.

``write_probe_report(result, out_dir)`` writes ``report.md``, ``report.png`` and ``scores.json``,
in the style of ``spar3d score --report`` (:mod:`spar3d.bench.report`, whose bootstrap helpers it
uses). The intervals are a percentile bootstrap over probe rows (a row's objects are resampled
together, since one answer places them all), recomputing mean, P50 and P90 of the resampled
objects overall and in every distance bin. The paper's numbers are data
(``spar3d/bench/data/paper_probe.json``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from spar3d.bench.report import percentile_interval, resample_indices
from spar3d.io import atomic_open, save_png, write_json
from spar3d.probe.build import BIN_LABELS
from spar3d.probe.score import ApeStats, ProbeResult

STATS: tuple[str, ...] = ("mean", "p50", "p90")
Interval = tuple[float, float] | None


@lru_cache(maxsize=1)
def paper_probe() -> dict[str, Any]:
    """The paper's probe numbers: ``overall`` and ``bins`` per row (``Base VLM``, ``SPAR-mix``)."""
    text = resources.files("spar3d.bench").joinpath("data/paper_probe.json").read_text("utf-8")
    return dict(json.loads(text))


@dataclass(frozen=True)
class ApeIntervals:
    """Bootstrap intervals of mean, P50 and P90, overall and per bin."""

    overall: dict[str, Interval]
    bins: dict[str, dict[str, Interval]]
    n_boot: int
    confidence: float
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {"overall": self.overall, "bins": self.bins, "n_boot": self.n_boot,
                "confidence": self.confidence, "seed": self.seed}  # fmt: skip


def weighted_stats(values_sorted: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Mean, P50 and P90 of ``values_sorted`` repeated ``weights`` times, one per weight row.

    Args:
        values_sorted: ``(m,)`` ascending values.
        weights: ``(B, m)`` non-negative integer counts.

    Returns:
        ``{"mean", "p50", "p90"}`` each ``(B,)``; NaN where a row's weights sum to 0. The
        quantiles equal ``np.quantile(np.repeat(values_sorted, w), q)`` (linear interpolation).
    """
    w = np.asarray(weights, dtype=np.int64)
    v = np.asarray(values_sorted, dtype=np.float64)
    cum = np.cumsum(w, axis=1)
    total = cum[:, -1].astype(np.float64)
    empty = total == 0
    safe = np.where(empty, 1.0, total)
    out = {"mean": np.where(empty, np.nan, (w * v).sum(axis=1) / safe)}
    for name, q in (("p50", 0.5), ("p90", 0.9)):
        h = (safe - 1.0) * q
        lo = np.floor(h)
        # the element at rank r of the repeated array is v[#(cum <= r)]
        i_lo = np.minimum((cum <= lo[:, None]).sum(axis=1), v.size - 1)
        i_hi = np.minimum((cum <= (lo + 1.0)[:, None]).sum(axis=1), v.size - 1)
        value = v[i_lo] + (h - lo) * (v[i_hi] - v[i_lo])
        out[name] = np.where(empty, np.nan, value)
    return out


def ape_intervals(
    result: ProbeResult, n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
) -> ApeIntervals:
    """Percentile bootstrap over rows (see the module docstring)."""
    rng = np.random.default_rng(seed)
    scored = [o for o in result.objects if o.ape is not None]
    empty = {s: None for s in STATS}
    if not scored or result.rows == 0:
        return ApeIntervals(dict(empty), {b: dict(empty) for b in BIN_LABELS}, n_boot,
                            confidence, seed)  # fmt: skip
    # how often each row is drawn in each replicate: (n_boot, rows)
    draws = resample_indices(rng, result.rows, n_boot)
    counts = np.stack([np.bincount(d, minlength=result.rows) for d in draws])

    def intervals(objs: list[Any]) -> dict[str, Interval]:
        if not objs:
            return dict(empty)
        ape = np.array([o.ape for o in objs])
        rows = np.array([o.row for o in objs])
        order = np.argsort(ape, kind="stable")
        reps = weighted_stats(ape[order], counts[:, rows[order]])
        return {s: percentile_interval(reps[s], confidence) for s in STATS}

    return ApeIntervals(
        overall=intervals(scored),
        bins={b: intervals([o for o in scored if o.bin == b]) for b in BIN_LABELS},
        n_boot=n_boot,
        confidence=confidence,
        seed=seed,
    )


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}"


def _fmt_ci(ci: Interval) -> str:
    return "–" if ci is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def _cell(stats: ApeStats, ci: Mapping[str, Interval], s: str) -> str:
    value = getattr(stats, s)
    return f"{_fmt(value)} {_fmt_ci(ci.get(s))}" if value is not None else "–"


def report_markdown(
    result: ProbeResult,
    intervals: ApeIntervals | None = None,
    references: Sequence[tuple[str, ProbeResult]] = (),
    title: str = "BEV probe",
) -> str:
    """Markdown: APE overall and by bin with CIs, failures, the paper's rows and references."""
    paper = paper_probe()
    names = list(paper["rows"])
    ci = intervals
    conf = f"{ci.confidence:.0%} CI" if ci else "CI"
    head = ["", "objects", "not read", f"mean [{conf}]", f"P50 [{conf}]", f"P90 [{conf}]"]
    head += [f"paper {n} mean / P50 / P90" for n in names]
    lines = [
        f"# {title}: average position error (metres)",
        "",
        f"{result.rows} rows, {len(result.objects)} objects. Unread objects (missing, malformed, "
        f"failed request) are {_policy_text(result.policy)}. Distance: the object's true "
        "distance from the main view on the floor. Intervals: percentile bootstrap over rows.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] * len(head)) + "|",
    ]
    stats: list[tuple[str, ApeStats, dict[str, Interval], str | None]] = [
        ("**overall**", result.overall, ci.overall if ci else {}, None)
    ]
    stats += [(b, result.bins[b], ci.bins[b] if ci else {}, b) for b in BIN_LABELS]
    for label, st, c, b in stats:
        counts = result.status_counts(b)
        n_objects = sum(counts.values())
        unread = n_objects - counts["ok"]
        cells = [label, str(n_objects), str(unread), *(_cell(st, c, s) for s in STATS)]
        ref = paper["overall"] if b is None else paper["bins"].get(b, {})
        for n in names:
            row = ref.get(n, {})
            cells.append(" / ".join(_fmt(row.get(s)) for s in STATS))
        lines.append("| " + " | ".join(cells) + " |")
    status = result.status_counts()
    lines += [
        "",
        "Objects by status: "
        + ", ".join(f"{k} {v}" for k, v in status.items())
        + f"; names of objects not asked for: {result.extra_names}.",
        "Rows by response status: "
        + (", ".join(f"{k} {v}" for k, v in sorted(result.row_status.items())) or "none")
        + "; by reading rule: "
        + (", ".join(f"{k} {v}" for k, v in sorted(result.rules.items())) or "none")
        + ".",
    ]
    if result.skipped:
        lines.append(f"Records of other tasks not scored here: {dict(result.skipped)}.")
    if references:
        lines += ["", "## Reference answers on the same rows (mean APE, metres)", ""]
        lines += means_table([("this run", result), *references], paper_rows=False)
    lines += [
        "",
        "Paper rows: SPAR section 4.4 (1,000 ScanNet++ samples; Base VLM is InternVL2.5-8B). "
        "The paper's binned table prints no P50.",
    ]
    return "\n".join(lines) + "\n"


def means_table(runs: Sequence[tuple[str, ProbeResult]], paper_rows: bool = True) -> list[str]:
    """Markdown lines: one row per run (and the paper's rows): objects, not read, overall mean /
    P50 / P90 and the mean APE of every distance bin."""
    head = ["", "objects", "not read", "mean", "P50", "P90", *BIN_LABELS]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for name, r in runs:
        counts = r.status_counts()
        cells = [name, str(sum(counts.values())), str(sum(counts.values()) - counts["ok"])]
        cells += [_fmt(getattr(r.overall, s)) for s in STATS]
        cells += [_fmt(r.bins[b].mean) for b in BIN_LABELS]
        lines.append("| " + " | ".join(cells) + " |")
    if paper_rows:
        paper = paper_probe()
        for name in paper["rows"]:
            cells = [f"paper {name}", str(sum(b["objects"] for b in paper["bins"].values())), "–"]
            cells += [_fmt(paper["overall"][name].get(s)) for s in STATS]
            cells += [_fmt(paper["bins"].get(b, {}).get(name, {}).get("mean")) for b in BIN_LABELS]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def _policy_text(policy: str) -> str:
    return "scored as if at the origin" if policy == "origin" else "left out of the statistics"


def plot_report(
    result: ProbeResult,
    path: str | Path,
    intervals: ApeIntervals | None = None,
    references: Sequence[tuple[str, ProbeResult]] = (),
    title: str = "BEV probe",
) -> Path:
    """Grouped bars of mean APE overall and per bin: this run (with CIs), references, paper."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paper = paper_probe()
    keys = ["overall", *BIN_LABELS]
    none: list[Interval] = [None] * len(keys)

    def means(stats: list[ApeStats]) -> list[float]:
        return [np.nan if st.mean is None else st.mean for st in stats]

    cis: list[Interval] = (
        [intervals.overall["mean"], *(intervals.bins[b]["mean"] for b in BIN_LABELS)]
        if intervals
        else none
    )
    series: list[tuple[str, list[float], list[Interval]]] = [
        ("this run", means([result.overall, *(result.bins[b] for b in BIN_LABELS)]), cis)
    ]
    for name, r in references:
        series.append((name, means([r.overall, *(r.bins[b] for b in BIN_LABELS)]), none))
    for name in paper["rows"]:
        vals = [paper["overall"][name]["mean"]]
        vals += [paper["bins"].get(b, {}).get(name, {}).get("mean", np.nan) for b in BIN_LABELS]
        series.append((f"paper {name}", vals, none))
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    x = np.arange(len(keys))
    for i, (label, vals, ci) in enumerate(series):
        v = np.array(vals, dtype=float)
        err = np.array([[vv - c[0], c[1] - vv] if c else [0.0, 0.0]
                        for vv, c in zip(v, ci, strict=True)]).T  # fmt: skip
        ax.bar(x + i * width, v, width=width, label=label,
               yerr=np.nan_to_num(err) if any(ci) else None, capsize=2)  # fmt: skip
    ax.set_xticks(x + width * (len(series) - 1) / 2, keys)
    ax.set_ylabel("mean APE (m)")
    ax.set_xlabel("true distance from the main view")
    ax.set_title(f"{title}: mean APE by distance")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_png(fig, path, dpi=110)


def write_probe_report(
    result: ProbeResult,
    out_dir: str | Path,
    references: Sequence[tuple[str, ProbeResult]] = (),
    n_boot: int = 1000,
    seed: int = 0,
    title: str = "BEV probe",
) -> dict[str, Path]:
    """Write ``report.md``, ``report.png`` and ``scores.json`` (scores, intervals, references).

    Returns:
        Paths keyed "markdown", "png", "json".
    """
    out = Path(out_dir)
    intervals = ape_intervals(result, n_boot=n_boot, seed=seed)
    paths = {"markdown": out / "report.md", "png": out / "report.png", "json": out / "scores.json"}
    with atomic_open(paths["markdown"], "w", encoding="utf-8") as fh:
        fh.write(report_markdown(result, intervals, references, title))
    plot_report(result, paths["png"], intervals, references, title)
    payload = result.to_dict()
    payload["intervals"] = intervals.to_dict()
    payload["references"] = {name: r.to_dict() for name, r in references}
    payload["paper"] = {"overall": paper_probe()["overall"], "bins": paper_probe()["bins"]}
    write_json(paths["json"], payload)
    return paths
