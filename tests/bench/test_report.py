"""Reports: bootstrap intervals, the paper's table 4 as data, written files, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from spar3d.bench.report import (
    bootstrap_intervals,
    find_paper_rows,
    paper_columns,
    paper_table,
    write_report,
)
from spar3d.bench.scoring import LEVELS, score_records
from spar3d.cli.main import app


def choice_records(
    n: int, p_right: float, seed: int = 1, task: str = "position_matching", first_id: int = 0
):
    rng = np.random.default_rng(seed)
    return [
        {"id": first_id + i, "task": task, "prediction": "A" if ok else "B", "answer": "A"}
        for i, ok in enumerate(rng.random(n) < p_right)
    ]


def test_bootstrap_contains_mean_and_shrinks_with_n() -> None:
    small = score_records(choice_records(40, 0.6))
    large = score_records(choice_records(4000, 0.6))
    widths = []
    for r in (small, large):
        ci = bootstrap_intervals(r, n_boot=500, seed=3)
        lo, hi = ci.tasks["position_matching"]
        assert lo <= r.tasks["position_matching"] <= hi
        assert ci.overall is not None and ci.overall[0] <= r.overall <= ci.overall[1]
        widths.append(hi - lo)
    # the width scales like 1/sqrt(n): 100x the samples, about a tenth of the width
    assert widths[1] < widths[0] / 5
    again = bootstrap_intervals(small, n_boot=500, seed=3)
    assert again.tasks == bootstrap_intervals(small, n_boot=500, seed=3).tasks  # seeded


def test_paper_table_transcription() -> None:
    rows = paper_table()
    assert len(rows) == 30
    human = find_paper_rows(["Human Level"])[0]
    # values typed from the paper's table 4
    assert human.values["overall"] == 67.27
    assert (human.values["Low"], human.values["Medium"], human.values["High"]) == (
        55.31,
        72.32,
        76.22,
    )
    assert human.values["view_change_infer"] == 60.97
    freq = find_paper_rows(["Chance Level (Frequency)"])[0]
    assert freq.values["depth_prediction_oc"] == 43.09
    assert freq.values["distance_infer_center_oo"] == 52.94
    tuned = find_paper_rows(["full:InternVL2.5-8B"])[0]
    assert tuned.values["overall"] == 36.28 and tuned.rank == 6
    assert len(find_paper_rows(["GPT-4o"])) == 2  # tiny and full
    assert set(paper_columns().values()) >= set(LEVELS["Low"]) | set(LEVELS["High"])
    with pytest.raises(KeyError, match="no row"):
        find_paper_rows(["GPT-5"])


def test_paper_rows_are_consistent_except_noted_errata() -> None:
    for row in paper_table():
        v = row.values
        groups = {
            "Low": list(LEVELS["Low"]),
            "High": list(LEVELS["High"]),
            "Medium": ["position_matching", "camera_motion_infer", "view_change_infer"][
                : row.medium_tasks or 3
            ],
            "overall": [t for ts in LEVELS.values() for t in ts],
        }
        for key, members in groups.items():
            values = [v[t] for t in members]
            if v[key] is None or None in values or key in row.errata:
                continue
            assert v[key] == pytest.approx(np.mean(values), abs=0.011), (row.label, key)


def test_write_report(tmp_path: Path) -> None:
    result = score_records(
        choice_records(50, 0.5) + choice_records(30, 0.9, task="view_change_infer", first_id=1000)
    )
    paths = write_report(result, tmp_path / "rep", paper_rows=["Human Level", "full:GPT-4o"])
    md = paths["markdown"].read_text()
    assert "Human Level (tiny)" in md and "GPT-4o (full)" in md and "95% CI" in md
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(paths["json"].read_text())
    assert data["tasks"] == result.to_dict()["tasks"]
    assert data["intervals"]["n_boot"] == 1000


def test_cli_score_and_compare(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    records = choice_records(20, 0.5) + [
        {"id": 100, "task": "position_matching", "prediction": "", "answer": "A", "status": "ok"}
    ]
    (run / "predictions.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    runner = CliRunner()
    out = tmp_path / "s.json"
    res = runner.invoke(
        app, ["score", str(run), "--mode", "both", "--json", str(out), "--markdown",
              str(tmp_path / "s.md"), "--diff"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "empty-prediction" in res.output
    data = json.loads(out.read_text())
    n_right = sum(r["prediction"] == "A" for r in records[:20])
    # the empty prediction scores 1 in compat, 0 in strict
    assert data["compat"]["tasks"]["position_matching"] == pytest.approx((n_right + 1) / 21 * 100)
    assert data["strict"]["tasks"]["position_matching"] == pytest.approx(n_right / 21 * 100)
    res = runner.invoke(
        app, ["compare", str(out), str(run), "--mode", "strict", "--paper", "Human Level"]
    )
    assert res.exit_code == 0, res.output
    assert "Human Level" in res.output


def test_cli_reports_bad_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from spar3d.cli.main import run

    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1, "task": "position_matching", "prediction": "A"}\n')
    assert run(["score", str(path)]) == 3
    err = capsys.readouterr().err
    assert "bad.jsonl:1: missing field 'answer'" in err
