"""Byte-identity of every task's samples across refactors of the task engine.

``golden_samples.json`` holds, per task and task version, the SHA-256 of the JSON of the samples
the task generates from the hand-built room index (``room_factory.make_index``) with seeds 0 and
7. The hashes were recorded by the code BEFORE the view-strategy refactor (issue 8, item 2:
single-view / multi-view / video twins merged into one family module per question family): an
independent implementation of the same tasks, so this test fails if the refactor, or any later
change, alters a task's output without bumping its ``TaskSpec.version``.

A task whose output changes on purpose bumps its version; its entry is then re-recorded with
``python tests/tasks/test_golden_samples.py > tests/tasks/golden_samples.json`` (run from the
repository root with the new code), and the diff of that file shows which tasks changed.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from spar3d.index.records import SceneIndex
from spar3d.tasks import TASKS, create_task

GOLDEN = Path(__file__).with_name("golden_samples.json")
SEEDS = (0, 7)
N = 10


def sample_hashes(index: SceneIndex) -> dict[str, dict[str, object]]:
    """``{task: {"version", "samples", "sha256"}}`` for every task that runs on a plain index."""
    out: dict[str, dict[str, object]] = {}
    for name in sorted(TASKS.names()):
        if TASKS.get(name).requires:
            continue
        task = create_task(name)
        digest = hashlib.sha256()
        count = 0
        for seed in SEEDS:
            samples, _ = task.generate(index, N, seed=seed)
            digest.update(json.dumps(samples).encode())
            count += len(samples)
        out[name] = {"version": task.spec.version, "samples": count, "sha256": digest.hexdigest()}
    return out


def test_samples_match_the_recorded_hashes(room_index):
    golden = json.loads(GOLDEN.read_text())
    now = sample_hashes(room_index)
    assert (
        sum(int(str(g["samples"])) for g in golden.values()) > 300
    )  # the hashes cover real output
    changed = [
        name
        for name, g in golden.items()
        if name in now and now[name]["version"] == g["version"] and now[name] != g
    ]
    assert not changed, f"output changed without a version bump: {changed}"
    missing = sorted(set(golden) - set(now))
    assert not missing, f"tasks no longer registered: {missing}"


if __name__ == "__main__":  # re-record (see the module docstring)
    sys.path.insert(0, str(Path(__file__).parent))
    from room_factory import make_index

    json.dump(sample_hashes(make_index()), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
