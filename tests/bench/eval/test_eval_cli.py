from __future__ import annotations

import json

import pytest
import typer
from evalkit import ROWS
from typer.testing import CliRunner

from spar3d.cli.eval import parse_model_args
from spar3d.cli.main import app, run

runner = CliRunner()


def _flat(output: str) -> str:
    """Output with rich's box borders and line wrapping removed."""
    return " ".join(output.replace("│", " ").split())


def test_oracle_run_from_the_command_line(bench, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["eval", str(bench), "--model", "oracle", "--out", str(out), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "scores.json").read_text())
    assert scores["modes"]["strict"]["overall"] == pytest.approx(100.0)
    assert not scores["partial"]
    assert "PARTIAL" not in result.output


def test_limit_and_model_args_are_reported(bench, tmp_path):
    out = tmp_path / "run"
    args = ["eval", str(bench), "-m", "random", "-M", "seed=4", "-M", "numeric_range=[1, 2]"]
    result = runner.invoke(app, [*args, "--out", str(out), "--limit", "2", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "PARTIAL" in result.output
    config = json.loads((out / "config.json").read_text())
    assert config["settings"]["seed"] == 4 and config["settings"]["numeric_range"] == [1, 2]
    preds = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == 2 and all(1.0 <= float(p["prediction"]) <= 2.0 for p in preds)


def test_bad_backend_arguments_are_clear(bench, tmp_path, capsys):
    def cli(*args: str) -> tuple[int, str]:
        code = run(["eval", *args, "--out", str(tmp_path / "r"), "--no-progress"])
        return code, _flat(capsys.readouterr().err)

    code, err = cli(str(bench), "-m", "nope")
    assert code == 2 and "unknown backend 'nope'" in err
    code, err = cli(str(bench), "-m", "oracle", "-M", "x=1")
    assert code == 2 and "unexpected keyword argument 'x'" in err
    code, err = cli(str(tmp_path / "missing.parquet"), "-m", "oracle")
    assert code == 2 and "not found" in err
    code, err = cli(str(bench), "-m", "oracle", "--limit", "0")
    assert code == 2 and "--limit" in err
    code, err = cli(str(bench), "-m", "openai", "-M", "model=x", "--base-url", "localhost:8000")
    assert code == 2 and "--base-url" in err and "http(s)://" in err
    code, err = cli(str(bench), "-m", "oracle", "--data-parallel", "2")
    assert code == 2 and "backend 'oracle' has no device to spread over" in err


def test_parse_model_args():
    assert parse_model_args(["a=1", "b=x", "c=true", "d={\"k\": 2}", "e=a=b"]) == {
        "a": 1, "b": "x", "c": True, "d": {"k": 2}, "e": "a=b",
    }  # fmt: skip
    with pytest.raises(typer.BadParameter, match="key=value"):
        parse_model_args(["novalue"])


def test_row_count_matches_fixture(bench):
    from spar3d.bench.eval import load_bench

    assert len(load_bench(bench)) == len(ROWS)


def test_preset_is_recorded_in_the_run_and_the_report(bench, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["eval", str(bench), "-m", "oracle", "--out", str(out), "--no-progress"]
    assert run([*args, "--prompt-preset", "api"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["prompt"]["preset"] == "api" and config["prompt"]["requested_preset"] == "api"
    assert config["prompt"]["numeric_post"] == "Do not response anything other than a single number!"
    assert "lmms_eval_specific_kwargs.gpt4v" in config["prompt"]["source"]
    assert json.loads((out / "scores.json").read_text())["prompt"] == config["prompt"]
    assert "prompt preset api -> api" in _flat(capsys.readouterr().out)
    assert run(["score", str(out), "--report", str(tmp_path / "rep")]) == 0
    report = (tmp_path / "rep" / "report.md").read_text()
    assert "prompt preset `api` -> `api`" in report and "backend `oracle`" in report
    # spar-paper resolves to the open-model wording for a local backend
    assert run([*args[:-3], "--out", str(tmp_path / "run2"), "--no-progress"]) == 0
    config = json.loads((tmp_path / "run2" / "config.json").read_text())
    assert (config["prompt"]["requested_preset"], config["prompt"]["preset"]) == (
        "spar-paper", "lmms-eval",
    )
