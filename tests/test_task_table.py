"""The task table is the one home of benchmark-task facts (kind, level, format, prompt, order).

Expected values come from the SPAR paper (table 4: 20 tasks, 8 Low / 3 Medium / 9 High) and the
published lmms-eval ``sparbench`` prompts, written out here, not from the table.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import spar3d
from spar3d import task_table
from spar3d.task_table import (
    SPAR_BENCH,
    TASK_TABLE,
    TaskRow,
    bench_tasks,
    display_order,
    register_kind,
    register_row,
)

SRC = Path(spar3d.__file__).parent

# Independent facts: the paper's table 4 columns (display order) and levels.
PAPER_COLUMNS = (
    "depth_prediction_oc", "depth_prediction_oc_mv", "depth_prediction_oo",
    "depth_prediction_oo_mv", "distance_prediction_oc", "distance_prediction_oc_mv",
    "distance_prediction_oo", "distance_prediction_oo_mv", "position_matching",
    "camera_motion_infer", "view_change_infer", "distance_infer_center_oo",
    "distance_infer_center_oo_mv", "obj_spatial_relation_oc_mv", "obj_spatial_relation_oo",
    "obj_spatial_relation_oo_mv", "spatial_imagination_oc", "spatial_imagination_oc_mv",
    "spatial_imagination_oo", "spatial_imagination_oo_mv",
)  # fmt: skip


def test_spar_bench_rows_match_the_paper() -> None:
    assert display_order(SPAR_BENCH) == PAPER_COLUMNS
    assert len(bench_tasks(SPAR_BENCH, level="Low")) == 8
    assert set(bench_tasks(SPAR_BENCH, level="Medium")) == {
        "position_matching", "camera_motion_infer", "view_change_infer"}  # fmt: skip
    assert len(bench_tasks(SPAR_BENCH, level="High")) == 9
    # Numeric answers are exactly the depth/distance prediction tasks; they are filled in.
    numeric = set(bench_tasks(SPAR_BENCH, kind="numeric"))
    assert numeric == {t for t in PAPER_COLUMNS if "_prediction_" in t}
    for t in PAPER_COLUMNS:
        assert TASK_TABLE[t].format == ("select" if TASK_TABLE[t].kind == "choice" else "fill")


def test_prompts_are_lmms_eval_sparbench() -> None:
    from spar3d.bench.eval.prompts import PromptConfig, build_prompt

    mc = "Answer with the option's letter from the given choices directly."
    assert build_prompt("depth_prediction_oc", "Q") == (
        "\nQ\nPlease answer the question using a single word or phrase."
    )
    api = PromptConfig(numeric_post="api")
    assert build_prompt("depth_prediction_oc_mv", "Q", api) == (
        "\nQ\nDo not response anything other than a single number!"
    )
    assert build_prompt("obj_spatial_relation_oo", "Q", api) == f"\nQ\n\n{mc}"
    assert build_prompt("position_matching", "Q").startswith("\nQ\nThe values represent")
    assert build_prompt("position_matching", "Q").endswith(f"0-1000 scale, with the top-left "
                                                           f"corner as the origin of the image.\n{mc}")  # fmt: skip
    assert build_prompt("view_change_infer", "Q") == "\nQ\n\n"


def _string_constants(path: Path) -> list[tuple[int, str, ast.AST | None]]:
    """Every string literal that is not a docstring, with the call keyword it is passed as."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    parent: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parent[id(child)] = node
    return [
        (node.lineno, node.value, parent.get(id(node)))
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    ]  # fmt: skip


def test_no_other_copy_of_the_table_exists() -> None:
    """Outside the table a task name may only *name* a task: as its spec's ``name`` (or the first
    argument of a spec helper in ``spar3d.tasks``), as a lookup key, or in the toy data set; level
    and metric names likewise. Any ``if task in (...)`` list or level tuple elsewhere fails here."""
    facts = set(TASK_TABLE) | set(task_table.LEVEL_NAMES) | set(task_table.KIND_METRICS.values())
    copies = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel in ("task_table.py", "data/toy.py"):
            continue
        for line, value, parent in _string_constants(path):
            if value not in facts:
                continue
            if isinstance(parent, ast.keyword) and parent.arg == "name":
                continue  # a spec naming its own task
            if isinstance(parent, ast.Subscript):
                continue  # a lookup by name (LEVELS["Medium"]), not a copy
            if (rel.startswith("tasks/") and isinstance(parent, ast.Call)
                    and parent.args and isinstance(parent.args[0], ast.Constant)
                    and parent.args[0].value == value):  # fmt: skip
                continue
            copies.append(f"{rel}:{line}: {value!r}")
    assert not copies, "benchmark-task facts outside spar3d/task_table.py:\n" + "\n".join(copies)


