"""Baseline: the published SPAR-Bench scorer's computation as a plain Python script.

Run:  python benchmarks/baseline_published_scorer.py PREDICTIONS.jsonl

Written from the compat rules in ``docs/scoring.md`` (no spar3d import, no code from lmms-eval)
and shaped like the published scorer runs: one record at a time, each MRA built from a fresh
``np.linspace`` threshold array, task means and level means with numpy. It leaves out what only
the harness needs (pandas, datasets, logging), so it is the cheapest faithful way to run the
published computation as a script. ``benchmarks/bench_startup.py`` times ``spar3d score`` against
it and checks that both give the same scores. Prints the scores as one JSON object.
"""

from __future__ import annotations

import json
import re
import sys

import numpy as np

NUMERIC = {
    "depth_prediction_oc", "depth_prediction_oo", "distance_prediction_oc",
    "distance_prediction_oo", "depth_prediction_oc_mv", "depth_prediction_oo_mv",
    "distance_prediction_oc_mv", "distance_prediction_oo_mv",
}  # fmt: skip
VCI = {"view_change_infer"}
LEVELS = {
    "Low": NUMERIC,
    "Medium": {"view_change_infer", "position_matching", "camera_motion_infer"},
    "High": {
        "obj_spatial_relation_oo", "obj_spatial_relation_oc_mv", "obj_spatial_relation_oo_mv",
        "spatial_imagination_oc", "spatial_imagination_oo", "spatial_imagination_oc_mv",
        "spatial_imagination_oo_mv", "distance_infer_center_oo", "distance_infer_center_oo_mv",
    },
}  # fmt: skip
SUFFIX = {"numeric": "MRA:.5:.95:.05", "choice": "accuracy", "vci": "vci_metric"}
NUMBER = re.compile(r"(?<!\^)\d+\.\d+|(?<!\^)\d+")
AXES = (("move_right", "move_left"), ("move_up", "move_down"), ("move_forward", "move_backward"),
        ("rotate_right", "rotate_left"), ("rotate_up", "rotate_down"))  # fmt: skip


def kind(task: str) -> str:
    return "numeric" if task in NUMERIC else "vci" if task in VCI else "choice"


def mra(value: float, reference: float) -> float:
    thresholds = np.linspace(0.5, 0.95, int((0.95 - 0.5) / 0.05 + 2))
    err = abs(value - reference) if reference == 0 else abs((value - reference) / reference)
    return float((err <= 1 - thresholds).mean())


def numeric_score(pred: str, answer: str, task: str) -> float:
    try:
        numbers = [float(n) if "." in n else int(n) for n in NUMBER.findall(pred)]
        if task.endswith("_mv"):
            numbers = [(numbers or [-1])[-1]]
        return mra(float(numbers[0]), float(answer))
    except Exception:
        return 0.0


def choice_score(pred: str, answer: str) -> float:
    p, a = pred.lower(), answer.lower()
    try:
        return 1.0 if p == a or p in a or p[0] == a else 0.0
    except IndexError:
        return 0.0


def vci_score(pred: str, answer: str) -> float:
    try:
        parse = [{k: float(v) for k, v in (item.split(":") for item in s.split(","))}
                 for s in (pred, answer)]  # fmt: skip
        p, a = ([d.get(x, 0) - d.get(y, 0) for x, y in AXES] for d in parse)
        return float(np.mean([mra(g, q) for g, q in zip(a, p, strict=True)]))
    except Exception:
        return 0.0


def main(path: str) -> None:
    per_task: dict[str, list[float]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            task, pred, answer = r["task"], r.get("prediction") or "", str(r["answer"])
            k = kind(task)
            if r.get("status", "ok") != "ok":
                score = 0.0
            elif k == "numeric":
                score = numeric_score(pred, answer, task)
            elif k == "vci":
                score = vci_score(pred, answer)
            else:
                score = choice_score(pred, answer)
            per_task.setdefault(task, []).append(score)
    tasks = {t: float(np.mean(per_task[t])) for t in sorted(per_task)}
    levels: dict[str, list[float]] = {name: [] for name in LEVELS}
    for task, value in tasks.items():
        key = f"{task}_{SUFFIX[kind(task)]}".rsplit("_", 1)[0]
        for name, members in LEVELS.items():
            if key in members:
                levels[name].append(value)
    out = {
        "overall": 100 * sum(tasks.values()) / len(tasks),
        "levels": {k: 100 * float(np.mean(v)) if v else None for k, v in levels.items()},
        "tasks": {t: 100 * v for t, v in tasks.items()},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
