"""Per-task error analysis on a hand-checkable set of predictions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spar3d.bench.errors_report import LOG2_EDGES, analyse, error_markdown
from spar3d.bench.scoring import score_records, to_samples
from spar3d.cli.main import run

Q = "Which box? A. [1, 2, 3, 4]; B. [5, 6, 7, 8]; C. [9, 9, 9, 9]."
CHOICE = [("A", "A"), ("A", "A"), ("A", "The answer is A."), ("A", "B"), ("A", "no idea"),
          ("B", "B"), ("B", "(B)"), ("B", "A")]  # fmt: skip
NUMERIC = [("2.0", "4.0"), ("2.0", "1.0"), ("2.0", "2.0"), ("2.0", "none"), ("2.0", "3 m")]


def _records() -> list[dict]:
    records = [
        {"id": i, "task": "position_matching", "question": Q, "answer": a, "prediction": p}
        for i, (a, p) in enumerate(CHOICE)
    ]
    records += [
        {"id": 100 + i, "task": "depth_prediction_oc", "answer": a, "prediction": p}
        for i, (a, p) in enumerate(NUMERIC)
    ]
    return records


def test_counts_by_hand():
    analysis = analyse(to_samples(_records()))
    # Correct A: stated A three times, B once, nothing once; correct B: B twice, A once.
    assert analysis.confusion == {("A", "A"): 3, ("A", "B"): 1, ("A", "-"): 1,
                                  ("B", "B"): 2, ("B", "A"): 1}  # fmt: skip
    assert analysis.letters() == ["A", "B", "-"]
    # log2 ratios: 4/2 -> +1, 1/2 -> -1, 2/2 -> 0, 3/2 -> 0.585; "none" has no number.
    expected = [0] * (len(LOG2_EDGES) + 1)
    for ratio in (1.0, -1.0, 0.0, 0.584962500721156):
        expected[sum(edge <= ratio for edge in LOG2_EDGES)] += 1
    assert analysis.log2_bins == expected
    assert sorted(analysis.relative_errors) == pytest.approx([0.0, 0.5, 0.5, 1.0])
    assert (analysis.over, analysis.under, analysis.numeric_unreadable) == (2, 1, 1)
    assert analysis.unreadable == {"position_matching": 1, "depth_prediction_oc": 1}
    md = error_markdown(score_records(_records(), "strict"), analysis)
    assert "| A | 3 | 1 | 1 |" in md and "| B | 1 | 2 | 0 |" in md
    assert "median |relative error| 0.50" in md and "over-estimates 50%" in md


def test_score_report_writes_error_analysis(tmp_path: Path, capsys):
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps(r) + "\n" for r in _records()))
    assert run(["score", str(preds), "--mode", "strict", "--report", str(tmp_path / "rep")]) == 0
    capsys.readouterr()
    md = (tmp_path / "rep" / "errors.md").read_text()
    assert "## Worst tasks" in md and "## Letter confusion" in md and "## Numeric errors" in md
    assert (tmp_path / "rep" / "errors.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "rep" / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
