"""Hand a SPAR-Bench Parquet to other harnesses: an lmms-eval task folder, a VLMEvalKit TSV.

``spar3d bench export BENCH --to lmms-eval DIR`` writes ``DIR/<task>.yaml`` and
``DIR/utils.py``, a task folder in lmms-eval's conventions (``lmms_eval/tasks/sparbench`` is the
model: ``output_type: generate_until``, ``!function utils.*`` hooks resolved next to the YAML by
``lmms_eval.utils.import_function``, ``dataset_path: parquet`` with ``dataset_kwargs.data_files``
handed to ``datasets.load_dataset``). Run it with ``lmms-eval --include_path DIR --tasks <task>``.
Prompts are this project's (:mod:`spar3d.bench.eval.prompts`): lmms-eval's ``default`` kwargs get
the ``lmms-eval`` preset, its ``gpt4v`` and ``gemini_api`` kwargs the ``api`` preset, exactly as
its own ``sparbench`` task does. Scoring calls :func:`spar3d.bench.scoring.score_records` (compat
mode), so spar3d must be installed in lmms-eval's environment; per-sample predictions land in
lmms-eval's ``--log_samples`` file, which ``spar3d score`` reads.

``--to vlmevalkit DIR`` writes ``DIR/<name>.tsv`` as VLMEvalKit's ``ImageBaseDataset`` reads it
(``vlmeval/dataset/image_base.py``): ``index``; ``image``: base64 of the encoded image, or for
several images the Python-literal list of them (its ``toliststr`` reads ``"['...', '...']"``);
``question``; ``answer``; and the columns its ``SparBench`` dataset
(``vlmeval/dataset/sparbench.py``) scores by: ``task``. Multiple-choice rows also get ``A``..``D``
(the options parsed from the question, as its MCQ datasets read them) and ``category`` (task) /
``l2-category`` (level).
"""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path
from typing import Any

from spar3d.bench.eval.dataset import bench_files, load_bench
from spar3d.bench.eval.prompts import PRESETS
from spar3d.bench.scoring.choice import parse_options
from spar3d.bench.scoring.tasks import LEVELS, task_kind
from spar3d.errors import ConfigError
from spar3d.io import atomic_open
from spar3d.task_table import bench_row, bench_tasks

LMMS_UTILS = '''"""lmms-eval hooks for a SPAR-Bench-style benchmark exported by spar3d (do not edit: re-export).

Suffixes per task and variant come from spar3d's task table at export time; the YAML's
lmms_eval_specific_kwargs pick the variant per model class. Scoring uses spar3d's compat scorer
(pip install spar3d in lmms-eval's environment).
"""

SUFFIXES = {suffixes!r}


def doc_to_visual(doc):
    return [image.convert("RGB") for image in doc["image"]]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    kwargs = lmms_eval_specific_kwargs or {{}}
    suffix = SUFFIXES[kwargs.get("prompt_variant", "default")][doc["task"]]
    return kwargs.get("pre_prompt", "") + "\\n" + doc["question"] + "\\n" + suffix


def process_results(doc, results):
    record = {{key: doc[key] for key in ("id", "task", "question", "answer")}}
    record["prediction"] = results[0]
    return {{"spar3d_score": record}}


def aggregate_results(results):
    from spar3d.bench.scoring import score_records

    return score_records(results, mode="compat").overall
'''


def _yaml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar


def export_lmms_eval(
    bench: str | Path, out: str | Path, task_name: str = "spar3d_bench"
) -> dict[str, Path]:
    """Write an lmms-eval task folder for ``bench`` (see the module docstring).

    Returns:
        Paths keyed ``yaml`` and ``utils``.
    """
    if not task_name.replace("_", "").isalnum():
        raise ConfigError(f"--task-name {task_name!r}: use letters, digits and '_' only")
    files = [str(f.resolve()) for f in bench_files(bench)]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lmms, api = PRESETS["lmms-eval"], PRESETS["api"]

    def kwargs(preset: Any) -> list[str]:
        return ['    pre_prompt: ""', f"    prompt_variant: {preset.variant}"]

    lines = [
        f"# Written by spar3d bench export from {', '.join(files)}; prompts: spar3d presets",
        f"# lmms-eval ({lmms.source}) and api ({api.source}).",
        f"task: {task_name}",
        "dataset_path: parquet",
        "dataset_kwargs:",
        "  data_files:",
        "    test:",
        *[f"      - {_yaml_str(f)}" for f in files],
        "test_split: test",
        "output_type: generate_until",
        "doc_to_visual: !function utils.doc_to_visual",
        "doc_to_text: !function utils.doc_to_text",
        'doc_to_target: "answer"',
        "generation_kwargs:",
        "  max_new_tokens: 100",
        "  temperature: 0",
        "  top_p: 1.0",
        "  num_beams: 1",
        "  do_sample: false",
        "process_results: !function utils.process_results",
        "metric_list:",
        "  - metric: spar3d_score",
        "    aggregation: !function utils.aggregate_results",
        "    higher_is_better: true",
        "lmms_eval_specific_kwargs:",
        "  default:",
        *kwargs(lmms),
        "  gpt4v:",
        *kwargs(api),
        "  gemini_api:",
        *kwargs(api),
        "metadata:",
        "  - version: 0.0",
    ]
    paths = {"yaml": out / f"{task_name}.yaml", "utils": out / "utils.py"}
    with atomic_open(paths["yaml"], "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    suffixes = {
        p.variant: {t: bench_row(t).suffix(p.variant) for t in bench_tasks()}
        for p in (lmms, api)
    }
    utils = LMMS_UTILS.format(suffixes=suffixes)
    with atomic_open(paths["utils"], "w", encoding="utf-8") as fh:
        fh.write(utils)
    return paths


def _level(task: str) -> str:
    return next((lv for lv, members in LEVELS.items() if task in members), "")


VLMEVALKIT_COLUMNS = (
    "index", "image", "question", "answer", "task", "category", "l2-category", "A", "B", "C", "D",
)  # fmt: skip


def export_vlmevalkit(
    bench: str | Path, out: str | Path, name: str = "SPAR3D_Bench", progress: bool = False
) -> Path:
    """Write ``out/<name>.tsv`` for VLMEvalKit (see the module docstring)."""
    from spar3d.progress import Progress

    if not name.replace("_", "").replace("-", "").isalnum():
        raise ConfigError(f"--name {name!r}: use letters, digits, '-' and '_' only")
    path = Path(out) / f"{name}.tsv"
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(VLMEVALKIT_COLUMNS)
        samples = load_bench(bench)
        for sample in Progress("export (rows)", len(samples), enabled=progress).track(samples):
            encoded = [base64.b64encode(b).decode("ascii") for b in sample.images]
            image = encoded[0] if len(encoded) == 1 else repr(encoded)
            options = parse_options(sample.question) if task_kind(sample.task) == "choice" else {}
            writer.writerow(
                [sample.id, image, sample.question, sample.answer, sample.task, sample.task,
                 _level(sample.task), *(options.get(k, "") for k in "ABCD")]
            )  # fmt: skip
    return path
