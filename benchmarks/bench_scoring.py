"""Time SPAR-Bench scoring of a full-size run (7,207 predictions) in both modes.

Run:  /work/venv/bin/python benchmarks/bench_scoring.py [--repeats 5] [--seed 0]

Builds 7,207 synthetic prediction records with SPAR-Bench's task mix (20 tasks, about 360
each, seeded) and realistic response shapes (bare answers, sentences, units, option letters in
several spellings, VCI key lists, empty responses, failed requests), then times
``score_records`` in compat and strict mode, start-up (imports, data building) excluded.
Budget: 0.5 s wall for both modes together. Prints per-mode times and the ratio to the budget.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from spar3d.bench.scoring import ALL_TASKS, score_records, task_kind

N_SAMPLES = 7207
BUDGET_S = 0.5

NUMERIC_SHAPES = ["{v}", "{v} meters", "The depth is {v} m.", "{cm} cm", "about {v}", "-{v}",
                  "{comma}", "", "I cannot tell.", "Red is at 1.5 m and blue is {v} m"]  # fmt: skip
CHOICE_SHAPES = ["{L}", "{L}.", "({L})", "Answer: {L}", "The answer is {L}.", "{L}. {text}",
                 "{text}", "", "I think it is {L}", "Option {L}"]  # fmt: skip
VCI_SHAPES = ["{pairs}", "{spaced}", "", "move right: {a}, rotate left: {b}",
              "move_right:{a},move_back:{b}"]  # fmt: skip


def build_records(seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(N_SAMPLES, np.full(len(ALL_TASKS), 1 / len(ALL_TASKS)))
    records: list[dict] = []
    options = ["left, above, front", "right, below, behind", "left, , behind", "right, above, "]
    question = "Where is the chair? " + "; ".join(
        f"{ch}. {t}" for ch, t in zip("ABCD", options, strict=True)
    ) + ". Your answer can only include one of options A, B, C or D."  # fmt: skip
    for task, count in zip(ALL_TASKS, counts, strict=True):
        kind = task_kind(task)
        for _ in range(count):
            i = len(records)
            status = "error" if rng.random() < 0.01 else "ok"
            if kind == "numeric":
                gt = round(float(rng.uniform(0.3, 6.0)), 1)
                v = round(gt * float(rng.lognormal(0, 0.3)), 2)
                shape = NUMERIC_SHAPES[rng.integers(len(NUMERIC_SHAPES))]
                pred = shape.format(v=v, cm=round(v * 100), comma=str(v).replace(".", ","))
                rec = {"answer": f"{gt}", "prediction": pred, "question": "How deep?"}
            elif kind == "choice":
                gt = "ABCD"[rng.integers(4)]
                letter = gt if rng.random() < 0.4 else "ABCD"[rng.integers(4)]
                shape = CHOICE_SHAPES[rng.integers(len(CHOICE_SHAPES))]
                pred = shape.format(L=letter, text=options["ABCD".index(letter)])
                rec = {"answer": gt, "prediction": pred, "question": question}
            else:
                a, b = round(float(rng.uniform(0.1, 3)), 1), int(rng.integers(0, 90))
                answer = f"move_right:{a},move_forward:1.2,rotate_left:{b}"
                shape = VCI_SHAPES[rng.integers(len(VCI_SHAPES))]
                pa, pb = round(a * float(rng.lognormal(0, 0.3)), 1), b + int(rng.integers(-10, 10))
                pred = shape.format(
                    pairs=f"move_right:{pa},move_forward:1.0,rotate_left:{pb}",
                    spaced=f"move_right: {pa}, move_forward: 1.0, rotate_left: {pb}",
                    a=pa, b=pb,
                )  # fmt: skip
                rec = {"answer": answer, "prediction": pred, "question": "How did it move?"}
            records.append({"id": i, "task": task, "status": status, **rec})
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    records = build_records(args.seed)
    score_records(records[:50], "compat")  # warm regex caches and imports: start-up excluded
    score_records(records[:50], "strict")
    times: dict[str, list[float]] = {"compat": [], "strict": []}
    for _ in range(args.repeats):
        for mode in times:
            t0 = time.perf_counter()
            result = score_records(records, mode)
            times[mode].append(time.perf_counter() - t0)
            assert len(result.per_sample) == N_SAMPLES
    print(f"{N_SAMPLES} predictions, {len(ALL_TASKS)} tasks, {args.repeats} repeats")
    total = 0.0
    for mode, ts in times.items():
        med = statistics.median(ts)
        total += med
        overall = score_records(records, mode).overall
        print(f"{mode:>7}: median {med * 1e3:7.1f} ms  best {min(ts) * 1e3:7.1f} ms  "
              f"({N_SAMPLES / med:,.0f} samples/s)  overall score {overall:.2f}")  # fmt: skip
    print(f"  total: {total * 1e3:7.1f} ms (median compat + strict); budget {BUDGET_S * 1e3:.0f} ms;"
          f" ratio {total / BUDGET_S:.2f} of budget")  # fmt: skip


if __name__ == "__main__":
    main()
