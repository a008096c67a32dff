"""Stats: counts per source/task/format, answer letters and numbers, PNG plots."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from spar3d.data.toy import make_toy_tree
from spar3d.viz.stats import compute_stats, write_stats


def test_stats_counts_and_distributions(tmp_path: Path) -> None:
    root = make_toy_tree(tmp_path / "spar")
    stats = compute_stats(root)
    assert stats.total == 23
    assert stats.counts[("scannet", "depth_prediction_oc", "select")] == 4
    assert stats.letters == {"depth_prediction_oc": Counter({"A": 1, "B": 1, "C": 1, "D": 1})}
    # fill answers are 1 + i % 5 + 0.5 for i = 0..9 (depth) and 0..5 (distance)
    assert sorted(stats.numbers["depth_prediction_oc"]) == sorted(
        [1 + i % 5 + 0.5 for i in range(10)]
    )
    assert sorted(stats.numbers["distance_prediction_oc"]) == [1.5, 1.5, 2.5, 3.5, 4.5, 5.5]
    limited = compute_stats(root, max_per_file=2)
    assert limited.total == 23 and limited.parsed == 8
    names = {p.name for p in write_stats(stats, tmp_path / "st")}
    assert {"stats.json", "counts.png", "letters.png"} <= names
    assert all((tmp_path / "st" / n).stat().st_size > 0 for n in names)


def test_plots_have_labels_units_n_and_chance(tmp_path: Path) -> None:
    from spar3d.viz.stats import stats_figures

    stats = compute_stats(make_toy_tree(tmp_path / "spar"))
    figs = stats_figures(stats)
    counts = figs["counts.png"].axes[0]
    assert counts.get_xlabel() == "samples (count)" and "n = 23" in counts.get_title()
    letters = figs["letters.png"].axes[0]
    assert letters.get_xlabel() == "share of select answers (%)" and "n = 4" in letters.get_title()
    chance = [c for c in letters.collections if c.get_label().startswith("chance")]
    assert chance  # four options: boundaries at 25, 50 and 75 %
    xs = sorted({round(float(seg[0][0])) for seg in chance[0].get_segments()})
    assert xs == [25, 50, 75]
    hist = figs["numbers_depth_prediction_oc.png"].axes[0]
    assert hist.get_xlabel() == "answer (m)" and "n = 10" in hist.get_title()
    assert hist.get_ylabel() == "samples (count)"
