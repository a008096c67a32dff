"""Answer reading, APE scoring, bootstrap and report of the BEV probe (hand-computed values)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spar3d.errors import ConfigError, InputError
from spar3d.probe import (
    format_coords,
    parse_answer,
    parse_truth,
    probe_question,
    question_labels,
)
from spar3d.probe.report import ape_intervals, paper_probe, weighted_stats, write_probe_report
from spar3d.probe.score import baseline_records, median_distance, score_probe_records

LABELS = ["chair", "table", "lamp"]


@pytest.mark.parametrize(
    "text, coords, rule",
    [
        ("object0: (1.2, 3.4), object1: (-0.5, 2), object2: (0,0)",
         {0: (1.2, 3.4), 1: (-0.5, 2.0), 2: (0.0, 0.0)}, "named"),
        ("Object 0: x=1.2 m, y=3.4 m\nObject_1: (\u22120.5m, 200 cm)\n**object2**: [0.1, .5]",
         {0: (1.2, 3.4), 1: (-0.5, 2.0), 2: (0.1, 0.5)}, "named"),
        ('{"object0": [1.2, 3.4], "object1": [1,2], "object2": [3, 4]}',
         {0: (1.2, 3.4), 1: (1.0, 2.0), 2: (3.0, 4.0)}, "named"),
        ("chair at (1, 2); Table at (3,4); the lamp: (5, 6)",
         {0: (1.0, 2.0), 1: (3.0, 4.0), 2: (5.0, 6.0)}, "labels"),
        ("(1,2), (3,4), [5, -6]", {0: (1.0, 2.0), 1: (3.0, 4.0), 2: (5.0, -6.0)}, "ordered"),
        ("object0: (1.2, 3.4) ... again object0: (9, 9)", {0: (1.2, 3.4)}, "named"),
    ],
)  # fmt: skip
def test_tolerant_reading(text, coords, rule):
    parsed = parse_answer(text, 3, LABELS)
    assert parsed.rule == rule and sorted(parsed.coords) == sorted(coords)
    for k, xy in coords.items():
        assert parsed.coords[k] == pytest.approx(xy)


def test_typed_failures():
    parsed = parse_answer("object0: somewhere far, object2: (1, 2), object7: (3, 3)", 3, LABELS)
    assert parsed.coords == {2: (1.0, 2.0)}
    assert parsed.malformed == (0,) and parsed.missing(3) == (1,) and parsed.extra == ("object7",)
    nothing = parse_answer("I cannot tell from these images.", 3, LABELS)
    assert nothing.coords == {} and nothing.rule == "none" and nothing.missing(3) == (0, 1, 2)
    # two pairs for three objects: not read in order (it would guess which is missing)
    assert parse_answer("(1, 2) and (3, 4)", 3).coords == {}


def test_format_and_question_round_trip():
    text = format_coords([(1.234, -0.001), (0.0, 2.0)])
    assert text == "object0: (1.23, 0.00), object1: (0.00, 2.00)"
    q = probe_question(["chair", "tv stand"], 3)
    assert question_labels(q) == ["chair", "tv stand"]
    assert "object0: (x, y), object1: (x, y)" in q
    truth = parse_truth(text, q)
    assert truth.coords == ((1.23, 0.0), (0.0, 2.0)) and truth.labels == ("chair", "tv stand")
    with pytest.raises(ValueError, match="row 7"):
        parse_truth("object0: (1, 2), object2: (3, 4)", where="row 7")


def _rec(i, answer, prediction, status="ok", **kw):
    return {"id": i, "task": "bev_probe", "answer": answer, "prediction": prediction,
            "status": status, **kw}  # fmt: skip


def test_ape_by_hand():
    # row 0: truths (0, 2) and (3, 4); prediction (0, 1) for object0, object1 missing
    # row 1: truth (0.5, 0): prediction (0.5, 0.5)
    recs = [
        _rec(0, "object0: (0.00, 2.00), object1: (3.00, 4.00)", "object0: (0, 1)"),
        _rec(1, "object0: (0.50, 0.00)", "object0: (0.5, 0.5)"),
    ]
    r = score_probe_records(recs)  # missing scored at the origin: APE = |(3, 4)| = 5
    assert [o.ape for o in r.objects] == pytest.approx([1.0, 5.0, 0.5])
    assert [o.status for o in r.objects] == ["ok", "missing", "ok"]
    assert [o.bin for o in r.objects] == ["2-3 m", "5-7 m", "0-1 m"]
    assert r.overall.mean == pytest.approx(6.5 / 3)
    assert r.overall.p50 == pytest.approx(1.0)
    assert r.overall.p90 == pytest.approx(1.0 + 0.8 * 4.0)  # rank 1.8 of [0.5, 1, 5]
    assert r.bins["5-7 m"].mean == pytest.approx(5.0) and r.bins["3-5 m"].n == 0
    ex = score_probe_records(recs, missing="exclude")
    assert ex.overall.n == 2 and ex.overall.mean == pytest.approx(0.75)
    assert ex.status_counts() == {"ok": 2, "missing": 1, "malformed": 0, "failed": 0}


def test_failed_requests_and_unparseable_are_counted():
    answer = "object0: (1.00, 1.00), object1: (2.00, 0.00)"
    runner = [
        {"id": 0, "task": "bev_probe", "answer": answer, "raw": "", "status": "error"},
        {"id": 1, "task": "bev_probe", "answer": answer, "raw": "no idea", "status": "ok"},
        {"id": 2, "task": "bev_probe", "answer": answer, "raw": "object1: here", "status": "ok"},
        {"id": 3, "task": "depth_prediction_oc", "answer": "1.0", "raw": "1", "status": "ok"},
    ]
    r = score_probe_records(runner)
    assert r.status_counts() == {"ok": 0, "missing": 3, "malformed": 1, "failed": 2}
    assert r.row_status == {"error": 1, "unparseable": 2}
    assert r.skipped == {"depth_prediction_oc": 1}
    assert r.overall.n == 6  # all at the origin: APE = distance
    assert r.overall.mean == pytest.approx((2**0.5 + 2) / 2)


def test_bad_records_name_the_record():
    with pytest.raises(InputError, match="preds.jsonl:1: missing field 'answer'"):
        score_probe_records([{"id": 0, "task": "bev_probe"}], where="preds.jsonl")
    with pytest.raises(InputError, match=r"record 1 \(id 5\)"):
        score_probe_records([_rec(5, "somewhere", "x")])
    with pytest.raises(ConfigError):
        score_probe_records([], missing="zero")


def test_baselines_by_hand():
    recs = [_rec(0, "object0: (3.00, 4.00), object1: (0.00, 1.00)", ""),
            _rec(1, "object0: (0.00, 2.00)", "")]  # fmt: skip
    assert median_distance(recs) == pytest.approx(2.0)
    origin = score_probe_records(baseline_records(recs, "origin"))
    assert [o.ape for o in origin.objects] == pytest.approx([5.0, 1.0, 2.0])
    ahead = score_probe_records(baseline_records(recs, "median_ahead", 2.0))
    assert [o.ape for o in ahead.objects] == pytest.approx([np.hypot(3, 2), 1.0, 0.0])


def test_weighted_stats_equal_numpy_on_repeated_values():
    rng = np.random.default_rng(0)
    v = np.sort(rng.gamma(2.0, 1.0, size=17))
    w = rng.integers(0, 4, size=(50, 17))
    w[0] = 0  # an empty replicate
    got = weighted_stats(v, w)
    for b in range(50):
        x = np.repeat(v, w[b])
        if x.size == 0:
            assert all(np.isnan(got[s][b]) for s in ("mean", "p50", "p90"))
            continue
        assert got["mean"][b] == pytest.approx(x.mean())
        assert got["p50"][b] == pytest.approx(np.quantile(x, 0.5))
        assert got["p90"][b] == pytest.approx(np.quantile(x, 0.9))


def _random_records(n_rows: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    recs = []
    for i in range(n_rows):
        truth = rng.uniform(-3, 6, size=(int(rng.integers(3, 8)), 2))
        pred = truth + rng.normal(0, 0.8, size=truth.shape)
        recs.append(_rec(i, format_coords(truth), format_coords(pred)))
    return recs


def test_intervals_bracket_the_estimate_and_are_reproducible():
    r = score_probe_records(_random_records(80, 1))
    a, b = ape_intervals(r, n_boot=300, seed=2), ape_intervals(r, n_boot=300, seed=2)
    assert a == b
    for s in ("mean", "p50", "p90"):
        lo, hi = a.overall[s]
        assert lo < getattr(r.overall, s) < hi
    # resampling whole rows: the interval of the mean matches a plain loop over replicates
    rows = np.array([o.row for o in r.objects])
    ape = np.array([o.ape for o in r.objects])
    rng = np.random.default_rng(2)
    draws = rng.integers(0, r.rows, size=(300, r.rows))
    means = [ape[np.concatenate([np.flatnonzero(rows == k) for k in d])].mean() for d in draws]
    assert a.overall["mean"] == pytest.approx(tuple(np.quantile(means, [0.025, 0.975])))


def test_report_files_and_paper_rows(tmp_path: Path):
    recs = _random_records(40, 3)
    r = score_probe_records(recs)
    refs = [("origin", score_probe_records(baseline_records(recs, "origin")))]
    paths = write_probe_report(r, tmp_path / "rep", refs, n_boot=100)
    md = paths["markdown"].read_text()
    assert "2.22 / 1.86 / 4.12" in md and "1.05 / 0.64 / 2.45" in md  # paper overall rows
    assert "0.74 / – / 1.03" in md and "| origin |" in md
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(paths["json"].read_text())
    assert data["overall"]["mean"] == pytest.approx(r.overall.mean)
    assert data["intervals"]["n_boot"] == 100 and "origin" in data["references"]


def test_paper_bins_reproduce_the_printed_overall_means():
    """The binned table's object-weighted means equal the printed APE means (data check)."""
    paper = paper_probe()
    n = sum(b["objects"] for b in paper["bins"].values())
    for row in paper["rows"]:
        mean = sum(b["objects"] * b[row]["mean"] for b in paper["bins"].values()) / n
        assert mean == pytest.approx(paper["overall"][row]["mean"], abs=0.005)
