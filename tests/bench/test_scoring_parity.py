"""Compat/strict parity against 200+ hand-scored (task, prediction, answer) triples.

Every expected score in ``fixtures/scoring_parity.jsonl`` was worked out by hand from the rules
in SCORING.md (its ``why`` field says how), never by running the scorer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spar3d.bench.scoring import score_records

FIXTURE = Path(__file__).parent / "fixtures" / "scoring_parity.jsonl"
ROWS = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line]


def _ids(row: dict) -> str:
    return f"{row['id']}-{row['task']}-{str(row['prediction'])[:24]!r}"


def test_fixture_is_large_and_covers_every_task() -> None:
    assert len(ROWS) >= 200
    from spar3d.bench.scoring import ALL_TASKS

    assert {r["task"] for r in ROWS} == set(ALL_TASKS)


@pytest.mark.parametrize("mode", ["compat", "strict"])
@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_hand_scored_row(row: dict, mode: str) -> None:
    record = {k: row[k] for k in ("id", "task", "prediction", "answer") if k in row}
    for optional in ("question", "options", "status"):
        if optional in row:
            record[optional] = row[optional]
    result = score_records([record], mode=mode)
    ((_, _, got),) = result.per_sample
    assert got == pytest.approx(row[mode], abs=1e-9), row["why"]
