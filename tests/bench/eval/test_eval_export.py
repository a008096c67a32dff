"""Moving between harnesses: lmms-eval task folder, VLMEvalKit TSV, lmms-eval log_samples.

Contract tests restate what each harness reads, from its code:

- lmms-eval (``lmms_eval/utils.py`` ``load_yaml_config`` / ``import_function``: ``!function
  utils.f`` is ``f`` of ``utils.py`` next to the YAML; ``lmms_eval/api/task.py`` ``download``:
  ``datasets.load_dataset(path=dataset_path, **dataset_kwargs)`` and the ``test_split``; the
  evaluator's ``--log_samples`` lines in ``lmms_eval/evaluator.py``: ``doc_id, doc`` (image
  columns removed), ``target, arguments, resps, filtered_resps`` plus the metric dict);
- VLMEvalKit (``vlmeval/smp`` ``load`` = ``pd.read_csv(sep="\\t")``, ``toliststr`` for lists of
  base64 images; ``vlmeval/dataset/sparbench.py`` reads ``index, image, question, answer,
  task``; MCQ datasets read ``A``..``D``).
"""

from __future__ import annotations

import ast
import base64
import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from evalkit import ROWS, bench_table

from spar3d.bench.build import HF_FEATURES
from spar3d.bench.eval import PromptConfig, build_prompt, evaluate, load_bench, make_backend
from spar3d.bench.scoring.choice import parse_options
from spar3d.cli.main import run


@pytest.fixture
def hf_bench(tmp_path: Path) -> Path:
    """The fixture benchmark with Hugging Face feature metadata, as `spar3d bench build` writes."""
    table = bench_table()
    table = table.replace_schema_metadata(
        {"huggingface": json.dumps({"info": {"features": HF_FEATURES}})}
    )
    path = tmp_path / "bench" / "data" / "test-00000-of-00001.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    return path.parent.parent


def _load_task(yaml_path: Path) -> dict[str, Any]:
    """Load a task YAML as lmms-eval does: ``!function module.name`` from ``module.py`` beside it."""
    import yaml

    def function(loader: Any, node: Any) -> Any:
        module_name, name = loader.construct_scalar(node).rsplit(".", 1)
        spec = importlib.util.spec_from_file_location(
            module_name, yaml_path.parent / f"{module_name}.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return getattr(module, name)

    class Loader(yaml.FullLoader):
        pass

    Loader.add_constructor("!function", function)
    return yaml.load(yaml_path.read_text(), Loader=Loader)  # noqa: S506 - our own file


def _docs(config: dict[str, Any]) -> list[dict[str, Any]]:
    datasets = pytest.importorskip("datasets")
    assert config["dataset_path"] == "parquet"
    dataset = datasets.load_dataset(
        config["dataset_path"], **config["dataset_kwargs"], cache_dir=None
    )
    return list(dataset[config["test_split"]])


def _response(sample_id: int, answer: str) -> str:
    """A fixed 'model': right on even ids, wrong-ish on odd ones, with prose around."""
    return f"The answer is {answer}." if sample_id % 2 == 0 else "I think 0.1 or maybe A"


def test_lmms_eval_task_folder_contract(hf_bench, tmp_path):
    out = tmp_path / "task"
    assert run(["bench", "export", str(hf_bench), str(out), "--to", "lmms-eval"]) == 0
    config = _load_task(out / "spar3d_bench.yaml")
    assert config["task"] == "spar3d_bench" and config["output_type"] == "generate_until"
    assert config["test_split"] == "test" and config["doc_to_target"] == "answer"
    (data_file,) = config["dataset_kwargs"]["data_files"]["test"]
    assert Path(data_file).is_absolute() and Path(data_file).is_file()
    gen = config["generation_kwargs"]
    assert gen["max_new_tokens"] == 100 and gen["temperature"] == 0 and gen["do_sample"] is False
    (metric,) = config["metric_list"]
    assert metric["metric"] == "spar3d_score" and callable(metric["aggregation"])

    docs = _docs(config)
    samples = {s.id: s for s in load_bench(hf_bench)}
    assert sorted(d["id"] for d in docs) == sorted(samples)
    kwargs = config["lmms_eval_specific_kwargs"]
    from PIL import Image

    for doc in docs:
        sample = samples[doc["id"]]
        for who, preset in (("default", "lmms-eval"), ("gpt4v", "api"), ("gemini_api", "api")):
            expected = build_prompt(sample.task, sample.question, PromptConfig(preset=preset))
            assert config["doc_to_text"](doc, kwargs[who]) == expected, (who, sample.task)
        visuals = config["doc_to_visual"](doc)
        assert len(visuals) == len(sample.images)
        for got, data in zip(visuals, sample.images, strict=True):
            assert got.tobytes() == Image.open(io.BytesIO(data)).convert("RGB").tobytes()


def test_round_trip_bench_to_lmms_eval_log_samples_to_spar3d_score(hf_bench, tmp_path, capsys):
    """bench -> task folder -> a --log_samples file as lmms-eval writes it -> spar3d score
    equals scoring our own run of the same answers."""
    out = tmp_path / "task"
    assert run(["bench", "export", str(hf_bench), str(out), "--to", "lmms-eval"]) == 0
    config = _load_task(out / "spar3d_bench.yaml")
    kwargs = config["lmms_eval_specific_kwargs"]["default"]
    lines, metric_inputs = [], []
    for doc_id, doc in enumerate(_docs(config)):
        response = _response(doc["id"], doc["answer"])
        metrics = config["process_results"](dict(doc), [response])
        metric_inputs.append(metrics["spar3d_score"])
        saved_doc = {k: v for k, v in doc.items() if k != "image"}  # lmms-eval drops images
        lines.append(
            {
                "doc_id": doc_id,
                "doc": saved_doc,
                "target": doc["answer"],
                "arguments": [config["doc_to_text"](doc, kwargs), config["generation_kwargs"]],
                "resps": [[response]],
                "filtered_resps": [response],
                "doc_hash": "0" * 64,
                **metrics,
            }
        )
    log = tmp_path / "logs" / "20260101_000000_samples_spar3d_bench.jsonl"
    log.parent.mkdir()
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))

    ours = evaluate(
        hf_bench,
        make_backend("mock", outputs=lambda r: _response(r.sample.id, r.sample.answer)),
        tmp_path / "run",
        progress=False,
    )
    assert run(["score", str(log), "--mode", "both", "--json", str(tmp_path / "s.json")]) == 0
    capsys.readouterr()
    theirs = json.loads((tmp_path / "s.json").read_text())
    for mode in ("compat", "strict"):
        assert theirs[mode]["tasks"] == pytest.approx(ours.scores[mode]["tasks"])
        assert theirs[mode]["overall"] == pytest.approx(ours.scores[mode]["overall"])
    assert 0 < ours.scores["compat"]["overall"] < 100  # the answers are neither all right nor wrong
    # lmms-eval's own aggregation hook gives the same compat overall.
    agg = config["metric_list"][0]["aggregation"](metric_inputs)
    assert agg == pytest.approx(ours.scores["compat"]["overall"])