def test_task_specs_derive_level_and_metric_from_the_table() -> None:
    from spar3d.tasks import TASKS

    for name, cls in TASKS.items():
        row = TASK_TABLE.get(name)
        assert cls.spec.bench_level == (row.level if row else None), name
        assert cls.spec.metric == (row.metric if row else None), name
    assert TASKS.get("depth_prediction_oc").spec.metric == "MRA"
    assert TASKS.get("view_change_infer").spec.metric == "VCI"
    assert TASKS.get("position_matching").spec.bench_level == "Medium"


def test_every_kind_has_a_metric_in_every_scoring_mode() -> None:
    from spar3d.bench.scoring import METRICS, MODES

    # The BEV probe's APE is a distance, scored by spar3d.probe.score (tests/probe), not a
    # per-sample score of the SPAR-Bench scorer's modes.
    own_scorer = {task_table.BEV_PROBE}
    for kind in {r.kind for r in TASK_TABLE.values() if r.kind and r.benchmark not in own_scorer}:
        for mode in MODES:
            assert f"{kind}:{mode}" in METRICS, (kind, mode)


def test_a_new_benchmark_registers_rows_without_touching_spar_bench() -> None:
    from spar3d.bench.eval.prompts import build_prompt
    from spar3d.bench.scoring import ALL_TASKS, level_of

    before = (bench_tasks(SPAR_BENCH), display_order(SPAR_BENCH))
    register_kind("box3d", metric="IoU")
    try:
        register_row(TaskRow("ground_b", benchmark="grounding", kind="box3d", format="fill",
                             prompt_suffix="Answer with a box.", display=1))  # fmt: skip
        register_row(TaskRow("ground_a", benchmark="grounding", kind="box3d", format="fill",
                             level="High", prompt_suffix="Box?", display=0))  # fmt: skip
        assert bench_tasks("grounding") == ("ground_b", "ground_a")
        assert display_order("grounding") == ("ground_a", "ground_b")
        assert (bench_tasks(SPAR_BENCH), display_order(SPAR_BENCH)) == before
        assert "ground_a" not in ALL_TASKS
        assert build_prompt("ground_b", "Where?") == "\nWhere?\nAnswer with a box."
        assert level_of("ground_a", "compat") == "High"  # no published-scorer quirk to reproduce
        with pytest.raises(LookupError, match="already registered"):
            register_row(TaskRow("ground_a", benchmark="grounding", kind="box3d", format="select"))
    finally:
        TASK_TABLE.pop("ground_a", None)
        TASK_TABLE.pop("ground_b", None)
        task_table.KIND_METRICS.pop("box3d", None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"benchmark": "x", "kind": "nope", "format": "fill"}, "kind 'nope' is not registered"),
        ({"benchmark": "x", "kind": "numeric"}, "needs its scored format"),
        ({"kind": "numeric"}, "need a benchmark"),
        ({"benchmark": "x", "kind": "choice", "format": "select", "level": "Top"}, "level 'Top'"),
        ({"marker_order": ("red", "red")}, "marker_order"),
        ({"marker_order": ("purple",)}, "marker_order"),
    ],
)
def test_bad_rows_are_config_errors(kwargs: dict[str, object], message: str) -> None:
    from spar3d.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        TaskRow("t", **kwargs)  # type: ignore[arg-type]


def test_unknown_task_is_a_lookup_error_naming_it() -> None:
    from spar3d.bench.scoring import task_kind

    with pytest.raises(LookupError, match="'no_such_task'.*known: depth_prediction_oc"):
        task_kind("no_such_task")