def _toliststr(value: str) -> list[str]:
    """VLMEvalKit's ``toliststr`` (vlmeval/smp/misc.py), restated: a '[...]' string is a list."""
    if value.startswith("[") and value.endswith("]"):
        return [str(x) for x in ast.literal_eval(value)]
    return [value]


def _vlmevalkit_prompt(line: dict[str, Any]) -> str:
    """VLMEvalKit's ``SparBench.build_prompt`` text, restated from vlmeval/dataset/sparbench.py."""
    task, question = line["task"], line["question"]
    if task.startswith(("depth_prediction", "distance_prediction")):
        return "\n" + question + "\n" + "Please answer the question using a single word or phrase."
    if task == "view_change_infer":
        return "\n" + question + "\n" + "" + "\n" + ""
    box = (
        "The values represent the bounding box coordinates normalized to a 0-1000 scale, "
        "with the top-left corner as the origin of the image."
        if task in ("position_matching", "camera_motion_infer")
        else ""
    )
    return "\n" + question + "\n" + box + "\n" + "Answer with the option's letter from the given choices directly."


def test_vlmevalkit_tsv_contract(bench, tmp_path):
    pd = pytest.importorskip("pandas")
    assert run(["bench", "export", str(bench), str(tmp_path / "vk"), "--to", "vlmevalkit"]) == 0
    data = pd.read_csv(tmp_path / "vk" / "SPAR3D_Bench.tsv", sep="\t")
    samples = load_bench(bench)
    assert len(data) == len(samples) == len(ROWS)
    for (_, row), sample in zip(data.iterrows(), samples, strict=True):
        assert int(row["index"]) == sample.id and row["task"] == sample.task
        assert row["question"] == sample.question
        assert str(row["answer"]) == sample.answer or float(row["answer"]) == float(sample.answer)
        images = [base64.b64decode(x) for x in _toliststr(str(row["image"]))]
        assert tuple(images) == sample.images
        options = parse_options(sample.question)
        for letter in "ABCD":
            cell = row[letter]
            expected = options.get(letter) if sample.task != "view_change_infer" else None
            assert (cell if isinstance(cell, str) else None) == (expected or None)
        line = {"task": row["task"], "question": row["question"]}
        assert _vlmevalkit_prompt(line) == build_prompt(sample.task, sample.question)
    assert data["image"].map(lambda v: v.startswith("[")).sum() == sum(n > 1 for *_, n in ROWS)


def test_plain_id_prediction_jsonl_needs_the_bench(bench, tmp_path, capsys):
    preds = tmp_path / "plain.jsonl"
    samples = load_bench(bench)
    preds.write_text(
        "".join(json.dumps({"id": s.id, "prediction": s.answer}) + "\n" for s in samples)
    )
    assert run(["score", str(preds)]) == 3
    assert "pass --bench" in capsys.readouterr().err
    assert run(["score", str(preds), "--bench", str(bench), "--mode", "strict",
                "--json", str(tmp_path / "s.json")]) == 0  # fmt: skip
    assert json.loads((tmp_path / "s.json").read_text())["overall"] == pytest.approx(100.0)


def test_duplicated_ids_and_null_answers_are_refused(tmp_path, capsys):
    rec = {"id": 3, "task": "position_matching", "prediction": "A", "answer": "A"}
    dup = tmp_path / "dup.jsonl"
    dup.write_text(json.dumps(rec) + "\n" + json.dumps(rec) + "\n")
    assert run(["score", str(dup)]) == 3
    assert "dup.jsonl:2: duplicate id 3 (first at line 1)" in capsys.readouterr().err
    null = tmp_path / "null.jsonl"
    null.write_text(json.dumps({**rec, "answer": None}) + "\n")
    assert run(["score", str(null)]) == 3
    assert "null.jsonl:1: field 'answer' is null" in capsys.readouterr().err


def test_undetectable_format_is_named(tmp_path, capsys):
    odd = tmp_path / "odd.jsonl"
    odd.write_text(json.dumps({"question_id": 1, "text": "A"}) + "\n")
    assert run(["score", str(odd)]) == 3
    err = capsys.readouterr().err
    assert "odd.jsonl:1: cannot tell the predictions format" in err and "--format" in err
